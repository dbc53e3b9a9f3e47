"""Dunning's use-cases with in-memory fakes: one execution per unpaid invoice, idempotent tasks, the payment racing
the suspension, restarts after a reversal or a failure, one reminder for orders, the staff view."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from balcao.domain.dunning import ClosedReason, DunningRecord, DunningStep, ExecutionState, WorkflowStatus
from balcao.domain.events import DomainEvent
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoices import (
    AppliedPayment,
    Buyer,
    Invoice,
    InvoiceChangedError,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    NumberAt,
    TaxPolicy,
)
from balcao.domain.money import Money
from balcao.services.dunning import (
    Dunning,
    DunningChange,
    DunningChangedError,
    WorkflowNameTakenError,
)
from balcao.services.dunning_settings import DunningSettings
from support.clocks import FixedClock

DUE = date(2026, 12, 6)


def issued(kind: InvoiceKind = InvoiceKind.RENEWAL, services: Sequence[str] = ("svc-1",), due: date = DUE) -> Invoice:
    lines = [InvoiceLine("Hospedagem", 1, Money.of(4990, "BRL"), service_id=s) for s in services] or [
        InvoiceLine("Consultoria", 1, Money.of(4990, "BRL"))
    ]
    buyer = Buyer("acc", "Loja", "loja@example.com", "pt-BR", "BR")
    draft = Invoice.draft(
        invoice_id=f"inv-{kind.value}",
        account_id="acc",
        kind=kind,
        currency=lines[0].unit_price.currency,
        language="pt-BR",
        lines=lines,
        due_date=due,
        created_at=datetime(2026, 11, 22, 12, tzinfo=UTC),
    )
    invoice = draft.issue(
        at=draft.created_at, issue_date=date(2026, 11, 22), buyer=buyer, taxes=TaxPolicy(), number_at=NumberAt.ISSUE
    )
    return replace(invoice, number="INV-2026-000001", version=1)


@dataclass
class FakeStore:
    invoices: dict[str, Invoice] = field(default_factory=dict)
    records: dict[str, DunningRecord] = field(default_factory=dict)
    events: list[DomainEvent] = field(default_factory=list)
    fail_next_commit: type[Exception] | None = None

    def put_invoice(self, invoice: Invoice) -> Invoice:
        current = self.invoices.get(invoice.invoice_id)
        stored = replace(invoice, version=(current.version or 0) + 1 if current else 1)
        self.invoices[invoice.invoice_id] = stored
        return stored

    def invoice(self, account_id: str, invoice_id: str) -> Invoice | None:
        return self.invoices.get(invoice_id)

    def record(self, invoice_id: str) -> DunningRecord | None:
        return self.records.get(invoice_id)

    def lookup(self, invoice_id: str) -> tuple[str | None, DunningRecord | None]:
        found = self.invoices.get(invoice_id)
        return (found.account_id if found else None), self.records.get(invoice_id)

    def commit(self, change: DunningChange) -> None:
        if self.fail_next_commit is not None:
            error, self.fail_next_commit = self.fail_next_commit, None
            raise error()
        if change.record is not None:
            current = self.records.get(change.record.invoice_id)
            if (current.version if current else None) != change.record.version:
                raise DunningChangedError()
        for read in (change.invoice, change.unchanged):
            if read is not None and self.invoices[read.invoice_id].version != read.version:
                raise InvoiceChangedError()
        if change.record is not None:
            version = (change.record.version or 0) + 1
            self.records[change.record.invoice_id] = replace(change.record, version=version)
        if change.invoice is not None and change.invoice_fields is not None:
            fields = change.invoice_fields
            self.put_invoice(
                replace(change.invoice, dunning_execution=fields.execution, suspension_date=fields.suspension_date)
            )
        self.events.extend(change.events)

    def open_invoices(self) -> Iterator[Invoice]:
        yield from (i for i in self.invoices.values() if i.is_unpaid)

    def products(self, account_id: str, service_ids: Sequence[str]) -> Mapping[str, str | None]:
        return dict.fromkeys(service_ids, "hosting-pro")


@dataclass
class FakeWorkflows:
    executions: dict[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)
    starts: list[str] = field(default_factory=list)

    def start(self, name: str, payload: Mapping[str, Any]) -> None:
        self.starts.append(name)
        if name in self.executions:
            status, existing = self.executions[name]
            if status != "RUNNING" or existing != payload:
                raise WorkflowNameTakenError()
            return
        self.executions[name] = ("RUNNING", dict(payload))

    def state(self, name: str) -> ExecutionState:
        if name not in self.executions:
            return ExecutionState.MISSING
        return ExecutionState.RUNNING if self.executions[name][0] == "RUNNING" else ExecutionState.ENDED

    def stop(self, name: str, cause: str) -> None:
        if name in self.executions:
            self.executions[name] = ("ABORTED", self.executions[name][1])

    def end(self, name: str, status: str = "FAILED") -> None:
        self.executions[name] = (status, self.executions[name][1])


@dataclass
class FakeServices:
    calls: list[tuple[str, str]] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)
    during_suspend: Any = None

    def suspend_for_overdue(self, invoice: Invoice, actor: str = "") -> list[str]:
        if self.during_suspend is not None:
            hook, self.during_suspend = self.during_suspend, None
            hook()
        return self._move([line.service_id for line in invoice.lines if line.service_id], "active", "suspended")

    def terminate_for_non_payment(self, invoice: Invoice, actor: str = "") -> list[str]:
        ids = [line.service_id for line in invoice.lines if line.service_id]
        return self._move(ids, "active", "terminated") + self._move(ids, "suspended", "terminated")

    def unsuspend_after_payment(self, account_id: str, service_ids: Iterable[str], actor: str = "") -> list[str]:
        return self._move(list(service_ids), "suspended", "active")

    def _move(self, ids: list[Any], source: str, target: str) -> list[str]:
        moved = []
        for service_id in ids:
            if self.status.get(service_id, "active") == source:
                self.status[service_id] = target
                self.calls.append((target, service_id))
                moved.append(service_id)
        return moved


@dataclass
class World:
    store: FakeStore
    workflows: FakeWorkflows
    services: FakeServices
    clock: FixedClock
    settings: DunningSettings = field(default_factory=DunningSettings)

    @property
    def dunning(self) -> Dunning:
        return Dunning(
            store=self.store,
            workflows=self.workflows,
            services=self.services,
            directory=self.store,
            clock=self.clock,
            settings=self.settings,
            timezone="America/Sao_Paulo",
            staff_alert_to="cobranca@balcao.example",
        )

    def event_types(self) -> list[str]:
        return [e.type for e in self.store.events]

    def pay(self, invoice_id: str) -> Invoice:
        current = self.store.invoices[invoice_id]
        payment = AppliedPayment("pay-1", current.amount_due, PaymentMethod.PIX, "mercadopago", self.clock.now())
        return self.store.put_invoice(current.settle(payment, self.clock.now()).invoice)


@pytest.fixture
def world() -> World:
    return World(FakeStore(), FakeWorkflows(), FakeServices(), FixedClock("2026-11-22T12:00:00Z"))


def given_running(world: World, invoice: Invoice | None = None) -> Invoice:
    stored = world.store.put_invoice(invoice or issued())
    assert world.dunning.sync("acc", stored.invoice_id, "evt-issued") == "started"
    return stored


def run_step(world: World, invoice_id: str, execution: str) -> dict[str, Any]:
    """What the state machine does for one step: plan, (wait), check, act."""
    plan = world.dunning.plan("acc", invoice_id, execution)
    if plan["outcome"] != "wait":
        return plan
    world.clock.set(plan["at"])
    check = world.dunning.check("acc", invoice_id, execution, plan["step"], plan["at"], 0)
    if check["outcome"] == "due":
        step = DunningStep(plan["step"])
        if step is DunningStep.SUSPEND:
            world.dunning.suspend("acc", invoice_id, execution)
        elif step is DunningStep.TERMINATE:
            world.dunning.terminate("acc", invoice_id, execution)
        else:
            world.dunning.notify("acc", invoice_id, execution, plan["step"])
    return {**plan, "check": check["outcome"]}


def test_an_issued_renewal_gets_one_execution_named_after_it_and_stored_on_the_invoice(world):
    # Given an issued renewal invoice
    invoice = given_running(world)
    # Then one execution runs, its name on the invoice with the day services will be suspended
    name = f"{invoice.invoice_id}-1"
    assert world.workflows.starts == [name]
    stored = world.store.invoices[invoice.invoice_id]
    assert stored.dunning_execution == name and stored.suspension_date == date(2026, 12, 13)
    assert world.workflows.executions[name][1] == {
        "account_id": "acc",
        "invoice_id": invoice.invoice_id,
        "execution": name,
        "check": {"outcome": "started", "rechecks": 0},
        "limits": {"pending_rechecks": 30},
    }
    # When the issue event is delivered again (and the reconcile job runs)
    assert world.dunning.sync("acc", invoice.invoice_id, "evt-issued") == "running"
    assert world.dunning.reconcile()["running"] == 1
    # Then nothing starts twice
    assert world.workflows.starts == [name]


def test_a_lost_start_is_started_again_with_the_same_name(world):
    # Given the name was claimed but the start never happened (a crash in between)
    invoice = given_running(world)
    name = f"{invoice.invoice_id}-1"
    del world.workflows.executions[name]
    # When the reconcile job runs
    counts = world.dunning.reconcile()
    # Then the same name is started
    assert counts["started"] == 1 and world.workflows.starts == [name, name]


def test_the_default_timeline_sends_each_notice_once_then_suspends(world):
    invoice = given_running(world)
    name = f"{invoice.invoice_id}-1"
    outcomes = [run_step(world, invoice.invoice_id, name) for _ in range(6)]
    assert [o.get("step") for o in outcomes] == ["reminder", "notice_1", "notice_2", "notice_3", "suspend", None]
    assert outcomes[-1]["outcome"] == "completed"
    assert world.event_types() == [
        "dunning.reminder",
        "dunning.overdue_notice",
        "dunning.overdue_notice",
        "dunning.overdue_notice",
        "dunning.suspended",
    ]
    notice = world.store.events[1].data
    assert notice["notice"] == 1 and notice["days_overdue"] == 1 and notice["suspension_date"] == "2026-12-13"
    assert world.services.calls == [("suspended", "svc-1")]
    record = world.store.records[invoice.invoice_id]
    assert record.status is WorkflowStatus.CLOSED and record.closed_reason is ClosedReason.COMPLETED
    assert world.store.invoices[invoice.invoice_id].suspension_date is None


def test_a_duplicate_task_delivery_changes_nothing(world):
    invoice = given_running(world)
    name = f"{invoice.invoice_id}-1"
    world.clock.set("2026-12-13T12:00:00Z")
    # When each task is delivered twice
    for _ in range(2):
        world.dunning.notify("acc", invoice.invoice_id, name, "notice_3")
        world.dunning.suspend("acc", invoice.invoice_id, name)
    # Then one email and one suspension
    assert world.event_types() == ["dunning.overdue_notice", "dunning.suspended"]
    assert world.services.calls == [("suspended", "svc-1")]


def test_a_task_of_an_execution_that_is_no_longer_the_invoices_does_nothing(world):
    invoice = given_running(world)
    world.clock.set("2026-12-13T12:00:00Z")
    assert world.dunning.notify("acc", invoice.invoice_id, f"{invoice.invoice_id}-7", "notice_1") == {"done": False}
    assert world.dunning.plan("acc", invoice.invoice_id, "someone-else-1")["outcome"] == "superseded"
    assert world.store.events == []


def test_a_payment_landing_during_the_suspension_lifts_it_and_sends_no_suspension_email(world):
    invoice = given_running(world)
    name = f"{invoice.invoice_id}-1"
    world.clock.set("2026-12-13T12:00:00Z")
    # Given the payment lands while the services are being suspended (and its unsuspension found nothing to lift)
    world.services.during_suspend = lambda: world.pay(invoice.invoice_id)
    # When the suspension step runs
    outcome = world.dunning.suspend("acc", invoice.invoice_id, name)
    # Then the services end active, with no suspension email; the workflow is closed as paid
    assert outcome == {"done": False}
    assert world.services.calls == [("suspended", "svc-1"), ("active", "svc-1")]
    assert world.services.status == {"svc-1": "active"}
    assert world.event_types() == []
    assert world.store.records[invoice.invoice_id].closed_reason is ClosedReason.PAID


def test_a_payment_right_after_the_suspension_committed_lifts_it_too(world):
    invoice = given_running(world)
    name = f"{invoice.invoice_id}-1"
    world.clock.set("2026-12-13T12:00:00Z")
    original = world.store.commit

    def commit_then_pay(change: DunningChange) -> None:
        original(change)
        if change.events and change.events[0].type == "dunning.suspended":
            world.pay(invoice.invoice_id)

    world.store.commit = commit_then_pay  # type: ignore[method-assign]
    world.dunning.suspend("acc", invoice.invoice_id, name)
    assert world.services.status == {"svc-1": "active"}


def test_pending_payments_pause_the_workflow_and_count_rechecks(world):
    invoice = given_running(world)
    name = f"{invoice.invoice_id}-1"
    world.store.put_invoice(
        world.store.invoices[invoice.invoice_id].mark_payment_pending(PaymentMethod.BOLETO, {"line": "x"})
    )
    check = world.dunning.check("acc", invoice.invoice_id, name, "notice_1", "2026-12-07T12:00:00Z", 4)
    assert check == {"outcome": "pending", "rechecks": 5}
    assert world.store.records[invoice.invoice_id].pending_checks == 5
    # After the 31st pending check the state machine alerts staff once; the record halts
    assert world.dunning.pending_alert("acc", invoice.invoice_id, name) == {"alerted": True}
    assert world.dunning.pending_alert("acc", invoice.invoice_id, name) == {"alerted": False}
    assert world.event_types() == ["dunning.staff_alert"]
    alert = world.store.events[0]
    assert alert.data["to"] == "cobranca@balcao.example" and alert.data["reason"] == "payment_pending_too_long"
    # The reconcile job leaves it halted while the payment is pending, and resumes it when the payment failed
    world.workflows.end(name)
    assert world.dunning.reconcile()["unchanged"] == 1
    pending = world.store.invoices[invoice.invoice_id]
    world.store.put_invoice(replace(pending, status=InvoiceStatus.ISSUED))
    assert world.dunning.reconcile()["restarted"] == 1
    assert world.workflows.starts[-1] == f"{invoice.invoice_id}-2"


def test_a_reversal_restarts_as_the_next_number_with_a_fresh_round(world):
    invoice = given_running(world)
    name = f"{invoice.invoice_id}-1"
    run_step(world, invoice.invoice_id, name)  # the reminder
    # Given the invoice was paid (its execution stopped) and the payment reversed
    world.pay(invoice.invoice_id)
    assert world.dunning.sync("acc", invoice.invoice_id, "evt-paid") == "stopped"
    assert world.workflows.executions[name][0] == "ABORTED"
    paid = world.store.invoices[invoice.invoice_id]
    world.clock.set("2026-12-20T12:00:00Z")
    world.store.put_invoice(paid.reverse(paid.payments[0], world.clock.now()))
    # When the reversal's event arrives
    assert world.dunning.sync("acc", invoice.invoice_id, "evt-reversed") == "restarted"
    # Then {id}-2 runs from a fresh round: late, it sends the latest due notice, then suspends
    record = world.store.records[invoice.invoice_id]
    assert record.execution == f"{invoice.invoice_id}-2" and record.done == {}
    assert world.store.invoices[invoice.invoice_id].dunning_execution == f"{invoice.invoice_id}-2"
    assert run_step(world, invoice.invoice_id, f"{invoice.invoice_id}-2")["step"] == "notice_3"
    assert world.event_types() == ["dunning.reminder", "dunning.overdue_notice"]
    # And the notices it skipped are never sent later: next comes the suspension, then the end
    assert run_step(world, invoice.invoice_id, f"{invoice.invoice_id}-2")["step"] == "suspend"
    assert run_step(world, invoice.invoice_id, f"{invoice.invoice_id}-2")["outcome"] == "completed"
    assert world.event_types() == ["dunning.reminder", "dunning.overdue_notice", "dunning.suspended"]


def test_a_failure_alerts_staff_once_and_the_restart_keeps_the_steps_done(world):
    invoice = given_running(world)
    name = f"{invoice.invoice_id}-1"
    run_step(world, invoice.invoice_id, name)  # the reminder
    # When a step fails after its retries (the state machine's Catch)
    world.dunning.alert("acc", invoice.invoice_id, name, "RuntimeError", "panel exploded")
    world.dunning.alert("acc", invoice.invoice_id, name, "RuntimeError", "panel exploded")
    world.workflows.end(name)
    # Then staff get one alert, the record is closed as failed
    assert world.event_types() == ["dunning.reminder", "dunning.staff_alert"]
    assert world.store.records[invoice.invoice_id].closed_reason is ClosedReason.FAILED
    # And the reconcile job restarts it as -2, without sending the reminder again
    assert world.dunning.reconcile()["restarted"] == 1
    assert run_step(world, invoice.invoice_id, f"{invoice.invoice_id}-2")["step"] == "notice_1"
    assert world.event_types().count("dunning.reminder") == 1


def test_a_paid_invoice_stops_its_workflow_and_a_cancelled_one_too(world):
    invoice = given_running(world)
    world.store.put_invoice(world.store.invoices[invoice.invoice_id].cancel(world.clock.now()))
    assert world.dunning.sync("acc", invoice.invoice_id, "evt") == "stopped"
    assert world.store.records[invoice.invoice_id].closed_reason is ClosedReason.CANCELLED
    assert world.dunning.sync("acc", invoice.invoice_id, "evt") == "closed"


def test_a_race_on_the_record_is_retried_from_a_fresh_read(world):
    invoice = given_running(world)
    world.clock.set("2026-12-03T12:00:00Z")
    world.store.fail_next_commit = DunningChangedError
    assert world.dunning.notify("acc", invoice.invoice_id, f"{invoice.invoice_id}-1", "reminder") == {"done": True}
    assert world.event_types() == ["dunning.reminder"]


def test_a_manual_invoice_without_services_gets_notices_but_no_suspension(world):
    invoice = given_running(world, issued(InvoiceKind.MANUAL, services=()))
    name = f"{invoice.invoice_id}-1"
    steps = [run_step(world, invoice.invoice_id, name).get("step") for _ in range(5)]
    assert steps == ["reminder", "notice_1", "notice_2", "notice_3", None]
    assert world.services.calls == [] and world.store.invoices[invoice.invoice_id].suspension_date is None


def test_orders_get_one_reminder_and_no_workflow(world):
    order = world.store.put_invoice(issued(InvoiceKind.ORDER, due=date(2026, 11, 29)))
    assert world.dunning.sync("acc", order.invoice_id, "evt-issued") == "ignored"
    assert world.dunning.reconcile()["reminded"] == 0  # before the reminder day
    world.clock.set("2026-11-26T12:00:00Z")
    assert world.dunning.reconcile()["reminded"] == 1
    assert world.dunning.reconcile()["reminded"] == 0
    assert world.event_types() == ["dunning.reminder"] and world.workflows.starts == []
    view = world.dunning.workflow(order.invoice_id)
    assert view.record is not None and view.record.status is WorkflowStatus.REMINDER_ONLY


def test_the_staff_view_lists_steps_done_skipped_and_planned(world):
    invoice = given_running(world)
    name = f"{invoice.invoice_id}-1"
    world.clock.set("2026-12-10T12:00:00Z")  # late: the reminder and notice 1 are skipped
    run_step(world, invoice.invoice_id, name)
    view = world.dunning.workflow(invoice.invoice_id)
    states = {v.step: v.state for v in view.steps}
    assert states == {
        DunningStep.REMINDER: "skipped",
        DunningStep.NOTICE_1: "skipped",
        DunningStep.NOTICE_2: "done",
        DunningStep.NOTICE_3: "planned",
        DunningStep.SUSPEND: "planned",
    }
    assert [h.what for h in view.record.history] == ["started", "skipped", "skipped", "notice_2"]
    with pytest.raises(Exception, match="Not found"):
        world.dunning.workflow("nope")


def test_a_policy_change_applies_to_the_next_step(world):
    invoice = given_running(world)
    name = f"{invoice.invoice_id}-1"
    run_step(world, invoice.invoice_id, name)  # the reminder; next: notice 1 on 12-07
    plan = world.dunning.plan("acc", invoice.invoice_id, name)
    # When staff move the first notice to day +2 while the workflow waits for day +1
    world.settings = DunningSettings(overdue_notice_days=[2, 3, 7])
    world.clock.set(plan["at"])
    # Then the check says the step moved, and the plan waits for the new day
    assert world.dunning.check("acc", invoice.invoice_id, name, plan["step"], plan["at"], 0)["outcome"] == "moved"
    replanned = world.dunning.plan("acc", invoice.invoice_id, name)
    assert (replanned["step"], replanned["at"]) == ("notice_1", "2026-12-08T12:00:00Z")
    assert world.clock.now() < datetime(2026, 12, 8, 12, tzinfo=UTC) + timedelta(0)
