"""The identity and notifications pages in chromium, in pt-BR: the demo owner signs in, switches accounts, adds a
contact with the keyboard only, invites a user who signs up and accepts, turns on two-factor authentication and
signs in again with it, then with a recovery code. Every page is screenshotted; the states only a form reaches are
checked with axe (no serious or critical violation)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from balcao.domain.totp import totp_code
from support.browser import ARTIFACTS, blocking_violations, screenshot
from support.stack_client import DEMO_PASSWORD, StackClient

OWNER = "ana@example.com"
NEW_PASSWORD = "Convidada-segura-2026!"


def checked(page: Any, name: str) -> None:
    """Screenshot the page and check it with axe: nothing serious or critical (the pages a link reaches are checked
    by the walk over every page; here, the states only a form reaches: errors, confirmations, codes)."""
    screenshot(page, f"identity-{name}")
    assert not blocking_violations(page), (name, blocking_violations(page))


def sign_in(page: Any, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_role("textbox", name="E-mail", exact=True).fill(email)
    page.locator("#field-password").fill(password)
    page.get_by_role("button", name="Entrar").click()


def sign_out(page: Any) -> None:
    page.locator("form.logout").get_by_role("button").click()
    page.wait_for_url("**/login?notice=signed_out")


def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Move the focus with Tab only until it reaches ``selector`` (fails if it never does)."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{selector} is not reachable with the keyboard")


def heading(page: Any) -> str:
    return str(page.get_by_role("heading", level=1).inner_text())


@pytest.fixture(scope="module")
def stack(devstack) -> StackClient:
    return StackClient(devstack.url)


@pytest.fixture
def second_page(browser, devstack) -> Iterator[Any]:
    context = browser.new_context(base_url=devstack.url, locale="pt-BR")
    yield context.new_page()
    context.close()


def test_the_owner_switches_accounts_edits_the_profile_and_adds_a_contact_with_the_keyboard(page):
    # Given the owner, signed in
    sign_in(page, OWNER)
    page.wait_for_url("**/")
    # When she switches to her Spanish account and back, Then the pages follow the account chosen
    page.get_by_label("Conta", exact=True).select_option(label="Ana Souza Estudio")
    page.get_by_role("button", name="Trocar").click()
    page.goto("/profile")
    assert "Ana Souza Estudio" in page.locator("main").inner_text()
    page.get_by_label("Conta", exact=True).select_option(label="Ana Souza Design")
    page.get_by_role("button", name="Trocar").click()
    assert "Ana Souza Design" in page.locator("main").inner_text()
    assert heading(page) == "Dados cadastrais"
    screenshot(page, "identity-profile")
    # When she saves a wrong CPF and CEP, Then they come back in the error summary, tied to their fields
    page.get_by_role("link", name="Editar os dados cadastrais").click()
    checked(page, "profile-edit")
    page.get_by_label("CPF/CNPJ").fill("111.444.777-00")
    page.get_by_label("Logradouro").fill("Avenida Paulista")
    page.get_by_label("Cidade").fill("São Paulo")
    page.get_by_label("Estado ou província").fill("SP")
    page.get_by_label("CEP ou código postal").fill("123")
    page.get_by_label("País").select_option("BR")
    page.get_by_role("button", name="Salvar").click()
    summary = page.locator("#form-errors")
    assert "Informe um CEP com 8 dígitos" in summary.inner_text()
    assert page.get_by_label("CPF/CNPJ").get_attribute("aria-invalid") == "true"
    checked(page, "profile-edit-errors")
    page.get_by_label("CPF/CNPJ").fill("529.982.247-25")
    page.get_by_label("CEP ou código postal").fill("01310-100")
    page.get_by_role("button", name="Salvar").click()
    page.wait_for_url("**/profile?notice=saved")
    assert "CPF 529.982.247-25" in page.locator("main").inner_text()
    page.get_by_role("link", name="Solicitar o encerramento da conta").click()
    checked(page, "profile-closure")
    # When she adds a contact with the keyboard only, Then it is listed, with a warning about its mail provider
    page.goto("/contacts")
    tab_to(page, "#field-name")
    page.keyboard.type("Caio Financeiro")
    page.keyboard.press("Tab")
    page.keyboard.type("caio@hotmail.com")
    tab_to(page, "#field-departments-general")
    page.keyboard.press("Space")  # untick "Geral"
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # tick "Financeiro"
    tab_to(page, "form[action='/contacts'] button[type='submit']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/contacts?notice=contact_added")
    row = page.get_by_role("row", name=re.compile("Caio Financeiro"))
    assert "Financeiro" in row.inner_text()
    assert "Microsoft" in page.locator(".notice.warning").first.inner_text()
    screenshot(page, "identity-contacts")
    row.get_by_role("link", name=re.compile("^Editar")).click()
    checked(page, "contact-edit")
    page.goto("/contacts")
    page.get_by_role("row", name=re.compile("Caio Financeiro")).get_by_role("link", name=re.compile("^Remover")).click()
    checked(page, "contact-delete")
    page.goto("/contacts")
    page.get_by_role("row", name=re.compile("Caio Financeiro")).get_by_role(
        "link", name=re.compile("^Transformar")
    ).click()
    checked(page, "contact-invite")
    page.goto("/audit")
    assert "Adicionou um contato" in page.locator("main").inner_text()
    screenshot(page, "identity-audit")


def test_an_invited_person_signs_up_accepts_and_the_owner_manages_them(page, second_page, stack):
    guest = f"convidada-{uuid.uuid4().hex[:8]}@example.com"
    # Given the owner, who invites someone with two permissions
    sign_in(page, OWNER)
    page.goto("/users")
    invite = page.locator("form[action='/users/invitations']")
    invite.get_by_role("textbox", name="E-mail", exact=True).fill(guest)
    invite.get_by_label("Contatos", exact=True).check()
    invite.get_by_label("Histórico de e-mails", exact=True).check()
    invite.get_by_role("button", name="Enviar o convite").click()
    page.wait_for_url("**/users?notice=invited")
    assert guest in page.get_by_role("row", name=re.compile(re.escape(guest))).inner_text()
    screenshot(page, "identity-users")
    stack.settle()
    link = next(w for w in stack.mail(guest)[0]["text"].split() if "/invitations/" in w)
    path = "/invitations/" + link.rsplit("/", 1)[1]
    # When the guest opens the link before having a login, signs up, confirms and accepts
    # Then she works in the owner's account
    second_page.goto(path)
    checked(second_page, "invitation-sign-in")
    second_page.get_by_role("link", name="Criar uma conta").click()
    second_page.get_by_label("Nome completo").fill("Gina Convidada")
    second_page.get_by_role("textbox", name="E-mail", exact=True).fill(guest)
    second_page.locator("#field-password").fill(NEW_PASSWORD)
    second_page.get_by_role("checkbox").check()
    second_page.get_by_role("button", name="Criar conta").click()
    second_page.wait_for_url("**/signup/confirm*")
    stack.settle()
    second_page.get_by_label("Código").fill(stack.code_in(guest, "confirmação"))
    second_page.get_by_role("button", name="Confirmar").click()
    second_page.wait_for_url("**/login?notice=confirmed")
    stack.settle()  # the welcome email lands in her new account's log
    second_page.goto(path)
    second_page.locator("main").get_by_role("link", name="Entrar").click()
    second_page.get_by_role("textbox", name="E-mail", exact=True).fill(guest)
    second_page.locator("#field-password").fill(NEW_PASSWORD)
    second_page.get_by_role("button", name="Entrar").click()
    second_page.wait_for_url(f"**{path}")
    assert "Ana Souza convida você para atuar na conta Ana Souza Design." in second_page.locator("main").inner_text()
    checked(second_page, "invitation")
    second_page.get_by_role("button", name="Aceitar o convite").click()
    second_page.wait_for_url("**/?notice=invitation_accepted")
    assert "Ana Souza Design" in second_page.get_by_label("Conta", exact=True).inner_text()
    # And her own account's email log holds the welcome email, shown as text and in a sandboxed frame
    second_page.get_by_label("Conta", exact=True).select_option(label="Gina Convidada")
    second_page.get_by_role("button", name="Trocar").click()
    second_page.goto("/emails")
    screenshot(second_page, "identity-emails")
    second_page.locator("main table a").first.click()
    assert second_page.locator("iframe.email-html").get_attribute("sandbox") == ""
    assert "Gina Convidada" in second_page.frame_locator("iframe.email-html").locator("body").inner_text()
    checked(second_page, "email")
    # chromium leaves sandboxed frames out of full-page screenshots: the frame gets one of its own
    second_page.locator("iframe.email-html").screenshot(path=str(ARTIFACTS / "identity-email-html.png"))
    # When the owner looks at her users, Then she sees the guest, can change her permissions, and reaches the removal and transfer confirmations
    page.goto("/users")
    card = page.locator("ul.people > li", has_text=guest)
    card.get_by_label("Dados cadastrais", exact=True).check()
    card.get_by_role("button", name=re.compile("Salvar as permissões")).click()
    page.wait_for_url("**/users?notice=saved")
    page.locator("ul.people > li", has_text=guest).get_by_role("link", name=re.compile("^Remover da conta")).click()
    checked(page, "user-remove")
    page.goto("/users")
    page.locator("ul.people > li", has_text=guest).get_by_role(
        "link", name=re.compile("^Tornar este usuário titular")
    ).click()
    checked(page, "owner-transfer")
    # When the guest leaves the account herself, Then she is back in her own
    second_page.goto("/security")
    second_page.get_by_role("link", name=re.compile("^Sair da conta Ana Souza Design")).click()
    checked(second_page, "leave")
    second_page.get_by_role("button", name="Sair da conta").click()
    second_page.wait_for_url("**/?notice=left_account")


def next_code(secret: str, after_step: int | None) -> tuple[str, int]:
    """A code for the current 30-second step, or for the step after ``after_step`` when that one was spent: the
    server accepts one step of drift and refuses a step already used, so two codes never wait for the clock."""
    step = int(time.time()) // 30
    if after_step is not None:
        step = max(step, after_step + 1)
    return totp_code(secret, step * 30), step


def turn_off_with_a_recovery_code(stack: StackClient, code: str) -> None:
    """Leave the demo login as the other tests expect it (two-factor authentication off) after a failure."""
    login = stack.login(OWNER)
    if login.get("challenge") == "totp":
        stack.post("/api/auth/mfa", {"session": login["session"], "code": code}).raise_for_status()


def test_the_owner_turns_on_two_factor_authentication_and_signs_in_with_it(page, stack):
    # Given the demo owner, signed in, on her security page
    sign_in(page, OWNER)
    page.goto("/security")
    assert "Esta sessão" in page.locator("main").inner_text()
    screenshot(page, "identity-security")
    # When she changes her login email, Then a code goes to the new address (not confirmed: the demo login stays)
    page.get_by_label("Novo e-mail de acesso").fill(f"ana-{uuid.uuid4().hex[:6]}@example.com")
    page.get_by_role("button", name="Enviar o código").click()
    page.wait_for_url("**/security/email?*")
    checked(page, "email-change-code")
    # When she sets up two-factor authentication with the QR code and a first code
    page.goto("/security")
    page.get_by_role("button", name="Configurar a autenticação em dois fatores").click()
    assert page.locator(".qr-code svg").is_visible()
    checked(page, "totp-setup")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    code, step = next_code(secret, None)
    page.get_by_label("Digite o código de 6 dígitos que o aplicativo mostra").fill(code)
    page.get_by_role("button", name="Ativar a autenticação em dois fatores").click()
    # Then she gets ten recovery codes
    recovery = [c.inner_text().strip() for c in page.locator("ul.recovery-codes li").all()]
    assert len(recovery) == 10
    checked(page, "recovery-codes")
    two_factor_on = True
    try:
        # When she signs in again, Then the login asks for a code from the app, and lets her in with it
        sign_out(page)
        sign_in(page, OWNER)
        expect(page.get_by_role("heading", level=1)).to_have_text("Autenticação em dois fatores")
        checked(page, "login-totp")
        code, step = next_code(secret, step)
        page.get_by_label("Código").fill(code)
        page.get_by_role("button", name="Continuar").click()
        page.wait_for_url("**/")
        page.goto("/security")
        assert "Ativada" in page.locator("main").inner_text()
        checked(page, "security-2fa-on")
        # When she has lost her phone and signs in with a recovery code instead
        sign_out(page)
        sign_in(page, OWNER)
        page.get_by_label("Código").fill(recovery[0])
        page.get_by_role("button", name="Continuar").click()
        page.wait_for_url("**/")
        # Then she is in, and two-factor authentication is off until she sets it up again
        page.goto("/security")
        assert "Desativada" in page.get_by_role("region", name="Autenticação em dois fatores").inner_text()
        two_factor_on = False
    finally:
        if two_factor_on:  # (each sign-in counts against the login's rate limit: only when needed)
            turn_off_with_a_recovery_code(stack, recovery[1])
