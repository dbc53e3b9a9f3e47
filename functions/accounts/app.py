"""Accounts: profile, contacts, users and invitations, ownership, audit, exports and closure, the email log; staff
account search. Every ``/api/accounts/{account_id}/…`` route declares its permission (``access.account``)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.audit import DynamoAuditLog
from balcao.adapters.dynamodb.email_log import DynamoEmailLog, DynamoServiceDirectory
from balcao.contracts.identity import (
    AcceptedInvitation,
    AccountOut,
    AccountPatch,
    AuditList,
    AuditOut,
    ContactCreated,
    ContactIn,
    ContactList,
    ContactOut,
    ContactPatch,
    ExportAccepted,
    InvitationIn,
    InvitationList,
    InvitationOut,
    InviteContact,
    OwnerTransfer,
    PermissionsPatch,
    StaffAccountDetail,
    StaffAccountList,
    StaffAccountSummary,
    StaffContactList,
    UserList,
    UserOut,
    Warning,
)
from balcao.contracts.notifications import EmailDetail, EmailList, EmailSummary
from balcao.domain.accounts import AccountProfile, Contact, Permission
from balcao.domain.errors import NotFoundError
from balcao.domain.principal import StaffRole
from balcao.runtime import access, composition
from balcao.runtime.audit import RequestAuditor
from balcao.runtime.http import rest_resolver
from balcao.runtime.observability import logger, tracer
from balcao.runtime.settings import load_settings
from balcao.services.accounts import contact_warnings
from balcao.web.i18n import gettext

app = rest_resolver(audit=RequestAuditor(DynamoAuditLog(), app_clock()))
email_log = DynamoEmailLog()
services = DynamoServiceDirectory()
NO_CONTENT = Response(204, "application/json", "")
AccountId = Annotated[str, Path(max_length=64)]
ItemId = Annotated[str, Path(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]


def warnings_for(account: AccountProfile, contacts: list[Contact]) -> list[Warning]:
    found = contact_warnings(account.notice_email, account.hosted_domains, contacts).as_list(account.hosted_domains)
    language = app.context.get("language", "en")
    return [Warning(**{**w, "message": gettext(language, w["message"])}) for w in found]


# --- profile --------------------------------------------------------------------------------------------------------
@app.get("/api/accounts/<account_id>", **access.account(Permission.PROFILE, with_account=True))
def get_account(account_id: AccountId) -> AccountOut:
    return AccountOut.of(access.current_account(app))


@app.patch("/api/accounts/<account_id>", **access.account(Permission.PROFILE))
def patch_account(account_id: AccountId, body: AccountPatch) -> AccountOut:
    changes = body.model_dump(exclude_unset=True, mode="json")
    membership = access.current_membership(app)
    if "require_mfa" in changes and not membership.is_owner:
        raise NotFoundError()
    return AccountOut.of(composition.accounts().update_profile(account_id, changes))


@app.post("/api/accounts/<account_id>/exports", status_code=202, **access.account(owner_only=True))
def request_export(account_id: AccountId) -> Response[str]:
    export_id = composition.accounts().request_export(account_id, access.current_principal(app).user_id)
    return Response(202, "application/json", ExportAccepted(export_id=export_id).model_dump_json())


@app.post("/api/accounts/<account_id>/closure", status_code=202, **access.account(owner_only=True))
def request_closure(account_id: AccountId) -> Response[str]:
    account = composition.accounts().request_closure(account_id, composition.company().retention.fiscal_years)
    return Response(202, "application/json", AccountOut.of(account).model_dump_json())


# --- contacts -------------------------------------------------------------------------------------------------------
@app.get("/api/accounts/<account_id>/contacts", **access.account(Permission.CONTACTS, with_account=True))
def list_contacts(account_id: AccountId) -> ContactList:
    contacts = composition.accounts().contacts(account_id)
    warnings = warnings_for(access.current_account(app), contacts)
    return ContactList(items=[ContactOut.of(c) for c in contacts], warnings=warnings)


@app.post(
    "/api/accounts/<account_id>/contacts", status_code=201, **access.account(Permission.CONTACTS, with_account=True)
)
def add_contact(account_id: AccountId, body: ContactIn) -> ContactCreated:
    service = composition.accounts()
    contact = service.add_contact(account_id, body.name, body.email, body.departments, body.phone, body.language)
    warnings = warnings_for(access.current_account(app), service.contacts(account_id))
    return ContactCreated(**ContactOut.of(contact).model_dump(), warnings=warnings)


@app.get("/api/accounts/<account_id>/contacts/<contact_id>", **access.account(Permission.CONTACTS))
def get_contact(account_id: AccountId, contact_id: ItemId) -> ContactOut:
    return ContactOut.of(composition.accounts().contact(account_id, contact_id))


@app.patch("/api/accounts/<account_id>/contacts/<contact_id>", **access.account(Permission.CONTACTS))
def patch_contact(account_id: AccountId, contact_id: ItemId, body: ContactPatch) -> ContactOut:
    changes = body.model_dump(exclude_unset=True)
    return ContactOut.of(composition.accounts().update_contact(account_id, contact_id, changes))


@app.delete("/api/accounts/<account_id>/contacts/<contact_id>", status_code=204, **access.account(Permission.CONTACTS))
def delete_contact(account_id: AccountId, contact_id: ItemId) -> Response[str]:
    composition.accounts().remove_contact(account_id, contact_id)
    return NO_CONTENT


@app.post(
    "/api/accounts/<account_id>/contacts/<contact_id>/invitation", status_code=201, **access.account(owner_only=True)
)
def invite_contact(account_id: AccountId, contact_id: ItemId, body: InviteContact) -> InvitationOut:
    """Seed 002's "sub-conta": a contact becomes a user through a pre-filled invitation."""
    service = composition.accounts()
    contact = service.contact(account_id, contact_id)
    return _invite(account_id, contact.email, list(body.permissions), None)


