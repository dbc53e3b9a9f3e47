"""Charges: what we asked a provider to collect (a PIX code, a boleto, a card or SEPA PaymentIntent), and the rules
around them — forward-only status, allocation of one payment over several invoices, the boleto's suspension pause,
saved payment methods and the automatic-charging schedule.

A charge is *our* record of a payment attempt; its id is the API's ``payment_id``. Money that actually arrived is a
payment of the invoices capability (its settlement core), recorded once per (provider, provider reference).

Status moves forward only (API.md "Payments: what webhooks accept"):
``pending → processing → succeeded | failed``, ``pending → cancelled | expired``; money that arrives wins
(``failed``, ``cancelled`` or ``expired`` → ``succeeded``: a late payment becomes credit); the one backward move is
a reversal of a succeeded charge (``refunded``, ``charged_back``). Anything else is a stale or duplicate event and
is ignored.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from balcao.domain.errors import N_, ConflictError, InvalidInputError, NotFoundError
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.money import Currency, Money

BOLETO_PAUSE_BUSINESS_DAYS = 3
MAX_INVOICES_PER_PAYMENT = 10


class Provider(StrEnum):
    STRIPE = "stripe"  # cards and SEPA Direct Debit
    MERCADOPAGO = "mercadopago"  # PIX and boleto
    SANDBOX = "sandbox"  # the local stack's provider (PAYMENTS_MODE=local only)
    CREDIT = "credit"  # the account's credit balance (no provider involved)


PROVIDER_METHODS: Mapping[Provider, frozenset[PaymentMethod]] = {
    Provider.STRIPE: frozenset({PaymentMethod.CARD, PaymentMethod.SEPA}),
    Provider.MERCADOPAGO: frozenset({PaymentMethod.PIX, PaymentMethod.BOLETO}),
    Provider.SANDBOX: frozenset({PaymentMethod.CARD, PaymentMethod.SEPA, PaymentMethod.PIX, PaymentMethod.BOLETO}),
    Provider.CREDIT: frozenset({PaymentMethod.CREDIT}),
}


class ChargeStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"  # a SEPA debit presented: the invoice is payment_pending
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    CHARGED_BACK = "charged_back"

    @property
    def api_status(self) -> str:
        """API.md's payment status: ``pending, succeeded, failed, refunded, charged_back``."""
        if self in (ChargeStatus.PENDING, ChargeStatus.PROCESSING):
            return "pending"
        if self in (ChargeStatus.CANCELLED, ChargeStatus.EXPIRED):
            return "failed"
        return self.value

    @property
    def is_open(self) -> bool:
        return self in (ChargeStatus.PENDING, ChargeStatus.PROCESSING)


_FORWARD: Mapping[ChargeStatus, frozenset[ChargeStatus]] = {
    ChargeStatus.PENDING: frozenset(
        {
            ChargeStatus.PROCESSING,
            ChargeStatus.SUCCEEDED,
            ChargeStatus.FAILED,
            ChargeStatus.CANCELLED,
            ChargeStatus.EXPIRED,
        }
    ),
    ChargeStatus.PROCESSING: frozenset({ChargeStatus.SUCCEEDED, ChargeStatus.FAILED}),
    ChargeStatus.FAILED: frozenset({ChargeStatus.SUCCEEDED}),
    ChargeStatus.CANCELLED: frozenset({ChargeStatus.SUCCEEDED}),
    ChargeStatus.EXPIRED: frozenset({ChargeStatus.SUCCEEDED}),
    ChargeStatus.SUCCEEDED: frozenset({ChargeStatus.REFUNDED, ChargeStatus.CHARGED_BACK}),
    ChargeStatus.REFUNDED: frozenset({ChargeStatus.CHARGED_BACK}),
    ChargeStatus.CHARGED_BACK: frozenset(),
}


