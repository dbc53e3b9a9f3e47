"""Tickets through the tickets function: who may do what, the thread and its statuses, internal notes, the
account's list with counts, the staff queue, callbacks, the emails, and the DynamoDB budget of every read."""

from __future__ import annotations

import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.identity import DynamoIdentityStore
from balcao.adapters.dynamodb.models import ContactItem, LookupItem, ServiceItem, TicketCountsItem
from balcao.adapters.dynamodb.settings import DynamoSettingsStore, forget_cached_settings
from balcao.domain.accounts import Permission
from balcao.domain.errors import NotFoundError
from balcao.domain.ids import new_ulid
from balcao.runtime.tickets_composition import tickets
from balcao.services.company_settings_document import CompanySettings, update_company_settings
from devstack import mail
from support.identity import NOW, given_account, given_member, given_session, given_staff
from support.pipeline import Pipeline
from support.tickets import ACCOUNT, STAFF_TICKET, TICKET, TICKETS, request

NEW_TICKET = {"department": "technical_support", "subject": "Site fora do ar", "message": "O site não abre."}


@pytest.fixture
def ana(aws):
    owner = given_session("u-ana", "ana@example.com", language="pt-BR")
    account_id = given_account(owner.user_id, email="contrato@loja.com.br")
    ContactItem(
        pk=keys.account_pk(account_id),
        sk=keys.contact_sk("C1"),
        contact_id="C1",
        account_id=account_id,
        name="Técnico",
        email="tecnico@loja.com.br",
        departments=["support"],
        created_at=NOW,
    ).save()
    ContactItem(
        pk=keys.account_pk(account_id),
        sk=keys.contact_sk("C2"),
        contact_id="C2",
        account_id=account_id,
        name="Financeiro",
        email="financeiro@loja.com.br",
        departments=["billing"],
        created_at=NOW,
    ).save()
    return owner, account_id


def open_ticket(invoke, caller, account_id, **changes):
    response, body = request(invoke, "POST", TICKETS, caller, {**NEW_TICKET, **changes}, account_id=account_id)
    assert response["statusCode"] == 201, body
    return body


def recipients(subject_part: str) -> set[str]:
    return {r for m in mail.sent_messages() if subject_part in m["subject"] for r in m["to"]}


# --- permissions first ------------------------------------------------------------------------------------------
def test_a_member_without_the_tickets_permission_gets_404_and_one_with_it_works(ana, invoke):
    # Given a member holding every permission but tickets, and one holding only tickets
    owner, account_id = ana
    opened = open_ticket(invoke, owner, account_id)
    outsider = given_session("u-billing", "billing@example.com")
    given_member(account_id, outsider.user_id, {p for p in Permission if p is not Permission.TICKETS})
    helper = given_session("u-helper", "helper@example.com")
    given_member(account_id, helper.user_id, {Permission.TICKETS}, email="helper@example.com")
    # When each lists, reads and opens tickets
    # Then the first gets 404 everywhere, the second sees the account's tickets and can open one
    for method, template, body in (("GET", TICKETS, None), ("GET", TICKET, None), ("POST", TICKETS, NEW_TICKET)):
        response, _ = request(invoke, method, template, outsider, body, account_id=account_id, **opened)
        assert response["statusCode"] == 404
    response, listed = request(invoke, "GET", TICKETS, helper, account_id=account_id)
    assert response["statusCode"] == 200 and [t["ticket_id"] for t in listed["items"]] == [opened["ticket_id"]]
    assert open_ticket(invoke, helper, account_id)["status"] == "open"


