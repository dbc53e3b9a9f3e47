"""The sandbox: the local stack's payment provider (``PAYMENTS_MODE=local`` only; deployed stacks never wire it).

It stands in for the real providers where their keys are missing and speaks their formats, so the same webhook code
runs locally:
- card and SEPA: a local PaymentIntent (``pi_local_…`` with a ``client_secret``); saved cards accept Stripe's
  documented test payment methods (``pm_card_visa``; ``pm_card_chargeDeclined`` declines off-session charges), SEPA
  mandates any valid IBAN;
- PIX: a dynamic BR Code for the amount (its txid is the charge's id), built and checked by our own rules;
- boleto: a registered-looking boleto (bank 341, the due-date factor of its due date) with a printable page.
Payments are recorded here; ``/_dev/pay`` makes the sandbox settle one and deliver a correctly signed webhook —
Stripe-shaped for card and SEPA, a Mercado Pago notification for PIX and boleto whose re-fetch reads the recorded
payment — to ``/webhooks/sandbox``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from balcao.domain.errors import N_
from balcao.domain.ids import new_ulid
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.money import Money
from balcao.domain.payments.boleto import barcode_to_digitable_line, build_barcode
from balcao.domain.payments.charges import (
    Charge,
    ChargeStatus,
    Provider,
    SavedMethod,
    SavedMethodInvalidError,
    SavedMethodKind,
)
from balcao.domain.payments.pix import build_pix_payload
from balcao.domain.payments.sepa import validate_iban
from balcao.services.payments import ChargeRequest, NewMethod, Payer, ProviderCharge, VaultedMethod

SANDBOX_BANK = "341"
TEST_CARDS: Mapping[str, tuple[str, str]] = {
    "pm_card_visa": ("visa", "4242"),
    "pm_card_mastercard": ("mastercard", "4444"),
    "pm_card_amex": ("amex", "8431"),
    "pm_card_chargeDeclined": ("visa", "0002"),
}
DECLINING_LAST4 = "0002"

_lock = threading.Lock()
_payments: dict[str, dict[str, Any]] = {}


def recorded(provider_ref: str) -> dict[str, Any] | None:
    """The sandbox's answer to ``GET /v1/payments/{id}`` (Mercado Pago's shape), or None."""
    with _lock:
        found = _payments.get(provider_ref)
        return json.loads(json.dumps(found)) if found is not None else None


def record(provider_ref: str, **changes: Any) -> dict[str, Any]:
    with _lock:
        payment = _payments.setdefault(provider_ref, {"id": provider_ref})
        payment.update(changes)
        copied: dict[str, Any] = json.loads(json.dumps(payment))
        return copied


def forget_all() -> None:
    with _lock:
        _payments.clear()


class SandboxProvider:
    """``ChargeProvider`` for every method and ``MethodVault``, all local."""

    provider = Provider.SANDBOX

    def __init__(self, merchant_name: str = "Balcao Hosting", merchant_city: str = "Sao Paulo") -> None:
        self._merchant_name = merchant_name
        self._merchant_city = merchant_city

    def create(self, request: ChargeRequest) -> ProviderCharge:
        method = request.method
        key_hash = hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:20]
        common = {
            "external_reference": request.charge_id,
            "currency_id": request.amount.currency.value,
            "transaction_amount": str(request.amount.to_decimal()),
            "metadata": {
                "payment_id": request.charge_id,
                "account_id": request.account_id,
                "invoice_ids": ",".join(request.invoice_ids),
            },
            "status": "pending",
        }
        if method is PaymentMethod.PIX:
            ref = f"sbx_pix_{key_hash}"
            copy_paste = build_pix_payload(
                f"pix.balcao.example/qr/{request.charge_id.lower()}",
                self._merchant_name,
                self._merchant_city,
                request.amount,
                None,
                dynamic=True,
            )
            record(ref, payment_type_id="bank_transfer", **common)
            return ProviderCharge(
                ref,
                ChargeStatus.PENDING,
                expires_at=request.expires_at,
                details={"copy_paste": copy_paste, "txid": request.charge_id},
            )
        if method is PaymentMethod.BOLETO:
            ref = f"sbx_boleto_{key_hash}"
            digits = str(int(hashlib.sha256(request.charge_id.encode()).hexdigest(), 16))[:25].rjust(25, "0")
            barcode = build_barcode(SANDBOX_BANK, request.due_date, request.amount, digits)
            record(ref, payment_type_id="ticket", **common)
            details = {
                "digitable_line": barcode_to_digitable_line(barcode),
                "barcode": barcode,
                "pdf_url": f"/payments/{request.charge_id}/boleto",
            }
            if request.due_date is not None:
                details["due_date"] = request.due_date.isoformat()
            return ProviderCharge(ref, ChargeStatus.PENDING, details=details)
        ref = f"pi_local_{key_hash}"
        record(ref, payment_type_id="card" if method is PaymentMethod.CARD else "sepa_debit", **common)
        saved = request.saved_method
        if saved is None:
            details = {"client_secret": f"{ref}_secret_{secrets.token_hex(8)}"}
            if method is PaymentMethod.SEPA:
                details["mandate_status"] = "missing"
            return ProviderCharge(ref, ChargeStatus.PENDING, details=details)
        if method is PaymentMethod.SEPA:
            details = {"mandate_status": saved.mandate_status or "active"}
            if saved.mandate_reference:
                details["mandate_reference"] = saved.mandate_reference
            record(ref, status="in_process")
            return ProviderCharge(ref, ChargeStatus.PROCESSING, details=details)
        if saved.last4 == DECLINING_LAST4:
            record(ref, status="rejected", status_detail="card_declined")
            return ProviderCharge(ref, ChargeStatus.FAILED, failure="card_declined")
        record(ref, status="approved")
        return ProviderCharge(ref, ChargeStatus.SUCCEEDED, amount_received=request.amount.amount)

    def cancel(self, charge: Charge) -> None:
        if charge.provider_ref:
            current = recorded(charge.provider_ref) or {}
            if current.get("status") not in ("approved", "refunded"):
                record(charge.provider_ref, status="cancelled")

    def refund(self, charge: Charge, amount: Money, idempotency_key: str) -> str:
        refund_id = f"re_local_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]}"
        if charge.provider_ref:
            current = recorded(charge.provider_ref) or {}
            refunds = dict(current.get("refunds") or {})
            refunds[refund_id] = amount.amount
            record(charge.provider_ref, refunds=refunds)
        return refund_id

    def fetch(self, provider_ref: str) -> Mapping[str, Any] | None:
        return recorded(provider_ref)

    # --- saved methods ------------------------------------------------------------------------------------------
    def customer(self, payer: Payer) -> str:
        return f"cus_local_{payer.account_id.lower()}"

    def save(self, customer_ref: str, method: NewMethod, payer: Payer) -> VaultedMethod:
        if method.kind is SavedMethodKind.CARD:
            card = TEST_CARDS.get(method.provider_ref or "")
            if card is None:
                raise SavedMethodInvalidError.single(
                    "provider_payment_method", N_("This value is not one of the allowed choices."), "invalid_choice"
                )
            brand, last4 = card
            year = datetime.now().year + 3
            return VaultedMethod(f"pm_local_{new_ulid().lower()}", brand, last4, 12, year)
        iban = validate_iban(method.iban or "")
        reference = f"BALCAO-{new_ulid()[:16]}"
        return VaultedMethod(
            f"pm_local_{new_ulid().lower()}",
            brand="sepa_debit",
            last4=iban[-4:],
            mandate_reference=reference,
            mandate_status="active",
        )

    def remove(self, method: SavedMethod) -> None:
        return None


def settle(provider_ref: str, outcome: str, amount: Money | None = None) -> dict[str, Any]:
    """``/_dev/pay``: the sandbox records the outcome of a payment (``paid``, ``failed`` or ``pending``)."""
    status = {"paid": "approved", "failed": "rejected", "pending": "in_process"}[outcome]
    changes: dict[str, Any] = {"status": status, "date_last_updated": time.time()}
    if amount is not None:
        changes["transaction_amount"] = str(amount.to_decimal())
        changes["currency_id"] = amount.currency.value
    return record(provider_ref, **changes)
