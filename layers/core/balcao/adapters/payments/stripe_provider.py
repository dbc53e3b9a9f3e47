"""Stripe: cards and SEPA Direct Debit through PaymentIntents, saved payment methods, refunds, and its events.

Calls go through the official ``stripe`` library (``StripeClient``) with an injected HTTP transport (tests answer
recorded responses). Every create carries an idempotency key derived from the invoices and the attempt, so a retried
request returns Stripe's first answer. Signatures are checked by the library (``stripe_signature``).

Events (API.md): ``payment_intent.succeeded|processing|payment_failed`` use ``data.object.amount_received``,
``currency`` (compared case-insensitively) and ``metadata.invoice_id`` / ``metadata.account_id``;
``charge.refunded`` and ``charge.dispute.created`` are reversals. Deployed, the object is re-fetched from Stripe
and its current state wins; on the local stack a correctly signed event is trusted as sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from balcao.adapters.payments.http import HttpTransport, stripe_http_client
from balcao.domain.errors import N_, ProviderUnavailableError
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.money import Money
from balcao.domain.payments.charges import (
    Charge,
    ChargeStatus,
    Provider,
    SavedMethod,
    SavedMethodInvalidError,
    SavedMethodKind,
)
from balcao.domain.payments.events import EventKind, ProviderEvent, WebhookBodyInvalidError
from balcao.domain.payments.sepa import validate_iban
from balcao.services.payments import ChargeRequest, NewMethod, Payer, ProviderCharge, VaultedMethod

STATUS_BY_INTENT: Mapping[str, ChargeStatus] = {
    "requires_payment_method": ChargeStatus.PENDING,
    "requires_confirmation": ChargeStatus.PENDING,
    "requires_action": ChargeStatus.PENDING,
    "requires_capture": ChargeStatus.PROCESSING,
    "processing": ChargeStatus.PROCESSING,
    "succeeded": ChargeStatus.SUCCEEDED,
    "canceled": ChargeStatus.CANCELLED,
}
KIND_BY_INTENT_STATUS: Mapping[ChargeStatus, EventKind] = {
    ChargeStatus.PROCESSING: EventKind.PROCESSING,
    ChargeStatus.SUCCEEDED: EventKind.SUCCEEDED,
    ChargeStatus.CANCELLED: EventKind.CANCELLED,
}
METHOD_BY_TYPE: Mapping[str, PaymentMethod] = {"card": PaymentMethod.CARD, "sepa_debit": PaymentMethod.SEPA}
TYPE_BY_METHOD: Mapping[PaymentMethod, str] = {PaymentMethod.CARD: "card", PaymentMethod.SEPA: "sepa_debit"}


def _stripe_error_types() -> tuple[type[Exception], type[Exception]]:
    import stripe

    return stripe.StripeError, stripe.CardError


class StripeProvider:
    """``ChargeProvider`` and ``MethodVault`` for cards and SEPA mandates."""

    provider = Provider.STRIPE

    def __init__(self, secret_key: str, transport: HttpTransport) -> None:
        import stripe

        self._client = stripe.StripeClient(secret_key, http_client=stripe_http_client(transport), max_network_retries=0)

    def _call(self, operation: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        stripe_error, _ = _stripe_error_types()
        try:
            return _plain(operation(*args, **kwargs))
        except stripe_error as error:
            raise ProviderUnavailableError() from error

    # --- charges -----------------------------------------------------------------------------------------------
    def create(self, request: ChargeRequest) -> ProviderCharge:
        method_type = TYPE_BY_METHOD[request.method]
        params: dict[str, Any] = {
            "amount": request.amount.amount,
            "currency": request.amount.currency.value.lower(),
            "payment_method_types": [method_type],
            "description": request.description[:1000],
            "metadata": _metadata(request),
        }
        if request.customer_ref:
            params["customer"] = request.customer_ref
        if request.saved_method is not None:
            params["payment_method"] = request.saved_method.provider_ref
            params["confirm"] = True
            if request.off_session or request.method is PaymentMethod.SEPA:
                params["off_session"] = True
        options = {"idempotency_key": request.idempotency_key}
        stripe_error, card_error = _stripe_error_types()
        try:
            intent = _plain(self._client.v1.payment_intents.create(cast(Any, params), cast(Any, options)))
        except card_error as error:
            failed = getattr(error, "json_body", None) or {}
            intent_data = (failed.get("error") or {}).get("payment_intent") or {}
            return ProviderCharge(
                provider_ref=str(intent_data.get("id") or f"failed:{request.charge_id}"),
                status=ChargeStatus.FAILED,
                failure=str(getattr(error, "code", None) or "card_declined"),
            )
        except stripe_error as error:
            raise ProviderUnavailableError() from error
        return _charge_of(intent, request)

    def cancel(self, charge: Charge) -> None:
        if not charge.provider_ref:
            return
        stripe_error, _ = _stripe_error_types()
        try:
            self._client.v1.payment_intents.cancel(charge.provider_ref)
        except stripe_error as error:
            if getattr(error, "http_status", None) == 400:  # already succeeded, processing or cancelled
                return
            raise ProviderUnavailableError() from error

    def refund(self, charge: Charge, amount: Money, idempotency_key: str) -> str:
        refund = self._call(
            self._client.v1.refunds.create,
            {
                "payment_intent": charge.provider_ref,
                "amount": amount.amount,
                "metadata": {"payment_id": charge.charge_id, "account_id": charge.account_id},
            },
            {"idempotency_key": idempotency_key},
        )
        return str(refund["id"])

    def fetch_intent(self, intent_id: str) -> Any:
        return self._call(self._client.v1.payment_intents.retrieve, intent_id)

    def fetch_charge(self, charge_id: str) -> Any:
        return self._call(self._client.v1.charges.retrieve, charge_id)

    def fetch_dispute(self, dispute_id: str) -> Any:
        return self._call(self._client.v1.disputes.retrieve, dispute_id)

    # --- saved methods --------------------------------------------------------------------------------------------
    def customer(self, payer: Payer) -> str:
        customer = self._call(
            self._client.v1.customers.create,
            {"email": payer.email, "name": payer.name[:256], "metadata": {"account_id": payer.account_id}},
            {"idempotency_key": f"balcao:customer:{payer.account_id}"},
        )
        return str(customer["id"])

    def save(self, customer_ref: str, method: NewMethod, payer: Payer) -> VaultedMethod:
        if method.kind is SavedMethodKind.CARD:
            if not method.provider_ref or not method.provider_ref.startswith("pm_"):
                raise SavedMethodInvalidError.single("provider_payment_method", N_("This value is not valid."))
            attached = self._call(
                self._client.v1.payment_methods.attach, method.provider_ref, {"customer": customer_ref}
            )
            card = attached["card"]
            return VaultedMethod(
                provider_ref=str(attached["id"]),
                brand=str(card["brand"]),
                last4=str(card["last4"]),
                exp_month=int(card["exp_month"]),
                exp_year=int(card["exp_year"]),
            )
        iban = validate_iban(method.iban or "")
        created = self._call(
            self._client.v1.payment_methods.create,
            {
                "type": "sepa_debit",
                "sepa_debit": {"iban": iban},
                "billing_details": {"name": method.holder_name or payer.name, "email": payer.email},
            },
        )
        setup = self._call(
            self._client.v1.setup_intents.create,
            {
                "customer": customer_ref,
                "payment_method": created["id"],
                "payment_method_types": ["sepa_debit"],
                "confirm": True,
                "usage": "off_session",
                "mandate_data": {
                    "customer_acceptance": {
                        "type": "online",
                        "online": {
                            "ip_address": method.accepted_from_ip or "0.0.0.0",  # noqa: S104 - a mandate's IP
                            "user_agent": (method.accepted_user_agent or "balcao")[:500],
                        },
                    }
                },
            },
            {"idempotency_key": f"balcao:mandate:{payer.account_id}:{created['id']}"},
        )
        reference = status = None
        if setup.get("mandate"):
            mandate = self._call(self._client.v1.mandates.retrieve, str(setup["mandate"]))
            status = str(mandate.get("status") or "pending")
            details = (mandate.get("payment_method_details") or {}).get("sepa_debit") or {}
            reference = details.get("reference")
        return VaultedMethod(
            provider_ref=str(created["id"]),
            brand="sepa_debit",
            last4=str((created.get("sepa_debit") or {}).get("last4") or iban[-4:]),
            mandate_reference=str(reference) if reference else None,
            mandate_status=status or "pending",
        )

    def remove(self, method: SavedMethod) -> None:
        stripe_error, _ = _stripe_error_types()
        try:
            self._client.v1.payment_methods.detach(method.provider_ref)
        except stripe_error as error:
            if getattr(error, "http_status", None) in (400, 404):  # detached already
                return
            raise ProviderUnavailableError() from error


def _plain(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain data (the library's objects are not dicts)."""
    to_dict = getattr(obj, "to_dict", None)
    plain: dict[str, Any] = to_dict() if callable(to_dict) else dict(obj)
    return plain


