"""Series patterns and number claims (with the chain of record hashes), credit application, billing cycles and the
renewal run's windows; the invoices section of the company settings."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from balcao.domain.credit import CreditBalance
from balcao.domain.cycles import BillingCycle, add_months
from balcao.domain.invoice_numbering import (
    SequenceState,
    SeriesPattern,
    SeriesPatternInvalidError,
    claim_next,
    record_hash,
)
from balcao.domain.money import Currency, Money
from balcao.domain.renewals import LeadOverride, LeadPolicy, RenewalCoverage, period_from
from balcao.services.company_settings_document import CompanySettings

DAY = date(2026, 11, 22)


def brl(amount: int) -> Money:
    return Money.of(amount, Currency.BRL)


# --- numbers -------------------------------------------------------------------------------------------------------
def test_a_pattern_formats_numbers_and_names_its_yearly_sequence():
    # Given a yearly pattern and one without a year
    # When numbers are formatted
    pattern = SeriesPattern("INV-{year}-{number:06d}")
    # Then they follow the pattern and each year has its sequence
    assert pattern.format(2026, 123) == "INV-2026-000123"
    assert pattern.sequence_id(2026) == "INV-2026-{number:06d}" and pattern.sequence_id(2027) != pattern.sequence_id(
        2026
    )
    assert SeriesPattern("F{number}").format(2026, 7) == "F7"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "INV-{year}",
        "INV-{number.__class__}",
        "{year:04d}-{number}",
        "{number:6d}",
        "{number}-{number}",
        "{x}{number}",
        "{",
    ],
)
def test_bad_patterns_are_refused(text):
    # Given a pattern with a missing, unknown, repeated or formatted placeholder
    # When it is parsed
    # Then it is refused
    with pytest.raises(SeriesPatternInvalidError):
        SeriesPattern(text)


def test_claims_follow_the_sequence_and_chain_the_record_hashes():
    # Given an empty sequence
    pattern = SeriesPattern("INV-{year}-{number:06d}")
    first = claim_next(SequenceState("S"), pattern, DAY, brl(10500), "DOC1")
    # When a second number is claimed after it
    second = claim_next(SequenceState("S", first.number, first.record_hash), pattern, DAY, brl(4990), "DOC2")
    # Then numbers follow without a gap, each claim expects the previous state, and each hash names the previous one
    assert (first.number, first.expected_last, first.formatted) == (1, 0, "INV-2026-000001")
    assert (second.number, second.expected_last, second.previous_hash) == (2, 1, first.record_hash)
    assert second.record_hash == record_hash("INV-2026-000002", DAY, brl(4990), "DOC2", first.record_hash)
    # And changing any fact of an earlier record changes its hash (and so every later one)
    assert record_hash("INV-2026-000001", DAY, brl(10501), "DOC1", None) != first.record_hash


# --- credit ---------------------------------------------------------------------------------------------------------
def test_credit_applies_up_to_the_amount_due_unless_opted_out():
    # Given credit balances
    # When they are applied to amounts due
    balance = CreditBalance("A", brl(3000))
    # Then they pay up to what is due, nothing when opted out, without a currency or in another one
    assert balance.applicable_to(brl(10000)) == brl(3000)
    assert balance.applicable_to(brl(1000)) == brl(1000)
    assert CreditBalance("A", brl(3000), auto_apply=False).applicable_to(brl(1000)) == brl(0)
    assert CreditBalance("A", None).applicable_to(brl(1000)) == brl(0)
    assert balance.applicable_to(Money.of(1000, Currency.EUR)) == Money.of(0, Currency.EUR)


# --- cycles and periods ---------------------------------------------------------------------------------------------
def test_periods_run_to_the_day_before_the_next_due_date():
    # Given due dates at month ends and in leap years
    # When their periods are computed
    # Then each ends the day before the next due date
    assert period_from(date(2026, 12, 1), BillingCycle.MONTHLY).end == date(2026, 12, 31)
    assert period_from(date(2026, 1, 31), BillingCycle.MONTHLY).next_due_date == date(2026, 2, 28)
    assert period_from(date(2024, 2, 29), BillingCycle.ANNUAL).next_due_date == date(2025, 2, 28)
    assert period_from(date(2026, 11, 22), BillingCycle.BIENNIAL).next_due_date == date(2028, 11, 22)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_lead_days_per_product_and_cycle():
    # Given overrides per product and cycle
    # When leads are asked
    policy = LeadPolicy(
        14,
        (LeadOverride("vps", BillingCycle.MONTHLY, 7), LeadOverride("vps", None, 21), LeadOverride("ssl", None, 30)),
    )
    # Then the most specific one wins
    assert policy.lead_for("vps", BillingCycle.MONTHLY) == 7
    assert policy.lead_for("vps", BillingCycle.ANNUAL) == 21
    assert policy.lead_for("hosting", BillingCycle.MONTHLY) == 14
    assert policy.leads == {7, 14, 21, 30}


# --- the run's windows ----------------------------------------------------------------------------------------------
def test_the_first_run_covers_from_today_to_the_lead():
    # Given no checkpoint
    # When the windows are computed
    [window] = RenewalCoverage().windows(DAY, [14])
    # Then they cover today to today + lead
    assert (window.first, window.last) == (DAY, date(2026, 12, 6)) and len(list(window.days())) == 15


def test_a_run_on_the_same_day_covers_nothing_and_missed_days_are_caught_up():
    # Given a checkpoint at today + 14
    # When the run goes today and three days later
    covered = RenewalCoverage({14: date(2026, 12, 6)})
    [same_day] = covered.windows(DAY, [14])
    # Then the first covers nothing and the second the three missed days
    assert list(same_day.days()) == []
    [three_days_later] = covered.windows(date(2026, 11, 25), [14])
    assert list(three_days_later.days()) == [date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)]


def test_a_new_lead_starts_after_the_smallest_covered_date_and_coverage_only_moves_forward():
    # Given checkpoints for leads 7 and 14
    # When a lead of 21 appears and coverage moves
    covered = RenewalCoverage({14: date(2026, 12, 6), 7: date(2026, 11, 29)})
    windows = {w.lead_days: w for w in covered.windows(DAY, [7, 14, 21])}
    # Then the new lead starts after the smallest covered date and coverage never goes back
    assert windows[21].first == date(2026, 11, 30) and windows[21].last == date(2026, 12, 13)
    assert covered.advanced(14, date(2026, 12, 1)) is covered
    assert covered.advanced(14, date(2026, 12, 8)).covered[14] == date(2026, 12, 8)


# --- settings ------------------------------------------------------------------------------------------------------
def test_invoice_settings_defaults_and_validation():
    # Given the company settings
    # When defaults are read and bad sections validated
    settings = CompanySettings().invoices
    # Then defaults match the product and bad patterns or series are refused
    assert settings.invoice_series.pattern_for(DAY).format(2026, 1) == "INV-2026-000001"
    assert settings.tax_policy().rule_for("ES", "hosting") is not None
    assert settings.tax_policy().rule_for("BR", "hosting") is None
    assert settings.lead_policy().default_days == 14 and not settings.late_fee.enabled
    yearly = CompanySettings.model_validate(
        {"invoices": {"invoice_series": {"patterns_by_year": {"2027": "F27/{number:05d}"}}}}
    ).invoices
    assert yearly.invoice_series.pattern_for(date(2027, 1, 2)).format(2027, 3) == "F27/00003"
    for bad in (
        {"invoice_series": {"pattern": "INV-{year}"}},
        {"credit_note_series": {"number_at": "payment"}},
        {"credit_note_series": {"pattern": "INV-{year}-{number:06d}"}},
    ):
        with pytest.raises(ValidationError):
            CompanySettings.model_validate({"invoices": bad})
