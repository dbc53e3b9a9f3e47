"""Payments with real events: paying (PIX, boleto, card, SEPA, credit, several invoices), the webhooks' semantics of
API.md (signatures, dedupe, amounts, currency, partial/over/late payments, unknown invoices, forward-only states,
reversals), staff refunds, saved methods, the jobs, cancellation of open charges, fail-closed providers and read
budgets."""

from __future__ import annotations

import json
from datetime import date

import boto3
import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import (
    AccountItem,
    ChargeItem,
    CreditBalanceItem,
    InvoiceItem,
    OutboxItem,
    PaymentFlagItem,
    PaymentItem,
    WebhookEventItem,
)
from balcao.adapters.payments import sandbox
from balcao.domain.payments.boleto import parse_digitable_line
from balcao.domain.payments.pix import validate_pix_payload
from balcao.runtime.invoices_composition import invoices
from balcao.runtime.payments_composition import payments
from support.billing import given_issued_invoice, ledger_sum
from support.events import api_event, json_body
from support.identity import given_account, given_session, given_staff
from support.payments import (
    answer,
    charge_event,
    given_service,
    intent_event,
    mercadopago_webhook,
    stripe_header,
    stripe_webhook,
)

ACCOUNT = "/api/accounts/{account_id}"
PAY_ROUTE = f"{ACCOUNT}/invoices/{{invoice_id}}/payments"


@pytest.fixture
def world(aws, clock):
    sandbox.forget_all()
    owner = given_session("owner-a", "a@example.com", language="pt-BR")
    account = given_account(owner.user_id, email=owner.email)
    cpf = AccountItem.get(keys.account_pk(account), keys.PROFILE)
    cpf.update(
        actions=[
            AccountItem.tax_country.set("BR"),
            AccountItem.tax_kind.set("cpf"),
            AccountItem.tax_id.set("52998224725"),
        ]
    )
    spanish_owner = given_session("owner-es", "es@example.com", language="es")
    spanish = given_account(
        spanish_owner.user_id, name="Estudio", language="es", currency="EUR", email="es@example.com"
    )
    return {
        "owner": owner,
        "account": account,
        "spanish_owner": spanish_owner,
        "spanish": spanish,
        "staff": given_staff("staff_finance"),
        "clock": clock,
    }


def call(invoke, function, method, path, caller, *, resource=None, body=None, headers=None, query=None):
    event = api_event(method, path, resource=resource, body=body, claims=caller.claims, headers=headers, query=query)
    return invoke(function, event)


def pay(invoke, world, invoice_id, method, *, account=None, caller=None, **extra):
    account = account or world["account"]
    return call(
        invoke,
        "payments",
        "POST",
        f"/api/accounts/{account}/invoices/{invoice_id}/payments",
        caller or world["owner"],
        resource=PAY_ROUTE,
        body={"method": method, **extra},
    )


def invoice_item(account, invoice_id):
    return InvoiceItem.get(keys.account_pk(account), keys.invoice_sk(invoice_id))


def outbox_types(account):
    return [
        item.event["type"] for item in OutboxItem.query(keys.account_pk(account), OutboxItem.sk.startswith("OUTBOX#"))
    ]


def flags():
    return list(PaymentFlagItem.by_gsi3.query(keys.QUEUE_PAYMENT_FLAGS))


def succeeded(invoice, amount=None, *, intent="pi_test_1", currency=None, event_id=None):
    return stripe_webhook(
        intent_event(
            "payment_intent.succeeded",
            intent_id=intent,
            amount=invoice.total.amount if amount is None else amount,
            currency=currency or invoice.currency.value.lower(),
            invoice_id=invoice.invoice_id,
            account_id=invoice.account_id,
            event_id=event_id,
        )
    )


# --- paying ---------------------------------------------------------------------------------------------------------
def test_a_pix_payment_shows_a_checked_code_and_a_qr_and_is_answered_again_while_open(world, invoke):
    # Given an issued invoice of R$ 49,90
    invoice = given_issued_invoice(world["account"], 4990)
    # When the owner pays it with PIX, twice
    first = pay(invoke, world, invoice.invoice_id, "pix")
    again = pay(invoke, world, invoice.invoice_id, "pix")
    # Then 201 with a BR Code that passes our own checks (TLV, CRC16) for the amount, and its QR code
    assert first["statusCode"] == 201, first["body"]
    body = json_body(first)
    assert body["method"] == "pix" and body["status"] == "pending" and body["expires_at"]
    code = validate_pix_payload(body["pix"]["copy_paste"])
    assert code.amount is not None and code.amount.amount == 4990
    assert body["pix"]["qr_svg"].startswith("<svg") and body["pix"]["txid"] == body["payment_id"]
    # And the second request answers the same open charge (no second code)
    assert json_body(again)["payment_id"] == body["payment_id"]
    # And the invoice prints the code (its instructions) while staying issued
    item = invoice_item(world["account"], invoice.invoice_id)
    assert item.status == "issued" and item.instructions["pix_copy_paste"] == body["pix"]["copy_paste"]


