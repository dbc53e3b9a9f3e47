"""Dunning: one Step Functions execution per unpaid renewal or manual invoice, its tasks, and what keeps them going.

- **Starting and stopping** (``sync``): every invoice event (and the daily ``reconcile_dunning``) brings an invoice's
  workflow in line with the invoice. An unpaid invoice without a running execution gets one, named
  ``{invoice_id}-{n}``; the name is claimed on the workflow record and the invoice in one transaction (condition:
  nobody claimed it first) and only then started, with a deterministic input, so a duplicate start is the same
  start. A paid or cancelled invoice's execution is stopped. A reversal (the invoice unpaid again after it was paid)
  restarts it as ``n + 1`` with a fresh round of steps; a failed execution restarts as ``n + 1`` keeping the steps
  done, so nothing is sent twice.
- **The tasks** the state machine runs: ``plan`` (the next step and its time, from the policy at that moment),
  ``check`` (after the Wait: by the step passed in and the invoice's state), ``notify``, ``suspend``,
  ``terminate``, ``pending_alert`` and ``alert`` (the Catch). Each is idempotent: the workflow record holds the steps
  done, and a step's domain event (its email) is written in the same transaction that marks it done, under the
  record's optimistic lock; a duplicate delivery finds the step done and changes nothing. Suspending and
  terminating go through the ``ServiceActions`` port (the services capability), which is idempotent too.
- **A payment racing the suspension**: the suspension task reads the invoice right before acting and again right
  after; if the payment landed in between it lifts the suspension itself (the payments capability's unsuspension
  may have run before the suspension and found nothing to lift). The services never stay suspended for a paid
  invoice.
- Orders, upgrades and add funds are not dunned: ``reconcile_dunning`` sends them one reminder; their own jobs cancel
  them when unpaid.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from balcao.domain.calendar import format_timestamp, local_date, parse_timestamp
from balcao.domain.dunning import (
    DUNNED_KINDS,
    MAX_PENDING_RECHECKS,
    REMINDER_ONLY_KINDS,
    CheckOutcome,
    ClosedReason,
    DunningPolicy,
    DunningRecord,
    DunningStep,
    DunningTransientError,
    ExecutionState,
    HistoryEntry,
    InvoiceState,
    PlannedStep,
    RestartDecision,
    WorkflowStatus,
    check_step,
    execution_name,
    invoice_services,
    invoice_state,
    plan_next,
    planned_suspension,
    restart_decision,
    schedule,
    step_moment,
)
from balcao.domain.errors import ConflictError, NotFoundError
from balcao.domain.events import DomainEvent, new_event
from balcao.domain.invoices import Invoice, InvoiceChangedError, InvoiceStatus
from balcao.services.dunning_settings import DunningSettings
from balcao.services.ports import Clock

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
ACTOR = "system:dunning"
HISTORY_KEPT = 100
T = TypeVar("T")


class DunningChangedError(ConflictError):
    """The workflow record changed since it was read (optimistic lock): retried from a fresh read."""


class WorkflowNameTakenError(ConflictError):
    """Step Functions already has an execution of that name with another input, or a closed one."""


# --- ports ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InvoiceDunningFields:
    """The invoice's dunning fields after a change: its current execution and the suspension day it shows."""

    execution: str | None
    suspension_date: date | None


@dataclass
class DunningChange:
    """One transaction: the record (condition: its version), the invoice's fields (condition: the invoice's version,
    when they change), a check that the invoice a step read did not change (a payment landing meanwhile fails the
    step's commit: it is retried and sees the payment) and the events (the outbox)."""

    record: DunningRecord | None
    invoice: Invoice | None = None
    invoice_fields: InvoiceDunningFields | None = None
    events: list[DomainEvent] = field(default_factory=list)
    unchanged: Invoice | None = None  # a step acts on the invoice as read: it must not have changed since


