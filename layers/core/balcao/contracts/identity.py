"""Request and response bodies of the access, account, contact, user and invitation routes (API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_serializer

from balcao.contracts import Contract
from balcao.domain.accounts import AccountProfile, Contact, Invitation, Membership
from balcao.domain.audit import AuditEntry
from balcao.domain.calendar import format_timestamp
from balcao.domain.identity import Session

Language = Literal["pt-BR", "es", "en"]
PermissionKey = Literal[
    "profile", "contacts", "services", "manage_services", "service_sso", "orders", "invoices", "tickets", "emails"
]
DepartmentKey = Literal["general", "billing", "support", "services", "domains"]
EmailText = Field(min_length=3, max_length=254)


class Body(Contract):
    model_config = ConfigDict(extra="forbid")


class Timestamped(Contract):
    @field_serializer("*", when_used="json", check_fields=False)
    def _timestamps(self, value: Any) -> Any:
        return format_timestamp(value) if isinstance(value, datetime) else value


# --- access ----------------------------------------------------------------------------------------------------
class SignupRequest(Body):
    email: str = EmailText
    password: str = Field(max_length=256)  # the policy is checked with the other fields, all reported at once
    name: str = Field(max_length=120)
    language: Language = "pt-BR"
    accept_terms: bool


class SignupResponse(Contract):
    user_id: str
    account_id: str


class ConfirmRequest(Body):
    email: str = EmailText
    code: str = Field(min_length=1, max_length=16)


class LoginRequest(Body):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class TokensResponse(Contract):
    id_token: str
    access_token: str
    refresh_token: str | None = None
    expires_in: int


class ChallengeResponse(Contract):
    challenge: Literal["totp"] = "totp"
    session: str


class MfaRequest(Body):
    session: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=32)


class RefreshRequest(Body):
    refresh_token: str = Field(min_length=1, max_length=4096)


class ForgotRequest(Body):
    email: str = Field(min_length=1, max_length=254)


class ResetRequest(Body):
    email: str = EmailText
    code: str = Field(min_length=1, max_length=16)
    password: str = Field(min_length=1, max_length=256)


class Acknowledged(Contract):
    status: Literal["ok", "accepted"] = "ok"


# --- me ----------------------------------------------------------------------------------------------------------
class MyAccount(Contract):
    account_id: str
    name: str
    owner: bool
    permissions: list[PermissionKey]


class DelegatedService(Contract):
    account_id: str
    service_id: str
    name: str


class MeResponse(Contract):
    user_id: str
    email: str
    name: str
    language: Language
    mfa_enabled: bool
    is_staff: bool
    accounts: list[MyAccount]
    delegated_services: list[DelegatedService]


class PasswordChange(Body):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class TotpSetup(Contract):
    secret: str
    otpauth_uri: str
    qr_svg: str


class CodeRequest(Body):
    code: str = Field(min_length=1, max_length=32)


class RecoveryCodes(Contract):
    recovery_codes: list[str]


class SessionOut(Timestamped):
    session_id: str
    kind: str
    device: str | None
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    current: bool

    @classmethod
    def of(cls, session: Session, current_key: str | None) -> SessionOut:
        return cls(
            session_id=session.session_id,
            kind=session.kind.value,
            device=session.device,
            ip=session.ip,
            created_at=session.created_at,
            last_seen_at=session.last_seen_at,
            current=session.session_key == current_key,
        )


class SessionList(Contract):
    items: list[SessionOut]
    next: str | None = None


class EmailChangeRequest(Body):
    email: str = EmailText
    also_contract_email: bool = False


# --- accounts ---------------------------------------------------------------------------------------------------
class AddressIn(Body):
    line1: str = Field(min_length=1, max_length=120)
    line2: str | None = Field(default=None, max_length=120)
    number: str | None = Field(default=None, max_length=20)
    district: str | None = Field(default=None, max_length=80)
    city: str = Field(min_length=1, max_length=80)
    state: str | None = Field(default=None, max_length=40)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str = Field(min_length=2, max_length=2)


class AccountPatch(Body):
    name: str | None = Field(default=None, max_length=120)
    company: str | None = Field(default=None, max_length=120)
    tax_id: str | None = Field(default=None, max_length=32)
    address: AddressIn | None = None
    phone: str | None = Field(default=None, max_length=32)
    language: Language | None = None
    notice_email: str | None = Field(default=None, max_length=254)
    require_mfa: bool | None = None
    currency: Literal["BRL", "EUR"] | None = None


class AccountOut(Timestamped):
    account_id: str
    name: str
    company: str | None
    tax_id: dict[str, str] | None
    address: dict[str, str | None] | None
    phone: str | None
    language: str
    currency: str
    notice_email: str
    owner_user_id: str
    require_mfa: bool
    status: str
    created_at: datetime
    closure_requested_at: datetime | None

    @classmethod
    def of(cls, account: AccountProfile) -> AccountOut:
        return cls(
            account_id=account.account_id,
            name=account.name,
            company=account.company,
            tax_id=(
                {
                    "country": account.tax_id.country,
                    "kind": account.tax_id.kind.value,
                    "value": account.tax_id.value,
                    "formatted": account.tax_id.formatted,
                }
                if account.tax_id
                else None
            ),
            address={k: getattr(account.address, k) for k in account.address.__dataclass_fields__}
            if account.address
            else None,
            phone=account.phone,
            language=account.language,
            currency=account.currency,
            notice_email=account.notice_email,
            owner_user_id=account.owner_user_id,
            require_mfa=account.require_mfa,
            status=account.status.value,
            created_at=account.created_at,
            closure_requested_at=account.closure_requested_at,
        )


class ExportAccepted(Contract):
    export_id: str


# --- contacts -----------------------------------------------------------------------------------------------------
def _general() -> list[DepartmentKey]:
    return ["general"]


class ContactIn(Body):
    name: str = Field(min_length=1, max_length=120)
    email: str = EmailText
    departments: list[DepartmentKey] = Field(default_factory=_general, max_length=5)
    phone: str | None = Field(default=None, max_length=32)
    language: Language | None = None


class ContactPatch(Body):
    name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    departments: list[DepartmentKey] | None = Field(default=None, max_length=5)
    phone: str | None = Field(default=None, max_length=32)
    language: Language | None = None


class ContactOut(Timestamped):
    contact_id: str
    name: str
    email: str
    departments: list[str]
    phone: str | None
    language: str | None
    bounced: bool
    created_at: datetime

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls(
            contact_id=contact.contact_id,
            name=contact.name,
            email=contact.email,
            departments=sorted(d.value for d in contact.departments),
            phone=contact.phone,
            language=contact.language,
            bounced=contact.bounced,
            created_at=contact.created_at,
        )


class Warning(Contract):
    code: str
    message: str
    domains: list[str] | None = None
    addresses: list[str] | None = None


class ContactList(Contract):
    items: list[ContactOut]
    next: str | None = None
    warnings: list[Warning]


class ContactCreated(ContactOut):
    warnings: list[Warning]


class InviteContact(Body):
    permissions: list[PermissionKey] = Field(default_factory=list, max_length=9)


# --- users and invitations ---------------------------------------------------------------------------------------
class UserOut(Contract):
    user_id: str
    email: str
    name: str
    role: str
    permissions: list[str]
    service_id: str | None

    @classmethod
    def of(cls, membership: Membership) -> UserOut:
        return cls(
            user_id=membership.user_id,
            email=membership.user_email,
            name=membership.user_name,
            role=membership.role.value,
            permissions=sorted(p.value for p in membership.effective_permissions()),
            service_id=membership.service_id,
        )


class UserList(Contract):
    items: list[UserOut]
    next: str | None = None


class PermissionsPatch(Body):
    permissions: list[PermissionKey] = Field(max_length=9)


class OwnerTransfer(Body):
    user_id: str = Field(min_length=1, max_length=64)


class InvitationIn(Body):
    email: str = EmailText
    permissions: list[PermissionKey] = Field(default_factory=list, max_length=9)
    service_id: str | None = Field(default=None, max_length=64)


class InvitationOut(Timestamped):
    invitation_id: str
    email: str
    permissions: list[str]
    service_id: str | None
    status: str
    expires_at: datetime

    @classmethod
    def of(cls, invitation: Invitation, now: datetime) -> InvitationOut:
        return cls(
            invitation_id=invitation.invitation_id,
            email=invitation.email,
            permissions=sorted(p.value for p in invitation.permissions),
            service_id=invitation.service_id,
            status=invitation.status_at(now).value,
            expires_at=invitation.expires_at,
        )


class InvitationList(Contract):
    items: list[InvitationOut]
    next: str | None = None


class AcceptedInvitation(Contract):
    account_id: str
    role: str
    permissions: list[str]


# --- audit ---------------------------------------------------------------------------------------------------------
class AuditOut(Timestamped):
    audit_id: str
    at: datetime
    actor_user_id: str | None
    actor_email: str | None
    action: str
    target: dict[str, str]
    source_ip: str | None
    request_id: str | None
    staff: bool

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditOut:
        return cls(
            audit_id=entry.audit_id,
            at=entry.at,
            actor_user_id=entry.actor_user_id,
            actor_email=entry.actor_email,
            action=entry.action,
            target=dict(entry.target),
            source_ip=entry.source_ip,
            request_id=entry.request_id,
            staff=entry.staff,
        )


class AuditList(Contract):
    items: list[AuditOut]
    next: str | None = None


# --- staff ---------------------------------------------------------------------------------------------------------
class StaffAccountSummary(Contract):
    account_id: str
    name: str
    notice_email: str
    tax_id: str | None
    status: str
    currency: str


class StaffAccountList(Contract):
    items: list[StaffAccountSummary]
    next: str | None = None


class StaffAccountDetail(Contract):
    """An account for staff: its profile and how many users and contacts it has (the lists: ``…/users`` and
    ``…/contacts``, a page at a time)."""

    account: AccountOut
    user_count: int
    contact_count: int


class StaffContactList(Contract):
    items: list[ContactOut]
    next: str | None = None