def test_another_accounts_ticket_service_and_attachment_are_not_found(ana, invoke):
    # Given Bruno's account with a ticket and a service
    owner, account_id = ana
    bruno = given_session("u-bruno", "bruno@example.com")
    brunos = given_account(bruno.user_id, name="Bruno", email="bruno@example.com")
    his_ticket = open_ticket(invoke, bruno, brunos)
    service_id = new_ulid()
    ServiceItem(
        pk=keys.account_pk(brunos),
        sk=keys.service_sk(service_id),
        service_id=service_id,
        account_id=brunos,
        name="Hospedagem",
        domain="bruno.com.br",
        status="active",
    ).save()
    # When Ana uses his ticket id under her account, or links his service
    # Then each answers 404, nothing is written
    for method, template, body in (
        ("GET", TICKET, None),
        ("POST", f"{TICKET}/replies", {"message": "oi"}),
        ("POST", f"{TICKET}/close", None),
        ("GET", f"{TICKET}/messages", None),
    ):
        response, _ = request(
            invoke, method, template, owner, body, query={"cursor": "x"}, account_id=account_id, **his_ticket
        )
        assert response["statusCode"] == 404, (method, template)
    response, _ = request(
        invoke, "POST", TICKETS, owner, {**NEW_TICKET, "service_id": service_id}, account_id=account_id
    )
    assert response["statusCode"] == 404
    _, his = request(invoke, "GET", TICKET, bruno, account_id=brunos, **his_ticket)
    assert his["status"] == "open" and len(his["messages"]) == 1


def test_staff_routes_are_for_support_and_admins(ana, invoke):
    owner, account_id = ana
    opened = open_ticket(invoke, owner, account_id)
    # Given a customer, finance staff, support staff, and support staff without TOTP
    for caller, status in (
        (owner, 403),
        (given_staff("staff_finance"), 403),
        (given_staff("staff_support", mfa_passed=False), 403),
        (given_staff("staff_support"), 200),
        (given_staff("staff_admin"), 200),
    ):
        # When each opens the queue and the ticket
        queue, _ = request(invoke, "GET", "/api/staff/tickets", caller)
        detail, _ = request(invoke, "GET", STAFF_TICKET, caller, ticket_id=opened["ticket_id"])
        # Then only support (and admins) with TOTP get in
        assert (queue["statusCode"], detail["statusCode"]) == (status, status)


# --- opening -----------------------------------------------------------------------------------------------------
def test_opening_a_ticket_gives_a_unique_number_and_a_confirmation_email(ana, aws, invoke):
    # Given Ana's account: a support contact and a billing contact, its own service
    owner, account_id = ana
    service_id = new_ulid()
    ServiceItem(
        pk=keys.account_pk(account_id),
        sk=keys.service_sk(service_id),
        service_id=service_id,
        account_id=account_id,
        name="Hospedagem Plus",
        domain="loja.com.br",
        status="active",
    ).save()
    # When she opens a high-priority ticket about that service
    created = open_ticket(invoke, owner, account_id, priority="high", service_id=service_id, department="billing")
    Pipeline(aws, invoke).run()
    # Then it has a six-digit number held by its lookup item
    number = created["number"]
    assert len(number) == 6 and number.isdigit() and created["status"] == "open"
    lookup = LookupItem.get(keys.ticket_number_lookup_pk(number), keys.LOOKUP)
    assert lookup.target == {"ticket_id": created["ticket_id"], "account_id": account_id}
    # And the contract email, the support contact and Ana (who opened it) get the confirmation — not billing
    assert recipients(f"#{number}") == {"contrato@loja.com.br", "tecnico@loja.com.br", "ana@example.com"}
    [confirmation] = mail.sent_messages(to="ana@example.com")
    assert confirmation["subject"] == f"Ticket #{number} aberto: Site fora do ar"
    assert "Financeiro" in confirmation["text"] and "Alta" in confirmation["text"]
    assert "Hospedagem Plus (loja.com.br)" in confirmation["text"] and "O site não abre." in confirmation["text"]
    assert f"/tickets/{created['ticket_id']}" in confirmation["text"]


