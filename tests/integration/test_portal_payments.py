"""The portal's payment pages on moto: pay an invoice (PIX QR code with its copy button, the boleto's line and
printable page, the card page, SEPA), pay several, the saved methods; 422 re-renders, another account's ids as the
404 page, the audit trail, and every string translated."""

from __future__ import annotations

import re

import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import AccountItem, AuditItem, InvoiceItem
from balcao.adapters.payments import sandbox
from balcao.domain.payments.pix import validate_pix_payload
from support.billing import given_issued_invoice
from support.identity import given_account
from support.payments import given_service
from support.portal import (
    Visitor,
    assert_form_error,
    assert_refused,
    cookies_as_on_the_local_stack,
    location,
    login_user,
    text,
    unique,
    untranslated,
)


@pytest.fixture
def world(aws, invoke):
    sandbox.forget_all()
    ana_email, bia_email = unique("ana"), unique("bia")
    ana = login_user(ana_email, "Ana Souza")
    bia = login_user(bia_email, "Bia Reis")
    a = given_account(ana, name="Ana Design", email=ana_email)
    AccountItem.get(keys.account_pk(a), keys.PROFILE).update(
        actions=[
            AccountItem.tax_country.set("BR"),
            AccountItem.tax_kind.set("cpf"),
            AccountItem.tax_id.set("52998224725"),
        ]
    )
    b = given_account(bia, name="Bia Estudio", email=bia_email, language="es", currency="EUR")
    owner = Visitor(invoke)
    owner.sign_in(ana_email)
    owner.cookies["balcao_account"] = a
    other = Visitor(invoke)
    other.sign_in(bia_email)
    return {"a": a, "b": b, "owner": owner, "other": other}


def test_pix_from_the_invoice_to_a_qr_code_with_a_copy_button(world):
    # Given an unpaid invoice
    invoice = given_issued_invoice(world["a"], 4990)
    owner = world["owner"]
    # When Ana opens its pay page and chooses PIX
    page = owner.get(f"/invoices/{invoice.invoice_id}/pay")
    assert page["statusCode"] == 200 and "R$49.90" in text(page) and 'value="pix"' in page["body"]
    chosen = owner.post(f"/invoices/{invoice.invoice_id}/pay", {"method": "pix"})
    # Then she lands on the payment page with the QR code, the code to copy and its copy button
    assert chosen["statusCode"] == 303 and location(chosen).startswith("/payments/")
    payment = owner.get(location(chosen))
    body = payment["body"]
    assert payment["statusCode"] == 200 and "<svg" in body and 'data-copy="pix-code"' in body
    code = re.search(r'<textarea id="pix-code"[^>]*>([^<]+)</textarea>', body).group(1)
    assert validate_pix_payload(code).amount.amount == 4990
    # And, without JavaScript, a link reloads the page to see whether the payment arrived
    assert f'<a href="{location(chosen)}">See if the payment arrived</a>' in body
    # And the change is in the account's audit log under the API's action name
    actions = [i.action for i in AuditItem.query(keys.account_pk(world["a"]), AuditItem.sk.startswith("AUDIT#"))]
    assert "POST /api/accounts/{account_id}/invoices/{invoice_id}/payments" in actions


def test_a_boleto_refused_for_want_of_a_tax_id_keeps_boleto_chosen(world):
    # Given an unpaid invoice of an account without its CPF
    AccountItem.get(keys.account_pk(world["a"]), keys.PROFILE).update(
        actions=[AccountItem.tax_kind.remove(), AccountItem.tax_id.remove()]
    )
    invoice = given_issued_invoice(world["a"], 4990)
    # When Ana chooses boleto
    refused = world["owner"].post(f"/invoices/{invoice.invoice_id}/pay", {"method": "boleto"})
    # Then the page says why, with boleto still the method chosen (not the first one, PIX)
    assert refused["statusCode"] == 422
    assert re.search(r'value="boleto" checked', refused["body"]) and not re.search(
        r'value="pix" checked', refused["body"]
    )


