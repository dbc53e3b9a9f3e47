"""Accounts, memberships, contacts, invitations, exports and staff search in the single table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError
from pynamodb.expressions.update import Action

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.cursors import TABLE_KEY, encode_cursor, invalid_cursor, start_key
from balcao.adapters.dynamodb.models import (
    AccountItem,
    AuditItem,
    BalcaoItem,
    ContactItem,
    ExportItem,
    InvitationItem,
    LookupItem,
    MemberItem,
    SummaryItem,
)
from balcao.adapters.dynamodb.notifications import contact_from_item
from balcao.adapters.dynamodb.transaction import Transaction
from balcao.domain.accounts import (
    AccountProfile,
    AccountStatus,
    Contact,
    Invitation,
    InvitationStatus,
    Membership,
    PeopleCounts,
    Permission,
    Role,
)
from balcao.domain.addresses import Address
from balcao.domain.audit import AuditEntry
from balcao.domain.errors import ConflictError, NotFoundError
from balcao.domain.events import DomainEvent
from balcao.domain.tax_ids import TaxId, TaxIdKind

CONCURRENT_CHANGE = ConflictError()


# --- conversions ---------------------------------------------------------------------------------------------------
def account_item(account: AccountProfile) -> AccountItem:
    item = AccountItem(
        pk=keys.account_pk(account.account_id),
        sk=keys.PROFILE,
        account_id=account.account_id,
        name=account.name,
        company=account.company,
        tax_country=account.tax_id.country if account.tax_id else None,
        tax_kind=account.tax_id.kind.value if account.tax_id else None,
        tax_id=account.tax_id.value if account.tax_id else None,
        address=_address_json(account.address),
        phone=account.phone,
        language=account.language,
        currency=account.currency,
        notice_email=account.notice_email,
        owner_user_id=account.owner_user_id,
        require_mfa=account.require_mfa,
        status=account.status.value,
        created_at=account.created_at,
        closure_requested_at=account.closure_requested_at,
        terms_version=account.terms_version,
        anonymise_after=account.anonymise_after,
        hosted_domains=list(account.hosted_domains) or None,
    )
    item.gsi1pk = keys.gsi1_name_pk(account.name)
    item.gsi1sk = keys.gsi1_name_sk(account.name, account.account_id)
    if account.anonymise_after and account.status is not AccountStatus.CLOSED:
        item.gsi3pk = keys.QUEUE_CLOSURES
        item.gsi3sk = keys.gsi3_queue_sk(account.anonymise_after, account.account_id)
    return item


def _address_json(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {k: getattr(address, k) for k in address.__dataclass_fields__}


def account_from_item(item: AccountItem) -> AccountProfile:
    tax_id = None
    if item.tax_id and item.tax_country and item.tax_kind:
        tax_id = TaxId(item.tax_country, TaxIdKind(item.tax_kind), item.tax_id)
    return AccountProfile(
        account_id=item.account_id,
        name=item.name,
        language=item.language,
        currency=item.currency,
        notice_email=item.notice_email,
        owner_user_id=item.owner_user_id,
        created_at=item.created_at,
        company=item.company,
        tax_id=tax_id,
        address=Address(**item.address) if item.address else None,
        phone=item.phone,
        require_mfa=bool(item.require_mfa),
        status=AccountStatus(item.status),
        closure_requested_at=item.closure_requested_at,
        terms_version=item.terms_version,
        anonymise_after=item.anonymise_after,
        hosted_domains=tuple(str(d) for d in item.hosted_domains or []),
    )


def member_item(membership: Membership, joined_at: datetime) -> MemberItem:
    return MemberItem(
        pk=keys.account_pk(membership.account_id),
        sk=keys.member_sk(membership.user_id),
        gsi1pk=keys.gsi1_user_pk(membership.user_id),
        gsi1sk=keys.gsi1_membership_sk(membership.account_id),
        gsi2pk=keys.gsi2_people_pk(membership.account_id),
        gsi2sk=keys.member_sk(membership.user_id),
        notice_email=membership.notice_email or None,
        hosted_domains=list(membership.hosted_domains) or None,
        account_id=membership.account_id,
        user_id=membership.user_id,
        role=membership.role.value,
        permissions=sorted(p.value for p in membership.permissions),
        service_id=membership.service_id,
        account_name=membership.account_name,
        require_mfa=membership.require_mfa,
        user_email=membership.user_email,
        user_name=membership.user_name,
        joined_at=joined_at,
    )


def membership_from_item(item: MemberItem) -> Membership:
    return Membership(
        account_id=item.account_id,
        user_id=item.user_id,
        role=Role(item.role),
        permissions=frozenset(Permission(str(p)) for p in item.permissions or []),
        account_name=item.account_name,
        service_id=item.service_id,
        require_mfa=bool(item.require_mfa),
        user_email=item.user_email,
        user_name=item.user_name,
        notice_email=item.notice_email or "",
        hosted_domains=tuple(str(d) for d in item.hosted_domains or []),
    )


def contact_item(contact: Contact) -> ContactItem:
    return ContactItem(
        pk=keys.account_pk(contact.account_id),
        sk=keys.contact_sk(contact.contact_id),
        contact_id=contact.contact_id,
        account_id=contact.account_id,
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        language=contact.language,
        departments=sorted(d.value for d in contact.departments),
        bounced=contact.bounced,
        created_at=contact.created_at,
    )


def invitation_from_item(item: InvitationItem) -> Invitation:
    return Invitation(
        invitation_id=item.invitation_id,
        account_id=item.account_id,
        email=item.email,
        permissions=frozenset(Permission(str(p)) for p in item.permissions or []),
        status=InvitationStatus(item.status),
        expires_at=item.expires_at,
        invited_by=item.invited_by,
        created_at=item.created_at,
        service_id=item.service_id,
    )


def audit_from_item(item: AuditItem) -> AuditEntry:
    return AuditEntry(
        audit_id=item.audit_id,
        at=item.at,
        actor_user_id=item.actor_user_id,
        actor_email=item.actor_email,
        account_id=item.account_id,
        action=item.action,
        target=dict(item.target or {}),
        source_ip=item.source_ip,
        request_id=item.request_id,
        staff=bool(item.staff),
    )


def summary_key(account_id: str) -> SummaryItem:
    return SummaryItem(pk=keys.account_pk(account_id), sk=keys.SUMMARY)


def _summary_actions(account_id: str) -> list[Action]:
    """What every write of the ``SUMMARY`` sets: its kind and its place at the head of the invoice list (GSI1)."""
    return [
        SummaryItem.entity.set(SummaryItem),
        SummaryItem.gsi1pk.set(keys.gsi1_invoices_pk(account_id)),
        SummaryItem.gsi1sk.set(keys.SUMMARY),
    ]


def count_people(transaction: Transaction, account_id: str, *, users: int = 0, contacts: int = 0) -> None:
    """Move the account's ``SUMMARY`` counts of users and contacts in the transaction of the change they count (both
    attributes exist from the account's first counted change on)."""
    counts = [SummaryItem.users.add(users), SummaryItem.contacts.add(contacts)]
    transaction.update(summary_key(account_id), actions=[*_summary_actions(account_id), *counts])