def test_a_boleto_is_registered_with_the_payers_cpf_and_pauses_suspension_once(world, invoke):
    # Given an invoice due today (suspension day = due date + 7)
    invoice = given_issued_invoice(world["account"], 10000, due_date=date(2026, 11, 22))
    # When the owner asks for a boleto, then for another one later
    first = json_body(pay(invoke, world, invoice.invoice_id, "boleto"))
    # Then its line is valid for the amount, due 3 days later (never after the cancellation day)
    boleto = parse_digitable_line(first["boleto"]["digitable_line"], date(2026, 11, 22))
    assert boleto.amount.amount == 10000 and boleto.due_date == date(2026, 11, 25)
    assert first["boleto"]["due_date"] == "2026-11-25" and first["boleto"]["barcode"] == boleto.barcode
    # And suspension pauses until the due date plus 3 business days (Wed 25 → Mon 30), stored on the invoice
    item = invoice_item(world["account"], invoice.invoice_id)
    assert item.suspension_paused_until == "2026-11-30" and item.boleto_pause_used is True
    assert item.status == "issued"
    world["clock"].advance(days=4)
    sandbox.forget_all()  # the first boleto expired at the provider
    second = pay(invoke, world, invoice.invoice_id, "boleto")
    assert second["statusCode"] == 201
    # And a second boleto does not extend the pause
    assert invoice_item(world["account"], invoice.invoice_id).suspension_paused_until == "2026-11-30"


def test_a_boleto_needs_a_cpf_or_cnpj_and_pix_and_boleto_need_reais(world, invoke):
    # Given an account without a tax id and a Spanish invoice in euros
    other = given_session("owner-b", "b@example.com")
    account = given_account(other.user_id, email=other.email)
    brl = given_issued_invoice(account, 4990)
    eur = given_issued_invoice(world["spanish"], 1290, currency="EUR")
    # When they ask for a boleto and for PIX in euros
    boleto = pay(invoke, world, brl.invoice_id, "boleto", account=account, caller=other)
    pix = pay(invoke, world, eur.invoice_id, "pix", account=world["spanish"], caller=world["spanish_owner"])
    # Then both are refused with 422 on the method
    assert boleto["statusCode"] == 422 and json_body(boleto)["error"]["fields"][0]["field"] == "method"
    assert pix["statusCode"] == 422


def test_card_and_sepa_without_stripe_keys_return_a_local_payment_intent(world, invoke):
    # Given a Brazilian and a Spanish invoice, and no Stripe keys (the local stack)
    brl = given_issued_invoice(world["account"], 4990)
    eur = given_issued_invoice(world["spanish"], 1290, currency="EUR")
    # When card and SEPA are chosen
    card = json_body(pay(invoke, world, brl.invoice_id, "card"))
    sepa = json_body(
        pay(invoke, world, eur.invoice_id, "sepa", account=world["spanish"], caller=world["spanish_owner"])
    )
    # Then the card gets a client secret of a local PaymentIntent, SEPA asks for a mandate
    assert card["card"]["client_secret"].startswith("pi_local_") and card["card"]["publishable_key"] is None
    assert sepa["sepa"] == {"mandate_status": "missing", "mandate_reference": None}


def test_paying_with_credit_spends_the_balance_and_never_below_zero(world, invoke):
    # Given an invoice of R$ 49,90, then R$ 30,00 of credit
    invoice = given_issued_invoice(world["account"], 4990)
    invoices().add_credit(world["account"], _brl(3000), "Cortesia")
    # When the owner pays with credit
    response = pay(invoke, world, invoice.invoice_id, "credit")
    # Then R$ 30,00 is applied, the invoice is partially paid and the balance is zero (the ledger agrees)
    assert response["statusCode"] == 201, response["body"]
    assert json_body(response)["status"] == "succeeded" and json_body(response)["amount"]["amount"] == 3000
    item = invoice_item(world["account"], invoice.invoice_id)
    assert item.status == "partially_paid" and item.amount_due == 1990
    assert CreditBalanceItem.get(keys.account_pk(world["account"]), keys.CREDIT_BALANCE).amount == 0
    assert ledger_sum(world["account"]) == 0
    # And paying with credit again is refused: there is none
    assert pay(invoke, world, invoice.invoice_id, "credit")["statusCode"] == 422


def _brl(amount):
    from balcao.domain.money import Money

    return Money.of(amount, "BRL")


