"""Upgrade and downgrade quotes: proration in whole days in the company's timezone (WHMCS rules, made exact).

    days_left          = next_due_date − today
    credit             = round_half_up(paid_for_period × days_left / days_in_current_period)
    debit              = round_half_up(new_price × days_left / days_in_new_period)
    days_in_new_period = the length of the new cycle's period that ends on next_due_date
    amount_due         = debit − credit     (negative: goes to the credit balance when applied)

``paid_for_period`` is what was actually paid for the current period's line (0 if unpaid). The next due date never
changes. After a change is applied the current period restarts today, paid with the debit — so a second change on
the same day credits exactly that debit back: an upgrade then a downgrade nets to zero within one minor unit.
When the next period's renewal invoice is already paid, the quote adds the whole next period at the new price minus
what was paid for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP
from fractions import Fraction

from balcao.domain.cycles import BillingCycle, period_start
from balcao.domain.errors import N_, InvalidInputError
from balcao.domain.money import Money


@dataclass(frozen=True, slots=True)
class CurrentPeriod:
    """What the service has paid for, and until when."""

    start: date
    end: date  # the next due date
    paid: Money  # actually paid for [start, end) — 0 when unpaid

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True, slots=True)
class PrepaidNextPeriod:
    """The next period's renewal invoice, already paid at the old price."""

    end: date
    paid: Money


@dataclass(frozen=True, slots=True)
class Quote:
    credit: Money
    debit: Money
    next_period_adjustment: Money
    days_left: int
    days_in_current_period: int
    days_in_new_period: int
    next_due_date: date

    @property
    def amount_due(self) -> Money:
        return self.debit - self.credit + self.next_period_adjustment


class ChangeNotPossibleError(InvalidInputError):
    """The service's current period has ended (renew it first) or the change changes nothing."""

    def __init__(self, message: str) -> None:
        from balcao.domain.errors import FieldProblem

        super().__init__([FieldProblem("product_id", "change_not_possible", message)], message)


def prorate(amount: Money, numerator_days: int, denominator_days: int) -> Money:
    if denominator_days <= 0:
        raise ValueError("a period has at least one day")
    return amount.times(Fraction(numerator_days, denominator_days), ROUND_HALF_UP)


def quote_change(
    current: CurrentPeriod,
    today: date,
    new_price: Money,
    new_cycle: BillingCycle,
    prepaid_next: PrepaidNextPeriod | None = None,
    next_period_price: Money | None = None,
    anchor_day: int | None = None,
) -> Quote:
    """The quote of moving to ``new_price`` per ``new_cycle`` today (see the module docstring). ``anchor_day``: the
    service's day of the month, so the new cycle's period ending on the due date starts on that day."""
    if today >= current.end:
        raise ChangeNotPossibleError(
            N_("This service is due for renewal: pay the renewal first, then change the plan.")
        )
    days_left = (current.end - max(today, current.start)).days
    days_in_current = current.days
    days_in_new = (current.end - period_start(current.end, new_cycle, anchor_day)).days
    credit = (
        prorate(current.paid, days_left, days_in_current) if current.paid.amount else Money.zero(new_price.currency)
    )
    debit = prorate(new_price, days_left, days_in_new)
    adjustment = Money.zero(new_price.currency)
    if prepaid_next is not None:
        full_next = next_period_price if next_period_price is not None else new_price
        adjustment = full_next - prepaid_next.paid
    return Quote(
        credit=credit,
        debit=debit,
        next_period_adjustment=adjustment,
        days_left=days_left,
        days_in_current_period=days_in_current,
        days_in_new_period=days_in_new,
        next_due_date=current.end,
    )


def period_after_change(current: CurrentPeriod, today: date, quote: Quote) -> CurrentPeriod:
    """The current period once the change is applied: from today, paid with the debit."""
    return CurrentPeriod(start=max(today, current.start), end=current.end, paid=quote.debit)