def test_an_email_link_naming_only_the_ticket_finds_its_account(ana, invoke):
    # Given a ticket (its emails link to /tickets/{ticket_id}, without the account)
    owner, account_id = ana
    ticket = open_ticket(invoke, owner, account_id)
    # Then the portal can find the account to authorize the visitor on; an unknown ticket is not found
    assert tickets().account_of_ticket(ticket["ticket_id"]) == account_id
    with pytest.raises(NotFoundError):
        tickets().account_of_ticket(new_ulid())


def test_invalid_tickets_are_refused_field_by_field(ana, invoke):
    # Given bodies each wrong in one field
    owner, account_id = ana
    for body, field in (
        ({**NEW_TICKET, "subject": "x" * 151}, "subject"),
        ({**NEW_TICKET, "subject": "   "}, "subject"),
        ({**NEW_TICKET, "department": "legal"}, "department"),
        ({**NEW_TICKET, "priority": "urgent"}, "priority"),
        ({**NEW_TICKET, "message": ""}, "message"),
    ):
        # When each is sent, then it is refused naming that field only
        response, answer = request(invoke, "POST", TICKETS, owner, body, account_id=account_id)
        assert response["statusCode"] == 422, body
        assert [f["field"] for f in answer["error"]["fields"]] == [field]


def test_departments_are_listed_with_what_each_is_for_in_the_callers_language(ana, invoke):
    # Given a caller whose language is pt-BR, when the departments are listed
    owner, _ = ana
    response, body = request(invoke, "GET", "/api/ticket-departments", owner)
    # Then the default three come with their names and descriptions in Portuguese
    assert response["statusCode"] == 200
    assert [d["department"] for d in body["items"]] == ["technical_support", "billing", "sales"]
    assert body["items"][0]["name"] == "Suporte Técnico" and "cPanel" in body["items"][0]["description"]


# --- the thread ---------------------------------------------------------------------------------------------------
def test_the_thread_moves_through_the_statuses_and_every_reply_is_emailed(ana, aws, invoke):
    # Given an open ticket
    owner, account_id = ana
    opened = open_ticket(invoke, owner, account_id)
    support = given_staff("staff_support")
    ticket_id = opened["ticket_id"]
    # When the staff reply
    response, reply = request(
        invoke, "POST", f"{STAFF_TICKET}/replies", support, {"message": "Reiniciamos o servidor."}, ticket_id=ticket_id
    )
    assert response["statusCode"] == 201 and reply["ticket_status"] == "answered"
    # Then the customer sees it answered
    _, detail = request(invoke, "GET", TICKET, owner, account_id=account_id, ticket_id=ticket_id)
    assert detail["status"] == "answered" and [m["author"] for m in detail["messages"]] == ["customer", "staff"]
    # When the customer replies
    response, answer = request(
        invoke,
        "POST",
        f"{TICKET}/replies",
        owner,
        {"message": "Voltou, obrigada!"},
        account_id=account_id,
        ticket_id=ticket_id,
    )
    # Then it is a customer reply
    assert response["statusCode"] == 201 and answer["ticket_status"] == "customer_reply"
    # And each reply reached the contract email, the support contact and Ana
    Pipeline(aws, invoke).run()
    replies = [m for m in mail.sent_messages(to="tecnico@loja.com.br") if "nova resposta" in m["subject"]]
    assert sorted(m["text"].count("Reiniciamos o servidor.") + 2 * m["text"].count("Voltou") for m in replies) == [1, 2]
    assert recipients("nova resposta") == {"contrato@loja.com.br", "tecnico@loja.com.br", "ana@example.com"}


