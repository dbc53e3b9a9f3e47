"""Given-steps and a harness for dunning timelines: renewal invoices with service lines, a recording stand-in for the
services capability, and ``Timeline`` — the event pipeline plus the real state machine in moto, driven by moving the
application clock (Waits follow it; nothing sleeps for business time)."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import boto3

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import DunningItem, ServiceItem
from balcao.domain.ids import new_ulid
from balcao.domain.invoices import Invoice, InvoiceKind, InvoiceLine
from balcao.domain.money import Money
from balcao.runtime.invoices_composition import invoice_store, invoices
from devstack import hooks, mail
from devstack.pumps import running_executions
from support.clocks import FixedClock
from support.pipeline import Pipeline


def given_renewal(
    account_id: str,
    due: date,
    *,
    amount: int = 4990,
    services: int = 1,
    product_id: str = "hosting-pro",
    kind: InvoiceKind = InvoiceKind.RENEWAL,
) -> Invoice:
    """A renewal invoice (issued: its events flow when the pipeline runs) for new service items due on ``due``."""
    lines = []
    for n in range(services):
        service_id = new_ulid()
        ServiceItem(
            pk=keys.account_pk(account_id),
            sk=keys.service_sk(service_id),
            service_id=service_id,
            account_id=account_id,
            name=f"Hospedagem {n + 1}",
            domain=f"site{n + 1}.example",
            status="active",
            product_id=product_id,
            cycle="monthly",
            price=amount,
            currency="BRL",
            tax_category="hosting",
            next_due_date=due.isoformat(),
            auto_renew=True,
        ).save()
        lines.append(
            InvoiceLine(
                f"Hospedagem {n + 1}",
                1,
                Money.of(amount, "BRL"),
                "hosting",
                service_id=service_id,
                period_start=due,
                period_end=due + timedelta(days=30),
            )
        )
    service = invoices()
    buyer = invoice_store().buyer(account_id)
    assert buyer is not None
    draft = service.draft_for(account_id, kind, lines, buyer, due)
    return service.issue_new(draft, buyer=buyer)


@dataclass
class FakeServices:
    """The services capability as dunning sees it: idempotent suspension, termination and unsuspension (reason
    ``overdue``), each transition recorded as the control-panel call it causes."""

    status: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    before_suspend: Callable[[Invoice], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _move(self, service_id: str, allowed: Iterable[str], target: str, call: str) -> bool:
        with self.lock:
            if self.status.get(service_id, "active") not in allowed:
                return False
            self.status[service_id] = target
            self.calls.append((call, service_id))
            return True

    def suspend_for_overdue(self, invoice: Invoice, actor: str = "system:dunning") -> list[str]:
        if self.before_suspend is not None:
            hook, self.before_suspend = self.before_suspend, None
            hook(invoice)
        ids = [line.service_id for line in invoice.lines if line.service_id]
        return [s for s in dict.fromkeys(ids) if self._move(s, ("active",), "suspended", "suspend")]

    def terminate_for_non_payment(self, invoice: Invoice, actor: str = "system:dunning") -> list[str]:
        ids = [line.service_id for line in invoice.lines if line.service_id]
        return [s for s in dict.fromkeys(ids) if self._move(s, ("active", "suspended"), "terminated", "terminate")]

    def unsuspend_after_payment(
        self, account_id: str, service_ids: Iterable[str], actor: str = "system:payments"
    ) -> list[str]:
        return [s for s in dict.fromkeys(service_ids) if self._move(s, ("suspended",), "active", "unsuspend")]


# What a dunning timeline needs of the pipeline: the outbox publisher, the dunning starter, emails, the services'
# and the payments' invoice consumers (the unsuspension after payment is the payments'), provisioning (the control panel) and the paid renewal's due-date
# advance. Invoice PDFs are tested elsewhere and left out: each poll of every queue costs time.
TIMELINE_FUNCTIONS = frozenset(
    {
        "OutboxPublisherFunction",
        "DunningJobsFunction",
        "NotificationsFunction",
        "ServicesEventsFunction",
        "PaymentsEventsFunction",
        "ProvisioningFunction",
        "BillingDueDatesFunction",
    }
)


class Timeline:
    """Runs the pipeline (stream → bus → queues → consumers) and waits for the executions to block in their Waits;
    ``at(...)`` moves the application clock and lets everything that became due run."""

    def __init__(self, aws: Any, invoke: Callable[[str, dict[str, Any]], Any], clock: FixedClock) -> None:
        self.aws = aws
        self.pipeline = Pipeline(aws, invoke)
        self.pipeline.pumps = [p for p in self.pipeline.pumps if getattr(p, "function", None) in TIMELINE_FUNCTIONS]
        self.clock = clock
        self.machine = aws.ref("DunningStateMachine")
        self.sfn = boto3.client("stepfunctions")

    def executions_idle(self) -> bool:
        return running_executions() <= hooks.waiting_executions()

    def settle(self, seconds: float = 20.0) -> None:
        """Until every execution waits and a full round of the pumps moves nothing (only the pumps and the clock
        wake a waiting execution, so nothing can move after that)."""
        deadline = time.monotonic() + seconds
        while True:
            assert time.monotonic() < deadline, "the dunning timeline did not settle"
            if not self.executions_idle():
                time.sleep(0.002)
                continue
            moved = any([pump.poll_once() for pump in self.pipeline.pumps])  # noqa: C419 - poll every pump, each round
            if not moved and self.executions_idle():
                return

    def at(self, moment: str) -> None:
        self.clock.set(moment)
        hooks.notify_clock_changed()
        self.settle()

    def execution(self, name: str) -> dict[str, Any]:
        arn = self.machine.replace(":stateMachine:", ":execution:") + f":{name}"
        described: dict[str, Any] = self.sfn.describe_execution(executionArn=arn)
        return described

    def run_job(self, invoke: Callable[[str, dict[str, Any]], Any], folder: str, job: str) -> dict[str, int]:
        result = invoke(folder, {"job": job})
        self.settle()
        counts: dict[str, int] = result["counts"]
        return counts

    def stop_running(self) -> None:
        for execution in self.sfn.list_executions(stateMachineArn=self.machine, statusFilter="RUNNING")["executions"]:
            self.sfn.stop_execution(executionArn=execution["executionArn"])

    def executions_named(self, invoice_id: str) -> list[str]:
        """The executions of one invoice (``{invoice_id}-{n}``), in order."""
        listed = self.sfn.list_executions(stateMachineArn=self.machine)["executions"]
        return sorted(e["name"] for e in listed if e["name"].startswith(f"{invoice_id}-"))

    @property
    def dead_letter_queue(self) -> str:
        return str(self.aws.attribute("DunningDeadLetterQueue", "QueueName"))


@dataclass(frozen=True)
class Hosting:
    account_id: str
    service_id: str
    username: str


def given_hosting(timeline: Timeline, account_id: str, domain: str = "lojadaana.example") -> Hosting:
    """A cPanel hosting service ordered today and paid (active, its panel account created on the simulated panel)."""
    from support.services import given_catalog, given_order, pay_in_full, quiet_panel

    quiet_panel()
    placed = given_order(account_id, given_catalog().basic, domain)
    pay_in_full(account_id, placed.invoice.invoice_id)
    timeline.settle()
    service_id = placed.services[0].service_id
    item = ServiceItem.get(keys.account_pk(account_id), keys.service_sk(service_id))
    assert item.status == "active" and item.username, item.status
    return Hosting(account_id, service_id, str(item.username))


_built: dict[str, Any] = {}


def given_hosted_account(timeline: Timeline, email: str, language: str = "en") -> Hosting:
    """An account with a hosting service ordered and paid on 2026-11-22 (``given_hosting``). Built through the
    use-cases once per test session, then restored into each test's empty tables (and the simulated panel) from a
    copy: every timeline starts from the same, real, state without paying for the order flow again."""
    from moto.dynamodb.models import dynamodb_backends

    from balcao.adapters.provisioning import simulated
    from support.identity import given_account
    from support.moto_state import ACCOUNT, REGION
    from support.services import quiet_panel

    tables = dynamodb_backends[ACCOUNT][REGION].tables
    if not _built:
        account = given_account("owner", email=email, language=language)
        hosting = given_hosting(timeline, account)
        with simulated._panel_lock:
            panel = copy.deepcopy(simulated._accounts)
        _built.update(
            hosting=hosting,
            tables={name: copy.deepcopy(dict(table.items)) for name, table in tables.items()},
            panel=panel,
            email=email,
        )
        return hosting
    assert _built["email"] == email
    quiet_panel()
    for name, items in _built["tables"].items():
        tables[name].items.update(copy.deepcopy(items))
    with simulated._panel_lock:
        simulated._accounts.update(copy.deepcopy(_built["panel"]))
    hosting: Hosting = _built["hosting"]
    return hosting


def service_status(hosting: Hosting) -> str:
    return str(ServiceItem.get(keys.account_pk(hosting.account_id), keys.service_sk(hosting.service_id)).status)


def outbox_types(account_id: str, prefix: str = "") -> list[str]:
    """The types of the domain events written for ``account_id`` (the outbox keeps them 7 days), oldest first."""
    from balcao.adapters.dynamodb.models import OutboxItem

    items = OutboxItem.query(keys.account_pk(account_id), OutboxItem.sk.startswith(keys.OUTBOX_PREFIX))
    return [str(i.event["type"]) for i in items if str(i.event["type"]).startswith(prefix)]


def subjects(to: str) -> list[str]:
    """Every email sent to ``to``, oldest first."""
    return [m["subject"] for m in reversed(mail.sent_messages(to=to))]


def record_of(invoice_id: str) -> DunningItem:
    return DunningItem.get(keys.dunning_pk(invoice_id), keys.DUNNING)
