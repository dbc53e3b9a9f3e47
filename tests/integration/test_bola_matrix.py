"""The BOLA matrix: every route of every function — enumerated from the resolvers, not a hand list — is classified
(public, self, account-scoped, staff) and attacked the ways its class allows. An unclassified route fails.

Account-scoped routes are called four ways, each answering 404 with none of B's data in the body:
(a) a member of A with B's account id; (b) A's account id with B's resource ids; (c) a member of A lacking the
route's permission (or not the owner, on owner-only routes); (d) a technical delegate outside their service.
Self routes with another user's ids → 404. Staff routes → 403 for a customer and for a staff role not allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.identity import DynamoIdentityStore
from balcao.adapters.dynamodb.models import AuditItem, EmailLogItem, ServiceItem
from balcao.domain.accounts import ALL_PERMISSIONS, Permission
from balcao.domain.ids import new_ulid
from balcao.services.accounts import Accounts
from devstack import openapi, template
from support.clocks import FixedClock
from support.events import api_event, json_body
from support.identity import NOW, Caller, given_account, given_member, given_session, given_staff
from support.moto_state import reset_data

# A valid body per request schema (validation runs before authorization; an invalid body would prove nothing).
SAMPLE_BODIES: dict[str, Any] = {
    "AccountPatch": {"name": "Renamed"},
    "ContactIn": {"name": "Contato", "email": "contact@example.com", "departments": ["billing"]},
    "ContactPatch": {"name": "Contato"},
    "InviteContact": {"permissions": ["contacts"]},
    "PermissionsPatch": {"permissions": ["contacts"]},
    "OwnerTransfer": {"user_id": "USER"},
    "InvitationIn": {"email": "someone@example.com", "permissions": ["contacts"]},
    "CodeRequest": {"code": "123456"},
    "PasswordChange": {"current_password": "Old-password-1!", "new_password": "New-password-1!"},
    "EmailChangeRequest": {"email": "new@example.com"},
    "Patch": {"brand": {"name": "X"}},
    # invoices
    "PaymentMethodIn": {"method": "pix"},
    "AddFundsIn": {"amount": {"amount": 5000, "currency": "BRL"}},
    "CreditSettingsIn": {"auto_apply": False},
    "StaffInvoiceIn": {
        "account_id": "ACCOUNT",
        "lines": [{"description": "Hospedagem", "unit_price": {"amount": 4990, "currency": "BRL"}}],
    },
    "StaffPaymentIn": {"amount": {"amount": 4990, "currency": "BRL"}},
    "CreditNoteIn": {"reason": "Correção"},
    "StaffCreditIn": {"amount": {"amount": 1000, "currency": "BRL"}, "note": "Cortesia"},
    # tickets
    "AttachmentUploadIn": {"filename": "print.png", "content_type": "image/png", "size": 80},
    "TicketIn": {"department": "technical_support", "subject": "Site fora do ar", "message": "Não abre."},
    "ReplyIn": {"message": "Mais detalhes."},
    "CallbackIn": {"phone": "+55 11 98765-4321", "window": "morning", "reason": "Ligar sobre o servidor."},
    "StaffMessageIn": {"message": "Verificando."},
    "StaffTicketPatch": {"priority": "high"},
    # services
    "OrderIn": {"items": [{"product_id": "PRODUCT", "cycle": "monthly", "domain": "novo.com.br"}]},
    "ServicePasswordIn": {"password": "Nova-senha-forte-1"},
    "UpgradeIn": {"product_id": "PRODUCT", "cycle": "monthly", "confirm": False},
    "CancellationIn": {"type": "end_of_period", "reason": "Não preciso mais"},
    "ProductIn": {
        "name": {"pt-BR": "Plano", "es": "Plan", "en": "Plan"},
        "type": "other",
        "prices": [{"cycle": "monthly", "price": {"amount": 1000, "currency": "BRL"}}],
    },
    "ProductPatch": {"visible": False},
    "ServiceActionIn": {"reason": "staff"},
    # payments
    "PaymentIn": {"method": "pix"},
    "SeveralPaymentsIn": {"invoice_ids": ["INVOICE"], "method": "pix"},
    "SavedMethodIn": {"type": "card", "provider_payment_method": "pm_card_visa"},
    "SavedMethodPatch": {"default": True},
    "RefundIn": {"payment_id": "PAYMENT", "reason": "Cobrança indevida"},
}


@dataclass
class World:
    a: str
    b: str
    a_owner: Caller
    b_owner: Caller
    b_ids: dict[str, str]
    a_ids: dict[str, str]
    secrets: list[str]


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    document = openapi.build_document()
    return [(method.upper(), path, op) for path, item in document["paths"].items() for method, op in item.items()]


FUNCTIONS = {(r.method, r.path): r.function for r in template.api_routes()}
FOLDERS = {d.logical_id: d.folder for d in template.functions().values()}


def call(
    invoke, method: str, path: str, operation: dict[str, Any], values: dict[str, str], caller: Caller
) -> dict[str, Any]:
    concrete = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    body = None
    if "requestBody" in operation:
        ref = operation["requestBody"]["content"]["application/json"]["schema"].get("$ref", "")
        name = ref.rsplit("/", 1)[-1] or operation["requestBody"]["content"]["application/json"]["schema"].get(
            "title", ""
        )
        assert name in SAMPLE_BODIES, f"add a sample body for {name} ({method} {path})"
        body = SAMPLE_BODIES[name]
        if name == "OwnerTransfer":
            body = {"user_id": values.get("user_id", "x")}
    query = {p["name"]: "ab" for p in operation.get("parameters", []) if p["in"] == "query" and p.get("required")}
    event = api_event(method, concrete, resource=path, claims=caller.claims, body=body, query=query or None)
    return invoke(FOLDERS[FUNCTIONS[(method, path)]], event)


@pytest.fixture(scope="module")
def world(aws_session) -> Iterator[World]:
    """Built once for the module: every attack must be refused, so no test changes it (one that did would fail)."""
    from balcao.adapters.clock import SystemClock, install_clock
    from balcao.adapters.dynamodb.settings import forget_cached_settings

    reset_data()
    forget_cached_settings()
    install_clock(FixedClock(NOW))
    yield build_world()
    install_clock(SystemClock())
    forget_cached_settings()


def build_world() -> World:
    a_owner = given_session("owner-a", "a@example.com")
    b_owner = given_session("owner-b", "b@example.com")
    a = given_account(a_owner.user_id, name="Alfa Hospedagem", email=a_owner.email)
    b = given_account(b_owner.user_id, name="Beta Secreta", email=b_owner.email)
    accounts = Accounts(DynamoIdentityStore(), FixedClock(NOW))
    ids: dict[str, dict[str, str]] = {}
    secrets: list[str] = []
    for account_id, owner, label in ((a, a_owner, "a"), (b, b_owner, "b")):
        contact = accounts.add_contact(
            account_id, f"Contato {label}", f"contact-{label}@example.com", ["general"], None, None
        )
        member_id = f"member-{label}"
        given_member(account_id, member_id, {Permission.CONTACTS}, email=f"member-{label}@example.com")
        service_id = new_ulid()
        ServiceItem(
            pk=keys.account_pk(account_id),
            sk=keys.service_sk(service_id),
            service_id=service_id,
            account_id=account_id,
            name="Hospedagem",
            domain=f"{label}-domain.com.br",
            status="active",
        ).save()
        membership = DynamoIdentityStore().membership(account_id, owner.user_id)
        invitation = accounts.invite(
            account_id,
            membership,
            f"invitee-{label}@example.com",
            ["contacts"],
            None,
            inviter_name="X",
            service_name=None,
            accept_base_url="http://x",
        )
        email_id = new_ulid()
        EmailLogItem(
            pk=keys.account_pk(account_id),
            sk=keys.email_sk(email_id),
            email_id=email_id,
            account_id=account_id,
            event_id="e",
            template="welcome",
            department="general",
            recipient=owner.email,
            subject=f"Secret subject {label}",
            body_text="x",
            body_html="x",
            status="sent",
            sent_at=NOW,
        ).save()
        AuditItem(
            pk=keys.account_pk(account_id),
            sk=keys.audit_sk(new_ulid()),
            audit_id=new_ulid(),
            at=NOW,
            action="X",
            account_id=account_id,
        ).save()
        session = DynamoIdentityStore().sessions_of(owner.user_id)[0]
        ids[label] = {
            "contact_id": contact.contact_id,
            "user_id": member_id,
            "invitation_id": invitation.invitation_id,
            "email_id": email_id,
            "service_id": service_id,
            "session_id": session.session_id,
        }
        # invoices: add the ids of this account's invoice resources to ids[label] here
        from support.billing import given_invoice_with_credit_note

        ids[label] |= given_invoice_with_credit_note(account_id)
        # tickets: add the ids of this account's ticket resources to ids[label] here
        from support.tickets import given_ticket_with_attachment

        ids[label] |= given_ticket_with_attachment(account_id, owner)
        # services: add the ids of this account's services resources to ids[label] here
        ids[label]["product_id"] = f"product-{label}"
        # payments: a payment (PIX, through the sandbox) and a saved card of this account
        from support.payments import given_payment_and_saved_method

        ids[label] |= given_payment_and_saved_method(account_id)
    # Invitation tokens are only in the emails; an unknown token must 404 like another's would.
    ids["b"]["token"] = "b-invitation-token-that-is-not-yours"
    secrets = ["Beta Secreta", "contact-b@example.com", "Secret subject b", "b-domain.com.br", b]
    return World(a, b, a_owner, b_owner, ids["b"], ids["a"], secrets)


def assert_not_found_without_b_data(response: dict[str, Any], world: World, label: str) -> None:
    assert response["statusCode"] == 404, f"{label}: {response['statusCode']} {response.get('body', '')[:300]}"
    for secret in world.secrets:
        assert secret not in (response.get("body") or ""), f"{label}: leaked {secret}"


def test_every_route_is_classified():
    for method, path, operation in operations():
        assert operation.get("x-balcao-access") in {"public", "self", "account", "staff"}, (
            f"{method} {path} is not classified"
        )
        if path.startswith("/api/accounts/{account_id}"):
            assert operation["x-balcao-access"] == "account", (
                f"{method} {path} is under an account but not account-scoped"
            )
        if path.startswith("/api/staff/"):
            assert operation["x-balcao-access"] == "staff", f"{method} {path}"


ACCOUNT_ROUTES = [(m, p, o) for m, p, o in operations() if o.get("x-balcao-access") == "account"]
SELF_ROUTES = [(m, p, o) for m, p, o in operations() if o.get("x-balcao-access") == "self" and "{" in p]
STAFF_ROUTES = [(m, p, o) for m, p, o in operations() if o.get("x-balcao-access") == "staff"]


@pytest.mark.parametrize(
    ("method", "path", "operation"), ACCOUNT_ROUTES, ids=[f"{m} {p}" for m, p, _ in ACCOUNT_ROUTES]
)
def test_account_routes_answer_404_four_ways(world, invoke, method, path, operation):
    params = re.findall(r"\{(\w+)\}", path)
    # (a) A's owner with B's account id (and B's resource ids)
    values = {**world.b_ids, "account_id": world.b}
    assert_not_found_without_b_data(
        call(invoke, method, path, operation, values, world.a_owner), world, "(a) other account"
    )
    # (b) A's account id with B's resource ids
    if len(params) > 1:
        values = {**world.b_ids, "account_id": world.a}
        assert_not_found_without_b_data(
            call(invoke, method, path, operation, values, world.a_owner), world, "(b) other resources"
        )
    own = {**world.a_ids, "account_id": world.a}
    # (c) a member of A lacking the route's permission (or any non-owner on owner-only routes)
    permission = operation.get("x-balcao-permission")
    if permission or operation.get("x-balcao-owner-only"):
        held = {p for p in ALL_PERMISSIONS if p.value != permission}
        lacking = given_session(f"lacking-{new_ulid()}", "lacking@example.com")
        given_member(world.a, lacking.user_id, held, email="lacking@example.com")
        assert_not_found_without_b_data(
            call(invoke, method, path, operation, own, lacking), world, "(c) lacking permission"
        )
    # (d) a delegate of another service of A
    delegate = given_session(f"delegate-{new_ulid()}", "delegate@example.com")
    given_member(
        world.a,
        delegate.user_id,
        {Permission.SERVICES, Permission.SERVICE_SSO, Permission.MANAGE_SERVICES},
        service_id=new_ulid(),
        email="delegate@example.com",
    )
    assert_not_found_without_b_data(
        call(invoke, method, path, operation, own, delegate), world, "(d) delegate outside their service"
    )


@pytest.mark.parametrize(("method", "path", "operation"), SELF_ROUTES, ids=[f"{m} {p}" for m, p, _ in SELF_ROUTES])
def test_self_routes_with_another_users_ids_answer_404(world, invoke, method, path, operation):
    response = call(invoke, method, path, operation, world.b_ids, world.a_owner)
    assert_not_found_without_b_data(response, world, "self route with another user's id")


@pytest.mark.parametrize(("method", "path", "operation"), STAFF_ROUTES, ids=[f"{m} {p}" for m, p, _ in STAFF_ROUTES])
def test_staff_routes_refuse_customers_and_other_roles(world, invoke, method, path, operation):
    values = {**world.b_ids, "account_id": world.b}
    response = call(invoke, method, path, operation, values, world.a_owner)
    assert response["statusCode"] == 403 and json_body(response)["error"]["code"] == "forbidden", (
        f"customer: {response['statusCode']}"
    )
    allowed = set(operation.get("x-balcao-staff-roles", []))
    for role in ("staff_support", "staff_finance"):
        if role not in allowed:
            response = call(invoke, method, path, operation, values, given_staff(role))
            assert response["statusCode"] == 403, f"{role}: {response['statusCode']}"


def test_the_matrix_covers_routes_of_every_json_function():
    covered = {FUNCTIONS[(m, p)] for m, p, _ in operations()}
    functions_with_api = {r.function for r in template.api_routes()} - openapi.HTML_FUNCTIONS
    assert covered == functions_with_api
    assert json.dumps(SAMPLE_BODIES)  # every sample body is JSON
