"""Dunning: the steps an unpaid invoice goes through, when each one is due, and what a workflow run decides.

Day 0 is the invoice's due date. The default timeline (PRODUCT.md): a payment reminder at −3, overdue notices at +1,
+3 and +7, the suspension of the invoice's services at +7 (unless a payment is pending) and — when enabled, off by
default — their termination at +30. Every step runs at the policy's hour of the day in the company's timezone.

Steps keep one canonical order (reminder, notices 1–3, suspension, termination); each step's time comes from the
policy *at the moment it is computed*, so a policy change applies to running workflows from their next step on.

What a run decides never depends on the wall clock: the workflow waits until a step's time and then hands the step
to a task, which looks at the invoice's state (paid, cancelled, payment pending) and at the step's time under the
current policy (later than the time waited for: the policy moved it; wait again).

A workflow that starts late (an invoice issued after its due date, a restart after a chargeback) does not send
every notice it missed: of the notices already due only the latest is sent; suspension and termination are never
skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from balcao.domain.errors import N_, ProviderUnavailableError
from balcao.domain.invoices import Invoice, InvoiceKind, InvoiceStatus

# Invoices dunned by a workflow; orders, upgrades and add funds get one reminder and are cancelled by their own jobs.
DUNNED_KINDS = frozenset({InvoiceKind.RENEWAL, InvoiceKind.MANUAL})
REMINDER_ONLY_KINDS = frozenset({InvoiceKind.ORDER, InvoiceKind.UPGRADE, InvoiceKind.ADD_FUNDS})
MAX_PENDING_RECHECKS = 30  # the state machine's limit (a day apart), then staff are alerted
MAX_NOTICES = 3


class DunningStep(StrEnum):
    REMINDER = "reminder"
    NOTICE_1 = "notice_1"
    NOTICE_2 = "notice_2"
    NOTICE_3 = "notice_3"
    SUSPEND = "suspend"
    TERMINATE = "terminate"

    @property
    def order(self) -> int:
        return CANONICAL_ORDER.index(self)

    @property
    def is_notice(self) -> bool:
        """A message only (reminder or overdue notice), as opposed to an action on the services."""
        return self not in (DunningStep.SUSPEND, DunningStep.TERMINATE)

    @property
    def notice_number(self) -> int | None:
        return {DunningStep.NOTICE_1: 1, DunningStep.NOTICE_2: 2, DunningStep.NOTICE_3: 3}.get(self)


CANONICAL_ORDER: tuple[DunningStep, ...] = tuple(DunningStep)
NOTICES = (DunningStep.NOTICE_1, DunningStep.NOTICE_2, DunningStep.NOTICE_3)


class DunningTransientError(ProviderUnavailableError):
    """A step failed for a reason that may pass (a lost race, a throttled or unreachable dependency).

    The state machine retries a task that raises it (its Retry matches this class name)."""

    default_message = N_("A service we depend on is unavailable. Please try again later.")


# --- policy ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DunningPolicy:
    """What the company settings say for one invoice (defaults, then product, then account overrides applied).

    ``reminder_days_before`` None: no reminder. ``suspend_after_days`` None: never suspend (nor terminate).
    ``no_suspension_before``: a promise to pay — neither suspension nor termination happens before that day.
    """

    reminder_days_before: int | None = 3
    overdue_notice_days: tuple[int, ...] = (1, 3, 7)
    suspend_after_days: int | None = 7
    terminate_after_days: int | None = None  # None: termination off (the default)
    pending_pauses_suspension: bool = True
    no_suspension_before: date | None = None
    hour: int = 9
    timezone: str = "America/Sao_Paulo"


@dataclass(frozen=True, slots=True)
class PolicyOverride:
    """Fields that replace the policy's; None keeps what is there. ``terminate`` False turns termination off."""

    reminder_days_before: int | None = None
    no_reminder: bool = False
    overdue_notice_days: tuple[int, ...] | None = None
    suspend_after_days: int | None = None
    suspend: bool | None = None
    terminate_after_days: int | None = None
    terminate: bool | None = None
    pending_pauses_suspension: bool | None = None
    no_suspension_before: date | None = None

    def apply(self, policy: DunningPolicy, *, suspend_days: int, terminate_days: int) -> DunningPolicy:
        """``suspend_days``/``terminate_days``: the company's days, for ``suspend``/``terminate`` True alone."""
        changed = policy
        if self.no_reminder:
            changed = replace(changed, reminder_days_before=None)
        elif self.reminder_days_before is not None:
            changed = replace(changed, reminder_days_before=self.reminder_days_before)
        if self.overdue_notice_days is not None:
            changed = replace(changed, overdue_notice_days=tuple(self.overdue_notice_days))
        if self.suspend is False:
            changed = replace(changed, suspend_after_days=None)
        elif self.suspend_after_days is not None:
            changed = replace(changed, suspend_after_days=self.suspend_after_days)
        elif self.suspend is True and changed.suspend_after_days is None:
            changed = replace(changed, suspend_after_days=suspend_days)
        if self.terminate is False:
            changed = replace(changed, terminate_after_days=None)
        elif self.terminate_after_days is not None:
            changed = replace(changed, terminate_after_days=self.terminate_after_days)
        elif self.terminate is True and changed.terminate_after_days is None:
            changed = replace(changed, terminate_after_days=terminate_days)
        if self.pending_pauses_suspension is not None:
            changed = replace(changed, pending_pauses_suspension=self.pending_pauses_suspension)
        if self.no_suspension_before is not None:
            changed = replace(changed, no_suspension_before=self.no_suspension_before)
        return changed


