"""Request and response bodies of the invoice, credit and staff billing routes (API.md: invoices, credit, staff)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from balcao.contracts import Contract
from balcao.contracts.identity import Body, Timestamped
from balcao.domain.credit import CreditBalance, CreditEntry
from balcao.domain.dunning import suspension_notice_date
from balcao.domain.invoices import AppliedPayment, Buyer, CreditNote, Invoice, InvoiceLine, TaxAmount
from balcao.domain.money import Currency, Money
from balcao.services.invoices import Settled

CurrencyKey = Literal["BRL", "EUR"]
MethodKey = Literal["card", "pix", "boleto", "sepa", "credit"]
StatusFilter = Literal["issued", "payment_pending", "partially_paid", "paid", "cancelled", "refunded", "unpaid"]
ULID_TEXT = Field(min_length=1, max_length=64)


# --- money ----------------------------------------------------------------------------------------------------------
class BillingMoney(Contract):
    """``{"amount": <int minor units>, "currency": "BRL"|"EUR"}``."""

    amount: int
    currency: str

    @classmethod
    def of(cls, money: Money) -> BillingMoney:
        return cls(amount=money.amount, currency=money.currency.value)


class BillingMoneyIn(Body):
    amount: int = Field(ge=-100_000_000, le=100_000_000)
    currency: CurrencyKey

    def money(self) -> Money:
        return Money(self.amount, Currency(self.currency))


# --- invoices -----------------------------------------------------------------------------------------------------
class InvoiceLineOut(Contract):
    description: str
    quantity: int
    unit_price: BillingMoney
    tax_label: str | None
    tax_rate: str
    total: BillingMoney
    service_id: str | None
    period_start: date | None
    period_end: date | None

    @classmethod
    def of(cls, line: InvoiceLine) -> InvoiceLineOut:
        return cls(
            description=line.description,
            quantity=line.quantity,
            unit_price=BillingMoney.of(line.unit_price),
            tax_label=line.tax_label,
            tax_rate=str(line.tax_rate_percent),
            total=BillingMoney.of(line.net),
            service_id=line.service_id,
            period_start=line.period_start,
            period_end=line.period_end,
        )


class InvoiceTaxOut(Contract):
    label: str
    rate: str
    base: BillingMoney
    tax: BillingMoney

    @classmethod
    def of(cls, tax: TaxAmount) -> InvoiceTaxOut:
        return cls(
            label=tax.label, rate=str(tax.rate_percent), base=BillingMoney.of(tax.base), tax=BillingMoney.of(tax.tax)
        )


class InvoicePaymentOut(Timestamped):
    payment_id: str
    amount: BillingMoney
    method: str | None
    received_at: datetime

    @classmethod
    def of(cls, payment: AppliedPayment) -> InvoicePaymentOut:
        return cls(
            payment_id=payment.payment_id,
            amount=BillingMoney.of(payment.amount),
            method=payment.method.value if payment.method else None,
            received_at=payment.received_at,
        )


class CreditNoteRefOut(Timestamped):
    credit_note_id: str
    number: str
    total: BillingMoney
    issued_at: datetime


class BuyerOut(Contract):
    name: str
    tax_id: str | None
    address_lines: list[str]
    email: str
    country: str

    @classmethod
    def of(cls, buyer: Buyer) -> BuyerOut:
        return cls(
            name=buyer.name,
            tax_id=buyer.tax_id,
            address_lines=list(buyer.address_lines),
            email=buyer.email,
            country=buyer.country,
        )


class InvoiceSummaryOut(Timestamped):
    invoice_id: str
    number: str | None
    kind: str
    status: str
    is_overdue: bool
    subtotal: BillingMoney
    tax: BillingMoney
    total: BillingMoney
    amount_due: BillingMoney
    due_date: date
    issue_date: date | None
    payment_method: str | None

    @classmethod
    def fields_of(cls, invoice: Invoice, today: date) -> dict[str, Any]:
        return {
            "invoice_id": invoice.invoice_id,
            "number": invoice.number,
            "kind": invoice.kind.value,
            "status": invoice.status.value,
            "is_overdue": invoice.is_overdue(today),
            "subtotal": BillingMoney.of(invoice.totals.subtotal),
            "tax": BillingMoney.of(invoice.totals.tax),
            "total": BillingMoney.of(invoice.total),
            "amount_due": BillingMoney.of(invoice.amount_due),
            "due_date": invoice.due_date,
            "issue_date": invoice.issue_date,
            "payment_method": invoice.payment_method.value if invoice.payment_method else None,
        }

    @classmethod
    def of(cls, invoice: Invoice, today: date) -> InvoiceSummaryOut:
        return cls(**cls.fields_of(invoice, today))


class InvoiceOut(InvoiceSummaryOut):
    account_id: str
    currency: str
    amount_paid: BillingMoney
    amount_credited: BillingMoney
    lines: list[InvoiceLineOut]
    taxes: list[InvoiceTaxOut]
    payments: list[InvoicePaymentOut]
    credit_notes: list[CreditNoteRefOut]
    buyer: BuyerOut | None
    refers_to: str | None
    notes: list[str]
    issued_at: datetime | None
    paid_at: datetime | None
    cancelled_at: datetime | None
    # "Service will be suspended on …": while the invoice is open, not paused by a payment on its way (dunning).
    suspension_date: date | None = None

    @classmethod
    def of(cls, invoice: Invoice, today: date) -> InvoiceOut:
        return cls(
            **cls.fields_of(invoice, today),
            account_id=invoice.account_id,
            currency=invoice.currency.value,
            amount_paid=BillingMoney.of(invoice.amount_paid),
            amount_credited=BillingMoney.of(invoice.amount_credited),
            lines=[InvoiceLineOut.of(line) for line in invoice.lines],
            taxes=[InvoiceTaxOut.of(t) for t in invoice.totals.taxes],
            payments=[InvoicePaymentOut.of(p) for p in invoice.payments],
            credit_notes=[
                CreditNoteRefOut(
                    credit_note_id=n.credit_note_id,
                    number=n.number,
                    total=BillingMoney.of(n.total),
                    issued_at=n.issued_at,
                )
                for n in invoice.credit_notes
            ],
            buyer=BuyerOut.of(invoice.buyer) if invoice.buyer else None,
            refers_to=invoice.refers_to,
            notes=list(invoice.notes),
            issued_at=invoice.issued_at,
            paid_at=invoice.paid_at,
            cancelled_at=invoice.cancelled_at,
            suspension_date=suspension_notice_date(invoice, invoice.suspension_date, today),
        )


class InvoiceList(Contract):
    items: list[InvoiceSummaryOut]
    next: str | None
    total_due: list[BillingMoney]


class PaymentMethodIn(Body):
    method: MethodKey


# --- credit ----------------------------------------------------------------------------------------------------------
class CreditEntryOut(Timestamped):
    entry_id: str
    kind: str
    amount: BillingMoney
    at: datetime
    invoice_id: str | None
    note: str | None

    @classmethod
    def of(cls, entry: CreditEntry) -> CreditEntryOut:
        return cls(
            entry_id=entry.entry_id,
            kind=entry.kind.value,
            amount=BillingMoney.of(entry.amount),
            at=entry.at,
            invoice_id=entry.invoice_id,
            note=entry.note,
        )


class CreditOut(Contract):
    balance: BillingMoney
    auto_apply: bool
    items: list[CreditEntryOut]
    next: str | None

    @classmethod
    def of(cls, balance: CreditBalance, entries: list[CreditEntry], next_cursor: str | None) -> CreditOut:
        assert balance.balance is not None
        return cls(
            balance=BillingMoney.of(balance.balance),
            auto_apply=balance.auto_apply,
            items=[CreditEntryOut.of(e) for e in entries],
            next=next_cursor,
        )


class AddFundsIn(Body):
    amount: BillingMoneyIn


class AddFundsOut(Contract):
    invoice_id: str
    number: str | None
    amount_due: BillingMoney


class CreditSettingsIn(Body):
    auto_apply: bool


# --- staff ------------------------------------------------------------------------------------------------------------
class StaffInvoiceLineIn(Body):
    description: str = Field(min_length=1, max_length=200)
    quantity: int = Field(default=1, ge=1, le=10_000)
    unit_price: BillingMoneyIn
    tax_category: str | None = Field(default="standard", max_length=40)


class StaffInvoiceIn(Body):
    account_id: str = ULID_TEXT
    lines: list[StaffInvoiceLineIn] = Field(min_length=1, max_length=50)
    issue: bool = False
    due_date: date | None = None
    notes: list[str] = Field(default_factory=list, max_length=5)


class StaffPaymentIn(Body):
    amount: BillingMoneyIn
    method: MethodKey | None = None
    reference: str | None = Field(default=None, min_length=1, max_length=100)


class StaffPaymentOut(Contract):
    payment_id: str
    invoice_id: str
    amount: BillingMoney
    applied: BillingMoney
    credited: BillingMoney
    duplicate: bool
    invoice: InvoiceOut

    @classmethod
    def of(cls, settled: Settled, today: date) -> StaffPaymentOut:
        payment = settled.payment
        return cls(
            payment_id=payment.payment_id,
            invoice_id=payment.invoice_id,
            amount=BillingMoney.of(payment.amount),
            applied=BillingMoney.of(payment.applied),
            credited=BillingMoney.of(payment.credited),
            duplicate=settled.duplicate,
            invoice=InvoiceOut.of(settled.invoice, today),
        )


class CreditNoteLineIn(Body):
    line: int = Field(ge=0, le=49)
    quantity: int = Field(ge=1, le=10_000)


class CreditNoteIn(Body):
    lines: list[CreditNoteLineIn] | None = Field(default=None, min_length=1, max_length=50)
    reason: str = Field(min_length=1, max_length=300)


class CreditNoteOut(Timestamped):
    credit_note_id: str
    number: str | None
    invoice_id: str
    invoice_reference: str
    subtotal: BillingMoney
    tax: BillingMoney
    total: BillingMoney
    lines: list[InvoiceLineOut]
    reason: str
    issued_at: datetime

    @classmethod
    def of(cls, note: CreditNote) -> CreditNoteOut:
        return cls(
            credit_note_id=note.credit_note_id,
            number=note.number,
            invoice_id=note.invoice_id,
            invoice_reference=note.invoice_reference,
            subtotal=BillingMoney.of(note.totals.subtotal),
            tax=BillingMoney.of(note.totals.tax),
            total=BillingMoney.of(note.totals.total),
            lines=[InvoiceLineOut.of(line) for line in note.lines],
            reason=note.reason,
            issued_at=note.issued_at,
        )


class StaffCreditIn(Body):
    amount: BillingMoneyIn
    note: str = Field(min_length=1, max_length=300)