def moves_forward(current: ChargeStatus, target: ChargeStatus) -> bool:
    """Whether an event may move a charge from ``current`` to ``target`` (else it is stale and ignored)."""
    return target in _FORWARD[current]


def predecessors(target: ChargeStatus) -> frozenset[ChargeStatus]:
    """The statuses a charge may move to ``target`` from (the condition of its write)."""
    return frozenset(status for status, nexts in _FORWARD.items() if target in nexts)


class ChargeOrigin(StrEnum):
    CUSTOMER = "customer"  # the customer asked to pay (API or portal)
    AUTOCHARGE = "autocharge"  # job ``autocharge``: a saved method charged off-session


# --- errors ------------------------------------------------------------------------------------------------------
class PaymentMethodUnavailableError(InvalidInputError):
    """The method cannot pay this (wrong currency, provider not configured, nothing to pay)."""


class NothingToPayError(InvalidInputError):
    """Every invoice asked for is already paid (or the amount is zero)."""


class ProviderAnswerInvalidError(ConflictError):
    """A provider answered with a PIX code or boleto line that breaks its rules: never shown to the customer."""

    default_message = N_(
        "The payment provider returned a payment code we could not verify. Please try again or choose another method."
    )


class SavedMethodNotFoundError(NotFoundError):
    """No such saved payment method on this account."""


class SavedMethodInvalidError(InvalidInputError):
    """A saved method that does not fit (an unknown provider reference, a SEPA mandate for reais…)."""


# --- charges -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Charge:
    """A payment attempt at a provider for one or several invoices of one account (``details``: what the customer
    needs to pay — PIX code, boleto line, Stripe client secret, SEPA mandate status)."""

    charge_id: str
    account_id: str
    invoice_ids: tuple[str, ...]
    method: PaymentMethod
    provider: Provider
    amount: Money
    status: ChargeStatus
    created_at: datetime
    provider_ref: str | None = None
    expires_at: datetime | None = None
    origin: ChargeOrigin = ChargeOrigin.CUSTOMER
    attempt: int = 1
    saved_method_id: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    failure: str | None = None
    amount_received: Money | None = None
    amount_reversed: Money | None = None
    updated_at: datetime | None = None

    def moved(self, status: ChargeStatus, at: datetime, **changes: object) -> Charge:
        return replace(self, status=status, updated_at=at, **changes)  # type: ignore[arg-type]


def charge_idempotency_key(invoice_ids: Sequence[str], attempt: int, purpose: str = "charge") -> str:
    """The provider idempotency key of a charge: derived from its invoices and attempt, so a retried request
    (a Lambda retry, a double click) reuses it and the provider answers the first result (≤ 255 characters)."""
    joined = "+".join(sorted(invoice_ids))
    return f"balcao:{purpose}:{joined}:{attempt}"[:255]


# --- allocation ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OpenInvoice:
    invoice_id: str
    due_date: date
    amount_due: Money


def allocate(amount: Money, invoices: Sequence[OpenInvoice]) -> tuple[list[tuple[str, Money]], Money]:
    """One payment over several invoices (API.md): oldest due date first (then the invoice id), each up to its
    ``amount_due``; what is left goes to credit. Returns (invoice id, applied) for each invoice that gets something,
    and the rest."""
    remaining = amount
    shares: list[tuple[str, Money]] = []
    for invoice in sorted(invoices, key=lambda i: (i.due_date, i.invoice_id)):
        if remaining.is_zero or not remaining.amount > 0:
            break
        if invoice.amount_due.currency != amount.currency:
            continue
        share = remaining if remaining <= invoice.amount_due else invoice.amount_due
        if share.is_zero:
            continue
        shares.append((invoice.invoice_id, share))
        remaining -= share
    return shares, remaining


# --- the boleto's pause of suspension --------------------------------------------------------------------------------
def add_business_days(day: date, days: int) -> date:
    """``days`` working days (Monday to Friday) after ``day``."""
    current = day
    added = 0
    while added < days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current


