"""Tickets, their messages, attachments and the account's ticket counts in the single table.

Every read a route makes is exactly one DynamoDB call (``_page``: one Query, never a second page behind the
caller's back), so a read route costs two calls with its authorization. Every change is one transaction with its
outbox events; the ticket header is versioned, and the counts item changes in the same transaction as the status.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.cursors import GSI1_KEY, GSI2_KEY, GSI3_KEY, TABLE_KEY, encode_cursor, start_key
from balcao.adapters.dynamodb.models import (
    AccountItem,
    AttachmentItem,
    BalcaoItem,
    LookupItem,
    MemberItem,
    ServiceItem,
    TicketCountsItem,
    TicketItem,
    TicketMessageItem,
    UserItem,
)
from balcao.adapters.dynamodb.transaction import Transaction
from balcao.domain.calendar import epoch_seconds
from balcao.domain.errors import ConflictError, InvalidInputError
from balcao.domain.events import DomainEvent
from balcao.domain.tickets import (
    UNLINKED_UPLOAD_LIFETIME,
    Attachment,
    AttachmentAlreadyConfirmedError,
    AttachmentNotLinkableError,
    AttachmentRef,
    AttachmentState,
    CallbackRequest,
    CallbackWindow,
    MessageKind,
    Person,
    ScanStatus,
    Ticket,
    TicketKind,
    TicketMessage,
    TicketNumberTakenError,
    TicketPriority,
    TicketStatus,
)
from balcao.services.tickets import AccountBrief, QueueFilter, ServiceChoice, TicketPage, TicketThread

CONCURRENT_CHANGE = ConflictError()
TERMINATED = "terminated"  # a service's final status: no longer offered as a ticket's related service
COUNT_ATTRIBUTES = {
    TicketStatus.OPEN: TicketCountsItem.count_open,
    TicketStatus.ANSWERED: TicketCountsItem.count_answered,
    TicketStatus.CUSTOMER_REPLY: TicketCountsItem.count_customer_reply,
    TicketStatus.ON_HOLD: TicketCountsItem.count_on_hold,
    TicketStatus.IN_PROGRESS: TicketCountsItem.count_in_progress,
    TicketStatus.CLOSED: TicketCountsItem.count_closed,
}


# --- conversions ---------------------------------------------------------------------------------------------------
def _person_json(person: Person) -> dict[str, str]:
    return {"user_id": person.user_id, "name": person.name, "email": person.email, "language": person.language}


def _person(data: Mapping[str, Any]) -> Person:
    return Person(str(data["user_id"]), str(data["name"]), str(data.get("email", "")), str(data.get("language", "en")))


def ticket_item(ticket: Ticket) -> TicketItem:
    item = TicketItem(
        pk=keys.ticket_pk(ticket.ticket_id),
        sk=keys.TICKET,
        gsi1pk=keys.gsi1_account_tickets_pk(ticket.account_id),
        gsi1sk=keys.gsi1_ticket_activity_sk(ticket.last_activity_at, ticket.ticket_id),
        gsi3pk=keys.gsi3_ticket_status_pk(ticket.status.value),
        gsi3sk=keys.ticket_queue_sk(ticket.waiting_since, ticket.ticket_id),
        ticket_id=ticket.ticket_id,
        account_id=ticket.account_id,
        account_name=ticket.account_name,
        number=ticket.number,
        kind=ticket.kind.value,
        department=ticket.department,
        subject=ticket.subject,
        status=ticket.status.value,
        priority=ticket.priority.value,
        opened_by=_person_json(ticket.opened_by),
        assignee_id=ticket.assignee.user_id if ticket.assignee else None,
        assignee=_person_json(ticket.assignee) if ticket.assignee else None,
        service_id=ticket.service_id,
        service_name=ticket.service_name,
        created_at=ticket.created_at,
        last_activity_at=ticket.last_activity_at,
        waiting_since=ticket.waiting_since,
        closed_at=ticket.closed_at,
        callback_phone=ticket.callback.phone if ticket.callback else None,
        callback_window=ticket.callback.window.value if ticket.callback else None,
    )
    if not ticket.is_closed:
        item.gsi2pk = keys.QUEUE_ACTIVE_TICKETS
        item.gsi2sk = keys.ticket_queue_sk(ticket.waiting_since, ticket.ticket_id)
    return item


def ticket_from_item(item: TicketItem) -> Ticket:
    callback = None
    if item.callback_phone and item.callback_window:
        callback = CallbackRequest(item.callback_phone, CallbackWindow(item.callback_window))
    return Ticket(
        ticket_id=item.ticket_id,
        account_id=item.account_id,
        account_name=item.account_name,
        number=item.number,
        kind=TicketKind(item.kind),
        department=item.department,
        subject=item.subject,
        status=TicketStatus(item.status),
        priority=TicketPriority(item.priority),
        opened_by=_person(item.opened_by),
        created_at=item.created_at,
        last_activity_at=item.last_activity_at,
        waiting_since=item.waiting_since,
        service_id=item.service_id,
        service_name=item.service_name,
        assignee=_person(item.assignee) if item.assignee else None,
        closed_at=item.closed_at,
        callback=callback,
        version=int(item.version or 0),
    )


def message_item(message: TicketMessage) -> TicketMessageItem:
    return TicketMessageItem(
        pk=keys.ticket_pk(message.ticket_id),
        sk=keys.message_sk(message.message_id),
        message_id=message.message_id,
        ticket_id=message.ticket_id,
        account_id=message.account_id,
        kind=message.kind.value,
        author=_person_json(message.author),
        body=message.body,
        attachments=[
            {"attachment_id": a.attachment_id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments
        ],
        created_at=message.created_at,
    )


def message_from_item(item: TicketMessageItem) -> TicketMessage:
    return TicketMessage(
        message_id=item.message_id,
        ticket_id=item.ticket_id,
        account_id=item.account_id,
        kind=MessageKind(item.kind),
        author=_person(item.author),
        body=item.body,
        created_at=item.created_at,
        attachments=tuple(
            AttachmentRef(str(a["attachment_id"]), str(a["filename"]), str(a["content_type"]), int(a["size"]))
            for a in item.attachments or []
        ),
    )


def attachment_item(attachment: Attachment) -> AttachmentItem:
    item = AttachmentItem(
        pk=keys.account_pk(attachment.account_id),
        sk=keys.attachment_sk(attachment.attachment_id),
        attachment_id=attachment.attachment_id,
        account_id=attachment.account_id,
        uploaded_by=attachment.uploaded_by,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        state=attachment.state.value,
        scan_status=attachment.scan_status.value,
        object_key=attachment.object_key,
        created_at=attachment.created_at,
        ticket_id=attachment.ticket_id,
        message_id=attachment.message_id,
        rejection=attachment.rejection,
        from_browser_form=attachment.from_browser_form,
    )
    if attachment.state is not AttachmentState.LINKED:
        item.ttl = epoch_seconds(attachment.created_at + UNLINKED_UPLOAD_LIFETIME)
    return item


def attachment_from_item(item: AttachmentItem) -> Attachment:
    return Attachment(
        attachment_id=item.attachment_id,
        account_id=item.account_id,
        uploaded_by=item.uploaded_by,
        filename=item.filename,
        content_type=item.content_type,
        size=int(item.size),
        state=AttachmentState(item.state),
        created_at=item.created_at,
        object_key=item.object_key,
        scan_status=ScanStatus(item.scan_status),
        ticket_id=item.ticket_id,
        message_id=item.message_id,
        rejection=item.rejection,
        from_browser_form=bool(item.from_browser_form),
    )


def _counts_from_item(item: TicketCountsItem | None) -> dict[TicketStatus, int]:
    return {
        status: int(getattr(item, attribute.attr_name) or 0) if item else 0
        for status, attribute in COUNT_ATTRIBUTES.items()
    }


def _count_actions(account_id: str, before: TicketStatus | None, after: TicketStatus) -> list[Action]:
    if before is after:
        return []
    actions: list[Action] = [
        TicketCountsItem.entity.set(TicketCountsItem),
        TicketCountsItem.gsi1pk.set(keys.gsi1_account_tickets_pk(account_id)),
        TicketCountsItem.gsi1sk.set(keys.TICKET_COUNTS_GSI1),
        COUNT_ATTRIBUTES[after].add(1),
    ]
    if before is not None:
        actions.append(COUNT_ATTRIBUTES[before].add(-1))
    return actions


def _page(
    hash_key: str,
    *,
    index: str | None = None,
    range_condition: Condition | None = None,
    filter_condition: Condition | None = None,
    forward: bool = True,
    limit: int | None = None,
    start: dict[str, Any] | None = None,
) -> tuple[list[BalcaoItem], dict[str, Any] | None]:
    """Exactly one Query: DynamoDB's page of items (of any kind) and its ``LastEvaluatedKey``."""
    page = BalcaoItem._get_connection().query(
        hash_key,
        range_key_condition=range_condition,
        filter_condition=filter_condition,
        index_name=index,
        scan_index_forward=forward,
        limit=limit,
        exclusive_start_key=start,
    )
    items = [BalcaoItem.from_raw_data(raw) for raw in page.get("Items", [])]
    return items, page.get("LastEvaluatedKey")


