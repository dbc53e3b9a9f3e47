"""The portal's ticket pages on moto: "My Support Tickets" with counts and the status filter, opening a ticket
(departments with their descriptions, the related service, the priority, attachments sent without JavaScript),
the thread with replies and downloads (never an internal note), close and reopen, the phone callback request —
422 re-renders tied to the field, CSRF refusals, the 404 page for another account's ids and for members without
the permission, and at most three DynamoDB calls per page."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
import requests

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import AttachmentItem, AuditItem
from balcao.domain.accounts import Permission
from balcao.domain.tickets import Person, TicketKind, TicketStatus
from balcao.runtime.tickets_composition import tickets
from support.billing import given_service
from support.events import header
from support.identity import NOW, Caller
from support.portal import (
    TwoOwners,
    Visitor,
    assert_form_error,
    assert_refused,
    cookies_as_on_the_local_stack,
    headings,
    location,
    member_of,
    query_of,
    text,
    two_owners,
    untranslated,
)
from support.tickets import PDF, PNG, given_ticket_with_attachment

STAFF = Person("staff-1", "Carla Suporte", "carla@staff.example", "en")
NEW_TICKET = {
    "department": "technical_support",
    "subject": "Erro ao conectar ao banco de dados",
    "priority": "high",
    "message": 'Desde hoje o site mostra "Error establishing a database connection".\nPassos: abrir o site.',
}


@pytest.fixture
def local_cookies(aws):
    with cookies_as_on_the_local_stack():
        yield


@pytest.fixture
def world(aws, invoke) -> TwoOwners:
    return two_owners(invoke)


def opened(world: TwoOwners, **changes) -> str:
    """A ticket opened through the portal by Ana; its id."""
    response = world.owner.post("/tickets/new", {**NEW_TICKET, **changes})
    assert response["statusCode"] == 303, text(response)
    path = urlsplit(location(response)).path
    return path.rsplit("/", 1)[1]


def bia_ticket(world: TwoOwners) -> str:
    return (
        tickets()
        .open_ticket(
            world.b,
            Person(world.bia, "Bia Reis", "bia@example.es", "es"),
            department="billing",
            subject="Factura secreta de Bia",
            message="Mensaje secreto de Bia",
        )
        .ticket_id
    )


def audit_actions(account_id: str) -> list[str]:
    return [i.action for i in AuditItem.query(keys.account_pk(account_id), AuditItem.sk.startswith(keys.AUDIT_PREFIX))]


def upload_form(response: dict) -> tuple[str, dict[str, str]]:
    """The storage form of the upload page: where it posts and its hidden fields."""
    body = response["body"]
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*enctype="multipart/form-data"[^>]*>(.*?)</form>', body, re.S)
    assert form is not None, body
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2))
    }
    return unescape(form.group(1)), fields


def upload(visitor: Visitor, draft_page: str, content: bytes, filename: str) -> dict:
    """What a browser without JavaScript does: follow "Attach a file", post the file to storage, follow the
    storage's redirect back to the portal. Returns the portal's answer to that landing."""
    page = visitor.get(draft_page)
    attach = unescape(re.search(r'href="(/tickets/attachments/new\?[^"]+)"', page["body"]).group(1))
    form_page = visitor.get(attach)
    assert form_page["statusCode"] == 200, text(form_page)
    url, fields = upload_form(form_page)
    # the storage's origin is allowed as a form target on this page (other pages allow only the portal)
    policy = header(form_page, "Content-Security-Policy") or ""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    assert f"form-action 'self' {origin};" in policy, policy
    posted = requests.post(url, data=fields, files={"file": (filename, content)}, allow_redirects=False, timeout=10)
    assert posted.status_code == 303, posted.text
    landing = urlsplit(posted.headers["Location"])
    assert landing.path == "/tickets/attachments/uploaded"
    return visitor.get(f"{landing.path}?{landing.query}")


# --- signing in and permissions ------------------------------------------------------------------------------------
def test_every_ticket_page_asks_an_anonymous_visitor_to_sign_in_first(aws, invoke):
    visitor = Visitor(invoke)
    for path in ("/tickets", "/tickets/new", "/tickets/callback", "/tickets/X", "/tickets/attachments/new?draft=new"):
        response = visitor.get(path)
        assert response["statusCode"] == 303 and location(response).startswith("/login?next="), path
    for path in ("/tickets/new", "/tickets/X/replies", "/tickets/X/close", "/tickets/callback"):
        assert location(visitor.post(path, NEW_TICKET)).startswith("/login?"), path


def test_members_without_the_tickets_permission_get_the_404_page(world, invoke):
    ticket_id = opened(world)
    outsider = member_of(invoke, world.a, {Permission.INVOICES}, "outsider")
    for path in ("/tickets", "/tickets/new", "/tickets/callback", f"/tickets/{ticket_id}"):
        assert_refused(outsider.get(path))
    assert_refused(outsider.post(f"/tickets/{ticket_id}/replies", {"message": "Oi"}))
    helper = member_of(invoke, world.a, {Permission.TICKETS}, "helper")
    assert helper.get(f"/tickets/{ticket_id}")["statusCode"] == 200


# --- "My Support Tickets" ----------------------------------------------------------------------------------------
def test_the_list_shows_counts_and_filters_by_status(world):
    first = opened(world, subject="Site fora do ar")
    second = opened(world, subject="Dúvida sobre a fatura", department="billing", priority="low")
    tickets().staff_reply(second, STAFF, "A fatura inclui o domínio.")
    bia_ticket(world)
    response = world.owner.get("/tickets")
    body = text(response)
    assert response["statusCode"] == 200
    assert "Site fora do ar" in body and "Dúvida sobre a fatura" in body and "Factura secreta" not in body
    assert "#" in body and "Technical Support" in body and "Billing" in body and "High" in body and "Low" in body
    assert "Open (1)" in body and "Answered (1)" in body and "Closed (0)" in body
    answered = world.owner.get("/tickets?status=answered")
    assert "Dúvida sobre a fatura" in text(answered) and "Site fora do ar" not in text(answered)
    assert 'href="/tickets?status=answered" aria-current="page"' in answered["body"]
    assert f'href="/tickets/{first}"' in response["body"]
    assert "No ticket has this status." in text(world.owner.get("/tickets?status=on_hold"))
    assert world.owner.get("/tickets?status=whatever")["statusCode"] == 422


# --- opening a ticket ----------------------------------------------------------------------------------------------
def test_the_new_ticket_form_offers_departments_with_descriptions_the_accounts_services_and_priorities(world):
    mine = given_service(world.a, NOW.date())
    theirs = given_service(world.b, NOW.date())
    response = world.owner.get("/tickets/new")
    body = text(response)
    assert response["statusCode"] == 200
    for name, description in (
        ("Technical Support", "Website down, email problems"),
        ("Billing", "Questions about invoices, payments"),
        ("Sales", "New services, plan upgrades"),
    ):
        assert name in body and description in body
    assert 'name="department" value="technical_support" checked' in response["body"]
    assert f'<option value="{mine}">Hospedagem Profissional (lojadaana.com.br)</option>' in response["body"]
    assert theirs not in response["body"]
    assert 'name="priority" value="medium" checked' in response["body"]
    assert "Critical problems, such as a site completely down" in body
    world.owner.cookies["balcao_lang"] = "pt-BR"
    assert "Site fora do ar, problemas com e-mails" in text(world.owner.get("/tickets/new"))


def test_a_ticket_is_opened_and_its_thread_shown(world):
    service_id = given_service(world.a, NOW.date())
    ticket_id = opened(world, service_id=service_id)
    response = world.owner.get(f"/tickets/{ticket_id}?done=opened")
    body = text(response)
    ticket = tickets().thread(world.a, ticket_id).ticket
    assert response["statusCode"] == 200 and "Your ticket was opened." in body
    assert f"#{ticket.number}" in body and NEW_TICKET["subject"] in body and "Open" in body
    assert "Hospedagem Profissional (lojadaana.com.br)" in body and "High" in body
    assert "Error establishing a database connection" in body and "You (Ana Souza)" in body
    assert "POST /api/accounts/{account_id}/tickets" in audit_actions(world.a)


@pytest.mark.parametrize(
    ("changes", "field_name", "message"),
    [
        ({"subject": ""}, "subject", "This field is required."),
        ({"subject": "x" * 151}, "subject", "This value is too long."),
        ({"message": "   "}, "message", "This field is required."),
        ({"department": "legal"}, "department", "This value is not one of the allowed choices."),
        ({"priority": "urgent"}, "priority", "This value is not one of the allowed choices."),
    ],
)
def test_a_refused_ticket_re_renders_the_form_with_what_was_typed(world, changes, field_name, message):
    response = world.owner.post("/tickets/new", {**NEW_TICKET, **changes})
    assert_form_error(response, field_name, message)
    if field_name != "subject":
        assert NEW_TICKET["subject"] in text(response)
    assert tickets().account_tickets(world.a).items == []


def test_a_service_of_another_account_is_the_404_page(world):
    theirs = given_service(world.b, NOW.date())
    assert_refused(world.owner.post("/tickets/new", {**NEW_TICKET, "service_id": theirs}))
    assert tickets().account_tickets(world.a).items == []


# --- attachments without JavaScript ------------------------------------------------------------------------------
def test_a_ticket_with_two_files_sent_without_javascript(world):
    # Given Ana uploads two files from the new ticket form, each through the storage form and back
    first = upload(world.owner, "/tickets/new", PNG, "erro do site.png")
    assert first["statusCode"] == 303
    draft = location(first)
    assert urlsplit(draft).path == "/tickets/new" and "erro do site.png" in query_of(draft)["files"]
    second = upload(world.owner, draft, PDF, "relatório.pdf")
    form = world.owner.get(location(second))
    body = text(form)
    assert "erro do site.png" in body and "relatório.pdf" in body
    files = unescape(re.search(r'name="files" value="([^"]*)"', form["body"]).group(1))
    # When she sends the ticket with them
    response = world.owner.post("/tickets/new", {**NEW_TICKET, "files": files})
    assert response["statusCode"] == 303
    ticket_id = urlsplit(location(response)).path.rsplit("/", 1)[1]
    # Then the thread lists both, each downloadable through a short-lived presigned URL as an attachment
    thread = world.owner.get(f"/tickets/{ticket_id}")
    links = re.findall(rf'href="(/tickets/{ticket_id}/attachments/[^"]+)">([^<]+)</a>', thread["body"])
    assert [unescape(name) for _, name in links] == ["erro do site.png", "relatório.pdf"]
    download = world.owner.get(links[1][0])
    assert download["statusCode"] == 302
    url = location(download)
    assert int(query_of(url)["X-Amz-Expires"]) <= 300
    assert "attachment" in query_of(url)["response-content-disposition"]
    fetched = requests.get(url, timeout=10)
    assert fetched.content == PDF
    # And each file is linked once: sending the same draft again is refused on the attachments
    again = world.owner.post("/tickets/new", {**NEW_TICKET, "files": files})
    assert_form_error(again, "attachment_ids", "This file cannot be attached")


def test_a_refused_file_comes_back_with_the_reason_and_is_not_added(world):
    landing = upload(world.owner, "/tickets/new", b"<!doctype html><script>alert(1)</script>", "page.html")
    assert landing["statusCode"] == 303
    back = location(landing)
    assert query_of(back).get("refused") == "type_not_allowed" and "page.html" not in back
    form = world.owner.get(back)
    assert "This type of file is not accepted." in text(form) and 'role="alert"' in form["body"]
    items = list(AttachmentItem.query(keys.account_pk(world.a), AttachmentItem.sk.startswith("ATTACHMENT#")))
    assert [i.state for i in items] == ["rejected"]


def test_the_upload_landing_works_once_and_only_for_the_account_it_was_issued_for(world, invoke):
    page = world.owner.get("/tickets/attachments/new?draft=new")
    url, fields = upload_form(page)
    posted = requests.post(url, data=fields, files={"file": ("a.png", PNG)}, allow_redirects=False, timeout=10)
    landing = urlsplit(posted.headers["Location"])
    path = f"{landing.path}?{landing.query}"
    # Another account's member cannot redeem it, and a forged token is not found
    assert_refused(world.other_owner.get(path))
    token = query_of(path)["token"]
    assert_refused(world.owner.get(path.replace(token, token[:-4] + "AAAA")))
    assert_refused(world.owner.get("/tickets/attachments/uploaded?draft=new&token="))
    # Ana's landing adds it; a reload leaves the draft as it was
    added = world.owner.get(path)
    assert "a.png" in query_of(location(added))["files"]
    again = world.owner.get(path)
    assert again["statusCode"] == 303 and "files" not in query_of(location(again))
    assert_refused(world.owner.get("/tickets/attachments/new?draft=../../evil"))


def test_a_reply_with_a_file_and_the_status_it_leaves(world):
    ticket_id = opened(world)
    tickets().staff_reply(ticket_id, STAFF, "Pode mandar um print do erro?")
    landing = upload(world.owner, f"/tickets/{ticket_id}", PNG, "print.png")
    back = location(landing)
    assert urlsplit(back).path == f"/tickets/{ticket_id}" and back.endswith("#reply")
    page = world.owner.get(back.split("#")[0])
    files = unescape(re.search(r'name="files" value="([^"]*)"', page["body"]).group(1))
    assert "print.png" in files
    response = world.owner.post(f"/tickets/{ticket_id}/replies", {"message": "Segue o print.", "files": files})
    assert response["statusCode"] == 303 and location(response) == f"/tickets/{ticket_id}?done=replied"
    body = text(world.owner.get(location(response)))
    assert "Your reply was sent." in body and "Segue o print." in body and "print.png" in body
    assert "Customer reply" in body and "Carla Suporte, of our team" in body
    assert tickets().thread(world.a, ticket_id).ticket.status is TicketStatus.CUSTOMER_REPLY


def test_an_empty_reply_re_renders_the_thread_with_the_error(world):
    ticket_id = opened(world)
    response = world.owner.post(f"/tickets/{ticket_id}/replies", {"message": "  "})
    assert_form_error(response, "message", "This field is required.")
    assert NEW_TICKET["subject"] in text(response)


# --- the thread ------------------------------------------------------------------------------------------------
def test_internal_notes_never_reach_the_customer(world):
    ticket_id = opened(world)
    tickets().add_note(ticket_id, STAFF, "Nota interna: cliente difícil, verificar IP 10.0.0.7")
    tickets().staff_reply(ticket_id, STAFF, "Já estamos olhando.")
    body = text(world.owner.get(f"/tickets/{ticket_id}"))
    assert "Já estamos olhando." in body and "Nota interna" not in body and "10.0.0.7" not in body


def test_messages_are_plain_text(world):
    ticket_id = opened(world, message='<script>alert("x")</script>\n<b>negrito</b>')
    response = world.owner.get(f"/tickets/{ticket_id}")
    assert "<script>alert" not in response["body"] and "&lt;script&gt;" in response["body"]
    assert "&lt;b&gt;negrito&lt;/b&gt;" in response["body"]


def test_a_ticket_is_closed_and_reopened(world):
    ticket_id = opened(world)
    closed = world.owner.post(f"/tickets/{ticket_id}/close")
    assert closed["statusCode"] == 303 and location(closed) == f"/tickets/{ticket_id}?done=closed"
    body = text(world.owner.get(location(closed)))
    assert "The ticket was closed." in body and "Reopen the ticket" in body and "Replying reopens it." in body
    assert world.owner.post(f"/tickets/{ticket_id}/close")["statusCode"] == 409
    reopened = world.owner.post(f"/tickets/{ticket_id}/reopen")
    assert location(reopened) == f"/tickets/{ticket_id}?done=reopened"
    assert tickets().thread(world.a, ticket_id).ticket.status is TicketStatus.OPEN
    actions = audit_actions(world.a)
    assert "POST /api/accounts/{account_id}/tickets/{ticket_id}/close" in actions
    assert "POST /api/accounts/{account_id}/tickets/{ticket_id}/reopen" in actions


def test_another_accounts_tickets_and_files_are_the_404_page(world):
    theirs = bia_ticket(world)
    linked = given_ticket_with_attachment(world.b, Caller(world.bia, "bia@example.es", "unused"))
    for path in (
        f"/tickets/{theirs}",
        f"/tickets/{theirs}/messages?cursor=x",
        f"/tickets/{linked['ticket_id']}/attachments/{linked['attachment_id']}",
        "/tickets/01ZZZZZZZZZZZZZZZZZZZZZZZZ",
        "/tickets/" + "Y" * 300,
    ):
        response = world.owner.get(path)
        assert_refused(response)
        assert "secreta" not in response["body"] and "secreto" not in response["body"], path
    for path in (f"/tickets/{theirs}/close", f"/tickets/{theirs}/reopen"):
        assert_refused(world.owner.post(path))
    assert_refused(world.owner.post(f"/tickets/{theirs}/replies", {"message": "Oi"}))
    thread = tickets().thread(world.b, theirs)
    assert thread.ticket.status is TicketStatus.OPEN and len(thread.messages) == 1


def test_a_link_to_a_ticket_of_another_of_ones_accounts_switches_to_it(world):
    spanish = tickets().open_ticket(
        world.a2,
        Person(world.ana, "Ana Souza", "ana@example.com", "es"),
        department="billing",
        subject="Duda sobre la factura",
        message="¿Incluye el dominio?",
    )
    path = f"/tickets/{spanish.ticket_id}"
    switched = world.owner.get(path)
    assert switched["statusCode"] == 303 and location(switched) == path
    assert world.owner.cookies["balcao_account"] == world.a2
    assert "Duda sobre la factura" in text(world.owner.get(path))


# --- phone callback --------------------------------------------------------------------------------------------
def test_a_phone_callback_becomes_a_ticket(world):
    form = world.owner.get("/tickets/callback")
    assert form["statusCode"] == 200 and 'name="window" value="any_time" checked' in form["body"]
    response = world.owner.post(
        "/tickets/callback", {"phone": "(11) 91234-5678", "window": "morning", "reason": "Migrar o site para o VPS"}
    )
    assert response["statusCode"] == 303
    ticket_id = urlsplit(location(response)).path.rsplit("/", 1)[1]
    ticket = tickets().thread(world.a, ticket_id).ticket
    assert ticket.kind is TicketKind.CALLBACK and ticket.callback.phone == "+5511912345678"
    body = text(world.owner.get(location(response)))
    assert "+5511912345678" in body and "Morning (9:00 to 12:00)" in body and "Migrar o site" in body
    assert "Phone call request" in text(world.owner.get("/tickets"))


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [({"phone": "123"}, "phone"), ({"window": "midnight"}, "window"), ({"reason": ""}, "reason")],
)
def test_a_refused_callback_re_renders_the_form(world, changes, field_name):
    form = {"phone": "(11) 91234-5678", "window": "morning", "reason": "Migrar o site", **changes}
    response = world.owner.post("/tickets/callback", form)
    assert response["statusCode"] == 422
    assert f'id="field-{field_name}-error"' in response["body"] and 'role="alert"' in response["body"]
    assert tickets().account_tickets(world.a).items == []


# --- every page, every form ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["new", "callback", "replies", "close", "reopen"])
def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(world, action):
    ticket_id = opened(world)
    before = tickets().thread(world.a, ticket_id)
    audited = audit_actions(world.a)
    path = {"new": "/tickets/new", "callback": "/tickets/callback"}.get(action, f"/tickets/{ticket_id}/{action}")
    form = {**NEW_TICKET, "phone": "(11) 91234-5678", "window": "morning", "reason": "Oi"}
    response = world.owner.post(path, form, csrf=False)
    assert response["statusCode"] == 403 and "Your form expired" in text(response)
    after = tickets().thread(world.a, ticket_id)
    assert after.ticket == before.ticket and len(after.messages) == len(before.messages)
    assert len(tickets().account_tickets(world.a).items) == 1 and audit_actions(world.a) == audited


def test_every_page_speaks_the_three_languages(world):
    ticket_id = opened(world)
    tickets().staff_reply(ticket_id, STAFF, "Olá!")
    paths = (
        "/tickets",
        "/tickets/new",
        f"/tickets/{ticket_id}",
        "/tickets/callback",
        "/tickets/attachments/new?draft=new",
    )
    english = {path: headings(world.owner.get(path)) for path in paths}
    for language in ("pt-BR", "es"):
        world.owner.cookies["balcao_lang"] = language
        for path in paths:
            translated = headings(world.owner.get(path))
            same = [
                h
                for h, e in zip(translated, english[path], strict=True)
                if h == e and "#" not in h and "Carla" not in h and "Ana Souza" not in h
            ]
            assert not same, (language, path, same)


def test_no_text_bypasses_translation(local_cookies, world):
    # Given a ticket answered by the staff, with a file, and a phone callback
    ticket_id = opened(world, files="")
    landing = upload(world.owner, f"/tickets/{ticket_id}", PNG, "print.png")
    files = query_of(location(landing))["files"]
    world.owner.post(f"/tickets/{ticket_id}/replies", {"message": "Segue o print.", "files": files})
    tickets().staff_reply(ticket_id, STAFF, "Resolvido.")
    service_id = given_service(world.a, NOW.date())
    callback = world.owner.post("/tickets/callback", {"phone": "(11) 91234-5678", "window": "evening", "reason": "Oi"})
    callback_id = urlsplit(location(callback)).path.rsplit("/", 1)[1]
    ticket = tickets().thread(world.a, ticket_id).ticket
    data = {
        NEW_TICKET["subject"],
        "Oi",
        "Segue o print.",
        "Resolvido.",
        "print.png",
        "Ana Souza",
        "Ana",
        "Technical Support",
        "Billing",
        "Sales",
        "Hospedagem Profissional (lojadaana.com.br)",
        "+5511912345678",
        NEW_TICKET["message"],
        *(d.description for d in tickets().departments("en")),
        f"#{ticket.number}",
    }
    paths = (
        "/tickets",
        "/tickets/new",
        f"/tickets/{ticket_id}",
        f"/tickets/{callback_id}",
        "/tickets/callback",
        "/tickets/attachments/new?draft=new",
        f"/tickets/new?files={files}&refused=too_large",
    )
    assert service_id
    # When each page is rendered in the pseudo-locale, then every text is translated or data
    for path in paths:
        response = world.owner.get(path + ("&" if "?" in path else "?") + "lang=x-pseudo")
        assert response["statusCode"] == 200, path
        assert untranslated(response, data) == [], path


def test_reading_a_page_costs_at_most_three_dynamodb_calls(world, ddb_calls):
    given_service(world.a, NOW.date())
    ticket_id = opened(world)
    world.owner.get("/tickets")  # the company settings are cached per container
    pages = (
        "/tickets",
        "/tickets?status=open",
        "/tickets/new",
        f"/tickets/{ticket_id}",
        "/tickets/callback",
        "/tickets/attachments/new?draft=new",  # records the pending upload: one write
    )
    for path in pages:
        with ddb_calls() as calls:
            assert world.owner.get(path)["statusCode"] == 200, path
        assert calls.total <= 3 and calls.scans == 0, (path, calls)