def _metadata(request: ChargeRequest) -> dict[str, str]:
    return {
        "payment_id": request.charge_id,
        "account_id": request.account_id,
        "invoice_id": request.invoice_ids[0],
        "invoice_ids": ",".join(request.invoice_ids),
    }


def _charge_of(intent: Any, request: ChargeRequest) -> ProviderCharge:
    status = STATUS_BY_INTENT.get(str(intent["status"]), ChargeStatus.PENDING)
    details: dict[str, str] = {}
    if intent.get("client_secret") and status is ChargeStatus.PENDING:
        details["client_secret"] = str(intent["client_secret"])
    if request.method is PaymentMethod.SEPA:
        saved = request.saved_method
        details["mandate_status"] = (saved.mandate_status or "active") if saved else "missing"
        if saved is not None and saved.mandate_reference:
            details["mandate_reference"] = saved.mandate_reference
    failure = None
    last_error = intent.get("last_payment_error")
    if last_error:
        failure = str(last_error.get("code") or "failed")
        if status is ChargeStatus.PENDING and request.off_session:
            status = ChargeStatus.FAILED
    received = intent.get("amount_received")
    return ProviderCharge(
        provider_ref=str(intent["id"]),
        status=status,
        details=details,
        failure=failure,
        amount_received=int(received) if received is not None and status is ChargeStatus.SUCCEEDED else None,
    )


