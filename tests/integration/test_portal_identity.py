"""The portal's identity and notifications pages on moto: profile, contacts, users and invitations, security,
audit and email logs — success, 422 re-renders with inline errors, the 404 page for a member without the
permission, CSRF refusals, and no page showing another account's data."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.identity import DynamoIdentityStore
from balcao.adapters.dynamodb.models import (
    AccountItem,
    AuditItem,
    EmailLogItem,
    ExportItem,
    InvitationItem,
    LookupItem,
    ServiceItem,
)
from balcao.domain.accounts import Permission
from balcao.domain.ids import new_ulid
from balcao.domain.totp import totp_code
from devstack import mail
from support.events import api_event, header
from support.identity import NOW, given_account, given_session
from support.pipeline import Pipeline
from support.portal import (
    PASSWORD,
    Visitor,
    assert_form_error,
    assert_refused,
    location,
    login_user,
    member_of,
    text,
    unique,
)


@dataclass
class World:
    a: str
    b: str
    ana: str
    bia: str
    ana_email: str
    bia_email: str
    owner: Visitor
    other_owner: Visitor


@pytest.fixture
def world(aws, invoke) -> World:
    """Ana owns A (and is signed in); Bia owns B, with data of its own that must never show on A's pages."""
    ana_email, bia_email = unique("ana"), unique("bia")
    ana = login_user(ana_email, "Ana Souza")
    bia = login_user(bia_email, "Bia Reis")
    a = given_account(ana, name="Ana Design", email=ana_email)
    b = given_account(bia, name="Bia Estudio", email=bia_email, language="es", currency="EUR")
    owner = Visitor(invoke)
    owner.sign_in(ana_email)
    other_owner = Visitor(invoke)
    other_owner.sign_in(bia_email)
    return World(a, b, ana, bia, ana_email, bia_email, owner, other_owner)


def audit_actions(account_id: str) -> list[str]:
    return [i.action for i in AuditItem.query(keys.account_pk(account_id), AuditItem.sk.startswith(keys.AUDIT_PREFIX))]


# --- signing in --------------------------------------------------------------------------------------------------
def test_every_identity_page_asks_an_anonymous_visitor_to_sign_in_first(aws, invoke):
    visitor = Visitor(invoke)
    for path in ("/profile", "/contacts", "/users", "/security", "/audit", "/emails", "/emails/X/html"):
        response = visitor.get(path)
        assert response["statusCode"] == 303 and location(response) == "/login?" + urlencode({"next": path})
    refused = visitor.post("/contacts", {"name": "X", "email": "x@example.com"})
    assert refused["statusCode"] == 303 and location(refused).startswith("/login?")


# --- profile -----------------------------------------------------------------------------------------------------
PROFILE_FORM = {
    "name": "Ana Souza Design",
    "company": "Ana Souza Design Ltda",
    "tax_id": "11.222.333/0001-81",
    "address.line1": "Avenida Paulista",
    "address.number": "1000",
    "address.line2": "",
    "address.district": "Bela Vista",
    "address.city": "São Paulo",
    "address.state": "sp",
    "address.postal_code": "01310100",
    "address.country": "BR",
    "phone": "(11) 91234-5678",
    "language": "pt-BR",
    "notice_email": "contratos@example.com",
}


def test_the_owner_edits_the_profile_and_sees_the_formatted_values(world):
    saved = world.owner.post("/profile/edit", {**PROFILE_FORM, "require_mfa": ""})
    assert saved["statusCode"] == 303 and location(saved) == "/profile?notice=saved"
    page = world.owner.get("/profile?notice=saved")
    body = text(page)
    assert page["statusCode"] == 200 and "Saved." in body
    assert "CNPJ 11.222.333/0001-81" in body and "01310-100" in body and "Brazil" in body
    assert "+5511912345678" in body and "contratos@example.com" in body and "Português (Brasil)" in body
    assert "Request a data export" in body and "Request the closure of the account" in body
    assert audit_actions(world.a) == ["PATCH /api/accounts/{account_id}"]
    form = world.owner.get("/profile/edit")
    assert 'value="11.222.333/0001-81"' in form["body"] and 'name="require_mfa"' in form["body"]


def test_invalid_tax_id_postal_code_and_phone_re_render_the_form_with_every_error(world):
    response = world.owner.post(
        "/profile/edit",
        {**PROFILE_FORM, "tax_id": "111.444.777-00", "address.postal_code": "1234", "phone": "12345"},
    )
    assert_form_error(response, "tax_id", "Enter a valid CPF (11 digits) or CNPJ")
    assert_form_error(response, "address.postal_code", "Enter a CEP with 8 digits")
    assert_form_error(response, "phone", "Enter a Brazilian phone number")
    assert 'value="111.444.777-00"' in response["body"] and 'value="Avenida Paulista"' in response["body"]
    assert AccountItem.get(keys.account_pk(world.a), keys.PROFILE).tax_id is None
    spanish = world.owner.post(
        "/profile/edit",
        {**PROFILE_FORM, "tax_id": "12345678A", "address.country": "ES", "address.postal_code": "28013"},
    )
    assert_form_error(spanish, "tax_id", "Enter a valid NIF, NIE or CIF")
    assert audit_actions(world.a) == []