def merge_most_lenient(policies: Sequence[DunningPolicy]) -> DunningPolicy:
    """One policy for an invoice renewing services of several products with different overrides: each field takes
    its most lenient value (the latest suspension and termination, termination only if every product terminates, a
    pending payment pauses if any product says so); reminders and notices come from the first."""
    first = policies[0]
    if len(policies) == 1:
        return first
    suspensions = [p.suspend_after_days for p in policies]
    terminations = [p.terminate_after_days for p in policies]
    promises = [p.no_suspension_before for p in policies if p.no_suspension_before is not None]
    return replace(
        first,
        suspend_after_days=None if None in suspensions else max(s for s in suspensions if s is not None),
        terminate_after_days=None if None in terminations else max(t for t in terminations if t is not None),
        pending_pauses_suspension=any(p.pending_pauses_suspension for p in policies),
        no_suspension_before=max(promises) if promises else None,
    )


# --- the schedule -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PlannedStep:
    step: DunningStep
    at: datetime  # aware, UTC


def step_moment(due_date: date, offset_days: int, policy: DunningPolicy) -> datetime:
    """``offset_days`` after the due date (negative: before), at the policy's hour in the company's timezone."""
    day = due_date + timedelta(days=offset_days)
    local = datetime.combine(day, time(hour=policy.hour), tzinfo=ZoneInfo(policy.timezone))
    return local.astimezone(UTC)


def schedule(
    policy: DunningPolicy,
    due_date: date,
    *,
    with_services: bool = True,
    suspension_paused_until: date | None = None,
) -> list[PlannedStep]:
    """Every step of the policy with its time, in the order they run (time, then canonical order).

    Without services (a manual invoice for something else) there is nothing to suspend or terminate. A promise to
    pay (``no_suspension_before``) or a boleto's pause (``suspension_paused_until``, set by the payments capability)
    moves suspension and termination to that day at the earliest; termination never comes before suspension.
    """
    planned: list[PlannedStep] = []
    if policy.reminder_days_before is not None:
        planned.append(PlannedStep(DunningStep.REMINDER, step_moment(due_date, -policy.reminder_days_before, policy)))
    for step, days in zip(NOTICES, sorted(policy.overdue_notice_days)[:MAX_NOTICES], strict=False):
        planned.append(PlannedStep(step, step_moment(due_date, days, policy)))
    if with_services and policy.suspend_after_days is not None:
        suspend_at = step_moment(due_date, policy.suspend_after_days, policy)
        for earliest in (policy.no_suspension_before, suspension_paused_until):
            if earliest is not None:
                suspend_at = max(suspend_at, step_moment(earliest, 0, policy))
        planned.append(PlannedStep(DunningStep.SUSPEND, suspend_at))
        if policy.terminate_after_days is not None:
            terminate_at = max(step_moment(due_date, policy.terminate_after_days, policy), suspend_at)
            planned.append(PlannedStep(DunningStep.TERMINATE, terminate_at))
    return sorted(planned, key=lambda p: (p.at, p.step.order))


