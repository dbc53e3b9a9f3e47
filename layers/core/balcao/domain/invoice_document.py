"""What an invoice or credit note prints: the render model of the PDF, built from an invoice by the billing use-cases.

Everything here is already decided: numbers, amounts, rates and texts are printed as given, in the document's
``language``; only labels, money, percentages and dates are formatted by the presentation layer. Money is always
``Money`` and every amount is in the document's currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from balcao.domain.errors import N_, CurrencyMismatchError
from balcao.domain.money import Currency, Money

# Invoice statuses of API.md; the PDF prints the status, translated.
DOCUMENT_STATUSES: frozenset[str] = frozenset(
    {"draft", "issued", "payment_pending", "partially_paid", "paid", "cancelled", "refunded"}
)

# Label of the reference a credit note carries to the invoice it corrects.
REFERENCE_ORIGINAL_INVOICE = N_("Original invoice")


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class PaymentMethod(StrEnum):
    CARD = "card"
    PIX = "pix"
    BOLETO = "boleto"
    SEPA = "sepa"
    CREDIT = "credit"


@dataclass(frozen=True, slots=True)
class Party:
    """The seller or the buyer as printed; ``tax_id`` is a display string such as ``CNPJ 12.345.678/0001-90``."""

    name: str
    tax_id: str | None = None
    address_lines: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    logo_png: bytes | None = None


@dataclass(frozen=True, slots=True)
class DocumentLine:
    """One billed item; the period is the service period it covers, when it has one."""

    description: str
    quantity: int
    unit_price: Money
    tax_rate_percent: Decimal
    total: Money
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True, slots=True)
class TaxBreakdownLine:
    """The tax of one rate: ``label`` is the tax's own name (IVA, ISS), printed as given."""

    label: str
    rate_percent: Decimal
    base: Money
    tax: Money


@dataclass(frozen=True, slots=True)
class DocumentReference:
    """Another document this one refers to; ``label`` is a msgid such as ``REFERENCE_ORIGINAL_INVOICE``."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class PaymentInstructions:
    """How the chosen method pays the amount due; only the fields of that method are set."""

    method: PaymentMethod
    pix_copy_paste: str | None = None
    boleto_digitable_line: str | None = None
    boleto_due_date: date | None = None
    sepa_mandate_reference: str | None = None
    sepa_creditor_identifier: str | None = None
    sepa_debit_date: date | None = None
    bank_details: str | None = None
    pay_url: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """An invoice or credit note ready to print. A draft has no ``number`` yet."""

    kind: DocumentKind
    number: str | None
    status: str
    issue_date: date
    due_date: date
    language: str
    currency: Currency
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    subtotal: Money
    tax: Money
    total: Money
    amount_paid: Money
    amount_due: Money
    tax_breakdown: tuple[TaxBreakdownLine, ...] = ()
    notes: tuple[str, ...] = ()
    payment: PaymentInstructions | None = None
    references: tuple[DocumentReference, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in DOCUMENT_STATUSES:
            raise ValueError(f"unknown document status {self.status!r}")
        if any(amount.currency != self.currency for amount in self._amounts()):
            raise CurrencyMismatchError()

    @property
    def instructions_to_print(self) -> PaymentInstructions | None:
        """The payment instructions, only while something is still to be paid."""
        return self.payment if self.amount_due.amount > 0 else None

    def _amounts(self) -> list[Money]:
        amounts = [self.subtotal, self.tax, self.total, self.amount_paid, self.amount_due]
        for line in self.lines:
            amounts.extend((line.unit_price, line.total))
        for tax in self.tax_breakdown:
            amounts.extend((tax.base, tax.tax))
        return amounts