def test_the_profile_form_is_translated_and_its_errors_too(world):
    world.owner.cookies["balcao_lang"] = "pt-BR"
    response = world.owner.post("/profile/edit", {**PROFILE_FORM, "address.postal_code": "1"})
    assert response["statusCode"] == 422
    assert "Informe um CEP com 8 dígitos" in text(response) and "Editar os dados cadastrais" in text(response)


def test_a_member_with_the_profile_permission_cannot_require_2fa_and_others_get_the_404_page(world, invoke):
    editor = member_of(invoke, world.a, {Permission.PROFILE}, "editor")
    form = editor.get("/profile/edit")
    assert form["statusCode"] == 200 and 'name="require_mfa"' not in form["body"]
    saved = editor.post("/profile/edit", {**PROFILE_FORM, "require_mfa": "yes"})
    assert saved["statusCode"] == 303
    assert AccountItem.get(keys.account_pk(world.a), keys.PROFILE).require_mfa is False
    page = editor.get("/profile")
    assert "Request a data export" not in page["body"] and f"/accounts/{world.a}/leave" in page["body"]
    assert_refused(editor.post("/profile/export"))
    assert_refused(editor.get("/profile/closure"))
    outsider = member_of(invoke, world.a, {Permission.INVOICES}, "outsider")
    for path in ("/profile", "/profile/edit"):
        assert_refused(outsider.get(path))
    assert_refused(outsider.post("/profile/edit", PROFILE_FORM))


def test_the_owner_requests_a_data_export_and_the_closure_after_a_confirmation_page(world):
    exported = world.owner.post("/profile/export")
    assert exported["statusCode"] == 303 and location(exported) == "/profile?notice=export_requested"
    assert ExportItem.count(keys.account_pk(world.a), ExportItem.sk.startswith("EXPORT#")) == 1
    confirm = world.owner.get("/profile/closure")
    assert confirm["statusCode"] == 200 and 'action="/profile/closure"' in confirm["body"]
    closed = world.owner.post("/profile/closure")
    assert closed["statusCode"] == 303 and location(closed) == "/profile?notice=closure_requested"
    assert AccountItem.get(keys.account_pk(world.a), keys.PROFILE).status == "closure_requested"
    page = text(world.owner.get("/profile"))
    assert "The closure of this account was requested on" in page
    assert "Request the closure of the account" not in page
    assert audit_actions(world.a) == [
        "POST /api/accounts/{account_id}/exports",
        "POST /api/accounts/{account_id}/closure",
    ]


# --- contacts ----------------------------------------------------------------------------------------------------
def contact_form(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Caio Financeiro",
        "email": "caio@hotmail.com",
        "phone": "",
        "language": "pt-BR",
        "departments": ["billing", "support"],
        **changes,
    }


def test_contacts_are_added_edited_and_removed_with_a_confirmation(world):
    page = world.owner.get("/contacts")
    assert page["statusCode"] == 200
    assert "<legend>Emails this contact receives</legend>" in page["body"]
    assert re.search(r'id="field-departments-general"[^>]* checked', page["body"])
    added = world.owner.post("/contacts", contact_form())
    assert added["statusCode"] == 303 and location(added) == "/contacts?notice=contact_added"
    listed = text(world.owner.get("/contacts?notice=contact_added"))
    assert "The contact was added." in listed and "Caio Financeiro" in listed and "Billing, Support" in listed
    assert "Microsoft mail (Hotmail, Outlook, Live) often filters hosting mail" in listed
    assert "Addresses concerned: caio@hotmail.com" in listed
    [contact] = DynamoIdentityStore().contacts(world.a)
    form = world.owner.get(f"/contacts/{contact.contact_id}")
    assert re.search(r'id="field-departments-billing"[^>]* checked', form["body"])
    assert not re.search(r'id="field-departments-general"[^>]* checked', form["body"])
    saved = world.owner.post(
        f"/contacts/{contact.contact_id}", contact_form(email="caio@empresa.com.br", departments=["general"])
    )
    assert saved["statusCode"] == 303 and location(saved) == "/contacts?notice=saved"
    [changed] = DynamoIdentityStore().contacts(world.a)
    assert changed.email == "caio@empresa.com.br" and {d.value for d in changed.departments} == {"general"}
    confirm = world.owner.get(f"/contacts/{contact.contact_id}/delete")
    assert "Caio Financeiro (caio@empresa.com.br) will no longer receive" in text(confirm)
    removed = world.owner.post(f"/contacts/{contact.contact_id}/delete")
    assert removed["statusCode"] == 303 and location(removed) == "/contacts?notice=contact_removed"
    assert DynamoIdentityStore().contacts(world.a) == []
    assert audit_actions(world.a) == [
        "POST /api/accounts/{account_id}/contacts",
        "PATCH /api/accounts/{account_id}/contacts/{contact_id}",
        "DELETE /api/accounts/{account_id}/contacts/{contact_id}",
    ]