def test_several_invoices_are_paid_by_one_charge_allocated_oldest_first(world, invoke):
    # Given two open invoices (R$ 40,00 due earlier, R$ 60,00 later)
    older = given_issued_invoice(world["account"], 4000, due_date=date(2026, 11, 20))
    newer = given_issued_invoice(world["account"], 6000, due_date=date(2026, 11, 30))
    # When both are paid at once with PIX and R$ 110,00 arrives
    response = call(
        invoke,
        "payments",
        "POST",
        f"/api/accounts/{world['account']}/payments",
        world["owner"],
        resource=f"{ACCOUNT}/payments",
        body={"invoice_ids": [newer.invoice_id, older.invoice_id], "method": "pix"},
    )
    assert response["statusCode"] == 201, response["body"]
    charge = json_body(response)
    assert charge["amount"]["amount"] == 10000 and charge["invoice_ids"] == [older.invoice_id, newer.invoice_id]
    ref = ChargeItem.get(keys.account_pk(world["account"]), keys.charge_sk(charge["payment_id"])).provider_ref
    sandbox.settle(ref, "paid", _brl(11000))
    status, body = answer(invoke("webhooks", mercadopago_webhook(ref, provider="sandbox")))
    # Then each invoice is paid up to its amount due, the rest (R$ 10,00) is credit
    assert (status, body["outcome"]) == (200, "settled")
    assert invoice_item(world["account"], older.invoice_id).status == "paid"
    assert invoice_item(world["account"], newer.invoice_id).status == "paid"
    assert ledger_sum(world["account"]) == 1000
    # And the charge is succeeded
    assert ChargeItem.get(keys.account_pk(world["account"]), keys.charge_sk(charge["payment_id"])).status == "succeeded"


# --- webhooks ---------------------------------------------------------------------------------------------------------
def test_a_signed_event_settles_once_and_its_duplicates_change_nothing(world, invoke):
    # Given an issued invoice of R$ 49,90
    invoice = given_issued_invoice(world["account"], 4990)
    event = succeeded(invoice)
    # When the same delivery arrives three times
    answers = [answer(invoke("webhooks", event)) for _ in range(3)]
    # Then the first settles and the others are 200 duplicates; one payment, one invoice.paid
    assert [a[1]["outcome"] for a in answers] == ["settled", "duplicate", "duplicate"]
    assert invoice_item(world["account"], invoice.invoice_id).status == "paid"
    payments_made = list(PaymentItem.query(keys.account_pk(world["account"]), PaymentItem.sk.startswith("PAYMENT#")))
    assert len(payments_made) == 1
    assert outbox_types(world["account"]).count("invoice.paid") == 1
    # And a new event id for the same PaymentIntent (a redelivery with another id) changes nothing either
    assert answer(invoke("webhooks", succeeded(invoice)))[0] == 200
    assert invoice_item(world["account"], invoice.invoice_id).amount_paid == 4990


def test_bad_signatures_are_401_and_write_nothing_an_unreadable_body_is_400(world, invoke, ddb_calls):
    # Given an issued invoice and a correctly signed event
    invoice = given_issued_invoice(world["account"], 4990)
    body = json.dumps(
        intent_event(
            "payment_intent.succeeded",
            intent_id="pi_x",
            amount=4990,
            invoice_id=invoice.invoice_id,
            account_id=world["account"],
        )
    )
    stale = stripe_header(body, timestamp=1_700_000_000)
    tampered = body.replace("4990", "9990", 1)
    cases = {
        "missing": stripe_webhook(body, header=""),
        "wrong secret": stripe_webhook(body, header=stripe_header(body, secret="whsec_other")),
        "stale": stripe_webhook(body, header=stale),
        "tampered body": stripe_webhook(tampered, header=stripe_header(body)),
        "v0 only": stripe_webhook(body, header=stripe_header(body).replace("v1=", "v0=")),
        "mercadopago": mercadopago_webhook("123", secret="mp_other"),
    }
    for label, event in cases.items():
        # When each arrives
        with ddb_calls() as calls:
            response = invoke("webhooks", event)
        # Then 401 unauthorized, and no write reached DynamoDB
        assert response["statusCode"] == 401, label
        assert json_body(response)["error"]["code"] == "unauthorized"
        writes = [op for op in calls.operations if op not in ("GetItem", "Query", "BatchGetItem", "TransactGetItems")]
        assert writes == [], f"{label}: {calls.operations}"
    # And an unparseable but signed body is 400
    garbage = "{not json"
    response = invoke("webhooks", stripe_webhook(garbage, header=stripe_header(garbage)))
    assert response["statusCode"] == 400 and json_body(response)["error"]["code"] == "bad_request"
    assert invoice_item(world["account"], invoice.invoice_id).status == "issued"


def test_amounts_decide_partial_paid_and_excess_to_credit(world, invoke):
    # Given two invoices of R$ 100,00
    short = given_issued_invoice(world["account"], 10000)
    over = given_issued_invoice(world["account"], 10000)
    # When R$ 40,00 arrives for one and R$ 130,00 for the other (currency upper-case: compared case-insensitively)
    invoke("webhooks", succeeded(short, 4000, intent="pi_short"))
    invoke("webhooks", succeeded(over, 13000, intent="pi_over", currency="BRL"))
    # Then the first is partially paid, the second paid with R$ 30,00 to credit
    first = invoice_item(world["account"], short.invoice_id)
    assert (first.status, first.amount_due) == ("partially_paid", 6000)
    assert invoice_item(world["account"], over.invoice_id).status == "paid"
    assert ledger_sum(world["account"]) == 3000
    # And an excess on an open invoice is not flagged
    assert flags() == []


