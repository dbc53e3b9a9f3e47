"""Money: integer minor units plus an ISO 4217 currency. Never a float.

Rounding is explicit. Each currency states its rule for derived amounts (taxes, percentages):
- BRL: half-even (ABNT NBR 5891, the customary Brazilian rule: 4.6250 → 4.62, 4.5750 → 4.58);
- EUR: half-up to the nearest cent (Spanish practice, DGT V1919-18).
Proration states its own rule (half-up) where it is computed. Splitting uses largest-remainder allocation so the
parts always add up to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from balcao.domain.errors import CurrencyMismatchError


class Currency(StrEnum):
    BRL = "BRL"
    EUR = "EUR"

    @property
    def exponent(self) -> int:
        return 2

    @property
    def rounding(self) -> str:
        return ROUNDING_BY_CURRENCY[self]


ROUNDING_BY_CURRENCY: dict[Currency, str] = {Currency.BRL: ROUND_HALF_EVEN, Currency.EUR: ROUND_HALF_UP}


def round_fraction(value: Fraction, rounding: str) -> int:
    """Round an exact fraction of minor units to an integer, exactly, with a ``decimal`` rounding mode name.

    Supported: ``ROUND_HALF_UP`` (ties away from zero) and ``ROUND_HALF_EVEN`` (ties to the even neighbour).
    """
    quotient, remainder = divmod(value.numerator, value.denominator)  # floor division, remainder >= 0
    twice = 2 * remainder
    if twice < value.denominator:
        return quotient
    if twice > value.denominator:
        return quotient + 1
    if rounding == ROUND_HALF_UP:
        return quotient + 1 if value > 0 else quotient
    if rounding == ROUND_HALF_EVEN:
        return quotient if quotient % 2 == 0 else quotient + 1
    raise ValueError(f"unsupported rounding mode {rounding}")


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int
    currency: Currency

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")

    @classmethod
    def zero(cls, currency: Currency | str) -> Money:
        return cls(0, Currency(currency))

    @classmethod
    def of(cls, amount: int, currency: Currency | str) -> Money:
        return cls(amount, Currency(currency))

    @classmethod
    def from_decimal(cls, value: Decimal | str, currency: Currency | str) -> Money:
        """Parse a major-unit decimal ("12.34"); more precision than the currency has is an error."""
        currency = Currency(currency)
        scaled = Decimal(value) * (10**currency.exponent)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {currency.exponent} decimal places")
        return cls(int(scaled), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-self.currency.exponent)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise CurrencyMismatchError()

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def times(self, factor: Fraction | int, rounding: str | None = None) -> Money:
        """Multiply by an exact factor, rounding once with ``rounding`` (default: the currency's rule)."""
        exact = Fraction(self.amount) * Fraction(factor)
        return Money(round_fraction(exact, rounding or self.currency.rounding), self.currency)

    def percent(self, rate: Decimal | str, rounding: str | None = None) -> Money:
        """``rate`` percent of this amount (``Decimal("21")`` → 21 %), rounded once."""
        return self.times(Fraction(Decimal(rate)) / 100, rounding)

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        """Split into parts proportional to ``ratios`` that sum exactly to this amount (largest remainder)."""
        if not ratios or any(r < 0 for r in ratios) or sum(ratios) == 0:
            raise ValueError("ratios must be non-negative and not all zero")
        total = sum(ratios)
        sign = -1 if self.amount < 0 else 1
        magnitude = abs(self.amount)
        exact = [Fraction(magnitude * r, total) for r in ratios]
        parts = [int(x) for x in exact]
        remainder = magnitude - sum(parts)
        by_fraction = sorted(range(len(ratios)), key=lambda i: (exact[i] - parts[i], -i), reverse=True)
        for index in by_fraction[:remainder]:
            parts[index] += 1
        return [Money(sign * p, self.currency) for p in parts]

    def to_json(self) -> dict[str, int | str]:
        return {"amount": self.amount, "currency": self.currency.value}