def test_a_refused_contact_re_renders_the_form_with_what_was_typed(world):
    response = world.owner.post("/contacts", contact_form(email="caio-at-nowhere"))
    assert_form_error(response, "email", "Enter a valid email address")
    assert 'value="Caio Financeiro"' in response["body"] and 'value="caio-at-nowhere"' in response["body"]
    assert re.search(r'id="field-departments-support"[^>]* checked', response["body"])
    assert DynamoIdentityStore().contacts(world.a) == []
    world.owner.post("/contacts", contact_form())
    [contact] = DynamoIdentityStore().contacts(world.a)
    phone = world.owner.post(f"/contacts/{contact.contact_id}", contact_form(phone="123"))
    assert_form_error(phone, "phone", "Enter a Brazilian phone number")


def test_every_address_on_a_hosted_domain_is_warned_about(world):
    store = DynamoIdentityStore()
    account = store.account(world.a)
    store.save_account(account, replace(account, hosted_domains=("example.com",)), [])
    page = text(world.owner.get("/contacts"))
    assert "Every address of this account is on a domain hosted with us" in page
    assert "Domains hosted with us: example.com" in page


def test_contacts_need_the_permission_and_never_reach_another_account(world, invoke):
    theirs = world.other_owner.post("/contacts", contact_form(name="Contato da Bia", email="contato-b@example.es"))
    assert theirs["statusCode"] == 303
    [other] = DynamoIdentityStore().contacts(world.b)
    for path in (
        f"/contacts/{other.contact_id}",
        f"/contacts/{other.contact_id}/delete",
        f"/contacts/{other.contact_id}/invitation",
    ):
        assert_refused(world.owner.get(path))
    assert_refused(world.owner.post(f"/contacts/{other.contact_id}", contact_form()))
    assert_refused(world.owner.post(f"/contacts/{other.contact_id}/delete"))
    assert_refused(world.owner.post(f"/contacts/{other.contact_id}/invitation", {"permissions": ["contacts"]}))
    assert DynamoIdentityStore().contacts(world.b) == [other]
    outsider = member_of(invoke, world.a, {Permission.INVOICES}, "outsider")
    assert_refused(outsider.get("/contacts"))
    assert_refused(outsider.post("/contacts", contact_form()))
    helper = member_of(invoke, world.a, {Permission.CONTACTS}, "helper")
    world.owner.post("/contacts", contact_form())
    [mine] = DynamoIdentityStore().contacts(world.a)
    page = helper.get("/contacts")
    assert page["statusCode"] == 200 and "Caio Financeiro" in page["body"]
    assert "Make this contact a user" not in page["body"]
    assert_refused(helper.get(f"/contacts/{mine.contact_id}/invitation"))


def test_the_owner_makes_a_contact_a_user_with_a_pre_filled_invitation(world):
    world.owner.post("/contacts", contact_form())
    [contact] = DynamoIdentityStore().contacts(world.a)
    form = world.owner.get(f"/contacts/{contact.contact_id}/invitation")
    assert form["statusCode"] == 200 and "caio@hotmail.com" in form["body"]
    sent = world.owner.post(f"/contacts/{contact.contact_id}/invitation", {"permissions": ["contacts", "invoices"]})
    assert sent["statusCode"] == 303 and location(sent) == "/users?notice=invited"
    [invitation] = DynamoIdentityStore().invitations(world.a)
    assert invitation.email == "caio@hotmail.com" and {p.value for p in invitation.permissions} == {
        "contacts",
        "invoices",
    }
    assert audit_actions(world.a)[-1] == "POST /api/accounts/{account_id}/contacts/{contact_id}/invitation"


# --- users and invitations ---------------------------------------------------------------------------------------
def test_the_owner_changes_permissions_invites_revokes_and_removes_users(world, invoke):
    mel = member_of(invoke, world.a, {Permission.CONTACTS})
    page = world.owner.get("/users")
    assert page["statusCode"] == 200 and "Permissions of " in page["body"]
    assert re.search(rf'id="field-permissions-{mel.user_id}-contacts"[^>]* checked', page["body"])
    changed = world.owner.post(f"/users/{mel.user_id}/permissions", {"permissions": ["contacts", "invoices"]})
    assert changed["statusCode"] == 303 and location(changed) == "/users?notice=saved"
    assert DynamoIdentityStore().membership(world.a, mel.user_id).permissions == {
        Permission.CONTACTS,
        Permission.INVOICES,
    }
    guest = unique("guest")
    invited = world.owner.post("/users/invitations", {"email": guest, "permissions": ["tickets"]})
    assert invited["statusCode"] == 303 and location(invited) == "/users?notice=invited"
    listed = text(world.owner.get("/users"))
    assert guest in listed and "Waiting for an answer" in listed and "Support tickets" in listed
    [invitation] = DynamoIdentityStore().invitations(world.a)
    revoked = world.owner.post(f"/users/invitations/{invitation.invitation_id}/revoke")
    assert revoked["statusCode"] == 303 and "Revoked" in text(world.owner.get("/users"))
    confirm = world.owner.get(f"/users/{mel.user_id}/remove")
    assert confirm["statusCode"] == 200 and f'action="/users/{mel.user_id}/remove"' in confirm["body"]
    removed = world.owner.post(f"/users/{mel.user_id}/remove")
    assert removed["statusCode"] == 303 and location(removed) == "/users?notice=user_removed"
    assert_refused(mel.get("/contacts"))
    assert audit_actions(world.a) == [
        "PATCH /api/accounts/{account_id}/users/{user_id}",
        "POST /api/accounts/{account_id}/invitations",
        "DELETE /api/accounts/{account_id}/invitations/{invitation_id}",
        "DELETE /api/accounts/{account_id}/users/{user_id}",
    ]