def boleto_pause_until(boleto_due: date, suspension_day: date, already_used: bool) -> date | None:
    """An issued boleto whose due date is on or before the suspension day pauses suspension until its due date plus
    3 business days — once per invoice: a second boleto does not extend it."""
    if already_used or boleto_due > suspension_day:
        return None
    return add_business_days(boleto_due, BOLETO_PAUSE_BUSINESS_DAYS)


def boleto_due_date(today: date, days: int, cancellation_day: date | None) -> date:
    """A new boleto is due ``days`` after today, but never after the invoice's cancellation day (nor before today)."""
    due = today + timedelta(days=days)
    if cancellation_day is not None and cancellation_day < due:
        due = cancellation_day if cancellation_day >= today else today
    return due


# --- saved methods ---------------------------------------------------------------------------------------------------
class SavedMethodKind(StrEnum):
    CARD = "card"
    SEPA = "sepa"


@dataclass(frozen=True, slots=True)
class SavedMethod:
    """A saved card or SEPA mandate of an account (kept at the provider; we hold only its reference and what is
    shown: brand, last four digits, expiry, mandate reference). ``services``: the services it pays by default."""

    method_id: str
    account_id: str
    kind: SavedMethodKind
    provider: Provider
    provider_ref: str
    created_at: datetime
    customer_ref: str | None = None
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    mandate_reference: str | None = None
    mandate_status: str | None = None
    is_default: bool = False
    services: tuple[str, ...] = ()

    @property
    def payment_method(self) -> PaymentMethod:
        return PaymentMethod.CARD if self.kind is SavedMethodKind.CARD else PaymentMethod.SEPA

    @property
    def expires_on(self) -> date | None:
        """The last day a card can be used (the end of its expiry month)."""
        if self.exp_month is None or self.exp_year is None:
            return None
        return date(self.exp_year, self.exp_month, calendar.monthrange(self.exp_year, self.exp_month)[1])

    def usable_for(self, currency: Currency, on: date) -> bool:
        if self.kind is SavedMethodKind.SEPA:
            return currency is Currency.EUR and self.mandate_status in (None, "active", "pending")
        expires = self.expires_on
        return expires is None or expires >= on


@dataclass(frozen=True, slots=True)
class PayableService:
    """A service of the account that a saved method may pay by default, as the choice names it."""

    service_id: str
    name: str
    domain: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.domain})" if self.domain else self.name


def method_for(
    methods: Sequence[SavedMethod], service_ids: Sequence[str], currency: Currency, on: date
) -> SavedMethod | None:
    """The method that pays an invoice automatically: one set as default for a service of the invoice, else the
    account's default; only a method usable for the currency on that day."""
    usable = [m for m in methods if m.usable_for(currency, on)]
    for service_id in service_ids:
        for method in usable:
            if service_id in method.services:
                return method
    return next((m for m in usable if m.is_default), None)


# --- automatic charging --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AutochargeSchedule:
    """Charge ``days_before`` days before the due date (0: on it), then retry ``retries`` days after it."""

    days_before: int = 0
    retries: tuple[int, ...] = (3, 5)

    @property
    def offsets(self) -> tuple[int, ...]:
        return (-self.days_before, *self.retries)

    def attempt_due(self, due_date: date, today: date) -> int | None:
        """The latest attempt (0 = first) whose day has come, or None before the first one. The job claims each
        attempt once, so running daily (or catching up after missed days) charges at most once per attempt."""
        reached = [index for index, offset in enumerate(self.offsets) if due_date + timedelta(days=offset) <= today]
        return reached[-1] if reached else None

    def window(self, today: date) -> tuple[date, date]:
        """Due dates that may need an attempt today: from ``today − last retry`` to ``today + days_before``."""
        return today - timedelta(days=max(self.offsets)), today + timedelta(days=self.days_before)


def expiry_month(moment: date) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"
