"""Given-steps for billing: invoices issued through the use-cases, service items as the due-date index expects them,
and the ledger's sum read straight from the table."""

from __future__ import annotations

from datetime import date

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import CreditEntryItem, ServiceItem
from balcao.domain.ids import new_ulid
from balcao.domain.invoices import Invoice
from balcao.domain.money import Money
from balcao.runtime.invoices_composition import invoices
from balcao.services.invoices import LineInput


def given_issued_invoice(account_id: str, amount: int = 4990, currency: str = "BRL", **options) -> Invoice:
    line = LineInput("Hospedagem Profissional", 1, Money.of(amount, currency), options.pop("tax_category", "standard"))
    return invoices().create(account_id, [line], issue=True, **options)


def given_invoice_with_credit_note(account_id: str) -> dict[str, str]:
    """An issued invoice and a credit note for part of it (what the BOLA matrix attacks)."""
    service = invoices()
    invoice = service.create(
        account_id,
        [
            LineInput("Hospedagem Profissional", 1, Money.of(4990, "BRL")),
            LineInput("Suporte Premium", 1, Money.of(1990, "BRL")),
        ],
        issue=True,
    )
    note = service.issue_credit_note(invoice.invoice_id, [(1, 1)], "Suporte cobrado em duplicidade")
    return {"invoice_id": invoice.invoice_id, "credit_note_id": note.credit_note_id}


def given_service(
    account_id: str,
    next_due: date,
    *,
    price: int = 4990,
    currency: str = "BRL",
    cycle: str = "monthly",
    product_id: str = "hosting-pro",
    status: str = "active",
    tax_category: str | None = "hosting",
    auto_renew: bool = True,
) -> str:
    """A service item with its billing data and its GSI2 entry ``DUE#{next_due}`` (what the services capability
    writes)."""
    service_id = new_ulid()
    ServiceItem(
        pk=keys.account_pk(account_id),
        sk=keys.service_sk(service_id),
        gsi2pk=keys.gsi2_due_pk(next_due.isoformat()),
        gsi2sk=keys.gsi2_service_sk(service_id),
        service_id=service_id,
        account_id=account_id,
        name="Hospedagem Profissional",
        domain="lojadaana.com.br",
        status=status,
        product_id=product_id,
        cycle=cycle,
        price=price,
        currency=currency,
        tax_category=tax_category,
        next_due_date=next_due.isoformat(),
        auto_renew=auto_renew,
    ).save()
    return service_id


def service_due_date(account_id: str, service_id: str) -> str | None:
    return ServiceItem.get(keys.account_pk(account_id), keys.service_sk(service_id)).next_due_date


def ledger_sum(account_id: str) -> int:
    """The sum of every credit ledger entry of the account, read from the table."""
    items = CreditEntryItem.query(keys.account_pk(account_id), CreditEntryItem.sk.startswith(keys.CREDIT_PREFIX))
    return sum(int(item.amount) for item in items)
