"""Invoices: statuses as a state machine, lines, taxes, totals, the buyer snapshot and what a payment does.

An invoice is a draft until it is issued; from then on it is immutable except for what payments, the payment method
and credit notes do to it (corrections are credit notes, never edits). The buyer is copied at issue and never
changes afterwards.

Money rules (decision 0010):
- every line's net amount is ``quantity × unit_price``, exact in minor units (prices are net of tax);
- tax is computed once per (tax, rate) on the sum of the lines at that rate, with the currency's rounding rule
  (BRL half-even, ABNT NBR 5891; EUR half-up to the nearest cent), so the PDF, the API and accounting agree;
- ``total = subtotal + tax``; ``amount_due = total − paid − credited`` and never goes below zero: what a payment or
  a credit note brings beyond it is credit on the account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from balcao.domain.errors import N_, ConflictError, CurrencyMismatchError, FieldProblem, InvalidInputError
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.money import Currency, Money


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PAYMENT_PENDING = "payment_pending"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


# ``?status=unpaid`` (API.md): what is still open for payment.
UNPAID_STATUSES = frozenset({InvoiceStatus.ISSUED, InvoiceStatus.PAYMENT_PENDING, InvoiceStatus.PARTIALLY_PAID})
# What the customer sees: everything but drafts.
VISIBLE_STATUSES = frozenset(InvoiceStatus) - {InvoiceStatus.DRAFT}

TRANSITIONS: Mapping[InvoiceStatus, frozenset[InvoiceStatus]] = {
    InvoiceStatus.DRAFT: frozenset({InvoiceStatus.ISSUED}),
    InvoiceStatus.ISSUED: frozenset(
        {InvoiceStatus.PAYMENT_PENDING, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID, InvoiceStatus.CANCELLED}
    ),
    InvoiceStatus.PAYMENT_PENDING: frozenset(
        {InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID, InvoiceStatus.CANCELLED}
    ),
    InvoiceStatus.PARTIALLY_PAID: frozenset(
        {InvoiceStatus.PAYMENT_PENDING, InvoiceStatus.PAID, InvoiceStatus.CANCELLED}
    ),
    # Reversals (refunds, chargebacks) move a paid invoice back; the payments capability drives them.
    InvoiceStatus.PAID: frozenset({InvoiceStatus.REFUNDED, InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID}),
    InvoiceStatus.CANCELLED: frozenset(),
    InvoiceStatus.REFUNDED: frozenset(),
}


class InvoiceKind(StrEnum):
    ORDER = "order"
    RENEWAL = "renewal"
    UPGRADE = "upgrade"
    ADD_FUNDS = "add_funds"
    MANUAL = "manual"
    LATE_FEE = "late_fee"


class NumberAt(StrEnum):
    """When an invoice of a series gets its number: when issued (default) or when paid (no rectificativa is ever
    needed for an order nobody paid)."""

    ISSUE = "issue"
    PAYMENT = "payment"


# --- errors -------------------------------------------------------------------------------------------------------
class InvalidInvoiceTransitionError(ConflictError):
    """A status change the state machine does not allow."""

    default_message = N_("This invoice cannot change that way in its current status.")


class InvoiceNotDraftError(InvalidInvoiceTransitionError):
    default_message = N_("Only a draft invoice can be issued, edited or voided.")


class InvoiceNotOpenError(InvalidInvoiceTransitionError):
    default_message = N_("This invoice is not open for payment.")


class InvoiceNotCreditableError(InvalidInvoiceTransitionError):
    default_message = N_("Only an issued invoice can be corrected with a credit note.")


class InvoiceChangedError(ConflictError):
    """Someone changed the invoice since it was read (optimistic locking)."""

    default_message = N_("This invoice was changed at the same time. Reload and try again.")


class EmptyInvoiceError(InvalidInputError):
    def __init__(self) -> None:
        message = N_("An invoice needs at least one line.")
        super().__init__([FieldProblem(field="lines", code="required", message=message)], message)


class InvoiceLineInvalidError(InvalidInputError):
    """A line with a quantity below one, a negative price or a price in another currency."""


class PaymentMethodNotAvailableError(InvalidInputError):
    """PIX and boleto pay only in reais; SEPA Direct Debit only in euros."""


class PaymentCurrencyMismatchError(CurrencyMismatchError):
    default_message = N_("The payment is in another currency than the invoice.")


# --- taxes --------------------------------------------------------------------------------------------------------
ANY_CATEGORY = "*"


@dataclass(frozen=True, slots=True)
class TaxRule:
    """A tax of a country on a product tax category (``*``: every taxed category), e.g. ES ``*`` IVA 21 %."""

    country: str
    category: str
    label: str
    rate_percent: Decimal


@dataclass(frozen=True, slots=True)
class TaxPolicy:
    rules: tuple[TaxRule, ...] = ()

    def rule_for(self, country: str | None, category: str | None) -> TaxRule | None:
        """The rule of the buyer's country for ``category``: an exact category wins over ``*``; none → untaxed.

        A line without a category (account credit, late fees) is never taxed.
        """
        if category is None or country is None:
            return None
        exact = [r for r in self.rules if r.country == country and r.category == category]
        if exact:
            return exact[0]
        general = [r for r in self.rules if r.country == country and r.category == ANY_CATEGORY]
        return general[0] if general else None


# --- the buyer ----------------------------------------------------------------------------------------------------
COUNTRY_BY_CURRENCY: Mapping[Currency, str] = {Currency.BRL: "BR", Currency.EUR: "ES"}


@dataclass(frozen=True, slots=True)
class Buyer:
    """The buyer as printed on an issued invoice: copied from the account at issue, never changed afterwards.

    ``consumer``: a natural person (a Brazilian CPF, or no tax id at all), which caps late fees in Brazil.
    """

    account_id: str
    name: str
    email: str
    language: str
    country: str
    tax_id: str | None = None
    address_lines: tuple[str, ...] = ()
    consumer: bool = True
    currency: Currency | None = None  # the account's currency (not printed)


# --- lines and totals ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One billed item. ``tax_category`` None: never taxed; the label and rate are resolved when priced."""

    description: str
    quantity: int
    unit_price: Money
    tax_category: str | None = None
    tax_label: str | None = None
    tax_rate_percent: Decimal = Decimal(0)
    service_id: str | None = None
    period_start: date | None = None
    period_end: date | None = None

    def __post_init__(self) -> None:
        if self.quantity < 1 or self.quantity > 10_000:
            raise InvoiceLineInvalidError.single("quantity", N_("The quantity must be between 1 and 10,000."))
        if self.unit_price.is_negative:
            raise InvoiceLineInvalidError.single("unit_price", N_("A price cannot be negative."))

    @property
    def net(self) -> Money:
        return Money(self.unit_price.amount * self.quantity, self.unit_price.currency)

    def priced(self, policy: TaxPolicy, country: str | None) -> InvoiceLine:
        rule = policy.rule_for(country, self.tax_category)
        if rule is None:
            return replace(self, tax_label=None, tax_rate_percent=Decimal(0))
        return replace(self, tax_label=rule.label, tax_rate_percent=rule.rate_percent)


