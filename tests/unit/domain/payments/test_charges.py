"""Charges' rules: forward-only status, allocation over several invoices, the boleto's pause of suspension, saved
methods and the automatic-charging schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.money import Currency, Money
from balcao.domain.payments.charges import (
    AutochargeSchedule,
    ChargeStatus,
    OpenInvoice,
    Provider,
    SavedMethod,
    SavedMethodKind,
    add_business_days,
    allocate,
    boleto_due_date,
    boleto_pause_until,
    charge_idempotency_key,
    method_for,
    moves_forward,
    predecessors,
)

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def brl(amount: int) -> Money:
    return Money(amount, Currency.BRL)


# --- status ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (ChargeStatus.PENDING, ChargeStatus.PROCESSING, True),
        (ChargeStatus.PROCESSING, ChargeStatus.SUCCEEDED, True),
        (ChargeStatus.SUCCEEDED, ChargeStatus.PROCESSING, False),  # a stale event never moves back
        (ChargeStatus.SUCCEEDED, ChargeStatus.FAILED, False),  # a failure after success is a reversal, not this
        (ChargeStatus.SUCCEEDED, ChargeStatus.CHARGED_BACK, True),  # the one backward move
        (ChargeStatus.CANCELLED, ChargeStatus.SUCCEEDED, True),  # money that arrives wins (late payment)
        (ChargeStatus.CHARGED_BACK, ChargeStatus.REFUNDED, False),
    ],
)
def test_charges_move_forward_only(current, target, allowed):
    assert moves_forward(current, target) is allowed


def test_predecessors_are_what_the_write_condition_allows():
    assert predecessors(ChargeStatus.SUCCEEDED) == {
        ChargeStatus.PENDING,
        ChargeStatus.PROCESSING,
        ChargeStatus.FAILED,
        ChargeStatus.CANCELLED,
        ChargeStatus.EXPIRED,
    }


def test_the_api_sees_five_payment_statuses():
    assert {s.api_status for s in ChargeStatus} == {"pending", "succeeded", "failed", "refunded", "charged_back"}


def test_the_idempotency_key_is_derived_from_the_invoices_and_the_attempt():
    # Given the same invoices in any order and the same attempt, the key is the same; another attempt differs
    assert charge_idempotency_key(["B", "A"], 1) == charge_idempotency_key(["A", "B"], 1) == "balcao:charge:A+B:1"
    assert charge_idempotency_key(["A"], 2) != charge_idempotency_key(["A"], 1)
    assert len(charge_idempotency_key(["X" * 26] * 20, 1)) <= 255


# --- allocation ------------------------------------------------------------------------------------------------------
def test_a_payment_pays_the_oldest_due_date_first_each_up_to_its_amount_due_the_rest_to_credit():
    # Given three open invoices
    invoices = [
        OpenInvoice("C", date(2026, 12, 1), brl(3000)),
        OpenInvoice("A", date(2026, 11, 1), brl(4000)),
        OpenInvoice("B", date(2026, 11, 1), brl(2000)),
    ]
    # When R$ 100,00 arrives
    shares, rest = allocate(brl(10000), invoices)
    # Then A and B (same day: by id) then C are paid, and R$ 10,00 is left for credit
    assert shares == [("A", brl(4000)), ("B", brl(2000)), ("C", brl(3000))]
    assert rest == brl(1000)


def test_a_short_payment_pays_the_oldest_in_full_and_the_next_in_part():
    invoices = [OpenInvoice("A", date(2026, 11, 1), brl(4000)), OpenInvoice("B", date(2026, 11, 2), brl(6000))]
    shares, rest = allocate(brl(5000), invoices)
    assert shares == [("A", brl(4000)), ("B", brl(1000))] and rest.is_zero


# --- boleto ----------------------------------------------------------------------------------------------------------
def test_business_days_skip_weekends():
    # Wednesday 25 + 3 business days = Monday 30; Friday 27 + 1 = Monday 30
    assert add_business_days(date(2026, 11, 25), 3) == date(2026, 11, 30)
    assert add_business_days(date(2026, 11, 27), 1) == date(2026, 11, 30)


def test_a_boleto_due_on_or_before_the_suspension_day_pauses_until_three_business_days_after_it():
    suspension_day = date(2026, 11, 29)
    assert boleto_pause_until(date(2026, 11, 25), suspension_day, already_used=False) == date(2026, 11, 30)
    assert boleto_pause_until(date(2026, 11, 29), suspension_day, already_used=False) == date(2026, 12, 2)


def test_a_boleto_due_after_the_suspension_day_or_a_second_boleto_pauses_nothing():
    suspension_day = date(2026, 11, 29)
    assert boleto_pause_until(date(2026, 11, 30), suspension_day, already_used=False) is None
    assert boleto_pause_until(date(2026, 11, 25), suspension_day, already_used=True) is None


def test_a_boleto_is_never_due_after_the_invoices_cancellation_day():
    today = date(2026, 11, 22)
    assert boleto_due_date(today, 3, None) == date(2026, 11, 25)
    assert boleto_due_date(today, 3, date(2026, 11, 23)) == date(2026, 11, 23)
    assert boleto_due_date(today, 3, date(2026, 11, 20)) == today  # already past: due today, never earlier


# --- saved methods and automatic charging ---------------------------------------------------------------------------
def card(method_id: str, *, default: bool = False, services: tuple[str, ...] = (), exp: tuple[int, int] = (12, 2030)):
    return SavedMethod(
        method_id,
        "ACC",
        SavedMethodKind.CARD,
        Provider.SANDBOX,
        f"pm_{method_id}",
        NOW,
        brand="visa",
        last4="4242",
        exp_month=exp[0],
        exp_year=exp[1],
        is_default=default,
        services=services,
    )


def test_a_services_own_method_wins_over_the_accounts_default():
    methods = [card("default", default=True), card("service", services=("S1",))]
    assert method_for(methods, ["S1"], Currency.BRL, date(2026, 11, 22)).method_id == "service"
    assert method_for(methods, ["S2"], Currency.BRL, date(2026, 11, 22)).method_id == "default"


def test_an_expired_card_or_a_sepa_mandate_for_reais_is_never_used():
    expired = card("old", default=True, exp=(10, 2026))
    mandate = SavedMethod(
        "m", "ACC", SavedMethodKind.SEPA, Provider.SANDBOX, "pm_m", NOW, is_default=True, mandate_status="active"
    )
    assert method_for([expired], [], Currency.BRL, date(2026, 11, 22)) is None
    assert method_for([mandate], [], Currency.BRL, date(2026, 11, 22)) is None
    assert method_for([mandate], [], Currency.EUR, date(2026, 11, 22)).payment_method is PaymentMethod.SEPA
    assert card("x", exp=(11, 2026)).expires_on == date(2026, 11, 30)


def test_the_schedule_charges_on_the_due_date_and_retries_three_and_five_days_after():
    schedule = AutochargeSchedule(days_before=0, retries=(3, 5))
    due = date(2026, 11, 22)
    assert schedule.attempt_due(due, date(2026, 11, 21)) is None
    assert [schedule.attempt_due(due, date(2026, 11, d)) for d in (22, 24, 25, 27, 30)] == [0, 0, 1, 2, 2]
    assert schedule.window(date(2026, 11, 22)) == (date(2026, 11, 17), date(2026, 11, 22))
    early = AutochargeSchedule(days_before=2)
    assert early.attempt_due(due, date(2026, 11, 20)) == 0
