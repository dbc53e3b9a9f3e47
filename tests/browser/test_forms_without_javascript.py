"""Every main form of the portal with JavaScript turned off, in pt-BR: each one posts, and the browser lands on a
page that shows the result (the POST-redirect-GET of a server-rendered portal): signing in, switching accounts and
languages, adding a contact, replying to a ticket, choosing how to pay an invoice, asking for the cancellation of a
service and withdrawing it, signing out."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import expect

from support.browser import screenshot
from support.stack_client import DEMO_PASSWORD

OWNER = "ana@example.com"


def main(page: Any) -> Any:
    return page.locator("main")


def test_the_main_forms_post_and_redirect_without_javascript(no_script_page):
    page = no_script_page
    contact = f"Dora Contábil {uuid.uuid4().hex[:6]}"
    reply = f"Sem JavaScript também funciona ({uuid.uuid4().hex[:6]})."
    # Given a browser with JavaScript turned off
    page.goto("/login")
    # When Ana signs in with the login form, Then she lands on her dashboard
    page.get_by_role("textbox", name="E-mail", exact=True).fill(OWNER)
    page.locator("#field-password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Olá, "))
    screenshot(page, "no-script-dashboard")

    # When she switches accounts with the account switcher, Then the pages show the other account
    page.get_by_label("Conta", exact=True).select_option(label="Ana Souza Estudio")
    page.get_by_role("button", name="Trocar").click()
    page.goto("/profile")
    expect(main(page)).to_contain_text("Ana Souza Estudio")
    page.get_by_label("Conta", exact=True).select_option(label="Ana Souza Design")
    page.get_by_role("button", name="Trocar").click()
    expect(main(page)).to_contain_text("Ana Souza Design")

    # When she changes the language, Then the same page comes back in that language (and back to pt-BR)
    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Alterar").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Profile")
    page.get_by_label("Language").select_option("pt-BR")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")

    # When she adds a contact, Then the contacts page lists it
    page.goto("/contacts")
    form = page.locator("form[action='/contacts']")
    form.get_by_label("Nome").fill(contact)
    form.get_by_role("textbox", name="E-mail", exact=True).fill("dora@example.com")
    form.get_by_role("button", name="Adicionar contato").click()
    page.wait_for_url("**/contacts?notice=contact_added")
    expect(page.get_by_role("row", name=re.compile(contact))).to_contain_text("dora@example.com")
    screenshot(page, "no-script-contact-added")

    # When she replies to a ticket, Then the thread shows her reply
    page.goto("/tickets")
    page.get_by_role("link", name=re.compile("Erro ao conectar ao banco de dados")).click()
    page.get_by_label("Sua mensagem").fill(reply)
    page.get_by_role("button", name="Enviar a resposta").click()
    page.wait_for_url("**?done=replied")
    expect(main(page)).to_contain_text(reply)
    screenshot(page, "no-script-ticket-replied")

    # When she chooses to pay an unpaid invoice with PIX, Then the payment page shows the QR code and the code
    page.goto("/invoices?status=unpaid")
    page.get_by_role("row", name=re.compile(r"49,90.*Em aberto")).get_by_role("link").first.click()
    page.get_by_role("link", name="Pagar esta fatura").click()
    page.get_by_label("PIX", exact=True).check()
    page.get_by_role("button", name="Continuar").click()
    page.wait_for_url(re.compile(r".*/payments/\w+$"))
    expect(page.get_by_role("region", name="Pagar com PIX").locator(".qr svg")).to_be_visible()
    assert page.get_by_label("Código PIX").input_value().startswith("000201")
    expect(main(page)).to_contain_text("R$\xa049,90")
    screenshot(page, "no-script-pix")

    # When she asks for the cancellation of a service, Then its page says when it ends; and she withdraws it
    page.goto("/services")
    page.get_by_role("link", name="anasouza.com.br", exact=True).click()
    page.get_by_role("link", name="Cancelar o serviço").click()
    page.get_by_label("Por que você está cancelando?").fill("Teste sem JavaScript.")
    page.get_by_role("button", name="Solicitar o cancelamento").click()
    page.wait_for_url("**?notice=cancellation_requested")
    expect(main(page)).to_contain_text("Este serviço será cancelado em")
    screenshot(page, "no-script-cancellation-requested")
    page.get_by_role("button", name="Manter o serviço").click()
    page.wait_for_url("**?notice=cancellation_withdrawn")
    expect(page.get_by_role("link", name="Cancelar o serviço")).to_be_visible()

    # When she signs out, Then the login page says so
    page.locator("form.logout").get_by_role("button").click()
    page.wait_for_url("**/login?notice=signed_out")
    expect(main(page)).to_contain_text("Você saiu da sua conta.")
