"""Dunning's domain: the default timeline, overrides and promises to pay, catch-up, the check's decision, restarts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from balcao.domain.dunning import (
    CheckOutcome,
    ClosedReason,
    DunningPolicy,
    DunningRecord,
    DunningStep,
    ExecutionState,
    InvoiceState,
    RestartDecision,
    WorkflowStatus,
    check_step,
    execution_name,
    execution_number,
    plan_next,
    restart_decision,
    schedule,
)
from balcao.domain.invoices import InvoiceKind
from balcao.services.dunning_settings import DunningSettings

DUE = date(2026, 12, 6)
TZ = "America/Sao_Paulo"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def steps(planned) -> list[tuple[str, str]]:
    return [(p.step.value, p.at.strftime("%Y-%m-%dT%H:%MZ")) for p in planned]


def test_the_default_timeline_of_product_md_at_9_in_the_company_timezone():
    # Given the default policy (09:00 in São Paulo is 12:00 UTC)
    planned = schedule(DunningSettings().base_policy(TZ), DUE)
    # Then reminder −3, notices +1 +3 +7, suspension +7 after the third notice, no termination
    assert steps(planned) == [
        ("reminder", "2026-12-03T12:00Z"),
        ("notice_1", "2026-12-07T12:00Z"),
        ("notice_2", "2026-12-09T12:00Z"),
        ("notice_3", "2026-12-13T12:00Z"),
        ("suspend", "2026-12-13T12:00Z"),
    ]


def test_termination_when_on_and_nothing_to_suspend_without_services():
    policy = DunningSettings(terminate=True).base_policy(TZ)
    assert steps(schedule(policy, DUE))[-1] == ("terminate", "2027-01-05T12:00Z")
    assert [p.step for p in schedule(policy, DUE, with_services=False)] == [
        DunningStep.REMINDER,
        DunningStep.NOTICE_1,
        DunningStep.NOTICE_2,
        DunningStep.NOTICE_3,
    ]


def test_a_promise_to_pay_and_a_boleto_pause_move_suspension_and_termination():
    # Given termination on and an account that promised to pay by the 20th
    settings = DunningSettings.model_validate(
        {"terminate": True, "terminate_after_days": 10, "accounts": {"acc-1": {"no_suspension_before": "2026-12-20"}}}
    )
    planned = schedule(settings.policy_for(TZ, "acc-1"), DUE)
    # Then neither happens before the 20th; termination never precedes suspension
    assert steps(planned)[-2:] == [("suspend", "2026-12-20T12:00Z"), ("terminate", "2026-12-20T12:00Z")]
    # And a boleto paused suspension until the 15th (another account)
    paused = schedule(settings.policy_for(TZ, "acc-2"), DUE, suspension_paused_until=date(2026, 12, 15))
    assert ("suspend", "2026-12-15T12:00Z") in steps(paused)


def test_product_overrides_then_account_overrides_win():
    settings = DunningSettings.model_validate(
        {
            "products": {"vps": {"suspend_after_days": 3, "terminate": True}, "mail": {"suspend_after_days": 10}},
            "accounts": {"acc-1": {"suspend": False}},
        }
    )
    vps = settings.policy_for(TZ, "acc-2", ["vps"])
    assert (vps.suspend_after_days, vps.terminate_after_days) == (3, 30)
    # Several products: the most lenient of each (later suspension, termination only if all terminate)
    both = settings.policy_for(TZ, "acc-2", ["vps", "mail"])
    assert (both.suspend_after_days, both.terminate_after_days) == (10, None)
    # The account's override wins: no suspension at all
    assert settings.policy_for(TZ, "acc-1", ["vps"]).suspend_after_days is None


@pytest.mark.parametrize(
    "document",
    [
        {"overdue_notice_days": [1, 3, 7, 14]},
        {"overdue_notice_days": [3, 1]},
        {"suspend_after_days": 30, "terminate_after_days": 30},
        {"accounts": {"bad id!": {"suspend": False}}},
        {"accounts": {"acc": {"overdue_notice_days": [9, 9]}}},
    ],
)
def test_invalid_policies_are_refused(document):
    with pytest.raises(ValidationError):
        DunningSettings.model_validate(document)


def test_a_null_override_removes_it():
    settings = DunningSettings.model_validate({"accounts": {"a": {"suspend": False}, "b": None}})
    assert set(settings.accounts) == {"a"}


def test_a_late_start_sends_only_the_latest_due_notice_and_never_skips_an_action():
    planned = schedule(DunningSettings(terminate=True).base_policy(TZ), DUE)
    # Given a workflow that starts on day +8 (a manual invoice issued late, or a restart after a chargeback)
    plan = plan_next(planned, (), at("2026-12-14T12:00:00Z"))
    # Then the reminder and the first two notices are skipped, the third is sent, then the suspension
    assert plan.skipped == (DunningStep.REMINDER, DunningStep.NOTICE_1, DunningStep.NOTICE_2)
    assert plan.next is not None and plan.next.step is DunningStep.NOTICE_3
    after = plan_next(planned, (*plan.skipped, DunningStep.NOTICE_3), at("2026-12-14T12:00:00Z"))
    assert after.next is not None and after.next.step is DunningStep.SUSPEND and after.skipped == ()
    # And once everything is done there is nothing next
    assert plan_next(planned, tuple(DunningStep), at("2027-02-01T00:00:00Z")).next is None


def test_on_time_the_next_step_is_the_first_not_done():
    planned = schedule(DunningPolicy(), DUE)
    plan = plan_next(planned, (DunningStep.REMINDER,), at("2026-12-03T12:00:01Z"))
    assert plan.next is not None and plan.next.step is DunningStep.NOTICE_1 and plan.skipped == ()


def test_the_check_decides_by_the_step_the_invoice_and_the_current_policy():
    policy = DunningPolicy(timezone=TZ)
    planned = schedule(policy, DUE)
    waited = at("2026-12-13T12:00:00Z")
    assert check_step(DunningStep.SUSPEND, waited, InvoiceState.OPEN, planned, policy) is CheckOutcome.DUE
    assert check_step(DunningStep.SUSPEND, waited, InvoiceState.PAID, planned, policy) is CheckOutcome.CLOSED
    assert check_step(DunningStep.SUSPEND, waited, InvoiceState.CANCELLED, planned, policy) is CheckOutcome.CLOSED
    assert (
        check_step(DunningStep.SUSPEND, waited, InvoiceState.PAYMENT_PENDING, planned, policy) is CheckOutcome.PENDING
    )
    # A company that does not let pending payments pause: it is due
    lax = replace(policy, pending_pauses_suspension=False)
    assert check_step(DunningStep.SUSPEND, waited, InvoiceState.PAYMENT_PENDING, planned, lax) is CheckOutcome.DUE
    # The policy moved the step later (or removed it) while the workflow waited: plan again
    later = schedule(replace(policy, suspend_after_days=10), DUE)
    assert check_step(DunningStep.SUSPEND, waited, InvoiceState.OPEN, later, policy) is CheckOutcome.MOVED
    fewer = schedule(replace(policy, overdue_notice_days=(1,)), DUE)
    assert check_step(DunningStep.NOTICE_3, waited, InvoiceState.OPEN, fewer, policy) is CheckOutcome.MOVED


def record(**changes) -> DunningRecord:
    base = DunningRecord("inv", "acc", InvoiceKind.RENEWAL, DUE, "inv-1", WorkflowStatus.RUNNING)
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("current", "state", "execution", "decision"),
    [
        (None, InvoiceState.OPEN, ExecutionState.MISSING, RestartDecision.NEXT_ROUND),
        (record(), InvoiceState.OPEN, ExecutionState.RUNNING, RestartDecision.NONE),
        (record(), InvoiceState.OPEN, ExecutionState.MISSING, RestartDecision.START_SAME),
        (record(), InvoiceState.OPEN, ExecutionState.ENDED, RestartDecision.NEXT),
        (record(), InvoiceState.PAID, ExecutionState.RUNNING, RestartDecision.NONE),
        (
            record(status=WorkflowStatus.CLOSED, closed_reason=ClosedReason.PAID),
            InvoiceState.OPEN,
            ExecutionState.ENDED,
            RestartDecision.NEXT_ROUND,
        ),
        (
            record(status=WorkflowStatus.CLOSED, closed_reason=ClosedReason.FAILED),
            InvoiceState.OPEN,
            ExecutionState.ENDED,
            RestartDecision.NEXT,
        ),
        (
            record(status=WorkflowStatus.CLOSED, closed_reason=ClosedReason.HALTED),
            InvoiceState.PAYMENT_PENDING,
            ExecutionState.ENDED,
            RestartDecision.NONE,
        ),
        (
            record(status=WorkflowStatus.CLOSED, closed_reason=ClosedReason.HALTED),
            InvoiceState.OPEN,
            ExecutionState.ENDED,
            RestartDecision.NEXT,
        ),
        (
            record(status=WorkflowStatus.CLOSED, closed_reason=ClosedReason.COMPLETED),
            InvoiceState.OPEN,
            ExecutionState.ENDED,
            RestartDecision.NONE,
        ),
    ],
)
def test_what_an_unpaid_invoices_workflow_needs(current, state, execution, decision):
    assert restart_decision(current, state, execution) is decision


def test_execution_names_take_the_next_number():
    assert execution_name("01ABC", 3) == "01ABC-3"
    assert execution_number("01ABC-3") == 3 and execution_number(None) == 0
