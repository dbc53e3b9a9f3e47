"""The email pipeline: outbox → bus → queue → notifications, recipients by department, exactly one email per
recipient under redelivery and SES failures, masked bodies in the email log, SES feedback."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import AccountItem, ContactItem, EmailLogItem, LookupItem
from balcao.adapters.dynamodb.transaction import Transaction
from balcao.domain.events import new_event
from devstack import mail
from support.pipeline import Pipeline

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def given_an_account(account_id: str = "01ACCOUNT", language: str = "pt-BR") -> None:
    AccountItem(
        pk=keys.account_pk(account_id),
        sk=keys.PROFILE,
        account_id=account_id,
        name="Loja da Ana",
        language=language,
        currency="BRL",
        notice_email="owner@example.com",
        owner_user_id="user-1",
        status="active",
        created_at=NOW,
    ).save()
    for contact_id, email, departments in (
        ("C1", "billing@example.com", ["billing"]),
        ("C2", "all@example.net", ["general", "billing", "support", "services", "domains"]),
        ("C3", "tech@example.org", ["support", "services"]),
    ):
        ContactItem(
            pk=keys.account_pk(account_id),
            sk=keys.contact_sk(contact_id),
            contact_id=contact_id,
            account_id=account_id,
            name=contact_id,
            email=email,
            departments=departments,
            created_at=NOW,
            language="es" if contact_id == "C2" else None,
        ).save()


def emit(event_type: str, account_id: str | None = "01ACCOUNT", **data) -> str:
    event = new_event(event_type, NOW, account_id=account_id, **data)
    transaction = Transaction()
    transaction.emit(event)
    transaction.commit()
    return event.event_id


def logged(account_id: str = "01ACCOUNT") -> list[EmailLogItem]:
    return list(EmailLogItem.query(keys.account_pk(account_id), EmailLogItem.sk.startswith(keys.EMAIL_PREFIX)))


def test_an_account_notice_reaches_the_owner_and_the_subscribed_contacts_each_logged(aws, invoke):
    # Given an account with two contacts subscribed to "general" mail… (C2 subscribes to all; C1 and C3 not)
    given_an_account()
    # When a general notice is emitted and the pipeline runs
    emit("identity.welcome", name="Ana", login_email="ana@example.com")
    Pipeline(aws, invoke).run()
    # Then the owner and the subscribed contact get it, each in their language, and each is logged
    assert {r for m in mail.sent_messages() for r in m["to"]} == {"owner@example.com", "all@example.net"}
    [spanish] = mail.sent_messages(to="all@example.net")
    assert spanish["language"] == "es" and spanish["subject"] == "Acceso a tu área de cliente de Balcão Hosting"
    assert {item.recipient for item in logged()} == {"owner@example.com", "all@example.net"}
    assert all(item.status == "sent" and item.department == "general" for item in logged())


def test_department_routing_picks_exactly_the_subscribed_contacts(aws, invoke):
    given_an_account()
    from balcao.domain.accounts import Department
    from balcao.services.notifications import EMAILS, Audience, EmailSpec

    EMAILS["test.billing_notice"] = EmailSpec("welcome", Audience.ACCOUNT, Department.BILLING)
    try:
        emit("test.billing_notice", name="Ana", login_email="ana@example.com")
        Pipeline(aws, invoke).run()
    finally:
        del EMAILS["test.billing_notice"]
    assert sorted(r for m in mail.sent_messages() for r in m["to"]) == [
        "all@example.net",
        "billing@example.com",
        "owner@example.com",
    ]


def test_security_mail_goes_to_the_user_alone_and_never_into_the_account_log(aws, invoke):
    given_an_account()
    emit("identity.signup_code", to="nova@example.es", language="es", name="Nuria", code="482913")
    Pipeline(aws, invoke).run()
    [received] = mail.sent_messages()
    assert received["to"] == ["nova@example.es"]
    assert 'lang="es"' in received["html"] and "482913" in received["text"] and received["text"] and received["html"]
    assert logged() == []


def test_a_message_delivered_three_times_sends_one_email(aws, invoke):
    given_an_account()
    event_id = emit("identity.welcome", name="Ana", login_email="ana@example.com")
    Pipeline(aws, invoke).run()
    sent = len(mail.sent_messages())
    envelope = {
        "detail": new_event("identity.welcome", NOW, account_id="01ACCOUNT").to_json()
        | {"event_id": event_id, "data": {"name": "Ana", "login_email": "ana@example.com"}}
    }
    for _ in range(3):
        record = {
            "messageId": "m1",
            "receiptHandle": "r",
            "body": json.dumps(envelope),
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": aws.attribute("NotificationsQueue", "Arn"),
            "awsRegion": "eu-west-1",
        }
        assert invoke("notifications", {"Records": [record]}) == {"batchItemFailures": []}
    assert len(mail.sent_messages()) == sent == 2


class HalfFailingMailer:
    """SES refusing every other attempt (a fault injected at the Mailer port)."""

    def __init__(self, real) -> None:
        self.real, self.attempts = real, 0

    def send(self, message):
        self.attempts += 1
        if self.attempts % 2:
            raise RuntimeError("Throttling: Maximum sending rate exceeded")
        return self.real.send(message)


def test_ses_failing_half_the_attempts_still_sends_every_email_once(aws, invoke, monkeypatch):
    # Given SES failing every other attempt
    from devstack.template import load_function_module

    module = load_function_module("notifications")
    flaky = HalfFailingMailer(module.mailer())
    monkeypatch.setattr(module, "_mailer", flaky)
    given_an_account()
    # When five notices go out through the queue (failed messages come back and are retried)
    for n in range(5):
        emit("identity.welcome", name=f"Ana {n}", login_email="ana@example.com")
    Pipeline(aws, invoke).run(rounds=60)
    # Then each recipient got each notice exactly once
    subjects = [(m["to"][0], m["text"].split("\n")[0]) for m in mail.sent_messages()]
    assert len(subjects) == 10 and len(set(subjects)) == 10
    assert flaky.attempts > 10


def test_stored_bodies_mask_codes_tokens_and_links(aws, invoke):
    given_an_account()
    from balcao.services.notifications import EMAILS, Audience, EmailSpec

    EMAILS["test.with_secret"] = EmailSpec("signup_code", Audience.ACCOUNT, sensitive=frozenset({"code"}))
    try:
        emit("test.with_secret", name="Ana", code="918273")
        Pipeline(aws, invoke).run()
    finally:
        del EMAILS["test.with_secret"]
    assert any("918273" in m["text"] for m in mail.sent_messages())
    for item in logged():
        assert "918273" not in item.body_text and "918273" not in item.body_html and "••••" in item.body_text


@pytest.mark.parametrize(
    ("kind", "bounce_type", "status", "suppressed"),
    [
        ("delivery", None, "delivered", False),
        ("bounce", "Permanent", "bounced", True),
        ("bounce", "Transient", "bounced", False),
        ("complaint", None, "complained", True),
    ],
)
def test_ses_feedback_updates_the_log_and_suppresses_hard_bounces(aws, invoke, kind, bounce_type, status, suppressed):
    given_an_account()
    emit("identity.welcome", name="Ana", login_email="ana@example.com")
    Pipeline(aws, invoke).run()
    [to_contact] = [m for m in mail.sent_messages() if m["to"] == ["all@example.net"]]
    detail_type, detail = mail.ses_feedback_event(
        to_contact["id"], kind, ["all@example.net"], bounce_type=bounce_type or "Permanent"
    )
    boto3.client("events").put_events(
        Entries=[
            {"Source": "aws.ses", "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": "default"}
        ]
    )
    Pipeline(aws, invoke).run()
    [entry] = [i for i in logged() if i.recipient == "all@example.net"]
    assert entry.status == status
    assert (LookupItem.count(keys.suppression_pk("all@example.net")) == 1) is suppressed
    assert ContactItem.get(keys.account_pk("01ACCOUNT"), keys.contact_sk("C2")).bounced is suppressed
    if suppressed:  # the next notice skips the address
        emit("identity.welcome", name="Ana", login_email="ana@example.com")
        Pipeline(aws, invoke).run()
        assert len(mail.sent_messages(to="all@example.net")) == 1