def test_a_boleto_shows_its_line_and_a_printable_page_with_its_barcode(world):
    # Given an unpaid invoice of an account with a CPF
    invoice = given_issued_invoice(world["a"], 10000)
    owner = world["owner"]
    # When Ana chooses boleto and prints it
    payment = owner.get(location(owner.post(f"/invoices/{invoice.invoice_id}/pay", {"method": "boleto"})))
    line = re.search(r'id="boleto-line"[^>]*value="([0-9. ]+)"', payment["body"]).group(1)
    printable = owner.get(f"{location(owner.post(f'/invoices/{invoice.invoice_id}/pay', {'method': 'boleto'}))}/boleto")
    # Then the line is on both pages, the printable one with its Interleaved 2 of 5 barcode and the payer's CPF
    assert printable["statusCode"] == 200 and line in text(printable)
    assert "<rect" in printable["body"] and "529.982.247-25" in text(printable)
    assert InvoiceItem.get(keys.account_pk(world["a"]), keys.invoice_sk(invoice.invoice_id)).boleto_pause_used


def test_a_card_without_stripe_keys_says_the_sandbox_settles_it(world):
    invoice = given_issued_invoice(world["a"], 4990)
    owner = world["owner"]
    payment = owner.get(location(owner.post(f"/invoices/{invoice.invoice_id}/pay", {"method": "card"})))
    assert payment["statusCode"] == 200
    assert "no card processor is connected" in text(payment) and "js.stripe.com" not in payment["body"]


def test_choosing_nothing_or_an_impossible_method_re_renders_with_the_error(world):
    invoice = given_issued_invoice(world["a"], 4990)
    owner = world["owner"]
    assert_form_error(owner.post(f"/invoices/{invoice.invoice_id}/pay", {}), "method", "Choose how to pay.")
    refused = owner.post(f"/invoices/{invoice.invoice_id}/pay", {"method": "sepa"})
    assert refused["statusCode"] == 422 and "only available for invoices in euros" in text(refused)


def test_several_invoices_at_once(world):
    # Given two unpaid invoices
    first = given_issued_invoice(world["a"], 4000)
    second = given_issued_invoice(world["a"], 6000)
    owner = world["owner"]
    # When Ana pays both with PIX from the pay-several page
    page = owner.get("/pay")
    assert first.invoice_id in page["body"] and second.invoice_id in page["body"]
    done = owner.post("/pay", {"invoice_id": [first.invoice_id, second.invoice_id], "method": "pix"})
    # Then one payment for R$ 100,00 covers both
    payment = owner.get(location(done))
    assert "R$100.00" in text(payment) and first.number in text(payment) and second.number in text(payment)
    # And choosing none is refused, with the method she chose still chosen
    refused = owner.post("/pay", {"method": "boleto"})
    assert_form_error(refused, "invoice_id", "Choose the invoices to pay.")
    assert 'value="boleto" checked' in refused["body"] and 'value="pix" checked' not in refused["body"]


def test_saved_methods_are_added_made_default_and_removed(world):
    owner = world["owner"]
    # When Ana saves two test cards (the local stack's sandbox)
    page = owner.get("/payment-methods")
    assert page["statusCode"] == 200 and "pm_card_visa" in page["body"]
    owner.post("/payment-methods", {"type": "card", "provider_payment_method": "pm_card_visa"})
    added = owner.post("/payment-methods", {"type": "card", "provider_payment_method": "pm_card_mastercard"})
    assert location(added) == "/payment-methods?done=method_added"
    listing = owner.get("/payment-methods")
    ids = re.findall(r'action="/payment-methods/([0-9A-Z]+)/remove"', listing["body"])
    assert len(ids) == 2 and "Visa •••• 4242" in text(listing)
    # Then she makes the second the default and removes the first
    owner.post(f"/payment-methods/{ids[1]}/default")
    owner.post(f"/payment-methods/{ids[0]}/remove")
    final = text(owner.get("/payment-methods"))
    assert "Mastercard •••• 4444" in final and "Visa •••• 4242" not in final
    # And a SEPA mandate needs its acceptance
    refused = owner.post("/payment-methods", {"type": "sepa", "iban": "ES9121000418450200051332", "holder_name": "Ana"})
    assert refused["statusCode"] == 422 and "Accept the mandate" in text(refused)