@dataclass(frozen=True, slots=True)
class TaxAmount:
    label: str
    rate_percent: Decimal
    base: Money
    tax: Money


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Money
    taxes: tuple[TaxAmount, ...]
    tax: Money
    total: Money


def compute_totals(lines: Sequence[InvoiceLine], currency: Currency) -> Totals:
    """Subtotal, one rounded tax per (tax, rate) and the total, in minor units (see the module's money rules)."""
    subtotal = Money.zero(currency)
    bases: dict[tuple[str, Decimal], Money] = {}
    for line in lines:
        if line.unit_price.currency != currency:
            raise CurrencyMismatchError()
        subtotal += line.net
        if line.tax_label is not None and line.tax_rate_percent > 0:
            key = (line.tax_label, line.tax_rate_percent)
            bases[key] = bases.get(key, Money.zero(currency)) + line.net
    taxes = tuple(TaxAmount(label, rate, base, base.percent(rate)) for (label, rate), base in sorted(bases.items()))
    tax = sum((t.tax for t in taxes), Money.zero(currency))
    return Totals(subtotal, taxes, tax, subtotal + tax)


# --- payments and credit notes on an invoice ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AppliedPayment:
    """A payment as the invoice lists it: the part applied to this invoice (the rest went to credit)."""

    payment_id: str
    amount: Money
    method: PaymentMethod | None
    source: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class CreditNoteRef:
    credit_note_id: str
    number: str
    total: Money
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a payment did: the invoice after it, the part applied to it and the excess that becomes credit."""

    invoice: Invoice
    applied: Money
    excess: Money


# --- the invoice ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: str
    account_id: str
    kind: InvoiceKind
    status: InvoiceStatus
    currency: Currency
    language: str
    lines: tuple[InvoiceLine, ...]
    totals: Totals
    amount_paid: Money
    amount_credited: Money
    due_date: date
    created_at: datetime
    number: str | None = None
    series: str | None = None
    number_at: NumberAt = NumberAt.ISSUE
    issued_at: datetime | None = None
    issue_date: date | None = None
    buyer: Buyer | None = None
    payment_method: PaymentMethod | None = None
    payments: tuple[AppliedPayment, ...] = ()
    credit_notes: tuple[CreditNoteRef, ...] = ()
    refers_to: str | None = None  # the overdue invoice a late fee is for
    notes: tuple[str, ...] = ()
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    record_hash: str | None = None
    previous_hash: str | None = None
    version: int | None = None
    instructions: Mapping[str, str] = field(default_factory=dict)
    # Read by dunning (payments capability): an issued boleto due on or before the suspension day pauses suspension
    # until this day (its due date plus 3 business days), once per invoice; ``boleto_pause_used`` records that once.
    suspension_paused_until: date | None = None
    boleto_pause_used: bool = False
    # Written by dunning: the current workflow execution (``{invoice_id}-{n}``) and the day its services will be
    # suspended if nothing is paid (what the customer is shown), as last planned.
    dunning_execution: str | None = None
    suspension_date: date | None = None

    @classmethod
    def draft(
        cls,
        *,
        invoice_id: str,
        account_id: str,
        kind: InvoiceKind,
        currency: Currency,
        language: str,
        lines: Iterable[InvoiceLine],
        due_date: date,
        created_at: datetime,
        refers_to: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> Invoice:
        items = tuple(lines)
        if not items:
            raise EmptyInvoiceError()
        return cls(
            invoice_id=invoice_id,
            account_id=account_id,
            kind=kind,
            status=InvoiceStatus.DRAFT,
            currency=currency,
            language=language,
            lines=items,
            totals=compute_totals(items, currency),
            amount_paid=Money.zero(currency),
            amount_credited=Money.zero(currency),
            due_date=due_date,
            created_at=created_at,
            refers_to=refers_to,
            notes=notes,
        )

    # --- reading ----------------------------------------------------------------------------------------------
    @property
    def total(self) -> Money:
        return self.totals.total

    @property
    def amount_due(self) -> Money:
        """What is still open: never negative; zero once paid, cancelled, refunded — and for a draft, the total."""
        if self.status in (InvoiceStatus.CANCELLED, InvoiceStatus.REFUNDED):
            return Money.zero(self.currency)
        open_amount = self.total - self.amount_paid - self.amount_credited
        return open_amount if not open_amount.is_negative else Money.zero(self.currency)

    @property
    def is_unpaid(self) -> bool:
        return self.status in UNPAID_STATUSES

    def is_overdue(self, today: date) -> bool:
        """Unpaid after its due date (in the company's timezone). Not a status: API.md's ``is_overdue``."""
        return self.is_unpaid and self.due_date < today

    @property
    def service_periods(self) -> list[tuple[str, date, date]]:
        """(service, period start, period end) of every line that renews a service."""
        return [
            (line.service_id, line.period_start, line.period_end)
            for line in self.lines
            if line.service_id is not None and line.period_start is not None and line.period_end is not None
        ]

    # --- changes ----------------------------------------------------------------------------------------------
    def _move(self, target: InvoiceStatus, error: type[InvalidInvoiceTransitionError]) -> None:
        if target not in TRANSITIONS[self.status]:
            raise error()

    def issue(self, *, at: datetime, issue_date: date, buyer: Buyer, taxes: TaxPolicy, number_at: NumberAt) -> Invoice:
        """Draft → issued: the buyer copied, taxes of the buyer's country applied, totals computed once."""
        self._move(InvoiceStatus.ISSUED, InvoiceNotDraftError)
        priced = tuple(line.priced(taxes, buyer.country) for line in self.lines)
        return replace(
            self,
            status=InvoiceStatus.ISSUED,
            lines=priced,
            totals=compute_totals(priced, self.currency),
            buyer=buyer,
            issued_at=at,
            issue_date=issue_date,
            language=buyer.language,
            number_at=number_at,
        )

    def numbered(self, *, number: str, series: str, record_hash: str, previous_hash: str | None) -> Invoice:
        if self.number is not None:
            raise InvalidInvoiceTransitionError()
        return replace(self, number=number, series=series, record_hash=record_hash, previous_hash=previous_hash)

    @property
    def needs_number(self) -> bool:
        """Numbered at issue, or (for ``number_at: payment`` series) once paid; never before issue."""
        if self.number is not None or self.status is InvoiceStatus.DRAFT:
            return False
        return self.number_at is NumberAt.ISSUE or self.status is InvoiceStatus.PAID

    def settle(self, payment: AppliedPayment, at: datetime) -> Settlement:
        """Apply a payment: up to ``amount_due`` to this invoice, the rest is excess (credit on the account).

        An invoice no longer open (paid, cancelled, refunded) takes nothing: the whole payment is excess.
        """
        if payment.amount.currency != self.currency:
            raise PaymentCurrencyMismatchError()
        if self.status is InvoiceStatus.DRAFT:
            raise InvoiceNotOpenError()
        if not self.is_unpaid:
            return Settlement(self, Money.zero(self.currency), payment.amount)
        due = self.amount_due
        applied = payment.amount if payment.amount <= due else due
        excess = payment.amount - applied
        paid = self.amount_paid + applied
        fully_paid = paid + self.amount_credited >= self.total
        target = InvoiceStatus.PAID if fully_paid else InvoiceStatus.PARTIALLY_PAID
        if target is not self.status:  # a second partial payment stays partially paid
            self._move(target, InvoiceNotOpenError)
        recorded = replace(payment, amount=applied)
        settled = replace(
            self,
            status=target,
            amount_paid=paid,
            payments=(*self.payments, recorded),
            paid_at=at if fully_paid else self.paid_at,
        )
        return Settlement(settled, applied, excess)

    def choose_payment_method(self, method: PaymentMethod) -> Invoice:
        if not self.is_unpaid:
            raise InvoiceNotOpenError()
        if method in (PaymentMethod.PIX, PaymentMethod.BOLETO) and self.currency is not Currency.BRL:
            raise PaymentMethodNotAvailableError.single(
                "method", N_("PIX and boleto are only available for invoices in reais.")
            )
        if method is PaymentMethod.SEPA and self.currency is not Currency.EUR:
            raise PaymentMethodNotAvailableError.single(
                "method", N_("SEPA Direct Debit is only available for invoices in euros.")
            )
        return replace(self, payment_method=method, instructions={})

    def mark_payment_pending(self, method: PaymentMethod, instructions: Mapping[str, str]) -> Invoice:
        """A payment is in flight (a boleto issued, a SEPA debit presented): dunning pauses until it lands."""
        self._move(InvoiceStatus.PAYMENT_PENDING, InvoiceNotOpenError)
        return replace(
            self, status=InvoiceStatus.PAYMENT_PENDING, payment_method=method, instructions=dict(instructions)
        )

    def record_charge(
        self, method: PaymentMethod, instructions: Mapping[str, str], pause_until: date | None = None
    ) -> Invoice:
        """A charge was opened at a provider (PIX code, boleto, card or SEPA intent): its instructions are printed;
        a boleto may pause suspension (``pause_until``, once per invoice). The status does not change."""
        if not self.is_unpaid:
            raise InvoiceNotOpenError()
        paused = self.suspension_paused_until
        used = self.boleto_pause_used
        if pause_until is not None and not used:
            paused, used = pause_until, True
        return replace(
            self,
            payment_method=method,
            instructions=dict(instructions),
            suspension_paused_until=paused,
            boleto_pause_used=used,
        )

    def release_pending(self) -> Invoice:
        """The payment in flight failed (a SEPA debit returned before it settled): back to issued or partially paid."""
        if self.status is not InvoiceStatus.PAYMENT_PENDING:
            return self
        target = InvoiceStatus.ISSUED if self.amount_paid.is_zero else InvoiceStatus.PARTIALLY_PAID
        self._move(target, InvoiceNotOpenError)
        return replace(self, status=target)

    def reverse(self, payment: AppliedPayment, at: datetime) -> Invoice:
        """A reversal (refund, chargeback, SEPA return after success): ``payment.amount`` (positive) is no longer paid.

        The one backward move of API.md: a paid or partially paid invoice returns to ``issued`` (nothing paid left)
        or ``partially_paid`` and its ``amount_due`` rises; the reversal is listed with a negative amount. A
        cancelled or refunded invoice keeps its status (what it received went to credit).
        """
        if payment.amount.currency != self.currency:
            raise PaymentCurrencyMismatchError()
        if self.status in (InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED, InvoiceStatus.REFUNDED):
            raise InvoiceNotOpenError()
        taken = payment.amount if payment.amount <= self.amount_paid else self.amount_paid
        if taken.is_zero:
            return self
        paid = self.amount_paid - taken
        status = self.status
        if paid + self.amount_credited < self.total:
            status = InvoiceStatus.ISSUED if paid.is_zero else InvoiceStatus.PARTIALLY_PAID
            if self.status is InvoiceStatus.PAYMENT_PENDING:
                status = InvoiceStatus.PAYMENT_PENDING
        return replace(
            self,
            status=status,
            amount_paid=paid,
            payments=(*self.payments, replace(payment, amount=-taken, received_at=at)),
            paid_at=self.paid_at if status is InvoiceStatus.PAID else None,
        )

    def cancel(self, at: datetime) -> Invoice:
        self._move(InvoiceStatus.CANCELLED, InvoiceNotOpenError)
        return replace(self, status=InvoiceStatus.CANCELLED, cancelled_at=at)

    def credit(self, note: CreditNoteRef, at: datetime) -> tuple[Invoice, Money]:
        """A credit note against this invoice: it lowers what is due; beyond that, the excess becomes credit.

        When nothing is left to pay, an invoice nobody paid is cancelled and one paid in part counts as paid.
        """
        if self.status in (InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED, InvoiceStatus.REFUNDED):
            raise InvoiceNotCreditableError()
        if note.total.currency != self.currency:
            raise CurrencyMismatchError()
        due = self.amount_due
        reduces = note.total if note.total <= due else due
        excess = note.total - reduces
        credited = replace(
            self, amount_credited=self.amount_credited + reduces, credit_notes=(*self.credit_notes, note)
        )
        if self.is_unpaid and reduces == due:
            if self.amount_paid.is_zero:
                return replace(credited, status=InvoiceStatus.CANCELLED, cancelled_at=at), excess
            return replace(credited, status=InvoiceStatus.PAID, paid_at=at), excess
        return credited, excess


# --- the account summary ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SummaryDelta:
    """How an account's ``SUMMARY`` changes with an invoice change: counts per visible status, open amount per
    currency. Drafts count nowhere."""

    counts: Mapping[InvoiceStatus, int]
    due: Mapping[Currency, int]

    @property
    def is_empty(self) -> bool:
        return not any(self.counts.values()) and not any(self.due.values())


def summary_delta(before: Invoice | None, after: Invoice | None) -> SummaryDelta:
    counts: dict[InvoiceStatus, int] = {}
    due: dict[Currency, int] = {}
    for invoice, sign in ((before, -1), (after, 1)):
        if invoice is None or invoice.status is InvoiceStatus.DRAFT:
            continue
        counts[invoice.status] = counts.get(invoice.status, 0) + sign
        if invoice.is_unpaid:
            due[invoice.currency] = due.get(invoice.currency, 0) + sign * invoice.amount_due.amount
    return SummaryDelta(
        {status: n for status, n in counts.items() if n}, {currency: n for currency, n in due.items() if n}
    )


# --- late fees ---------------------------------------------------------------------------------------------------
BRAZILIAN_CONSUMER_LATE_FEE_CAP_PERCENT = Decimal(2)  # CDC (Lei 8.078/1990) art. 52 §1


class LateFeeMode(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True)
class LateFeePolicy:
    mode: LateFeeMode
    percent: Decimal
    fixed: Mapping[Currency, int]


def late_fee_amount(overdue: Invoice, policy: LateFeePolicy) -> Money:
    """The fee for ``overdue`` (on what is still due): a percentage or a fixed amount, rounded once with the
    currency's rule. For a Brazilian consumer the fee never exceeds 2 % of the overdue amount (CDC art. 52 §1)."""
    base = overdue.amount_due
    if policy.mode is LateFeeMode.PERCENT:
        fee = base.percent(policy.percent)
    else:
        fee = Money(policy.fixed.get(overdue.currency, 0), overdue.currency)
    buyer = overdue.buyer
    if buyer is not None and buyer.country == "BR" and buyer.consumer:
        cap = base.percent(BRAZILIAN_CONSUMER_LATE_FEE_CAP_PERCENT)
        fee = fee if fee <= cap else cap
    return fee


# --- credit notes ------------------------------------------------------------------------------------------------
class CreditNoteExceedsInvoiceError(InvalidInputError):
    """A credit note for more than what is left of the invoice after earlier credit notes."""


@dataclass(frozen=True, slots=True)
class CreditNote:
    """A correction of an issued invoice, numbered at issue in its own series; printed with the original's
    reference. Its lines are lines of the original (same prices and taxes), in the quantities credited."""

    credit_note_id: str
    account_id: str
    invoice_id: str
    invoice_reference: str
    currency: Currency
    language: str
    lines: tuple[InvoiceLine, ...]
    totals: Totals
    buyer: Buyer
    reason: str
    issued_at: datetime
    issue_date: date
    number: str | None = None
    series: str | None = None
    record_hash: str | None = None
    previous_hash: str | None = None

    def ref(self) -> CreditNoteRef:
        assert self.number is not None
        return CreditNoteRef(self.credit_note_id, self.number, self.totals.total, self.issued_at)


def credit_note_lines(invoice: Invoice, selection: Sequence[tuple[int, int]] | None) -> tuple[InvoiceLine, ...]:
    """The lines a credit note takes from ``invoice``: every line in full (``None``), or (line index, quantity)
    pairs. Prices and taxes are the original's, so the correction reverses exactly what was charged."""
    if selection is None:
        chosen = invoice.lines
    else:
        picked: list[InvoiceLine] = []
        for position, (index, quantity) in enumerate(selection):
            if not 0 <= index < len(invoice.lines):
                raise CreditNoteExceedsInvoiceError.single(f"lines.{position}.line", N_("There is no such line."))
            original = invoice.lines[index]
            if quantity > original.quantity:
                raise CreditNoteExceedsInvoiceError.single(
                    f"lines.{position}.quantity", N_("More than the invoice line's quantity.")
                )
            picked.append(replace(original, quantity=quantity))
        chosen = tuple(picked)
    if not chosen:
        raise EmptyInvoiceError()
    credited = compute_totals(chosen, invoice.currency).total
    earlier = sum((note.total for note in invoice.credit_notes), Money.zero(invoice.currency))
    if credited > invoice.total - earlier:
        raise CreditNoteExceedsInvoiceError.single(
            "lines", N_("The credit notes of an invoice cannot add up to more than its total.")
        )
    return tuple(chosen)
