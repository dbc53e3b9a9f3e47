"""The portal's invoice and credit pages on moto: the list (status filter, cursors, total to pay), the detail (lines,
taxes, totals, payments, credit applied, credit notes), the PDFs, the credit balance with its history and the
automatic use of credit, add funds — 422 re-renders tied to the field, CSRF refusals, the 404 page for another
account's ids and for members without the permission, and at most three DynamoDB calls per page."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
import requests
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import AuditItem, InvoiceItem
from balcao.domain.accounts import Permission
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoices import InvoiceKind, InvoiceStatus
from balcao.domain.money import Money
from balcao.runtime.invoices_composition import invoices
from balcao.services.invoices import STAFF_SOURCE, LineInput
from balcao.web.i18n import format_day
from balcao.web.views import invoices as invoice_pages
from devstack import template
from support.billing import given_invoice_with_credit_note, given_issued_invoice
from support.portal import (
    TwoOwners,
    Visitor,
    assert_form_error,
    assert_refused,
    cookies_as_on_the_local_stack,
    headings,
    location,
    member_of,
    query_of,
    text,
    two_owners,
    untranslated,
)


@pytest.fixture
def local_cookies(aws):
    with cookies_as_on_the_local_stack():
        yield


@pytest.fixture
def world(aws, invoke) -> TwoOwners:
    return two_owners(invoke)


def pay(account_id: str, invoice_id: str, amount: int | None = None) -> None:
    service = invoices()
    invoice = service.invoice(account_id, invoice_id)
    money = Money.of(amount, invoice.currency) if amount is not None else invoice.amount_due
    service.settle_payment(
        account_id, invoice_id, money, STAFF_SOURCE, f"test-{invoice_id}-{money.amount}", PaymentMethod.PIX
    )


def audit_actions(account_id: str) -> list[str]:
    return [i.action for i in AuditItem.query(keys.account_pk(account_id), AuditItem.sk.startswith(keys.AUDIT_PREFIX))]


def portal_app() -> APIGatewayRestResolver:
    return template.load_function_module("portal").app


# --- signing in ------------------------------------------------------------------------------------------------
def test_every_invoice_page_asks_an_anonymous_visitor_to_sign_in_first(aws, invoke):
    visitor = Visitor(invoke)
    for path in ("/invoices", "/invoices/X", "/invoices/X/pdf", "/credit-notes/X/pdf", "/credit", "/credit/add"):
        response = visitor.get(path)
        assert response["statusCode"] == 303 and location(response).startswith("/login?next="), path
    for path in ("/credit/add", "/credit/auto-apply"):
        assert location(visitor.post(path, {"amount": "50"})).startswith("/login?"), path


# --- the list ----------------------------------------------------------------------------------------------------
def test_the_list_shows_numbers_dates_amounts_statuses_and_the_total_to_pay(world, clock):
    today = invoices().today()
    unpaid = given_issued_invoice(world.a, 4990, due_date=today + timedelta(days=10))
    overdue = given_issued_invoice(world.a, 4000, due_date=today - timedelta(days=6))
    paid = given_issued_invoice(world.a, 2500)
    pay(world.a, paid.invoice_id)
    given_issued_invoice(world.b, 7777, currency="EUR")
    response = world.owner.get("/invoices")
    body = text(response)
    assert response["statusCode"] == 200
    for invoice in (unpaid, overdue, paid):
        assert f'href="/invoices/{invoice.invoice_id}"' in response["body"] and invoice.number in body
    assert "R$49.90" in body and "R$40.00" in body and "R$25.00" in body
    assert body.count("Overdue") == 1 and "Unpaid" in body and "Paid" in body
    assert "Total to pay:" in body and "R$89.90" in body
    assert "77.77" not in body and "Bia" not in body
    # Newest first
    assert body.index(paid.number) < body.index(overdue.number) < body.index(unpaid.number)


@pytest.mark.parametrize(
    ("status", "shown", "hidden"),
    [("paid", {"paid"}, {"unpaid", "overdue"}), ("unpaid", {"unpaid", "overdue"}, {"paid"})],
)
def test_the_status_filter_keeps_only_what_was_asked(world, status, shown, hidden):
    today = invoices().today()
    made = {
        "unpaid": given_issued_invoice(world.a, 4990),
        "overdue": given_issued_invoice(world.a, 4000, due_date=today - timedelta(days=2)),
        "paid": given_issued_invoice(world.a, 2500),
    }
    pay(world.a, made["paid"].invoice_id)
    response = world.owner.get(f"/invoices?status={status}")
    assert response["statusCode"] == 200
    assert f'<option value="{status}" selected>' in response["body"]
    for name in shown:
        assert made[name].number in response["body"]
    for name in hidden:
        assert made[name].number not in response["body"]


def test_an_unknown_status_is_refused_and_an_empty_filter_says_so(world):
    given_issued_invoice(world.a)
    assert world.owner.get("/invoices?status=draft")["statusCode"] == 422
    empty = world.owner.get("/invoices?status=refunded")
    assert empty["statusCode"] == 200 and "No invoice matches this filter." in text(empty)


def test_the_list_is_paginated_with_the_stores_cursor_and_keeps_the_filter(world):
    made = [given_issued_invoice(world.a, 1000 + n) for n in range(27)]
    first = world.owner.get("/invoices?status=unpaid")
    body = first["body"]
    assert sum(1 for i in made if i.number in body) == 25
    older = unescape(re.search(r'href="(/invoices\?[^"]*cursor=[^"]+)"', body).group(1))
    assert query_of(older)["status"] == "unpaid"
    second = world.owner.get(older)
    assert second["statusCode"] == 200
    assert made[0].number in second["body"] and made[1].number in second["body"]
    assert made[-1].number not in second["body"]
    assert 'href="/invoices?status=unpaid"' in second["body"]  # back to the newest


# --- the detail -------------------------------------------------------------------------------------------------
def test_the_detail_shows_lines_taxes_totals_due_date_and_payments(world):
    service = invoices()
    invoice = service.create(
        world.a2,
        [
            LineInput("Alojamiento Profesional — estudio.es", 2, Money.of(1290, "EUR"), "hosting"),
            LineInput("Dominio estudio.es", 1, Money.of(1500, "EUR"), "domain"),
        ],
        issue=True,
        notes=["Gracias por confiar en nosotros."],
    )
    pay(world.a2, invoice.invoice_id, 2000)
    world.owner.cookies["balcao_account"] = world.a2
    response = world.owner.get(f"/invoices/{invoice.invoice_id}")
    body = text(response)
    assert response["statusCode"] == 200
    assert f"Invoice {invoice.number}" in body and "Partially paid" in body
    assert "Alojamiento Profesional — estudio.es" in body and "Dominio estudio.es" in body
    assert "€12.90" in body and "€25.80" in body and "€15.00" in body  # unit price, line amount
    assert "Subtotal" in body and "€40.80" in body
    assert "IVA 21% on €40.80" in body and "€8.57" in body  # 21 % of 40.80 = 8.568, half-up
    assert "€49.37" in body and "−€20.00" in body and "€29.37" in body  # total, paid, amount due
    assert "PIX" in body and "Gracias por confiar en nosotros." in body
    assert "To pay: €29.37" in body and f"Due on {format_day(invoice.due_date, 'en')}." in body
    assert f'href="/invoices/{invoice.invoice_id}/pdf"' in response["body"]


def test_the_detail_shows_credit_applied_and_credit_notes(world):
    service = invoices()
    service.add_credit(world.a, Money.of(1000, "BRL"), "Cortesia")
    with_credit = given_issued_invoice(world.a, 4990)
    body = text(world.owner.get(f"/invoices/{with_credit.invoice_id}"))
    assert "Credit applied" in body and "−R$10.00" in body and "R$39.90" in body and "Account credit" in body
    corrected = given_invoice_with_credit_note(world.a)
    note = service.credit_note(world.a, corrected["credit_note_id"])
    response = world.owner.get(f"/invoices/{corrected['invoice_id']}")
    body = text(response)
    assert "Credit notes" in body and note.number in body and "−R$19.90" in body
    assert f'href="/credit-notes/{note.credit_note_id}/pdf"' in response["body"]


def test_the_pay_link_appears_only_when_the_portal_serves_the_payment_page(world, monkeypatch):
    # Given a resolver that serves /invoices/<id>/pay and one that does not
    serving = APIGatewayRestResolver()

    @serving.get("/invoices/<invoice_id>/pay")
    def pay_page(invoice_id: str) -> Response[str]:
        return Response(200, "text/plain", invoice_id)

    assert invoice_pages.pay_route_served(serving) and not invoice_pages.pay_route_served(APIGatewayRestResolver())
    unpaid = given_issued_invoice(world.a, 4990)
    paid = given_issued_invoice(world.a, 2500)
    pay(world.a, paid.invoice_id)
    link = f'href="/invoices/{unpaid.invoice_id}/pay"'
    # Then the detail of an unpaid invoice links to it exactly when the portal serves it
    served = invoice_pages.pay_route_served(portal_app())
    assert (link in world.owner.get(f"/invoices/{unpaid.invoice_id}")["body"]) == served
    monkeypatch.setattr(invoice_pages, "pay_route_served", lambda app: True)
    assert link in world.owner.get(f"/invoices/{unpaid.invoice_id}")["body"]
    # And never for an invoice that has nothing left to pay
    assert f'href="/invoices/{paid.invoice_id}/pay"' not in world.owner.get(f"/invoices/{paid.invoice_id}")["body"]


def test_the_pdfs_are_handed_out_through_short_lived_presigned_urls(world):
    invoice = given_issued_invoice(world.a, 4990)
    corrected = given_invoice_with_credit_note(world.a)
    for path in (f"/invoices/{invoice.invoice_id}/pdf", f"/credit-notes/{corrected['credit_note_id']}/pdf"):
        response = world.owner.get(path)
        assert response["statusCode"] == 302, (path, response["body"])
        url = location(response)
        assert 0 < int(query_of(url)["X-Amz-Expires"]) <= 300
        downloaded = requests.get(url, timeout=10)
        assert downloaded.status_code == 200 and downloaded.content.startswith(b"%PDF-")


def test_another_accounts_invoices_and_credit_notes_are_the_404_page(world):
    theirs = given_issued_invoice(world.b, 7777, currency="EUR")
    their_note = given_invoice_with_credit_note(world.b)
    for path in (
        f"/invoices/{theirs.invoice_id}",
        f"/invoices/{theirs.invoice_id}/pdf",
        f"/credit-notes/{their_note['credit_note_id']}/pdf",
        "/invoices/01ZZZZZZZZZZZZZZZZZZZZZZZZ",
        "/invoices/" + "X" * 300,
    ):
        response = world.owner.get(path)
        assert_refused(response)
        assert theirs.number not in response["body"] and "77.77" not in response["body"], path
        assert "balcao_account" not in str(response.get("multiValueHeaders", {}).get("Set-Cookie", [])), path


def test_a_link_to_an_invoice_of_another_of_ones_accounts_switches_to_it(world):
    spanish = given_issued_invoice(world.a2, 1290, currency="EUR")
    path = f"/invoices/{spanish.invoice_id}"
    switched = world.owner.get(path)
    assert switched["statusCode"] == 303 and location(switched) == path
    assert world.owner.cookies["balcao_account"] == world.a2
    assert world.owner.get(path)["statusCode"] == 200


def test_members_without_the_invoices_permission_get_the_404_page(world, invoke):
    invoice = given_issued_invoice(world.a)
    outsider = member_of(invoke, world.a, {Permission.TICKETS, Permission.CONTACTS}, "outsider")
    for path in ("/invoices", f"/invoices/{invoice.invoice_id}", f"/invoices/{invoice.invoice_id}/pdf", "/credit"):
        assert_refused(outsider.get(path))
    assert_refused(outsider.post("/credit/add", {"amount": "50"}))
    nav = outsider.get("/")["body"]
    assert 'href="/invoices"' not in nav and 'href="/tickets"' in nav
    reader = member_of(invoke, world.a, {Permission.INVOICES}, "reader")
    assert reader.get(f"/invoices/{invoice.invoice_id}")["statusCode"] == 200
    assert 'href="/invoices"' in reader.get("/")["body"]


# --- credit ------------------------------------------------------------------------------------------------------
def test_the_credit_page_shows_the_balance_and_its_history(world):
    empty = world.owner.get("/credit")
    assert empty["statusCode"] == 200 and "You have no credit at the moment." in text(empty)
    service = invoices()
    service.add_credit(world.a, Money.of(2500, "BRL"), "Cortesia pela migração")
    spent = given_issued_invoice(world.a, 1000)
    service.add_credit(world.b, Money.of(9999, "EUR"), "Segredo da Bia")
    response = world.owner.get("/credit")
    body = text(response)
    assert "R$15.00" in body  # 25.00 − 10.00 applied to the new invoice
    assert "Adjustment by our team: Cortesia pela migração" in body and "+R$25.00" in body
    assert "Used to pay an invoice" in body and "-R$10.00" in body
    assert f'href="/invoices/{spent.invoice_id}"' in response["body"]
    assert "Segredo da Bia" not in body and "99.99" not in body


def test_credit_stops_and_starts_paying_new_invoices(world):
    invoices().add_credit(world.a, Money.of(2500, "BRL"), "Cortesia")
    assert "Stop using credit automatically" in world.owner.get("/credit")["body"]
    response = world.owner.post("/credit/auto-apply", {"auto_apply": "off"})
    assert response["statusCode"] == 303 and location(response) == "/credit?done=auto_apply_off"
    page = text(world.owner.get(location(response)))
    assert "Your credit no longer pays new invoices automatically." in page and "Use credit automatically" in page
    untouched = given_issued_invoice(world.a, 1000)
    assert untouched.amount_due == Money.of(1000, "BRL")
    assert world.owner.post("/credit/auto-apply", {"auto_apply": "on"})["statusCode"] == 303
    assert given_issued_invoice(world.a, 1000).amount_due.is_zero
    assert audit_actions(world.a).count("PATCH /api/accounts/{account_id}/credit") == 2
    assert world.owner.post("/credit/auto-apply", {"auto_apply": "maybe"})["statusCode"] == 422


def test_add_funds_creates_an_invoice_to_pay(world):
    form = world.owner.get("/credit/add")
    assert form["statusCode"] == 200
    assert "From R$10.00 to R$10,000.00" in text(form) and 'inputmode="decimal"' in form["body"]
    world.owner.cookies["balcao_lang"] = "pt-BR"
    response = world.owner.post("/credit/add", {"amount": "1.234,50"})
    assert response["statusCode"] == 303
    invoice_id = urlsplit(location(response)).path.rsplit("/", 1)[1]
    invoice = invoices().invoice(world.a, invoice_id)
    assert invoice.kind is InvoiceKind.ADD_FUNDS and invoice.total == Money.of(123450, "BRL")
    assert invoice.status is InvoiceStatus.ISSUED and invoice.totals.tax.is_zero
    page = text(world.owner.get(location(response)))
    assert "R$\xa01.234,50" in page and "Geramos uma fatura dos créditos" in page and "Adicionar créditos" in page
    assert "POST /api/accounts/{account_id}/credit" in audit_actions(world.a)


@pytest.mark.parametrize(
    ("language", "typed", "message"),
    [
        ("en", "", "This field is required."),
        ("en", "fifty", "Type an amount in numbers, such as 50.00."),
        ("pt-BR", "12,345", "Digite um valor em números, como 50,00."),
        ("en", "5.00", "The amount is below the minimum."),
        ("en", "20000", "The amount is above the maximum."),
        ("en", "-10", "The amount must be more than zero."),
        ("es", "0", "El importe debe ser mayor que cero."),
    ],
)
def test_a_refused_amount_re_renders_the_form_with_the_error_on_the_field(world, language, typed, message):
    world.owner.cookies["balcao_lang"] = language
    response = world.owner.post("/credit/add", {"amount": typed})
    assert_form_error(response, "amount", message)
    assert f'value="{typed}"' in response["body"]
    assert InvoiceItem.count(keys.account_pk(world.a), InvoiceItem.sk.startswith("INVOICE#")) == 0


@pytest.mark.parametrize(
    ("path", "form"), [("/credit/add", {"amount": "50"}), ("/credit/auto-apply", {"auto_apply": "off"})]
)
def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(world, path, form):
    invoices().add_credit(world.a, Money.of(2500, "BRL"), "Cortesia")
    response = world.owner.post(path, form, csrf=False)
    assert response["statusCode"] == 403 and "Your form expired" in text(response)
    assert audit_actions(world.a) == []
    assert invoices().credit(world.a, 10, None).balance.auto_apply is True
    assert InvoiceItem.count(keys.account_pk(world.a), InvoiceItem.sk.startswith("INVOICE#")) == 0


# --- every page ------------------------------------------------------------------------------------------------
def test_every_page_speaks_the_three_languages(world):
    invoice = given_issued_invoice(world.a, 4990)
    invoices().add_credit(world.a, Money.of(2500, "BRL"), "Cortesia")
    paths = ("/invoices", f"/invoices/{invoice.invoice_id}", "/credit", "/credit/add")
    english = {path: headings(world.owner.get(path)) for path in paths}
    for language, word in (("pt-BR", "Fatura"), ("es", "Factura")):
        world.owner.cookies["balcao_lang"] = language
        for path in paths:
            translated = headings(world.owner.get(path))
            same = [h for h, e in zip(translated, english[path], strict=True) if h == e]
            assert not same, (language, path, same)
        assert word in text(world.owner.get(f"/invoices/{invoice.invoice_id}"))


def test_no_text_bypasses_translation(local_cookies, world):
    # Given an invoice with taxes, a payment, credit applied and a credit note, and the credit's history
    service = invoices()
    taxed = given_issued_invoice(world.a2, 4990, currency="EUR")
    pay(world.a2, taxed.invoice_id, 1000)
    service.add_credit(world.a2, Money.of(500, "EUR"), "Cortesía")
    given_issued_invoice(world.a2, 300, currency="EUR")  # paid by the credit
    corrected = given_invoice_with_credit_note(world.a)
    data = {
        "Hospedagem Profissional",
        "Suporte Premium",
        "Ana Design",
        "Ana Estudio",
        "Cortesía",
        "IVA 21%",
        "BRL",
        "EUR",
        *(i.number for i in service.page(world.a, None, 25, None).items),
        *(i.number for i in service.page(world.a2, None, 25, None).items),
    }
    pages = {
        world.a: ["/invoices", f"/invoices/{corrected['invoice_id']}", "/credit", "/credit/add"],
        world.a2: ["/invoices?status=partially_paid", f"/invoices/{taxed.invoice_id}", "/credit"],
    }
    # When each page is rendered in the pseudo-locale, then every text is translated or data
    for account_id, paths in pages.items():
        world.owner.cookies["balcao_account"] = account_id
        for path in paths:
            response = world.owner.get(path + ("&" if "?" in path else "?") + "lang=x-pseudo")
            assert response["statusCode"] == 200, path
            assert untranslated(response, data) == [], path


def test_reading_a_page_costs_at_most_three_dynamodb_calls(world, ddb_calls):
    invoice = given_issued_invoice(world.a, 4990)
    invoices().add_credit(world.a, Money.of(2500, "BRL"), "Cortesia")
    world.owner.get("/invoices")  # the company settings are cached per container
    for path in ("/invoices", "/invoices?status=unpaid", f"/invoices/{invoice.invoice_id}", "/credit", "/credit/add"):
        with ddb_calls() as calls:
            assert world.owner.get(path)["statusCode"] == 200, path
        assert calls.total <= 3 and calls.scans == 0, (path, calls)
    with ddb_calls() as calls:
        assert world.owner.get(f"/invoices/{invoice.invoice_id}/pdf")["statusCode"] == 302
    assert calls.total <= 3 and calls.scans == 0, calls
