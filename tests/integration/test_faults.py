"""Faults at the seams — SES, the control panel (WHM), DynamoDB, EventBridge, a consumer and the renewal job crashing
mid-batch — and each time: nothing lost, nothing doubled.

AWS faults are botocore event hooks (``support.faults``): a call answered with an AWS error before it reaches moto,
or a call that happened and lost its answer. WHM faults are a fake panel behind the adapter's transport port.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import (
    AccountItem,
    ContactItem,
    EmailLogItem,
    InvoiceItem,
    OutboxItem,
    PaymentItem,
    RenewalCoverageItem,
    SequenceItem,
)
from balcao.adapters.dynamodb.transaction import Transaction
from balcao.domain.events import new_event
from balcao.runtime.queues import QueueMessage
from devstack import mail
from devstack.template import load_function_module
from support.billing import given_service
from support.events import api_event, json_body
from support.faults import FaultInjected, Faults
from support.identity import given_account, given_session, given_staff
from support.pipeline import Pipeline

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ACCOUNT = "01FAULTACCOUNT"
THROTTLED = "ProvisionedThroughputExceededException"


@pytest.fixture
def faults():
    with Faults() as active:
        yield active


def queue_depth(aws, logical_id: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=aws.ref(logical_id),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


# --- SES ---------------------------------------------------------------------------------------------------------------
def given_an_account_with_a_contact() -> None:
    AccountItem(
        pk=keys.account_pk(ACCOUNT),
        sk=keys.PROFILE,
        account_id=ACCOUNT,
        name="Loja da Ana",
        language="pt-BR",
        currency="BRL",
        notice_email="owner@example.com",
        owner_user_id="user-1",
        status="active",
        created_at=NOW,
    ).save()
    ContactItem(
        pk=keys.account_pk(ACCOUNT),
        sk=keys.contact_sk("C1"),
        contact_id="C1",
        account_id=ACCOUNT,
        name="Contato",
        email="contact@example.net",
        departments=["general"],
        created_at=NOW,
    ).save()


def emit(event_type: str, **data) -> str:
    event = new_event(event_type, NOW, account_id=ACCOUNT, **data)
    transaction = Transaction()
    transaction.emit(event)
    transaction.commit()
    return event.event_id


def fresh_mailer(monkeypatch) -> None:
    """A new SES client for the notifications function, made after the fault hooks were installed."""
    monkeypatch.setattr(load_function_module("notifications"), "_mailer", None)


def to(address: str):
    return lambda params: address in json.dumps(params.get("Destination", {}))


def sent_to(address: str) -> int:
    return len(mail.sent_messages(to=address))


def logged(address: str) -> list[EmailLogItem]:
    items = EmailLogItem.query(keys.account_pk(ACCOUNT), EmailLogItem.sk.startswith(keys.EMAIL_PREFIX))
    return [i for i in items if i.recipient == address]


def test_ses_throttling_one_recipient_is_retried_and_nobody_gets_two(aws, invoke, faults, monkeypatch):
    # Given SES throttling every send to the contact three times (the owner's first send goes through)
    fresh_mailer(monkeypatch)
    given_an_account_with_a_contact()
    throttled = faults.fail(
        "sesv2", "SendEmail", "TooManyRequestsException", calls={1, 2, 3}, when=to("contact@example.net")
    )
    # When a notice goes out and the queue redelivers what failed
    emit("identity.welcome", name="Ana", login_email="ana@example.com")
    Pipeline(aws, invoke).run(rounds=30)
    # Then each recipient got it exactly once, each logged once, and nothing is left in the queues
    assert throttled.hits == 3
    assert (sent_to("owner@example.com"), sent_to("contact@example.net")) == (1, 1)
    assert len(logged("owner@example.com")) == len(logged("contact@example.net")) == 1
    assert queue_depth(aws, "NotificationsQueue") == queue_depth(aws, "NotificationsDeadLetterQueue") == 0


def test_ses_refusing_until_the_dead_letter_queue_loses_nothing_once_redriven(aws, invoke, faults, monkeypatch):
    # Given SES refusing every send to the contact (the owner's goes through)
    fresh_mailer(monkeypatch)
    given_an_account_with_a_contact()
    refused = faults.fail("sesv2", "SendEmail", "TooManyRequestsException", when=to("contact@example.net"))
    emit("identity.welcome", name="Ana", login_email="ana@example.com")
    # When the queue has delivered the message maxReceiveCount times
    Pipeline(aws, invoke).run(rounds=40)
    # Then the message waits in the dead-letter queue (its alarm fires), the owner's email went once, none to contact
    assert refused.hits == 8  # the queue's maxReceiveCount
    assert queue_depth(aws, "NotificationsDeadLetterQueue") == 1 and queue_depth(aws, "NotificationsQueue") == 0
    assert (sent_to("owner@example.com"), sent_to("contact@example.net")) == (1, 0)
    # When SES recovers and the operator redrives the dead-letter queue
    faults.rules.clear()
    sqs = boto3.client("sqs")
    for message in sqs.receive_message(QueueUrl=aws.ref("NotificationsDeadLetterQueue"), MaxNumberOfMessages=10)[
        "Messages"
    ]:
        sqs.send_message(QueueUrl=aws.ref("NotificationsQueue"), MessageBody=message["Body"])
        sqs.delete_message(QueueUrl=aws.ref("NotificationsDeadLetterQueue"), ReceiptHandle=message["ReceiptHandle"])
    Pipeline(aws, invoke).run()
    # Then the contact gets it once and the owner does not get it again
    assert (sent_to("owner@example.com"), sent_to("contact@example.net")) == (1, 1)
    assert len(logged("contact@example.net")) == 1


def test_an_ses_answer_lost_after_sending_is_not_recorded_twice(aws, invoke, faults, monkeypatch):
    # Given SES accepting the owner's email but its answer lost (a timeout after the send)
    fresh_mailer(monkeypatch)
    given_an_account_with_a_contact()
    lost = faults.lose_answer("sesv2", "SendEmail", calls={1}, when=to("owner@example.com"))
    # When the notice goes out and the failed message is redelivered
    emit("identity.welcome", name="Ana", login_email="ana@example.com")
    Pipeline(aws, invoke).run(rounds=30)
    # Then the owner may have got it twice (SES cannot be asked), but each is logged once and the contact once
    assert lost.hits == 1
    assert sent_to("contact@example.net") == 1 and 1 <= sent_to("owner@example.com") <= 2
    assert len(logged("owner@example.com")) == len(logged("contact@example.net")) == 1


# --- the control panel (WHM) behind the Provisioner port ----------------------------------------------------------------
class FakeWhm:
    """A WHM API 1 server in memory, behind the adapter's transport port; ``faults`` scripts the next answers:
    ``"timeout-after"`` applies the call and loses its answer, ``"timeout"`` and ``503`` never reach the panel."""

    def __init__(self, *faults: Any) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.faults = list(faults)
        self.applied: list[str] = []

    def request(self, method: str, url: str, headers: Any, timeout: float) -> tuple[int, bytes]:
        function = urlsplit(url).path.rsplit("/", 1)[-1]
        parameters = dict(parse_qsl(urlsplit(url).query))
        fault = self.faults.pop(0) if self.faults else None
        if fault == "timeout":
            raise TimeoutError("WHM did not answer in time")
        if isinstance(fault, int):
            return fault, b"<html>Service Unavailable</html>"
        answer = self._apply(function, parameters)
        if fault == "timeout-after":
            raise TimeoutError("WHM did not answer in time")
        return 200, json.dumps(answer).encode()

    def _apply(self, function: str, parameters: dict[str, str]) -> dict[str, Any]:
        user = parameters.get("user") or parameters.get("username", "")
        account = self.accounts.get(user)
        if function == "accountsummary":
            if account is None:
                return {"metadata": {"result": 0, "reason": "Account does not exist."}}
            return {"metadata": {"result": 1}, "data": {"acct": [account]}}
        if function == "createacct":
            if account is not None:
                return {"metadata": {"result": 0, "reason": f"This system already has an account named “{user}”."}}
            self.accounts[user] = {"user": user, "domain": parameters["domain"], "suspended": 0, "ip": "203.0.113.7"}
        elif function in ("suspendacct", "unsuspendacct"):
            wanted = 1 if function == "suspendacct" else 0
            if account is None or account["suspended"] == wanted:
                return {"metadata": {"result": 0, "reason": "Failed to change the account."}}
            account["suspended"] = wanted
        self.applied.append(function)
        return {"metadata": {"result": 1}, "data": {"ip": "203.0.113.7"}}


def whm(panel: FakeWhm):
    from balcao.adapters.provisioning.whm import WhmProvisioner

    slept: list[float] = []
    return WhmProvisioner("https://whm.example.net:2087", "TOKEN", transport=panel, sleep=slept.append), slept


def request(username: str = "padaria1"):
    from balcao.domain.provisioning import ProvisioningRequest

    return ProvisioningRequest(username, "padaria.com.br", "basico", "c@padaria.com.br", "Pao-de-Queijo#2025!")


def test_whm_creating_an_account_whose_answer_timed_out_creates_it_once():
    # Given a panel that creates the account but whose answer never arrives, then a 503
    panel = FakeWhm("timeout-after", 503)
    provisioner, slept = whm(panel)
    # When the service is provisioned (the adapter retries)
    created = provisioner.create(request())
    # Then one account exists, created once, and the retry recognised it (same domain)
    assert created.username == "padaria1" and created.ip == "203.0.113.7"
    assert panel.applied == ["createacct"] and list(panel.accounts) == ["padaria1"]
    assert len(slept) == 2  # backed off twice, without sleeping in the test


def test_whm_suspending_through_timeouts_and_5xx_suspends_once_and_gives_up_retryably():
    from balcao.domain.provisioning import ProvisioningError

    panel = FakeWhm()
    provisioner, _ = whm(panel)
    provisioner.create(request())
    # Given 5xx, then a suspension applied with its answer lost
    panel.faults = [502, "timeout-after"]
    # When suspending: the adapter retries; the panel refuses (already suspended) and the adapter reads its state
    provisioner.suspend("padaria1", "overdue")
    assert panel.accounts["padaria1"]["suspended"] == 1 and panel.applied.count("suspendacct") == 1
    # And when the panel stays down beyond the retries, the error is retryable and nothing changed
    panel.faults = ["timeout", 503, "timeout"]
    with pytest.raises(ProvisioningError) as failure:
        provisioner.unsuspend("padaria1")
    assert failure.value.retryable and panel.accounts["padaria1"]["suspended"] == 1
    # And the next attempt (the queue's redelivery) unsuspends once
    provisioner.unsuspend("padaria1")
    assert panel.applied.count("unsuspendacct") == 1 and panel.accounts["padaria1"]["suspended"] == 0


# --- DynamoDB: invoice issue and payment settlement ---------------------------------------------------------------------
@pytest.fixture
def billing(aws):
    owner = given_session("owner-f", "f@example.com")
    return {"account": given_account(owner.user_id, email=owner.email), "staff": given_staff("staff_finance")}


def staff(invoke, billing, method: str, path: str, resource: str, body: Any = None, headers=None):
    return invoke(
        "billing",
        api_event(method, path, resource=resource, body=body, claims=billing["staff"].claims, headers=headers),
    )


def draft(invoke, billing) -> str:
    body = {
        "account_id": billing["account"],
        "issue": False,
        "lines": [{"description": "Hospedagem Profissional", "unit_price": {"amount": 4990, "currency": "BRL"}}],
    }
    response = staff(invoke, billing, "POST", "/api/staff/invoices", "/api/staff/invoices", body)
    assert response["statusCode"] == 201, response["body"]
    return str(json_body(response)["invoice_id"])


def issue(invoke, billing, invoice_id: str):
    return staff(
        invoke, billing, "POST", f"/api/staff/invoices/{invoice_id}/issue", "/api/staff/invoices/{invoice_id}/issue"
    )


def outbox(account_id: str, event_type: str) -> list[dict[str, Any]]:
    items = OutboxItem.query(keys.account_pk(account_id), OutboxItem.sk.startswith("OUTBOX#"))
    return [i.event for i in items if i.event["type"] == event_type]


def sequence_last() -> int:
    try:
        return int(SequenceItem.get(keys.sequence_pk("INV-2026-{number:06d}"), keys.SEQUENCE).last)
    except SequenceItem.DoesNotExist:
        return 0


@pytest.mark.parametrize(
    ("code", "extra", "status"),
    [
        (THROTTLED, {}, 500),
        ("TransactionCanceledException", Faults.transaction_canceled(["TransactionConflict"] * 6), 409),
    ],
    ids=["throttled", "transaction-conflict"],
)
def test_an_invoice_issue_refused_by_dynamodb_changes_nothing_and_the_retry_numbers_it_once(
    aws, invoke, faults, billing, code, extra, status
):
    # Given a draft, and DynamoDB refusing the issuing transaction once
    invoice_id = draft(invoke, billing)
    refused = faults.fail("dynamodb", "TransactWriteItems", code, calls={1}, extra=extra)
    # When staff issue it: the request fails in the error shape, and nothing changed
    failed = issue(invoke, billing, invoice_id)
    assert refused.hits == 1 and failed["statusCode"] == status
    assert json_body(failed)["error"]["code"] in ("internal_error", "conflict")
    stored = InvoiceItem.get(keys.account_pk(billing["account"]), keys.invoice_sk(invoice_id))
    assert stored.status == "draft" and stored.number is None and sequence_last() == 0
    assert outbox(billing["account"], "invoice.issued") == []
    # When staff retry, and retry again
    first, again = issue(invoke, billing, invoice_id), issue(invoke, billing, invoice_id)
    # Then it is issued once, with the first number, announced once; the repeat is refused
    assert first["statusCode"] == 200, first["body"]
    assert json_body(first)["number"] == "INV-2026-000001" and sequence_last() == 1
    assert again["statusCode"] == 409
    assert len(outbox(billing["account"], "invoice.issued")) == 1


def payments_of(account_id: str) -> list[PaymentItem]:
    return list(PaymentItem.query(keys.account_pk(account_id), PaymentItem.sk.startswith("PAYMENT#")))


def issued_invoice(invoke, billing) -> str:
    invoice_id = draft(invoke, billing)
    assert issue(invoke, billing, invoice_id)["statusCode"] == 200
    return invoice_id


def test_a_staff_payment_throttled_then_retried_with_its_idempotency_key_is_recorded_once(aws, invoke, faults, billing):
    # Given an issued invoice and DynamoDB throttling the settlement transaction once
    invoice_id = issued_invoice(invoke, billing)
    throttled = faults.fail("dynamodb", "TransactWriteItems", THROTTLED, calls={1})
    headers = {"Idempotency-Key": "pay-once-8f2c"}
    body = {"amount": {"amount": 4990, "currency": "BRL"}}
    path, resource = f"/api/staff/invoices/{invoice_id}/payments", "/api/staff/invoices/{invoice_id}/payments"
    # When staff record the payment, and retry the same request twice
    answers = [staff(invoke, billing, "POST", path, resource, body, headers) for _ in range(3)]
    # Then the first failed without a trace, the retry recorded it, the third got the same answer
    assert throttled.hits == 1 and [a["statusCode"] for a in answers] == [500, 201, 201]
    assert json_body(answers[1]) == json_body(answers[2])
    assert len(payments_of(billing["account"])) == 1
    assert InvoiceItem.get(keys.account_pk(billing["account"]), keys.invoice_sk(invoice_id)).status == "paid"
    assert len(outbox(billing["account"], "invoice.paid")) == 1


def test_a_settlement_whose_answer_was_lost_is_not_applied_twice(aws, faults, billing, invoke):
    # Given an issued invoice and a provider payment whose settlement commits but loses its answer
    from balcao.domain.money import Money
    from balcao.runtime.invoices_composition import invoices

    invoice_id = issued_invoice(invoke, billing)
    lost = faults.lose_answer("dynamodb", "TransactWriteItems", calls={1})
    with pytest.raises(FaultInjected):
        invoices().settle_payment(billing["account"], invoice_id, Money.of(4990, "BRL"), "stripe", "pi_lost_answer")
    # When the provider delivers it again
    again = invoices().settle_payment(billing["account"], invoice_id, Money.of(4990, "BRL"), "stripe", "pi_lost_answer")
    # Then the payment exists once, the invoice is paid once, announced once
    assert lost.hits == 1 and again.duplicate
    assert len(payments_of(billing["account"])) == 1
    assert len(outbox(billing["account"], "invoice.paid")) == 1


# --- EventBridge: the outbox publisher ----------------------------------------------------------------------------------
def fresh_publisher(monkeypatch) -> Any:
    module = load_function_module("outbox_publisher")
    monkeypatch.setattr(module, "_publisher", None)
    return module


def test_the_bus_throttling_put_events_delays_the_emails_and_never_doubles_them(aws, invoke, faults, monkeypatch):
    # Given the bus refusing the first PutEvents call
    fresh_publisher(monkeypatch)
    fresh_mailer(monkeypatch)
    given_an_account_with_a_contact()
    refused = faults.fail("events", "PutEvents", "ThrottlingException", calls={1})
    # When two notices are written to the outbox and the stream is processed
    emit("identity.welcome", name="Ana", login_email="ana@example.com")
    emit("identity.welcome", name="Bia", login_email="bia@example.com")
    Pipeline(aws, invoke).run()
    # Then the stream batch was retried and each recipient got each notice once
    assert refused.hits == 1
    assert sent_to("owner@example.com") == 2 and sent_to("contact@example.net") == 2


def test_an_event_the_bus_did_not_accept_is_published_again_and_delivered_once(aws, invoke, monkeypatch):
    # Given a bus that accepts every event of the batch except the first attempt at the second one (port seam)
    module = fresh_publisher(monkeypatch)
    fresh_mailer(monkeypatch)
    given_an_account_with_a_contact()
    first = emit("identity.welcome", name="Ana", login_email="ana@example.com")
    second = emit("identity.welcome", name="Bia", login_email="bia@example.com")
    third = emit("identity.welcome", name="Caio", login_email="caio@example.com")
    real = module.publisher()
    refused: list[str] = []

    class PartlyFailing:
        def publish(self, events):
            accepted = [e for e in events if e.event_id != second or refused]
            failed = [e.event_id for e in events if e not in accepted]
            refused.extend(failed)
            return real.publish(accepted) + failed

    monkeypatch.setattr(module, "_publisher", PartlyFailing())
    # When the stream is processed (the batch is retried from the refused record: the third is published twice)
    Pipeline(aws, invoke).run()
    # Then every notice reached every recipient exactly once
    assert refused == [second]
    assert sent_to("owner@example.com") == 3 and sent_to("contact@example.net") == 3
    assert {i.event_id for i in logged("owner@example.com")} == {first, second, third}


# --- a consumer crashing mid-batch ---------------------------------------------------------------------------------------
def sqs_record(aws, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": event_id,
        "receiptHandle": "r",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": aws.attribute("NotificationsQueue", "Arn"),
        "awsRegion": "eu-west-1",
    }


def test_a_record_failing_mid_batch_is_the_only_one_retried(aws, invoke, monkeypatch):
    # Given three notices in one batch, the second one's rendering failing once
    fresh_mailer(monkeypatch)
    given_an_account_with_a_contact()
    events = [
        new_event("identity.welcome", NOW, account_id=ACCOUNT, name=n, login_email="x@example.com")
        for n in ("Ana", "Bia", "Caio")
    ]
    batch = {"Records": [sqs_record(aws, e.event_id, {"detail": e.to_json()}) for e in events]}
    module = load_function_module("notifications")
    render, failures = module.renderer.render, []

    def failing_once(template, language, context):
        if context.get("data", {}).get("name") == "Bia" and not failures:
            failures.append("Bia")
            raise RuntimeError("template engine crashed")
        return render(template, language, context)

    monkeypatch.setattr(module.renderer, "render", failing_once)
    # When the batch is handled: only the second record is reported back
    answer = invoke("notifications", batch)
    assert answer == {"batchItemFailures": [{"itemIdentifier": events[1].event_id}]}
    # And when the whole batch comes again (a redelivery), and then only the failed one
    invoke("notifications", batch)
    invoke("notifications", {"Records": [batch["Records"][1]]})
    # Then each notice reached each recipient once
    assert sent_to("owner@example.com") == 3 and sent_to("contact@example.net") == 3


def test_an_invocation_crashing_after_the_first_record_redelivers_the_batch_without_doubles(aws, invoke, monkeypatch):
    # Given a consumer that dies (timeout, out of memory) after handling the first record of a batch
    fresh_mailer(monkeypatch)
    given_an_account_with_a_contact()
    for name in ("Ana", "Bia", "Caio"):
        emit("identity.welcome", name=name, login_email="x@example.com")
    module = load_function_module("notifications")
    original, crashes = module.lambda_handler, []

    def crashing(event, context):
        if not crashes and len(event["Records"]) > 1:
            crashes.append(len(event["Records"]))
            module.handle_record(QueueMessage.of(event["Records"][0]))
            raise MemoryError("the container died mid-batch")
        return original(event, context)

    monkeypatch.setattr(module, "lambda_handler", crashing)
    # When the pipeline runs: the whole batch returns to the queue and is delivered again
    Pipeline(aws, invoke).run(rounds=30)
    # Then the crash happened mid-batch, and still each notice reached each recipient once
    assert crashes == [3]
    assert sent_to("owner@example.com") == 3 and sent_to("contact@example.net") == 3
    assert queue_depth(aws, "NotificationsQueue") == queue_depth(aws, "NotificationsDeadLetterQueue") == 0


# --- the renewal job: DynamoDB refusing and the job dying in the middle of a day's batch -------------------------------
class ContainerDied(BaseException):
    """A Lambda timeout or out-of-memory as the code sees it: nothing it can catch as an ``Exception``."""


def run_renewals(invoke) -> dict[str, int]:
    counts: dict[str, int] = invoke("billing_jobs", {"job": "renewals"})["counts"]
    return counts


def renewed_services(account_id: str) -> list[str]:
    items = InvoiceItem.query(keys.account_pk(account_id), InvoiceItem.sk.startswith(keys.INVOICE_PREFIX))
    return sorted(line["service_id"] for item in items if item.kind == "renewal" for line in item.lines)


def test_a_renewal_run_through_throttling_and_a_lost_answer_issues_each_period_once(aws, invoke, faults):
    # Given six services due the same day, DynamoDB throttling the second renewal's transaction and losing the
    # answer of the fourth (it committed)
    account = given_account("owner-r")
    services = sorted(given_service(account, date(2026, 12, 2)) for _ in range(6))
    throttled = faults.fail("dynamodb", "TransactWriteItems", THROTTLED, calls={2})
    lost = faults.lose_answer("dynamodb", "TransactWriteItems", calls={4})
    # When the run goes: both count as failed and the day stays uncovered
    first = run_renewals(invoke)
    assert throttled.hits == lost.hits == 1
    assert (first["issued"], first["failed"]) == (4, 2)
    assert RenewalCoverageItem.get(keys.renewal_coverage_pk(), keys.COVERAGE).covered == {"14": "2026-12-01"}
    # When the next run goes
    faults.rules.clear()
    again = run_renewals(invoke)
    # Then the throttled one is issued, the committed one recognised, and each period is invoiced and numbered once
    assert (again["issued"], again["already"], again["failed"]) == (1, 5, 0)
    assert renewed_services(account) == services
    assert sequence_last() == 6
    assert len(outbox(account, "invoice.issued")) == 6


def test_a_renewal_run_dying_mid_batch_is_finished_by_the_next_run_without_doubles(aws, invoke, monkeypatch):
    # Given five services due the same day, and the job's container dying after the second renewal committed
    from balcao.services.invoices import Invoices

    account = given_account("owner-r")
    services = sorted(given_service(account, date(2026, 12, 2)) for _ in range(5))
    original, committed, died = Invoices.issue_new, [], []

    def dying_after_two(self, draft, **options):
        if len(committed) == 2 and not died:
            died.append(draft.lines[0].service_id)
            raise ContainerDied("the job ran out of time")
        invoice = original(self, draft, **options)
        committed.append(invoice.invoice_id)
        return invoice

    monkeypatch.setattr(Invoices, "issue_new", dying_after_two)
    # When the run goes and dies: nothing recorded the day as covered
    with pytest.raises(ContainerDied):
        run_renewals(invoke)
    assert len(committed) == 2 and len(renewed_services(account)) == 2
    with pytest.raises(RenewalCoverageItem.DoesNotExist):
        RenewalCoverageItem.get(keys.renewal_coverage_pk(), keys.COVERAGE)
    # When the next scheduled run goes
    again = run_renewals(invoke)
    # Then it issues the three left, recognises the two done, and every period is invoiced and numbered once
    assert (again["issued"], again["already"], again["failed"]) == (3, 2, 0)
    assert renewed_services(account) == services
    assert sequence_last() == 5
    assert len(outbox(account, "invoice.issued")) == 5