def no_people(transaction: Transaction, account_id: str) -> None:
    """The ``SUMMARY`` counts no users and no contacts (every one of them is deleted in this transaction)."""
    counts = [SummaryItem.users.set(0), SummaryItem.contacts.set(0)]
    transaction.update(summary_key(account_id), actions=[*_summary_actions(account_id), *counts])


def _prefix_page[I: BalcaoItem, T](
    model: type[I], account_id: str, prefix: str, limit: int, cursor: str | None, convert: Callable[[I], T]
) -> tuple[list[T], str | None]:
    """One Query of the account's ``prefix`` items, ``limit`` of them from the cursor on (a cursor of other items is
    refused)."""
    start = start_key(cursor, {"pk": keys.account_pk(account_id)}, TABLE_KEY)
    if start is not None and not start["sk"]["S"].startswith(prefix):
        raise invalid_cursor()
    results = model.query(
        keys.account_pk(account_id), model.sk.startswith(prefix), limit=limit, page_size=limit, last_evaluated_key=start
    )
    return [convert(item) for item in results], encode_cursor(results.last_evaluated_key)


# --- the store -----------------------------------------------------------------------------------------------------
class DynamoAccountStore:
    def account(self, account_id: str) -> AccountProfile | None:
        try:
            return account_from_item(AccountItem.get(keys.account_pk(account_id), keys.PROFILE))
        except AccountItem.DoesNotExist:
            return None

    def accounts(self, account_ids: Sequence[str]) -> list[AccountProfile]:
        wanted = list(dict.fromkeys(account_ids))
        if not wanted:
            return []
        found = {
            item.account_id: account_from_item(item)
            for item in AccountItem.batch_get([(keys.account_pk(a), keys.PROFILE) for a in wanted])
        }
        return [found[a] for a in wanted if a in found]

    def account_with_counts(self, account_id: str) -> tuple[AccountProfile | None, PeopleCounts]:
        """The profile and the ``SUMMARY``'s counts of users and contacts, in one BatchGet."""
        pk = keys.account_pk(account_id)
        account: AccountProfile | None = None
        counts = PeopleCounts(users=0, contacts=0)
        for item in BalcaoItem.batch_get([(pk, keys.PROFILE), (pk, keys.SUMMARY)]):
            if isinstance(item, AccountItem):
                account = account_from_item(item)
            elif isinstance(item, SummaryItem):
                counts = PeopleCounts(users=int(item.users or 0), contacts=int(item.contacts or 0))
        return account, counts

    def add_account(self, account: AccountProfile, owner: Membership) -> None:
        """Another account for an existing login (one login, several contracts)."""
        transaction = Transaction()
        transaction.save(account_item(account), condition=AccountItem.pk.does_not_exist())
        transaction.save(member_item(owner, account.created_at), condition=MemberItem.pk.does_not_exist())
        count_people(transaction, account.account_id, users=1)
        transaction.commit()

    def save_account(self, before: AccountProfile, after: AccountProfile, events: Sequence[DomainEvent]) -> None:
        """Optimistic: fails with 409 if the profile changed since ``before`` was read. A rename updates every
        membership's copy of the name; a new tax id moves its lookup item."""
        transaction = Transaction()
        current = AccountItem.get(keys.account_pk(before.account_id), keys.PROFILE)
        item = account_item(after)
        item.version = current.version
        transaction.save(item, error=CONCURRENT_CHANGE)
        copied = ("name", "require_mfa", "notice_email", "hosted_domains")
        if any(getattr(after, field) != getattr(before, field) for field in copied):
            for member in self.members(after.account_id):
                transaction.update(
                    member_item(member, current.created_at),
                    actions=[
                        MemberItem.account_name.set(after.name),
                        MemberItem.require_mfa.set(after.require_mfa),
                        MemberItem.notice_email.set(after.notice_email),
                        MemberItem.hosted_domains.set(list(after.hosted_domains)),  # type: ignore[arg-type]
                    ],
                    condition=MemberItem.pk.exists(),
                )
        if after.tax_id != before.tax_id:
            if before.tax_id is not None:
                transaction.delete(
                    LookupItem(
                        pk=keys.tax_id_lookup_pk(before.tax_id.country, before.tax_id.value),
                        sk=keys.account_pk(after.account_id),
                    )
                )
            if after.tax_id is not None:
                transaction.save(
                    LookupItem(
                        pk=keys.tax_id_lookup_pk(after.tax_id.country, after.tax_id.value),
                        sk=keys.account_pk(after.account_id),
                        target={"account_id": after.account_id},
                    )
                )
        for event in events:
            transaction.emit(event)
        transaction.commit()

    # --- memberships ---------------------------------------------------------------------------------------
    def membership(self, account_id: str, user_id: str) -> Membership | None:
        try:
            return membership_from_item(MemberItem.get(keys.account_pk(account_id), keys.member_sk(user_id)))
        except MemberItem.DoesNotExist:
            return None

    def members(self, account_id: str) -> list[Membership]:
        return [
            membership_from_item(i)
            for i in MemberItem.query(keys.account_pk(account_id), MemberItem.sk.startswith(keys.MEMBER_PREFIX))
        ]

    def members_page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Membership], str | None]:
        return _prefix_page(MemberItem, account_id, keys.MEMBER_PREFIX, limit, cursor, membership_from_item)

    def memberships_of(self, user_id: str) -> list[Membership]:
        return [
            membership_from_item(i)
            for i in MemberItem.by_gsi1.query(
                keys.gsi1_user_pk(user_id), MemberItem.gsi1sk.startswith(keys.ACCOUNT_PREFIX)
            )
            if isinstance(i, MemberItem)
        ]

    def save_membership(self, membership: Membership) -> None:
        item = MemberItem.get(keys.account_pk(membership.account_id), keys.member_sk(membership.user_id))
        member_item(membership, item.joined_at).save(condition=MemberItem.pk.exists())

    def remove_membership(self, account_id: str, user_id: str) -> None:
        transaction = Transaction()
        transaction.delete(
            MemberItem(pk=keys.account_pk(account_id), sk=keys.member_sk(user_id)),
            condition=MemberItem.pk.exists() & (MemberItem.role != Role.OWNER.value),
        )
        count_people(transaction, account_id, users=-1)
        transaction.commit()

    def transfer_ownership(self, account: AccountProfile, old_owner: Membership, new_owner: Membership) -> None:
        current = AccountItem.get(keys.account_pk(account.account_id), keys.PROFILE)
        item = account_item(account)
        item.version = current.version
        transaction = Transaction()
        transaction.save(item, error=CONCURRENT_CHANGE)
        transaction.save(member_item(old_owner, current.created_at), condition=MemberItem.role == Role.OWNER.value)
        transaction.save(member_item(new_owner, current.created_at), condition=MemberItem.pk.exists())
        transaction.commit()

    def people(self, account_id: str) -> tuple[list[Membership], list[Invitation]]:
        """An account's members and invitations in one query (GSI2 ``PEOPLE#{account}``)."""
        members: list[Membership] = []
        invitations: list[Invitation] = []
        for item in BalcaoItem.by_gsi2.query(keys.gsi2_people_pk(account_id)):
            if isinstance(item, MemberItem):
                members.append(membership_from_item(item))
            elif isinstance(item, InvitationItem):
                invitations.append(invitation_from_item(item))
        return members, invitations

    # --- contacts -------------------------------------------------------------------------------------------
    def contacts(self, account_id: str) -> list[Contact]:
        return [
            contact_from_item(i)
            for i in ContactItem.query(keys.account_pk(account_id), ContactItem.sk.startswith(keys.CONTACT_PREFIX))
        ]

    def contacts_page(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Contact], str | None]:
        return _prefix_page(ContactItem, account_id, keys.CONTACT_PREFIX, limit, cursor, contact_from_item)

    def contact(self, account_id: str, contact_id: str) -> Contact | None:
        try:
            return contact_from_item(ContactItem.get(keys.account_pk(account_id), keys.contact_sk(contact_id)))
        except ContactItem.DoesNotExist:
            return None

    def add_contact(self, contact: Contact) -> None:
        transaction = Transaction()
        transaction.save(contact_item(contact), condition=ContactItem.pk.does_not_exist())
        count_people(transaction, contact.account_id, contacts=1)
        transaction.commit()

    def save_contact(self, contact: Contact) -> None:
        """A change of an existing contact (404 once it was removed: a removed contact is not written back)."""
        try:
            contact_item(contact).save(condition=ContactItem.pk.exists())
        except PutError as failure:
            if failure.cause_response_code == "ConditionalCheckFailedException":
                raise NotFoundError() from failure
            raise

    def delete_contact(self, account_id: str, contact_id: str) -> None:
        transaction = Transaction()
        transaction.delete(
            ContactItem(pk=keys.account_pk(account_id), sk=keys.contact_sk(contact_id)),
            condition=ContactItem.pk.exists(),
            error=NotFoundError(),
        )
        count_people(transaction, account_id, contacts=-1)
        transaction.commit()

    # --- invitations ----------------------------------------------------------------------------------------
    def invitations(self, account_id: str) -> list[Invitation]:
        items = InvitationItem.query(keys.account_pk(account_id), InvitationItem.sk.startswith(keys.INVITATION_PREFIX))
        return [invitation_from_item(i) for i in items]

    def invitation(self, account_id: str, invitation_id: str) -> Invitation | None:
        try:
            return invitation_from_item(
                InvitationItem.get(keys.account_pk(account_id), keys.invitation_sk(invitation_id))
            )
        except InvitationItem.DoesNotExist:
            return None

    def create_invitation(self, invitation: Invitation, token: str, events: Sequence[DomainEvent]) -> None:
        transaction = Transaction()
        transaction.save(
            InvitationItem(
                pk=keys.account_pk(invitation.account_id),
                sk=keys.invitation_sk(invitation.invitation_id),
                invitation_id=invitation.invitation_id,
                account_id=invitation.account_id,
                email=invitation.email,
                permissions=sorted(p.value for p in invitation.permissions),
                service_id=invitation.service_id,
                status=invitation.status.value,
                expires_at=invitation.expires_at,
                invited_by=invitation.invited_by,
                created_at=invitation.created_at,
                token_hash=keys.digest(token),
                gsi2pk=keys.gsi2_people_pk(invitation.account_id),
                gsi2sk=keys.invitation_sk(invitation.invitation_id),
            )
        )
        transaction.save(
            LookupItem(
                pk=keys.invite_lookup_pk(token),
                sk=keys.LOOKUP,
                # The ids the accept page reads in one BatchGet after this lookup (who invites, which service).
                target={
                    "account_id": invitation.account_id,
                    "invitation_id": invitation.invitation_id,
                    "invited_by": invitation.invited_by,
                    "service_id": invitation.service_id,
                },
                ttl=int(invitation.expires_at.timestamp()),
            ),
            condition=LookupItem.pk.does_not_exist(),
        )
        for event in events:
            transaction.emit(event)
        transaction.commit()

    def invitation_for_token(self, token: str) -> Invitation | None:
        try:
            lookup = LookupItem.get(keys.invite_lookup_pk(token), keys.LOOKUP)
        except LookupItem.DoesNotExist:
            return None
        return self.invitation(lookup.target["account_id"], lookup.target["invitation_id"])

    def accept_invitation(self, invitation: Invitation, token: str, membership: Membership, now: datetime) -> None:
        """One transaction: the invitation (still pending) accepted, the membership created, the token spent."""
        transaction = Transaction()
        transaction.update(
            InvitationItem(pk=keys.account_pk(invitation.account_id), sk=keys.invitation_sk(invitation.invitation_id)),
            actions=[InvitationItem.status.set(InvitationStatus.ACCEPTED.value)],
            condition=InvitationItem.status == InvitationStatus.PENDING.value,
            error=NotFoundError(),
        )
        transaction.save(member_item(membership, now), condition=MemberItem.pk.does_not_exist())
        count_people(transaction, invitation.account_id, users=1)
        transaction.delete(
            LookupItem(pk=keys.invite_lookup_pk(token), sk=keys.LOOKUP),
            condition=LookupItem.pk.exists(),
            error=NotFoundError(),
        )
        transaction.commit()

    def set_invitation_status(self, invitation: Invitation, status: InvitationStatus) -> None:
        transaction = Transaction()
        item = InvitationItem.get(keys.account_pk(invitation.account_id), keys.invitation_sk(invitation.invitation_id))
        transaction.update(
            item,
            actions=[InvitationItem.status.set(status.value)],
            condition=InvitationItem.status == InvitationStatus.PENDING.value,
        )
        transaction.delete(LookupItem(pk=keys.invite_lookup_pk_for_digest(item.token_hash), sk=keys.LOOKUP))
        transaction.commit()

    # --- audit, exports ---------------------------------------------------------------------------------------
    def audit(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        results = AuditItem.query(
            keys.account_pk(account_id),
            AuditItem.sk.startswith(keys.AUDIT_PREFIX),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start_key(cursor, {"pk": keys.account_pk(account_id)}, TABLE_KEY),
        )
        entries = [audit_from_item(i) for i in results]
        return entries, encode_cursor(results.last_evaluated_key)

    def request_export(self, account_id: str, export_id: str, user_id: str, now: datetime) -> None:
        ExportItem(
            pk=keys.account_pk(account_id),
            sk=keys.export_sk(export_id),
            gsi3pk=keys.QUEUE_EXPORTS,
            gsi3sk=keys.gsi3_queue_sk(now.isoformat(), export_id),
            export_id=export_id,
            account_id=account_id,
            requested_by=user_id,
            status="pending",
            created_at=now,
        ).save()

    # --- staff search ---------------------------------------------------------------------------------------
    def find_by_tax_id(self, country: str, value: str) -> list[str]:
        return [str(i.target["account_id"]) for i in LookupItem.query(keys.tax_id_lookup_pk(country, value))]

    def find_by_name_prefix(self, prefix: str, limit: int) -> list[str]:
        folded = keys.fold(prefix)
        items = AccountItem.by_gsi1.query(keys.gsi1_name_pk(folded), AccountItem.gsi1sk.startswith(folded), limit=limit)
        return [i.account_id for i in items if isinstance(i, AccountItem)]

    def find_by_login_email(self, email: str) -> list[str]:
        try:
            lookup = LookupItem.get(keys.login_lookup_pk(email), keys.LOOKUP)
        except LookupItem.DoesNotExist:
            return []
        return [m.account_id for m in self.memberships_of(str(lookup.target["user_id"]))]
