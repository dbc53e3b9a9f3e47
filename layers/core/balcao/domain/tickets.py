"""Support tickets (PRODUCT.md capability 8; seeds 001 and 003): the ticket, its thread, its attachments.

A ticket belongs to one account. Its status follows who spoke last: a staff reply makes it ``answered``, a customer
reply ``customer_reply``; staff may also park it (``on_hold``, ``in_progress``) or set any status; the customer may
close and reopen it. Internal notes are staff-only messages: they never change the status and are never shown to
customers. Messages are plain text (rendered escaped everywhere), never HTML.

Attachments are uploaded straight to storage by a presigned POST, then *confirmed*: the stored object's size and
type, and its first bytes (magic numbers), must match what the ticket accepts. Only a confirmed attachment can be
linked, once, to a new ticket or a reply.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from balcao.domain.errors import N_, ConflictError, FieldProblem, InvalidInputError


class TicketStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CUSTOMER_REPLY = "customer_reply"
    ON_HOLD = "on_hold"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class TicketPriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class TicketKind(StrEnum):
    ISSUE = "ticket"
    CALLBACK = "callback"  # a phone callback request (seed 001)


class MessageKind(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    NOTE = "note"  # internal: staff only, never shown to customers, never emailed


class CallbackWindow(StrEnum):
    """When the customer wants to be called, in the company's timezone."""

    MORNING = "morning"  # 09:00–12:00
    AFTERNOON = "afternoon"  # 12:00–18:00
    EVENING = "evening"  # 18:00–21:00
    ANY_TIME = "any_time"


class AttachmentState(StrEnum):
    PENDING = "pending"  # upload granted, not confirmed yet
    CONFIRMED = "confirmed"  # checked, waiting to be linked
    LINKED = "linked"  # part of a message
    REJECTED = "rejected"  # refused at confirmation; the object was deleted


class ScanStatus(StrEnum):
    """Set by a malware-scan hook; nothing is downloaded while ``infected``."""

    NOT_SCANNED = "not_scanned"
    CLEAN = "clean"
    INFECTED = "infected"


SUBJECT_MAX_LENGTH = 150
MESSAGE_MAX_LENGTH = 10_000
SUMMARY_LENGTH = 300
FILENAME_MAX_LENGTH = 120
MAX_ATTACHMENTS_PER_MESSAGE = 5
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_ATTACHMENT_TYPES: tuple[str, ...] = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/zip",
)
UPLOAD_WINDOW_SECONDS = 300  # life of the presigned POST (wall time)
UNLINKED_UPLOAD_LIFETIME = timedelta(hours=24)
SNIFF_BYTES = 512  # how much of an upload is read to check its type
DEFAULT_AUTO_CLOSE_DAYS = 7


# --- errors ------------------------------------------------------------------------------------------------------
class TicketAlreadyClosedError(ConflictError):
    default_message = N_("This ticket is already closed.")


class TicketNotClosedError(ConflictError):
    default_message = N_("Only a closed ticket can be reopened.")


class TicketNumberTakenError(ConflictError):
    """The random ticket number drawn is in use (the opening is retried with another one)."""


class AttachmentAlreadyConfirmedError(ConflictError):
    default_message = N_("This file was already confirmed.")


class AttachmentBlockedError(ConflictError):
    default_message = N_("This file did not pass the malware scan and cannot be downloaded.")


