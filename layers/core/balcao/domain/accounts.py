"""Accounts (contracts), the people who may act for them, and the one authorization policy.

One login may belong to several accounts. Each account has exactly one owner; other members hold permission keys
(API.md); a technical delegate acts on one service only and never sees contract or billing data (seed 004).
Everything a caller may not see answers 404, so nothing confirms that another account's resource exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from balcao.domain.addresses import Address
from balcao.domain.errors import N_, ConflictError, MfaRequiredError, NotFoundError
from balcao.domain.tax_ids import TaxId


class Permission(StrEnum):
    PROFILE = "profile"
    CONTACTS = "contacts"
    SERVICES = "services"
    MANAGE_SERVICES = "manage_services"
    SERVICE_SSO = "service_sso"
    ORDERS = "orders"
    INVOICES = "invoices"
    TICKETS = "tickets"
    EMAILS = "emails"


ALL_PERMISSIONS = frozenset(Permission)
# What a technical delegate holds, on their one service only.
DELEGATE_PERMISSIONS = frozenset({Permission.SERVICES, Permission.SERVICE_SSO, Permission.MANAGE_SERVICES})


class Role(StrEnum):
    OWNER = "owner"
    MEMBER = "member"
    DELEGATE = "delegate"


class Department(StrEnum):
    """Email departments a contact subscribes to; every notice belongs to one."""

    GENERAL = "general"
    BILLING = "billing"
    SUPPORT = "support"
    SERVICES = "services"
    DOMAINS = "domains"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    CLOSURE_REQUESTED = "closure_requested"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Membership:
    account_id: str
    user_id: str
    role: Role
    permissions: frozenset[Permission]
    account_name: str
    service_id: str | None = None
    require_mfa: bool = False
    user_email: str = ""
    user_name: str = ""
    notice_email: str = ""  # copies of the account's, so a page needs no profile read
    hosted_domains: tuple[str, ...] = ()

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER

    @property
    def is_delegate(self) -> bool:
        return self.role is Role.DELEGATE

    def effective_permissions(self) -> frozenset[Permission]:
        if self.is_owner:
            return ALL_PERMISSIONS
        if self.is_delegate:
            return self.permissions & DELEGATE_PERMISSIONS
        return self.permissions


def authorize(
    membership: Membership | None,
    permission: Permission | None,
    *,
    mfa_passed: bool,
    owner_only: bool = False,
    service_id: str | None = None,
    service_scoped: bool = False,
) -> Membership:
    """The one policy for every ``/api/accounts/{account_id}/…`` route (and the portal's account pages).

    - not a member, or lacking ``permission``, or not the owner on an owner-only route → 404;
    - a delegate only on service-scoped routes, and only for their own service (a list is filtered by the caller);
    - an account that requires 2FA refuses sessions that did not pass it → 403 ``mfa_required``.
    """
    if membership is None:
        raise NotFoundError()
    if owner_only and not membership.is_owner:
        raise NotFoundError()
    if membership.is_delegate:
        if not service_scoped:
            raise NotFoundError()
        if service_id is not None and service_id != membership.service_id:
            raise NotFoundError()
    if permission is not None and permission not in membership.effective_permissions():
        raise NotFoundError()
    if membership.require_mfa and not mfa_passed:
        raise MfaRequiredError(
            N_("This account requires two-factor authentication. Enable it in your security settings.")
        )
    return membership


@dataclass(frozen=True, slots=True)
class AccountProfile:
    account_id: str
    name: str
    language: str
    currency: str
    notice_email: str
    owner_user_id: str
    created_at: datetime
    company: str | None = None
    tax_id: TaxId | None = None
    address: Address | None = None
    phone: str | None = None
    require_mfa: bool = False
    status: AccountStatus = AccountStatus.ACTIVE
    closure_requested_at: datetime | None = None
    terms_version: str | None = None
    anonymise_after: str | None = None  # ISO day: a closed account's personal data goes after fiscal retention
    hosted_domains: tuple[str, ...] = ()  # domains of its services, kept by the services capability


@dataclass(frozen=True, slots=True)
class Contact:
    contact_id: str
    account_id: str
    name: str
    email: str
    departments: frozenset[Department]
    created_at: datetime
    phone: str | None = None
    language: str | None = None
    bounced: bool = False


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Invitation:
    invitation_id: str
    account_id: str
    email: str
    permissions: frozenset[Permission]
    status: InvitationStatus
    expires_at: datetime
    invited_by: str
    created_at: datetime
    service_id: str | None = None

    def status_at(self, now: datetime) -> InvitationStatus:
        if self.status is InvitationStatus.PENDING and now >= self.expires_at:
            return InvitationStatus.EXPIRED
        return self.status


@dataclass(frozen=True, slots=True)
class PeopleCounts:
    """How many users (memberships) and contacts an account has."""

    users: int
    contacts: int


@dataclass(frozen=True, slots=True)
class InvitationOffer:
    """What the accept page shows a signed-in visitor: the invitation, the account's name, who invites (their name)
    and, for a technical delegate, the service; and the visitor's own login email (only that email may accept)."""

    invitation: Invitation
    account_name: str
    inviter_name: str | None
    service_name: str | None
    visitor_email: str | None


class LastOwnerError(ConflictError):
    """An account keeps exactly one owner: the owner cannot leave or be removed; ownership is transferred."""

    default_message = N_("The owner cannot leave the account. Transfer the ownership first.")


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone an account notice goes to: the contract email or a subscribed contact."""

    email: str
    language: str
    contact_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccountDirectoryEntry:
    """What the email pipeline needs about an account: where notices go and in which language."""

    account_id: str
    name: str
    language: str
    notice_email: str
    contacts: tuple[Contact, ...] = field(default_factory=tuple)

    def recipients(self, department: Department) -> list[Recipient]:
        """The contract email plus every contact subscribed to ``department`` (each address once)."""
        found = [Recipient(self.notice_email, self.language)]
        seen = {self.notice_email.lower()}
        for contact in self.contacts:
            if department in contact.departments and contact.email.lower() not in seen:
                seen.add(contact.email.lower())
                found.append(Recipient(contact.email, contact.language or self.language, contact.contact_id))
        return found
