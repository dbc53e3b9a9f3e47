"""Upgrade/downgrade quotes: the worked examples of the reference, and the properties the issue asks for."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balcao.domain.cycles import BillingCycle, add_months, period_start
from balcao.domain.money import Money
from balcao.domain.proration import (
    ChangeNotPossibleError,
    CurrentPeriod,
    PrepaidNextPeriod,
    period_after_change,
    quote_change,
)

BRL = "BRL"


def test_whmcs_worked_example_12_of_30_days():
    # Given R$ 49,90 paid for a 30-day month, 12 days left, When upgrading to R$ 99,90
    current = CurrentPeriod(start=date(2026, 4, 1), end=date(2026, 5, 1), paid=Money.of(4990, BRL))
    quote = quote_change(current, date(2026, 4, 19), Money.of(9990, BRL), BillingCycle.MONTHLY)
    # Then credit 19,96, debit 39,96, due 20,00; the next due date does not move
    assert (quote.credit, quote.debit, quote.amount_due) == (
        Money.of(1996, BRL),
        Money.of(3996, BRL),
        Money.of(2000, BRL),
    )
    assert quote.days_left == 12 and quote.days_in_current_period == 30 and quote.days_in_new_period == 30
    assert quote.next_due_date == date(2026, 5, 1)


def test_whmcs_worked_example_11_of_31_days():
    current = CurrentPeriod(start=date(2026, 3, 1), end=date(2026, 4, 1), paid=Money.of(4990, BRL))
    quote = quote_change(current, date(2026, 3, 21), Money.of(9990, BRL), BillingCycle.MONTHLY)
    assert (quote.credit, quote.debit, quote.amount_due) == (
        Money.of(1771, BRL),
        Money.of(3545, BRL),
        Money.of(1774, BRL),
    )


def test_a_downgrade_goes_to_credit_and_an_unpaid_period_credits_nothing():
    current = CurrentPeriod(start=date(2026, 3, 1), end=date(2026, 4, 1), paid=Money.of(9990, BRL))
    down = quote_change(current, date(2026, 3, 21), Money.of(4990, BRL), BillingCycle.MONTHLY)
    assert down.amount_due.is_negative
    unpaid = CurrentPeriod(start=date(2026, 3, 1), end=date(2026, 4, 1), paid=Money.zero(BRL))
    assert quote_change(unpaid, date(2026, 3, 21), Money.of(4990, BRL), BillingCycle.MONTHLY).credit == Money.zero(BRL)


def test_a_longer_new_cycle_prorates_over_its_own_length():
    # monthly R$ 49,90 → annual R$ 499,00 with 10 days left of April: the annual period ending 1 May has 365 days
    current = CurrentPeriod(start=date(2026, 4, 1), end=date(2026, 5, 1), paid=Money.of(4990, BRL))
    quote = quote_change(current, date(2026, 4, 21), Money.of(49900, BRL), BillingCycle.ANNUAL)
    assert quote.days_in_new_period == 365
    assert quote.debit == Money.of(1367, BRL)  # 499,00 × 10 / 365 = 13,671… → 13,67


def test_a_paid_next_period_adds_the_whole_next_period_at_the_new_price():
    current = CurrentPeriod(start=date(2026, 4, 1), end=date(2026, 5, 1), paid=Money.of(4990, BRL))
    quote = quote_change(
        current,
        date(2026, 4, 19),
        Money.of(9990, BRL),
        BillingCycle.MONTHLY,
        prepaid_next=PrepaidNextPeriod(end=date(2026, 6, 1), paid=Money.of(4990, BRL)),
    )
    assert quote.next_period_adjustment == Money.of(5000, BRL)
    assert quote.amount_due == Money.of(7000, BRL)


def test_no_change_on_or_after_the_due_date():
    current = CurrentPeriod(start=date(2026, 4, 1), end=date(2026, 5, 1), paid=Money.of(4990, BRL))
    with pytest.raises(ChangeNotPossibleError):
        quote_change(current, date(2026, 5, 1), Money.of(9990, BRL), BillingCycle.MONTHLY)


def test_months_keep_their_anchor_day():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 2, 28), 1, anchor_day=31) == date(2026, 3, 31)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert period_start(date(2026, 3, 31), BillingCycle.QUARTERLY) == date(2025, 12, 31)
    assert add_months(date(2026, 11, 15), -24) == date(2024, 11, 15)


prices = st.integers(min_value=100, max_value=5_000_000)
cycles = st.sampled_from(list(BillingCycle))


@st.composite
def periods(draw):
    cycle = draw(cycles)
    end = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 2000)))
    start = period_start(end, cycle)
    paid = Money.of(draw(st.integers(0, 5_000_000)), BRL)
    today = start + timedelta(days=draw(st.integers(0, (end - start).days - 1)))
    return CurrentPeriod(start, end, paid), today, cycle


@given(periods(), prices, cycles)
def test_the_credit_never_exceeds_what_was_paid(period, new_price, new_cycle):
    current, today, _ = period
    quote = quote_change(current, today, Money.of(new_price, BRL), new_cycle)
    assert Money.zero(BRL) <= quote.credit <= current.paid


@given(periods(), prices)
def test_upgrade_then_downgrade_on_the_same_day_nets_to_zero_within_one_minor_unit(period, higher):
    current, today, cycle = period
    old_price = current.paid if current.paid.amount else Money.of(1000, BRL)
    current = CurrentPeriod(current.start, current.end, old_price)
    up = quote_change(current, today, Money.of(higher, BRL), cycle)
    after = period_after_change(current, today, up)
    down = quote_change(after, today, old_price, cycle)
    assert abs((up.amount_due + down.amount_due).amount) <= 1
