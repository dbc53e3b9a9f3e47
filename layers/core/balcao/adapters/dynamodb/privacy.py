"""The privacy jobs' storage: export requests, the account partition as plain JSON, unconfirmed sign-ups,
retention buckets of the email and audit logs, and the anonymisation of closed accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.accounts import no_people, summary_key
from balcao.adapters.dynamodb.models import (
    AccountItem,
    AuditItem,
    BalcaoItem,
    CheckpointItem,
    ContactItem,
    EmailLogItem,
    ExportItem,
    InvitationItem,
    LookupItem,
    MemberItem,
    SecretItem,
    UserItem,
)
from balcao.adapters.dynamodb.transaction import Transaction
from balcao.domain.accounts import AccountStatus, Role
from balcao.domain.events import DomainEvent
from balcao.domain.identity import CodePurpose
from balcao.services.privacy import ExportRequest

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer


@cache
def _deserializer() -> TypeDeserializer:
    """boto3's item deserializer, imported when an export first needs it (boto3 is not needed by most requests)."""
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


ANONYMISED = "anonymised"
# Months before the first run whose log buckets may still hold entries (the retention checkpoint starts here).
RETENTION_START = "2020-01"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value


def _months(first: str, last: str) -> list[str]:
    year, month = (int(p) for p in first.split("-"))
    end_year, end_month = (int(p) for p in last.split("-"))
    found = []
    while (year, month) <= (end_year, end_month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


class DynamoPrivacyStore:
    def pending_exports(self, limit: int) -> list[ExportRequest]:
        items = ExportItem.by_gsi3.query(keys.QUEUE_EXPORTS, limit=limit)
        return [ExportRequest(i.account_id, i.export_id, i.requested_by) for i in items if isinstance(i, ExportItem)]

    def account_items(self, account_id: str) -> list[dict[str, Any]]:
        """Every item of the account — its partition, and each of its tickets with their messages — as plain JSON
        (keys and index keys left out)."""
        found = self._partition(keys.account_pk(account_id))
        for ticket_pk in self._ticket_partitions(account_id):
            found.extend(self._partition(ticket_pk))
        return found

    def _partition(self, partition: str) -> list[dict[str, Any]]:
        connection = BalcaoItem._get_connection()
        found: list[dict[str, Any]] = []
        last_key = None
        hidden = {"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk", "ttl", "version"}
        while True:
            page = connection.query(partition, exclusive_start_key=last_key)
            for raw in page.get("Items", []):
                item = {k: _deserializer().deserialize(v) for k, v in raw.items() if k not in hidden}
                if str(item.get("entity")) in ("Outbox",):
                    continue
                found.append(_plain(item))
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return found

    @staticmethod
    def _ticket_partitions(account_id: str) -> list[str]:
        headers = BalcaoItem.by_gsi1.query(
            keys.gsi1_account_tickets_pk(account_id), BalcaoItem.gsi1sk.startswith(keys.TICKET_ACTIVITY_PREFIX)
        )
        return [item.pk for item in headers]

    def complete_export(
        self, request: ExportRequest, object_key: str, now: datetime, events: Sequence[DomainEvent]
    ) -> None:
        transaction = Transaction()
        transaction.update(
            ExportItem(pk=keys.account_pk(request.account_id), sk=keys.export_sk(request.export_id)),
            actions=[
                ExportItem.status.set("done"),
                ExportItem.object_key.set(object_key),
                ExportItem.completed_at.set(now),
                ExportItem.gsi3pk.remove(),
                ExportItem.gsi3sk.remove(),
            ],
            condition=ExportItem.status == "pending",
        )
        for event in events:
            transaction.emit(event)
        transaction.commit()

    def requester(self, user_id: str) -> tuple[str, str] | None:
        try:
            user = UserItem.get(keys.user_pk(user_id), keys.PROFILE)
        except UserItem.DoesNotExist:
            return None
        return user.email, user.language

    # --- unconfirmed sign-ups ---------------------------------------------------------------------------------
    def unconfirmed_before(self, cutoff: datetime, limit: int) -> list[str]:
        items = UserItem.by_gsi3.query(
            keys.QUEUE_UNCONFIRMED_SIGNUPS, UserItem.gsi3sk < cutoff.isoformat(), limit=limit
        )
        return [i.user_id for i in items if isinstance(i, UserItem)]

    def remove_unconfirmed(self, user_id: str) -> None:
        """The user, their login, the account they created at sign-up and its owner membership, the code."""
        try:
            user = UserItem.get(keys.user_pk(user_id), keys.PROFILE)
        except UserItem.DoesNotExist:
            return
        transaction = Transaction()
        transaction.delete(user, condition=UserItem.status == "unconfirmed")
        transaction.delete(LookupItem(pk=keys.login_lookup_pk(user.email), sk=keys.LOOKUP))
        transaction.delete(SecretItem(pk=keys.code_pk(CodePurpose.SIGNUP.value, user.email), sk=keys.CODE))
        members = MemberItem.by_gsi1.query(
            keys.gsi1_user_pk(user_id), MemberItem.gsi1sk.startswith(keys.ACCOUNT_PREFIX)
        )
        for member in members:
            if isinstance(member, MemberItem) and member.role == Role.OWNER.value:
                transaction.delete(member)
                transaction.delete(AccountItem(pk=keys.account_pk(member.account_id), sk=keys.PROFILE))
                transaction.delete(summary_key(member.account_id))
        transaction.commit()

    # --- retention ---------------------------------------------------------------------------------------------
    def purge_logs(self, kind: str, before: datetime) -> int:
        """Delete the entries of ``kind`` older than ``before``, month bucket by month bucket, from a checkpoint."""
        model: type[EmailLogItem] | type[AuditItem] = EmailLogItem if kind == "email" else AuditItem
        checkpoint_key = keys.job_checkpoint_pk(f"retention-{kind}")
        try:
            start = CheckpointItem.get(checkpoint_key, keys.CHECKPOINT).position
        except CheckpointItem.DoesNotExist:
            start = RETENTION_START
        cutoff_month = before.strftime("%Y-%m")
        deleted = 0
        for month in _months(start, cutoff_month):
            expired = model.by_gsi3.query(keys.retention_bucket(kind, month), model.gsi3sk < before.isoformat())
            with model.batch_write() as batch:
                for item in expired:
                    batch.delete(item)
                    deleted += 1
        CheckpointItem(pk=checkpoint_key, sk=keys.CHECKPOINT, position=cutoff_month, updated_at=before).save()
        return deleted

    # --- closed accounts ---------------------------------------------------------------------------------------
    def closures_due(self, day: str) -> list[str]:
        items = AccountItem.by_gsi3.query(keys.QUEUE_CLOSURES, AccountItem.gsi3sk <= f"{day}#~")
        return [i.account_id for i in items if isinstance(i, AccountItem)]

    def anonymise(self, account_id: str, now: datetime) -> None:
        """Personal data replaced, contacts and invitations deleted, other users removed; invoices untouched."""
        account = AccountItem.get(keys.account_pk(account_id), keys.PROFILE)
        transaction = Transaction()
        transaction.update(
            account,
            actions=[
                AccountItem.name.set(ANONYMISED),
                AccountItem.company.remove(),
                AccountItem.tax_id.remove(),
                AccountItem.tax_country.remove(),
                AccountItem.tax_kind.remove(),
                AccountItem.address.remove(),
                AccountItem.phone.remove(),
                AccountItem.notice_email.set(f"{ANONYMISED}@invalid"),
                AccountItem.status.set(AccountStatus.CLOSED.value),
                AccountItem.gsi1pk.remove(),
                AccountItem.gsi1sk.remove(),
                AccountItem.gsi3pk.remove(),
                AccountItem.gsi3sk.remove(),
            ],
        )
        if account.tax_id and account.tax_country:
            transaction.delete(
                LookupItem(
                    pk=keys.tax_id_lookup_pk(account.tax_country, account.tax_id), sk=keys.account_pk(account_id)
                )
            )
        for contact in ContactItem.query(keys.account_pk(account_id), ContactItem.sk.startswith(keys.CONTACT_PREFIX)):
            transaction.delete(contact)
        for invitation in InvitationItem.query(
            keys.account_pk(account_id), InvitationItem.sk.startswith(keys.INVITATION_PREFIX)
        ):
            transaction.delete(invitation)
        for member in MemberItem.query(keys.account_pk(account_id), MemberItem.sk.startswith(keys.MEMBER_PREFIX)):
            transaction.delete(member)
        no_people(transaction, account_id)
        transaction.commit()