# --- the store -----------------------------------------------------------------------------------------------------
class DynamoTicketStore:
    # --- what a ticket refers to -----------------------------------------------------------------------------
    def account(self, account_id: str) -> AccountBrief | None:
        try:
            item = AccountItem.get(keys.account_pk(account_id), keys.PROFILE)
        except AccountItem.DoesNotExist:
            return None
        country = str((item.address or {}).get("country") or "BR")
        return AccountBrief(item.account_id, item.name, country)

    def service_name(self, account_id: str, service_id: str) -> str | None:
        try:
            item = ServiceItem.get(keys.account_pk(account_id), keys.service_sk(service_id))
        except ServiceItem.DoesNotExist:
            return None
        return f"{item.name} ({item.domain})" if item.domain else item.name

    def services(self, account_id: str) -> list[ServiceChoice]:
        items = ServiceItem.query(keys.account_pk(account_id), ServiceItem.sk.startswith(keys.SERVICE_PREFIX))
        return [
            ServiceChoice(item.service_id, f"{item.name} ({item.domain})" if item.domain else item.name)
            for item in items
            if item.status != TERMINATED
        ]

    def person(self, user_id: str) -> Person | None:
        try:
            item = UserItem.get(keys.user_pk(user_id), keys.PROFILE)
        except UserItem.DoesNotExist:
            return None
        return Person(item.user_id, item.name, item.email, item.language)

    def is_member(self, account_id: str, user_id: str) -> bool:
        try:
            MemberItem.get(keys.account_pk(account_id), keys.member_sk(user_id))
        except MemberItem.DoesNotExist:
            return False
        return True

    # --- writes ------------------------------------------------------------------------------------------------
    def open_ticket(
        self, ticket: Ticket, message: TicketMessage, attachments: Sequence[Attachment], events: Sequence[DomainEvent]
    ) -> None:
        transaction = Transaction()
        transaction.save(
            LookupItem(
                pk=keys.ticket_number_lookup_pk(ticket.number),
                sk=keys.LOOKUP,
                target={"ticket_id": ticket.ticket_id, "account_id": ticket.account_id},
            ),
            condition=LookupItem.pk.does_not_exist(),
            error=TicketNumberTakenError(),
        )
        transaction.save(ticket_item(ticket), condition=TicketItem.pk.does_not_exist())
        self._write_message(transaction, message, attachments)
        transaction.update(
            TicketCountsItem(pk=keys.account_pk(ticket.account_id), sk=keys.TICKET_COUNTS),
            actions=_count_actions(ticket.account_id, None, ticket.status),
        )
        for event in events:
            transaction.emit(event)
        transaction.commit()

    def add_message(
        self,
        before: Ticket,
        after: Ticket | None,
        message: TicketMessage,
        attachments: Sequence[Attachment],
        events: Sequence[DomainEvent],
    ) -> None:
        transaction = Transaction()
        self._write_message(transaction, message, attachments)
        if after is not None:
            self._write_ticket(transaction, before, after)
        for event in events:
            transaction.emit(event)
        transaction.commit()

    def save_ticket(self, before: Ticket, after: Ticket, events: Sequence[DomainEvent]) -> None:
        transaction = Transaction()
        self._write_ticket(transaction, before, after)
        for event in events:
            transaction.emit(event)
        transaction.commit()

    @staticmethod
    def _write_message(transaction: Transaction, message: TicketMessage, attachments: Sequence[Attachment]) -> None:
        transaction.save(message_item(message), condition=TicketMessageItem.pk.does_not_exist())
        for attachment in attachments:
            transaction.update(
                AttachmentItem(
                    pk=keys.account_pk(attachment.account_id), sk=keys.attachment_sk(attachment.attachment_id)
                ),
                actions=[
                    AttachmentItem.state.set(AttachmentState.LINKED.value),
                    AttachmentItem.ticket_id.set(message.ticket_id),
                    AttachmentItem.message_id.set(message.message_id),
                    AttachmentItem.ttl.remove(),
                ],
                condition=(AttachmentItem.state == AttachmentState.CONFIRMED.value)
                & (AttachmentItem.scan_status != ScanStatus.INFECTED.value),
                error=AttachmentNotLinkableError(),
            )

    @staticmethod
    def _write_ticket(transaction: Transaction, before: Ticket, after: Ticket) -> None:
        """The header, only if nobody changed it since ``before`` was read; the counts when the status moves."""
        item = ticket_item(after)
        item.version = before.version
        transaction.save(item, error=CONCURRENT_CHANGE)
        actions = _count_actions(after.account_id, before.status, after.status)
        if actions:
            transaction.update(
                TicketCountsItem(pk=keys.account_pk(after.account_id), sk=keys.TICKET_COUNTS), actions=actions
            )

    # --- reads ---------------------------------------------------------------------------------------------------
    def ticket(self, ticket_id: str) -> Ticket | None:
        try:
            return ticket_from_item(TicketItem.get(keys.ticket_pk(ticket_id), keys.TICKET))
        except TicketItem.DoesNotExist:
            return None

    def thread(self, ticket_id: str, page: int) -> TicketThread | None:
        """Newest first, the header (sort key ``TICKET``) sorts before every ``MSG#``: one Query."""
        items, last = _page(keys.ticket_pk(ticket_id), forward=False, limit=page + 1)
        headers = [i for i in items if isinstance(i, TicketItem)]
        if not headers:
            return None
        messages = [message_from_item(i) for i in reversed(items) if isinstance(i, TicketMessageItem)]
        return TicketThread(ticket_from_item(headers[0]), messages, encode_cursor(last))

    def older_messages(self, ticket_id: str, page: int, cursor: str) -> tuple[list[TicketMessage], str | None] | None:
        """None when ``cursor`` does not continue this ticket's thread."""
        partition = keys.ticket_pk(ticket_id)
        try:
            start = start_key(cursor, {"pk": partition}, TABLE_KEY)
        except InvalidInputError:
            return None
        if start is None or not start["sk"]["S"].startswith(keys.MESSAGE_PREFIX):
            return None
        items, last = _page(
            partition,
            range_condition=BalcaoItem.sk.startswith(keys.MESSAGE_PREFIX),
            forward=False,
            limit=page,
            start=start,
        )
        messages = [message_from_item(i) for i in reversed(items) if isinstance(i, TicketMessageItem)]
        return messages, encode_cursor(last)

    def account_tickets(
        self, account_id: str, status: TicketStatus | None, limit: int, cursor: str | None
    ) -> TicketPage:
        """Newest activity first. The first page also holds the counts item (it sorts first), in the same Query."""
        partition = keys.gsi1_account_tickets_pk(account_id)
        start = start_key(cursor, {"gsi1pk": partition}, GSI1_KEY)
        first_page = start is None
        condition = None
        if status is not None:
            condition = TicketItem.status == status.value
            if first_page:
                condition = condition | TicketItem.status.does_not_exist()  # the counts item has no status
        items, last = _page(
            partition,
            index="GSI1",
            filter_condition=condition,
            forward=False,
            limit=limit + 1 if first_page else limit,
            start=start,
        )
        counts_items = [i for i in items if isinstance(i, TicketCountsItem)]
        tickets = [ticket_from_item(i) for i in items if isinstance(i, TicketItem)]
        counts = _counts_from_item(counts_items[0] if counts_items else None) if first_page else None
        return TicketPage(tickets, encode_cursor(last), counts)

    def queue(self, query: QueueFilter, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        """One status: its GSI3 queue; otherwise every ticket not closed (GSI2). Longest waiting first (closed:
        most recently closed first). Department, priority and assignee filter the page."""
        if query.status is not None:
            index, partition, names = "GSI3", keys.gsi3_ticket_status_pk(query.status.value), GSI3_KEY
            expected = {"gsi3pk": partition}
        else:
            index, partition, names = "GSI2", keys.QUEUE_ACTIVE_TICKETS, GSI2_KEY
            expected = {"gsi2pk": partition}
        conditions: list[Condition] = []
        if query.department is not None:
            conditions.append(TicketItem.department == query.department)
        if query.priority is not None:
            conditions.append(TicketItem.priority == query.priority.value)
        if query.assignee_id is not None:
            conditions.append(TicketItem.assignee_id == query.assignee_id)
        condition = None
        for each in conditions:
            condition = each if condition is None else condition & each
        items, last = _page(
            partition,
            index=index,
            filter_condition=condition,
            forward=query.status is not TicketStatus.CLOSED,
            limit=limit,
            start=start_key(cursor, expected, names),
        )
        return [ticket_from_item(i) for i in items if isinstance(i, TicketItem)], encode_cursor(last)

    def answered_waiting_since_before(self, cutoff: datetime) -> Iterator[Ticket]:
        """The auto-close job's work queue: answered tickets waiting since ``cutoff`` or earlier (every page)."""
        partition = keys.gsi3_ticket_status_pk(TicketStatus.ANSWERED.value)
        start: dict[str, Any] | None = None
        while True:
            items, start = _page(
                partition,
                index="GSI3",
                range_condition=BalcaoItem.gsi3sk <= keys.ticket_queue_upper_bound(cutoff),
                start=start,
            )
            yield from (ticket_from_item(i) for i in items if isinstance(i, TicketItem))
            if start is None:
                return

    # --- attachments -----------------------------------------------------------------------------------------
    def add_attachment(self, attachment: Attachment, expires_at: datetime) -> None:
        item = attachment_item(attachment)
        item.ttl = epoch_seconds(expires_at)
        item.save(condition=AttachmentItem.pk.does_not_exist())

    def attachment(self, account_id: str, attachment_id: str) -> Attachment | None:
        try:
            return attachment_from_item(
                AttachmentItem.get(keys.account_pk(account_id), keys.attachment_sk(attachment_id))
            )
        except AttachmentItem.DoesNotExist:
            return None

    def attachments(self, account_id: str, attachment_ids: Sequence[str]) -> list[Attachment]:
        wanted = [(keys.account_pk(account_id), keys.attachment_sk(a)) for a in dict.fromkeys(attachment_ids)]
        return [attachment_from_item(i) for i in AttachmentItem.batch_get(wanted)]

    def save_attachment(self, before: Attachment, after: Attachment) -> None:
        transaction = Transaction()
        transaction.save(
            attachment_item(after),
            condition=AttachmentItem.state == before.state.value,
            error=AttachmentAlreadyConfirmedError(),
        )
        transaction.commit()

    def set_scan_status(self, account_id: str, attachment_id: str, status: ScanStatus) -> bool:
        try:
            AttachmentItem(pk=keys.account_pk(account_id), sk=keys.attachment_sk(attachment_id)).update(
                actions=[AttachmentItem.scan_status.set(status.value)], condition=AttachmentItem.pk.exists()
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