def test_a_refused_invitation_re_renders_the_form(world, invoke):
    mel = member_of(invoke, world.a, {Permission.CONTACTS})
    invalid = world.owner.post("/users/invitations", {"email": "not-an-address", "permissions": ["emails"]})
    assert_form_error(invalid, "email", "Enter a valid email address")
    assert re.search(r'id="field-permissions-emails"[^>]* checked', invalid["body"])
    member_email = DynamoIdentityStore().membership(world.a, mel.user_id).user_email
    taken = world.owner.post("/users/invitations", {"email": member_email, "permissions": []})
    assert taken["statusCode"] == 409 and "This person is already a user of the account." in text(taken)
    assert DynamoIdentityStore().invitations(world.a) == []


def test_ownership_moves_after_a_confirmation_page(world, invoke):
    mel = member_of(invoke, world.a, {Permission.CONTACTS})
    confirm = world.owner.get(f"/users/{mel.user_id}/owner")
    assert confirm["statusCode"] == 200 and "becomes the owner of Ana Design" in text(confirm)
    moved = world.owner.post(f"/users/{mel.user_id}/owner")
    assert moved["statusCode"] == 303 and location(moved) == "/?notice=owner_transferred"
    assert_refused(world.owner.get("/users"))
    assert mel.get("/users")["statusCode"] == 200
    assert world.owner.get("/profile")["statusCode"] == 200  # the previous owner keeps every permission


def test_users_pages_are_the_owners_and_never_reach_another_account(world, invoke):
    everything = member_of(invoke, world.a, set(Permission), "trusted")
    for path in ("/users", f"/users/{world.ana}/remove", f"/users/{world.ana}/owner", "/audit"):
        assert_refused(everything.get(path))
    assert_refused(everything.post("/users/invitations", {"email": unique("x"), "permissions": []}))
    assert_refused(everything.post(f"/users/{everything.user_id}/permissions", {"permissions": ["profile"]}))
    bia_member = member_of(invoke, world.b, {Permission.CONTACTS}, "bmember")
    world.other_owner.post("/users/invitations", {"email": unique("bguest"), "permissions": []})
    [b_invitation] = DynamoIdentityStore().invitations(world.b)
    for path in (
        f"/users/{bia_member.user_id}/remove",
        f"/users/{bia_member.user_id}/owner",
        f"/users/{world.ana}/remove",
    ):
        assert_refused(world.owner.get(path))
    assert_refused(world.owner.post(f"/users/{bia_member.user_id}/permissions", {"permissions": ["profile"]}))
    assert_refused(world.owner.post(f"/users/{bia_member.user_id}/remove"))
    assert_refused(world.owner.post(f"/users/{bia_member.user_id}/owner"))
    assert_refused(world.owner.post(f"/users/invitations/{b_invitation.invitation_id}/revoke"))
    assert DynamoIdentityStore().membership(world.b, bia_member.user_id) is not None
    assert DynamoIdentityStore().invitations(world.b)[0].status.value == "pending"


def test_a_member_leaves_after_a_confirmation_page_and_the_owner_cannot(world, invoke):
    mel = member_of(invoke, world.a, {Permission.CONTACTS})
    security = mel.get("/security")
    assert f'href="/accounts/{world.a}/leave"' in security["body"]
    assert mel.get(f"/accounts/{world.a}/leave")["statusCode"] == 200
    left = mel.post(f"/accounts/{world.a}/leave")
    assert left["statusCode"] == 303 and location(left) == "/?notice=left_account"
    assert DynamoIdentityStore().membership(world.a, mel.user_id) is None
    assert_refused(mel.get(f"/accounts/{world.a}/leave"))
    assert "Transfer the ownership first" in text(world.owner.get(f"/accounts/{world.a}/leave"))
    assert world.owner.post(f"/accounts/{world.a}/leave")["statusCode"] == 409
    assert_refused(world.owner.get(f"/accounts/{world.b}/leave"))
    assert_refused(world.owner.post(f"/accounts/{world.b}/leave"))


def invitation_token(aws, invoke, email: str) -> str:
    Pipeline(aws, invoke).run()
    [message] = mail.sent_messages(to=email)
    return re.search(r"/invitations/([\w-]+)", message["text"]).group(1)