def test_a_payment_for_a_paid_or_cancelled_invoice_becomes_credit_and_is_flagged(world, invoke):
    # Given a paid invoice and a cancelled add-funds invoice
    paid = given_issued_invoice(world["account"], 4990)
    invoke("webhooks", succeeded(paid, intent="pi_first"))
    funds = invoices().add_funds(world["account"], _brl(5000))
    world["clock"].advance(days=8)
    assert invoices().cancel_unpaid_funds()["cancelled"] == 1
    # When a second card payment arrives for the paid one and a payment for the cancelled one
    invoke("webhooks", succeeded(paid, intent="pi_second"))
    invoke("webhooks", succeeded(funds, intent="pi_late"))
    # Then both amounts are credit (overpayment, late payment) and each is flagged for staff
    assert ledger_sum(world["account"]) == 4990 + 5000
    kinds = sorted(f.kind for f in flags())
    assert kinds == ["late_payment", "overpayment"]
    assert invoice_item(world["account"], funds.invoice_id).status == "cancelled"


def test_unknown_invoices_and_other_currencies_are_answered_200_flagged_and_not_applied(world, invoke):
    # Given an invoice in reais
    invoice = given_issued_invoice(world["account"], 4990)
    # When an event names an unknown invoice, and another pays in euros
    unknown = intent_event(
        "payment_intent.succeeded",
        intent_id="pi_unknown",
        amount=100,
        invoice_id="01JUNKNOWN00000000000000000",
        account_id=world["account"],
    )
    status_unknown, _ = answer(invoke("webhooks", stripe_webhook(unknown)))
    status_eur, body = answer(invoke("webhooks", succeeded(invoice, currency="eur", intent="pi_eur")))
    # Then both are 200, flagged, and nothing was applied
    assert (status_unknown, status_eur, body["outcome"]) == (200, 200, "flagged")
    assert sorted(f.kind for f in flags()) == ["currency_mismatch", "unknown_invoice"]
    assert invoice_item(world["account"], invoice.invoice_id).amount_due == 4990
    # And staff can list the flags
    response = call(invoke, "payments", "GET", "/api/staff/payment-flags", world["staff"])
    assert response["statusCode"] == 200 and len(json_body(response)["items"]) == 2


def test_mercadopago_amounts_come_from_its_payment_api_not_the_notification(world, invoke):
    # Given a PIX charge of R$ 49,90 whose provider payment records R$ 20,00 paid
    invoice = given_issued_invoice(world["account"], 4990)
    charge = json_body(pay(invoke, world, invoice.invoice_id, "pix"))
    ref = ChargeItem.get(keys.account_pk(world["account"]), keys.charge_sk(charge["payment_id"])).provider_ref
    sandbox.settle(ref, "paid", _brl(2000))
    # When a notification arrives whose body claims another amount (the body carries only data.id anyway)
    forged = json.dumps({"id": "777", "type": "payment", "data": {"id": ref}, "transaction_amount": 4990})
    status, body = answer(invoke("webhooks", mercadopago_webhook(ref, body=forged)))
    # Then the recorded payment's amount is what counts: partially paid
    assert (status, body["outcome"]) == (200, "settled")
    assert invoice_item(world["account"], invoice.invoice_id).amount_due == 2990