class AttachmentRefusedError(InvalidInputError):
    """The uploaded file is not what a ticket accepts; nothing was linked and the upload was deleted."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__([FieldProblem("file", code, message)], message)


class AttachmentNotLinkableError(InvalidInputError):
    """An ``attachment_ids`` entry is unknown, unconfirmed, already linked or blocked."""

    default_message = N_(
        "This file cannot be attached: upload and confirm it first. Each file can be attached to one message only."
    )

    def __init__(self) -> None:
        super().__init__([FieldProblem("attachment_ids", "not_linkable", self.default_message)])


def attachment_too_large() -> AttachmentRefusedError:
    return AttachmentRefusedError("too_large", N_("Files can have at most 10 MB."))


def attachment_type_not_allowed() -> AttachmentRefusedError:
    return AttachmentRefusedError(
        "type_not_allowed", N_("This type of file is not accepted. Send images, PDF, text or ZIP files.")
    )


def attachment_type_mismatch() -> AttachmentRefusedError:
    return AttachmentRefusedError("type_mismatch", N_("The content of the file does not match its type."))


def attachment_missing() -> AttachmentRefusedError:
    return AttachmentRefusedError("not_uploaded", N_("The file was not uploaded. Please send it again."))


def attachment_empty() -> AttachmentRefusedError:
    return AttachmentRefusedError("empty", N_("The file is empty."))


# --- value objects -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """What a message shows of an attachment."""

    attachment_id: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Attachment:
    attachment_id: str
    account_id: str
    uploaded_by: str
    filename: str
    content_type: str
    size: int  # declared at the request (0 for a browser form); the stored size once confirmed
    state: AttachmentState
    created_at: datetime
    object_key: str
    scan_status: ScanStatus = ScanStatus.NOT_SCANNED
    ticket_id: str | None = None
    message_id: str | None = None
    rejection: str | None = None
    # Sent by a plain HTML form: name and type come from the file at confirmation; until then ``object_key`` is
    # the prefix the file is stored under.
    from_browser_form: bool = False

    def linkable_at(self, now: datetime) -> bool:
        """Confirmed, not infected, and younger than a day: the bucket deletes unlinked uploads after that."""
        return (
            self.state is AttachmentState.CONFIRMED
            and self.scan_status is not ScanStatus.INFECTED
            and now < self.created_at + UNLINKED_UPLOAD_LIFETIME
        )

    @property
    def downloadable(self) -> bool:
        return self.state is AttachmentState.LINKED and self.scan_status is not ScanStatus.INFECTED

    def ref(self) -> AttachmentRef:
        return AttachmentRef(self.attachment_id, self.filename, self.content_type, self.size)


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    phone: str  # E.164
    window: CallbackWindow


@dataclass(frozen=True, slots=True)
class Person:
    """Who opened a ticket or wrote a message (a customer user or a staff member)."""

    user_id: str
    name: str
    email: str = ""
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Ticket:
    ticket_id: str
    account_id: str
    account_name: str
    number: str  # six digits, shown as ``#482913``
    kind: TicketKind
    department: str
    subject: str
    status: TicketStatus
    priority: TicketPriority
    opened_by: Person
    created_at: datetime
    last_activity_at: datetime  # the account's list sorts on it (internal notes do not count)
    waiting_since: datetime  # since when the current side waits: the staff queue and auto-close sort on it
    service_id: str | None = None
    service_name: str | None = None
    assignee: Person | None = None
    closed_at: datetime | None = None
    callback: CallbackRequest | None = None
    version: int = 0  # the stored revision (optimistic concurrency)

    @property
    def display_number(self) -> str:
        return display_number(self.number)

    @property
    def is_closed(self) -> bool:
        return self.status is TicketStatus.CLOSED


@dataclass(frozen=True, slots=True)
class TicketMessage:
    message_id: str
    ticket_id: str
    account_id: str
    kind: MessageKind
    author: Person
    body: str
    created_at: datetime
    attachments: tuple[AttachmentRef, ...] = ()

    @property
    def visible_to_customer(self) -> bool:
        return self.kind is not MessageKind.NOTE


def customer_view(messages: list[TicketMessage]) -> list[TicketMessage]:
    """The thread as a customer sees it: internal notes removed."""
    return [m for m in messages if m.visible_to_customer]


# --- status changes -----------------------------------------------------------------------------------------------
def after_customer_reply(ticket: Ticket, now: datetime) -> Ticket:
    """A customer reply (also on a closed ticket, which it reopens): the ticket waits for the staff again."""
    return replace(ticket, status=TicketStatus.CUSTOMER_REPLY, last_activity_at=now, waiting_since=now, closed_at=None)


def after_staff_reply(ticket: Ticket, now: datetime) -> Ticket:
    """A staff reply: the ticket is answered and waits for the customer (auto-close counts from here)."""
    return replace(ticket, status=TicketStatus.ANSWERED, last_activity_at=now, waiting_since=now, closed_at=None)


def closed(ticket: Ticket, now: datetime) -> Ticket:
    if ticket.is_closed:
        raise TicketAlreadyClosedError()
    return replace(ticket, status=TicketStatus.CLOSED, last_activity_at=now, waiting_since=now, closed_at=now)


def reopened(ticket: Ticket, now: datetime) -> Ticket:
    if not ticket.is_closed:
        raise TicketNotClosedError()
    return replace(ticket, status=TicketStatus.OPEN, last_activity_at=now, waiting_since=now, closed_at=None)


def with_status(ticket: Ticket, status: TicketStatus, now: datetime) -> Ticket:
    """A status set by staff. Parking a ticket (on hold, in progress) keeps how long the customer has waited."""
    if status is ticket.status:
        return ticket
    if status is TicketStatus.CLOSED:
        return closed(ticket, now)
    if ticket.is_closed:
        return replace(reopened(ticket, now), status=status)
    if status in (TicketStatus.ANSWERED, TicketStatus.CUSTOMER_REPLY, TicketStatus.OPEN):
        return replace(ticket, status=status, waiting_since=now)
    return replace(ticket, status=status)


def auto_close_cutoff(now: datetime, days: int) -> datetime:
    """Answered tickets waiting (for the customer) since this instant or earlier close automatically."""
    return now - timedelta(days=days)


# --- numbers and text ---------------------------------------------------------------------------------------------
def ticket_number(value: int) -> str:
    if not 100_000 <= value <= 999_999:
        raise ValueError("ticket numbers have six digits")
    return str(value)


def display_number(number: str) -> str:
    return f"#{number}"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Plain text as stored: newlines normalised, control characters (but tabs and newlines) removed, no
    trailing spaces. It is never interpreted as HTML anywhere."""
    normalised = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_CONTROL.sub("", line).rstrip() for line in normalised.split("\n")]
    return "\n".join(lines).strip("\n")


