"""Users of an account (owner only): their permissions, removal, the transfer of ownership, invitations with the
permissions the owner chooses, leaving an account, and the invitation's accept page. Technical delegates (invited
through the API for one service) are listed with their service and its permissions only.

An invitation is for one email, used once, for 7 days: anything else (another login, used, revoked or expired)
answers the 404 page, so nothing confirms that an invitation exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools.event_handler import Response

from balcao.domain.accounts import Invitation, InvitationOffer, InvitationStatus, Membership, Role, authorize
from balcao.domain.errors import N_, ConflictError, InvalidInputError, NotFoundError
from balcao.domain.identity import User
from balcao.services.accounts import Accounts
from balcao.web.portal import PortalRequest, cookie_header, page, redirect, with_query
from balcao.web.session import ACCOUNT_COOKIE, PortalUser, header_without_accounts
from balcao.web.views.forms import field_errors
from balcao.web.views.identity import (
    INVITATION_STATUS_LABELS,
    PERMISSION_LABELS,
    ROLE_LABELS,
    Visit,
    labels,
    permission_options,
)


class ServiceDirectory(Protocol):
    def service_name(self, account_id: str, service_id: str) -> str | None: ...


class InvitationBook(Protocol):
    """What the accept page reads to say who invites the visitor to what."""

    def invitation_offer(self, token: str, visitor_id: str) -> InvitationOffer | None:
        """The token's lookup, then (for a known token) what the page shows in one more read."""
        ...


@dataclass(frozen=True)
class Invitations:
    """Sending invitations from the portal: the same use-case as ``POST …/invitations``."""

    accounts: Accounts
    services: ServiceDirectory
    accept_base_url: str

    def send(self, visit: Visit, owner: Membership, email: str, permissions: list[str]) -> Invitation:
        return self.accounts.invite(
            owner.account_id,
            owner,
            email,
            permissions,
            None,
            inviter_name=owner.user_name or visit.user.session.email,
            service_name=None,
            accept_base_url=self.accept_base_url,
        )


def _member_rows(visit: Visit, members: list[Membership], services: ServiceDirectory) -> list[dict[str, Any]]:
    order = {Role.OWNER: 0, Role.MEMBER: 1, Role.DELEGATE: 2}
    rows = []
    for member in sorted(members, key=lambda m: (order[m.role], (m.user_name or m.user_email).lower())):
        rows.append(
            {
                "member": member,
                "role": ROLE_LABELS[member.role.value],
                "granted": [p.value for p in member.effective_permissions()],
                "options": permission_options(member),
                "service": (services.service_name(member.account_id, member.service_id) or member.service_id)
                if member.service_id
                else "",
            }
        )
    return rows


def _invitation_rows(visit: Visit, invitations: list[Invitation], now: datetime) -> list[dict[str, Any]]:
    rows = []
    for invitation in sorted(invitations, key=lambda i: i.invitation_id, reverse=True):
        status = invitation.status_at(now)
        rows.append(
            {
                "invitation": invitation,
                "status": INVITATION_STATUS_LABELS[status.value],
                "pending": status is InvitationStatus.PENDING,
                "expires_at": visit.moment(invitation.expires_at),
                "permission_labels": labels(
                    visit.request, {p.value for p in invitation.permissions}, PERMISSION_LABELS
                ),
            }
        )
    return rows


