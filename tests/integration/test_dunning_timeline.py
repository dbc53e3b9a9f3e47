"""Dunning timelines: the real state machine (infra/statemachines/dunning.asl.json) executing in moto, its tasks run
by our handler, every event through the real pipeline (outbox → bus → queues: the dunning starter, notifications,
the services' invoice consumer, provisioning on the simulated panel), the application clock moved to each step
(Waits follow it; nothing sleeps for business time).

Each timeline starts from a hosting service ordered and paid on 2026-11-22 (monthly, next due 2026-12-22); the
renewals job issues its renewal invoice on 2026-12-08. Default policy, steps at 09:00 São Paulo (12:00 UTC): reminder
12-19, overdue notices 12-23, 12-25 and 12-29, suspension 12-29, termination (when on) 2027-01-21. Each test asserts
the exact emails since the renewal was issued and the control panel's calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import boto3
import pytest

from balcao.adapters.provisioning.simulated import simulated_account, simulated_calls
from balcao.domain.events import new_event
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.invoices import Invoice, InvoiceKind
from balcao.runtime import dunning_composition
from balcao.runtime.invoices_composition import invoice_store, invoices
from balcao.runtime.payments_composition import payments
from balcao.services import dunning as dunning_service
from balcao.services.invoices import BillingChange, InvoiceWrite
from devstack import mail
from support.dunning import Hosting, Timeline, given_hosted_account, outbox_types, record_of, service_status
from support.events import api_event, json_body
from support.identity import given_account, given_session

OWNER = "financeiro@lojadaana.example"
# Just after each step of the default timeline (the reminder, the three notices, the suspension with the third).
STEPS = ("2026-12-19T12:00:01Z", "2026-12-23T12:00:01Z", "2026-12-25T12:00:01Z", "2026-12-29T12:00:01Z")
DUE = date(2026, 12, 22)
REMINDER = "Reminder: invoice INV-2026-000002 is due on Dec 22, 2026"
NOTICE = "Overdue notice {n}: invoice INV-2026-000002 was due on Dec 22, 2026"
SUSPENDED = "Service suspended: invoice INV-2026-000002 is overdue"
TERMINATED = "Services terminated: invoice INV-2026-000002 was not paid"
PAID = "Payment confirmed: invoice INV-2026-000002"
REACTIVATED = "Service reactivated: lojadaana.example"  # the services capability's email
STAFF = "[Cobrança] A fatura INV-2026-000002 precisa de atenção"  # the company's language (pt-BR)


@pytest.fixture
def timeline(aws, invoke, clock) -> Iterator[Timeline]:
    timeline = Timeline(aws, invoke, clock)
    yield timeline
    timeline.stop_running()  # no execution outlives its test


class Story:
    """One account's hosting service and its renewal invoice, with what happened since the renewal was issued."""

    def __init__(self, timeline: Timeline, invoke) -> None:
        self.timeline = timeline
        self.invoke = invoke
        self.hosting: Hosting = given_hosted_account(timeline, OWNER)
        self.account = self.hosting.account_id
        self.panel_mark = len(simulated_calls())
        timeline.at("2026-12-08T09:00:00Z")
        self.mail_mark = len(mail.sent_messages())
        assert timeline.run_job(invoke, "billing_jobs", "renewals")["issued"] == 1
        [self.invoice] = self._renewal()

    def _renewal(self) -> list[Invoice]:
        from balcao.adapters.dynamodb import keys
        from balcao.adapters.dynamodb.invoices import invoice_from_item
        from balcao.adapters.dynamodb.models import InvoiceItem

        items = InvoiceItem.query(keys.account_pk(self.account), InvoiceItem.sk.startswith(keys.INVOICE_PREFIX))
        return [i for i in map(invoice_from_item, items) if i.kind is InvoiceKind.RENEWAL]

    @property
    def invoice_id(self) -> str:
        return self.invoice.invoice_id

    def current(self) -> Invoice:
        return invoices().invoice(self.account, self.invoice_id)

    def emails(self) -> list[str]:
        sent = list(reversed(mail.sent_messages()))[self.mail_mark :]
        return [m["subject"] for m in sent if OWNER in m["to"]]

    def staff_emails(self) -> list[str]:
        sent = list(reversed(mail.sent_messages()))[self.mail_mark :]
        return [m["subject"] for m in sent if "suporte@balcao.example" in m["to"]]

    def panel(self) -> list[str]:
        return [
            action for action, username in simulated_calls()[self.panel_mark :] if username == self.hosting.username
        ]

    def pay(self, settle: bool = True) -> None:
        invoice = self.current()
        invoices().record_payment(self.invoice_id, invoice.amount_due, None, f"transfer-{self.invoice_id}")
        if settle:
            self.timeline.settle()

    def execution(self, n: int = 1) -> str:
        return str(self.timeline.execution(f"{self.invoice_id}-{n}")["status"])

    def api_invoice(self) -> dict:
        caller = given_session("owner", OWNER, now=self.timeline.clock.now())
        path = f"/api/accounts/{self.account}/invoices/{self.invoice_id}"
        response = self.invoke(
            "billing",
            api_event("GET", path, resource="/api/accounts/{account_id}/invoices/{invoice_id}", claims=caller.claims),
        )
        assert response["statusCode"] == 200, response
        return json_body(response)