def test_a_user_who_left_the_account_no_longer_gets_its_replies(ana, aws, invoke):
    # Given a helper (writing in English) who opened a ticket and was then removed from the account
    _, account_id = ana
    helper = given_session("u-helper", "helper@example.com", language="en")
    given_member(account_id, helper.user_id, {Permission.TICKETS}, email="helper@example.com")
    ticket = open_ticket(invoke, helper, account_id)
    DynamoIdentityStore().remove_membership(account_id, helper.user_id)
    # When the staff reply
    request(invoke, "POST", f"{STAFF_TICKET}/replies", given_staff("staff_support"), {"message": "Ok."}, **ticket)
    Pipeline(aws, invoke).run()
    # Then the account's addresses get the reply; the former helper only has the confirmation of the opening
    assert recipients("nova resposta") == {"contrato@loja.com.br", "tecnico@loja.com.br"}
    subjects = [m["subject"] for m in mail.sent_messages(to="helper@example.com")]
    assert subjects == [f"Ticket #{ticket['number']} opened: Site fora do ar"]


def test_a_staff_note_is_never_shown_nor_emailed_to_the_customer(ana, aws, invoke):
    # Given a ticket with a staff reply and then an internal note
    owner, account_id = ana
    ticket_id = open_ticket(invoke, owner, account_id)["ticket_id"]
    support = given_staff("staff_support")
    request(invoke, "POST", f"{STAFF_TICKET}/replies", support, {"message": "Resposta pública."}, ticket_id=ticket_id)
    response, note = request(
        invoke,
        "POST",
        f"{STAFF_TICKET}/notes",
        support,
        {"message": "NOTA INTERNA: cliente antigo."},
        ticket_id=ticket_id,
    )
    assert response["statusCode"] == 201 and note["kind"] == "note"
    Pipeline(aws, invoke).run()
    # When the customer reads the ticket and the mail arrives
    _, detail = request(invoke, "GET", TICKET, owner, account_id=account_id, ticket_id=ticket_id)
    # Then the note is nowhere: not in the thread, not in any email; the status did not move
    assert "NOTA INTERNA" not in str(detail) and detail["status"] == "answered"
    assert not any("NOTA INTERNA" in m["text"] + m["html"] for m in mail.sent_messages())
    # And the staff see it, marked as a note
    _, staff_view = request(invoke, "GET", STAFF_TICKET, support, ticket_id=ticket_id)
    assert [m["kind"] for m in staff_view["messages"]] == ["customer", "staff", "note"]


def test_the_customer_closes_and_reopens_each_once(ana, invoke):
    # Given an open ticket
    owner, account_id = ana
    ticket = open_ticket(invoke, owner, account_id)
    # When the customer closes it twice, then reopens it twice
    # Then each works once and the repetition is a conflict, in the customer's language
    response, closed = request(invoke, "POST", f"{TICKET}/close", owner, account_id=account_id, **ticket)
    assert response["statusCode"] == 200 and closed["status"] == "closed" and closed["closed_at"]
    response, again = request(invoke, "POST", f"{TICKET}/close", owner, account_id=account_id, **ticket)
    assert response["statusCode"] == 409 and again["error"]["message"] == "Este ticket já está fechado."
    response, reopened = request(invoke, "POST", f"{TICKET}/reopen", owner, account_id=account_id, **ticket)
    assert response["statusCode"] == 200 and reopened["status"] == "open" and reopened["closed_at"] is None
    response, _ = request(invoke, "POST", f"{TICKET}/reopen", owner, account_id=account_id, **ticket)
    assert response["statusCode"] == 409


def test_messages_are_plain_text_in_the_api_and_escaped_in_email(ana, aws, invoke):
    # Given a message with markup
    owner, account_id = ana
    markup = '<img src=x onerror="alert(1)"> <script>alert(2)</script>'
    ticket = open_ticket(invoke, owner, account_id, message=markup, subject="<b>negrito</b> & cia")
    Pipeline(aws, invoke).run()
    # Then the API returns it as the literal text, and the HTML email shows it escaped
    _, detail = request(invoke, "GET", TICKET, owner, account_id=account_id, **ticket)
    assert detail["messages"][0]["body"] == markup and detail["subject"] == "<b>negrito</b> & cia"
    [sent] = mail.sent_messages(to="ana@example.com")
    assert "<script>" not in sent["html"] and "&lt;script&gt;alert(2)&lt;/script&gt;" in sent["html"]
    assert "<img" not in sent["html"] and sent["subject"].endswith("<b>negrito</b> & cia")