def planned_suspension(planned: Iterable[PlannedStep]) -> datetime | None:
    return next((p.at for p in planned if p.step is DunningStep.SUSPEND), None)


# --- deciding -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Plan:
    """What comes next: a step and its time (None: nothing is left), and the notices skipped to get there."""

    next: PlannedStep | None
    skipped: tuple[DunningStep, ...] = ()


def plan_next(planned: Sequence[PlannedStep], done: Iterable[DunningStep], now: datetime) -> Plan:
    """The first step not done yet; of the notices already due, only the latest is kept (the others are skipped)."""
    finished = set(done)
    pending = [p for p in planned if p.step not in finished]
    due_notices = [p for p in pending if p.at <= now and p.step.is_notice]
    skipped = tuple(p.step for p in due_notices[:-1])
    remaining = [p for p in pending if p.step not in skipped]
    return Plan(remaining[0] if remaining else None, skipped)


class InvoiceState(StrEnum):
    """How a task sees the invoice."""

    OPEN = "open"  # unpaid, nothing in flight
    PAYMENT_PENDING = "payment_pending"  # a boleto or a debit is in flight
    PAID = "paid"
    CANCELLED = "cancelled"  # also refunded: nothing is owed


def payment_in_flight(invoice: Invoice) -> bool:
    """A payment is on its way (a boleto issued, a SEPA debit presented): the payments capability moves the invoice
    to ``payment_pending`` until it settles or fails."""
    return invoice.status is InvoiceStatus.PAYMENT_PENDING


def invoice_services(invoice: Invoice) -> tuple[str, ...]:
    """The services an invoice bills (its lines'), in line order, each once: what suspension acts on."""
    return tuple(dict.fromkeys(line.service_id for line in invoice.lines if line.service_id is not None))


def invoice_state(invoice: Invoice) -> InvoiceState:
    if invoice.status is InvoiceStatus.PAID:
        return InvoiceState.PAID
    if not invoice.is_unpaid:
        return InvoiceState.CANCELLED
    if payment_in_flight(invoice):
        return InvoiceState.PAYMENT_PENDING
    return InvoiceState.OPEN


class CheckOutcome(StrEnum):
    """What the check task tells the state machine after a Wait."""

    DUE = "due"  # act: the notice, the suspension or the termination of this step
    PENDING = "pending"  # a payment is in flight: check again in a day
    MOVED = "moved"  # the policy moved or removed this step: plan again
    CLOSED = "closed"  # paid or cancelled: the workflow ends
    SUPERSEDED = "superseded"  # another execution took over this invoice: this one ends


def check_step(
    step: DunningStep,
    waited_until: datetime,
    state: InvoiceState,
    planned: Sequence[PlannedStep],
    policy: DunningPolicy,
) -> CheckOutcome:
    """Decide by the step, the time the workflow waited for, the invoice's state and the current policy."""
    if state in (InvoiceState.PAID, InvoiceState.CANCELLED):
        return CheckOutcome.CLOSED
    if state is InvoiceState.PAYMENT_PENDING and policy.pending_pauses_suspension:
        return CheckOutcome.PENDING
    current = next((p for p in planned if p.step is step), None)
    if current is None or current.at > waited_until:
        return CheckOutcome.MOVED
    return CheckOutcome.DUE


# --- executions -------------------------------------------------------------------------------------------------
def execution_name(invoice_id: str, number: int) -> str:
    """``{invoice_id}-{n}``: a name is never reused (Step Functions keeps it 90 days), so a restart takes n + 1."""
    return f"{invoice_id}-{number}"