def test_sepa_processing_pauses_then_a_failure_releases_and_emails_and_a_late_failure_reverses(world, invoke):
    # Given a Spanish invoice of 12,90 € (with IVA: 15,61 €) and a saved SEPA mandate
    eur = given_issued_invoice(world["spanish"], 1290, currency="EUR")
    owner = world["spanish_owner"]
    saved = call(
        invoke,
        "payments",
        "POST",
        f"/api/accounts/{world['spanish']}/payment-methods",
        owner,
        resource=f"{ACCOUNT}/payment-methods",
        body={"type": "sepa", "iban": "ES9121000418450200051332"},
    )
    assert saved["statusCode"] == 201, saved["body"]
    assert json_body(saved)["mandate_status"] == "active" and json_body(saved)["default"] is True
    # When the owner pays by SEPA: the debit is presented (processing)
    charge = json_body(pay(invoke, world, eur.invoice_id, "sepa", account=world["spanish"], caller=owner))
    # Then the invoice is payment_pending (dunning pauses) and the mandate is shown
    assert charge["sepa"]["mandate_status"] == "active" and charge["sepa"]["mandate_reference"].startswith("BALCAO-")
    assert invoice_item(world["spanish"], eur.invoice_id).status == "payment_pending"
    ref = ChargeItem.get(keys.account_pk(world["spanish"]), keys.charge_sk(charge["payment_id"])).provider_ref
    # When the debit fails
    failed = intent_event(
        "payment_intent.payment_failed",
        intent_id=ref,
        amount=eur.total.amount,
        currency="eur",
        method="sepa_debit",
        error_code="insufficient_funds",
    )
    invoke("webhooks", stripe_webhook(failed, provider="sandbox"))
    # Then the invoice is issued again and "payment failed" is announced
    assert invoice_item(world["spanish"], eur.invoice_id).status == "issued"
    assert "payment.failed" in outbox_types(world["spanish"])
    # When another debit succeeds and then fails (a return after success)
    second = json_body(pay(invoke, world, eur.invoice_id, "sepa", account=world["spanish"], caller=owner))
    ref2 = ChargeItem.get(keys.account_pk(world["spanish"]), keys.charge_sk(second["payment_id"])).provider_ref
    ok = intent_event(
        "payment_intent.succeeded", intent_id=ref2, amount=eur.total.amount, currency="eur", method="sepa_debit"
    )
    invoke("webhooks", stripe_webhook(ok, provider="sandbox"))
    assert invoice_item(world["spanish"], eur.invoice_id).status == "paid"
    late = intent_event(
        "payment_intent.payment_failed", intent_id=ref2, amount=eur.total.amount, currency="eur", method="sepa_debit"
    )
    status, body = answer(invoke("webhooks", stripe_webhook(late, provider="sandbox")))
    # Then it is reversed: the invoice is issued again with its whole amount due, the charge charged back
    assert (status, body["outcome"]) == (200, "reversed")
    item = invoice_item(world["spanish"], eur.invoice_id)
    assert (item.status, item.amount_due) == ("issued", eur.total.amount)
    assert (
        ChargeItem.get(keys.account_pk(world["spanish"]), keys.charge_sk(second["payment_id"])).status == "charged_back"
    )


def test_a_dispute_takes_back_the_credit_first_and_the_rest_is_due_again(world, invoke):
    # Given an invoice of R$ 100,00 paid with R$ 130,00 (R$ 30,00 credit), R$ 20,00 of which was spent since
    invoice = given_issued_invoice(world["account"], 10000)
    invoke("webhooks", succeeded(invoice, 13000, intent="pi_d"))
    invoices().add_credit(world["account"], _brl(-2000), "Spent")
    # When the whole payment is disputed
    status, body = answer(
        invoke("webhooks", stripe_webhook(charge_event("charge.dispute.created", intent_id="pi_d", amount=13000)))
    )
    # Then the R$ 10,00 left of the credit is taken back (never below zero), and the invoice owes the rest
    assert (status, body["outcome"]) == (200, "reversed")
    assert CreditBalanceItem.get(keys.account_pk(world["account"]), keys.CREDIT_BALANCE).amount == 0
    assert ledger_sum(world["account"]) == 0
    item = invoice_item(world["account"], invoice.invoice_id)
    assert (item.status, item.amount_due) == ("issued", 10000)
    payment = next(iter(PaymentItem.query(keys.account_pk(world["account"]), PaymentItem.sk.startswith("PAYMENT#"))))
    assert (payment.status, payment.amount_reversed) == ("charged_back", 13000)
    assert "invoice.payment_reversed" in outbox_types(world["account"])
    # And the R$ 20,00 of spent credit neither the balance nor the invoice (never above its total) can take back
    # is flagged for staff
    assert [f.kind for f in flags()] == ["reversal_uncovered"]
    # And the same dispute again changes nothing
    again = charge_event("charge.dispute.created", intent_id="pi_d", amount=13000)
    assert answer(invoke("webhooks", stripe_webhook(again)))[1]["outcome"] == "ignored"


def test_forward_only_a_processing_event_after_success_is_ignored(world, invoke):
    # Given a card invoice paid through its charge
    invoice = given_issued_invoice(world["account"], 4990)
    charge = json_body(pay(invoke, world, invoice.invoice_id, "card"))
    ref = ChargeItem.get(keys.account_pk(world["account"]), keys.charge_sk(charge["payment_id"])).provider_ref
    ok = intent_event("payment_intent.succeeded", intent_id=ref, amount=4990)
    invoke("webhooks", stripe_webhook(ok, provider="sandbox"))
    # When a late "processing" for the same intent arrives
    late = intent_event("payment_intent.processing", intent_id=ref, amount=4990)
    status, body = answer(invoke("webhooks", stripe_webhook(late, provider="sandbox")))
    # Then nothing moves back
    assert (status, body["outcome"]) == (200, "ignored")
    assert invoice_item(world["account"], invoice.invoice_id).status == "paid"
    assert ChargeItem.get(keys.account_pk(world["account"]), keys.charge_sk(charge["payment_id"])).status == "succeeded"