def validate_subject(subject: str, field: str = "subject") -> str:
    cleaned = " ".join(clean_text(subject).split())
    if not cleaned:
        raise InvalidInputError.single(field, N_("This field is required."), "required")
    if len(cleaned) > SUBJECT_MAX_LENGTH:
        raise InvalidInputError.single(field, N_("This value is too long."), "too_long")
    return cleaned


def validate_message(body: str, field: str = "message") -> str:
    cleaned = clean_text(body)
    if not cleaned.strip():
        raise InvalidInputError.single(field, N_("This field is required."), "required")
    if len(cleaned) > MESSAGE_MAX_LENGTH:
        raise InvalidInputError.single(field, N_("This value is too long."), "too_long")
    return cleaned


def summary(body: str, length: int = SUMMARY_LENGTH) -> str:
    """The start of a message, for emails and lists (whole words, an ellipsis when cut)."""
    flat = " ".join(body.split())
    if len(flat) <= length:
        return flat
    return flat[:length].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def safe_filename(name: str) -> str:
    """A file name fit to store and to send back in Content-Disposition: no path, no control characters, no
    quotes, at most ``FILENAME_MAX_LENGTH`` characters (the extension kept)."""
    base = re.split(r"[/\\]", name)[-1]
    base = _CONTROL.sub("", unicodedata.normalize("NFC", base)).replace('"', "").replace(";", "")
    base = " ".join(base.split()).strip(". ")
    if not base:
        return "attachment"
    if len(base) > FILENAME_MAX_LENGTH:
        stem, dot, extension = base.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            base = stem[: FILENAME_MAX_LENGTH - len(extension) - 1].rstrip() + "." + extension
        else:
            base = base[:FILENAME_MAX_LENGTH]
    return base


# --- checking an upload -------------------------------------------------------------------------------------------
_MAGIC: tuple[tuple[str, tuple[bytes, ...]], ...] = (
    ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ("image/jpeg", (b"\xff\xd8\xff",)),
    ("image/gif", (b"GIF87a", b"GIF89a")),
    ("application/pdf", (b"%PDF-",)),
    ("application/zip", (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")),
)
_MARKUP_STARTS = (b"<!doctype", b"<html", b"<svg", b"<script", b"<?xml", b"<body", b"<head", b"<iframe")


def sniff_content_type(head: bytes) -> str | None:
    """The accepted type the first bytes of a file prove, or None (markup, binary, unknown)."""
    for content_type, signatures in _MAGIC:
        if head.startswith(signatures):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if _looks_like_plain_text(head):
        return "text/plain"
    return None


def _looks_like_plain_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if start.startswith(_MARKUP_STARTS):
        return False
    printable = sum(1 for byte in head if byte >= 0x20 or byte in (0x09, 0x0A, 0x0D))
    return not head or printable / len(head) >= 0.95


# What storage records when an HTML form sends no type (the browser-form upload): the bytes decide.
_UNTYPED = ("", "binary/octet-stream", "application/octet-stream")


def _check_size(stored_size: int) -> None:
    if stored_size <= 0:
        raise attachment_empty()
    if stored_size > MAX_ATTACHMENT_BYTES:
        raise attachment_too_large()


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def check_upload(declared_type: str, stored_type: str | None, stored_size: int, head: bytes) -> None:
    """The confirmation of a declared upload, the one enforcement (the storage does not check the POST policy
    everywhere): size within limits, the stored type the declared one, and the first bytes proving it."""
    _check_size(stored_size)
    if declared_type not in ALLOWED_ATTACHMENT_TYPES:
        raise attachment_type_not_allowed()
    if _media_type(stored_type) != declared_type or sniff_content_type(head) != declared_type:
        raise attachment_type_mismatch()


def check_browser_upload(stored_type: str | None, stored_size: int, head: bytes) -> str:
    """The confirmation of a file sent by a plain HTML form (no type declared beforehand): its first bytes decide
    the type, which must be accepted — and agree with the stored type if the form sent one. Returns the type."""
    _check_size(stored_size)
    proven = sniff_content_type(head)
    if proven is None:
        raise attachment_type_not_allowed()
    if _media_type(stored_type) not in (*_UNTYPED, proven):
        raise attachment_type_mismatch()
    return proven