def test_an_invitation_is_accepted_by_the_invited_login_only_and_once(world, invoke, aws, clock):
    guest_email = unique("guest")
    world.owner.post("/users/invitations", {"email": guest_email, "permissions": ["contacts"]})
    token = invitation_token(aws, invoke, guest_email)
    anonymous = Visitor(invoke).get(f"/invitations/{token}")
    assert anonymous["statusCode"] == 200
    assert f'href="/login?{urlencode({"next": f"/invitations/{token}"})}"' in anonymous["body"]
    assert 'href="/signup"' in anonymous["body"]
    assert_refused(world.other_owner.get(f"/invitations/{token}"))
    assert_refused(world.other_owner.post(f"/invitations/{token}"))
    guest_id = login_user(guest_email, "Gil Convidado")
    guest = Visitor(invoke, user_id=guest_id)
    guest.sign_in(guest_email)
    offer = text(guest.get(f"/invitations/{token}"))
    assert "Ana Souza invites you to act for the account Ana Design." in offer and "Contacts" in offer
    accepted = guest.post(f"/invitations/{token}")
    assert accepted["statusCode"] == 303 and location(accepted) == "/?notice=invitation_accepted"
    assert guest.cookies["balcao_account"] == world.a
    assert guest.get("/contacts")["statusCode"] == 200
    assert_refused(guest.get(f"/invitations/{token}"))
    assert_refused(guest.post(f"/invitations/{token}"))
    assert audit_actions(world.a)[-1] == "POST /api/invitations/{token}/accept"
    late_email = unique("late")
    world.owner.post("/users/invitations", {"email": late_email, "permissions": []})
    late_token = invitation_token(aws, invoke, late_email)
    late = Visitor(invoke)
    login_user(late_email, "Lia Tarde")
    late.sign_in(late_email)
    clock.advance(days=8)
    late.sign_in(late_email)
    assert_refused(late.get(f"/invitations/{late_token}"))
    assert_refused(late.post(f"/invitations/{late_token}"))
    assert_refused(late.get("/invitations/not-a-token"))


def test_an_unknown_invitation_token_is_the_404_page_from_the_session_and_the_lookup_alone(world, ddb_calls):
    # Given Ana, signed in, with the company settings cached
    world.owner.get("/profile")
    # When she opens an invitation link whose token was never given
    with ddb_calls() as calls:
        page = world.owner.get("/invitations/never-a-token")
    # Then it is the 404 page, answered after her session and the token's lookup: her accounts are not read
    assert page["statusCode"] == 404 and "Page not found" in text(page)
    assert calls.operations == ["GetItem", "GetItem"], calls
    # And the header still shows her signed in
    assert 'action="/logout"' in page["body"]


def test_an_invitation_page_reads_the_lookup_then_everything_it_shows_at_once(world, invoke, aws, ddb_calls):
    # Given Ana's invitation to Gil, and Gil signed in
    guest_email = unique("guest")
    world.owner.post("/users/invitations", {"email": guest_email, "permissions": ["contacts"]})
    token = invitation_token(aws, invoke, guest_email)
    guest = Visitor(invoke, user_id=login_user(guest_email, "Gil Convidado"))
    guest.sign_in(guest_email)
    guest.get("/security")  # the company settings are cached per container
    # When Gil opens the invitation
    with ddb_calls() as calls:
        offer = guest.get(f"/invitations/{token}")
    # Then the page says who invites him to what, from his session, the lookup and one BatchGet
    assert offer["statusCode"] == 200
    assert "Ana Souza invites you to act for the account Ana Design." in text(offer) and "Contacts" in text(offer)
    assert calls.operations == ["GetItem", "GetItem", "BatchGetItem"], calls
    # And Ana, who is not the invited email, gets the 404 page within the same reads
    with ddb_calls() as calls:
        assert_refused(world.owner.get(f"/invitations/{token}"))
    assert calls.total <= 3 and calls.scans == 0, calls


def test_an_invitation_whose_lookup_holds_only_the_account_and_invitation_still_shows_its_page(world, invoke, aws):
    # Given an invitation whose lookup was written before it kept the inviter's and the service's ids
    guest_email = unique("early")
    world.owner.post("/users/invitations", {"email": guest_email, "permissions": ["contacts"]})
    token = invitation_token(aws, invoke, guest_email)
    lookup = LookupItem.get(keys.invite_lookup_pk(token), keys.LOOKUP)
    lookup.update(actions=[LookupItem.target.set({k: lookup.target[k] for k in ("account_id", "invitation_id")})])
    # When the invited login opens it
    guest = Visitor(invoke, user_id=login_user(guest_email, "Eva Cedo"))
    guest.sign_in(guest_email)
    offer = guest.get(f"/invitations/{token}")
    # Then the page still says who invites her to what
    assert offer["statusCode"] == 200
    assert "Ana Souza invites you to act for the account Ana Design." in text(offer)


def test_a_technical_delegates_invitation_page_names_the_service(world, invoke, aws):
    # Given an invitation through the API for one service of Ana's account
    service_id = new_ulid()
    ServiceItem(
        pk=keys.account_pk(world.a),
        sk=keys.service_sk(service_id),
        service_id=service_id,
        account_id=world.a,
        name="Hospedagem",
        domain="anadesign.com.br",
        status="active",
    ).save()
    guest_email = unique("tech")
    ana = given_session(world.ana, world.ana_email)
    sent = invoke(
        "accounts",
        api_event(
            "POST",
            f"/api/accounts/{world.a}/invitations",
            resource="/api/accounts/{account_id}/invitations",
            claims=ana.claims,
            body={"email": guest_email, "permissions": [], "service_id": service_id},
        ),
    )
    assert sent["statusCode"] == 201, sent["body"]
    token = invitation_token(aws, invoke, guest_email)
    # When the invited technician, signed in, opens it
    guest = Visitor(invoke, user_id=login_user(guest_email, "Tito Técnico"))
    guest.sign_in(guest_email)
    offer = text(guest.get(f"/invitations/{token}"))
    # Then the page names the service he will manage
    assert "You will manage the technical side of one service only: Hospedagem (anadesign.com.br)." in offer