class DunningStore(Protocol):
    def invoice(self, account_id: str, invoice_id: str) -> Invoice | None: ...

    def record(self, invoice_id: str) -> DunningRecord | None: ...

    def lookup(self, invoice_id: str) -> tuple[str | None, DunningRecord | None]:
        """The invoice's account (None: no such invoice) and its workflow record, in one read."""
        ...

    def commit(self, change: DunningChange) -> None:
        """Raises ``DunningChangedError`` (record) or ``InvoiceChangedError`` (invoice) when a condition fails."""
        ...

    def open_invoices(self) -> Iterator[Invoice]:
        """Every unpaid issued invoice (the GSI3 work queues of open invoices and unpaid add funds)."""
        ...


class ServiceDirectory(Protocol):
    def products(self, account_id: str, service_ids: Sequence[str]) -> Mapping[str, str | None]:
        """The product of each service (for per-product policy overrides)."""
        ...


class ServiceActions(Protocol):
    """What dunning asks of the services capability (``balcao.services.services.Services`` has these), reason
    ``overdue``. Each call is idempotent: suspending a suspended service or terminating a terminated one changes
    nothing and sends nothing. They return the services changed now."""

    def suspend_for_overdue(self, invoice: Invoice, actor: str = ...) -> list[str]: ...

    def terminate_for_non_payment(self, invoice: Invoice, actor: str = ...) -> list[str]: ...

    def unsuspend_after_payment(self, account_id: str, service_ids: Iterable[str], actor: str = ...) -> list[str]:
        """Lift the suspensions for ``overdue`` of these services (the invoice was paid)."""
        ...


class Workflows(Protocol):
    """The dunning state machine's executions."""

    def start(self, name: str, payload: Mapping[str, Any]) -> None:
        """Start ``name``; starting a running execution again with the same input changes nothing.
        Raises ``WorkflowNameTakenError`` when the name is closed or taken with another input."""
        ...

    def state(self, name: str) -> ExecutionState: ...

    def stop(self, name: str, cause: str) -> None:
        """Stop ``name`` if it is running (nothing otherwise)."""
        ...


# --- what the staff route shows -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WorkflowStepView:
    step: DunningStep
    at: datetime | None
    state: str  # done, skipped, planned


@dataclass(frozen=True, slots=True)
class WorkflowView:
    invoice_id: str
    account_id: str
    record: DunningRecord | None
    steps: tuple[WorkflowStepView, ...]


def step_views(record: DunningRecord) -> tuple[WorkflowStepView, ...]:
    views: dict[DunningStep, WorkflowStepView] = {}
    for planned in record.planned:
        views[planned.step] = WorkflowStepView(planned.step, planned.at, "planned")
    for step in record.skipped:
        views[step] = WorkflowStepView(step, views[step].at if step in views else None, "skipped")
    for step, at in record.done.items():
        views[step] = WorkflowStepView(step, at, "done")
    return tuple(sorted(views.values(), key=lambda v: (v.step.order, v.at or datetime.max.replace(tzinfo=None))))


# --- the use-cases --------------------------------------------------------------------------------------------------
EVENT_BY_STEP: Mapping[DunningStep, str] = {
    DunningStep.REMINDER: "dunning.reminder",
    DunningStep.NOTICE_1: "dunning.overdue_notice",
    DunningStep.NOTICE_2: "dunning.overdue_notice",
    DunningStep.NOTICE_3: "dunning.overdue_notice",
    DunningStep.SUSPEND: "dunning.suspended",
    DunningStep.TERMINATE: "dunning.terminated",
}


