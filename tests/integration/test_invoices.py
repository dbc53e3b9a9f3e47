"""The billing routes with real events: money first (settlement, credit ledger and balance, credit notes, numbers),
then permissions and read budgets, then the customer's and staff's routes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import (
    CreditBalanceItem,
    InvoiceItem,
    LookupItem,
    PaymentItem,
    SequenceItem,
    SummaryItem,
)
from balcao.adapters.s3 import invoice_pdf_key
from balcao.domain.accounts import ALL_PERMISSIONS, Permission
from balcao.runtime.invoices_composition import invoices
from support.billing import ledger_sum
from support.events import api_event, header, json_body
from support.identity import given_account, given_member, given_session, given_staff

ACCOUNT_ROUTE = "/api/accounts/{account_id}"


def call(invoke, method, path, caller, *, resource=None, body=None, headers=None, query=None):
    return invoke(
        "billing",
        api_event(method, path, resource=resource, body=body, claims=caller.claims, headers=headers, query=query),
    )


@pytest.fixture
def world(aws):
    owner = given_session("owner-a", "a@example.com")
    account = given_account(owner.user_id, email=owner.email)
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
    }


def staff_invoice(invoke, world, *, amount=10000, issue=True, account=None, currency="BRL", headers=None, **extra):
    body = {
        "account_id": account or world["account"],
        "issue": issue,
        "lines": [{"description": "Hospedagem Profissional", "unit_price": {"amount": amount, "currency": currency}}],
        **extra,
    }
    response = call(invoke, "POST", "/api/staff/invoices", world["staff"], body=body, headers=headers)
    assert response["statusCode"] == 201, response["body"]
    return json_body(response)


def pay(invoke, world, invoice_id, amount, currency="BRL", **extra):
    return call(
        invoke,
        "POST",
        f"/api/staff/invoices/{invoice_id}/payments",
        world["staff"],
        resource="/api/staff/invoices/{invoice_id}/payments",
        body={"amount": {"amount": amount, "currency": currency}, **extra},
    )


def credit_view(invoke, world, account=None, caller=None):
    account = account or world["account"]
    response = call(
        invoke, "GET", f"/api/accounts/{account}/credit", caller or world["owner"], resource=f"{ACCOUNT_ROUTE}/credit"
    )
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)


def summary(account_id):
    return SummaryItem.get(keys.account_pk(account_id), keys.SUMMARY)


# --- money: settlement and credit -----------------------------------------------------------------------------------
def test_a_partial_then_an_overpaying_payment_settle_the_invoice_and_credit_the_excess(world, invoke):
    # Given an issued invoice of R$ 100,00
    invoice = staff_invoice(invoke, world)
    assert summary(world["account"]).due_brl == 10000
    # When R$ 40,00 and then R$ 70,00 arrive
    first = pay(invoke, world, invoice["invoice_id"], 4000, reference="TED-1")
    second = pay(invoke, world, invoice["invoice_id"], 7000, reference="TED-2")
    # Then the invoice is partially paid, then paid, and R$ 10,00 went to credit
    assert json_body(first)["invoice"]["status"] == "partially_paid"
    assert json_body(first)["invoice"]["amount_due"] == {"amount": 6000, "currency": "BRL"}
    paid = json_body(second)
    assert paid["applied"]["amount"] == 6000 and paid["credited"]["amount"] == 1000
    assert paid["invoice"]["status"] == "paid" and paid["invoice"]["amount_due"]["amount"] == 0
    credit = credit_view(invoke, world)
    assert credit["balance"] == {"amount": 1000, "currency": "BRL"}
    assert [(e["kind"], e["amount"]["amount"]) for e in credit["items"]] == [("overpayment", 1000)]
    # And the balance is the ledger's sum; the summary follows, in the same transactions
    assert ledger_sum(world["account"]) == 1000
    item = summary(world["account"])
    assert (item.due_brl, item.invoices_issued, item.invoices_partially_paid, item.invoices_paid) == (0, 0, 0, 1)
    assert len(list(PaymentItem.query(keys.account_pk(world["account"]), PaymentItem.sk.startswith("PAYMENT#")))) == 2


def test_a_payment_is_settled_once_per_source_and_reference(world, invoke):
    # Given an issued invoice of R$ 100,00
    invoice = staff_invoice(invoke, world)
    # When the same transfer is recorded twice
    first = json_body(pay(invoke, world, invoice["invoice_id"], 4000, reference="PIX-E2E-1"))
    again = json_body(pay(invoke, world, invoice["invoice_id"], 4000, reference="PIX-E2E-1"))
    # Then the second is the first payment again and nothing changed
    assert again["duplicate"] is True and again["payment_id"] == first["payment_id"]
    assert again["invoice"]["amount_due"]["amount"] == 6000
    assert (
        LookupItem.get(keys.provider_payment_pk("staff", "PIX-E2E-1"), keys.LOOKUP).target["payment_id"]
        == first["payment_id"]
    )


def test_a_payment_in_another_currency_is_refused_and_changes_nothing(world, invoke):
    # Given an invoice in reais
    # When a payment in euros is recorded
    invoice = staff_invoice(invoke, world)
    response = pay(invoke, world, invoice["invoice_id"], 10000, currency="EUR")
    # Then it is refused with 422 and the amount due did not move
    assert response["statusCode"] == 422 and json_body(response)["error"]["code"] == "validation_error"
    assert (
        InvoiceItem.get(keys.account_pk(world["account"]), keys.invoice_sk(invoice["invoice_id"])).amount_due == 10000
    )


def test_credit_pays_new_invoices_automatically_unless_the_account_opts_out(world, invoke):
    # Given R$ 30,00 of credit
    staff = world["staff"]
    adjust = call(
        invoke,
        "POST",
        f"/api/staff/accounts/{world['account']}/credit",
        staff,
        resource="/api/staff/accounts/{account_id}/credit",
        body={"amount": {"amount": 3000, "currency": "BRL"}, "note": "Cortesia"},
    )
    assert adjust["statusCode"] == 201 and json_body(adjust)["kind"] == "manual"
    # When an invoice of R$ 100,00 is issued
    invoice = staff_invoice(invoke, world)
    # Then the credit pays R$ 30,00 of it at once
    assert invoice["status"] == "partially_paid" and invoice["amount_due"]["amount"] == 7000
    assert [(p["method"], p["amount"]["amount"]) for p in invoice["payments"]] == [("credit", 3000)]
    credit = credit_view(invoke, world)
    assert credit["balance"]["amount"] == 0 and [e["kind"] for e in credit["items"]] == ["applied", "manual"]
    assert ledger_sum(world["account"]) == 0
    # And once the account opts out, credit stays where it is
    call(
        invoke,
        "POST",
        f"/api/staff/accounts/{world['account']}/credit",
        staff,
        resource="/api/staff/accounts/{account_id}/credit",
        body={"amount": {"amount": 500, "currency": "BRL"}, "note": "Ajuste"},
    )
    opted = call(
        invoke,
        "PATCH",
        f"/api/accounts/{world['account']}/credit",
        world["owner"],
        resource=f"{ACCOUNT_ROUTE}/credit",
        body={"auto_apply": False},
    )
    assert opted["statusCode"] == 200 and json_body(opted)["auto_apply"] is False
    assert staff_invoice(invoke, world)["amount_due"]["amount"] == 10000
    assert credit_view(invoke, world)["balance"]["amount"] == 500


def test_credit_never_goes_negative(world, invoke):
    # Given R$ 10,00 of credit
    staff = world["staff"]
    path, resource = f"/api/staff/accounts/{world['account']}/credit", "/api/staff/accounts/{account_id}/credit"
    call(
        invoke,
        "POST",
        path,
        staff,
        resource=resource,
        body={"amount": {"amount": 1000, "currency": "BRL"}, "note": "Bônus"},
    )
    # When staff take back more than the balance
    refused = call(
        invoke,
        "POST",
        path,
        staff,
        resource=resource,
        body={"amount": {"amount": -1500, "currency": "BRL"}, "note": "Estorno"},
    )
    # Then it is refused and neither the ledger nor the balance moved
    assert refused["statusCode"] == 409
    assert CreditBalanceItem.get(keys.account_pk(world["account"]), keys.CREDIT_BALANCE).amount == 1000
    assert ledger_sum(world["account"]) == 1000
    taken = call(
        invoke,
        "POST",
        path,
        staff,
        resource=resource,
        body={"amount": {"amount": -1000, "currency": "BRL"}, "note": "Estorno"},
    )
    assert taken["statusCode"] == 201 and credit_view(invoke, world)["balance"]["amount"] == 0


def test_a_payment_for_a_cancelled_invoice_becomes_late_payment_credit(world, invoke):
    # Given an invoice cancelled by a full credit note
    # When a payment for it arrives
    invoice = staff_invoice(invoke, world)
    note = call(
        invoke,
        "POST",
        f"/api/staff/invoices/{invoice['invoice_id']}/credit-notes",
        world["staff"],
        resource="/api/staff/invoices/{invoice_id}/credit-notes",
        body={"reason": "Pedido cancelado"},
    )
    # Then the invoice stays cancelled and the whole payment is late-payment credit
    assert note["statusCode"] == 201 and json_body(note)["number"] == "CN-2026-000001"
    response = json_body(pay(invoke, world, invoice["invoice_id"], 10000))
    assert response["invoice"]["status"] == "cancelled" and response["credited"]["amount"] == 10000
    assert [e["kind"] for e in credit_view(invoke, world)["items"]] == ["late_payment"]


def test_credit_notes_reduce_what_is_due_and_credit_what_was_paid(world, invoke):
    # Given an invoice of two lines (R$ 100,00 and R$ 20,00), paid in full
    body = {
        "account_id": world["account"],
        "issue": True,
        "lines": [
            {"description": "Hospedagem", "unit_price": {"amount": 10000, "currency": "BRL"}},
            {"description": "Backup", "quantity": 2, "unit_price": {"amount": 1000, "currency": "BRL"}},
        ],
    }
    invoice = json_body(call(invoke, "POST", "/api/staff/invoices", world["staff"], body=body))
    pay(invoke, world, invoice["invoice_id"], 12000)
    # When one backup unit is credited
    note = json_body(
        call(
            invoke,
            "POST",
            f"/api/staff/invoices/{invoice['invoice_id']}/credit-notes",
            world["staff"],
            resource="/api/staff/invoices/{invoice_id}/credit-notes",
            body={"lines": [{"line": 1, "quantity": 1}], "reason": "Backup cobrado a mais"},
        )
    )
    # Then the credit note is numbered in its own series, the invoice lists it and its amount became credit
    assert note["number"] == "CN-2026-000001" and note["invoice_reference"] == invoice["number"]
    assert note["total"]["amount"] == 1000
    detail = json_body(
        call(
            invoke,
            "GET",
            f"/api/accounts/{world['account']}/invoices/{invoice['invoice_id']}",
            world["owner"],
            resource=f"{ACCOUNT_ROUTE}/invoices/{{invoice_id}}",
        )
    )
    assert [n["number"] for n in detail["credit_notes"]] == ["CN-2026-000001"] and detail["status"] == "paid"
    assert credit_view(invoke, world)["balance"]["amount"] == 1000
    # And crediting more than is left is refused
    too_much = call(
        invoke,
        "POST",
        f"/api/staff/invoices/{invoice['invoice_id']}/credit-notes",
        world["staff"],
        resource="/api/staff/invoices/{invoice_id}/credit-notes",
        body={"lines": [{"line": 0, "quantity": 1}, {"line": 1, "quantity": 2}], "reason": "Tudo"},
    )
    assert too_much["statusCode"] == 422


# --- money: numbers -------------------------------------------------------------------------------------------------
def test_numbers_follow_the_series_and_drafts_have_none(world, invoke):
    # Given a draft and an invoice issued at once
    # When the draft is issued
    draft = staff_invoice(invoke, world, issue=False)
    first = staff_invoice(invoke, world)
    issued = json_body(
        call(
            invoke,
            "POST",
            f"/api/staff/invoices/{draft['invoice_id']}/issue",
            world["staff"],
            resource="/api/staff/invoices/{invoice_id}/issue",
        )
    )
    # Then numbers follow in issue order, the sequence holds the last one and the chain links the records
    assert draft["number"] is None and draft["status"] == "draft"
    assert (first["number"], issued["number"]) == ("INV-2026-000001", "INV-2026-000002")
    sequence = SequenceItem.get(keys.sequence_pk("INV-2026-{number:06d}"), keys.SEQUENCE)
    second = InvoiceItem.get(keys.account_pk(world["account"]), keys.invoice_sk(issued["invoice_id"]))
    assert sequence.last == 2 and sequence.chain_head == second.record_hash
    assert (
        second.previous_hash
        == InvoiceItem.get(keys.account_pk(world["account"]), keys.invoice_sk(first["invoice_id"])).record_hash
    )
    assert (
        LookupItem.get(keys.invoice_number_lookup_pk("INV-2026-000002"), keys.LOOKUP).target["invoice_id"]
        == draft["invoice_id"]
    )


def test_a_series_numbered_at_payment_numbers_an_invoice_only_when_it_is_paid(world, invoke):
    # Given the invoice series numbered at payment
    # When an invoice is issued, paid in part, then in full
    settings = call_settings(invoke, world, {"invoices": {"invoice_series": {"number_at": "payment"}}})
    # Then it gets its number only with the payment that settles it
    assert settings["statusCode"] == 200, settings["body"]
    invoice = staff_invoice(invoke, world)
    assert invoice["status"] == "issued" and invoice["number"] is None
    partly = json_body(pay(invoke, world, invoice["invoice_id"], 5000))
    assert partly["invoice"]["number"] is None
    paid = json_body(pay(invoke, world, invoice["invoice_id"], 5000))
    assert paid["invoice"]["number"] == "INV-2026-000001"


def call_settings(invoke, world, patch):
    return invoke(
        "settings", api_event("PATCH", "/api/staff/settings", body=patch, claims=given_staff("staff_admin").claims)
    )


# --- permissions ----------------------------------------------------------------------------------------------------
def test_another_accounts_invoice_pdf_and_credit_answer_404(world, invoke):
    # Given an invoice of account A and a signed-in stranger with an account of their own
    # When the stranger reads A's invoices, invoice, PDF and credit
    invoice = staff_invoice(invoke, world)
    stranger = given_session("stranger", "stranger@example.com")
    given_account(stranger.user_id, name="Outra", email=stranger.email)
    account, invoice_id = world["account"], invoice["invoice_id"]
    # Then every answer is 404 without A's data
    for path, resource in (
        (f"/api/accounts/{account}/invoices/{invoice_id}", f"{ACCOUNT_ROUTE}/invoices/{{invoice_id}}"),
        (f"/api/accounts/{account}/invoices/{invoice_id}/pdf", f"{ACCOUNT_ROUTE}/invoices/{{invoice_id}}/pdf"),
        (f"/api/accounts/{account}/credit", f"{ACCOUNT_ROUTE}/credit"),
        (f"/api/accounts/{account}/invoices", f"{ACCOUNT_ROUTE}/invoices"),
    ):
        response = call(invoke, "GET", path, stranger, resource=resource)
        assert response["statusCode"] == 404 and invoice_id not in response["body"], path


def test_a_member_without_the_invoices_permission_gets_404_and_customers_cannot_use_staff_routes(world, invoke):
    # Given a member holding every permission but invoices, a customer and a support agent
    # When they call an invoice and the staff invoice route
    invoice = staff_invoice(invoke, world)
    helper = given_session("helper", "helper@example.com")
    given_member(world["account"], helper.user_id, set(ALL_PERMISSIONS) - {Permission.INVOICES})
    response = call(
        invoke,
        "GET",
        f"/api/accounts/{world['account']}/invoices/{invoice['invoice_id']}",
        helper,
        resource=f"{ACCOUNT_ROUTE}/invoices/{{invoice_id}}",
    )
    # Then the member gets 404; the customer and support get 403
    assert response["statusCode"] == 404
    body = {
        "account_id": world["account"],
        "lines": [{"description": "x", "unit_price": {"amount": 1, "currency": "BRL"}}],
    }
    assert call(invoke, "POST", "/api/staff/invoices", world["owner"], body=body)["statusCode"] == 403
    assert call(invoke, "POST", "/api/staff/invoices", given_staff("staff_support"), body=body)["statusCode"] == 403


def test_read_routes_stay_within_two_dynamodb_calls(world, invoke, ddb_calls):
    # Given a paid invoice and some credit, and warm containers (settings cached)
    # When each read route is called
    invoice = staff_invoice(invoke, world)
    pay(invoke, world, invoice["invoice_id"], 12000)  # some credit too
    account, invoice_id = world["account"], invoice["invoice_id"]
    routes = (
        (f"/api/accounts/{account}/invoices", f"{ACCOUNT_ROUTE}/invoices", {"status": "paid"}),
        (f"/api/accounts/{account}/invoices/{invoice_id}", f"{ACCOUNT_ROUTE}/invoices/{{invoice_id}}", None),
        (f"/api/accounts/{account}/invoices/{invoice_id}/pdf", f"{ACCOUNT_ROUTE}/invoices/{{invoice_id}}/pdf", None),
        (f"/api/accounts/{account}/credit", f"{ACCOUNT_ROUTE}/credit", None),
    )
    # Then each costs at most two DynamoDB calls, the authorization included, and no Scan
    for path, resource, query in routes:
        call(invoke, "GET", path, world["owner"], resource=resource, query=query)  # warm: settings cached
        with ddb_calls() as calls:
            response = call(invoke, "GET", path, world["owner"], resource=resource, query=query)
        assert response["statusCode"] in (200, 302), response["body"]
        assert calls.total <= 2 and calls.scans == 0, (path, calls)


# --- the customer's routes ------------------------------------------------------------------------------------------
def test_the_list_filters_by_status_pages_and_carries_the_total_due(world, invoke):
    # Given three invoices, one of them paid
    ids = [staff_invoice(invoke, world, amount=1000 * n)["invoice_id"] for n in (1, 2, 3)]
    pay(invoke, world, ids[0], 1000)
    path, resource = f"/api/accounts/{world['account']}/invoices", f"{ACCOUNT_ROUTE}/invoices"

    def listing(**query):
        response = call(
            invoke, "GET", path, world["owner"], resource=resource, query={k: str(v) for k, v in query.items()}
        )
        assert response["statusCode"] == 200, response["body"]
        return json_body(response)

    # Then unpaid lists the open two, newest first, with the total still due
    unpaid = listing(status="unpaid")
    assert [i["invoice_id"] for i in unpaid["items"]] == [ids[2], ids[1]]
    assert unpaid["total_due"] == [{"amount": 5000, "currency": "BRL"}]
    assert [i["invoice_id"] for i in listing(status="paid")["items"]] == [ids[0]]
    # And pages of one carry on to the end, each with the total due
    seen, cursor = [], None
    while True:
        page = listing(limit=1, **({"cursor": cursor} if cursor else {}))
        seen += [i["invoice_id"] for i in page["items"]]
        assert page["total_due"] == [{"amount": 5000, "currency": "BRL"}]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    # And a cursor of another list, or a draft status, is refused
    assert (
        call(invoke, "GET", path, world["owner"], resource=resource, query={"cursor": "bm90LWEtY3Vyc29y"})["statusCode"]
        == 422
    )
    assert call(invoke, "GET", path, world["owner"], resource=resource, query={"status": "draft"})["statusCode"] == 422


def test_drafts_are_invisible_to_the_customer(world, invoke):
    # Given a staff draft
    # When the customer reads it
    draft = staff_invoice(invoke, world, issue=False)
    response = call(
        invoke,
        "GET",
        f"/api/accounts/{world['account']}/invoices/{draft['invoice_id']}",
        world["owner"],
        resource=f"{ACCOUNT_ROUTE}/invoices/{{invoice_id}}",
    )
    # Then it answers 404
    assert response["statusCode"] == 404


def test_the_pdf_redirects_to_a_short_lived_url_of_a_fresh_encrypted_object(world, invoke):
    # Given an issued invoice
    # When the customer downloads its PDF
    invoice = staff_invoice(invoke, world)
    path = f"/api/accounts/{world['account']}/invoices/{invoice['invoice_id']}/pdf"
    response = call(invoke, "GET", path, world["owner"], resource=f"{ACCOUNT_ROUTE}/invoices/{{invoice_id}}/pdf")
    # Then the answer redirects to a URL valid 300 s at most, to an encrypted object of this version
    assert response["statusCode"] == 302
    location = urlparse(header(response, "Location"))
    assert int(parse_qs(location.query)["X-Amz-Expires"][0]) <= 300
    s3 = boto3.client("s3")
    key = invoice_pdf_key(world["account"], invoice["invoice_id"])
    stored = s3.head_object(Bucket=aws_bucket(), Key=key)
    assert stored["ServerSideEncryption"] == "AES256" and stored["Metadata"]["revision"] == "1"
    # When the invoice is paid, the next download renders the PDF again (its version moved)
    pay(invoke, world, invoice["invoice_id"], 10000)
    call(invoke, "GET", path, world["owner"], resource=f"{ACCOUNT_ROUTE}/invoices/{{invoice_id}}/pdf")
    assert s3.head_object(Bucket=aws_bucket(), Key=key)["Metadata"]["revision"] == "2"


def aws_bucket():
    import os

    return os.environ["DOCUMENTS_BUCKET"]


def test_the_payment_method_changes_while_unpaid(world, invoke):
    # Given an unpaid invoice in reais
    # When the customer chooses boleto, then SEPA, then PIX after paying
    invoice = staff_invoice(invoke, world)
    path = f"/api/accounts/{world['account']}/invoices/{invoice['invoice_id']}/payment-method"
    resource = f"{ACCOUNT_ROUTE}/invoices/{{invoice_id}}/payment-method"
    chosen = call(invoke, "PUT", path, world["owner"], resource=resource, body={"method": "boleto"})
    # Then boleto is taken, SEPA is refused (euros only) and a paid invoice is closed to changes
    assert chosen["statusCode"] == 200 and json_body(chosen)["payment_method"] == "boleto"
    sepa = call(invoke, "PUT", path, world["owner"], resource=resource, body={"method": "sepa"})
    assert sepa["statusCode"] == 422 and json_body(sepa)["error"]["fields"][0]["field"] == "method"
    pay(invoke, world, invoice["invoice_id"], 10000)
    closed = call(invoke, "PUT", path, world["owner"], resource=resource, body={"method": "pix"})
    assert closed["statusCode"] == 409


def test_add_funds_creates_an_untaxed_invoice_within_the_limits_that_becomes_credit_when_paid(world, invoke):
    # Given a Spanish account and the default limits (5 € to 2.000 €)
    # When it adds funds outside the limits, in reais, then 50 €, and pays it
    path, resource = f"/api/accounts/{world['spanish']}/credit", f"{ACCOUNT_ROUTE}/credit"
    owner = world["spanish_owner"]
    # Then only the valid amount makes an untaxed add-funds invoice, and paying it makes credit
    for amount, currency, status in ((100, "EUR", 422), (10_000_000, "EUR", 422), (5000, "BRL", 422)):
        response = call(
            invoke, "POST", path, owner, resource=resource, body={"amount": {"amount": amount, "currency": currency}}
        )
        assert response["statusCode"] == status, response["body"]
    created = call(invoke, "POST", path, owner, resource=resource, body={"amount": {"amount": 5000, "currency": "EUR"}})
    assert created["statusCode"] == 201
    funds = json_body(created)
    assert funds["amount_due"] == {"amount": 5000, "currency": "EUR"} and funds["number"] == "INV-2026-000001"
    item = InvoiceItem.get(keys.account_pk(world["spanish"]), keys.invoice_sk(funds["invoice_id"]))
    assert (
        item.kind == "add_funds" and item.tax == 0 and item.lines[0]["description"] == "Saldo a favor"
    )  # in the buyer's language
    pay(invoke, {**world, "account": world["spanish"]}, funds["invoice_id"], 5000, currency="EUR")
    credit = credit_view(invoke, world, world["spanish"], owner)
    assert credit["balance"] == {"amount": 5000, "currency": "EUR"}
    assert [e["kind"] for e in credit["items"]] == ["funds_added"]


def test_an_account_without_credit_shows_a_zero_balance_in_its_currency(world, invoke):
    # Given a Spanish account that never had credit
    # When its owner reads the credit
    credit = credit_view(invoke, world, world["spanish"], world["spanish_owner"])
    # Then the balance is zero euros, applied automatically, with no entries
    assert credit == {"balance": {"amount": 0, "currency": "EUR"}, "auto_apply": True, "items": [], "next": None}


def test_spanish_invoices_carry_iva_in_euros(world, invoke):
    # Given a Spanish account
    # When staff issue an invoice of 12,90 €
    invoice = staff_invoice(invoke, world, account=world["spanish"], currency="EUR", amount=1290)
    # Then IVA 21 % is added, rounded once, and the buyer is in Spain
    assert invoice["taxes"] == [
        {
            "label": "IVA",
            "rate": "21",
            "base": {"amount": 1290, "currency": "EUR"},
            "tax": {"amount": 271, "currency": "EUR"},
        }
    ]
    assert invoice["total"] == {"amount": 1561, "currency": "EUR"} and invoice["buyer"]["country"] == "ES"


# --- staff ----------------------------------------------------------------------------------------------------------
def test_staff_void_drafts_only(world, invoke):
    # Given a draft and an issued invoice
    # When staff void each, then the draft again
    draft = staff_invoice(invoke, world, issue=False)
    issued = staff_invoice(invoke, world)
    resource = "/api/staff/invoices/{invoice_id}"
    # Then the draft and its lookup are gone; the issued one is refused; the second void finds nothing
    assert (
        call(invoke, "DELETE", f"/api/staff/invoices/{draft['invoice_id']}", world["staff"], resource=resource)[
            "statusCode"
        ]
        == 204
    )
    assert invoices().store.invoice(world["account"], draft["invoice_id"]) is None
    assert invoices().store.locate(draft["invoice_id"]) is None
    assert (
        call(invoke, "DELETE", f"/api/staff/invoices/{issued['invoice_id']}", world["staff"], resource=resource)[
            "statusCode"
        ]
        == 409
    )
    assert (
        call(invoke, "DELETE", f"/api/staff/invoices/{draft['invoice_id']}", world["staff"], resource=resource)[
            "statusCode"
        ]
        == 404
    )


def test_staff_actions_are_audited_on_the_invoices_account(world, invoke):
    # Given an invoice
    # When staff issue and pay it
    from balcao.adapters.dynamodb.models import AuditItem

    invoice = staff_invoice(invoke, world)
    pay(invoke, world, invoice["invoice_id"], 10000)
    actions = [
        a.action for a in AuditItem.query(keys.account_pk(world["account"]), AuditItem.sk.startswith(keys.AUDIT_PREFIX))
    ]
    # Then both actions are in the account's audit log
    assert "POST /api/staff/invoices" in actions and "POST /api/staff/invoices/{invoice_id}/payments" in actions
