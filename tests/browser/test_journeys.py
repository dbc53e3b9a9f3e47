"""Customer journeys in chromium, in pt-BR, on the demo data: a customer pays an unpaid invoice with PIX in the
sandbox (QR code, copia-e-cola with its copy button, settled by the sandbox provider) and sees it paid; he then asks
for the cancellation of a service from its page, sees when it ends, and keeps it after all."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from support.browser import blocking_violations, screenshot, sign_in

CUSTOMER = "bruno@example.com"


def checked(page: Any, name: str) -> None:
    """Screenshot the page and check it with axe: nothing serious or critical."""
    screenshot(page, f"journey-{name}")
    assert not blocking_violations(page), name


def main_text(page: Any) -> str:
    return str(page.locator("main").inner_text())


def test_a_customer_pays_an_invoice_with_sandbox_pix(page, devstack):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=devstack.url)
    # Given Bruno, signed in, with an unpaid invoice of R$ 19,90
    sign_in(page, CUSTOMER)
    page.locator("nav.main-nav").get_by_role("link", name="Faturas").click()
    page.get_by_role("row", name=re.compile(r"19,90.*Em aberto")).get_by_role("link").first.click()
    invoice_url = page.url
    invoice_id = invoice_url.rstrip("/").rsplit("/", 1)[1]
    expect(page.locator("main")).to_contain_text("A pagar: R$\xa019,90")
    # When he chooses to pay it with PIX
    page.get_by_role("link", name="Pagar esta fatura").click()
    checked(page, "pay-choose-method")
    page.get_by_label("PIX", exact=True).check()
    page.get_by_role("button", name="Continuar").click()
    page.wait_for_url(re.compile(r".*/payments/\w+$"))
    payment_url = page.url
    # Then he sees the QR code and the copia-e-cola code, which the copy button puts on the clipboard
    assert page.get_by_role("heading", level=1).inner_text() == "Seu pagamento"
    pix = page.get_by_role("region", name="Pagar com PIX")
    expect(pix.locator(".qr svg")).to_be_visible()
    code = page.get_by_label("Código PIX").input_value()
    assert code.startswith("000201"), code  # an EMV "copia e cola" payload
    expect(page.locator("main")).to_contain_text("Aguardando o pagamento")
    pix.get_by_role("button", name="Copiar o código").click()
    expect(page.locator("#pix-copied")).to_have_text("Copiado.")
    assert page.evaluate("navigator.clipboard.readText()") == code
    checked(page, "pix")
    # When the sandbox provider settles the payment (a signed webhook, as the real one would send)
    settled = page.request.post(f"/_dev/pay/{invoice_id}", data={"outcome": "paid"})
    assert settled.ok and settled.json()["status"] == "paid", settled.text()
    # Then the payment page thanks him, and the invoice shows paid with the PIX payment
    page.goto(payment_url)
    expect(page.locator("main .notice.success")).to_have_text("Obrigado! O pagamento foi recebido.")
    expect(page.locator("main dl.details .status")).to_have_text("Paga")
    checked(page, "pix-paid")
    page.goto(invoice_url)
    expect(page.locator("main p .status").first).to_have_text("Paga")
    payments = page.get_by_role("region", name="Pagamentos")
    expect(payments).to_contain_text("PIX")
    expect(payments).to_contain_text("R$\xa019,90")
    expect(page.get_by_role("link", name="Pagar esta fatura")).to_have_count(0)
    checked(page, "invoice-paid")


def test_a_customer_requests_the_cancellation_of_a_service_and_keeps_it(page):
    # Given Bruno, signed in, on the page of his active hosting plan
    sign_in(page, CUSTOMER)
    page.locator("nav.main-nav").get_by_role("link", name="Serviços").click()
    page.get_by_role("link", name="brunolima.dev", exact=True).click()
    service_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("brunolima.dev")
    # When he asks to cancel it at the end of the paid period, giving a reason
    page.get_by_role("link", name="Cancelar o serviço").click()
    checked(page, "cancellation")
    page.get_by_role("button", name="Solicitar o cancelamento").click()
    # (without a reason first: the error comes back tied to its field)
    expect(page.locator("#form-errors")).to_contain_text("Conte para nós por que está cancelando.")
    expect(page.get_by_label("Por que você está cancelando?")).to_have_attribute("aria-invalid", "true")
    checked(page, "cancellation-errors")
    page.get_by_label("No fim do período já pago").check()
    page.get_by_label("Por que você está cancelando?").fill("Vou migrar o site para outro servidor.")
    page.get_by_role("button", name="Solicitar o cancelamento").click()
    # Then the service page confirms it, with the date it ends, and no further plan change is offered
    page.wait_for_url(re.compile(r".*/services/\w+\?notice=cancellation_requested$"))
    expect(page.locator("main .notice.success")).to_contain_text("O cancelamento foi solicitado.")
    expect(page.locator("main .notice.warning")).to_contain_text("Este serviço será cancelado em")
    expect(page.get_by_role("link", name="Cancelar o serviço")).to_have_count(0)
    checked(page, "cancellation-requested")
    # When he changes his mind and keeps it
    page.locator("main .notice.warning").get_by_role("button", name="Manter o serviço").click()
    # Then the service goes on as before
    page.wait_for_url(re.compile(r".*/services/\w+\?notice=cancellation_withdrawn$"))
    expect(page.get_by_role("link", name="Cancelar o serviço")).to_be_visible()
    assert page.url.startswith(service_url)
