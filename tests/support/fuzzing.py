"""The fuzz suite's world: operations grouped by the function that serves them, one fresh customer per group with
real resources (a contact, an invitation, a ticket with an attachment, an issued invoice with a credit note), the
seeded staff login for staff routes, and the operations the fuzzer leaves alone."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import requests

from devstack import template
from support.stack_client import StackClient

PASSWORD = "Fuzz-Passw0rd-2026!"
HIGH = {"capacity": 100_000, "window_seconds": 60}
FUNCTIONS = {(r.method, r.path): r.function for r in template.api_routes()}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
# Operations that would end the group's own session or identity mid-run (logout, password, MFA, email change,
# self-removal): the fuzzer leaves them to the identity suites.
EXCLUDED = [
    ("POST", r"^/api/auth/logout$"),
    ("PUT", r"^/api/me/password$"),
    (None, r"^/api/me/mfa/"),
    (None, r"^/api/me/email"),
    ("DELETE", r"^/api/accounts/\{account_id\}/users/\{user_id\}$"),
]


def excluded(method: str, path: str) -> bool:
    return any((m is None or m == method) and re.search(pattern, path) for m, pattern in EXCLUDED)


# Operations that may lock their group out, each fuzzed by a user of its own: closing the account ends it, and the
# account's settings may turn on ``require_mfa``, which refuses the group's session (no TOTP) from then on.
OWN_GROUPS = {
    (None, "/api/accounts/{account_id}/closure"): "closure",
    ("PATCH", "/api/accounts/{account_id}"): "account-settings",
}


def group_of(method: str, path: str) -> str:
    """The group an operation belongs to: staff, public, one of its own (``OWN_GROUPS``) or its function's."""
    if path.startswith("/api/staff/"):
        return "staff"
    own = OWN_GROUPS.get((method, path)) or OWN_GROUPS.get((None, path))
    if own is not None:
        return own
    if not path.startswith("/api/accounts/") and not path.startswith("/api/me") and "/invitations/" not in path:
        return "public"
    return FUNCTIONS.get((method, path), "other")


@dataclass
class Group:
    name: str
    email: str = ""
    token: str = ""
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass
class FuzzWorld:
    client: StackClient
    staff: Group
    groups: dict[str, Group] = field(default_factory=dict)

    def group(self, method: str, path: str) -> Group:
        name = group_of(method, path)
        if name == "staff":
            return self.staff
        if name == "public":
            return Group("public")
        return self.groups.get(name) or self.groups["other"]


def build_world(client: StackClient) -> FuzzWorld:
    staff_token = client.staff_token()
    limits = {route: {"per_ip": HIGH, "per_email": HIGH} for route in ("signup", "confirm", "login", "forgot", "reset")}
    limits["mfa"] = {"per_ip": HIGH}
    client.patch("/api/staff/settings", {"rate_limits": limits}, token=staff_token).raise_for_status()
    names = sorted({group_of(m, p) for m, p in FUNCTIONS} - {"staff", "public"} | {"other"})
    groups = signed_up(client, names)
    for group in groups.values():
        give_data(client, group, staff_token)
    client.settle()
    for group in groups.values():
        emails = client.get(f"/api/accounts/{group.ids['account_id']}/emails", token=group.token).json()["items"]
        if emails:
            group.ids["email_id"] = emails[0]["email_id"]
    staff = Group("staff", token=staff_token, ids=dict(groups["other"].ids))
    return FuzzWorld(client, staff, groups)


def signed_up(client: StackClient, names: list[str]) -> dict[str, Group]:
    """A fresh customer per name: signed up, confirmed, signed in (no TOTP), with the account sign-up made."""
    groups = {name: Group(name, email=f"fuzz-{name.lower()}-{uuid.uuid4().hex[:6]}@example.com") for name in names}
    for group in groups.values():
        client.post(
            "/api/auth/signup",
            {"email": group.email, "password": PASSWORD, "name": "Fuzz", "language": "en", "accept_terms": True},
        ).raise_for_status()
    client.settle()
    for group in groups.values():
        code = client.code_in(group.email)
        client.post("/api/auth/signup/confirm", {"email": group.email, "code": code}).raise_for_status()
    client.settle()
    for group in groups.values():
        group.token = client.token(group.email, PASSWORD)
        me = client.get("/api/me", token=group.token).json()
        group.ids.update(account_id=me["accounts"][0]["account_id"], user_id=me["user_id"])
    return groups


def give_data(client: StackClient, group: Group, staff_token: str) -> None:
    """A contact, an invitation, a ticket with an attachment, an issued invoice with a credit note."""
    account = group.ids["account_id"]
    base = f"/api/accounts/{account}"

    def created(response: requests.Response, key: str) -> str:
        response.raise_for_status()
        return str(response.json()[key])

    group.ids["contact_id"] = created(
        client.post(
            f"{base}/contacts", {"name": "Contato", "email": f"c-{uuid.uuid4().hex[:6]}@example.com"}, token=group.token
        ),
        "contact_id",
    )
    group.ids["invitation_id"] = created(
        client.post(
            f"{base}/invitations",
            {"email": f"i-{uuid.uuid4().hex[:6]}@example.com", "permissions": ["contacts"]},
            token=group.token,
        ),
        "invitation_id",
    )
    grant = client.post(
        f"{base}/attachments",
        {"filename": "print.png", "content_type": "image/png", "size": len(PNG)},
        token=group.token,
    )
    attachment_id = created(grant, "attachment_id")
    form = grant.json()["upload"]
    requests.post(form["url"], data=form["fields"], files={"file": ("print.png", PNG)}, timeout=30).raise_for_status()
    client.post(f"{base}/attachments/{attachment_id}/confirm", token=group.token).raise_for_status()
    group.ids["attachment_id"] = attachment_id
    group.ids["ticket_id"] = created(
        client.post(
            f"{base}/tickets",
            {
                "department": "technical_support",
                "subject": "Fuzz",
                "message": "Olá.",
                "attachment_ids": [attachment_id],
            },
            token=group.token,
        ),
        "ticket_id",
    )
    invoice = client.post(
        "/api/staff/invoices",
        {
            "account_id": account,
            "issue": True,
            "lines": [
                {"description": "Hospedagem", "unit_price": {"amount": 4990, "currency": "BRL"}},
                {"description": "Suporte", "unit_price": {"amount": 1990, "currency": "BRL"}},
            ],
        },
        token=staff_token,
    )
    group.ids["invoice_id"] = created(invoice, "invoice_id")
    note = client.post(
        f"/api/staff/invoices/{group.ids['invoice_id']}/credit-notes",
        {"reason": "Correção", "lines": [{"line": 1, "quantity": 1}]},
        token=staff_token,
    )
    if note.status_code == 201:
        group.ids["credit_note_id"] = str(note.json()["credit_note_id"])