# --- security ----------------------------------------------------------------------------------------------------
def test_the_security_page_lists_sessions_and_changes_the_password(world, invoke):
    phone = Visitor(invoke, device="Mobile Safari on iPhone")
    phone.sign_in(world.ana_email)
    page = world.owner.get("/security")
    body = text(page)
    assert page["statusCode"] == 200 and "This session" in body and "Mobile Safari on iPhone" in body
    assert body.count("/security/sessions/") == 1  # the other session can be signed out, this one is marked
    wrong = world.owner.post(
        "/security/password", {"current_password": "Wrong-pass-123!", "new_password": "New-Secret-pass-2!"}
    )
    assert_form_error(wrong, "current_password", "The current password is not correct.")
    weak = world.owner.post("/security/password", {"current_password": PASSWORD, "new_password": "short"})
    assert weak["statusCode"] == 422 and 'id="field-new_password-error"' in weak["body"]
    changed = world.owner.post(
        "/security/password", {"current_password": PASSWORD, "new_password": "New-Secret-pass-2!"}
    )
    assert changed["statusCode"] == 303 and location(changed) == "/security?notice=password_changed"
    assert phone.get("/security")["statusCode"] == 303  # signed out
    assert world.owner.get("/security")["statusCode"] == 200
    again = Visitor(invoke)
    again.sign_in(world.ana_email, "New-Secret-pass-2!")
    assert again.get("/security")["statusCode"] == 200


def test_a_session_is_signed_out_from_the_list_and_only_ones_own(world, invoke):
    phone = Visitor(invoke, device="Android phone")
    phone.sign_in(world.ana_email)
    [session_id] = re.findall(r"/security/sessions/(\w+)/revoke", world.owner.get("/security")["body"])
    [bia_session] = re.findall(
        r"/security/sessions/(\w+)/revoke",
        Visitor(invoke).sign_in(world.bia_email) and world.other_owner.get("/security")["body"],
    )
    assert_refused(world.owner.post(f"/security/sessions/{bia_session}/revoke"))
    revoked = world.owner.post(f"/security/sessions/{session_id}/revoke")
    assert revoked["statusCode"] == 303 and location(revoked) == "/security?notice=session_revoked"
    assert phone.get("/security")["statusCode"] == 303
    assert world.other_owner.get("/security")["statusCode"] == 200


def current_step() -> int:
    return int(time.time()) // 30


def test_two_factor_enrolment_with_a_qr_code_recovery_codes_the_sign_in_step_and_turning_it_off(world, invoke):
    setup = world.owner.post("/security/totp")
    assert setup["statusCode"] == 200 and '<svg width="' in setup["body"] and 'class="qr"' in setup["body"]
    secret = re.search(r'name="secret" value="([A-Z2-7]{32})"', setup["body"]).group(1)
    assert " ".join(secret[i : i + 4] for i in range(0, 32, 4)) in setup["body"]
    wrong = world.owner.post("/security/totp/verify", {"secret": secret, "code": "000000"})
    assert_form_error(wrong, "code", "The code is invalid or expired")
    assert 'class="qr"' in wrong["body"] and secret in wrong["body"]
    first = current_step() - 1
    enrolled = world.owner.post("/security/totp/verify", {"secret": secret, "code": totp_code(secret, first * 30)})
    assert enrolled["statusCode"] == 200
    codes = re.findall(r"<li><code>([0-9A-Z-]+)</code></li>", enrolled["body"])
    assert len(codes) == 10 and "print this page or save the codes" in enrolled["body"]
    assert "Recovery codes left: 10" in text(world.owner.get("/security"))
    again = Visitor(invoke)
    challenge = again.sign_in(world.ana_email)
    assert challenge["statusCode"] == 200 and 'action="/login/totp"' in challenge["body"]
    token = re.search(r'name="challenge" value="([^"]+)"', challenge["body"]).group(1)
    passed = again.post(
        "/login/totp", {"challenge": token, "code": totp_code(secret, (first + 1) * 30), "next": "/security"}
    )
    assert passed["statusCode"] == 303 and location(passed) == "/security"
    refused = again.post("/security/totp/disable", {"code": "000000"})
    assert_form_error(refused, "code", "The code is invalid or expired")
    off = again.post("/security/totp/disable", {"code": totp_code(secret, (first + 2) * 30)})
    assert off["statusCode"] == 303 and location(off) == "/security?notice=mfa_disabled"
    assert DynamoIdentityStore().user(world.ana).totp_enabled is False
    assert world.owner.get("/security")["statusCode"] == 303  # turning 2FA off signed out the other sessions


def test_a_tampered_enrolment_form_starts_over(world):
    world.owner.post("/security/totp")
    response = world.owner.post("/security/totp/verify", {"secret": "<script>", "code": "123456"})
    assert response["statusCode"] == 303 and location(response) == "/security"


