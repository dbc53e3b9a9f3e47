"""Response bodies of the dunning routes: the staff view of an invoice's workflow."""

from __future__ import annotations

from datetime import datetime

from balcao.contracts import Contract
from balcao.contracts.identity import Timestamped
from balcao.services.dunning import WorkflowView


class WorkflowStepOut(Timestamped):
    step: str  # reminder, notice_1, notice_2, notice_3, suspend, terminate
    at: datetime | None
    state: str  # done, skipped, planned


class WorkflowNextOut(Timestamped):
    step: str
    at: datetime


class WorkflowHistoryOut(Timestamped):
    at: datetime
    what: str  # started, reminder, notice_1 … suspend, terminate, skipped, moved, pending, alert, unsuspended, closed
    email: str | None  # the email's event when this entry sent one
    detail: dict[str, str]


class WorkflowOut(Contract):
    invoice_id: str
    account_id: str
    execution: str | None  # {invoice_id}-{n}
    status: str  # none, running, closed, reminder_only
    closed_reason: str | None  # paid, cancelled, completed, halted, failed
    next: WorkflowNextOut | None
    pending_checks: int
    steps: list[WorkflowStepOut]
    history: list[WorkflowHistoryOut]

    @classmethod
    def of(cls, view: WorkflowView) -> WorkflowOut:
        record = view.record
        if record is None:
            return cls(
                invoice_id=view.invoice_id,
                account_id=view.account_id,
                execution=None,
                status="none",
                closed_reason=None,
                next=None,
                pending_checks=0,
                steps=[],
                history=[],
            )
        upcoming = None
        if record.next_step is not None and record.next_at is not None:
            upcoming = WorkflowNextOut(step=record.next_step.value, at=record.next_at)
        return cls(
            invoice_id=view.invoice_id,
            account_id=view.account_id,
            execution=record.execution,
            status=record.status.value,
            closed_reason=record.closed_reason.value if record.closed_reason else None,
            next=upcoming,
            pending_checks=record.pending_checks,
            steps=[WorkflowStepOut(step=s.step.value, at=s.at, state=s.state) for s in view.steps],
            history=[
                WorkflowHistoryOut(
                    at=h.at,
                    what=h.what,
                    email=h.detail.get("email"),
                    detail={k: v for k, v in h.detail.items() if k != "email"},
                )
                for h in record.history
            ],
        )