# --- staff refunds ----------------------------------------------------------------------------------------------------
def test_a_staff_refund_needs_an_idempotency_key_goes_through_the_provider_once_and_reopens_the_invoice(world, invoke):
    # Given an invoice paid by card through its charge
    invoice = given_issued_invoice(world["account"], 4990)
    charge = json_body(pay(invoke, world, invoice.invoice_id, "card"))
    ref = ChargeItem.get(keys.account_pk(world["account"]), keys.charge_sk(charge["payment_id"])).provider_ref
    invoke(
        "webhooks",
        stripe_webhook(intent_event("payment_intent.succeeded", intent_id=ref, amount=4990), provider="sandbox"),
    )
    payment_id = invoice_item(world["account"], invoice.invoice_id).payments[0]["payment_id"]
    route = "/api/staff/invoices/{invoice_id}/refunds"
    path = f"/api/staff/invoices/{invoice.invoice_id}/refunds"
    body = {"payment_id": payment_id, "amount": {"amount": 1990, "currency": "BRL"}, "reason": "Cobrança indevida"}
    # When staff refund without a key, then with one, twice
    without = call(invoke, "payments", "POST", path, world["staff"], resource=route, body=body)
    first = call(
        invoke, "payments", "POST", path, world["staff"], resource=route, body=body, headers={"Idempotency-Key": "r-1"}
    )
    again = call(
        invoke, "payments", "POST", path, world["staff"], resource=route, body=body, headers={"Idempotency-Key": "r-1"}
    )
    # Then 422 without a key; 201 once, the replay answers the same refund
    assert without["statusCode"] == 422
    assert first["statusCode"] == 201, first["body"]
    assert json_body(again)["refund_id"] == json_body(first)["refund_id"]
    # And the invoice owes the refunded R$ 19,90 again, partially paid
    item = invoice_item(world["account"], invoice.invoice_id)
    assert (item.status, item.amount_due) == ("partially_paid", 1990)
    # And the provider's own charge.refunded event afterwards changes nothing
    refunded = charge_event("charge.refunded", intent_id=ref, amount=1990)
    assert answer(invoke("webhooks", stripe_webhook(refunded, provider="sandbox")))[1]["outcome"] == "ignored"
    assert invoice_item(world["account"], invoice.invoice_id).amount_due == 1990


# --- saved methods and jobs ------------------------------------------------------------------------------------------
def test_saved_methods_default_per_account_and_per_service_then_removed(world, invoke):
    owner, account = world["owner"], world["account"]
    route = f"{ACCOUNT}/payment-methods"

    def add(card):
        response = call(
            invoke,
            "payments",
            "POST",
            f"/api/accounts/{account}/payment-methods",
            owner,
            resource=route,
            body={"type": "card", "provider_payment_method": card},
        )
        assert response["statusCode"] == 201, response["body"]
        return json_body(response)

    # Given two saved cards
    visa = add("pm_card_visa")
    master = add("pm_card_mastercard")
    # Then the first is the account's default
    assert (visa["default"], master["default"], visa["last4"], visa["brand"]) == (True, False, "4242", "visa")
    # When the second becomes the default for a service of the account
    hosting = given_service(account, "anasouza.com.br")

    def for_services(service_ids):
        return call(
            invoke,
            "payments",
            "PATCH",
            f"/api/accounts/{account}/payment-methods/{master['payment_method_id']}",
            owner,
            resource=f"{route}/{{payment_method_id}}",
            body={"service_ids": service_ids},
        )

    patched = for_services([hosting])
    assert json_body(patched)["service_ids"] == [hosting]
    # But a service of another account (or none at all) is refused on the field
    for foreign in (given_service(world["spanish"], "estudio.es"), "NO-SUCH-SERVICE"):
        refused = for_services([hosting, foreign])
        assert refused["statusCode"] == 422 and json_body(refused)["error"]["fields"][0]["field"] == "service_ids"
    # And the first is removed
    removed = call(
        invoke,
        "payments",
        "DELETE",
        f"/api/accounts/{account}/payment-methods/{visa['payment_method_id']}",
        owner,
        resource=f"{route}/{{payment_method_id}}",
    )
    assert removed["statusCode"] == 204
    listing = json_body(
        call(invoke, "payments", "GET", f"/api/accounts/{account}/payment-methods", owner, resource=route)
    )
    assert [m["payment_method_id"] for m in listing["items"]] == [master["payment_method_id"]]
    # And an unknown test card is refused
    bad = call(
        invoke,
        "payments",
        "POST",
        f"/api/accounts/{account}/payment-methods",
        owner,
        resource=route,
        body={"type": "card", "provider_payment_method": "pm_card_unknown"},
    )
    assert bad["statusCode"] == 422