def test_the_sign_in_email_changes_with_a_code_sent_to_the_new_address(world, invoke, aws):
    invalid = world.owner.post("/security/email", {"email": "not-an-email"})
    assert_form_error(invalid, "email", "Enter a valid email address")
    same = world.owner.post("/security/email", {"email": world.ana_email})
    assert_form_error(same, "email", "This is already your email address.")
    new = unique("ana-new")
    asked = world.owner.post("/security/email", {"email": new, "also_contract_email": "yes"})
    assert asked["statusCode"] == 303 and location(asked) == "/security/email?" + urlencode({"email": new})
    assert new in text(world.owner.get(location(asked)))
    wrong = world.owner.post("/security/email/confirm", {"email": new, "code": "000000"})
    assert_form_error(wrong, "code", "The code is invalid or expired")
    Pipeline(aws, invoke).run()
    [message] = mail.sent_messages(to=new)
    [code] = re.findall(r"(?<!\d)\d{6}(?!\d)", message["text"])
    done = world.owner.post("/security/email/confirm", {"email": new, "code": code})
    assert done["statusCode"] == 303 and location(done) == "/security?notice=email_changed"
    assert DynamoIdentityStore().user(world.ana).email == new
    assert AccountItem.get(keys.account_pk(world.a), keys.PROFILE).notice_email == new


def test_an_account_that_requires_2fa_refuses_its_pages_to_a_session_without_it(world, invoke):
    mel = member_of(invoke, world.a, {Permission.CONTACTS, Permission.EMAILS})
    world.owner.post("/profile/edit", {**PROFILE_FORM, "require_mfa": "yes"})
    for path in ("/contacts", "/emails"):
        refused = mel.get(path)
        assert refused["statusCode"] == 403 and "requires two-factor authentication" in text(refused)
    assert mel.get("/security")["statusCode"] == 200


# --- audit and email logs ----------------------------------------------------------------------------------------
def audit_item(account_id: str, action: str, *, email: str = "someone@example.com", ip: str = "203.0.113.9") -> None:
    AuditItem(
        pk=keys.account_pk(account_id),
        sk=keys.audit_sk(new_ulid()),
        audit_id=new_ulid(),
        at=NOW,
        action=action,
        account_id=account_id,
        actor_email=email,
        source_ip=ip,
    ).save()


def test_the_audit_log_is_newest_first_translated_and_paginated(world, invoke):
    for _ in range(26):
        audit_item(world.a, "POST /api/accounts/{account_id}/contacts")
    world.owner.post("/profile/edit", PROFILE_FORM)
    audit_item(world.b, "PATCH /api/accounts/{account_id}", email="secret-b@example.es", ip="198.51.100.77")
    first = world.owner.get("/audit")
    body = text(first)
    assert first["statusCode"] == 200 and body.count("<tr>") == 26  # header + 25 entries
    assert body.index("Changed the profile") < body.index("Added a contact")
    assert world.ana_email in body and "203.0.113.9" in body and "Nov 22, 2026" in body
    assert "secret-b@example.es" not in body and "198.51.100.77" not in body
    older = re.search(r'href="(/audit\?cursor=[^"]+)"', first["body"]).group(1)
    second = world.owner.get(unescape(older))
    assert text(second).count("<tr>") == 3 and 'href="/audit"' in second["body"]
    world.owner.cookies["balcao_lang"] = "es"
    assert "Añadió un contacto" in text(world.owner.get("/audit"))
    assert_refused(member_of(invoke, world.a, set(Permission), "trusted").get("/audit"))


def logged_email(account_id: str, subject: str, *, html: str = "<p>Olá</p>", status: str = "delivered") -> str:
    email_id = new_ulid()
    EmailLogItem(
        pk=keys.account_pk(account_id),
        sk=keys.email_sk(email_id),
        email_id=email_id,
        account_id=account_id,
        event_id=new_ulid(),
        template="invoice_created",
        department="billing",
        recipient="financeiro@example.com",
        subject=subject,
        body_text=f"{subject}\n\nLinha 1\n  Linha 2 <b>sem html</b>",
        body_html=html,
        status=status,
        sent_at=NOW,
    ).save()
    return email_id


def test_the_email_log_lists_and_shows_each_message_with_its_html_kept_apart(world, invoke):
    mine = logged_email(
        world.a,
        "Fatura 42 emitida",
        html='<p>Olá</p><script>alert(1)</script><img src="https://tracker.example/x.png">',
    )
    theirs = logged_email(world.b, "Factura secreta B")
    listed = world.owner.get("/emails")
    body = text(listed)
    assert listed["statusCode"] == 200 and "Fatura 42 emitida" in body and "Factura secreta B" not in body
    assert "Billing" in body and "Delivered" in body and "financeiro@example.com" in body
    detail = world.owner.get(f"/emails/{mine}")
    assert detail["statusCode"] == 200
    assert (
        '<pre class="email-text">Fatura 42 emitida\n\nLinha 1\n  Linha 2 &lt;b&gt;sem html&lt;/b&gt;</pre>'
        in detail["body"]
    )
    assert f'<iframe class="email-html" src="/emails/{mine}/html" sandbox=""' in detail["body"]
    assert "<script>" not in detail["body"]
    html = world.owner.get(f"/emails/{mine}/html")
    assert html["statusCode"] == 200 and html["body"].startswith("<p>Olá</p>")
    policy = header(html, "Content-Security-Policy")
    assert "default-src 'none'" in policy and "script-src" not in policy and "sandbox" in policy
    assert "frame-ancestors 'self'" in policy and header(html, "X-Frame-Options") == "SAMEORIGIN"
    for path in (f"/emails/{theirs}", f"/emails/{theirs}/html", "/emails/01ZZZZZZZZZZZZZZZZZZZZZZZZ"):
        assert_refused(world.owner.get(path))
    outsider = member_of(invoke, world.a, {Permission.CONTACTS}, "outsider")
    for path in ("/emails", f"/emails/{mine}", f"/emails/{mine}/html"):
        assert_refused(outsider.get(path))
    reader = member_of(invoke, world.a, {Permission.EMAILS}, "reader")
    assert reader.get(f"/emails/{mine}")["statusCode"] == 200