def test_a_saved_method_pays_the_services_chosen_for_it(world):
    # Given Ana's services, one of Bia's, and two saved cards (the first her default)
    site, shop = given_service(world["a"], "anasouza.com.br"), given_service(world["a"], "loja.anasouza.com.br")
    elsewhere = given_service(world["b"], "biareis.es")
    owner = world["owner"]
    owner.post("/payment-methods", {"type": "card", "provider_payment_method": "pm_card_visa"})
    owner.post("/payment-methods", {"type": "card", "provider_payment_method": "pm_card_mastercard"})
    listing = owner.get("/payment-methods")
    second = re.findall(r'href="/payment-methods/([0-9A-Z]+)/services"', listing["body"])[1]
    # When Ana opens the second card's services page
    page = owner.get(f"/payment-methods/{second}/services")
    # Then it lists her services, not Bia's
    assert page["statusCode"] == 200 and "anasouza.com.br" in text(page) and "loja.anasouza.com.br" in text(page)
    assert elsewhere not in page["body"] and "biareis.es" not in text(page)
    # When she chooses both (without JavaScript: a form post)
    saved = owner.post(f"/payment-methods/{second}/services", {"service_id": [site, shop]})
    # Then she is sent back to the methods, where the card says it pays them
    assert location(saved) == "/payment-methods?done=method_services"
    assert "Pays 2 services by default." in text(owner.get("/payment-methods"))
    chosen = owner.get(f"/payment-methods/{second}/services")["body"]
    assert f'value="{site}" checked' in chosen and f'value="{shop}" checked' in chosen
    # When she posts another account's service, then the form says so and nothing changes
    refused = owner.post(f"/payment-methods/{second}/services", {"service_id": [site, elsewhere]})
    assert_form_error(refused, "service_id", "Choose among the services of this account.")
    assert "Pays 2 services by default." in text(owner.get("/payment-methods"))
    # And Bia cannot open or change Ana's card
    assert_refused(world["other"].get(f"/payment-methods/{second}/services"))
    assert_refused(world["other"].post(f"/payment-methods/{second}/services", {"service_id": []}))
    assert_refused(world["other"].post(f"/payment-methods/{second}/default"))
    assert_refused(world["other"].post(f"/payment-methods/{second}/remove"))
    assert "Pays 2 services by default." in text(owner.get("/payment-methods"))
    # And with one service left, the card says so in the singular
    owner.post(f"/payment-methods/{second}/services", {"service_id": [site]})
    assert "Pays 1 service by default." in text(owner.get("/payment-methods"))


def test_a_saved_methods_services_page_reads_the_method_and_the_services_in_one_query(world, ddb_calls):
    # Given two of Ana's services, one of Bia's, and two saved cards of Ana's (a later one sorts after the first)
    given_service(world["a"], "anasouza.com.br"), given_service(world["a"], "loja.anasouza.com.br")
    given_service(world["b"], "biareis.es")
    owner = world["owner"]
    owner.post("/payment-methods", {"type": "card", "provider_payment_method": "pm_card_visa"})
    owner.post("/payment-methods", {"type": "card", "provider_payment_method": "pm_card_mastercard"})
    first = re.findall(r'href="/payment-methods/([0-9A-Z]+)/services"', owner.get("/payment-methods")["body"])[0]
    # When Ana opens the first card's services page
    with ddb_calls() as calls:
        page = owner.get(f"/payment-methods/{first}/services")
    # Then it lists her two services, not Bia's, in the portal's budget: session, memberships and one Query
    body = text(page)
    assert page["statusCode"] == 200 and "anasouza.com.br" in body and "loja.anasouza.com.br" in body
    assert "biareis.es" not in body and "Visa" in body
    assert calls.total <= 3 and calls.scans == 0, calls
    # And an unknown method, or Bia's own account with Ana's method, is the 404 page
    assert_refused(owner.get("/payment-methods/01HZZZZZZZZZZZZZZZZZZZZZZZ/services"))
    assert_refused(world["other"].get(f"/payment-methods/{first}/services"))


