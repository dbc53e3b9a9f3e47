"""Demo invoices and credit (a step of ``devstack.seed``): on Ana's Brazilian account an unpaid, an overdue, a paid
and a payment-pending (boleto) invoice and some credit; on her Spanish account one unpaid invoice with IVA and one
paid; on Bruno's an unpaid and a paid one. Written through the invoice use-cases without announcing them (no
emails); their PDFs are made on the first download."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devstack.seed import SeedContext

BOLETO_BANK = "341"
BOLETO_FREE_FIELD = "1090000000000000000012345"


def seed_invoices(context: SeedContext) -> None:
    from balcao.domain.credit import CreditKind
    from balcao.domain.invoice_document import PaymentMethod
    from balcao.domain.money import Money
    from balcao.domain.payments.boleto import barcode_to_digitable_line, build_barcode
    from balcao.runtime.invoices_composition import invoices
    from balcao.services.invoices import STAFF_SOURCE, LineInput

    service = invoices()
    service.announce = False
    today = service.today()
    ana_br, ana_es = context.account_ids["ana@example.com"]
    (bruno,) = context.account_ids["bruno@example.com"]
    seeded: dict[str, list[str]] = {}

    def issue(account_id: str, description: str, amount: int, currency: str, due_in_days: int) -> str:
        line = LineInput(description, 1, Money.of(amount, currency), "hosting")
        invoice = service.create(account_id, [line], issue=True, due_date=today + timedelta(days=due_in_days))
        seeded.setdefault(account_id, []).append(invoice.invoice_id)
        return invoice.invoice_id

    def pay(account_id: str, invoice_id: str, method: PaymentMethod) -> None:
        invoice = service.invoice(account_id, invoice_id)
        service.settle_payment(account_id, invoice_id, invoice.amount_due, STAFF_SOURCE, f"seed-{invoice_id}", method)

    issue(ana_br, "Hospedagem Profissional — anasouza.com.br", 4990, "BRL", 10)
    issue(ana_br, "Domínio anasouza.com.br (anual)", 4000, "BRL", -6)
    paid = issue(ana_br, "Hospedagem Profissional — anasouza.com.br", 4990, "BRL", -20)
    pay(ana_br, paid, PaymentMethod.PIX)
    pending = issue(ana_br, "Certificado SSL — loja.anasouza.com.br", 8990, "BRL", 3)
    due = today + timedelta(days=3)
    barcode = build_barcode(BOLETO_BANK, due, Money.of(8990, "BRL"), BOLETO_FREE_FIELD)
    service.mark_payment_pending(
        ana_br,
        pending,
        PaymentMethod.BOLETO,
        {"boleto_digitable_line": barcode_to_digitable_line(barcode), "boleto_due_date": due.isoformat()},
    )
    service.add_credit(ana_br, Money.of(2500, "BRL"), "Cortesia pela migração", CreditKind.MANUAL)

    issue(ana_es, "Alojamiento Profesional — estudiosouza.es", 1290, "EUR", 12)
    paid_es = issue(ana_es, "Dominio estudiosouza.es (anual)", 1500, "EUR", -15)
    pay(ana_es, paid_es, PaymentMethod.SEPA)

    issue(bruno, "Hospedagem Básica — brunolima.dev", 1990, "BRL", 7)
    paid_bruno = issue(bruno, "Hospedagem Básica — brunolima.dev", 1990, "BRL", -25)
    pay(bruno, paid_bruno, PaymentMethod.CARD)

    context.facts["invoices"] = seeded