def users_page(
    visit: Visit,
    owner: Membership,
    invitations: Invitations,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    members, pending = invitations.accounts.people(owner.account_id)
    newest_first = sorted(pending, key=lambda i: i.invitation_id, reverse=True)
    return page(
        visit.request,
        "identity/users.html",
        status=status,
        title=N_("Users"),
        rows=_member_rows(visit, members, invitations.services),
        invitations=_invitation_rows(visit, newest_first, visit.clock.now()),
        values=values or {"permissions": []},
        errors=errors or {},
        permission_options=permission_options(),
    )


def invite(visit: Visit, owner: Membership, invitations: Invitations) -> Response[str]:
    request = visit.request
    values: dict[str, Any] = {"email": request.value("email"), "permissions": request.values("permissions")}
    try:
        invitation = invitations.send(visit, owner, values["email"], values["permissions"])
    except InvalidInputError as error:
        return users_page(visit, owner, invitations, values, field_errors(request, error), 422)
    except ConflictError as error:
        return users_page(visit, owner, invitations, values, {"email": request.gettext(error.message)}, 409)
    visit.record(
        "POST /api/accounts/{account_id}/invitations", owner.account_id, invitation_id=invitation.invitation_id
    )
    return redirect(request, with_query("/users", notice="invited"))


def revoke(visit: Visit, owner: Membership, accounts: Accounts, invitation_id: str) -> Response[str]:
    accounts.revoke_invitation(owner.account_id, invitation_id)
    visit.record(
        "DELETE /api/accounts/{account_id}/invitations/{invitation_id}",
        owner.account_id,
        invitation_id=invitation_id,
    )
    return redirect(visit.request, with_query("/users", notice="invitation_revoked"))


def _other_member(owner: Membership, accounts: Accounts, user_id: str) -> Membership:
    """A user of the owner's account other than the owner (404 otherwise)."""
    member = next((m for m in accounts.users(owner.account_id) if m.user_id == user_id), None)
    if member is None or member.is_owner:
        raise NotFoundError()
    return member


def change_permissions(visit: Visit, owner: Membership, accounts: Accounts, user_id: str) -> Response[str]:
    _other_member(owner, accounts, user_id)
    accounts.change_permissions(owner.account_id, user_id, visit.request.values("permissions"))
    visit.record("PATCH /api/accounts/{account_id}/users/{user_id}", owner.account_id, user_id=user_id)
    return redirect(visit.request, with_query("/users", notice="saved"))


def remove_page(visit: Visit, owner: Membership, accounts: Accounts, user_id: str) -> Response[str]:
    member = _other_member(owner, accounts, user_id)
    return page(visit.request, "identity/user_remove.html", title=N_("Remove the user"), member=member)


def remove(visit: Visit, owner: Membership, accounts: Accounts, user_id: str) -> Response[str]:
    _other_member(owner, accounts, user_id)
    accounts.remove_user(owner.account_id, user_id)
    visit.record("DELETE /api/accounts/{account_id}/users/{user_id}", owner.account_id, user_id=user_id)
    return redirect(visit.request, with_query("/users", notice="user_removed"))


def transfer_page(visit: Visit, owner: Membership, accounts: Accounts, user_id: str) -> Response[str]:
    member = _other_member(owner, accounts, user_id)
    if member.is_delegate:
        raise NotFoundError()
    return page(
        visit.request,
        "identity/owner_transfer.html",
        title=N_("Transfer the ownership"),
        member=member,
        account_name=owner.account_name,
    )


def transfer(visit: Visit, owner: Membership, accounts: Accounts, user_id: str) -> Response[str]:
    _other_member(owner, accounts, user_id)
    accounts.transfer_ownership(owner.account_id, owner, user_id)
    visit.record("POST /api/accounts/{account_id}/owner", owner.account_id, user_id=user_id)
    return redirect(visit.request, with_query("/", notice="owner_transferred"))


def membership_in(user: PortalUser, account_id: str) -> Membership:
    """The user's membership of ``account_id`` (any account they belong to) through the one policy."""
    found = next((m for m in user.memberships if m.account_id == account_id), None)
    return authorize(found, None, mfa_passed=user.session.mfa_passed)


def leave_page(visit: Visit, member: Membership) -> Response[str]:
    return page(visit.request, "identity/leave.html", title=N_("Leave the account"), member=member)


def leave(visit: Visit, member: Membership, accounts: Accounts) -> Response[str]:
    accounts.remove_user(member.account_id, member.user_id)
    visit.record("DELETE /api/accounts/{account_id}/users/{user_id}", member.account_id, user_id=member.user_id)
    return redirect(visit.request, with_query("/", notice="left_account"))


# --- accepting an invitation -------------------------------------------------------------------------------------
def invitation_page(
    request: PortalRequest,
    user: PortalUser | None,
    token: str,
    book: InvitationBook,
    now: Callable[[], datetime],
) -> Response[str]:
    """Anonymous visitors are asked to sign in (or sign up) first; a signed-in user sees who invites them to what.
    The token's lookup is read first, the visitor's memberships never: an unknown token answers after the session
    and the lookup, a known one after one more read (the header leaves out the account switcher and menu)."""
    here = f"/invitations/{token}"
    if user is None:
        return page(
            request,
            "identity/invitation_sign_in.html",
            title=N_("You were invited"),
            login_path=with_query("/login", next=here),
        )
    header_without_accounts(request)
    offer = book.invitation_offer(token, user.user_id)
    if (
        offer is None
        or offer.visitor_email is None
        or offer.invitation.status_at(now()) is not InvitationStatus.PENDING
        or offer.invitation.email != offer.visitor_email
    ):
        raise NotFoundError()
    invitation = offer.invitation
    return page(
        request,
        "identity/invitation.html",
        title=N_("You were invited"),
        account_name=offer.account_name,
        inviter_name=offer.inviter_name or "",
        service_name=offer.service_name if invitation.service_id else None,
        permission_labels=labels(request, {p.value for p in invitation.permissions}, PERMISSION_LABELS),
        action=here,
    )


def accept(visit: Visit, accounts: Accounts, token: str, me: User) -> Response[str]:
    membership = accounts.accept_invitation(token, me.user_id, me.email, me.name)
    visit.record("POST /api/invitations/{token}/accept", membership.account_id)
    request = visit.request
    request.new_cookies.append(
        cookie_header(ACCOUNT_COOKIE, membership.account_id, secure=request.secure_cookies, max_age=30 * 86400)
    )
    return redirect(request, with_query("/", notice="invitation_accepted"))