def test_another_accounts_invoice_and_payment_are_the_404_page(world):
    invoice = given_issued_invoice(world["a"], 4990)
    owner = world["owner"]
    payment_path = location(owner.post(f"/invoices/{invoice.invoice_id}/pay", {"method": "pix"}))
    other = world["other"]
    assert_refused(other.get(f"/invoices/{invoice.invoice_id}/pay"))
    assert_refused(other.post(f"/invoices/{invoice.invoice_id}/pay", {"method": "pix"}))
    assert_refused(other.get(payment_path))
    assert_refused(other.get(f"{payment_path}/boleto"))


def test_anonymous_visitors_are_asked_to_sign_in(aws, invoke):
    visitor = Visitor(invoke)
    for path in ("/invoices/X/pay", "/pay", "/payments/X", "/payments/X/boleto", "/payment-methods"):
        response = visitor.get(path)
        assert response["statusCode"] == 303 and location(response).startswith("/login?next="), path


@pytest.fixture
def local_cookies(aws):
    with cookies_as_on_the_local_stack():
        yield


def test_every_payment_page_is_translated(local_cookies, world):
    # Given an invoice and a PIX, a boleto and a card payment for it
    invoice = given_issued_invoice(world["a"], 4990)
    owner = world["owner"]
    owner.post("/payment-methods", {"type": "card", "provider_payment_method": "pm_card_visa"})
    method_id = re.search(r'/payment-methods/([0-9A-Z]+)/services"', owner.get("/payment-methods")["body"]).group(1)
    paths = [
        f"/invoices/{invoice.invoice_id}/pay",
        "/pay",
        "/payment-methods",
        f"/payment-methods/{method_id}/services",
    ]
    for method in ("pix", "boleto", "card"):
        paths.append(location(owner.post(f"/invoices/{invoice.invoice_id}/pay", {"method": method})))
    paths.append(f"{paths[-2]}/boleto")
    # When each page is rendered in the pseudo-locale, then every text is translated or data
    data = {invoice.number, "Ana Design", "CPF 529.982.247-25", "R$49.90", "Visa 4242", "Mastercard 4444", "Visa 0002"}
    data |= {"Visa •••• 4242"}  # the saved card
    for path in paths:
        page = owner.get(f"{path}?lang=x-pseudo")
        assert page["statusCode"] == 200, path
        codes = set(re.findall(r'<textarea id="pix-code"[^>]*>([^<]+)</textarea>', page["body"]))
        lines = set(re.findall(r'id="boleto-heading">([0-9. ]+)<', page["body"]))
        assert untranslated(page, data | codes | lines) == [], (path, untranslated(page, data | codes | lines))


def test_payment_pages_read_at_most_three_times(world, ddb_calls):
    # Given a boleto payment and a saved card
    invoice = given_issued_invoice(world["a"], 4990)
    owner = world["owner"]
    payment = location(owner.post(f"/invoices/{invoice.invoice_id}/pay", {"method": "boleto"}))
    owner.post("/payment-methods", {"type": "card", "provider_payment_method": "pm_card_visa"})
    # When each page is read, then it costs at most 3 DynamoDB calls (the session and memberships included)
    for path in (f"/invoices/{invoice.invoice_id}/pay", payment, f"{payment}/boleto", "/payment-methods", "/pay"):
        with ddb_calls() as calls:
            response = owner.get(path)
        assert response["statusCode"] == 200, path
        assert calls.total <= 3 and calls.scans == 0, (path, calls)