@pytest.fixture
def story(timeline, invoke) -> Story:
    return Story(timeline, invoke)


def staff(clock, role: str = "staff_admin"):
    return given_session(f"staff-{role}", f"{role}@staff.example", mfa_passed=True, groups=(role,), now=clock.now())


def patch_settings(invoke, clock, patch) -> None:
    response = invoke("settings", api_event("PATCH", "/api/staff/settings", body=patch, claims=staff(clock).claims))
    assert response["statusCode"] == 200, response["body"]


def test_paid_before_due(story, timeline):
    # Given the renewal invoice was issued: one execution runs, named {invoice_id}-1, the name on the invoice, and
    # the customer's invoice says when the service will be suspended
    name = f"{story.invoice_id}-1"
    assert timeline.executions_named(story.invoice_id) == [name]
    assert story.execution() == "RUNNING" and story.current().dunning_execution == name
    assert story.api_invoice()["suspension_date"] == "2026-12-29"
    # When it is paid after the reminder
    timeline.at("2026-12-19T12:00:01Z")
    story.pay()
    timeline.at("2027-02-01T12:00:00Z")
    # Then the execution was stopped, nothing else was sent or suspended
    assert story.emails() == [REMINDER, PAID]
    assert story.panel() == [] and service_status(story.hosting) == "active"
    assert story.execution() == "ABORTED" and record_of(story.invoice_id).closed_reason == "paid"
    assert story.api_invoice()["suspension_date"] is None


def test_paid_after_the_first_notice(story, timeline, invoke, ddb_calls):
    timeline.at("2026-12-19T12:00:01Z")
    timeline.at("2026-12-23T12:00:01Z")
    # The staff see the workflow: its steps with their dates, what comes next, what was sent (2 DynamoDB calls)
    event = api_event(
        "GET",
        f"/api/staff/invoices/{story.invoice_id}/workflow",
        resource="/api/staff/invoices/{invoice_id}/workflow",
        claims=staff(timeline.clock, "staff_finance").claims,
    )
    with ddb_calls() as calls:
        response = invoke("billing", event)
    assert response["statusCode"] == 200, response["body"]
    assert calls.total <= 2, calls
    body = json_body(response)
    assert body["execution"] == f"{story.invoice_id}-1" and body["status"] == "running"
    assert [(s["step"], s["state"], s["at"]) for s in body["steps"]] == [
        ("reminder", "done", "2026-12-19T12:00:01Z"),
        ("notice_1", "done", "2026-12-23T12:00:01Z"),
        ("notice_2", "planned", "2026-12-25T12:00:00Z"),
        ("notice_3", "planned", "2026-12-29T12:00:00Z"),
        ("suspend", "planned", "2026-12-29T12:00:00Z"),
    ]
    assert body["next"] == {"step": "notice_2", "at": "2026-12-25T12:00:00Z"}
    assert [(h["what"], h["email"]) for h in body["history"] if h["email"]] == [
        ("reminder", "dunning.reminder"),
        ("notice_1", "dunning.overdue_notice"),
    ]
    # When it is paid the next day
    timeline.at("2026-12-24T15:00:00Z")
    story.pay()
    timeline.at("2027-02-01T12:00:00Z")
    assert story.emails() == [REMINDER, NOTICE.format(n=1), PAID]
    assert story.panel() == [] and story.execution() == "ABORTED"