# --- the account's list -----------------------------------------------------------------------------------------------
def test_my_tickets_filter_by_status_with_exact_counts_in_two_dynamodb_calls(ana, invoke, ddb_calls, clock):
    # Given three tickets opened a minute apart, then the first answered and the second closed
    owner, account_id = ana
    support = given_staff("staff_support")
    answered, closed, still_open = [], [], []
    for n, bucket in enumerate((answered, closed, still_open)):
        bucket.append(open_ticket(invoke, owner, account_id, subject=f"T{n}"))
        clock.advance(minutes=1)
    request(invoke, "POST", f"{STAFF_TICKET}/replies", support, {"message": "Feito."}, **answered[0])
    clock.advance(minutes=1)
    request(invoke, "POST", f"{TICKET}/close", owner, account_id=account_id, **closed[0])
    # When the list is read, all and one status
    with ddb_calls() as calls:
        response, everything = request(invoke, "GET", TICKETS, owner, account_id=account_id)
    assert response["statusCode"] == 200 and calls.total <= 2 and calls.scans == 0, calls
    _, only_open = request(invoke, "GET", TICKETS, owner, query={"status": "open"}, account_id=account_id)
    # Then the newest activity comes first, the filter holds, and the counts are exact
    assert [t["subject"] for t in everything["items"]] == ["T1", "T0", "T2"]
    assert [t["ticket_id"] for t in only_open["items"]] == [still_open[0]["ticket_id"]]
    expected = {"open": 1, "answered": 1, "customer_reply": 0, "on_hold": 0, "in_progress": 0, "closed": 1}
    assert everything["counts"] == only_open["counts"] == expected
    counts = TicketCountsItem.get(keys.account_pk(account_id), keys.TICKET_COUNTS)
    assert (counts.count_open, counts.count_answered, counts.count_closed) == (1, 1, 1)


def test_the_list_pages_with_a_cursor_and_refuses_a_forged_one(ana, invoke, clock):
    # Given three tickets a minute apart
    owner, account_id = ana
    for n in range(3):
        open_ticket(invoke, owner, account_id, subject=f"T{n}")
        clock.advance(minutes=1)
    # When the list is read two at a time
    _, first = request(invoke, "GET", TICKETS, owner, query={"limit": "2"}, account_id=account_id)
    _, second = request(
        invoke, "GET", TICKETS, owner, query={"limit": "2", "cursor": first["next"]}, account_id=account_id
    )
    # Then the pages follow each other (counts on the first only) and a forged cursor is refused
    assert [t["subject"] for t in first["items"] + second["items"]] == ["T2", "T1", "T0"]
    assert second["counts"] is None
    forged = first["next"][:-4] + "AAAA"
    response, _ = request(invoke, "GET", TICKETS, owner, query={"cursor": forged}, account_id=account_id)
    assert response["statusCode"] == 422


def test_every_ticket_read_costs_at_most_two_dynamodb_calls(ana, invoke, ddb_calls):
    # Given a ticket with a reply
    owner, account_id = ana
    ticket = open_ticket(invoke, owner, account_id)
    support = given_staff("staff_support")
    request(invoke, "POST", f"{STAFF_TICKET}/replies", support, {"message": "Olá"}, **ticket)
    # When each read route is called
    reads = [
        (owner, TICKET, {}, {"account_id": account_id}),
        (support, STAFF_TICKET, {}, {}),
        (support, "/api/staff/tickets", {"status": "answered", "department": "technical_support"}, {}),
        (support, "/api/staff/tickets", {}, {}),
        (owner, "/api/ticket-departments", {}, {}),
    ]
    for caller, template, query, values in reads:
        with ddb_calls() as calls:
            response, _ = request(invoke, "GET", template, caller, query=query or None, **values, **ticket)
        # Then it answers within the budget, without a Scan
        assert response["statusCode"] == 200 and calls.total <= 2 and calls.scans == 0, (template, calls)