# --- events --------------------------------------------------------------------------------------------------------
def parse_stripe_event(
    raw_body: str, signature: str | None, webhook_secret: str | None, provider: str = Provider.STRIPE.value
) -> ProviderEvent:
    """Check the signature on the raw body (401), read the JSON (400) and map the event (see the module docstring)."""
    from balcao.adapters.payments.stripe_signature import verify_stripe_signature  # the library, only when needed

    verify_stripe_signature(raw_body, signature, webhook_secret or "")
    try:
        event = json.loads(raw_body)
        event_id = str(event["id"])
        event_type = str(event["type"])
        obj = event["data"]["object"]
        if not isinstance(obj, dict):
            raise TypeError("data.object is not an object")
    except (ValueError, KeyError, TypeError) as error:
        raise WebhookBodyInvalidError(str(error)) from error
    return event_from_object(provider, event_id, event_type, obj)


def event_from_object(provider: str, event_id: str, event_type: str, obj: Mapping[str, Any]) -> ProviderEvent:
    metadata = obj.get("metadata") or {}
    invoice_ids = tuple(i for i in str(metadata.get("invoice_ids") or metadata.get("invoice_id") or "").split(",") if i)
    base: dict[str, Any] = {
        "provider": provider,
        "event_id": event_id,
        "raw_type": event_type,
        "charge_id": metadata.get("payment_id"),
        "account_id": metadata.get("account_id"),
        "invoice_ids": invoice_ids,
        "currency": str(obj.get("currency") or "").upper() or None,
    }
    if event_type.startswith("payment_intent."):
        types = obj.get("payment_method_types") or []
        method = METHOD_BY_TYPE.get(str(types[0])) if types else None
        kind = {
            "payment_intent.succeeded": EventKind.SUCCEEDED,
            "payment_intent.processing": EventKind.PROCESSING,
            "payment_intent.payment_failed": EventKind.FAILED,
            "payment_intent.canceled": EventKind.CANCELLED,
        }.get(event_type, EventKind.IGNORED)
        error = obj.get("last_payment_error") or {}
        amount = obj.get("amount_received") if kind is EventKind.SUCCEEDED else obj.get("amount")
        return ProviderEvent(
            kind=kind,
            provider_ref=str(obj.get("id") or "") or None,
            amount=int(amount) if amount is not None else None,
            method=method,
            reason=str(error.get("code")) if error.get("code") else None,
            **base,
        )
    if event_type == "charge.refunded":
        return ProviderEvent(
            kind=EventKind.REFUNDED,
            provider_ref=str(obj.get("payment_intent") or "") or None,
            amount=int(obj.get("amount_refunded") or 0),
            reversal_ref=str(obj.get("id") or ""),
            reason="refund",
            **base,
        )
    if event_type == "charge.dispute.created":
        return ProviderEvent(
            kind=EventKind.DISPUTED,
            provider_ref=str(obj.get("payment_intent") or "") or None,
            amount=int(obj.get("amount") or 0),
            reversal_ref=str(obj.get("id") or ""),
            reason=str(obj.get("reason") or "dispute"),
            **base,
        )
    return ProviderEvent(kind=EventKind.IGNORED, **base)