def test_paid_after_suspension_is_unsuspended_once(story, timeline):
    # When nothing is paid until after the suspension day
    for moment in STEPS:
        timeline.at(moment)
    assert service_status(story.hosting) == "suspended" and story.panel() == ["suspend"]
    assert story.api_invoice()["suspension_date"] is None
    timeline.at("2026-12-30T10:00:00Z")
    story.pay()
    # Then the service is active again, unsuspended once (one reactivation), and nothing else happens
    timeline.at("2027-02-15T12:00:00Z")
    assert service_status(story.hosting) == "active"
    assert story.panel() == ["suspend", "unsuspend"]
    assert outbox_types(story.account, "service.unsuspended") == ["service.unsuspended"]
    assert story.emails() == [REMINDER, *(NOTICE.format(n=n) for n in (1, 2, 3)), SUSPENDED, PAID, REACTIVATED]


def test_never_paid_with_termination_off_stays_suspended(story, timeline):
    for moment in (*STEPS, "2027-03-01T12:00:00Z"):
        timeline.at(moment)
    assert service_status(story.hosting) == "suspended" and story.panel() == ["suspend"]
    assert story.emails() == [REMINDER, *(NOTICE.format(n=n) for n in (1, 2, 3)), SUSPENDED]
    assert story.execution() == "SUCCEEDED" and record_of(story.invoice_id).closed_reason == "completed"


def test_never_paid_with_termination_on_is_terminated(story, timeline, invoke):
    patch_settings(invoke, timeline.clock, {"dunning": {"terminate": True}})
    for moment in (*STEPS, "2027-01-21T11:59:00Z"):
        timeline.at(moment)
    assert service_status(story.hosting) == "suspended"
    timeline.at("2027-01-21T12:00:01Z")
    timeline.at("2027-03-01T12:00:00Z")
    assert service_status(story.hosting) == "terminated" and story.panel() == ["suspend", "terminate"]
    assert story.emails() == [
        REMINDER,
        *(NOTICE.format(n=n) for n in (1, 2, 3)),
        SUSPENDED,
        TERMINATED,
    ]
    assert story.execution() == "SUCCEEDED"


def test_a_boleto_pending_then_settled(story, timeline):
    # Given a boleto issued the day after the reminder (the payment is pending)
    timeline.at("2026-12-20T10:00:00Z")
    invoices().mark_payment_pending(story.account, story.invoice_id, PaymentMethod.BOLETO, {"digitable_line": "x"})
    timeline.settle()
    # When the notice days pass while it is pending: no notice, a re-check each day
    timeline.at("2026-12-23T12:00:01Z")
    timeline.at("2026-12-24T12:00:02Z")
    assert record_of(story.invoice_id).pending_checks == 2
    assert story.api_invoice()["suspension_date"] is None  # paused while the payment is on its way
    # And then it settles
    timeline.at("2026-12-26T08:00:00Z")
    story.pay()
    timeline.at("2027-02-01T12:00:00Z")
    assert story.emails() == [REMINDER, PAID]
    assert story.panel() == [] and story.execution() == "ABORTED"


def test_a_pending_payment_that_fails_resumes_the_timeline(story, timeline):
    timeline.at("2026-12-22T10:00:00Z")
    invoices().mark_payment_pending(story.account, story.invoice_id, PaymentMethod.BOLETO, {"digitable_line": "x"})
    timeline.settle()
    timeline.at("2026-12-23T12:00:01Z")  # notice 1 is due: pending, re-checked daily
    timeline.at("2026-12-24T09:00:00Z")
    invoices().release_pending(story.account, story.invoice_id)  # the payment failed
    timeline.settle()
    # When the next daily re-check comes: the first notice goes out late, then the timeline as planned
    timeline.at("2026-12-24T12:00:02Z")
    assert story.emails()[-1] == NOTICE.format(n=1)
    timeline.at("2026-12-25T12:00:01Z")
    timeline.at("2026-12-29T12:00:01Z")
    assert service_status(story.hosting) == "suspended" and story.panel() == ["suspend"]
    assert story.emails() == [REMINDER, *(NOTICE.format(n=n) for n in (1, 2, 3)), SUSPENDED]