def test_a_long_thread_pages_towards_older_messages(ana, invoke, ddb_calls):
    # Given a ticket with 55 replies after its first message
    owner, account_id = ana
    ticket = open_ticket(invoke, owner, account_id)
    for n in range(55):
        request(invoke, "POST", f"{TICKET}/replies", owner, {"message": f"m{n}"}, account_id=account_id, **ticket)
    # When the ticket is read, then its older messages
    _, detail = request(invoke, "GET", TICKET, owner, account_id=account_id, **ticket)
    with ddb_calls() as calls:
        response, older = request(
            invoke,
            "GET",
            f"{TICKET}/messages",
            owner,
            query={"cursor": detail["next"]},
            account_id=account_id,
            **ticket,
        )
    # Then the detail holds the newest 50 (oldest first) and the page the 6 before, in two calls
    assert response["statusCode"] == 200 and calls.total <= 2
    assert detail["messages"][0]["body"] == "m5" and len(detail["messages"]) == 50
    assert [m["body"] for m in older["items"]] == ["O site não abre.", "m0", "m1", "m2", "m3", "m4"]
    assert older["next"] is None


# --- the staff queue ------------------------------------------------------------------------------------------------------
def test_the_staff_queue_sorts_by_waiting_time_and_filters(ana, aws, invoke, clock):
    # Given tickets opened an hour apart on two accounts, one answered, one billing, one high
    owner, account_id = ana
    bruno = given_session("u-bruno", "bruno@example.com")
    brunos = given_account(bruno.user_id, name="Bruno", email="bruno@example.com")
    first = open_ticket(invoke, owner, account_id, subject="primeiro")
    clock.advance(hours=1)
    second = open_ticket(invoke, bruno, brunos, subject="segundo", department="billing")
    clock.advance(hours=1)
    third = open_ticket(invoke, owner, account_id, subject="terceiro", priority="high")
    clock.advance(hours=1)
    support = given_staff("staff_support")
    request(invoke, "POST", f"{STAFF_TICKET}/replies", support, {"message": "ok"}, **second)

    def queue(**query):
        response, body = request(invoke, "GET", "/api/staff/tickets", support, query=query or None)
        assert response["statusCode"] == 200, body
        return [t["subject"] for t in body["items"]]

    # Then the longest waiting comes first; answered tickets wait since the answer
    assert queue() == ["primeiro", "terceiro", "segundo"]
    assert queue(status="answered") == ["segundo"]
    assert queue(department="billing") == ["segundo"]
    assert queue(priority="high") == ["terceiro"]
    # When one is assigned to the caller and another parked
    response, patched = request(
        invoke, "PATCH", STAFF_TICKET, support, {"assignee": "me", "status": "in_progress"}, **third
    )
    assert response["statusCode"] == 200 and patched["assignee"]["user_id"] == support.user_id
    assert patched["status"] == "in_progress"
    # Then the assignee filter finds it and the account's counts moved
    assert queue(assignee="me") == ["terceiro"]
    assert queue(status="in_progress") == ["terceiro"]
    _, listed = request(invoke, "GET", TICKETS, owner, account_id=account_id)
    assert listed["counts"]["open"] == 1 and listed["counts"]["in_progress"] == 1
    _, staff_view = request(invoke, "GET", STAFF_TICKET, support, **first)
    assert staff_view["account_id"] == account_id and staff_view["opened_by"]["email"] == "ana@example.com"


