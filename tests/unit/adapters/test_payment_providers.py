"""Stripe and Mercado Pago adapters against recorded answers (tests/fixtures/stripe, tests/fixtures/mercadopago),
replayed by a transport: what we send (idempotency keys, amounts, the payer's CPF, metadata) and how we read what
comes back. Nothing reaches the network."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, date, datetime

import pytest

from balcao.adapters.payments.mercadopago import MercadoPagoProvider, parse_mercadopago_notification
from balcao.adapters.payments.stripe_provider import StripeProvider, parse_stripe_event, refetched
from balcao.domain.errors import ProviderUnavailableError
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.money import Money
from balcao.domain.payments.charges import Charge, ChargeStatus, Provider, SavedMethod, SavedMethodKind
from balcao.domain.payments.events import EventKind, WebhookBodyInvalidError
from balcao.domain.payments.webhook_signatures import WebhookSignatureError
from balcao.services.payments import ChargeRequest, NewMethod, Payer
from support.payments import ReplayTransport, stripe_header

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
PAYER = Payer("01JACCOUNT000000000000000A", "Ana Souza", "ana@example.com", "pt-BR", "BR", "CPF", "52998224725")


def request(method: PaymentMethod, amount: int = 4990, **extra) -> ChargeRequest:
    return ChargeRequest(
        charge_id="01JCHARGE0000000000000000A",
        account_id=PAYER.account_id,
        invoice_ids=("01JINVOICE000000000000000A",),
        method=method,
        amount=Money.of(amount, "EUR" if method is PaymentMethod.SEPA else "BRL"),
        description="INV-2026-000001",
        payer=PAYER,
        idempotency_key="balcao:charge:01JINVOICE000000000000000A:1",
        **extra,
    )


def charge(ref: str, provider: Provider = Provider.STRIPE) -> Charge:
    return Charge(
        "01JCHARGE0000000000000000A",
        PAYER.account_id,
        ("01JINVOICE000000000000000A",),
        PaymentMethod.CARD,
        provider,
        Money.of(4990, "BRL"),
        ChargeStatus.SUCCEEDED,
        NOW,
        provider_ref=ref,
    )


# --- Stripe ----------------------------------------------------------------------------------------------------------
def test_a_card_payment_intent_carries_the_idempotency_key_amount_and_metadata():
    # Given Stripe answers a new PaymentIntent
    transport = ReplayTransport().on("POST", "/v1/payment_intents", "stripe/payment_intent_card_created.json")
    # When a card charge is created
    answer = StripeProvider("sk_test_balcao", transport).create(request(PaymentMethod.CARD))
    # Then the request carries the idempotency key (invoice + attempt), the amount in minor units and our ids
    sent = transport.sent[0]
    assert sent.headers["Idempotency-Key"] == "balcao:charge:01JINVOICE000000000000000A:1"
    assert sent.form["amount"] == ["4990"] and sent.form["currency"] == ["brl"]
    assert sent.form["metadata[invoice_id]"] == ["01JINVOICE000000000000000A"]
    assert sent.form["payment_method_types[0]"] == ["card"]
    # And the answer is pending with the client secret for the card form
    assert answer.status is ChargeStatus.PENDING and answer.provider_ref == "pi_3QxBalcao0000001"
    assert answer.details["client_secret"].startswith("pi_3QxBalcao0000001_secret_")


def test_a_sepa_debit_with_a_saved_mandate_is_confirmed_off_session_and_processing():
    transport = ReplayTransport().on("POST", "/v1/payment_intents", "stripe/payment_intent_sepa_processing.json")
    mandate = SavedMethod(
        "M1",
        PAYER.account_id,
        SavedMethodKind.SEPA,
        Provider.STRIPE,
        "pm_1QxSepa0001",
        NOW,
        mandate_reference="BALCAO-8ZQXR2KDV3",
        mandate_status="active",
    )
    answer = StripeProvider("sk_test_balcao", transport).create(
        request(PaymentMethod.SEPA, 1561, saved_method=mandate, customer_ref="cus_RBalcao0001")
    )
    form = transport.sent[0].form
    assert (
        form["confirm"] == ["true"] and form["off_session"] == ["true"] and form["payment_method"] == ["pm_1QxSepa0001"]
    )
    assert answer.status is ChargeStatus.PROCESSING
    assert answer.details == {"mandate_status": "active", "mandate_reference": "BALCAO-8ZQXR2KDV3"}


def test_a_declined_off_session_card_is_a_failed_charge_not_an_error():
    transport = ReplayTransport().on("POST", "/v1/payment_intents", "stripe/card_declined.json", status=402)
    saved = SavedMethod("C1", PAYER.account_id, SavedMethodKind.CARD, Provider.STRIPE, "pm_1QxCard0001", NOW)
    answer = StripeProvider("sk_test_balcao", transport).create(
        request(PaymentMethod.CARD, saved_method=saved, customer_ref="cus_RBalcao0001", off_session=True)
    )
    assert answer.status is ChargeStatus.FAILED and answer.failure == "card_declined"
    assert answer.provider_ref == "pi_3QxDeclined0001"


def test_refunds_cancellations_and_unavailability():
    transport = (
        ReplayTransport()
        .on("POST", "/v1/refunds", "stripe/refund.json")
        .on("POST", "/v1/payment_intents/pi_3QxBalcao0000001/cancel", "stripe/cancel_succeeded_error.json", status=400)
        .on("POST", "/v1/refunds", "stripe/cancel_succeeded_error.json", status=500)
    )
    stripe = StripeProvider("sk_test_balcao", transport)
    # A refund carries our idempotency key and answers the refund id
    assert (
        stripe.refund(charge("pi_3QxBalcao0000001"), Money.of(1990, "BRL"), "balcao:refund:X:k1")
        == "re_3QxBalcao0000001"
    )
    assert transport.sent[0].headers["Idempotency-Key"] == "balcao:refund:X:k1"
    assert transport.sent[0].form["amount"] == ["1990"]
    # Cancelling an intent that already succeeded is not an error (nothing open is left)
    stripe.cancel(charge("pi_3QxBalcao0000001"))
    # A 5xx is "provider unavailable"
    with pytest.raises(ProviderUnavailableError):
        stripe.refund(charge("pi_3QxBalcao0000001"), Money.of(1990, "BRL"), "k2")


def test_saved_cards_are_attached_and_sepa_mandates_are_set_up_with_the_customers_acceptance():
    transport = (
        ReplayTransport()
        .on("POST", "/v1/customers", "stripe/customer.json")
        .on("POST", "/v1/payment_methods/pm_1QxCard0001/attach", "stripe/payment_method_card_attached.json")
        .on("POST", "/v1/payment_methods", "stripe/payment_method_sepa.json")
        .on("POST", "/v1/setup_intents", "stripe/setup_intent_sepa.json")
        .on("GET", "/v1/mandates/mandate_1QxSepa0001", "stripe/mandate_sepa.json")
    )
    stripe = StripeProvider("sk_test_balcao", transport)
    customer = stripe.customer(PAYER)
    assert customer == "cus_RBalcao0001" and transport.sent[0].headers["Idempotency-Key"].endswith(PAYER.account_id)
    card = stripe.save(customer, NewMethod(SavedMethodKind.CARD, provider_ref="pm_1QxCard0001"), PAYER)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 8, 2029)
    mandate = stripe.save(
        customer,
        NewMethod(
            SavedMethodKind.SEPA,
            iban="ES91 2100 0418 4502 0005 1332",
            holder_name="Estudio",
            accepted_from_ip="203.0.113.7",
            accepted_user_agent="Mozilla/5.0",
        ),
        PAYER,
    )
    setup = transport.sent[3].form
    assert setup["mandate_data[customer_acceptance][online][ip_address]"] == ["203.0.113.7"]
    assert transport.sent[2].form["sepa_debit[iban]"] == ["ES9121000418450200051332"]
    assert (mandate.mandate_reference, mandate.mandate_status, mandate.last4) == ("BALCAO-8ZQXR2KDV3", "active", "1332")


def test_stripe_events_are_read_after_their_signature_and_refetched_when_deployed():
    body = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": "pi_3QxBalcao0000001",
                    "amount": 4990,
                    "amount_received": 4990,
                    "currency": "BRL",
                    "payment_method_types": ["card"],
                    "metadata": {"invoice_id": "I1", "account_id": "A1"},
                }
            },
        }
    )
    secret = "whsec_test_secret_0123456789abcdef"
    event = parse_stripe_event(body, stripe_header(body, secret), secret)
    assert (event.kind, event.amount, event.currency, event.invoice_ids, event.method) == (
        EventKind.SUCCEEDED,
        4990,
        "BRL",
        ("I1",),
        PaymentMethod.CARD,
    )
    with pytest.raises(WebhookSignatureError):
        parse_stripe_event(body, stripe_header(body, "whsec_other"), secret)
    with pytest.raises(WebhookBodyInvalidError):
        parse_stripe_event("[1,", stripe_header("[1,", secret), secret)
    # Deployed: the intent's current state at Stripe decides
    transport = ReplayTransport().on(
        "GET", "/v1/payment_intents/pi_3QxBalcao0000001", "stripe/payment_intent_succeeded.json"
    )
    fresh = refetched(event, StripeProvider("sk_test_balcao", transport))
    assert (fresh.kind, fresh.amount, fresh.account_id) == (EventKind.SUCCEEDED, 4990, "01JACCOUNT000000000000000A")
    refund_event = parse_stripe_event(
        body := json.dumps(
            {
                "id": "evt_2",
                "type": "charge.refunded",
                "data": {
                    "object": {
                        "id": "ch_3QxBalcao0000001",
                        "payment_intent": "pi_3QxBalcao0000001",
                        "amount_refunded": 9999,
                        "currency": "brl",
                    }
                },
            }
        ),
        stripe_header(body, secret),
        secret,
    )
    transport = ReplayTransport().on("GET", "/v1/charges/ch_3QxBalcao0000001", "stripe/charge_refunded.json")
    assert refetched(refund_event, StripeProvider("sk_test_balcao", transport)).amount == 1990


# --- Mercado Pago ------------------------------------------------------------------------------------------------------
def test_a_pix_payment_is_created_with_the_payers_cpf_and_read_back_with_its_txid():
    transport = ReplayTransport().on("POST", "/v1/payments", "mercadopago/payment_pix_created.json", status=201)
    provider = MercadoPagoProvider("APP_USR-test", transport, "https://central.example.com/webhooks/mercadopago")
    answer = provider.create(request(PaymentMethod.PIX, expires_at=datetime(2026, 11, 23, 12, tzinfo=UTC)))
    sent = transport.sent[0]
    body = sent.json
    assert sent.headers["X-Idempotency-Key"] == "balcao:charge:01JINVOICE000000000000000A:1"
    assert sent.headers["Authorization"] == "Bearer APP_USR-test"
    assert body["transaction_amount"] == 49.9 and body["payment_method_id"] == "pix"
    assert body["payer"]["identification"] == {"type": "CPF", "number": "52998224725"}
    assert body["external_reference"] == "01JCHARGE0000000000000000A"
    assert body["date_of_expiration"] == "2026-11-23T09:00:00.000-03:00"
    assert answer.provider_ref == "155287493021" and answer.status is ChargeStatus.PENDING
    assert answer.details["copy_paste"].startswith("000201") and answer.details["txid"].startswith("E182")


def test_a_boleto_is_registered_with_its_due_date_and_read_back_with_line_barcode_and_pdf():
    transport = ReplayTransport().on("POST", "/v1/payments", "mercadopago/payment_boleto_created.json", status=201)
    answer = MercadoPagoProvider("APP_USR-test", transport).create(
        request(PaymentMethod.BOLETO, 10000, due_date=date(2026, 11, 25))
    )
    body = transport.sent[0].json
    assert body["payment_method_id"] == "bolbradesco" and body["date_of_expiration"] == "2026-11-25T23:59:59.000-03:00"
    assert body["payer"]["identification"]["number"] == "52998224725"
    assert answer.details["due_date"] == "2026-11-25" and len(answer.details["barcode"]) == 44
    assert answer.details["pdf_url"].startswith("https://www.mercadopago.com.br/payments/")


def test_mercadopago_failures_are_unavailable_and_unknown_payments_are_none():
    transport = (
        ReplayTransport()
        .on("POST", "/v1/payments", "mercadopago/unauthorized.json", status=401)
        .on("GET", "/v1/payments/1", "mercadopago/payment_not_found.json", status=404)
        .on("POST", "/v1/payments/155287493021/refunds", "mercadopago/refund.json", status=201)
    )
    provider = MercadoPagoProvider("APP_USR-expired", transport)
    with pytest.raises(ProviderUnavailableError):
        provider.create(request(PaymentMethod.PIX))
    assert provider.fetch("1") is None
    assert provider.refund(charge("155287493021", Provider.MERCADOPAGO), Money.of(1990, "BRL"), "k") == "1009847123"
    assert transport.sent[2].json == {"amount": 19.9}


def _signed(payment_id: str, secret: str, request_id: str = "bb56a2f1-6aae-46ac-982e-9dcd3581d08e") -> dict[str, str]:
    ts = "1742505638683"
    v1 = hmac.new(
        secret.encode(), f"id:{payment_id};request-id:{request_id};ts:{ts};".encode(), hashlib.sha256
    ).hexdigest()
    return {"x-signature": f"ts={ts},v1={v1}", "x-request-id": request_id}


def test_a_notification_is_verified_then_its_payment_refetched_for_amount_currency_and_status():
    transport = ReplayTransport().on("GET", "/v1/payments/155287493021", "mercadopago/payment_pix_approved.json")
    provider = MercadoPagoProvider("APP_USR-test", transport)
    body = json.dumps({"id": 12345, "type": "payment", "action": "payment.updated", "data": {"id": "155287493021"}})
    event = parse_mercadopago_notification(
        body,
        _signed("155287493021", "mp_test_secret"),
        {"data.id": "155287493021", "type": "payment"},
        "mp_test_secret",
        provider.fetch,
        now=NOW,
    )
    assert (event.kind, event.amount, event.currency, event.event_id) == (EventKind.SUCCEEDED, 4990, "BRL", "12345")
    assert event.charge_id == "01JCHARGE0000000000000000A" and event.method is PaymentMethod.PIX
    # A wrong secret is refused before anything is fetched; a refund reads the refunded amount
    with pytest.raises(WebhookSignatureError):
        parse_mercadopago_notification(
            body,
            _signed("155287493021", "other"),
            {"data.id": "155287493021"},
            "mp_test_secret",
            provider.fetch,
            now=NOW,
        )
    refunds = ReplayTransport().on("GET", "/v1/payments/155287493021", "mercadopago/payment_pix_refunded.json")
    refunded = parse_mercadopago_notification(
        body,
        _signed("155287493021", "mp_test_secret"),
        {"data.id": "155287493021"},
        "mp_test_secret",
        MercadoPagoProvider("APP_USR-test", refunds).fetch,
        now=NOW,
    )
    assert (refunded.kind, refunded.amount) == (EventKind.REFUNDED, 4990)