def test_the_email_log_is_paginated(world):
    for number in range(27):
        logged_email(world.a, f"Aviso {number:02d}")
    first = world.owner.get("/emails")
    assert text(first).count("Aviso ") == 25 and "Aviso 26" in text(first) and "Aviso 00" not in text(first)
    older = unescape(re.search(r'href="(/emails\?cursor=[^"]+)"', first["body"]).group(1))
    second = text(world.owner.get(older))
    assert "Aviso 01" in second and "Aviso 00" in second and "Aviso 26" not in second


# --- every page, every form ----------------------------------------------------------------------------------------
def test_no_page_shows_another_accounts_data_even_with_a_forged_account_cookie(world, invoke):
    world.other_owner.post("/contacts", contact_form(name="Contato da Bia", email="contato-b@example.es"))
    world.other_owner.post("/users/invitations", {"email": "convidado-b@example.es", "permissions": []})
    world.other_owner.post("/profile/edit", {**PROFILE_FORM, "name": "Bia Estudio", "company": "Estudio Secreto S.L."})
    logged_email(world.b, "Factura secreta B")
    secrets_of_b = (
        "Contato da Bia",
        "contato-b@example.es",
        "convidado-b@example.es",
        "Estudio Secreto",
        "Factura secreta B",
        world.bia_email,
    )
    world.owner.cookies["balcao_account"] = world.b
    for path in (
        "/",
        "/profile",
        "/profile/edit",
        "/profile/closure",
        "/contacts",
        "/users",
        "/security",
        "/audit",
        "/emails",
    ):
        response = world.owner.get(path)
        assert response["statusCode"] == 200, path
        assert not [s for s in secrets_of_b if s in text(response)], path


@pytest.mark.parametrize(
    "path",
    [
        "/profile/edit",
        "/profile/export",
        "/profile/closure",
        "/contacts",
        "/users/invitations",
        "/security/password",
        "/security/totp",
        "/security/email",
    ],
)
def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(world, path):
    response = world.owner.post(
        path,
        {**PROFILE_FORM, **contact_form(), "current_password": PASSWORD, "new_password": "New-Secret-pass-2!"},
        csrf=False,
    )
    assert response["statusCode"] == 403 and "Your form expired" in text(response)
    assert audit_actions(world.a) == []
    assert DynamoIdentityStore().contacts(world.a) == []
    assert InvitationItem.count(keys.account_pk(world.a), InvitationItem.sk.startswith(keys.INVITATION_PREFIX)) == 0
    assert AccountItem.get(keys.account_pk(world.a), keys.PROFILE).name == "Ana Design"
    assert DynamoIdentityStore().user(world.ana).totp_pending_secret is None


def headings(response: dict) -> list[str]:
    return [
        unescape(re.sub(r"<[^>]+>", "", h)).strip()
        for h in re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", response["body"], re.S)
    ]


def test_every_page_speaks_the_three_languages(world):
    world.owner.post("/contacts", contact_form())
    [contact] = DynamoIdentityStore().contacts(world.a)
    email_id = logged_email(world.a, "Fatura 42 emitida")
    paths = (
        "/profile",
        "/profile/edit",
        "/profile/closure",
        "/contacts",
        f"/contacts/{contact.contact_id}",
        f"/contacts/{contact.contact_id}/delete",
        f"/contacts/{contact.contact_id}/invitation",
        "/users",
        "/security",
        "/audit",
        "/emails",
        f"/emails/{email_id}",
    )
    english = {path: headings(world.owner.get(path)) for path in paths}
    for language in ("pt-BR", "es"):
        world.owner.cookies["balcao_lang"] = language
        for path in paths:
            translated = headings(world.owner.get(path))
            same = [
                h
                for h, e in zip(translated, english[path], strict=True)
                if h == e and h not in ("Fatura 42 emitida", "Caio Financeiro", world.ana_email)
            ]
            assert not same, (language, path, same)


def test_reading_a_page_costs_at_most_three_dynamodb_calls(world, ddb_calls):
    email_id = logged_email(world.a, "Fatura 42 emitida")
    world.owner.get("/profile")  # the company settings are cached per container
    pages = (
        "/profile",
        "/profile/edit",
        "/contacts",
        "/users",
        "/security",
        "/audit",
        "/emails",
        f"/emails/{email_id}",
        f"/emails/{email_id}/html",
    )
    for path in pages:
        with ddb_calls() as calls:
            assert world.owner.get(path)["statusCode"] == 200
        assert calls.total <= 3 and calls.scans == 0, (path, calls)