def execution_number(name: str | None) -> int:
    if not name or "-" not in name:
        return 0
    tail = name.rsplit("-", 1)[1]
    return int(tail) if tail.isdigit() else 0


class WorkflowStatus(StrEnum):
    RUNNING = "running"
    CLOSED = "closed"
    REMINDER_ONLY = "reminder_only"  # an order, upgrade or add-funds invoice: one reminder, no workflow


class ClosedReason(StrEnum):
    PAID = "paid"
    CANCELLED = "cancelled"
    COMPLETED = "completed"  # every step ran and the invoice is still unpaid
    HALTED = "halted"  # a payment stayed pending too long: staff were alerted
    FAILED = "failed"  # a step failed after its retries: staff were alerted


class ExecutionState(StrEnum):
    """What Step Functions says about an execution."""

    RUNNING = "running"
    ENDED = "ended"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    what: str  # started, reminder, notice_1 … suspend, terminate, skipped, moved, pending, alert, closed
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DunningRecord:
    """The workflow of one invoice as stored: its current execution, the steps done, what comes next, its history.

    ``done`` holds the steps of the current round (a reversal starts a new round: every step may happen again).
    """

    invoice_id: str
    account_id: str
    kind: InvoiceKind
    due_date: date
    execution: str | None
    status: WorkflowStatus
    closed_reason: ClosedReason | None = None
    done: Mapping[DunningStep, datetime] = field(default_factory=dict)
    skipped: tuple[DunningStep, ...] = ()
    next_step: DunningStep | None = None
    next_at: datetime | None = None
    planned: tuple[PlannedStep, ...] = ()
    services: tuple[str, ...] = ()
    pending_checks: int = 0
    history: tuple[HistoryEntry, ...] = ()
    started_by: str | None = None  # what started the current execution (an event id, "reconcile")
    updated_at: datetime | None = None
    version: int | None = None  # the optimistic lock of the stored record

    @property
    def number(self) -> int:
        return execution_number(self.execution)

    @property
    def running(self) -> bool:
        return self.status is WorkflowStatus.RUNNING


class RestartDecision(StrEnum):
    NONE = "none"  # nothing to do
    START_SAME = "start_same"  # the current name was claimed but its execution never started: start it
    NEXT = "next"  # claim n + 1 and start it, keeping the steps done (a failure or a lost execution)
    NEXT_ROUND = "next_round"  # claim n + 1 with a fresh round (a reversal: the invoice is unpaid again)


def restart_decision(record: DunningRecord | None, state: InvoiceState, execution: ExecutionState) -> RestartDecision:
    """What an unpaid invoice's workflow needs (``execution``: what Step Functions says about the current name)."""
    if state in (InvoiceState.PAID, InvoiceState.CANCELLED):
        return RestartDecision.NONE
    if record is None or record.execution is None:
        return RestartDecision.NEXT_ROUND
    if record.running:
        if execution is ExecutionState.RUNNING:
            return RestartDecision.NONE
        if execution is ExecutionState.MISSING:
            return RestartDecision.START_SAME
        return RestartDecision.NEXT
    reason = record.closed_reason
    if reason in (ClosedReason.PAID, ClosedReason.CANCELLED):
        return RestartDecision.NEXT_ROUND  # a reversal: the invoice is unpaid again
    if reason is ClosedReason.FAILED:
        return RestartDecision.NEXT
    if reason is ClosedReason.HALTED and state is InvoiceState.OPEN:
        return RestartDecision.NEXT  # the pending payment failed after staff were alerted: dunning resumes
    return RestartDecision.NONE  # completed, or still pending after the alert: staff decide


def suspension_notice_date(invoice: Invoice, suspension_date: date | None, today: date) -> date | None:
    """The "service will be suspended on …" date the customer sees: while the invoice is open, not paused by a
    payment in flight, and the day has not passed."""
    if suspension_date is None or invoice_state(invoice) is not InvoiceState.OPEN:
        return None
    return suspension_date if suspension_date >= today else None
