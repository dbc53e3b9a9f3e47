"""Mercado Pago: PIX charges (BR Code with its txid) and registered boletos (line, barcode, PDF, due date) through
``/v1/payments``, refunds, cancellations, and its notifications.

A notification carries only ``data.id``: its ``x-signature`` is checked over the manifest
``id:{data.id};request-id:{x-request-id};ts:{ts};`` and then amount, currency and status come from
``GET /v1/payments/{id}`` (locally: the sandbox's recorded answer) — never from the notification. Boletos are
registered with the payer's CPF or CNPJ (``payer.identification``) so they reach the customer's bank app (DDA).
Every create carries ``X-Idempotency-Key`` derived from the invoices and the attempt.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from balcao.adapters.payments.http import HttpTransport
from balcao.domain.errors import ProviderUnavailableError
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.money import Currency, Money
from balcao.domain.payments.charges import Charge, ChargeStatus, Provider
from balcao.domain.payments.events import EventKind, ProviderEvent, WebhookBodyInvalidError
from balcao.domain.payments.webhook_signatures import verify_mercadopago_signature
from balcao.services.payments import ChargeRequest, ProviderCharge

logger = logging.getLogger(__name__)

API_BASE = "https://api.mercadopago.com"
BRAZIL = ZoneInfo("America/Sao_Paulo")
METHOD_IDS: Mapping[PaymentMethod, str] = {PaymentMethod.PIX: "pix", PaymentMethod.BOLETO: "bolbradesco"}
METHOD_BY_TYPE: Mapping[str, PaymentMethod] = {"bank_transfer": PaymentMethod.PIX, "ticket": PaymentMethod.BOLETO}
KIND_BY_STATUS: Mapping[str, EventKind] = {
    "approved": EventKind.SUCCEEDED,
    "authorized": EventKind.PROCESSING,
    "in_process": EventKind.PROCESSING,
    "pending": EventKind.IGNORED,
    "rejected": EventKind.FAILED,
    "cancelled": EventKind.CANCELLED,
    "expired": EventKind.CANCELLED,
    "refunded": EventKind.REFUNDED,
    "charged_back": EventKind.DISPUTED,
    "in_mediation": EventKind.IGNORED,
}
PaymentFetcher = Callable[[str], Mapping[str, Any] | None]


def _money_text(amount: Money) -> float:
    # Mercado Pago takes a JSON number with two decimals; the float is only the wire form of an exact amount.
    return float(amount.to_decimal())


def minor_units(value: Any, currency: Currency) -> int:
    return Money.from_decimal(Decimal(str(value)).quantize(Decimal("0.01")), currency).amount


class MercadoPagoProvider:
    """``ChargeProvider`` for PIX and boleto."""

    provider = Provider.MERCADOPAGO

    def __init__(self, access_token: str, transport: HttpTransport, notification_url: str | None = None) -> None:
        self._token = access_token
        self._transport = transport
        self._notification_url = notification_url

    def _request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, idempotency_key: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        if idempotency_key:
            headers["X-Idempotency-Key"] = idempotency_key
        answer = self._transport.request(method, f"{API_BASE}{path}", headers, data)
        try:
            payload = json.loads(answer.body or b"{}")
        except ValueError:
            payload = {}
        if answer.status >= 500 or answer.status in (401, 403, 429):
            logger.warning("mercado pago unavailable", extra={"status": answer.status, "path": path})
            raise ProviderUnavailableError()
        return answer.status, payload if isinstance(payload, dict) else {}

    def create(self, request: ChargeRequest) -> ProviderCharge:
        payer = request.payer
        first, _, last = payer.name.partition(" ")
        body: dict[str, Any] = {
            "transaction_amount": _money_text(request.amount),
            "description": request.description[:200],
            "payment_method_id": METHOD_IDS[request.method],
            "external_reference": request.charge_id,
            "metadata": {
                "payment_id": request.charge_id,
                "account_id": request.account_id,
                "invoice_ids": ",".join(request.invoice_ids),
            },
            "payer": {"email": payer.email, "first_name": first, "last_name": last or first},
        }
        if payer.tax_id_kind in ("CPF", "CNPJ") and payer.tax_id_number:
            body["payer"]["identification"] = {"type": payer.tax_id_kind, "number": payer.tax_id_number}
        if self._notification_url:
            body["notification_url"] = self._notification_url
        if request.method is PaymentMethod.PIX and request.expires_at is not None:
            body["date_of_expiration"] = _mp_time(request.expires_at)
        if request.method is PaymentMethod.BOLETO and request.due_date is not None:
            body["date_of_expiration"] = f"{request.due_date.isoformat()}T23:59:59.000-03:00"
        status, payment = self._request("POST", "/v1/payments", body, request.idempotency_key)
        if status >= 400 or "id" not in payment:
            logger.warning("mercado pago refused a payment", extra={"status": status, "cause": payment.get("cause")})
            raise ProviderUnavailableError()
        return charge_of(payment, request.method)

    def cancel(self, charge: Charge) -> None:
        if not charge.provider_ref:
            return
        status, payment = self._request("PUT", f"/v1/payments/{charge.provider_ref}", {"status": "cancelled"})
        if status >= 400 and payment.get("status") not in (None, "approved", "cancelled", "expired"):
            raise ProviderUnavailableError()

    def refund(self, charge: Charge, amount: Money, idempotency_key: str) -> str:
        status, refund = self._request(
            "POST",
            f"/v1/payments/{charge.provider_ref}/refunds",
            {"amount": _money_text(amount)},
            idempotency_key,
        )
        if status >= 400 or "id" not in refund:
            raise ProviderUnavailableError()
        return str(refund["id"])

    def fetch(self, payment_id: str) -> Mapping[str, Any] | None:
        """``GET /v1/payments/{id}``: the payment's current state (None when Mercado Pago does not know it)."""
        status, payment = self._request("GET", f"/v1/payments/{payment_id}")
        if status == 404:
            return None
        if status >= 400:
            raise ProviderUnavailableError()
        return payment


