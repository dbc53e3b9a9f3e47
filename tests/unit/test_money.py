"""Money: integer minor units, explicit rounding per currency, largest-remainder allocation."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balcao.domain.errors import CurrencyMismatchError
from balcao.domain.money import Currency, Money, round_fraction


@pytest.mark.parametrize(
    ("value", "half_up", "half_even"),
    [("0.125", 13, 12), ("1.005", 101, 100), ("4.6250", 463, 462), ("4.5750", 458, 458), ("-0.125", -13, -12)],
)
def test_rounding_vectors(value, half_up, half_even):
    # Given an exact amount in major units, When rounded to cents, Then each rule gives the published result
    cents = Fraction(value) * 100
    assert round_fraction(cents, ROUND_HALF_UP) == half_up
    assert round_fraction(cents, ROUND_HALF_EVEN) == half_even


def test_each_currency_states_its_rule():
    # BRL follows ABNT NBR 5891 (half-even), EUR rounds half-up (Spanish practice)
    assert Money.of(4625, "BRL").times(Fraction(1, 10)).amount == 462
    assert Money.of(4625, "EUR").times(Fraction(1, 10)).amount == 463


def test_percent_rounds_once():
    assert Money.of(252, "EUR").percent("16") == Money.of(40, "EUR")
    assert Money.of(504, "EUR").percent("16") == Money.of(81, "EUR")


def test_allocation_never_loses_a_cent():
    assert [m.amount for m in Money.of(10000, "BRL").allocate([1, 1, 1])] == [3334, 3333, 3333]
    assert [m.amount for m in Money.of(-100, "EUR").allocate([1, 1, 1])] == [-34, -33, -33]


@given(
    st.integers(-(10**9), 10**9), st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(lambda r: sum(r) > 0)
)
def test_allocation_sums_to_the_whole(amount, ratios):
    parts = Money.of(amount, "BRL").allocate(ratios)
    assert sum(p.amount for p in parts) == amount
    assert all(p.amount == 0 for p, r in zip(parts, ratios, strict=True) if r == 0)


def test_currencies_never_mix():
    with pytest.raises(CurrencyMismatchError):
        _ = Money.of(1, "BRL") + Money.of(1, "EUR")
    with pytest.raises(CurrencyMismatchError):
        _ = Money.of(1, "BRL") < Money.of(1, "EUR")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        Money(1.5, Currency.BRL)  # type: ignore[arg-type]


def test_decimal_round_trip_and_precision():
    assert Money.from_decimal("1234.56", "BRL") == Money.of(123456, "BRL")
    assert Money.of(123456, "EUR").to_decimal() == Fraction(123456, 100)
    with pytest.raises(ValueError):
        Money.from_decimal("1.234", "EUR")
    assert Money.of(500, "BRL").to_json() == {"amount": 500, "currency": "BRL"}