# --- users, ownership and invitations ------------------------------------------------------------------------------
@app.get("/api/accounts/<account_id>/users", **access.account(owner_only=True))
def list_users(account_id: AccountId) -> UserList:
    return UserList(items=[UserOut.of(m) for m in composition.accounts().users(account_id)])


@app.patch("/api/accounts/<account_id>/users/<user_id>", **access.account(owner_only=True))
def patch_user(account_id: AccountId, user_id: ItemId, body: PermissionsPatch) -> UserOut:
    return UserOut.of(composition.accounts().change_permissions(account_id, user_id, list(body.permissions)))


@app.delete("/api/accounts/<account_id>/users/<user_id>", status_code=204, **access.account())
def remove_user(account_id: AccountId, user_id: ItemId) -> Response[str]:
    """The owner removes a user; any other member may remove themself (leave)."""
    membership = access.current_membership(app)
    if not membership.is_owner and user_id != membership.user_id:
        raise NotFoundError()
    composition.accounts().remove_user(account_id, user_id)
    return NO_CONTENT


@app.post("/api/accounts/<account_id>/owner", **access.account(owner_only=True))
def transfer_owner(account_id: AccountId, body: OwnerTransfer) -> AccountOut:
    account = composition.accounts().transfer_ownership(account_id, access.current_membership(app), body.user_id)
    return AccountOut.of(account)


def _invite(account_id: str, email: str, permissions: list[str], service_id: str | None) -> InvitationOut:
    principal = access.current_principal(app)
    store = composition.identity_store()
    inviter = store.user(principal.user_id)
    service_name = None
    if service_id is not None:
        service_name = services.service_name(account_id, service_id)
        if service_name is None:
            raise NotFoundError()
    invitation = composition.accounts().invite(
        account_id,
        access.current_membership(app),
        email,
        permissions,
        service_id,
        inviter_name=inviter.name if inviter else principal.email,
        service_name=service_name,
        accept_base_url=composition.company().contact.public_base_url or load_settings().public_base_url,
    )
    return InvitationOut.of(invitation, app_clock().now())


@app.post("/api/accounts/<account_id>/invitations", status_code=201, **access.account(owner_only=True))
def create_invitation(account_id: AccountId, body: InvitationIn) -> InvitationOut:
    return _invite(account_id, body.email, list(body.permissions), body.service_id)


