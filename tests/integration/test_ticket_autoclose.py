"""Job ``ticket_autoclose``: answered tickets without a customer reply for N days close, with an email; the
window is configurable and can be off."""

from __future__ import annotations

import pytest

from balcao.adapters.dynamodb.settings import DynamoSettingsStore, forget_cached_settings
from balcao.services.company_settings_document import update_company_settings
from devstack import mail
from support.identity import given_account, given_session, given_staff
from support.pipeline import Pipeline
from support.tickets import STAFF_TICKET, TICKET, TICKETS, request

NEW_TICKET = {"department": "technical_support", "subject": "Lentidão no site", "message": "Está lento."}


@pytest.fixture
def ana(aws):
    owner = given_session("u-ana", "ana@example.com", language="pt-BR")
    return owner, given_account(owner.user_id, email="ana@example.com")


def open_ticket(invoke, owner, account_id, subject: str) -> dict:
    response, body = request(invoke, "POST", TICKETS, owner, {**NEW_TICKET, "subject": subject}, account_id=account_id)
    assert response["statusCode"] == 201, body
    return body


def status_of(invoke, owner, account_id, ticket) -> str:
    _, body = request(invoke, "GET", TICKET, owner, account_id=account_id, **ticket)
    return str(body["status"])


def run_job(invoke) -> dict:
    return invoke("tickets_jobs", {"job": "ticket_autoclose"})


def test_answered_tickets_quiet_past_the_window_close_with_an_email(ana, aws, invoke, clock):
    # Given three tickets: answered, still open, answered and then replied to by the customer
    owner, account_id = ana
    support = given_staff("staff_support")
    answered, untouched, replied = (open_ticket(invoke, owner, account_id, s) for s in ("A", "B", "C"))
    for ticket in (answered, replied):
        request(invoke, "POST", f"{STAFF_TICKET}/replies", support, {"message": "Resolvido?"}, **ticket)
    clock.advance(days=2)
    request(invoke, "POST", f"{TICKET}/replies", owner, {"message": "Ainda não."}, account_id=account_id, **replied)
    # When the job runs six days after the answer, then eight
    clock.advance(days=4)
    assert run_job(invoke) == {"job": "ticket_autoclose", "counts": {"closed": 0, "skipped": 0}}
    clock.advance(days=2)
    result = run_job(invoke)
    # Then only the answered ticket closed, and its customer was told
    assert result == {"job": "ticket_autoclose", "counts": {"closed": 1, "skipped": 0}}
    statuses = [status_of(invoke, owner, account_id, t) for t in (answered, untouched, replied)]
    assert statuses == ["closed", "open", "customer_reply"]
    Pipeline(aws, invoke).run()
    [closing] = [m for m in mail.sent_messages(to="ana@example.com") if "fechado" in m["subject"]]
    assert closing["subject"] == f"Ticket #{answered['number']} fechado: A"
    assert "nos 7 dias seguintes" in closing["text"]
    _, listed = request(invoke, "GET", TICKETS, owner, account_id=account_id)
    assert listed["counts"]["closed"] == 1 and listed["counts"]["answered"] == 0
    # And a second run finds nothing more to close
    assert run_job(invoke)["counts"] == {"closed": 0, "skipped": 0}


def test_the_window_is_configurable_and_can_be_off(ana, invoke, clock):
    # Given an answered ticket
    owner, account_id = ana
    ticket = open_ticket(invoke, owner, account_id, "A")
    request(invoke, "POST", f"{STAFF_TICKET}/replies", given_staff("staff_support"), {"message": "Feito."}, **ticket)
    # When auto-close is turned off and ten days pass
    update_company_settings(DynamoSettingsStore(), {"tickets": {"auto_close_days": None}})
    forget_cached_settings()
    clock.advance(days=10)
    # Then the job closes nothing
    assert run_job(invoke)["counts"] == {"closed": 0, "skipped": 0, "disabled": 1}
    assert status_of(invoke, owner, account_id, ticket) == "answered"
    # When it is set to 3 days
    update_company_settings(DynamoSettingsStore(), {"tickets": {"auto_close_days": 3}})
    forget_cached_settings()
    # Then the ticket closes
    assert run_job(invoke)["counts"] == {"closed": 1, "skipped": 0}
    assert status_of(invoke, owner, account_id, ticket) == "closed"
