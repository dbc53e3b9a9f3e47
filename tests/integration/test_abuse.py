"""Abuse: malformed, oversized and mistyped bodies on every route that takes one; path traversal in attachment names;
CR/LF in what ends up in email headers; XSS payloads in what the portal and the emails render; the gateway's own
limits (payload size, throttling in template.yaml). Everything is refused in the error shape of API.md, or escaped.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from email import policy
from typing import Any
from urllib.parse import unquote

import jinja2
import pytest

from balcao.domain.accounts import ALL_PERMISSIONS, Membership, Role
from devstack import mail, openapi, template
from support.events import api_event, header, json_body
from support.identity import NOW, given_account, given_session
from support.pipeline import Pipeline
from support.portal import Visitor, login_user, unique
from support.tickets import PNG, post_form

FUNCTIONS = {(r.method, r.path): r.function for r in template.api_routes()}
FOLDERS = {d.logical_id: d.folder for d in template.functions().values()}
XSS = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
HEADER_INJECTION = "Loja\r\nBcc: intruder@example.com"


def body_operations() -> list[tuple[str, str, dict[str, Any]]]:
    document = openapi.build_document()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), path, operation))
    return found


BODY_OPERATIONS = body_operations()


@pytest.fixture(scope="module")
def owner(aws_session) -> Iterator[dict[str, str]]:
    """An owner and their account (refused requests change nothing, so one is enough for the module)."""
    from balcao.adapters.dynamodb.settings import forget_cached_settings
    from support.moto_state import reset_data

    reset_data()
    forget_cached_settings()
    caller = given_session("abuse-owner", "abuse-owner@example.com")
    account = given_account(caller.user_id, email=caller.email)
    yield {"account_id": account, "user_id": caller.user_id, "claims": caller.claims}  # type: ignore[dict-item]


def call_raw(invoke, method: str, path: str, owner, raw: str, content_type: str = "application/json") -> dict:
    concrete = re.sub(r"\{(\w+)\}", lambda m: owner["account_id"] if m.group(1) == "account_id" else "01ABUSE", path)
    event = api_event(
        method, concrete, resource=path, claims=owner["claims"], raw_body=raw, headers={"Content-Type": content_type}
    )
    return invoke(FOLDERS[FUNCTIONS[(method, path)]], event)


def assert_error_shape(response: dict, status: int) -> dict:
    assert response["statusCode"] == status, (response["statusCode"], response.get("body", "")[:300])
    error = json_body(response)["error"]
    assert error["code"] == "validation_error" and isinstance(error["message"], str)
    return error


BAD_BODIES = {
    "malformed": ('{"name": "x", ', "application/json"),
    "deeply-nested": ("[" * 100_000 + "]" * 100_000, "application/json"),
    "not-an-object": ('["a", 1, null]', "application/json"),
    "null": ("null", "application/json"),
    "form-encoded": ("name=x&email=y%40example.com", "application/x-www-form-urlencoded"),
    "xml": ("<contact><name>x</name></contact>", "application/xml"),
    "invalid-utf8-escape": ('{"name": "\\ud800"}', "application/json"),
}


@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_every_route_with_a_body_refuses_a_bad_one_with_422(owner, invoke, kind):
    raw, content_type = BAD_BODIES[kind]
    problems = []
    for method, path, operation in BODY_OPERATIONS:
        response = call_raw(invoke, method, path, owner, raw, content_type)
        # validation first; a staff route refuses a customer before reading the body
        allowed = (422, 403) if operation.get("x-balcao-access") == "staff" else (422,)
        if response["statusCode"] not in allowed:
            problems.append(f"{method} {path}: {response['statusCode']} {response.get('body', '')[:120]}")
        elif response["statusCode"] == 422:
            assert_error_shape(response, 422)
    assert not problems, "\n".join(problems)


def test_an_oversized_field_is_refused_and_the_gateway_refuses_more_than_10_mb(owner, invoke):
    from werkzeug.test import Client

    from devstack.gateway import Gateway

    # A 1 MB name: refused by the contract, with the field named
    big = '{"name": "' + "A" * 1_000_000 + '", "email": "big@example.com"}'
    error = assert_error_shape(call_raw(invoke, "POST", "/api/accounts/{account_id}/contacts", owner, big), 422)
    assert [f["field"] for f in error["fields"]] == ["name"]
    # More than API Gateway's 10 MB: the gateway answers 413 in the error shape without calling a function
    called = []
    gateway = Gateway(lambda function, event: called.append(function) or {"statusCode": 200}, lambda token: {})
    answer = Client(gateway).post(
        "/api/auth/signup", data=b"x" * (10 * 1024 * 1024 + 1), content_type="application/json"
    )
    assert answer.status_code == 413 and called == []
    assert answer.get_json()["error"]["code"] == "validation_error"


# --- attachments: path traversal -----------------------------------------------------------------------------------------
TRAVERSALS = [
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/shadow",
    "a/../../../b.png",
    "..",
    "....//x.png",
    "%2e%2e%2fsecret.png",
    "x.png\x00.exe",
    "\r\nContent-Type: text/html\r\n.png",
]


@pytest.mark.parametrize("filename", TRAVERSALS)
def test_attachment_names_cannot_leave_the_accounts_folder(owner, invoke, filename):
    response = call_raw(
        invoke,
        "POST",
        "/api/accounts/{account_id}/attachments",
        owner,
        json_dumps({"filename": filename, "content_type": "image/png", "size": len(PNG)}),
    )
    if response["statusCode"] == 422:
        assert_error_shape(response, 422)
        return
    assert response["statusCode"] == 201, response["body"]
    upload = json_body(response)["upload"]
    key = upload["fields"]["key"]
    assert ".." not in key.split("/") and "\\" not in key and "\x00" not in key and "\n" not in key
    assert owner["account_id"] in key
    assert post_form(upload, PNG, "x.png").status_code == 204
    attachment_id = json_body(response)["attachment_id"]
    stored = _stored_filename(owner["account_id"], attachment_id)
    assert "/" not in stored and "\\" not in stored and not any(c in stored for c in '\r\n\x00"')
    assert stored not in ("", ".", "..")


def _stored_filename(account_id: str, attachment_id: str) -> str:
    from balcao.runtime.tickets_composition import ticket_store

    attachment = ticket_store().attachment(account_id, attachment_id)
    assert attachment is not None
    return str(attachment.filename)


def json_dumps(value: Any) -> str:
    import json

    return json.dumps(value)


# --- CR/LF in email fields and in names that reach email headers ---------------------------------------------------------
EMAIL_FIELDS = [
    ("POST", "/api/accounts/{account_id}/contacts", {"name": "C", "email": "c@example.com\r\nBcc: x@example.com"}),
    (
        "POST",
        "/api/accounts/{account_id}/invitations",
        {"email": "i@example.com\nBcc: x@example.com", "permissions": ["contacts"]},
    ),
    (
        "POST",
        "/api/auth/signup",
        {
            "email": "s@example.com\r\nBcc: x@example.com",
            "password": "Sup3r-Secret-pass!",
            "name": "S",
            "language": "pt-BR",
            "accept_terms": True,
        },
    ),
    ("POST", "/api/auth/password/forgot", {"email": "f@example.com\r\nBcc: x@example.com"}),
    ("PATCH", "/api/accounts/{account_id}", {"notice_email": "n@example.com\r\nBcc: x@example.com"}),
]


@pytest.mark.parametrize(("method", "path", "body"), EMAIL_FIELDS, ids=[f"{m} {p}" for m, p, _ in EMAIL_FIELDS])
def test_an_email_address_with_cr_or_lf_is_refused(owner, invoke, method, path, body):
    response = call_raw(invoke, method, path, owner, json_dumps(body))
    if path == "/api/auth/password/forgot" and response["statusCode"] == 202:
        return  # always 202 (API.md): nothing may be sent to such an address
    error = assert_error_shape(response, 422)
    assert error["fields"], error


def raw_messages() -> list[email.message.EmailMessage]:
    from moto.ses.models import ses_backends

    sent = ses_backends["123456789012"]["eu-west-1"].sent_messages
    return [
        email.message_from_bytes(
            m.raw_data.encode() if isinstance(m.raw_data, str) else m.raw_data, policy=policy.default
        )
        for m in sent
        if getattr(m, "raw_data", None)
    ]


def test_names_with_cr_lf_never_add_an_email_header(aws, invoke):
    # Given an account whose name and a ticket whose subject carry a header injection
    caller = given_session("crlf-owner", "crlf-owner@example.com")
    account = given_account(caller.user_id, name=HEADER_INJECTION, email=caller.email)
    opened = invoke(
        "tickets",
        api_event(
            "POST",
            f"/api/accounts/{account}/tickets",
            resource="/api/accounts/{account_id}/tickets",
            claims=caller.claims,
            body={"department": "technical_support", "subject": HEADER_INJECTION, "message": HEADER_INJECTION},
        ),
    )
    assert opened["statusCode"] in (201, 422), opened["body"]
    # When the emails go out
    Pipeline(aws, invoke).run()
    # Then each was sent (nothing stuck on a bad header), to its recipients only, with no injected header
    messages = raw_messages()
    assert messages or opened["statusCode"] == 422
    for message in messages:
        assert message["Bcc"] is None and "intruder@example.com" not in str(message["To"])
        for name, value in message.items():
            assert "\r" not in str(value) and "\n" not in str(value).replace("\n ", "").replace("\n\t", ""), name


# --- XSS in what the portal and the emails render ------------------------------------------------------------------------
def assert_escaped(html: str, where: str) -> None:
    assert "<script>alert(2)" not in html and "<img src=x onerror" not in html, where


@pytest.fixture
def xss_owner(aws, invoke) -> dict[str, Any]:
    """A signed-in owner whose account, contact, ticket and reply all carry XSS payloads."""
    email_address = unique("xss")
    user_id = login_user(email_address, XSS)
    account = given_account(user_id, name=XSS, email=email_address)
    from balcao.adapters.dynamodb.accounts import member_item

    member_item(Membership(account, user_id, Role.OWNER, ALL_PERMISSIONS, XSS, user_email=email_address), NOW).save()
    visitor = Visitor(invoke)
    visitor.sign_in(email_address)
    caller = given_session(user_id, email_address)

    def api(method: str, path: str, resource: str, body: Any, folder: str) -> dict:
        response = invoke(folder, api_event(method, path, resource=resource, claims=caller.claims, body=body))
        assert response["statusCode"] in (200, 201), response["body"]
        return json_body(response)

    base = f"/api/accounts/{account}"
    contact = api(
        "POST",
        f"{base}/contacts",
        "/api/accounts/{account_id}/contacts",
        {"name": XSS, "email": "xss-contact@example.com", "departments": ["support", "general"]},
        "accounts",
    )
    ticket = api(
        "POST",
        f"{base}/tickets",
        "/api/accounts/{account_id}/tickets",
        {"department": "technical_support", "subject": XSS, "message": XSS},
        "tickets",
    )
    api(
        "POST",
        f"{base}/tickets/{ticket['ticket_id']}/replies",
        "/api/accounts/{account_id}/tickets/{ticket_id}/replies",
        {"message": XSS},
        "tickets",
    )
    return {
        "visitor": visitor,
        "account": account,
        "contact_id": contact["contact_id"],
        "ticket_id": ticket["ticket_id"],
    }


def test_xss_payloads_are_escaped_on_every_page_that_shows_them(xss_owner):
    visitor = xss_owner["visitor"]
    pages = ["/", "/profile", "/contacts", f"/contacts/{xss_owner['contact_id']}", "/users", "/security"]
    served = {r.path for r in template.api_routes() if r.function == "PortalFunction" and r.method == "GET"}
    if "/tickets" in served:
        pages += ["/tickets", f"/tickets/{xss_owner['ticket_id']}"]
    shown = 0
    for page in pages:
        response = visitor.get(page)
        assert response["statusCode"] == 200, (page, response["statusCode"], header(response, "Location"))
        assert_escaped(response["body"], page)
        shown += "&lt;script&gt;alert(2)" in response["body"] or "&lt;img src=x" in response["body"]
    assert shown >= 3  # the payloads are on the pages, escaped
    assert "default-src" in (header(visitor.get("/"), "Content-Security-Policy") or "")


def test_xss_payloads_are_escaped_in_the_emails_they_reach(aws, invoke, xss_owner):
    Pipeline(aws, invoke).run()
    messages = mail.sent_messages()
    assert messages
    for message in messages:
        assert_escaped(message["html"], message["subject"])


class Payload(dict):
    """Event data answering the payload for any text field a template reads (money, dates and lists typed)."""

    def __missing__(self, key: str) -> Any:
        if any(word in key for word in ("amount", "total", "balance", "due", "price", "subtotal", "tax", "credit")):
            return {"amount": 4990, "currency": "BRL"} if not key.endswith(("_date", "_day")) else "2026-12-01"
        if key.endswith(("_date", "_at", "_until", "date")):
            return "2026-12-01"
        if key in ("lines", "attachments", "items", "services", "invoices"):
            return []
        if key.endswith(("_names", "_labels")):
            return {}
        if key in ("days", "count", "attempt", "days_overdue", "step_number"):
            return 3
        return XSS


def test_every_email_template_escapes_text_it_is_given():
    from balcao.services.notifications import EMAILS, Recipient, Site
    from balcao.web.emails import JinjaEmailRenderer

    renderer = JinjaEmailRenderer()
    site = Site(
        brand_name=XSS,
        public_base_url="https://central.example.com",
        support_email="s@example.com",
        sender="no-reply@example.com",
    )
    rendered = 0
    for spec in {s.template for s in EMAILS.values()}:
        context = {
            "data": Payload(),
            "site": site,
            "recipient": _recipient(Recipient),
            "account_name": XSS,
            "event_type": "x",
            "occurred_at": NOW,
        }
        try:
            email_ = renderer.render(spec, "en", context)
        except (TypeError, ValueError, AttributeError, KeyError, ArithmeticError, jinja2.TemplateError):
            continue  # a template that needs numbers or dates where text was given: the flows above cover it
        rendered += 1
        assert_escaped(email_.html, spec)
        assert "\n" not in email_.subject and "\r" not in email_.subject
    assert rendered >= len({s.template for s in EMAILS.values()}) * 2 // 3, rendered


def test_a_text_partial_escapes_in_the_html_email_and_not_in_the_text_one():
    # Regression: macros of email/_*.txt partials returned unescaped text that the HTML email took as markup
    from balcao.services.notifications import Site
    from balcao.web.emails import JinjaEmailRenderer

    site = Site("Balcão", "https://central.example.com", "s@example.com", "no-reply@example.com")
    data = {
        "invoice_id": "01INVOICE",
        "number": "INV-2026-000001",
        "total": {"amount": 4990, "currency": "BRL"},
        "amount_due": {"amount": 4990, "currency": "BRL"},
        "due_date": "2026-12-01",
        "kind": "renewal",
    }
    name = "Ana & Cia <script>alert(2)</script>"
    rendered = JinjaEmailRenderer().render(
        "invoice_created",
        "en",
        {
            "data": data,
            "site": site,
            "recipient": None,
            "account_name": name,
            "event_type": "invoice.created",
            "occurred_at": NOW,
        },
    )
    assert "&lt;script&gt;alert(2)" in rendered.html and "<script>alert(2)" not in rendered.html
    assert name in rendered.text


def _recipient(recipient_type: Any) -> Any:
    import dataclasses

    fields = {f.name: f for f in dataclasses.fields(recipient_type)}
    values = dict.fromkeys(fields, XSS)
    values.update({k: v for k, v in {"email": "r@example.com", "language": "en"}.items() if k in fields})
    return recipient_type(**{k: v for k, v in values.items() if fields[k].init})


# --- the gateway's own defences in template.yaml -----------------------------------------------------------------------
def test_the_api_stage_throttles_every_method_and_the_access_routes_harder():
    settings = template.api_settings()["MethodSettings"]
    routes = {(r.path, r.method) for r in template.api_routes()}
    stage = [s for s in settings if s["ResourcePath"] == "/*" and s["HttpMethod"] == "*"]
    assert stage and stage[0]["ThrottlingRateLimit"] > 0 and stage[0]["ThrottlingBurstLimit"] > 0
    specific = [s for s in settings if s is not stage[0]]

    def decoded(resource_path: str) -> str:  # "/~1api~1auth~1login" → "/api/auth/login"
        return unquote(resource_path[1:].replace("~1", "/"))

    assert {decoded(s["ResourcePath"]) for s in specific} >= {
        "/api/auth/login",
        "/api/auth/mfa",
        "/api/auth/signup",
        "/api/auth/signup/confirm",
        "/api/auth/password/forgot",
        "/api/auth/password/reset",
        "/login",
        "/login/totp",
        "/signup",
        "/signup/confirm",
        "/password/forgot",
        "/password/reset",
    }
    for setting in specific:
        # API Gateway encodes the slashes of a method setting's path as ~1 ("/~1api~1auth~1login")
        assert setting["ResourcePath"].startswith("/~1") and "/" not in setting["ResourcePath"][1:], setting
        assert (decoded(setting["ResourcePath"]), setting["HttpMethod"]) in routes, setting
        assert setting["ThrottlingRateLimit"] < stage[0]["ThrottlingRateLimit"]