def test_autocharge_charges_saved_cards_on_the_due_date_retries_and_emails_failures(world, invoke):
    owner, account = world["owner"], world["account"]
    route = f"{ACCOUNT}/payment-methods"
    # Given a declining saved card (default) and an invoice due today
    call(
        invoke,
        "payments",
        "POST",
        f"/api/accounts/{account}/payment-methods",
        owner,
        resource=route,
        body={"type": "card", "provider_payment_method": "pm_card_chargeDeclined"},
    )
    invoice = given_issued_invoice(account, 4990, due_date=date(2026, 11, 22))
    # When the job runs twice today
    first = invoke("payments_jobs", {"job": "autocharge"})
    second = invoke("payments_jobs", {"job": "autocharge"})
    # Then it tried once, failed, and "payment failed" was announced with a pay link
    assert first["counts"]["failed"] == 1 and second["counts"]["failed"] == 0
    failed = [
        i.event
        for i in OutboxItem.query(keys.account_pk(account), OutboxItem.sk.startswith("OUTBOX#"))
        if i.event["type"] == "payment.failed"
    ]
    assert failed and failed[0]["data"]["pay_url"].endswith(f"/invoices/{invoice.invoice_id}/pay")
    # When the card is replaced and three days pass (the first retry)
    for method in payments().methods(account):
        payments().remove_method(account, method.method_id)
    call(
        invoke,
        "payments",
        "POST",
        f"/api/accounts/{account}/payment-methods",
        owner,
        resource=route,
        body={"type": "card", "provider_payment_method": "pm_card_visa"},
    )
    world["clock"].advance(days=3)
    retried = invoke("payments_jobs", {"job": "autocharge"})
    # Then the retry charges it and the invoice is paid
    assert retried["counts"]["charged"] == 1
    assert invoice_item(account, invoice.invoice_id).status == "paid"


def test_card_expiry_notices_each_card_expiring_this_month_once(world, invoke):
    # Given a saved card expiring this month (stored as the provider reported it)
    from dataclasses import replace

    owner, account = world["owner"], world["account"]
    call(
        invoke,
        "payments",
        "POST",
        f"/api/accounts/{account}/payment-methods",
        owner,
        resource=f"{ACCOUNT}/payment-methods",
        body={"type": "card", "provider_payment_method": "pm_card_visa"},
    )
    [card] = payments().methods(account)
    payments().store.save_method(replace(card, exp_month=11, exp_year=2026))
    # When the monthly job runs twice
    first = invoke("payments_jobs", {"job": "card_expiry"})
    second = invoke("payments_jobs", {"job": "card_expiry"})
    # Then one notice
    assert (first["counts"]["notified"], second["counts"]["notified"]) == (1, 0)
    assert outbox_types(account).count("payment_method.expiring") == 1


# --- cancellation, fail closed, budgets ------------------------------------------------------------------------------
def test_cancelling_an_invoice_first_cancels_its_open_charges(world, invoke):
    # Given an add-funds invoice with an open PIX code
    funds = invoices().add_funds(world["account"], _brl(5000))
    charge = json_body(pay(invoke, world, funds.invoice_id, "pix"))
    ref = ChargeItem.get(keys.account_pk(world["account"]), keys.charge_sk(charge["payment_id"])).provider_ref
    # When it is cancelled unpaid
    world["clock"].advance(days=8)
    invoices().cancel_unpaid_funds()
    # Then the charge was cancelled at the provider and here
    assert sandbox.recorded(ref)["status"] == "cancelled"
    assert ChargeItem.get(keys.account_pk(world["account"]), keys.charge_sk(charge["payment_id"])).status == "cancelled"


def test_providers_without_keys_fail_closed_outside_the_local_stack(world, invoke, monkeypatch):
    from aws_lambda_powertools.utilities import parameters

    from balcao.runtime.settings import load_settings

    # Given a deployed-like stack (not local) and an empty Stripe secret
    invoice = given_issued_invoice(world["account"], 4990)
    secrets = boto3.client("secretsmanager")
    stripe_id = load_settings().stripe_secret_id
    secrets.put_secret_value(SecretId=stripe_id, SecretString="{}")
    parameters.clear_caches()
    monkeypatch.setenv("PAYMENTS_MODE", "providers")
    load_settings.cache_clear()
    try:
        # When a Stripe webhook arrives and the owner chooses PIX (no Mercado Pago access token)
        hook = invoke("webhooks", succeeded(invoice))
        method = pay(invoke, world, invoice.invoice_id, "pix")
        sandbox_hook = invoke(
            "webhooks",
            stripe_webhook(intent_event("payment_intent.succeeded", intent_id="x", amount=1), provider="sandbox"),
        )
    finally:
        secrets.put_secret_value(
            SecretId=stripe_id, SecretString=json.dumps({"webhook_secret": "whsec_balcao_local_only"})
        )
        parameters.clear_caches()
        monkeypatch.setenv("PAYMENTS_MODE", "local")
        load_settings.cache_clear()
    # Then 503 on the webhook, 422 on the method, and no sandbox at all
    assert hook["statusCode"] == 503 and json_body(hook)["error"]["code"] == "provider_unavailable"
    assert method["statusCode"] == 422
    assert sandbox_hook["statusCode"] == 404