@dataclass
class Dunning:
    store: DunningStore
    workflows: Workflows
    services: ServiceActions
    directory: ServiceDirectory
    clock: Clock
    settings: DunningSettings
    timezone: str
    staff_alert_to: str
    staff_language: str = "en"

    # --- reading ------------------------------------------------------------------------------------------------
    def today(self) -> date:
        return local_date(self.clock.now(), self.timezone)

    def workflow(self, invoice_id: str) -> WorkflowView:
        """The staff view of an invoice's workflow: its steps with their dates, what was sent, its history."""
        account_id, record = self.store.lookup(invoice_id)
        if account_id is None:
            raise NotFoundError()
        return WorkflowView(invoice_id, account_id, record, step_views(record) if record else ())

    def policy(self, invoice: Invoice, services: Sequence[str]) -> DunningPolicy:
        products = self.directory.products(invoice.account_id, services).values() if services else ()
        return self.settings.policy_for(self.timezone, invoice.account_id, products)

    def _schedule(self, invoice: Invoice, record: DunningRecord) -> tuple[DunningPolicy, list[PlannedStep]]:
        policy = self.policy(invoice, record.services)
        planned = schedule(
            policy,
            invoice.due_date,
            with_services=bool(record.services),
            suspension_paused_until=invoice.suspension_paused_until,
        )
        return policy, planned

    # --- keeping one execution per unpaid invoice ------------------------------------------------------------------
    def sync(self, account_id: str, invoice_id: str, cause: str, invoice: Invoice | None = None) -> str:
        """Bring the invoice's workflow in line with the invoice (see the module). Returns what was done."""
        supplied = [invoice] if invoice is not None else []

        def attempt() -> str:
            current = supplied.pop() if supplied else self.store.invoice(account_id, invoice_id)
            if current is None or current.status is InvoiceStatus.DRAFT or current.kind not in DUNNED_KINDS:
                return "ignored"
            return self._sync(current, cause)

        return self._retrying(attempt)

    def _sync(self, invoice: Invoice, cause: str) -> str:
        record = self.store.record(invoice.invoice_id)
        state = invoice_state(invoice)
        if state in (InvoiceState.PAID, InvoiceState.CANCELLED):
            if record is None or not record.running:
                return "closed"
            assert record.execution is not None
            self.workflows.stop(record.execution, f"invoice {state.value}")
            self._close(record, ClosedReason.PAID if state is InvoiceState.PAID else ClosedReason.CANCELLED)
            return "stopped"
        execution = ExecutionState.MISSING
        if record is not None and record.running and record.execution is not None:
            execution = self.workflows.state(record.execution)
        decision = restart_decision(record, state, execution)
        if decision is RestartDecision.NONE:
            return "running" if record is not None and record.running else "unchanged"
        if decision is RestartDecision.START_SAME:
            assert record is not None and record.execution is not None
            self._start(record)
            return "started"
        claimed = self._claim(invoice, record, cause, new_round=decision is RestartDecision.NEXT_ROUND)
        self._start(claimed)
        return "started" if claimed.number == 1 else "restarted"

    def _claim(self, invoice: Invoice, record: DunningRecord | None, cause: str, *, new_round: bool) -> DunningRecord:
        now = self.clock.now()
        number = (record.number if record is not None else 0) + 1
        name = execution_name(invoice.invoice_id, number)
        services = invoice_services(invoice)
        base = record or DunningRecord(
            invoice_id=invoice.invoice_id,
            account_id=invoice.account_id,
            kind=invoice.kind,
            due_date=invoice.due_date,
            execution=None,
            status=WorkflowStatus.RUNNING,
        )
        entry = HistoryEntry(
            now, "started", {"execution": name, "cause": cause, "round": "new" if new_round else "same"}
        )
        claimed = replace(
            base,
            due_date=invoice.due_date,
            execution=name,
            status=WorkflowStatus.RUNNING,
            closed_reason=None,
            done={} if new_round else base.done,
            skipped=() if new_round else base.skipped,
            services=services,
            pending_checks=0,
            started_by=cause,
            updated_at=now,
            history=_keep((*base.history, entry)),
        )
        _policy, planned = self._schedule(invoice, claimed)
        suspension = self._suspension_day(planned, claimed)
        fields = InvoiceDunningFields(name, suspension)
        self.store.commit(DunningChange(replace(claimed, planned=tuple(planned)), invoice, fields))
        return claimed

    def _start(self, record: DunningRecord) -> None:
        assert record.execution is not None
        payload = {
            "account_id": record.account_id,
            "invoice_id": record.invoice_id,
            "execution": record.execution,
            "check": {"outcome": "started", "rechecks": 0},
            "limits": {"pending_rechecks": MAX_PENDING_RECHECKS},
        }
        try:
            self.workflows.start(record.execution, payload)
        except WorkflowNameTakenError:
            logger.warning("dunning execution name already used", extra={"execution": record.execution})

    def _close(self, record: DunningRecord, reason: ClosedReason, detail: Mapping[str, str] | None = None) -> None:
        now = self.clock.now()
        closed = replace(
            record,
            status=WorkflowStatus.CLOSED,
            closed_reason=reason,
            next_step=None,
            next_at=None,
            updated_at=now,
            history=_keep((*record.history, HistoryEntry(now, "closed", {"reason": reason.value, **(detail or {})}))),
        )
        self.store.commit(DunningChange(closed))

    # --- the state machine's tasks ------------------------------------------------------------------------------
    def _current(
        self, account_id: str, invoice_id: str, execution: str
    ) -> tuple[Invoice | None, DunningRecord | None, bool]:
        """The invoice, the record, and whether this execution is still the invoice's running one."""
        invoice = self.store.invoice(account_id, invoice_id)
        record = self.store.record(invoice_id)
        mine = record is not None and record.execution == execution and record.running
        return invoice, record, mine

    def _closed_state(self, invoice: Invoice | None) -> InvoiceState | None:
        if invoice is None:
            return InvoiceState.CANCELLED
        state = invoice_state(invoice)
        return state if state in (InvoiceState.PAID, InvoiceState.CANCELLED) else None

    def _close_for(self, record: DunningRecord, state: InvoiceState) -> None:
        self._close(record, ClosedReason.PAID if state is InvoiceState.PAID else ClosedReason.CANCELLED)

    def plan(self, account_id: str, invoice_id: str, execution: str) -> dict[str, Any]:
        """The next step and when it is due (``outcome: wait``), or the end (``completed``, ``closed``,
        ``superseded``). Notices already due except the latest are skipped."""

        def attempt() -> dict[str, Any]:
            invoice, record, mine = self._current(account_id, invoice_id, execution)
            if not mine or record is None:
                return _ended(CheckOutcome.SUPERSEDED.value)
            closed = self._closed_state(invoice)
            if closed is not None or invoice is None:
                self._close_for(record, closed or InvoiceState.CANCELLED)
                return _ended(CheckOutcome.CLOSED.value)
            now = self.clock.now()
            _policy, planned = self._schedule(invoice, record)
            decision = plan_next(planned, (*record.done, *record.skipped), now)  # skipped: never sent later
            history = list(record.history)
            history.extend(HistoryEntry(now, "skipped", {"step": s.value}) for s in decision.skipped)
            updated = replace(
                record,
                skipped=tuple(dict.fromkeys((*record.skipped, *decision.skipped))),
                planned=tuple(planned),
                next_step=decision.next.step if decision.next else None,
                next_at=decision.next.at if decision.next else None,
                updated_at=now,
            )
            if decision.next is None:
                history.append(HistoryEntry(now, "closed", {"reason": ClosedReason.COMPLETED.value}))
                updated = replace(updated, status=WorkflowStatus.CLOSED, closed_reason=ClosedReason.COMPLETED)
            updated = replace(updated, history=_keep(tuple(history)))
            suspension = self._suspension_day(planned, updated)
            fields = None
            if suspension != invoice.suspension_date or invoice.dunning_execution != execution:
                fields = InvoiceDunningFields(execution, suspension)
            if updated != record or fields is not None:
                self.store.commit(DunningChange(updated, invoice if fields else None, fields))
            if decision.next is None:
                return _ended(ClosedReason.COMPLETED.value)
            return {"outcome": "wait", "step": decision.next.step.value, "at": format_timestamp(decision.next.at)}

        return self._retrying(attempt)

    def check(
        self, account_id: str, invoice_id: str, execution: str, step: str, at: str, rechecks: int
    ) -> dict[str, Any]:
        """After the Wait for ``step`` (until ``at``): ``due``, ``pending`` (check again in a day; ``rechecks``
        counts them), ``moved`` (plan again), ``closed`` or ``superseded``. Never looks at the clock."""
        chosen = DunningStep(step)

        def attempt() -> dict[str, Any]:
            invoice, record, mine = self._current(account_id, invoice_id, execution)
            if not mine or record is None:
                return {"outcome": CheckOutcome.SUPERSEDED.value, "rechecks": rechecks}
            closed = self._closed_state(invoice)
            if closed is not None or invoice is None:
                self._close_for(record, closed or InvoiceState.CANCELLED)
                return {"outcome": CheckOutcome.CLOSED.value, "rechecks": rechecks}
            policy, planned = self._schedule(invoice, record)
            outcome = check_step(chosen, parse_timestamp(at), invoice_state(invoice), planned, policy)
            if outcome is CheckOutcome.PENDING:
                now = self.clock.now()
                entry = HistoryEntry(now, "pending", {"step": chosen.value, "check": str(rechecks + 1)})
                self.store.commit(
                    DunningChange(
                        replace(
                            record,
                            pending_checks=rechecks + 1,
                            updated_at=now,
                            history=_keep((*record.history, entry)),
                        )
                    )
                )
                return {"outcome": outcome.value, "rechecks": rechecks + 1}
            if outcome is CheckOutcome.MOVED:
                now = self.clock.now()
                entry = HistoryEntry(now, "moved", {"step": chosen.value})
                self.store.commit(
                    DunningChange(replace(record, updated_at=now, history=_keep((*record.history, entry))))
                )
            return {"outcome": outcome.value, "rechecks": rechecks}

        return self._retrying(attempt)

    def notify(self, account_id: str, invoice_id: str, execution: str, step: str) -> dict[str, Any]:
        """The reminder or an overdue notice: marked done and its event (the email) written in one transaction."""
        chosen = DunningStep(step)

        def attempt() -> dict[str, Any]:
            invoice, record, mine = self._current(account_id, invoice_id, execution)
            if not mine or record is None or chosen in record.done:
                return {"done": False}
            closed = self._closed_state(invoice)
            if closed is not None or invoice is None:
                self._close_for(record, closed or InvoiceState.CANCELLED)
                return {"done": False}
            _policy, planned = self._schedule(invoice, record)
            event = self._step_event(chosen, invoice, self._suspension_day(planned, record))
            self.store.commit(DunningChange(self._done(record, chosen), events=[event], unchanged=invoice))
            return {"done": True}

        return self._retrying(attempt)

    def suspend(self, account_id: str, invoice_id: str, execution: str) -> dict[str, Any]:
        """Suspend the invoice's services (reason ``overdue``), then re-read the invoice: a payment that landed
        meanwhile lifts, at once, the suspensions this step placed (and only those)."""
        suspended: list[list[str]] = []

        def attempt() -> dict[str, Any]:
            invoice, record, mine = self._current(account_id, invoice_id, execution)
            if not mine or record is None or DunningStep.SUSPEND in record.done:
                return {"done": False}
            closed = self._closed_state(invoice)
            if closed is not None or invoice is None:
                if suspended and closed is InvoiceState.PAID:
                    self.services.unsuspend_after_payment(account_id, suspended[0], ACTOR)
                self._close_for(record, closed or InvoiceState.CANCELLED)
                return {"done": False}
            if not suspended:
                suspended.append(self.services.suspend_for_overdue(invoice, ACTOR))
            event = self._step_event(DunningStep.SUSPEND, invoice, None)
            self.store.commit(DunningChange(self._done(record, DunningStep.SUSPEND), events=[event], unchanged=invoice))
            return {"done": True}

        outcome = self._retrying(attempt)
        if outcome["done"] and suspended and suspended[0]:
            self._lift_if_paid(account_id, invoice_id, execution, suspended[0])
        return outcome

    def _lift_if_paid(self, account_id: str, invoice_id: str, execution: str, suspended: Sequence[str]) -> None:
        invoice = self.store.invoice(account_id, invoice_id)
        if invoice is None or invoice.status is not InvoiceStatus.PAID:
            return
        self.services.unsuspend_after_payment(account_id, suspended, ACTOR)
        record = self.store.record(invoice_id)
        if record is not None and record.execution == execution:
            now = self.clock.now()
            entry = HistoryEntry(now, "unsuspended", {"cause": "paid during the suspension"})
            with suppress(DunningChangedError, InvoiceChangedError):  # only the history entry could be lost
                self.store.commit(DunningChange(replace(record, history=_keep((*record.history, entry)))))

    def terminate(self, account_id: str, invoice_id: str, execution: str) -> dict[str, Any]:
        """Terminate the invoice's services (when the policy says so); the invoice is re-read right before."""

        def attempt() -> dict[str, Any]:
            invoice, record, mine = self._current(account_id, invoice_id, execution)
            if not mine or record is None or DunningStep.TERMINATE in record.done:
                return {"done": False}
            closed = self._closed_state(invoice)
            if closed is not None or invoice is None:
                self._close_for(record, closed or InvoiceState.CANCELLED)
                return {"done": False}
            self.services.terminate_for_non_payment(invoice, ACTOR)
            event = self._step_event(DunningStep.TERMINATE, invoice, None)
            self.store.commit(
                DunningChange(self._done(record, DunningStep.TERMINATE), events=[event], unchanged=invoice)
            )
            return {"done": True}

        return self._retrying(attempt)

    def pending_alert(self, account_id: str, invoice_id: str, execution: str) -> dict[str, Any]:
        """A payment stayed pending through every re-check: staff are alerted, the workflow halts (the daily
        reconcile resumes it if the payment fails)."""
        detail = {"reason": "payment_pending_too_long", "checks": str(MAX_PENDING_RECHECKS)}
        return self._alert(account_id, invoice_id, execution, ClosedReason.HALTED, detail)

    def alert(self, account_id: str, invoice_id: str, execution: str, error: str, cause: str) -> dict[str, Any]:
        """A step failed after its retries (the state machine's Catch): staff are alerted, the record is closed as
        failed (the daily reconcile restarts it as ``n + 1``)."""
        detail = {"reason": "failed", "error": error[:200], "cause": cause[:1000]}
        return self._alert(account_id, invoice_id, execution, ClosedReason.FAILED, detail)

    def _alert(
        self, account_id: str, invoice_id: str, execution: str, reason: ClosedReason, detail: Mapping[str, str]
    ) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            invoice, record, mine = self._current(account_id, invoice_id, execution)
            event = self._staff_event(account_id, invoice_id, invoice, execution, record, detail)
            if record is not None and record.execution == execution and not record.running:
                return {"alerted": False}  # closed already: alerted before, or paid meanwhile
            if not mine or record is None:
                self.store.commit(DunningChange(None, events=[event]))  # an execution no longer the invoice's
                return {"alerted": True}
            now = self.clock.now()
            closed = replace(
                record,
                status=WorkflowStatus.CLOSED,
                closed_reason=reason,
                next_step=None,
                next_at=None,
                updated_at=now,
                history=_keep((*record.history, HistoryEntry(now, "alert", dict(detail)))),
            )
            self.store.commit(DunningChange(closed, events=[event]))
            return {"alerted": True}

        return self._retrying(attempt)

    # --- reminders of orders, upgrades and add funds; the daily reconcile ------------------------------------------
    def reconcile(self) -> dict[str, int]:
        """Every unpaid invoice: renewal and manual ones get a running execution when they have none (lost starts,
        failures, reversals); orders, upgrades and add funds get their one reminder when it is due."""
        counts = {"started": 0, "restarted": 0, "stopped": 0, "running": 0, "reminded": 0, "unchanged": 0, "failed": 0}
        for invoice in self.store.open_invoices():
            try:
                if invoice.kind in DUNNED_KINDS:
                    outcome = self.sync(invoice.account_id, invoice.invoice_id, "reconcile", invoice)
                elif invoice.kind in REMINDER_ONLY_KINDS:
                    outcome = self.remind_once(invoice)
                else:
                    outcome = "unchanged"
            except Exception:
                logger.exception("dunning reconcile failed", extra={"invoice_id": invoice.invoice_id})
                counts["failed"] += 1
                continue
            key = outcome if outcome in counts else "unchanged"
            counts[key] += 1
        return counts

    def remind_once(self, invoice: Invoice) -> str:
        """One reminder for an order, upgrade or add-funds invoice, from the reminder day until its due date."""
        if invoice_state(invoice) is not InvoiceState.OPEN:
            return "unchanged"
        policy = self.settings.policy_for(self.timezone, invoice.account_id)
        if policy.reminder_days_before is None:
            return "unchanged"
        now = self.clock.now()
        if now < step_moment(invoice.due_date, -policy.reminder_days_before, policy) or self.today() > invoice.due_date:
            return "unchanged"
        if self.store.record(invoice.invoice_id) is not None:
            return "unchanged"
        record = DunningRecord(
            invoice_id=invoice.invoice_id,
            account_id=invoice.account_id,
            kind=invoice.kind,
            due_date=invoice.due_date,
            execution=None,
            status=WorkflowStatus.REMINDER_ONLY,
            done={DunningStep.REMINDER: now},
            updated_at=now,
            history=(HistoryEntry(now, DunningStep.REMINDER.value, {"email": EVENT_BY_STEP[DunningStep.REMINDER]}),),
        )
        try:
            self.store.commit(DunningChange(record, events=[self._step_event(DunningStep.REMINDER, invoice, None)]))
        except DunningChangedError:
            return "unchanged"  # another run reminded it first
        return "reminded"

    # --- helpers ------------------------------------------------------------------------------------------------
    def _suspension_day(self, planned: Sequence[PlannedStep], record: DunningRecord) -> date | None:
        if DunningStep.SUSPEND in record.done:
            return None
        moment = planned_suspension(planned)
        return local_date(moment, self.timezone) if moment is not None else None

    def _done(self, record: DunningRecord, step: DunningStep) -> DunningRecord:
        now = self.clock.now()
        entry = HistoryEntry(now, step.value, {"email": EVENT_BY_STEP[step]})
        return replace(record, done={**record.done, step: now}, updated_at=now, history=_keep((*record.history, entry)))

    def _invoice_data(self, invoice: Invoice) -> dict[str, Any]:
        return {
            "invoice_id": invoice.invoice_id,
            "number": invoice.number,
            "kind": invoice.kind.value,
            "total": invoice.total.to_json(),
            "amount_due": invoice.amount_due.to_json(),
            "due_date": invoice.due_date.isoformat(),
        }

    def _step_event(self, step: DunningStep, invoice: Invoice, suspension: date | None) -> DomainEvent:
        data = self._invoice_data(invoice)
        data["step"] = step.value
        if step.notice_number is not None:
            data["notice"] = step.notice_number
            data["days_overdue"] = max((self.today() - invoice.due_date).days, 0)
        if suspension is not None and suspension >= self.today():
            data["suspension_date"] = suspension.isoformat()
        return new_event(EVENT_BY_STEP[step], self.clock.now(), account_id=invoice.account_id, **data)

    def _staff_event(
        self,
        account_id: str,
        invoice_id: str,
        invoice: Invoice | None,
        execution: str,
        record: DunningRecord | None,
        detail: Mapping[str, str],
    ) -> DomainEvent:
        data: dict[str, Any] = {
            "to": self.staff_alert_to,
            "language": self.staff_language,
            "account": account_id,
            "invoice_id": invoice_id,
            "number": invoice.number if invoice else None,
            "execution": execution,
            "step": record.next_step.value if record and record.next_step else None,
            **detail,
        }
        return new_event("dunning.staff_alert", self.clock.now(), account_id=account_id, **data)

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` again after a lost race (the record or the invoice changed), from fresh reads; after
        ``MAX_ATTEMPTS`` the state machine's Retry takes over."""
        for _number in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except (DunningChangedError, InvoiceChangedError):
                continue
        raise DunningTransientError()


def _ended(outcome: str) -> dict[str, Any]:
    """A plan that ends the workflow (the state machine reads ``step`` and ``at`` whatever the outcome)."""
    return {"outcome": outcome, "step": None, "at": None}


def _keep(history: tuple[HistoryEntry, ...]) -> tuple[HistoryEntry, ...]:
    return history[-HISTORY_KEPT:]
