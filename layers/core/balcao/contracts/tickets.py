"""Request and response bodies of the ticket routes (API.md: attachments, tickets, replies, callbacks, the staff
queue). Message bodies are plain text: clients render them escaped, never as HTML."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from balcao.contracts import Contract
from balcao.contracts.identity import Body, Timestamped
from balcao.domain.tickets import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS_PER_MESSAGE,
    MESSAGE_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Attachment,
    AttachmentRef,
    Person,
    Ticket,
    TicketMessage,
)
from balcao.services.tickets import DepartmentChoice, TicketPage, TicketThread, UploadGrant

AttachmentType = Literal[
    "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "application/zip"
]
PriorityKey = Literal["low", "medium", "high"]
StatusKey = Literal["open", "answered", "customer_reply", "on_hold", "in_progress", "closed"]
WindowKey = Literal["morning", "afternoon", "evening", "any_time"]
DepartmentCode = Field(min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9_]+$")
MessageText = Field(min_length=1, max_length=MESSAGE_MAX_LENGTH)
AttachmentIds: list[str] = Field(default_factory=list, max_length=MAX_ATTACHMENTS_PER_MESSAGE)


# --- departments -----------------------------------------------------------------------------------------------
class DepartmentOut(Contract):
    department: str
    name: str
    description: str

    @classmethod
    def of(cls, choice: DepartmentChoice) -> DepartmentOut:
        return cls(department=choice.code, name=choice.name, description=choice.description)


class DepartmentList(Contract):
    items: list[DepartmentOut]


# --- attachments -----------------------------------------------------------------------------------------------
class AttachmentUploadIn(Body):
    filename: str = Field(min_length=1, max_length=255)
    content_type: AttachmentType
    size: int = Field(ge=1, le=MAX_ATTACHMENT_BYTES)


class UploadFormOut(Contract):
    url: str
    fields: dict[str, str]


class AttachmentUploadOut(Timestamped):
    attachment_id: str
    upload: UploadFormOut
    expires_at: datetime

    @classmethod
    def of(cls, grant: UploadGrant) -> AttachmentUploadOut:
        return cls(
            attachment_id=grant.attachment.attachment_id,
            upload=UploadFormOut(url=grant.form.url, fields=grant.form.fields),
            expires_at=grant.expires_at,
        )


class AttachmentOut(Contract):
    attachment_id: str
    filename: str
    content_type: str
    size: int
    status: Literal["pending", "confirmed", "linked", "rejected"]
    scan_status: Literal["not_scanned", "clean", "infected"]

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls.model_validate(
            {
                "attachment_id": attachment.attachment_id,
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "status": attachment.state.value,
                "scan_status": attachment.scan_status.value,
            }
        )


class AttachmentRefOut(Contract):
    attachment_id: str
    filename: str
    content_type: str
    size: int

    @classmethod
    def of(cls, ref: AttachmentRef) -> AttachmentRefOut:
        return cls(attachment_id=ref.attachment_id, filename=ref.filename, content_type=ref.content_type, size=ref.size)


# --- tickets ---------------------------------------------------------------------------------------------------
class TicketIn(Body):
    department: str = DepartmentCode
    subject: str = Field(min_length=1, max_length=SUBJECT_MAX_LENGTH)
    message: str = MessageText
    priority: PriorityKey = "medium"
    service_id: str | None = Field(default=None, min_length=1, max_length=64)
    attachment_ids: list[str] = AttachmentIds


class TicketCreated(Contract):
    ticket_id: str
    number: str
    status: StatusKey


class CallbackOut(Contract):
    phone: str
    window: WindowKey


class TicketSummary(Timestamped):
    ticket_id: str
    number: str
    kind: Literal["ticket", "callback"]
    department: str
    subject: str
    status: StatusKey
    priority: PriorityKey
    service_id: str | None
    service_name: str | None
    created_at: datetime
    last_activity_at: datetime
    closed_at: datetime | None
    callback: CallbackOut | None

    @classmethod
    def fields_of(cls, ticket: Ticket) -> dict[str, object]:
        return {
            "ticket_id": ticket.ticket_id,
            "number": ticket.number,
            "kind": ticket.kind.value,
            "department": ticket.department,
            "subject": ticket.subject,
            "status": ticket.status.value,
            "priority": ticket.priority.value,
            "service_id": ticket.service_id,
            "service_name": ticket.service_name,
            "created_at": ticket.created_at,
            "last_activity_at": ticket.last_activity_at,
            "closed_at": ticket.closed_at,
            "callback": (
                CallbackOut(phone=ticket.callback.phone, window=ticket.callback.window.value)
                if ticket.callback
                else None
            ),
        }

    @classmethod
    def of(cls, ticket: Ticket) -> TicketSummary:
        return cls.model_validate(cls.fields_of(ticket))


class MessageOut(Timestamped):
    """A message as a customer sees it (internal notes are never among them)."""

    message_id: str
    author: Literal["customer", "staff"]
    author_name: str
    body: str
    created_at: datetime
    attachments: list[AttachmentRefOut]

    @classmethod
    def fields_of(cls, message: TicketMessage) -> dict[str, object]:
        return {
            "message_id": message.message_id,
            "author": "customer" if message.kind.value == "customer" else "staff",
            "author_name": message.author.name,
            "body": message.body,
            "created_at": message.created_at,
            "attachments": [AttachmentRefOut.of(a) for a in message.attachments],
        }

    @classmethod
    def of(cls, message: TicketMessage) -> MessageOut:
        return cls.model_validate(cls.fields_of(message))


class TicketDetail(TicketSummary):
    """The ticket and its newest messages, oldest first; ``next`` pages towards older messages
    (``GET …/tickets/{ticket_id}/messages?cursor=``)."""

    messages: list[MessageOut]
    next: str | None

    @classmethod
    def of_thread(cls, thread: TicketThread) -> TicketDetail:
        return cls.model_validate(
            {
                **TicketSummary.fields_of(thread.ticket),
                "messages": [MessageOut.of(m) for m in thread.messages],
                "next": thread.next,
            }
        )


class TicketList(Contract):
    items: list[TicketSummary]
    next: str | None = None
    counts: dict[StatusKey, int] | None = None  # on the first page: the account's tickets per status

    @classmethod
    def of(cls, page: TicketPage) -> TicketList:
        counts = {s.value: n for s, n in page.counts.items()} if page.counts is not None else None
        return cls.model_validate(
            {"items": [TicketSummary.of(t) for t in page.items], "next": page.next, "counts": counts}
        )


class MessageList(Contract):
    items: list[MessageOut]
    next: str | None = None


class ReplyIn(Body):
    message: str = MessageText
    attachment_ids: list[str] = AttachmentIds


class ReplyOut(MessageOut):
    ticket_status: StatusKey


class CallbackIn(Body):
    phone: str = Field(min_length=3, max_length=32)
    window: WindowKey
    reason: str = MessageText


class CallbackCreated(Contract):
    ticket_id: str
    number: str


# --- staff -----------------------------------------------------------------------------------------------------
class PersonOut(Contract):
    user_id: str
    name: str
    email: str

    @classmethod
    def of(cls, person: Person) -> PersonOut:
        return cls(user_id=person.user_id, name=person.name, email=person.email)


class StaffMessageOut(MessageOut):
    """A message as staff see it: ``kind`` ``note`` marks an internal note."""

    kind: Literal["customer", "staff", "note"]
    author_id: str

    @classmethod
    def of(cls, message: TicketMessage) -> StaffMessageOut:
        return cls.model_validate(
            {**MessageOut.fields_of(message), "kind": message.kind.value, "author_id": message.author.user_id}
        )


class StaffTicketSummary(TicketSummary):
    account_id: str
    account_name: str
    opened_by: PersonOut
    assignee: PersonOut | None
    waiting_since: datetime

    @classmethod
    def fields_of(cls, ticket: Ticket) -> dict[str, object]:
        return {
            **TicketSummary.fields_of(ticket),
            "account_id": ticket.account_id,
            "account_name": ticket.account_name,
            "opened_by": PersonOut.of(ticket.opened_by),
            "assignee": PersonOut.of(ticket.assignee) if ticket.assignee else None,
            "waiting_since": ticket.waiting_since,
        }

    @classmethod
    def of(cls, ticket: Ticket) -> StaffTicketSummary:
        return cls.model_validate(cls.fields_of(ticket))


class StaffTicketList(Contract):
    items: list[StaffTicketSummary]
    next: str | None = None


class StaffTicketDetail(StaffTicketSummary):
    messages: list[StaffMessageOut]
    next: str | None

    @classmethod
    def of_thread(cls, thread: TicketThread) -> StaffTicketDetail:
        return cls.model_validate(
            {
                **StaffTicketSummary.fields_of(thread.ticket),
                "messages": [StaffMessageOut.of(m) for m in thread.messages],
                "next": thread.next,
            }
        )


class StaffMessageList(Contract):
    items: list[StaffMessageOut]
    next: str | None = None


class StaffMessageIn(Body):
    message: str = MessageText


class StaffReplyOut(StaffMessageOut):
    ticket_status: StatusKey


class StaffTicketPatch(Body):
    """``assignee``: a staff user id, ``"me"``, or null to unassign."""

    status: StatusKey | None = None
    priority: PriorityKey | None = None
    department: str | None = Field(default=None, min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9_]+$")
    assignee: str | None = Field(default=None, min_length=1, max_length=64)
