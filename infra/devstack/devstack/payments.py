"""``POST /_dev/pay/{invoice_id}`` ``{"outcome": "paid"|"failed"|"pending"}``: the sandbox provider settles the
invoice's open amount and sends a correctly signed webhook through the gateway, like a provider would.

The method is the invoice's chosen one (default: PIX for reais, card for euros). Card and SEPA send a Stripe-shaped
``payment_intent.*`` event signed with the local Stripe webhook secret; PIX and boleto record the payment at the
sandbox and send a Mercado Pago notification (only ``data.id``) signed with the local Mercado Pago secret, whose
re-fetch reads that record. Both go to ``/webhooks/sandbox``; the answer comes after the webhook was handled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import requests

OUTCOMES = ("paid", "failed", "pending")
INTENT_EVENTS = {
    "paid": ("payment_intent.succeeded", "succeeded"),
    "failed": ("payment_intent.payment_failed", "requires_payment_method"),
    "pending": ("payment_intent.processing", "processing"),
}


class NoSuchInvoiceError(LookupError):
    pass


def pay(base_url: str, invoice_id: str, outcome: str) -> dict[str, Any]:
    from balcao.adapters.payments import sandbox
    from balcao.domain.invoice_document import PaymentMethod
    from balcao.domain.money import Currency
    from balcao.domain.payments.charges import ChargeStatus, Provider
    from balcao.runtime.payments_composition import payments, registry

    service = payments()
    account_id = service.invoices.store.locate(invoice_id)
    if account_id is None:
        raise NoSuchInvoiceError(invoice_id)
    invoice = service.invoices.invoice(account_id, invoice_id, include_drafts=True)
    if not invoice.is_unpaid or invoice.amount_due.is_zero:
        return {"invoice_id": invoice_id, "status": invoice.status.value}
    default = PaymentMethod.PIX if invoice.currency is Currency.BRL else PaymentMethod.CARD
    method = invoice.payment_method if invoice.payment_method not in (None, PaymentMethod.CREDIT) else default
    assert method is not None
    open_statuses = (ChargeStatus.PENDING, ChargeStatus.PROCESSING)
    charge = next(
        (
            c
            for c in service.store.charges_of(account_id, invoice_id)
            if c.provider is Provider.SANDBOX and c.method is method and c.status in open_statuses
        ),
        None,
    )
    if charge is None:
        charge = service.pay(account_id, [invoice_id], method).charge
    if charge.provider is not Provider.SANDBOX or not charge.provider_ref:
        raise RuntimeError("this invoice's provider is a real one (keys are configured): pay it there")
    amount = invoice.amount_due
    keys = registry()
    url = f"{base_url}/webhooks/sandbox"
    if method in (PaymentMethod.CARD, PaymentMethod.SEPA):
        event_type, status = INTENT_EVENTS[outcome]
        body = json.dumps(
            {
                "id": f"evt_local_{uuid.uuid4().hex[:24]}",
                "object": "event",
                "type": event_type,
                "data": {
                    "object": {
                        "id": charge.provider_ref,
                        "object": "payment_intent",
                        "amount": amount.amount,
                        "amount_received": amount.amount if outcome == "paid" else 0,
                        "currency": amount.currency.value.lower(),
                        "status": status,
                        "payment_method_types": ["card" if method is PaymentMethod.CARD else "sepa_debit"],
                        "metadata": {
                            "payment_id": charge.charge_id,
                            "account_id": account_id,
                            "invoice_id": invoice_id,
                            "invoice_ids": ",".join(charge.invoice_ids),
                        },
                        "last_payment_error": {"code": "card_declined"} if outcome == "failed" else None,
                    }
                },
            },
            separators=(",", ":"),
        )
        signature = _stripe_signature(body, keys.stripe.webhook_secret or "")
        response = requests.post(
            url, data=body, headers={"Content-Type": "application/json", "Stripe-Signature": signature}, timeout=30
        )
    else:
        sandbox.settle(charge.provider_ref, outcome, amount)
        request_id = str(uuid.uuid4())
        ts = str(int(time.time() * 1000))
        manifest = f"id:{charge.provider_ref.lower()};request-id:{request_id};ts:{ts};"
        v1 = hmac.new((keys.mercadopago.webhook_secret or "").encode(), manifest.encode(), hashlib.sha256).hexdigest()
        body = json.dumps({"id": str(uuid.uuid4().int)[:12], "type": "payment", "data": {"id": charge.provider_ref}})
        response = requests.post(
            url,
            params={"data.id": charge.provider_ref, "type": "payment"},
            data=body,
            headers={"Content-Type": "application/json", "x-signature": f"ts={ts},v1={v1}", "x-request-id": request_id},
            timeout=30,
        )
    response.raise_for_status()
    after = service.invoices.invoice(account_id, invoice_id, include_drafts=True)
    return {"invoice_id": invoice_id, "status": after.status.value}


def _stripe_signature(body: str, secret: str) -> str:
    import stripe

    return str(stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=int(time.time())))


def seed_payments(context: Any) -> None:
    """Demo saved methods: Ana's Brazilian account has a saved test card (its default), her Spanish account a SEPA
    mandate — what the payment-methods page and the automatic charging show."""
    from balcao.domain.payments.charges import SavedMethodKind
    from balcao.runtime.payments_composition import payments
    from balcao.services.payments import NewMethod

    service = payments()
    accounts = context.account_ids.get("ana@example.com") or []
    if len(accounts) < 2:
        return
    brazilian, spanish = accounts[0], accounts[1]
    service.add_method(
        brazilian, NewMethod(SavedMethodKind.CARD, provider_ref="pm_card_visa"), service.payer(brazilian)
    )
    mandate = NewMethod(
        SavedMethodKind.SEPA,
        iban="ES9121000418450200051332",
        holder_name="Ana Souza",
        accepted_from_ip="127.0.0.1",
        accepted_user_agent="devstack seed",
    )
    service.add_method(spanish, mandate, service.payer(spanish))
    context.facts["saved_methods"] = 2
