"""A browser for portal events in integration tests: a cookie jar, form posts carrying the CSRF token, the last
answer; signed-in owners and members with real Cognito logins; and the checks every page test makes."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3

from balcao.adapters.dynamodb.identity import DynamoIdentityStore
from balcao.domain.accounts import Permission
from balcao.domain.identity import User, UserStatus
from devstack.seed import confirmed_cognito_user
from support.events import api_event, header
from support.identity import NOW, given_account, given_member

PORTAL = "portal"
PASSWORD = "Sup3r-Secret-pass!"
CSRF = "k" * 43


@dataclass
class Visitor:
    invoke: Any
    language: str = "en"
    cookies: dict[str, str] = field(default_factory=lambda: {"balcao_csrf": CSRF})
    device: str = "Mozilla/5.0 (X11; Linux x86_64) Chromium"
    user_id: str = ""

    def request(self, method: str, path: str, form: dict[str, Any] | None = None, csrf: bool = True) -> dict:
        split = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()} or None
        headers = {
            "Accept": "text/html",
            "Accept-Language": self.language,
            "User-Agent": self.device,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        raw = None
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = dict(form or {})
            if csrf:
                body["csrf_token"] = CSRF
            raw = urlencode(body, doseq=True)
        response = self.invoke(PORTAL, api_event(method, split.path, headers=headers, raw_body=raw, query=query))
        for cookie in (response.get("multiValueHeaders") or {}).get("Set-Cookie", []):
            name, _, rest = cookie.partition("=")
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = rest.split(";")[0]
        return response

    def get(self, path: str) -> dict:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, Any] | None = None, csrf: bool = True) -> dict:
        return self.request("POST", path, form, csrf)

    def sign_in(self, email: str, password: str = PASSWORD) -> dict:
        response = self.post("/login", {"email": email, "password": password, "next": "/"})
        assert response["statusCode"] in (200, 303), response["body"]
        return response


def unique(name: str) -> str:
    """An address of its own for this test (Cognito's users outlive the per-test data reset)."""
    return f"{name}.{uuid.uuid4().hex[:8]}@example.com"


def login_user(email: str, name: str, language: str = "en") -> str:
    """A confirmed login (Cognito user + user record) with PASSWORD; its user id."""
    sub = confirmed_cognito_user(boto3.client("cognito-idp"), os.environ["USER_POOL_ID"], email, name, PASSWORD)
    DynamoIdentityStore().create_user(User(sub, email, name, language, UserStatus.ACTIVE, NOW))
    return sub


def member_of(invoke, account_id: str, permissions: set[Permission], name: str = "mel") -> Visitor:
    email = unique(name)
    user_id = login_user(email, name.title())
    given_member(account_id, user_id, permissions, email=email)
    visitor = Visitor(invoke, user_id=user_id)
    visitor.sign_in(email)
    return visitor


def location(response: dict) -> str:
    return header(response, "Location") or ""


def text(response: dict) -> str:
    return unescape(response["body"])


def assert_refused(response: dict) -> None:
    """The 404 page: the same for what does not exist and for what is not the visitor's."""
    assert response["statusCode"] == 404, (response["statusCode"], location(response))
    assert "Page not found" in response["body"]


def assert_form_error(response: dict, field_name: str, message: str) -> None:
    """A 422 re-render: the error summary links to the field, which is invalid and described by its message."""
    body = response["body"]
    assert response["statusCode"] == 422, response["statusCode"]
    field_id = "field-" + field_name.replace(".", "-")
    assert 'role="alert"' in body and f'href="#{field_id}"' in body, body
    assert f'id="{field_id}-error"' in body and message in text(response), text(response)
    tag = re.search(rf'<(?:input|select|textarea|fieldset)[^>]*id="{re.escape(field_id)}"[^>]*>', body)
    assert tag is not None, field_id
    assert f"{field_id}-error" in tag.group(0)
    if not tag.group(0).startswith("<fieldset"):
        assert 'aria-invalid="true"' in tag.group(0)


def headings(response: dict) -> list[str]:
    return [
        unescape(re.sub(r"<[^>]+>", "", h)).strip()
        for h in re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", response["body"], re.S)
    ]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


DATE_OR_TIME = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}(, \d{1,2}:\d{2}:\d{2}\s?[AP]M)?$")


def untranslated(response: dict, data: set[str]) -> list[str]:
    """Text of the page's main part that bypassed translation on a pseudo-locale page (``?lang=x-pseudo``, where
    every translated string is wrapped in ``⟦…⟧``): what is neither wrapped, nor one of ``data``, nor a date."""
    body = response["body"]
    main = body[body.index("<main") : body.index("</main>")]
    found = [unescape(t) for t in re.findall(r">([^<]+)<", main)]
    found += [unescape(a) for a in re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]+)"', main)]
    left = []
    for piece in found:
        cleaned = re.sub(r"⟦[^⟧]*⟧", "", piece).replace("\u202f", " ").strip(" ·:\n+-−")
        if re.search(r"[^\W\d_]{3,}", cleaned) and cleaned not in data and not DATE_OR_TIME.match(cleaned):
            left.append(cleaned)
    return left


@contextmanager
def cookies_as_on_the_local_stack() -> Iterator[None]:
    """Plain-http cookies, as on the local stack, where the pseudo-locale of the translation checks is served."""
    from balcao.runtime.settings import load_settings

    saved = os.environ.get("SECURE_COOKIES")
    os.environ["SECURE_COOKIES"] = "false"
    load_settings.cache_clear()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("SECURE_COOKIES", None)
        else:
            os.environ["SECURE_COOKIES"] = saved
        load_settings.cache_clear()


@dataclass
class TwoOwners:
    """Ana owns a Brazilian account (current, signed in) and a Spanish one; Bia owns an account whose data must never
    show on Ana's pages."""

    a: str
    a2: str
    b: str
    ana: str
    bia: str
    owner: Visitor
    other_owner: Visitor


def two_owners(invoke: Any) -> TwoOwners:
    ana_email, bia_email = unique("ana"), unique("bia")
    ana = login_user(ana_email, "Ana Souza")
    bia = login_user(bia_email, "Bia Reis")
    a = given_account(ana, name="Ana Design", email=ana_email)
    a2 = given_account(ana, name="Ana Estudio", email=ana_email, language="es", currency="EUR")
    b = given_account(bia, name="Bia Estudio", email=bia_email, language="es", currency="EUR")
    owner = Visitor(invoke)
    owner.sign_in(ana_email)
    owner.cookies["balcao_account"] = a
    other_owner = Visitor(invoke)
    other_owner.sign_in(bia_email)
    return TwoOwners(a, a2, b, ana, bia, owner, other_owner)