def test_staff_change_priority_department_and_close_a_ticket(ana, invoke):
    # Given an open ticket
    owner, account_id = ana
    ticket = open_ticket(invoke, owner, account_id)
    support = given_staff("staff_support")
    # When the staff change its priority and department, try an unknown department, then close and unassign it
    # Then each valid change applies, the unknown department is refused, and the account's counts follow
    response, changed = request(
        invoke, "PATCH", STAFF_TICKET, support, {"priority": "low", "department": "sales"}, **ticket
    )
    assert response["statusCode"] == 200 and (changed["priority"], changed["department"]) == ("low", "sales")
    response, refused = request(invoke, "PATCH", STAFF_TICKET, support, {"department": "legal"}, **ticket)
    assert response["statusCode"] == 422 and refused["error"]["fields"][0]["field"] == "department"
    response, closed = request(invoke, "PATCH", STAFF_TICKET, support, {"status": "closed", "assignee": None}, **ticket)
    assert response["statusCode"] == 200 and closed["status"] == "closed" and closed["assignee"] is None
    _, listed = request(invoke, "GET", TICKETS, owner, account_id=account_id)
    assert listed["counts"]["closed"] == 1 and listed["counts"]["open"] == 0


def test_a_department_address_is_alerted_of_new_tickets_and_customer_replies(ana, aws, invoke):
    # Given the technical support department has a notification address
    departments = CompanySettings().tickets.model_dump(mode="json")["departments"]
    departments[0]["notification_email"] = "suporte-n2@balcao.example"
    update_company_settings(DynamoSettingsStore(), {"tickets": {"departments": departments}})
    forget_cached_settings()
    owner, account_id = ana
    # When a ticket is opened and the customer replies
    ticket = open_ticket(invoke, owner, account_id)
    request(
        invoke, "POST", f"{TICKET}/replies", owner, {"message": "Mais um detalhe."}, account_id=account_id, **ticket
    )
    Pipeline(aws, invoke).run()
    # Then the department address got both alerts, in the company's language, outside the account's email log
    subjects = sorted(m["subject"] for m in mail.sent_messages(to="suporte-n2@balcao.example"))
    assert subjects == [
        f"[Suporte Técnico] Novo ticket #{ticket['number']}: Site fora do ar",
        f"[Suporte Técnico] Resposta do cliente no #{ticket['number']}: Site fora do ar",
    ]


# --- callbacks -------------------------------------------------------------------------------------------------------------
def test_a_callback_request_becomes_a_callback_ticket_with_an_email(ana, aws, invoke):
    # Given Ana asks to be called back in the afternoon, with a national phone number
    owner, account_id = ana
    response, created = request(
        invoke,
        "POST",
        f"{ACCOUNT}/callbacks",
        owner,
        {"phone": "(11) 98765-4321", "window": "afternoon", "reason": "Quero entender a fatura de outubro."},
        account_id=account_id,
    )
    # Then a callback ticket exists with the number in E.164, in the callback department
    assert response["statusCode"] == 201 and len(created["number"]) == 6
    _, detail = request(invoke, "GET", TICKET, owner, account_id=account_id, ticket_id=created["ticket_id"])
    assert detail["kind"] == "callback" and detail["callback"] == {"phone": "+5511987654321", "window": "afternoon"}
    assert detail["subject"] == "Quero entender a fatura de outubro." and detail["department"] == "technical_support"
    # And she is emailed the number, the phone and the window in her language
    Pipeline(aws, invoke).run()
    [confirmation] = mail.sent_messages(to="ana@example.com")
    assert confirmation["subject"] == f"Solicitação de contato telefônico #{created['number']} recebida"
    assert "+5511987654321 à tarde (das 12h às 18h)" in confirmation["text"]
    # And a phone that is no number is refused on its field
    response, refused = request(
        invoke,
        "POST",
        f"{ACCOUNT}/callbacks",
        owner,
        {"phone": "123", "window": "morning", "reason": "x"},
        account_id=account_id,
    )
    assert response["statusCode"] == 422 and refused["error"]["fields"][0]["field"] == "phone"
