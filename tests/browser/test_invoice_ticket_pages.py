"""The invoice, credit and ticket pages in chromium, in pt-BR, on the demo data: the owner filters her invoices,
opens one, downloads its PDF, turns the automatic use of credit off and on, adds funds (a refused amount first);
a customer opens a ticket with a file and replies to it with JavaScript turned off, closes and reopens it; the
owner asks for a phone call. Every page is screenshotted; the states only a form reaches are checked with axe (no
serious or critical violation)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from support.browser import blocking_violations, screenshot
from support.stack_client import DEMO_PASSWORD

OWNER = "ana@example.com"
CUSTOMER = "bruno@example.com"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)


def checked(page: Any, name: str) -> None:
    """Screenshot the page and check it with axe: nothing serious or critical (the pages a link reaches are checked
    by the walk over every page; here, the states only a form reaches: errors, confirmations, codes)."""
    screenshot(page, f"billing-support-{name}")
    assert not blocking_violations(page), (name, blocking_violations(page))


def sign_in(page: Any, email: str = OWNER) -> None:
    page.goto("/login")
    page.get_by_role("textbox", name="E-mail", exact=True).fill(email)
    page.locator("#field-password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url("**/")


def main_text(page: Any) -> str:
    return str(page.locator("main").inner_text())


def test_the_owner_reads_filters_and_downloads_invoices_and_manages_credit(page):
    # Given the owner, signed in
    sign_in(page)
    # When she opens her invoices, Then she sees what is due and what is overdue
    page.locator("nav.main-nav").get_by_role("link", name="Faturas").click()
    page.wait_for_url("**/invoices")
    assert page.get_by_role("heading", level=1).inner_text() == "Faturas"
    assert "Total a pagar:" in main_text(page) and "Vencida" in main_text(page)
    screenshot(page, "billing-support-invoices")
    # When she shows only what is still to pay, Then no paid invoice is listed
    page.get_by_label("Mostrar").select_option("unpaid")
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_url("**/invoices?status=unpaid")
    assert "Paga" not in [c.inner_text() for c in page.locator("tbody td .status").all()]
    screenshot(page, "billing-support-invoices-unpaid")
    # When she opens the overdue domain renewal, Then she sees its item and what is due, and gets its PDF
    page.get_by_role("row", name=re.compile("Vencida")).get_by_role("link").first.click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Fatura ")
    assert "Domínio anasouza.com.br (anual)" in main_text(page) and "Venceu em" in main_text(page)
    screenshot(page, "billing-support-invoice")
    with page.expect_download() as download:
        page.get_by_role("link", name="Baixar o PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    # When she opens her credit, Then she sees its history; and she turns its automatic use off and back on
    page.goto("/credit")
    assert "Cortesia pela migração" in main_text(page)
    screenshot(page, "billing-support-credit")
    page.get_by_role("button", name="Não usar o crédito automaticamente").click()
    page.wait_for_url("**/credit?done=auto_apply_off")
    assert "não paga mais as novas faturas" in main_text(page)
    page.get_by_role("button", name="Usar o crédito automaticamente").click()
    page.wait_for_url("**/credit?done=auto_apply_on")
    # When she adds funds, Then a refused amount comes back tied to its field, and a valid one makes an invoice
    page.get_by_role("link", name="Adicionar créditos").click()
    screenshot(page, "billing-support-add-funds")
    page.get_by_label("Valor em BRL").fill("cinquenta")
    page.get_by_role("button", name="Gerar a fatura").click()
    assert "Digite um valor em números, como 50,00." in page.locator("#form-errors").inner_text()
    assert page.get_by_label("Valor em BRL").get_attribute("aria-invalid") == "true"
    checked(page, "add-funds-error")
    page.get_by_label("Valor em BRL").fill("50,00")
    page.get_by_role("button", name="Gerar a fatura").click()
    page.wait_for_url(re.compile(r".*/invoices/\w+\?done=funds_invoice$"))
    assert "A pagar: R$\xa050,00" in main_text(page)
    checked(page, "add-funds-invoice")


def test_a_ticket_with_a_file_is_opened_and_followed_without_javascript(no_script_page):
    page = no_script_page
    subject = f"Erro 500 no painel {uuid.uuid4().hex[:6]}"
    # Given a customer, signed in with JavaScript turned off
    sign_in(page, CUSTOMER)
    # When he opens a ticket and attaches a file first
    page.locator("nav.main-nav").get_by_role("link", name="Suporte").click()
    page.wait_for_url("**/tickets")
    page.get_by_role("link", name="Abrir um ticket").click()
    # The file first: a plain form straight to storage, which sends the browser back to the ticket form
    page.get_by_role("link", name="Anexar um arquivo").click()
    page.get_by_label("Arquivo").set_input_files(
        files=[{"name": "erro 500.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("button", name="Enviar o arquivo").click()
    page.wait_for_url(re.compile(r".*/tickets/new\?files=.*"))
    assert "erro 500.png" in page.locator("#field-attachment_ids").inner_text()
    screenshot(page, "billing-support-new-ticket-with-file")
    # and then fills in the ticket itself
    page.get_by_label("Suporte Técnico").check()
    page.get_by_label("Assunto").fill(subject)
    page.get_by_label("Alta").check()
    page.get_by_label("Mensagem").fill("Ao abrir /wp-admin aparece erro 500.\nO print está em anexo.")
    page.get_by_role("button", name="Enviar o ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/\w+\?done=opened$"))
    # Then the ticket is open with his file, which downloads
    assert subject in page.get_by_role("heading", level=1).inner_text()
    assert "Seu ticket foi aberto." in main_text(page) and "Alta" in main_text(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="erro 500.png").click()
    assert download.value.suggested_filename == "erro 500.png"
    screenshot(page, "billing-support-ticket")
    # When he replies, closes and reopens it, Then each answer shows on the thread
    page.get_by_label("Sua mensagem").fill("Esqueci de dizer: começou ontem à noite.")
    page.get_by_role("button", name="Enviar a resposta").click()
    page.wait_for_url("**?done=replied")
    assert "começou ontem à noite" in main_text(page) and "Resposta do cliente" in main_text(page)
    page.get_by_role("button", name="Fechar o ticket").click()
    page.wait_for_url("**?done=closed")
    page.get_by_role("button", name="Reabrir o ticket").click()
    page.wait_for_url("**?done=reopened")
    assert "Aberto" in page.locator("main p .status").inner_text()


def test_every_ticket_page_passes_axe(page):
    # Given the owner, signed in, on her tickets
    sign_in(page)
    page.goto("/tickets")
    assert page.get_by_role("heading", level=1).inner_text() == "Meus tickets de suporte"
    assert "Erro ao conectar ao banco de dados" in main_text(page)
    screenshot(page, "billing-support-tickets")
    # When she sends an empty ticket form, Then the errors are tied to their fields (and axe passes everywhere)
    page.get_by_role("link", name="Abrir um ticket").click()
    screenshot(page, "billing-support-new-ticket")
    page.get_by_role("button", name="Enviar o ticket").click()
    assert page.get_by_label("Assunto").get_attribute("aria-invalid") == "true"
    checked(page, "new-ticket-errors")
    # When she leaves for the upload page, Then what she typed survives the trip (JavaScript on)
    page.get_by_label("Assunto").fill("Site lento desde ontem")
    page.get_by_label("Vendas").check()
    page.get_by_role("link", name="Anexar um arquivo").click()
    screenshot(page, "billing-support-attach-file")
    page.get_by_label("Arquivo").set_input_files(files=[{"name": "lento.png", "mimeType": "image/png", "buffer": PNG}])
    page.get_by_role("button", name="Enviar o arquivo").click()
    page.wait_for_url(re.compile(r".*/tickets/new\?files=.*"))
    assert page.get_by_label("Assunto").input_value() == "Site lento desde ontem"
    assert page.get_by_label("Vendas").is_checked() and "lento.png" in main_text(page)
    checked(page, "new-ticket-with-file")
    page.goto("/tickets")
    page.get_by_role("link", name=re.compile("Erro ao conectar ao banco de dados")).click()
    assert "#100001" in page.get_by_role("heading", level=1).inner_text()
    screenshot(page, "billing-support-ticket-thread")
    # When she asks for a phone call instead, Then a wrong number comes back, and a right one opens a ticket
    page.goto("/tickets")
    page.get_by_role("link", name="Solicitar um contato telefônico").click()
    screenshot(page, "billing-support-callback")
    page.get_by_label("Telefone").fill("123")
    page.get_by_label("Qual é o assunto?").fill("Migrar o site para o VPS")
    page.get_by_role("button", name="Solicitar a ligação").click()
    assert page.get_by_label("Telefone").get_attribute("aria-invalid") == "true"
    checked(page, "callback-errors")
    page.get_by_label("Telefone").fill("(11) 91234-5678")
    page.get_by_label("Tarde (12h às 18h)").check()
    page.get_by_role("button", name="Solicitar a ligação").click()
    page.wait_for_url(re.compile(r".*/tickets/\w+\?done=callback$"))
    assert "+5511912345678" in main_text(page) and "Tarde (12h às 18h)" in main_text(page)
    checked(page, "callback-ticket")