def refetched(event: ProviderEvent, provider: StripeProvider) -> ProviderEvent:
    """Deployed: the event is a hint; the object's current state at Stripe decides (amount, currency, status)."""
    if event.kind is EventKind.IGNORED or not event.provider_ref:
        return event
    if event.kind in (EventKind.SUCCEEDED, EventKind.PROCESSING, EventKind.FAILED, EventKind.CANCELLED):
        intent = provider.fetch_intent(event.provider_ref)
        status = STATUS_BY_INTENT.get(str(intent["status"]), ChargeStatus.PENDING)
        kind = KIND_BY_INTENT_STATUS.get(status, EventKind.IGNORED)
        if event.kind is EventKind.FAILED and status is ChargeStatus.PENDING:
            kind = EventKind.FAILED  # requires_payment_method again: the attempt failed
        fresh = event_from_object(event.provider, event.event_id, event.raw_type, dict(intent))
        amount = intent.get("amount_received") if kind is EventKind.SUCCEEDED else intent.get("amount")
        return ProviderEvent(
            provider=event.provider,
            event_id=event.event_id,
            kind=kind,
            provider_ref=event.provider_ref,
            amount=int(amount) if amount is not None else None,
            currency=fresh.currency,
            charge_id=fresh.charge_id,
            account_id=fresh.account_id,
            invoice_ids=fresh.invoice_ids,
            method=fresh.method,
            reason=event.reason,
            raw_type=event.raw_type,
        )
    if event.kind is EventKind.REFUNDED and event.reversal_ref:
        charge = provider.fetch_charge(event.reversal_ref)
        return _with_amount(event, int(charge.get("amount_refunded") or 0), str(charge.get("currency") or ""))
    if event.kind is EventKind.DISPUTED and event.reversal_ref:
        dispute = provider.fetch_dispute(event.reversal_ref)
        return _with_amount(event, int(dispute.get("amount") or 0), str(dispute.get("currency") or ""))
    return event


def _with_amount(event: ProviderEvent, amount: int, currency: str) -> ProviderEvent:
    from dataclasses import replace

    return replace(event, amount=amount, currency=currency.upper() or event.currency)


def now_timestamp() -> int:
    return int(datetime.now(UTC).timestamp())
