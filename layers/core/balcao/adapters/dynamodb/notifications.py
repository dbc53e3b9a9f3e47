"""The email pipeline's storage: who an account's notices go to, the delivery claims, the email log, SES message
lookups and the suppression list (hard bounces and complaints)."""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import PutError, UpdateError

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import AccountItem, ContactItem, EmailLogItem, LookupItem, MailClaimItem
from balcao.adapters.dynamodb.transaction import Transaction
from balcao.domain.accounts import AccountDirectoryEntry, Contact, Department
from balcao.domain.calendar import epoch_seconds
from balcao.domain.ids import new_ulid
from balcao.services.notifications import ClaimState, EmailLogEntry
from balcao.services.ports import Clock

CLAIM_RETENTION = timedelta(days=30)
SENT = "sent"
CLAIMED = "claimed"


def contact_from_item(item: ContactItem) -> Contact:
    return Contact(
        contact_id=item.contact_id,
        account_id=item.account_id,
        name=item.name,
        email=item.email,
        departments=frozenset(Department(str(d)) for d in item.departments or []),
        created_at=item.created_at,
        phone=item.phone,
        language=item.language,
        bounced=bool(item.bounced),
    )


class DynamoAccountDirectory:
    def entry(self, account_id: str) -> AccountDirectoryEntry | None:
        try:
            account = AccountItem.get(keys.account_pk(account_id), keys.PROFILE)
        except AccountItem.DoesNotExist:
            return None
        contacts = ContactItem.query(keys.account_pk(account_id), ContactItem.sk.startswith(keys.CONTACT_PREFIX))
        return AccountDirectoryEntry(
            account_id=account_id,
            name=account.name,
            language=account.language,
            notice_email=account.notice_email,
            contacts=tuple(contact_from_item(c) for c in contacts if not c.bounced),
        )


class DynamoDeliveryLedger:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def is_suppressed(self, email: str) -> bool:
        try:
            LookupItem.get(keys.suppression_pk(email), keys.LOOKUP)
        except LookupItem.DoesNotExist:
            return False
        return True

    def _claim_item(self, event_id: str, email: str) -> MailClaimItem:
        return MailClaimItem(pk=keys.mail_claim_pk(event_id, email), sk=keys.CLAIM)

    def claim(self, event_id: str, email: str) -> ClaimState:
        item = self._claim_item(event_id, email)
        item.state, item.attempts = CLAIMED, 1
        item.ttl = epoch_seconds(self._clock.now() + CLAIM_RETENTION)
        try:
            item.save(condition=MailClaimItem.pk.does_not_exist())
            return ClaimState.NEW
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        # A claim exists: sent already (a redelivery), or stale after a crash between send and mark.
        try:
            self._claim_item(event_id, email).update(
                actions=[MailClaimItem.attempts.set(2)],
                condition=(MailClaimItem.state == CLAIMED) & (MailClaimItem.attempts == 1),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return ClaimState.DONE
            raise
        return ClaimState.RETRY

    def release(self, event_id: str, email: str) -> None:
        """SES refused: forget the claim so the retry of this message sends."""
        self._claim_item(event_id, email).delete(condition=MailClaimItem.state == CLAIMED)

    def mark_sent(self, event_id: str, email: str, message_id: str, log: EmailLogEntry | None) -> None:
        transaction = Transaction()
        claim = self._claim_item(event_id, email)
        transaction.update(claim, actions=[MailClaimItem.state.set(SENT), MailClaimItem.message_id.set(message_id)])
        target: dict[str, str] = {"recipient": email}
        if log is not None:
            email_id = new_ulid()
            transaction.save(_log_item(email_id, log, message_id))
            target |= {"account_id": log.account_id, "email_id": email_id}
            if log.recipient.contact_id:
                target["contact_id"] = log.recipient.contact_id
        transaction.save(
            LookupItem(
                pk=keys.ses_message_pk(message_id),
                sk=keys.LOOKUP,
                target=target,
                ttl=epoch_seconds(self._clock.now() + CLAIM_RETENTION),
            )
        )
        transaction.commit()


def _log_item(email_id: str, log: EmailLogEntry, message_id: str) -> EmailLogItem:
    return EmailLogItem(
        pk=keys.account_pk(log.account_id),
        sk=keys.email_sk(email_id),
        email_id=email_id,
        account_id=log.account_id,
        event_id=log.event_id,
        template=log.template,
        department=log.department.value,
        recipient=log.recipient.email,
        contact_id=log.recipient.contact_id,
        subject=log.subject,
        body_text=log.text,
        body_html=log.html,
        status=SENT,
        sent_at=log.sent_at,
        message_id=message_id,
        gsi3pk=keys.retention_bucket("email", log.sent_at.strftime("%Y-%m")),
        gsi3sk=keys.gsi3_queue_sk(log.sent_at.isoformat(), email_id),
    )


class DynamoFeedbackStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def record(self, message_id: str, status: str, suppress: tuple[str, ...]) -> bool:
        try:
            lookup = LookupItem.get(keys.ses_message_pk(message_id), keys.LOOKUP)
        except LookupItem.DoesNotExist:
            return False
        target = dict(lookup.target or {})
        now = self._clock.now()
        transaction = Transaction()
        if target.get("email_id"):
            transaction.update(
                EmailLogItem(pk=keys.account_pk(target["account_id"]), sk=keys.email_sk(target["email_id"])),
                actions=[EmailLogItem.status.set(status), EmailLogItem.status_at.set(now)],
                condition=EmailLogItem.pk.exists(),
            )
        for address in suppress:
            transaction.save(
                LookupItem(pk=keys.suppression_pk(address), sk=keys.LOOKUP, target={"since": now.isoformat()})
            )
        if suppress and target.get("contact_id"):
            transaction.update(
                ContactItem(pk=keys.account_pk(target["account_id"]), sk=keys.contact_sk(target["contact_id"])),
                actions=[ContactItem.bounced.set(True)],
                condition=ContactItem.pk.exists(),
            )
        transaction.commit()
        return True
