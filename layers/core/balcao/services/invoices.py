"""Invoices and the account's credit: drafts, issue with gapless numbers, the settlement core, credit notes, add
funds, late fees and the unpaid add-funds job.

Every change is one ``BillingChange`` the store commits as one TransactWrite: the invoices, the number claimed from
its sequence (condition: the sequence did not move), the payments, the credit ledger entries with the
``CREDIT_BALANCE`` (condition: never negative), the ``SUMMARY`` counts, natural-key guards (one renewal per service
and period, one late fee per overdue invoice, one settlement per provider payment) and the domain events (outbox).
A lost race on a number or an invoice version is retried from a fresh read; a guard that already exists means the
work was done.

Pages (the portal) and routes (the API) call these use-cases directly; authorization happened before.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

from balcao.domain.calendar import local_date
from balcao.domain.credit import (
    CreditBalance,
    CreditCurrencyMismatchError,
    CreditEntry,
    CreditKind,
    InsufficientCreditError,
)
from balcao.domain.errors import N_, BalcaoError, ConflictError, InvalidInputError, NotFoundError
from balcao.domain.events import DomainEvent, new_event
from balcao.domain.ids import new_ulid
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoice_numbering import NumberClaim, SequenceState, claim_next
from balcao.domain.invoices import (
    UNPAID_STATUSES,
    VISIBLE_STATUSES,
    AppliedPayment,
    Buyer,
    CreditNote,
    EmptyInvoiceError,
    Invoice,
    InvoiceChangedError,
    InvoiceKind,
    InvoiceLine,
    InvoiceNotCreditableError,
    InvoiceNotDraftError,
    InvoiceStatus,
    compute_totals,
    credit_note_lines,
    late_fee_amount,
)
from balcao.domain.money import Currency, Money
from balcao.services.invoice_settings import InvoiceSettings, SeriesSettings
from balcao.services.ports import Clock

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 25  # many writers on one series (a renewal run, staff, webhooks) each get a turn
STAFF_SOURCE = "staff"
CREDIT_SOURCE = "credit"

Translator = Callable[[str, str], str]  # (language, msgid) → text
T = TypeVar("T")


# --- named outcomes of guards and conditions ------------------------------------------------------------------------
class InvoiceNumberTakenError(ConflictError):
    """Another transaction claimed the number first (retried with the sequence read again)."""


class RenewalAlreadyInvoicedError(ConflictError):
    default_message = N_("This service period was invoiced already.")


class LateFeeAlreadyChargedError(ConflictError):
    default_message = N_("A late fee was charged for this invoice already.")


class PaymentAlreadyRecordedError(ConflictError):
    default_message = N_("This payment was recorded already.")


class AddFundsAmountError(InvalidInputError):
    """An add-funds amount outside the company's limits, or in another currency than the account's."""


class GuardKind(StrEnum):
    RENEWAL = "renewal"  # key: service id and period start
    LATE_FEE = "late_fee"  # key: the overdue invoice's id
    PROVIDER_PAYMENT = "provider_payment"  # key: source and provider reference


@dataclass(frozen=True, slots=True)
class Guard:
    """A natural key that may be claimed once (a conditional put in the same transaction)."""

    kind: GuardKind
    key: tuple[str, ...]
    target: Mapping[str, str]
    error: BalcaoError


@dataclass(frozen=True, slots=True)
class ReceivedPayment:
    """A payment received for an invoice: what was applied to it and what went to credit."""

    payment_id: str
    account_id: str
    invoice_id: str
    amount: Money
    applied: Money
    credited: Money
    source: str
    provider_ref: str
    method: PaymentMethod | None
    received_at: datetime
    status: str = "succeeded"


@dataclass(frozen=True, slots=True)
class InvoiceWrite:
    """An invoice's new state; ``before`` None when it is new (its version is the write's condition)."""

    after: Invoice
    before: Invoice | None


class ChangePart(Protocol):
    """A write of another capability committed in the same transaction as a billing change (the payments
    capability's webhook dedupe item, charge status, staff flag). Built by that capability's store; opaque here."""

    def add_to(self, transaction: object) -> None: ...


# (payment recorded, invoice before, invoice after) → the other writes of the same transaction.
ExtraParts = Callable[[ReceivedPayment, Invoice, Invoice], Sequence[ChangePart]]


@dataclass
class BillingChange:
    invoices: list[InvoiceWrite] = field(default_factory=list)
    voided: Invoice | None = None
    credit_note: CreditNote | None = None
    numbers: list[NumberClaim] = field(default_factory=list)
    payments: list[ReceivedPayment] = field(default_factory=list)
    credit: list[CreditEntry] = field(default_factory=list)
    open_credit: tuple[str, Currency] | None = None  # an account's first CREDIT_BALANCE (its currency)
    guards: list[Guard] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    extra: list[ChangePart] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class InvoicePage:
    items: list[Invoice]
    next: str | None
    total_due: list[Money]


@dataclass(frozen=True, slots=True)
class CreditPage:
    balance: CreditBalance
    entries: list[CreditEntry]
    next: str | None


@dataclass(frozen=True, slots=True)
class Settled:
    """The outcome of ``settle_payment``; ``duplicate``: this (source, reference) was settled before."""

    payment: ReceivedPayment
    invoice: Invoice
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class LineInput:
    description: str
    quantity: int
    unit_price: Money
    tax_category: str | None = "standard"


class InvoiceStore(Protocol):
    def invoice(self, account_id: str, invoice_id: str) -> Invoice | None: ...

    def locate(self, invoice_id: str) -> str | None:
        """The account of an invoice (for routes addressed by the invoice alone)."""
        ...

    def invoices(
        self, account_id: str, statuses: frozenset[InvoiceStatus], limit: int, cursor: str | None
    ) -> InvoicePage: ...

    def credit_note(self, account_id: str, credit_note_id: str) -> CreditNote | None: ...

    def credit(self, account_id: str) -> CreditBalance | None: ...

    def credit_page(
        self, account_id: str, limit: int, cursor: str | None
    ) -> tuple[CreditBalance | None, list[CreditEntry], str | None]: ...

    def set_auto_apply(self, account_id: str, enabled: bool) -> None: ...

    def sequence(self, sequence_id: str) -> SequenceState: ...

    def buyer(self, account_id: str) -> Buyer | None: ...

    def payment_by_reference(self, source: str, provider_ref: str) -> ReceivedPayment | None: ...

    def open_invoices_due_before(self, day: date) -> Iterator[Invoice]: ...

    def unpaid_funds_due_before(self, day: date) -> Iterator[Invoice]: ...

    def commit(self, change: BillingChange) -> None: ...


def _pause(attempt: int) -> None:
    """Jittered back-off between attempts after a lost race (not business time)."""
    time.sleep(random.uniform(0, min(0.1, 0.004 * 2**attempt)))  # noqa: S311 - jitter, not a secret


@dataclass
class Invoices:
    store: InvoiceStore
    clock: Clock
    settings: InvoiceSettings
    timezone: str
    translate: Translator
    default_currency: str = "BRL"
    announce: bool = True  # the demo seed writes its invoices without announcing them
    # Called with an invoice about to be cancelled: the payments capability cancels its open provider charges first.
    before_cancel: Callable[[Invoice], None] | None = None
    _sequences: dict[str, SequenceState] = field(default_factory=dict)

    # --- time and reading -------------------------------------------------------------------------------------
    def today(self) -> date:
        return local_date(self.clock.now(), self.timezone)

    def page(self, account_id: str, status: str | None, limit: int, cursor: str | None) -> InvoicePage:
        """``status``: one status, ``unpaid`` (issued, payment pending, partially paid) or None (all but drafts)."""
        if status is None:
            statuses = VISIBLE_STATUSES
        elif status == "unpaid":
            statuses = UNPAID_STATUSES
        else:
            try:
                chosen = InvoiceStatus(status)
            except ValueError:
                raise InvalidInputError.single(
                    "status", N_("This value is not one of the allowed choices."), "invalid_choice"
                ) from None
            if chosen is InvoiceStatus.DRAFT:
                raise InvalidInputError.single(
                    "status", N_("This value is not one of the allowed choices."), "invalid_choice"
                )
            statuses = frozenset({chosen})
        return self.store.invoices(account_id, statuses, limit, cursor)

    def invoice(self, account_id: str, invoice_id: str, *, include_drafts: bool = False) -> Invoice:
        found = self.store.invoice(account_id, invoice_id)
        if found is None or (found.status is InvoiceStatus.DRAFT and not include_drafts):
            raise NotFoundError()
        return found

    def staff_invoice(self, invoice_id: str) -> Invoice:
        account_id = self.store.locate(invoice_id)
        if account_id is None:
            raise NotFoundError()
        return self.invoice(account_id, invoice_id, include_drafts=True)

    def account_of_invoice(self, invoice_id: str) -> str:
        """The account an invoice belongs to — email links name the invoice only (``/invoices/{invoice_id}``): the
        page authorizes the signed-in user on that account, then reads the invoice."""
        account_id = self.store.locate(invoice_id)
        if account_id is None:
            raise NotFoundError()
        return account_id

    def credit_note(self, account_id: str, credit_note_id: str) -> CreditNote:
        found = self.store.credit_note(account_id, credit_note_id)
        if found is None:
            raise NotFoundError()
        return found

    def credit(self, account_id: str, limit: int, cursor: str | None, currency: str | None = None) -> CreditPage:
        """The balance (before any credit: zero in the account's ``currency``) and the ledger, newest first."""
        balance, entries, next_cursor = self.store.credit_page(account_id, limit, cursor)
        return CreditPage(self._with_currency(account_id, balance, currency), entries, next_cursor)

    def _with_currency(self, account_id: str, balance: CreditBalance | None, currency: str | None) -> CreditBalance:
        zero = Money.zero(currency or self.default_currency)
        if balance is None:
            return CreditBalance(account_id, zero)
        if balance.balance is None:
            return replace(balance, balance=zero)
        return balance

    # --- the customer's actions -------------------------------------------------------------------------------
    def choose_payment_method(self, account_id: str, invoice_id: str, method: PaymentMethod) -> Invoice:
        def attempt() -> Invoice:
            before = self.invoice(account_id, invoice_id)
            after = before.choose_payment_method(method)
            event = self._event("invoice.payment_method_changed", after, method=method.value)
            self._commit(BillingChange(invoices=[InvoiceWrite(after, before)], events=[event]))
            return after

        return self._retrying(attempt)

    def set_auto_apply(self, account_id: str, enabled: bool, currency: str | None = None) -> CreditBalance:
        """Whether credit pays new invoices automatically (on by default)."""
        self.store.set_auto_apply(account_id, enabled)
        return self._with_currency(account_id, self.store.credit(account_id), currency)

    def add_funds(self, account_id: str, amount: Money) -> Invoice:
        """An invoice that, once paid, becomes credit (untaxed: a deposit, not a sale)."""
        buyer = self._buyer(account_id)
        limits = self.settings.add_funds
        if buyer.currency is not None and amount.currency is not buyer.currency:
            raise AddFundsAmountError.single(
                "amount.currency", N_("Add funds in the currency of your account."), "invalid_choice"
            )
        minimum = Money(limits.minimum.get(amount.currency.value, 0), amount.currency)
        maximum = Money(limits.maximum.get(amount.currency.value, 0), amount.currency)
        if amount < minimum:
            raise AddFundsAmountError.single("amount.amount", N_("The amount is below the minimum."), "too_small")
        if amount > maximum:
            raise AddFundsAmountError.single("amount.amount", N_("The amount is above the maximum."), "too_large")
        line = InvoiceLine(self.translate(buyer.language, N_("Account credit")), 1, amount, tax_category=None)
        draft = self.draft_for(
            account_id, InvoiceKind.ADD_FUNDS, [line], buyer, self.today() + timedelta(days=limits.cancel_after_days)
        )
        return self.issue_new(draft, buyer=buyer)

    # --- drafts and issue -------------------------------------------------------------------------------------
    def create(
        self,
        account_id: str,
        lines: Sequence[LineInput],
        *,
        issue: bool,
        due_date: date | None = None,
        notes: Sequence[str] = (),
        kind: InvoiceKind = InvoiceKind.MANUAL,
    ) -> Invoice:
        """A staff invoice: a draft, or issued at once. A due date in the past makes it overdue at once."""
        buyer = self._buyer(account_id)
        due = due_date or self.today() + timedelta(days=self.settings.payment_terms_days)
        items = [InvoiceLine(li.description, li.quantity, li.unit_price, li.tax_category) for li in lines]
        draft = self.draft_for(account_id, kind, items, buyer, due, notes=tuple(notes))
        if issue:
            return self.issue_new(draft, buyer=buyer)
        self._commit(BillingChange(invoices=[InvoiceWrite(draft, None)]))
        return draft

    def draft_for(
        self,
        account_id: str,
        kind: InvoiceKind,
        lines: Sequence[InvoiceLine],
        buyer: Buyer,
        due_date: date,
        *,
        refers_to: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> Invoice:
        currencies = {line.unit_price.currency for line in lines}
        if not currencies:
            raise EmptyInvoiceError()
        if len(currencies) > 1:
            raise InvalidInputError.single("lines", N_("Every line of an invoice is in the same currency."))
        (currency,) = currencies
        priced = [line.priced(self.settings.tax_policy(), buyer.country) for line in lines]
        return Invoice.draft(
            invoice_id=new_ulid(),
            account_id=account_id,
            kind=kind,
            currency=currency,
            language=buyer.language,
            lines=priced,
            due_date=due_date,
            created_at=self.clock.now(),
            refers_to=refers_to,
            notes=notes,
        )

    def _buyer(self, account_id: str) -> Buyer:
        buyer = self.store.buyer(account_id)
        if buyer is None:
            raise NotFoundError()
        return buyer

    def issue(self, invoice_id: str) -> Invoice:
        """Issue a staff draft (by id)."""
        account_id = self.store.locate(invoice_id)
        if account_id is None:
            raise NotFoundError()

        def attempt() -> Invoice:
            draft = self.invoice(account_id, invoice_id, include_drafts=True)
            return self._issue(draft, before=draft, buyer=self._buyer(account_id), credit=None, guards=())

        return self._retrying(attempt)

    def issue_new(
        self,
        draft: Invoice,
        *,
        buyer: Buyer,
        credit: CreditBalance | None = None,
        guards: Sequence[Guard] = (),
    ) -> Invoice:
        """Create and issue ``draft`` in one transaction (with ``guards`` claimed in it). ``credit``: the account's
        credit as read in a batch; after a lost race it is read again."""
        supplied = [credit]

        def attempt() -> Invoice:
            balance = supplied.pop() if supplied else None
            return self._issue(draft, before=None, buyer=buyer, credit=balance, guards=guards)

        return self._retrying(attempt, also=(InsufficientCreditError,))

    def _issue(
        self,
        draft: Invoice,
        *,
        before: Invoice | None,
        buyer: Buyer,
        credit: CreditBalance | None,
        guards: Sequence[Guard],
    ) -> Invoice:
        now = self.clock.now()
        series = self.settings.invoice_series
        issued = draft.issue(
            at=now, issue_date=self.today(), buyer=buyer, taxes=self.settings.tax_policy(), number_at=series.numbering
        )
        change = BillingChange(guards=list(guards))
        balance = credit if credit is not None else self.store.credit(draft.account_id)
        if balance is None or balance.balance is None:
            change.open_credit = (draft.account_id, issued.currency)
        spent: tuple[Money, str] | None = None
        if balance is not None and issued.kind is not InvoiceKind.ADD_FUNDS:
            spend = balance.applicable_to(issued.amount_due)
            if not spend.is_zero:
                issued, payment_id = self._spend_credit(issued, spend, change)
                spent = (spend, payment_id)
        if issued.needs_number:
            issued = self._number(issued, series, change)
        change.invoices.append(InvoiceWrite(issued, before))
        change.events.append(self._event("invoice.issued", issued))
        if spent is not None:
            change.events.append(self._paid_event(issued, spent[0], spent[1], PaymentMethod.CREDIT))
        self._commit(change)
        self._after_commit(change)
        return issued

    def _spend_credit(self, invoice: Invoice, spend: Money, change: BillingChange) -> tuple[Invoice, str]:
        """Automatic application of the account's credit to a new invoice: a payment from credit."""
        now = self.clock.now()
        payment_id = new_ulid()
        settlement = invoice.settle(AppliedPayment(payment_id, spend, PaymentMethod.CREDIT, CREDIT_SOURCE, now), now)
        change.credit.append(
            CreditEntry(new_ulid(), invoice.account_id, CreditKind.APPLIED, -spend, now, invoice.invoice_id, payment_id)
        )
        change.payments.append(
            ReceivedPayment(
                payment_id=payment_id,
                account_id=invoice.account_id,
                invoice_id=invoice.invoice_id,
                amount=spend,
                applied=spend,
                credited=Money.zero(spend.currency),
                source=CREDIT_SOURCE,
                provider_ref=payment_id,
                method=PaymentMethod.CREDIT,
                received_at=now,
            )
        )
        return settlement.invoice, payment_id

    def _number(self, invoice: Invoice, series: SeriesSettings, change: BillingChange) -> Invoice:
        day = invoice.issue_date or self.today()
        pattern = series.pattern_for(day)
        state = self._sequence(pattern.sequence_id(day.year))
        claim = claim_next(state, pattern, day, invoice.total, invoice.invoice_id)
        change.numbers.append(claim)
        return invoice.numbered(
            number=claim.formatted,
            series=claim.sequence_id,
            record_hash=claim.record_hash,
            previous_hash=claim.previous_hash,
        )

    def _sequence(self, sequence_id: str) -> SequenceState:
        cached = self._sequences.get(sequence_id)
        return cached if cached is not None else self.store.sequence(sequence_id)

    def _after_commit(self, change: BillingChange) -> None:
        for claim in change.numbers:
            self._sequences[claim.sequence_id] = SequenceState(claim.sequence_id, claim.number, claim.record_hash)

    def _commit(self, change: BillingChange) -> None:
        if not self.announce:
            change.events.clear()
        try:
            self.store.commit(change)
        except (InvoiceNumberTakenError, InvoiceChangedError):
            for claim in change.numbers:
                self._sequences.pop(claim.sequence_id, None)
            raise

    def _retrying(self, attempt: Callable[[], T], also: tuple[type[BalcaoError], ...] = ()) -> T:
        """Run ``attempt`` again after a lost race (a number claimed, an invoice changed), from fresh reads."""
        retried: tuple[type[BalcaoError], ...] = (InvoiceNumberTakenError, InvoiceChangedError, *also)
        for number in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except retried:
                if number == MAX_ATTEMPTS - 1:
                    raise
                _pause(number)
        raise AssertionError("unreachable")

    def void_draft(self, invoice_id: str) -> Invoice:
        """A draft never had a number: voiding removes it (an issued invoice is corrected by a credit note)."""
        draft = self.staff_invoice(invoice_id)
        if draft.status is not InvoiceStatus.DRAFT:
            raise InvoiceNotDraftError()
        self._commit(BillingChange(voided=draft))
        return draft

    def mark_payment_pending(
        self,
        account_id: str,
        invoice_id: str,
        method: PaymentMethod,
        instructions: Mapping[str, str],
        extra: Sequence[ChangePart] = (),
    ) -> Invoice:
        def attempt() -> Invoice:
            before = self.invoice(account_id, invoice_id)
            after = before.mark_payment_pending(method, instructions)
            event = self._event("invoice.payment_pending", after, method=method.value)
            change = BillingChange(invoices=[InvoiceWrite(after, before)], events=[event], extra=list(extra))
            self._commit(change)
            return after

        return self._retrying(attempt)

    def record_charge(
        self,
        account_id: str,
        invoice_id: str,
        method: PaymentMethod,
        instructions: Mapping[str, str],
        pause_until: date | None = None,
        extra: Sequence[ChangePart] = (),
    ) -> Invoice:
        """A provider charge was opened for the invoice (payments capability): its method and instructions (printed
        on the PDF), and a boleto's pause of suspension (once per invoice)."""

        def attempt() -> Invoice:
            before = self.invoice(account_id, invoice_id)
            after = before.record_charge(method, instructions, pause_until)
            event = self._event("invoice.payment_method_changed", after, method=method.value)
            self._commit(BillingChange(invoices=[InvoiceWrite(after, before)], events=[event], extra=list(extra)))
            return after

        return self._retrying(attempt)

    def release_pending(self, account_id: str, invoice_id: str, extra: Sequence[ChangePart] = ()) -> Invoice:
        """The payment in flight failed: a ``payment_pending`` invoice returns to issued or partially paid."""

        def attempt() -> Invoice:
            before = self.invoice(account_id, invoice_id, include_drafts=True)
            after = before.release_pending()
            change = BillingChange(extra=list(extra))
            if after != before:
                change.invoices.append(InvoiceWrite(after, before))
                change.events.append(self._event("invoice.payment_failed", after))
            self._commit(change)
            return after

        return self._retrying(attempt)

    # --- the settlement core ------------------------------------------------------------------------------------
    def settle_payment(
        self,
        account_id: str,
        invoice_id: str,
        amount: Money,
        source: str,
        provider_ref: str,
        method: PaymentMethod | None = None,
        extra: ExtraParts | None = None,
    ) -> Settled:
        """Record a payment in one transaction: the payment, the invoice's ``amount_due`` and status (and its
        number, for series numbered at payment), any excess as credit, and ``invoice.paid`` or
        ``invoice.partially_paid``. Idempotent per (source, provider reference): a repeat changes nothing.
        ``extra`` adds another capability's writes to that transaction, decided from its outcome."""
        existing = self.store.payment_by_reference(source, provider_ref)
        if existing is not None:
            return Settled(existing, self.invoice(account_id, existing.invoice_id, include_drafts=True), True)

        def attempt() -> Settled:
            before = self.invoice(account_id, invoice_id, include_drafts=True)
            return self._settle(before, amount, source, provider_ref, method, extra)

        try:
            return self._retrying(attempt)
        except PaymentAlreadyRecordedError:
            recorded = self.store.payment_by_reference(source, provider_ref)
            assert recorded is not None
            return Settled(recorded, self.invoice(account_id, recorded.invoice_id, include_drafts=True), True)

    def _settle(
        self,
        before: Invoice,
        amount: Money,
        source: str,
        provider_ref: str,
        method: PaymentMethod | None,
        extra: ExtraParts | None = None,
    ) -> Settled:
        now = self.clock.now()
        payment_id = new_ulid()
        settlement = before.settle(AppliedPayment(payment_id, amount, method, source, now), now)
        after = settlement.invoice
        change = BillingChange()
        if after.needs_number:
            after = self._number(after, self.settings.invoice_series, change)
        if before.kind is InvoiceKind.ADD_FUNDS and not settlement.applied.is_zero:
            change.credit.append(
                CreditEntry(
                    new_ulid(),
                    before.account_id,
                    CreditKind.FUNDS_ADDED,
                    settlement.applied,
                    now,
                    before.invoice_id,
                    payment_id,
                )
            )
        if not settlement.excess.is_zero:
            kind = CreditKind.LATE_PAYMENT if before.status is InvoiceStatus.CANCELLED else CreditKind.OVERPAYMENT
            change.credit.append(
                CreditEntry(new_ulid(), before.account_id, kind, settlement.excess, now, before.invoice_id, payment_id)
            )
        payment = ReceivedPayment(
            payment_id=payment_id,
            account_id=before.account_id,
            invoice_id=before.invoice_id,
            amount=amount,
            applied=settlement.applied,
            credited=settlement.excess,
            source=source,
            provider_ref=provider_ref,
            method=method,
            received_at=now,
        )
        change.payments.append(payment)
        change.guards.append(
            Guard(
                GuardKind.PROVIDER_PAYMENT,
                (source, provider_ref),
                {"account_id": before.account_id, "invoice_id": before.invoice_id, "payment_id": payment_id},
                PaymentAlreadyRecordedError(),
            )
        )
        if after != before:
            change.invoices.append(InvoiceWrite(after, before))
        if not settlement.applied.is_zero:
            change.events.append(self._paid_event(after, settlement.applied, payment_id, method))
        if change.credit:
            self._announce_credit(before.account_id, amount.currency, change)
        if extra is not None:
            change.extra.extend(extra(payment, before, after))
        self._commit(change)
        self._after_commit(change)
        return Settled(payment, after)

    def _announce_credit(self, account_id: str, currency: Currency, change: BillingChange) -> None:
        """Check that credit stays in one currency, open the balance if needed, and add a ``credit.added`` event
        (with the balance it leaves) for each entry that adds credit."""
        current = self.store.credit(account_id)
        if current is None or current.balance is None:
            change.open_credit = (account_id, currency)
            running = Money.zero(currency)
        elif current.balance.currency is not currency:
            raise CreditCurrencyMismatchError.single(
                "amount.currency", N_("This account's credit is in another currency.")
            )
        else:
            running = current.balance
        for entry in change.credit:
            running += entry.amount
            if entry.amount.amount > 0:
                change.events.append(self._credit_event(entry, running))

    def record_payment(
        self, invoice_id: str, amount: Money, method: PaymentMethod | None, reference: str | None
    ) -> Settled:
        """A payment staff received outside the providers (bank transfer, cash): the settlement core."""
        account_id = self.store.locate(invoice_id)
        if account_id is None:
            raise NotFoundError()
        return self.settle_payment(account_id, invoice_id, amount, STAFF_SOURCE, reference or new_ulid(), method)

    # --- credit notes and manual credit ------------------------------------------------------------------------
    def issue_credit_note(
        self, invoice_id: str, selection: Sequence[tuple[int, int]] | None, reason: str
    ) -> CreditNote:
        account_id = self.store.locate(invoice_id)
        if account_id is None:
            raise NotFoundError()

        def attempt() -> CreditNote:
            before = self.invoice(account_id, invoice_id, include_drafts=True)
            return self._credit_note(before, selection, reason)

        return self._retrying(attempt)

    def _credit_note(self, before: Invoice, selection: Sequence[tuple[int, int]] | None, reason: str) -> CreditNote:
        if before.buyer is None:
            raise InvoiceNotCreditableError()
        now, today = self.clock.now(), self.today()
        lines = credit_note_lines(before, selection)
        note = CreditNote(
            credit_note_id=new_ulid(),
            account_id=before.account_id,
            invoice_id=before.invoice_id,
            invoice_reference=before.number or before.invoice_id,
            currency=before.currency,
            language=before.language,
            lines=lines,
            totals=compute_totals(lines, before.currency),
            buyer=before.buyer,
            reason=reason,
            issued_at=now,
            issue_date=today,
        )
        change = BillingChange()
        series = self.settings.credit_note_series
        pattern = series.pattern_for(today)
        claim = claim_next(
            self._sequence(pattern.sequence_id(today.year)), pattern, today, note.totals.total, note.credit_note_id
        )
        change.numbers.append(claim)
        note = replace(
            note,
            number=claim.formatted,
            series=claim.sequence_id,
            record_hash=claim.record_hash,
            previous_hash=claim.previous_hash,
        )
        after, excess = before.credit(note.ref(), now)
        if after.needs_number:
            after = self._number(after, self.settings.invoice_series, change)
        if not excess.is_zero:
            change.credit.append(
                CreditEntry(
                    new_ulid(), before.account_id, CreditKind.REFUND, excess, now, before.invoice_id, None, note.number
                )
            )
            self._announce_credit(before.account_id, excess.currency, change)
        change.credit_note = note
        change.invoices.append(InvoiceWrite(after, before))
        change.events.append(
            new_event(
                "credit_note.issued",
                now,
                account_id=before.account_id,
                credit_note_id=note.credit_note_id,
                number=note.number,
                invoice_id=before.invoice_id,
                invoice_number=before.number,
                total=note.totals.total.to_json(),
                reason=reason,
            )
        )
        if after.status is InvoiceStatus.CANCELLED and before.status is not InvoiceStatus.CANCELLED:
            if self.before_cancel is not None:
                self.before_cancel(before)
            change.events.append(self._event("invoice.cancelled", after, reason="credit_note"))
        if after.status is InvoiceStatus.PAID and before.status is not InvoiceStatus.PAID:
            change.events.append(self._paid_event(after, Money.zero(after.currency), None, None))
        self._commit(change)
        self._after_commit(change)
        return note

    def add_credit(
        self, account_id: str, amount: Money, note: str, kind: CreditKind = CreditKind.MANUAL
    ) -> CreditEntry:
        """A staff adjustment (positive or negative, with a note); the balance never goes below zero."""
        if amount.is_zero:
            raise InvalidInputError.single("amount.amount", N_("The amount cannot be zero."), "invalid")
        self._buyer(account_id)
        entry = CreditEntry(new_ulid(), account_id, kind, amount, self.clock.now(), note=note)
        change = BillingChange(credit=[entry])
        self._announce_credit(account_id, amount.currency, change)
        self._commit(change)
        return entry

    # --- jobs ---------------------------------------------------------------------------------------------------
    def charge_late_fees(self) -> dict[str, int]:
        """Late fees (when enabled): one separate invoice per overdue invoice, ``after_days`` past its due date;
        the overdue invoice is never changed. Payment-pending invoices wait for their payment."""
        counts = {"issued": 0, "already": 0, "skipped": 0, "failed": 0}
        settings = self.settings.late_fee
        if not settings.enabled:
            return counts
        today = self.today()
        for overdue in self.store.open_invoices_due_before(today - timedelta(days=settings.after_days)):
            outcome = self._late_fee_for(overdue, today)
            counts[outcome] += 1
        return counts

    def _late_fee_for(self, overdue: Invoice, today: date) -> str:
        settings = self.settings.late_fee
        if (
            overdue.kind in (InvoiceKind.LATE_FEE, InvoiceKind.ADD_FUNDS)
            or overdue.status is InvoiceStatus.PAYMENT_PENDING
            or overdue.buyer is None
        ):
            return "skipped"
        fee = late_fee_amount(overdue, settings.policy())
        if fee.is_zero:
            return "skipped"
        reference = overdue.number or overdue.invoice_id
        text = self.translate(overdue.language, N_("Late fee for invoice {number}")).format(number=reference)
        line = InvoiceLine(text, 1, fee, tax_category=None)
        draft = self.draft_for(
            overdue.account_id,
            InvoiceKind.LATE_FEE,
            [line],
            overdue.buyer,
            today + timedelta(days=settings.due_in_days),
            refers_to=overdue.invoice_id,
        )
        guard = Guard(
            GuardKind.LATE_FEE,
            (overdue.invoice_id,),
            {"account_id": overdue.account_id, "invoice_id": draft.invoice_id},
            LateFeeAlreadyChargedError(),
        )
        try:
            self.issue_new(draft, buyer=self._buyer(overdue.account_id), guards=[guard])
        except LateFeeAlreadyChargedError:
            return "already"
        except Exception:
            logger.exception("late fee not issued", extra={"invoice_id": overdue.invoice_id})
            return "failed"
        return "issued"

    def cancel_unpaid_funds(self) -> dict[str, int]:
        """Add-funds invoices still unpaid after their due date (``cancel_after_days`` after issue) are cancelled;
        those with a payment in flight wait for it."""
        counts = {"cancelled": 0, "skipped": 0, "failed": 0}
        for invoice in self.store.unpaid_funds_due_before(self.today()):
            if invoice.status is InvoiceStatus.PAYMENT_PENDING:
                counts["skipped"] += 1
                continue
            try:
                self._cancel(invoice.account_id, invoice.invoice_id)
            except Exception:
                logger.exception("add-funds invoice not cancelled", extra={"invoice_id": invoice.invoice_id})
                counts["failed"] += 1
                continue
            counts["cancelled"] += 1
        return counts

    def cancel_unpaid(self, account_id: str, invoice_id: str, reason: str) -> Invoice:
        """Cancel an invoice nobody paid anything of (an unpaid order or plan change, the renewal of a service
        being cancelled): a numbered one through a credit note for its whole amount (a number is never voided), an
        unnumbered one directly. ``invoice.cancelled`` either way; an invoice already closed is returned as is."""
        current = self.invoice(account_id, invoice_id)
        if not current.is_unpaid:
            return current
        if not current.amount_paid.is_zero:
            raise InvoiceNotCreditableError(N_("Part of this invoice was paid: a credit note must say how much."))
        if current.number is not None:
            self.issue_credit_note(invoice_id, None, reason)
            return self.invoice(account_id, invoice_id)

        def attempt() -> Invoice:
            before = self.invoice(account_id, invoice_id)
            after = before.cancel(self.clock.now())
            if self.before_cancel is not None:
                self.before_cancel(before)
            event = self._event("invoice.cancelled", after, reason=reason)
            self._commit(BillingChange(invoices=[InvoiceWrite(after, before)], events=[event]))
            return after

        return self._retrying(attempt)

    def _cancel(self, account_id: str, invoice_id: str) -> Invoice:
        def attempt() -> Invoice:
            before = self.invoice(account_id, invoice_id)
            after = before.cancel(self.clock.now())
            if self.before_cancel is not None:
                self.before_cancel(before)
            event = self._event("invoice.cancelled", after, reason="unpaid")
            self._commit(BillingChange(invoices=[InvoiceWrite(after, before)], events=[event]))
            return after

        return self._retrying(attempt)

    # --- events -------------------------------------------------------------------------------------------------
    def _event(self, event_type: str, invoice: Invoice, **extra: object) -> DomainEvent:
        data: dict[str, object] = {
            "invoice_id": invoice.invoice_id,
            "number": invoice.number,
            "kind": invoice.kind.value,
            "total": invoice.total.to_json(),
            "amount_due": invoice.amount_due.to_json(),
            "due_date": invoice.due_date.isoformat(),
            **extra,
        }
        return DomainEvent(new_ulid(), event_type, self.clock.now(), invoice.account_id, None, data)

    def _paid_event(
        self, invoice: Invoice, applied: Money, payment_id: str | None, method: PaymentMethod | None
    ) -> DomainEvent:
        event_type = "invoice.paid" if invoice.status is InvoiceStatus.PAID else "invoice.partially_paid"
        return self._event(
            event_type,
            invoice,
            amount=applied.to_json(),
            payment_id=payment_id,
            method=method.value if method else None,
            services=[
                {"service_id": s, "period_start": start.isoformat(), "period_end": end.isoformat()}
                for s, start, end in invoice.service_periods
            ],
        )

    def _credit_event(self, entry: CreditEntry, balance: Money) -> DomainEvent:
        return new_event(
            "credit.added",
            entry.at,
            account_id=entry.account_id,
            entry_id=entry.entry_id,
            kind=entry.kind.value,
            amount=entry.amount.to_json(),
            balance=balance.to_json(),
            invoice_id=entry.invoice_id,
        )