def test_a_payment_pending_through_every_recheck_alerts_staff_then_resumes_when_it_fails(timeline, invoke, monkeypatch):
    # Given (to keep the test short) executions that re-check a pending payment at most 2 times instead of 30
    monkeypatch.setattr(dunning_service, "MAX_PENDING_RECHECKS", 2)
    story = Story(timeline, invoke)
    timeline.at("2026-12-19T12:00:01Z")
    invoices().mark_payment_pending(story.account, story.invoice_id, PaymentMethod.BOLETO, {"digitable_line": "x"})
    timeline.settle()
    # When the payment stays pending through the first notice's check and two daily re-checks
    for moment in ("2026-12-23T12:00:01Z", "2026-12-24T12:00:02Z", "2026-12-25T12:00:03Z"):
        timeline.at(moment)
    # Then staff are alerted once, the execution fails visibly, the workflow halts
    assert story.execution() == "FAILED"
    history = timeline.sfn.get_execution_history(
        executionArn=timeline.machine.replace(":stateMachine:", ":execution:") + f":{story.invoice_id}-1"
    )["events"]
    assert history[-1]["executionFailedEventDetails"]["error"] == "Dunning.PaymentPendingTooLong"
    assert story.staff_emails() == [STAFF] and story.emails() == [REMINDER]
    assert record_of(story.invoice_id).closed_reason == "halted"
    # And the daily reconcile leaves it alone while the payment is pending
    assert timeline.run_job(invoke, "dunning_jobs", "reconcile_dunning")["unchanged"] >= 1
    # When the payment fails, dunning resumes as -2: the latest notice due, then the timeline
    timeline.at("2026-12-26T09:00:00Z")
    invoices().release_pending(story.account, story.invoice_id)
    timeline.settle()
    assert story.execution(2) == "RUNNING"
    timeline.at("2026-12-29T12:00:01Z")
    assert story.emails() == [REMINDER, NOTICE.format(n=2), NOTICE.format(n=3), SUSPENDED]
    assert story.panel() == ["suspend"]


def test_an_invoice_cancelled_mid_flow_stops_it(story, timeline, invoke):
    timeline.at("2026-12-23T12:00:01Z")
    # When staff cancel the invoice with a credit note for all of it
    response = invoke(
        "billing",
        api_event(
            "POST",
            f"/api/staff/invoices/{story.invoice_id}/credit-notes",
            resource="/api/staff/invoices/{invoice_id}/credit-notes",
            body={"reason": "Service cancelled by agreement"},
            claims=staff(timeline.clock, "staff_finance").claims,
        ),
    )
    assert response["statusCode"] == 201, response["body"]
    timeline.settle()
    timeline.at("2027-02-01T12:00:00Z")
    # Then nothing more is sent or suspended
    assert story.emails()[:3] == [REMINDER, NOTICE.format(n=1)]
    assert not any(s.startswith(("Overdue notice 2", "Service suspended")) for s in story.emails())
    assert story.panel() == [] and story.execution() == "ABORTED"
    assert record_of(story.invoice_id).closed_reason == "cancelled"


def test_a_payment_racing_the_suspension_ends_active(story, timeline, monkeypatch):
    # Given the payment lands while the suspension step runs, and the payments' invoice.paid consumer handles it
    # before the suspension is written: it finds the service active and lifts nothing
    real = dunning_composition.service_actions()
    raced: list[bool] = []

    class PaymentDuringSuspension:
        def suspend_for_overdue(self, invoice, actor="system:dunning"):
            if not raced:
                raced.append(True)
                story.pay(settle=False)
                assert payments().unsuspend_after_payment(story.account, story.invoice_id) == []
            return real.suspend_for_overdue(invoice, actor)

        def terminate_for_non_payment(self, invoice, actor="system:dunning"):
            return real.terminate_for_non_payment(invoice, actor)

        def unsuspend_after_payment(self, account_id, service_ids, actor="system:dunning"):
            return real.unsuspend_after_payment(account_id, service_ids, actor)

    monkeypatch.setattr(dunning_composition, "service_actions", PaymentDuringSuspension)
    # When the suspension day comes
    for moment in STEPS:
        timeline.at(moment)
    timeline.at("2027-02-01T12:00:00Z")
    # Then the service ends active (never left suspended), unsuspended once, and no suspension email was sent
    assert raced and service_status(story.hosting) == "active"
    calls = story.panel()  # the panel's account may never have been suspended; it is not left suspended
    assert not calls or calls[-1] == "unsuspend"
    assert not simulated_account(story.hosting.username).suspended
    assert outbox_types(story.account, "service.unsuspended") == ["service.unsuspended"]
    assert story.emails() == [REMINDER, *(NOTICE.format(n=n) for n in (1, 2, 3)), PAID, REACTIVATED]
    assert record_of(story.invoice_id).closed_reason == "paid"