def _mp_time(moment: datetime) -> str:
    local = moment.astimezone(BRAZIL)
    return local.strftime("%Y-%m-%dT%H:%M:%S.000") + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]


def _parse_mp_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def charge_of(payment: Mapping[str, Any], method: PaymentMethod) -> ProviderCharge:
    """What a new PIX or boleto payment gives the customer (checked by the payments use-case before it is shown)."""
    details: dict[str, str] = {}
    expires = _parse_mp_time(payment.get("date_of_expiration"))
    if method is PaymentMethod.PIX:
        data = (payment.get("point_of_interaction") or {}).get("transaction_data") or {}
        details["copy_paste"] = str(data.get("qr_code") or "")
        if data.get("transaction_id"):
            details["txid"] = str(data["transaction_id"])
        if data.get("ticket_url"):
            details["ticket_url"] = str(data["ticket_url"])
    else:
        transaction = payment.get("transaction_details") or {}
        details["digitable_line"] = str(transaction.get("digitable_line") or "")
        barcode = (payment.get("barcode") or {}).get("content")
        if barcode:
            details["barcode"] = str(barcode)
        if transaction.get("external_resource_url"):
            details["pdf_url"] = str(transaction["external_resource_url"])
        if expires is not None:
            details["due_date"] = expires.astimezone(BRAZIL).date().isoformat()
    status = KIND_BY_STATUS.get(str(payment.get("status")), EventKind.IGNORED)
    charge_status = {
        EventKind.SUCCEEDED: ChargeStatus.SUCCEEDED,
        EventKind.FAILED: ChargeStatus.FAILED,
        EventKind.CANCELLED: ChargeStatus.CANCELLED,
    }.get(status, ChargeStatus.PENDING)
    return ProviderCharge(provider_ref=str(payment["id"]), status=charge_status, expires_at=expires, details=details)


# --- notifications --------------------------------------------------------------------------------------------------
def parse_mercadopago_notification(
    raw_body: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    webhook_secret: str | None,
    fetch: PaymentFetcher,
    *,
    now: datetime,
    provider: str = Provider.MERCADOPAGO.value,
    tolerance: timedelta | None = None,
) -> ProviderEvent:
    """Check ``x-signature`` (401), read the body (400), re-fetch the payment and map its current state."""
    lowered = {k.lower(): v for k, v in headers.items()}
    data_id = query.get("data.id") or query.get("id")
    request_id = lowered.get("x-request-id")
    verify_mercadopago_signature(
        lowered.get("x-signature"), request_id, data_id, webhook_secret or "", now=now, tolerance=tolerance
    )
    try:
        body = json.loads(raw_body) if raw_body.strip() else {}
        if not isinstance(body, dict):
            raise TypeError("the body is not an object")
    except (ValueError, TypeError) as error:
        raise WebhookBodyInvalidError(str(error)) from error
    topic = str(body.get("type") or query.get("type") or query.get("topic") or "")
    event_id = str(body.get("id") or f"{data_id}:{request_id}")
    if topic != "payment" or not data_id:
        return ProviderEvent(provider=provider, event_id=event_id, kind=EventKind.IGNORED, raw_type=topic)
    payment = fetch(str(data_id))
    if payment is None:
        return ProviderEvent(
            provider=provider, event_id=event_id, kind=EventKind.IGNORED, provider_ref=str(data_id), raw_type=topic
        )
    return event_from_payment(provider, event_id, payment)


def event_from_payment(provider: str, event_id: str, payment: Mapping[str, Any]) -> ProviderEvent:
    """A Mercado Pago payment's current state as an event (amounts in minor units)."""
    currency_text = str(payment.get("currency_id") or "").upper()
    currency = Currency(currency_text) if currency_text in Currency.__members__ else None
    status = str(payment.get("status") or "")
    kind = KIND_BY_STATUS.get(status, EventKind.IGNORED)
    metadata = payment.get("metadata") or {}
    invoice_ids = tuple(i for i in str(metadata.get("invoice_ids") or "").split(",") if i)
    amount = None
    if currency is not None:
        if kind is EventKind.REFUNDED:
            amount = minor_units(payment.get("transaction_amount_refunded") or 0, currency)
        elif payment.get("transaction_amount") is not None:
            amount = minor_units(payment["transaction_amount"], currency)
    return ProviderEvent(
        provider=provider,
        event_id=event_id,
        kind=kind,
        provider_ref=str(payment.get("id")),
        amount=amount,
        currency=currency_text or None,
        charge_id=str(payment.get("external_reference") or metadata.get("payment_id") or "") or None,
        account_id=metadata.get("account_id"),
        invoice_ids=invoice_ids,
        method=METHOD_BY_TYPE.get(str(payment.get("payment_type_id"))),
        reason=str(payment.get("status_detail") or status) or None,
        raw_type=f"payment.{status}",
    )


def due_date_of(payment: Mapping[str, Any]) -> date | None:
    expires = _parse_mp_time(payment.get("date_of_expiration"))
    return expires.astimezone(BRAZIL).date() if expires else None
