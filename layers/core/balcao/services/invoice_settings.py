"""The ``invoices`` section of the company settings: series, taxes, renewals, late fees, add funds and the seller.

Defaults: invoices numbered at issue as ``INV-{year}-{number:06d}``, credit notes as ``CN-{year}-{number:06d}``;
Spain's IVA at 21 % on every taxed product, nothing in Brazil (add ISS per product category); renewals 14 days
before the due date; late fees off; add funds from R$ 10 / 5 € to R$ 10.000 / 2.000 €, cancelled unpaid after 7 days.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from balcao.domain.cycles import BillingCycle
from balcao.domain.invoice_numbering import SeriesPattern, pattern_problem
from balcao.domain.invoices import LateFeeMode, LateFeePolicy, NumberAt, TaxPolicy, TaxRule
from balcao.domain.money import Currency
from balcao.domain.renewals import LeadOverride, LeadPolicy

CurrencyCode = Literal["BRL", "EUR"]


def _per_currency(brl: int, eur: int) -> dict[CurrencyCode, int]:
    return {"BRL": brl, "EUR": eur}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeriesSettings(_Section):
    """A numbering series: ``pattern`` (``{year}``, ``{number:06d}``), per-year patterns, and when to number."""

    pattern: str = Field(default="INV-{year}-{number:06d}", max_length=60)
    patterns_by_year: dict[int, str] = Field(default_factory=dict)
    number_at: Literal["issue", "payment"] = "issue"

    @field_validator("pattern")
    @classmethod
    def valid_pattern(cls, value: str) -> str:
        problem = pattern_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("patterns_by_year")
    @classmethod
    def valid_year_patterns(cls, value: dict[int, str]) -> dict[int, str]:
        for year, pattern in value.items():
            problem = pattern_problem(pattern)
            if problem is not None or not 2000 <= year <= 2200:
                raise ValueError(problem or "year out of range")
        return value

    def pattern_for(self, day: date) -> SeriesPattern:
        return SeriesPattern(self.patterns_by_year.get(day.year, self.pattern))

    @property
    def numbering(self) -> NumberAt:
        return NumberAt(self.number_at)


class TaxRuleSettings(_Section):
    country: Literal["BR", "ES"]
    category: str = Field(default="*", min_length=1, max_length=40)
    label: str = Field(min_length=1, max_length=20)
    rate_percent: Decimal = Field(ge=0, le=100, max_digits=6, decimal_places=3)


class LeadOverrideSettings(_Section):
    product_id: str = Field(min_length=1, max_length=64)
    cycle: BillingCycle | None = None
    lead_days: int = Field(ge=0, le=90)


class LateFeeSettings(_Section):
    """Off by default. For Brazilian consumers the fee is capped at 2 % whatever is set here (CDC art. 52 §1)."""

    enabled: bool = False
    after_days: int = Field(default=5, ge=1, le=90)
    mode: LateFeeMode = LateFeeMode.PERCENT
    percent: Decimal = Field(default=Decimal(2), ge=0, le=100, max_digits=6, decimal_places=3)
    fixed: dict[CurrencyCode, int] = Field(default_factory=lambda: _per_currency(0, 0))
    due_in_days: int = Field(default=7, ge=0, le=90)

    def policy(self) -> LateFeePolicy:
        return LateFeePolicy(self.mode, self.percent, {Currency(c): v for c, v in self.fixed.items()})


class AddFundsSettings(_Section):
    minimum: dict[CurrencyCode, int] = Field(default_factory=lambda: _per_currency(1_000, 500))
    maximum: dict[CurrencyCode, int] = Field(default_factory=lambda: _per_currency(1_000_000, 200_000))
    cancel_after_days: int = Field(default=7, ge=1, le=60)


class SellerSettings(_Section):
    """The seller printed on invoices; ``legal_name`` defaults to the brand's name."""

    legal_name: str | None = Field(default=None, max_length=120)
    tax_id: str | None = Field(default=None, max_length=40)
    address_lines: list[str] = Field(default_factory=list, max_length=4)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)


def _default_taxes() -> list[TaxRuleSettings]:
    return [TaxRuleSettings(country="ES", category="*", label="IVA", rate_percent=Decimal(21))]


class InvoiceSettings(_Section):
    invoice_series: SeriesSettings = SeriesSettings()
    credit_note_series: SeriesSettings = SeriesSettings(pattern="CN-{year}-{number:06d}")
    payment_terms_days: int = Field(default=7, ge=0, le=120)
    taxes: list[TaxRuleSettings] = Field(default_factory=_default_taxes)
    renewal_lead_days: int = Field(default=14, ge=0, le=90)
    renewal_lead_overrides: list[LeadOverrideSettings] = Field(default_factory=list)
    late_fee: LateFeeSettings = LateFeeSettings()
    add_funds: AddFundsSettings = AddFundsSettings()
    seller: SellerSettings = SellerSettings()

    @model_validator(mode="after")
    def credit_notes_are_numbered_at_issue(self) -> InvoiceSettings:
        if self.credit_note_series.number_at != "issue":
            raise ValueError("credit notes are numbered when issued")
        if self.credit_note_series.pattern == self.invoice_series.pattern:
            raise ValueError("credit notes need their own series")
        return self

    def tax_policy(self) -> TaxPolicy:
        return TaxPolicy(tuple(TaxRule(t.country, t.category, t.label, t.rate_percent) for t in self.taxes))

    def lead_policy(self) -> LeadPolicy:
        return LeadPolicy(
            self.renewal_lead_days,
            tuple(LeadOverride(o.product_id, o.cycle, o.lead_days) for o in self.renewal_lead_overrides),
        )