def test_read_routes_stay_within_two_dynamodb_calls(world, invoke, ddb_calls):
    # Given a payment and a saved card
    invoice = given_issued_invoice(world["account"], 4990)
    charge = json_body(pay(invoke, world, invoice.invoice_id, "pix"))
    account, owner = world["account"], world["owner"]
    call(
        invoke,
        "payments",
        "POST",
        f"/api/accounts/{account}/payment-methods",
        owner,
        resource=f"{ACCOUNT}/payment-methods",
        body={"type": "card", "provider_payment_method": "pm_card_visa"},
    )
    # When the payment and the saved methods are read
    for path, resource in (
        (f"/api/accounts/{account}/payments/{charge['payment_id']}", f"{ACCOUNT}/payments/{{payment_id}}"),
        (f"/api/accounts/{account}/payment-methods", f"{ACCOUNT}/payment-methods"),
    ):
        with ddb_calls() as calls:
            response = call(invoke, "payments", "GET", path, owner, resource=resource)
        # Then each costs at most 2 calls (authorization included), no Scan
        assert response["statusCode"] == 200
        assert calls.total <= 2 and calls.scans == 0, calls


def test_other_accounts_payments_answer_404(world, invoke):
    # Given A's invoice
    invoice = given_issued_invoice(world["account"], 4990)
    # When B's owner tries to pay it through B's account
    response = pay(invoke, world, invoice.invoice_id, "pix", account=world["spanish"], caller=world["spanish_owner"])
    # Then 404
    assert response["statusCode"] == 404


def test_a_dedupe_item_outlives_the_providers_retries(world, invoke):
    # Given a handled event
    invoice = given_issued_invoice(world["account"], 4990)
    invoke("webhooks", succeeded(invoice, event_id="evt_ttl"))
    # Then its dedupe item lives at least the providers' retry window
    item = WebhookEventItem.get(keys.webhook_pk("stripe", "evt_ttl"), keys.WEBHOOK)
    assert item.ttl > 0 and item.kind == "succeeded"


# --- after payment: unsuspension -------------------------------------------------------------------------------------
def suspended_service(account_id: str) -> str:
    """A service suspended for ``overdue`` (as dunning leaves it), on the simulated control panel."""
    from balcao.adapters.dynamodb.models import ServiceItem
    from balcao.domain.ids import new_ulid
    from support.identity import NOW

    service_id = new_ulid()
    ServiceItem(
        pk=keys.account_pk(account_id),
        sk=keys.service_sk(service_id),
        service_id=service_id,
        account_id=account_id,
        name="Hospedagem Profissional",
        domain="lojadaana.com.br",
        status="suspended",
        reason="overdue",
        product_id="hosting-pro",
        cycle="monthly",
        price=4990,
        currency="BRL",
        username="lojadaan",
        created_at=NOW,
        revision=1,
    ).save()
    return service_id


def renewal_of(account_id: str, service_id: str, due: date):
    from balcao.domain.invoices import InvoiceKind, InvoiceLine

    service = invoices()
    buyer = service.store.buyer(account_id)
    line = InvoiceLine(
        "Hospedagem Profissional",
        1,
        _brl(4990),
        "hosting",
        service_id=service_id,
        period_start=due,
        period_end=due + (date(2026, 12, 1) - date(2026, 11, 1)),
    )
    draft = service.draft_for(account_id, InvoiceKind.RENEWAL, [line], buyer, due)
    return service.issue_new(draft, buyer=buyer)


def deliver_paid_events(invoke, account_id: str) -> None:
    """The invoice.paid events of the outbox, through the payments' event consumer (as the bus → queue would)."""
    import uuid as _uuid

    records = [
        {
            "messageId": str(_uuid.uuid4()),
            "receiptHandle": "r",
            "body": json.dumps({"detail": item.event}),
            "attributes": {},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "md5OfBody": "x",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:payments-events",
            "awsRegion": "eu-west-1",
        }
        for item in OutboxItem.query(keys.account_pk(account_id), OutboxItem.sk.startswith("OUTBOX#"))
        if item.event["type"] == "invoice.paid"
    ]
    answer = invoke("payments_events", {"Records": records})
    assert answer["batchItemFailures"] == []


def service_status(account_id: str, service_id: str) -> str:
    from balcao.adapters.dynamodb.models import ServiceItem

    return ServiceItem.get(keys.account_pk(account_id), keys.service_sk(service_id)).status


def test_paying_the_overdue_invoice_unsuspends_the_service(world, invoke):
    # Given a service suspended for overdue and its renewal invoice, overdue since the 10th
    account = world["account"]
    service_id = suspended_service(account)
    renewal = renewal_of(account, service_id, date(2026, 11, 10))
    # When the invoice is paid by PIX and the payment's consequences run
    invoke("webhooks", succeeded(renewal))
    deliver_paid_events(invoke, account)
    # Then the service is active again
    assert service_status(account, service_id) == "active"


def test_another_overdue_invoice_of_the_service_keeps_it_suspended(world, invoke):
    # Given a suspended service with two invoices past their suspension day
    account = world["account"]
    service_id = suspended_service(account)
    older = renewal_of(account, service_id, date(2026, 10, 10))
    renewal_of(account, service_id, date(2026, 11, 10))
    # When only the older one is paid
    invoke("webhooks", succeeded(older))
    deliver_paid_events(invoke, account)
    # Then the service stays suspended
    assert service_status(account, service_id) == "suspended"