def test_a_policy_change_applies_to_the_running_flow(story, timeline, invoke):
    timeline.at("2026-12-23T12:00:01Z")
    assert story.api_invoice()["suspension_date"] == "2026-12-29"
    # When staff record a promise to pay (no suspension before 2027-01-05) and move the third notice to day +9
    patch_settings(
        invoke,
        timeline.clock,
        {
            "dunning": {
                "overdue_notice_days": [1, 3, 9],
                "accounts": {story.account: {"no_suspension_before": "2027-01-05", "note": "promise to pay"}},
            }
        },
    )
    # Then from the next step on the running flow follows it
    timeline.at("2026-12-25T12:00:01Z")
    assert story.api_invoice()["suspension_date"] == "2027-01-05"
    timeline.at("2026-12-29T12:00:01Z")
    assert service_status(story.hosting) == "active" and story.emails()[-1] == NOTICE.format(n=2)
    timeline.at("2026-12-31T12:00:01Z")
    assert story.emails()[-1] == NOTICE.format(n=3) and service_status(story.hosting) == "active"
    timeline.at("2027-01-05T12:00:01Z")
    assert service_status(story.hosting) == "suspended" and story.emails()[-1] == SUSPENDED
    assert story.emails() == [REMINDER, *(NOTICE.format(n=n) for n in (1, 2, 3)), SUSPENDED]


def test_a_reversal_restarts_the_workflow_as_the_next_number(story, timeline):
    timeline.at("2026-12-19T12:00:01Z")
    story.pay()
    assert story.execution() == "ABORTED"
    # When the payment is charged back on 2026-12-30 (the invoice is unpaid again)
    timeline.at("2026-12-30T10:00:00Z")
    paid = story.current()
    reversed_ = paid.reverse(paid.payments[-1], timeline.clock.now())
    event = new_event(
        "invoice.payment_reversed",
        timeline.clock.now(),
        account_id=story.account,
        invoice_id=story.invoice_id,
    )
    invoice_store().commit(BillingChange(invoices=[InvoiceWrite(reversed_, paid)], events=[event]))
    timeline.settle()
    # Then {invoice_id}-2 runs: it sends the latest notice due and suspends at once
    assert story.execution(2) in ("RUNNING", "SUCCEEDED")
    assert story.current().dunning_execution == f"{story.invoice_id}-2"
    assert story.emails()[-2:] == [NOTICE.format(n=3), SUSPENDED]
    assert service_status(story.hosting) == "suspended"


def test_a_failing_step_alerts_staff_and_lands_in_the_dead_letter_queue(story, timeline, monkeypatch, invoke):
    class BrokenPanel:
        def suspend_for_overdue(self, invoice, actor="system:dunning"):
            raise RuntimeError("the panel exploded")

    monkeypatch.setattr(dunning_composition, "service_actions", BrokenPanel)
    for moment in STEPS:
        timeline.at(moment)
    # Then the execution failed, staff got one alert, the execution's state is in the DLQ
    assert story.execution() == "FAILED"
    assert story.staff_emails() == [STAFF]
    record = record_of(story.invoice_id)
    assert record.closed_reason == "failed"
    queue = boto3.client("sqs").get_queue_url(QueueName=timeline.dead_letter_queue)["QueueUrl"]
    [message] = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    state = json.loads(message["Body"])
    assert state["invoice_id"] == story.invoice_id and state["error"]["Error"] == "RuntimeError"
    # When the panel works again, the daily reconcile restarts it as -2 without repeating the notices
    monkeypatch.undo()
    counts = timeline.run_job(invoke, "dunning_jobs", "reconcile_dunning")
    assert counts["restarted"] == 1
    timeline.settle()
    assert service_status(story.hosting) == "suspended" and story.panel() == ["suspend"]
    assert story.emails().count(NOTICE.format(n=3)) == 1 and story.emails()[-1] == SUSPENDED


