"""Accounts and who may act for them: the profile, contacts, users and invitations, ownership, the audit log,
data exports and closure (LGPD/GDPR), and staff search.

Every route passes through ``authorize`` first (the handler's access declaration), so these use-cases receive an
already-authorized membership; they still check what only they can know (an invitation's email, the last owner).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from balcao.domain.accounts import (
    ALL_PERMISSIONS,
    DELEGATE_PERMISSIONS,
    AccountProfile,
    AccountStatus,
    Contact,
    Department,
    Invitation,
    InvitationStatus,
    LastOwnerError,
    Membership,
    PeopleCounts,
    Permission,
    Role,
)
from balcao.domain.addresses import validate_address
from balcao.domain.audit import AuditEntry
from balcao.domain.emails import email_domain, filters_hosting_mail, normalise_email
from balcao.domain.errors import N_, ConflictError, FieldProblem, InvalidInputError, NotFoundError
from balcao.domain.events import DomainEvent, new_event
from balcao.domain.identity import INVITATION_LIFETIME
from balcao.domain.ids import new_ulid
from balcao.domain.phones import normalise_phone
from balcao.domain.tax_ids import parse_tax_id
from balcao.services.ports import Clock

LANGUAGES = ("pt-BR", "es", "en")


class AccountStore(Protocol):
    def account(self, account_id: str) -> AccountProfile | None: ...

    def account_with_counts(self, account_id: str) -> tuple[AccountProfile | None, PeopleCounts]:
        """The profile with how many users and contacts the account has, in one read."""
        ...

    def save_account(self, before: AccountProfile, after: AccountProfile, events: Sequence[DomainEvent]) -> None: ...

    def membership(self, account_id: str, user_id: str) -> Membership | None: ...

    def members(self, account_id: str) -> list[Membership]: ...

    def members_page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Membership], str | None]: ...

    def people(self, account_id: str) -> tuple[list[Membership], list[Invitation]]: ...

    def memberships_of(self, user_id: str) -> list[Membership]: ...

    def save_membership(self, membership: Membership) -> None: ...

    def remove_membership(self, account_id: str, user_id: str) -> None: ...

    def transfer_ownership(self, account: AccountProfile, old_owner: Membership, new_owner: Membership) -> None: ...

    def contacts(self, account_id: str) -> list[Contact]: ...

    def contacts_page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Contact], str | None]: ...

    def contact(self, account_id: str, contact_id: str) -> Contact | None: ...

    def add_contact(self, contact: Contact) -> None: ...

    def save_contact(self, contact: Contact) -> None: ...

    def delete_contact(self, account_id: str, contact_id: str) -> None: ...

    def invitations(self, account_id: str) -> list[Invitation]: ...

    def invitation(self, account_id: str, invitation_id: str) -> Invitation | None: ...

    def create_invitation(self, invitation: Invitation, token: str, events: Sequence[DomainEvent]) -> None: ...

    def invitation_for_token(self, token: str) -> Invitation | None: ...

    def accept_invitation(self, invitation: Invitation, token: str, membership: Membership, now: datetime) -> None: ...

    def set_invitation_status(self, invitation: Invitation, status: InvitationStatus) -> None: ...

    def audit(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]: ...

    def request_export(self, account_id: str, export_id: str, user_id: str, now: datetime) -> None: ...

    def find_by_tax_id(self, country: str, value: str) -> list[str]: ...

    def find_by_name_prefix(self, prefix: str, limit: int) -> list[str]: ...

    def find_by_login_email(self, email: str) -> list[str]: ...

    def accounts(self, account_ids: Sequence[str]) -> list[AccountProfile]: ...


@dataclass(frozen=True, slots=True)
class ContactWarnings:
    all_on_own_domain: bool
    filtering_domains: tuple[str, ...]

    def as_list(self, hosted_domains: Sequence[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        if self.all_on_own_domain:
            found.append(
                {
                    "code": "all_on_hosted_domain",
                    "message": N_(
                        "Every address of this account is on a domain hosted with us. If that domain goes down, "
                        "reminders are lost: add a contact on another domain."
                    ),
                    "domains": list(hosted_domains),
                }
            )
        if self.filtering_domains:
            found.append(
                {
                    "code": "filtering_mail_domain",
                    "message": N_(
                        "Microsoft mail (Hotmail, Outlook, Live) often filters hosting mail: check the junk folder "
                        "and add our address to your contacts."
                    ),
                    "addresses": list(self.filtering_domains),
                }
            )
        return found


def contact_warnings(notice_email: str, hosted_domains: Sequence[str], contacts: Sequence[Contact]) -> ContactWarnings:
    """Seed 002: every address on a domain the customer hosts with us; seed 000: mail domains that filter."""
    addresses = [notice_email, *(c.email for c in contacts)]
    hosted = {d.lower() for d in hosted_domains}
    on_own = bool(hosted) and all(email_domain(a) in hosted for a in addresses)
    filtering = tuple(a for a in addresses if filters_hosting_mail(a))
    return ContactWarnings(on_own, filtering)


def _text(field: str, value: Any, *, required: bool, longest: int = 120) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInputError.single(field, N_("This field is required."), "required")
    if len(text) > longest:
        raise InvalidInputError.single(field, N_("This value is too long."), "too_long")
    return text


def _choice(field: str, value: Any, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise InvalidInputError.single(field, N_("This value is not one of the allowed choices."), "invalid_choice")
    return str(value)


def _currency(value: Any, is_staff: bool) -> str:
    if not is_staff:
        raise InvalidInputError.single(
            "currency", N_("Only our staff can change the currency of an account."), "not_allowed"
        )
    return _choice("currency", value, ("BRL", "EUR"))


def _departments(values: Sequence[str], field: str = "departments") -> frozenset[Department]:
    try:
        return frozenset(Department(v) for v in values)
    except ValueError:
        raise InvalidInputError.single(
            field, N_("This value is not one of the allowed choices."), "invalid_choice"
        ) from None


def _permissions(values: Sequence[str], field: str = "permissions") -> frozenset[Permission]:
    try:
        return frozenset(Permission(v) for v in values)
    except ValueError:
        raise InvalidInputError.single(
            field, N_("This value is not one of the allowed choices."), "invalid_choice"
        ) from None


@dataclass
class Accounts:
    store: AccountStore
    clock: Clock

    # --- profile ----------------------------------------------------------------------------------------------
    def profile(self, account_id: str) -> AccountProfile:
        account = self.store.account(account_id)
        if account is None:
            raise NotFoundError()
        return account

    def update_profile(self, account_id: str, changes: Mapping[str, Any], *, is_staff: bool = False) -> AccountProfile:
        """Validated all at once (422 with every field); ``currency`` only by staff while nothing is billed."""
        before = self.profile(account_id)
        updates: dict[str, Any] = {}
        problems: list[FieldProblem] = []
        country = (changes.get("address") or {}).get("country") or (before.address.country if before.address else None)
        for name, value in changes.items():
            try:
                updates.update(self._validated(name, value, country or "BR", is_staff))
            except InvalidInputError as invalid:
                problems.extend(invalid.fields)
        if problems:
            raise InvalidInputError(problems)
        after = replace(before, **updates)
        self.store.save_account(before, after, [])
        return after

    def _validated(self, name: str, value: Any, country: str, is_staff: bool) -> dict[str, Any]:
        validators: dict[str, Callable[[], dict[str, Any]]] = {
            "name": lambda: {"name": _text(name, value, required=True)},
            "company": lambda: {"company": _text(name, value, required=False) or None},
            "tax_id": lambda: {"tax_id": parse_tax_id(country, str(value)) if value else None},
            "address": lambda: {"address": validate_address(value) if value else None},
            "phone": lambda: {"phone": normalise_phone(str(value), country) if value else None},
            "language": lambda: {"language": _choice(name, value, LANGUAGES)},
            "notice_email": lambda: {"notice_email": normalise_email(str(value), field=name)},
            "require_mfa": lambda: {"require_mfa": bool(value)},
            "currency": lambda: {"currency": _currency(value, is_staff)},
        }
        if name not in validators:
            raise InvalidInputError.single(name, N_("This field is not allowed."), "not_allowed")
        return validators[name]()

    def request_closure(self, account_id: str, fiscal_years: int) -> AccountProfile:
        """Recorded and shown to staff; personal data is anonymised once fiscal retention allows (invoices stay)."""
        before = self.profile(account_id)
        if before.status is not AccountStatus.ACTIVE:
            raise ConflictError(N_("The closure of this account was already requested."))
        now = self.clock.now()
        after = replace(
            before,
            status=AccountStatus.CLOSURE_REQUESTED,
            closure_requested_at=now,
            anonymise_after=(now + timedelta(days=366 * fiscal_years)).date().isoformat(),
        )
        self.store.save_account(before, after, [new_event("account.closure_requested", now, account_id=account_id)])
        return after

    # --- contacts ---------------------------------------------------------------------------------------------
    def contacts(self, account_id: str) -> list[Contact]:
        return self.store.contacts(account_id)

    def contacts_page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Contact], str | None]:
        return self.store.contacts_page(account_id, limit, cursor)

    def contact(self, account_id: str, contact_id: str) -> Contact:
        found = self.store.contact(account_id, contact_id)
        if found is None:
            raise NotFoundError()
        return found

    def add_contact(
        self,
        account_id: str,
        name: str,
        email: str,
        departments: Sequence[str],
        phone: str | None,
        language: str | None,
    ) -> Contact:
        account = self.profile(account_id)
        contact = Contact(
            contact_id=new_ulid(),
            account_id=account_id,
            name=self._contact_name(name),
            email=normalise_email(email),
            departments=_departments(departments),
            created_at=self.clock.now(),
            phone=normalise_phone(phone, account.address.country if account.address else "BR") if phone else None,
            language=self._language(language),
        )
        self.store.add_contact(contact)
        return contact

    def update_contact(self, account_id: str, contact_id: str, changes: Mapping[str, Any]) -> Contact:
        contact = self.contact(account_id, contact_id)
        account = self.profile(account_id)
        updated = contact
        if "name" in changes:
            updated = replace(updated, name=self._contact_name(str(changes["name"] or "")))
        if "email" in changes:
            updated = replace(updated, email=normalise_email(str(changes["email"] or "")), bounced=False)
        if "departments" in changes:
            updated = replace(updated, departments=_departments(changes["departments"] or []))
        if "phone" in changes:
            country = account.address.country if account.address else "BR"
            updated = replace(
                updated, phone=normalise_phone(str(changes["phone"]), country) if changes["phone"] else None
            )
        if "language" in changes:
            updated = replace(updated, language=self._language(changes["language"]))
        self.store.save_contact(updated)
        return updated

    def remove_contact(self, account_id: str, contact_id: str) -> None:
        self.contact(account_id, contact_id)
        self.store.delete_contact(account_id, contact_id)

    @staticmethod
    def _contact_name(name: str) -> str:
        text = name.strip()
        if not text:
            raise InvalidInputError.single("name", N_("This field is required."), "required")
        if len(text) > 120:
            raise InvalidInputError.single("name", N_("This value is too long."), "too_long")
        return text

    @staticmethod
    def _language(language: str | None) -> str | None:
        if language is not None and language not in LANGUAGES:
            raise InvalidInputError.single(
                "language", N_("This value is not one of the allowed choices."), "invalid_choice"
            )
        return language

    # --- users ----------------------------------------------------------------------------------------------
    def users(self, account_id: str) -> list[Membership]:
        return self.store.members(account_id)

    def users_page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Membership], str | None]:
        return self.store.members_page(account_id, limit, cursor)

    def change_permissions(self, account_id: str, user_id: str, permissions: Sequence[str]) -> Membership:
        member = self.store.membership(account_id, user_id)
        if member is None:
            raise NotFoundError()
        if member.is_owner:
            raise ConflictError(N_("The owner always holds every permission."))
        granted = _permissions(permissions)
        if member.is_delegate:
            granted &= DELEGATE_PERMISSIONS
        updated = replace(member, permissions=granted)
        self.store.save_membership(updated)
        return updated

    def remove_user(self, account_id: str, user_id: str) -> None:
        """The owner removes a member, or a member leaves; the owner can neither leave nor be removed."""
        member = self.store.membership(account_id, user_id)
        if member is None:
            raise NotFoundError()
        if member.is_owner:
            raise LastOwnerError()
        self.store.remove_membership(account_id, user_id)

    def transfer_ownership(self, account_id: str, owner: Membership, new_owner_id: str) -> AccountProfile:
        target = self.store.membership(account_id, new_owner_id)
        if target is None or target.is_delegate:
            raise InvalidInputError.single(
                "user_id", N_("Only a member of the account can become its owner."), "not_a_member"
            )
        if target.is_owner:
            return self.profile(account_id)
        account = self.profile(account_id)
        self.store.transfer_ownership(
            replace(account, owner_user_id=new_owner_id),
            replace(owner, role=Role.MEMBER, permissions=ALL_PERMISSIONS),
            replace(target, role=Role.OWNER, permissions=ALL_PERMISSIONS),
        )
        return self.profile(account_id)

    # --- invitations ---------------------------------------------------------------------------------------
    def invite(
        self,
        account_id: str,
        inviter: Membership,
        email: str,
        permissions: Sequence[str],
        service_id: str | None,
        *,
        inviter_name: str,
        service_name: str | None,
        accept_base_url: str,
    ) -> Invitation:
        address = normalise_email(email)
        granted = DELEGATE_PERMISSIONS if service_id else _permissions(permissions)
        if any(m.user_email == address for m in self.store.members(account_id)):
            raise ConflictError(N_("This person is already a user of the account."))
        now = self.clock.now()
        token = secrets.token_urlsafe(32)
        invitation = Invitation(
            invitation_id=new_ulid(),
            account_id=account_id,
            email=address,
            permissions=granted,
            status=InvitationStatus.PENDING,
            expires_at=now + INVITATION_LIFETIME,
            invited_by=inviter.user_id,
            created_at=now,
            service_id=service_id,
        )
        account = self.profile(account_id)
        event = new_event(
            "identity.invitation",
            now,
            user_id=inviter.user_id,
            to=address,
            language=account.language,
            inviter_name=inviter_name,
            account_name=account.name,
            service_name=service_name,
            accept_url=f"{accept_base_url.rstrip('/')}/invitations/{token}",
        )
        self.store.create_invitation(invitation, token, [event])
        return invitation

    def invitations(self, account_id: str) -> list[Invitation]:
        return self.store.invitations(account_id)

    def people(self, account_id: str) -> tuple[list[Membership], list[Invitation]]:
        """Members and invitations together (the users page)."""
        return self.store.people(account_id)

    def revoke_invitation(self, account_id: str, invitation_id: str) -> None:
        invitation = self.store.invitation(account_id, invitation_id)
        if invitation is None:
            raise NotFoundError()
        if invitation.status_at(self.clock.now()) is InvitationStatus.PENDING:
            self.store.set_invitation_status(invitation, InvitationStatus.REVOKED)

    def accept_invitation(self, token: str, user_id: str, user_email: str, user_name: str) -> Membership:
        """Only the invited email, once, before it expires; anything else answers 404."""
        invitation = self.store.invitation_for_token(token)
        now = self.clock.now()
        if (
            invitation is None
            or invitation.status_at(now) is not InvitationStatus.PENDING
            or invitation.email != user_email.strip().lower()
        ):
            raise NotFoundError()
        existing = self.store.membership(invitation.account_id, user_id)
        if existing is not None:
            raise ConflictError(N_("You are already a user of this account."))
        account = self.profile(invitation.account_id)
        membership = Membership(
            account_id=invitation.account_id,
            user_id=user_id,
            role=Role.DELEGATE if invitation.service_id else Role.MEMBER,
            permissions=invitation.permissions,
            account_name=account.name,
            service_id=invitation.service_id,
            require_mfa=account.require_mfa,
            user_email=user_email.strip().lower(),
            user_name=user_name,
            notice_email=account.notice_email,
            hosted_domains=account.hosted_domains,
        )
        self.store.accept_invitation(invitation, token, membership, now)
        return membership

    # --- audit, exports ---------------------------------------------------------------------------------------
    def audit(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        return self.store.audit(account_id, limit, cursor)

    def request_export(self, account_id: str, user_id: str) -> str:
        export_id = new_ulid()
        self.store.request_export(account_id, export_id, user_id, self.clock.now())
        return export_id

    # --- staff -------------------------------------------------------------------------------------------------
    def staff_view(self, account_id: str) -> tuple[AccountProfile, PeopleCounts]:
        """An account's profile with how many users and contacts it has (the lists are read a page at a time)."""
        account, counts = self.store.account_with_counts(account_id)
        if account is None:
            raise NotFoundError()
        return account, counts

    def search(self, query: str, limit: int = 25) -> list[AccountProfile]:
        """An exact email, an exact tax id, or a folded name prefix (≥ 2 characters); never a substring."""
        text = query.strip()
        if len(text) < 2:
            raise InvalidInputError.single("q", N_("Type at least 2 characters."), "too_short")
        account_ids: list[str] = []
        if "@" in text:
            try:
                account_ids = self.store.find_by_login_email(normalise_email(text, field="q"))
            except InvalidInputError:
                account_ids = []
        else:
            for country in ("BR", "ES"):
                try:
                    tax_id = parse_tax_id(country, text, field="q")
                except InvalidInputError:
                    continue
                account_ids = self.store.find_by_tax_id(tax_id.country, tax_id.value)
                break
            else:
                account_ids = self.store.find_by_name_prefix(text, limit)
        return self.store.accounts(account_ids[:limit])