@app.get("/api/accounts/<account_id>/invitations", **access.account(owner_only=True))
def list_invitations(account_id: AccountId) -> InvitationList:
    now = app_clock().now()
    found = sorted(composition.accounts().invitations(account_id), key=lambda i: i.invitation_id, reverse=True)
    return InvitationList(items=[InvitationOut.of(i, now) for i in found])


@app.delete(
    "/api/accounts/<account_id>/invitations/<invitation_id>", status_code=204, **access.account(owner_only=True)
)
def revoke_invitation(account_id: AccountId, invitation_id: ItemId) -> Response[str]:
    composition.accounts().revoke_invitation(account_id, invitation_id)
    return NO_CONTENT


@app.post("/api/invitations/<token>/accept", **access.signed_in())
def accept_invitation(token: Annotated[str, Path(max_length=200)]) -> AcceptedInvitation:
    principal = access.current_principal(app)
    user = composition.identity_store().user(principal.user_id)
    if user is None:
        raise NotFoundError()
    membership = composition.accounts().accept_invitation(token, user.user_id, user.email, user.name)
    app.context["audit_account_id"] = membership.account_id
    return AcceptedInvitation(
        account_id=membership.account_id,
        role=membership.role.value,
        permissions=sorted(p.value for p in membership.permissions),
    )


# --- audit and the email log ---------------------------------------------------------------------------------------
@app.get("/api/accounts/<account_id>/audit", **access.account(owner_only=True))
def audit(account_id: AccountId, limit: Limit = 25, cursor: Cursor = None) -> AuditList:
    entries, next_cursor = composition.accounts().audit(account_id, limit, cursor)
    return AuditList(items=[AuditOut.of(e) for e in entries], next=next_cursor)


@app.get("/api/accounts/<account_id>/emails", **access.account(Permission.EMAILS))
def list_emails(account_id: AccountId, limit: Limit = 25, cursor: Cursor = None) -> EmailList:
    entries, next_cursor = email_log.list(account_id, limit, cursor)
    return EmailList(items=[EmailSummary.of(e) for e in entries], next=next_cursor)


@app.get("/api/accounts/<account_id>/emails/<email_id>", **access.account(Permission.EMAILS))
def get_email(account_id: AccountId, email_id: ItemId) -> EmailDetail:
    entry = email_log.get(account_id, email_id)
    if entry is None:
        raise NotFoundError()
    return EmailDetail.of(entry)


# --- staff ------------------------------------------------------------------------------------------------------
@app.get("/api/staff/accounts", **access.staff(StaffRole.SUPPORT, StaffRole.FINANCE))
def staff_search(q: Annotated[str, Query(min_length=1, max_length=120)], limit: Limit = 25) -> StaffAccountList:
    found = composition.accounts().search(q, limit)
    return StaffAccountList(
        items=[
            StaffAccountSummary(
                account_id=a.account_id,
                name=a.name,
                notice_email=a.notice_email,
                tax_id=a.tax_id.formatted if a.tax_id else None,
                status=a.status.value,
                currency=a.currency,
            )
            for a in found
        ]
    )


@app.get("/api/staff/accounts/<account_id>", **access.staff(StaffRole.SUPPORT, StaffRole.FINANCE))
def staff_account(account_id: AccountId) -> StaffAccountDetail:
    """The profile with how many users and contacts the account has; the lists are the two routes below."""
    account, counts = composition.accounts().staff_view(account_id)
    return StaffAccountDetail(account=AccountOut.of(account), user_count=counts.users, contact_count=counts.contacts)


@app.get("/api/staff/accounts/<account_id>/users", **access.staff(StaffRole.SUPPORT, StaffRole.FINANCE))
def staff_account_users(account_id: AccountId, limit: Limit = 25, cursor: Cursor = None) -> UserList:
    found, next_cursor = composition.accounts().users_page(account_id, limit, cursor)
    return UserList(items=[UserOut.of(m) for m in found], next=next_cursor)


@app.get("/api/staff/accounts/<account_id>/contacts", **access.staff(StaffRole.SUPPORT, StaffRole.FINANCE))
def staff_account_contacts(account_id: AccountId, limit: Limit = 25, cursor: Cursor = None) -> StaffContactList:
    found, next_cursor = composition.accounts().contacts_page(account_id, limit, cursor)
    return StaffContactList(items=[ContactOut.of(c) for c in found], next=next_cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