def test_duplicate_start_and_duplicate_task_delivery_change_nothing(story, timeline, invoke):
    name = f"{story.invoice_id}-1"
    # When the issue event is handled again, the reconcile job runs and the starter is called directly
    event = {
        "Records": [
            {
                "messageId": "dup-1",
                "receiptHandle": "x",
                "body": json.dumps(
                    {
                        "detail": new_event(
                            "invoice.issued",
                            timeline.clock.now(),
                            account_id=story.account,
                            invoice_id=story.invoice_id,
                        ).to_json()
                    }
                ),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q",
                "awsRegion": "eu-west-1",
            }
        ]
    }
    for _ in range(2):
        assert invoke("dunning_jobs", event) == {"batchItemFailures": []}
    assert timeline.run_job(invoke, "dunning_jobs", "reconcile_dunning")["running"] == 1
    assert timeline.executions_named(story.invoice_id) == [name]
    # And each step's task is delivered twice (the state machine delivered it once already)
    for moment in STEPS:
        timeline.at(moment)
    task = {"account_id": story.account, "invoice_id": story.invoice_id, "execution": name}
    for step in ("reminder", "notice_1", "notice_3"):
        assert invoke("dunning", {**task, "task": "notify", "step": step}) == {"done": False}
    assert invoke("dunning", {**task, "task": "suspend"}) == {"done": False}
    timeline.settle()
    # Then every email and the suspension happened once
    assert story.emails() == [REMINDER, *(NOTICE.format(n=n) for n in (1, 2, 3)), SUSPENDED]
    assert story.panel() == ["suspend"]


def test_orders_get_one_reminder_from_the_reconcile_job(timeline, invoke):
    # Given an unpaid add-funds invoice (due in 7 days): no workflow
    account = given_account("owner", email=OWNER, language="en")
    from balcao.domain.money import Money

    funds = invoices().add_funds(account, Money.of(5000, "BRL"))
    timeline.settle()
    assert timeline.executions_named(funds.invoice_id) == []
    # When the reconcile job runs before and on the reminder day (3 days before its due date), and again
    assert timeline.run_job(invoke, "dunning_jobs", "reconcile_dunning")["reminded"] == 0
    timeline.at("2026-11-26T12:00:01Z")
    assert timeline.run_job(invoke, "dunning_jobs", "reconcile_dunning")["reminded"] == 1
    assert timeline.run_job(invoke, "dunning_jobs", "reconcile_dunning")["reminded"] == 0
    # Then one reminder was sent
    reminders = [m for m in mail.sent_messages(to=OWNER) if m["subject"].startswith("Reminder:")]
    assert len(reminders) == 1


def test_an_unannounced_unpaid_invoice_gets_its_workflow_from_the_reconcile_job(timeline, invoke):
    # Given a renewal issued without events (as the demo seed does)
    account = given_account("owner", email=OWNER, language="en")
    service = replace(invoices(), announce=False)
    buyer = invoice_store().buyer(account)
    from balcao.domain.invoices import InvoiceLine
    from balcao.domain.money import Money

    line = InvoiceLine("Hospedagem", 1, Money.of(4990, "BRL"), "hosting")
    invoice = service.issue_new(service.draft_for(account, InvoiceKind.MANUAL, [line], buyer, DUE), buyer=buyer)
    timeline.settle()
    assert timeline.executions_named(invoice.invoice_id) == []
    # When the reconcile job runs
    assert timeline.run_job(invoke, "dunning_jobs", "reconcile_dunning")["started"] == 1
    # Then it has its execution
    assert timeline.executions_named(invoice.invoice_id) == [f"{invoice.invoice_id}-1"]


def test_the_portals_invoice_page_says_when_the_services_will_be_suspended(timeline, invoke):
    # Given a signed-in owner whose renewal invoice (due 2026-12-06) started its workflow
    from support.dunning import given_renewal
    from support.portal import Visitor, login_user, text, unique

    email = unique("ana")
    account = given_account(login_user(email, "Ana Souza"), email=email, language="en")
    owner = Visitor(invoke)
    owner.sign_in(email)
    owner.cookies["balcao_account"] = account
    invoice = given_renewal(account, date(2026, 12, 6))
    timeline.settle()
    # Then the invoice page warns of the suspension day (2026-12-13, day +7)
    page = text(owner.get(f"/invoices/{invoice.invoice_id}"))
    assert "If this invoice is not paid, its services will be suspended on Dec 13, 2026." in page
    # And once a payment is on its way, it no longer does
    invoices().mark_payment_pending(account, invoice.invoice_id, PaymentMethod.BOLETO, {"digitable_line": "x"})
    assert "will be suspended" not in text(owner.get(f"/invoices/{invoice.invoice_id}"))
