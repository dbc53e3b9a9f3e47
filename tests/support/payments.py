"""Given-steps and provider stand-ins for payments: signed Stripe events and Mercado Pago notifications (as the
providers sign them, with the local stack's test secrets), webhook calls, and a transport replaying recorded
provider answers from ``tests/fixtures``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from balcao.adapters.payments.http import HttpResponse
from support.events import api_event, json_body

STRIPE_SECRET = "whsec_balcao_local_only"
MERCADOPAGO_SECRET = "mp_balcao_local_only"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def stripe_header(body: str, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> str:
    import stripe

    return stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=timestamp if timestamp is not None else int(time.time())
    )


def intent_event(
    event_type: str,
    *,
    intent_id: str,
    amount: int,
    currency: str = "brl",
    invoice_id: str | None = None,
    account_id: str | None = None,
    payment_id: str | None = None,
    method: str = "card",
    event_id: str | None = None,
    error_code: str | None = None,
) -> dict[str, Any]:
    """A Stripe ``payment_intent.*`` event as Stripe sends it (the fields we read, and a few we ignore)."""
    metadata = {
        k: v for k, v in {"invoice_id": invoice_id, "account_id": account_id, "payment_id": payment_id}.items() if v
    }
    intent: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if event_type == "payment_intent.succeeded" else 0,
        "currency": currency,
        "metadata": metadata,
        "payment_method_types": [method],
        "status": {
            "payment_intent.succeeded": "succeeded",
            "payment_intent.processing": "processing",
            "payment_intent.payment_failed": "requires_payment_method",
        }.get(event_type, "requires_payment_method"),
        "livemode": False,
    }
    if error_code:
        intent["last_payment_error"] = {"code": error_code}
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "type": event_type,
        "data": {"object": intent},
    }


def charge_event(
    event_type: str, *, intent_id: str, amount: int, currency: str = "brl", event_id: str | None = None
) -> dict[str, Any]:
    """``charge.refunded`` (``amount`` = refunded so far) or ``charge.dispute.created`` (``amount`` disputed)."""
    if event_type == "charge.refunded":
        obj = {
            "id": f"ch_{uuid.uuid4().hex[:20]}",
            "object": "charge",
            "payment_intent": intent_id,
            "amount_refunded": amount,
            "currency": currency,
            "refunded": True,
        }
    else:
        obj = {
            "id": f"du_{uuid.uuid4().hex[:20]}",
            "object": "dispute",
            "payment_intent": intent_id,
            "amount": amount,
            "currency": currency,
            "reason": "fraudulent",
        }
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": event_type,
        "data": {"object": obj},
    }


def stripe_webhook(
    event: Mapping[str, Any] | str, *, provider: str = "stripe", header: str | None = None
) -> dict[str, Any]:
    body = event if isinstance(event, str) else json.dumps(event, separators=(",", ":"))
    headers = {"Stripe-Signature": header if header is not None else stripe_header(body)}
    return api_event("POST", f"/webhooks/{provider}", resource="/webhooks/{provider}", raw_body=body, headers=headers)


def mercadopago_webhook(
    payment_id: str,
    *,
    notification_id: str | None = None,
    provider: str = "mercadopago",
    secret: str = MERCADOPAGO_SECRET,
    signature: str | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """A Mercado Pago notification: only ``data.id`` (in the query string and the body), signed over the manifest."""
    request_id = str(uuid.uuid4())
    ts = str(int(time.time() * 1000))
    manifest = f"id:{payment_id.lower()};request-id:{request_id};ts:{ts};"
    v1 = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    raw = (
        body
        if body is not None
        else json.dumps(
            {
                "id": notification_id or str(uuid.uuid4().int)[:12],
                "type": "payment",
                "action": "payment.updated",
                "data": {"id": payment_id},
                "live_mode": False,
            }
        )
    )
    headers = {"x-signature": signature if signature is not None else f"ts={ts},v1={v1}", "x-request-id": request_id}
    return api_event(
        "POST",
        f"/webhooks/{provider}",
        resource="/webhooks/{provider}",
        raw_body=raw,
        headers=headers,
        query={"data.id": payment_id, "type": "payment"},
    )


def answer(response: dict[str, Any]) -> tuple[int, Any]:
    return response["statusCode"], json_body(response)


# --- recorded provider answers ----------------------------------------------------------------------------------------
@dataclass
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def form(self) -> dict[str, list[str]]:
        from urllib.parse import parse_qs

        return parse_qs((self.body or b"").decode())


@dataclass
class ReplayTransport:
    """Answers each request with the next recorded response whose (method, path prefix) matches; records what was
    sent. Nothing reaches the network."""

    routes: list[tuple[str, str, Callable[[SentRequest], HttpResponse]]] = field(default_factory=list)
    sent: list[SentRequest] = field(default_factory=list)

    def on(self, method: str, path: str, fixture: str, status: int = 200) -> ReplayTransport:
        body = (FIXTURES / fixture).read_bytes()
        self.routes.append(
            (method, path, lambda _request: HttpResponse(status, body, {"Content-Type": "application/json"}))
        )
        return self

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None = None) -> HttpResponse:
        from urllib.parse import urlsplit

        sent = SentRequest(method, url, dict(headers), body)
        self.sent.append(sent)
        path = urlsplit(url).path
        for index, (wanted_method, prefix, respond) in enumerate(self.routes):
            if wanted_method == method and path.startswith(prefix):
                del self.routes[index]
                return respond(sent)
        raise AssertionError(f"no recorded answer for {method} {url}")


def given_payment_and_saved_method(account_id: str) -> dict[str, str]:
    """A PIX payment for a new invoice and a saved test card of the account (what the BOLA matrix attacks)."""
    from balcao.domain.invoice_document import PaymentMethod
    from balcao.domain.payments.charges import SavedMethodKind
    from balcao.runtime.payments_composition import payments
    from balcao.services.payments import NewMethod
    from support.billing import given_issued_invoice

    service = payments()
    invoice = given_issued_invoice(account_id, 4990)
    charge = service.pay(account_id, [invoice.invoice_id], PaymentMethod.PIX).charge
    method = service.add_method(
        account_id, NewMethod(SavedMethodKind.CARD, provider_ref="pm_card_visa"), service.payer(account_id)
    )
    return {"payment_id": charge.charge_id, "payment_method_id": method.method_id}


def given_service(account_id: str, domain: str) -> str:
    """An active hosting service of the account (what a saved method may pay by default); its id."""
    from balcao.adapters.dynamodb import keys
    from balcao.adapters.dynamodb.models import ServiceItem
    from balcao.domain.ids import new_ulid

    service_id = new_ulid()
    ServiceItem(
        pk=keys.account_pk(account_id),
        sk=keys.service_sk(service_id),
        service_id=service_id,
        account_id=account_id,
        name="Hospedagem",
        domain=domain,
        status="active",
    ).save()
    return service_id
