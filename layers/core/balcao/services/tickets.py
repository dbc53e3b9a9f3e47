"""Support tickets: opening (also phone callbacks), the thread, attachments, the staff queue, auto-close.

Every customer use-case takes the ``account_id`` the caller was authorized on (the handler's or the page's access
declaration) and checks that what it touches belongs to that account: another account's ticket or attachment is
``NotFoundError``, exactly like a missing one. Staff use-cases address tickets by id alone.

These use-cases serve the JSON API and the portal alike: a page calls them directly, including the upload without
JavaScript — ``request_upload(..., redirect_url=...)`` puts a signed single-use token in the presigned POST's
``success_action_redirect``; the page the storage redirects to passes it to ``redeem_upload_token`` and, once it
has authorized the account, to ``confirm_upload``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from balcao.domain.calendar import format_timestamp
from balcao.domain.errors import N_, ConflictError, InvalidInputError, NotFoundError
from balcao.domain.events import DomainEvent, new_event
from balcao.domain.ids import new_ulid
from balcao.domain.phones import normalise_phone
from balcao.domain.tickets import (
    ALLOWED_ATTACHMENT_TYPES,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS_PER_MESSAGE,
    SNIFF_BYTES,
    SUBJECT_MAX_LENGTH,
    UNLINKED_UPLOAD_LIFETIME,
    UPLOAD_WINDOW_SECONDS,
    Attachment,
    AttachmentAlreadyConfirmedError,
    AttachmentBlockedError,
    AttachmentNotLinkableError,
    AttachmentRefusedError,
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
    after_customer_reply,
    after_staff_reply,
    attachment_missing,
    attachment_too_large,
    attachment_type_not_allowed,
    auto_close_cutoff,
    check_browser_upload,
    check_upload,
    closed,
    customer_view,
    reopened,
    safe_filename,
    summary,
    ticket_number,
    validate_message,
    validate_subject,
    with_status,
)
from balcao.services.company_settings import TicketDepartment, TicketSettings
from balcao.services.ports import Clock

THREAD_PAGE = 50  # messages per page of a thread
NUMBER_ATTEMPTS = 8  # random six-digit numbers tried before giving up
ASSIGN_TO_CALLER = "me"


# --- what the use-cases need from the outside --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AccountBrief:
    account_id: str
    name: str
    country: str  # ISO 3166 alpha-2 of the account's address ("BR" when none): how a national phone is read


@dataclass(frozen=True, slots=True)
class ServiceChoice:
    """A service of the account a new ticket may be about."""

    service_id: str
    name: str


@dataclass(frozen=True, slots=True)
class TicketThread:
    """A ticket with a page of its messages, oldest first; ``next`` pages towards older messages."""

    ticket: Ticket
    messages: list[TicketMessage]
    next: str | None = None


@dataclass(frozen=True, slots=True)
class TicketPage:
    items: list[Ticket]
    next: str | None
    counts: dict[TicketStatus, int] | None  # on the first page only


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: TicketStatus | None = None
    department: str | None = None
    priority: TicketPriority | None = None
    assignee_id: str | None = None


class TicketStore(Protocol):
    def account(self, account_id: str) -> AccountBrief | None: ...

    def service_name(self, account_id: str, service_id: str) -> str | None: ...

    def services(self, account_id: str) -> list[ServiceChoice]:
        """The account's services that are not terminated (one query)."""
        ...

    def person(self, user_id: str) -> Person | None: ...

    def is_member(self, account_id: str, user_id: str) -> bool: ...

    def open_ticket(
        self, ticket: Ticket, message: TicketMessage, attachments: Sequence[Attachment], events: Sequence[DomainEvent]
    ) -> None:
        """One transaction: number lookup, header, first message, counts, attachments linked, events.
        ``TicketNumberTakenError`` when the number is in use; ``AttachmentNotLinkableError`` when one is not."""
        ...

    def ticket(self, ticket_id: str) -> Ticket | None: ...

    def thread(self, ticket_id: str, page: int) -> TicketThread | None:
        """The header and the newest ``page`` messages (one read)."""
        ...

    def older_messages(self, ticket_id: str, page: int, cursor: str) -> tuple[list[TicketMessage], str | None] | None:
        """A page of older messages; None when ``cursor`` does not continue this ticket's thread."""
        ...

    def add_message(
        self,
        before: Ticket,
        after: Ticket | None,
        message: TicketMessage,
        attachments: Sequence[Attachment],
        events: Sequence[DomainEvent],
    ) -> None:
        """One transaction: the message, the header (unless ``after`` is None) and counts, the attachments, the
        events. ``ConflictError`` when the ticket changed since ``before`` was read."""
        ...

    def save_ticket(self, before: Ticket, after: Ticket, events: Sequence[DomainEvent]) -> None: ...

    def account_tickets(
        self, account_id: str, status: TicketStatus | None, limit: int, cursor: str | None
    ) -> TicketPage: ...

    def queue(self, query: QueueFilter, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]: ...

    def answered_waiting_since_before(self, cutoff: datetime) -> Iterable[Ticket]: ...

    def add_attachment(self, attachment: Attachment, expires_at: datetime) -> None: ...

    def attachment(self, account_id: str, attachment_id: str) -> Attachment | None: ...

    def attachments(self, account_id: str, attachment_ids: Sequence[str]) -> list[Attachment]: ...

    def save_attachment(self, before: Attachment, after: Attachment) -> None:
        """Conditional on ``before.state``: ``AttachmentAlreadyConfirmedError`` when it moved meanwhile."""
        ...

    def set_scan_status(self, account_id: str, attachment_id: str, status: ScanStatus) -> bool:
        """False when there is no such attachment."""
        ...


@dataclass(frozen=True, slots=True)
class UploadForm:
    """Where and what a browser posts (multipart form; the file goes last, in the field ``file``)."""

    url: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class StoredFile:
    size: int
    content_type: str | None


class AttachmentFiles(Protocol):
    def object_key(self, account_id: str, attachment_id: str) -> str: ...

    def key_prefix(self, account_id: str, attachment_id: str) -> str: ...

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_seconds: int, redirect_url: str | None
    ) -> UploadForm:
        """A presigned POST limited to ``key``, ``content_type`` and ``max_bytes``, tagged ``state=unlinked``."""
        ...

    def browser_form(self, key_prefix: str, max_bytes: int, expires_seconds: int, redirect_url: str) -> UploadForm:
        """A presigned POST for a plain HTML form: the file keeps its name under ``key_prefix``, any type, at most
        ``max_bytes``, tagged ``state=unlinked``; the storage then redirects the browser to ``redirect_url``."""
        ...

    def uploaded_under(self, key_prefix: str) -> str | None: ...

    def stored(self, key: str) -> StoredFile | None: ...

    def head_bytes(self, key: str, count: int) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def mark_linked(self, key: str) -> None:
        """Re-tag the object so the lifecycle rule for unlinked uploads no longer deletes it."""
        ...

    def download_url(self, key: str, filename: str, content_type: str) -> str:
        """A short-lived presigned GET answering ``Content-Disposition: attachment`` and the stored type."""
        ...


class UploadTokens(Protocol):
    def issue(self, account_id: str, attachment_id: str) -> str: ...

    def redeem(self, token: str) -> tuple[str, str]:
        """``(account_id, attachment_id)``; ``NotFoundError`` when forged or expired."""
        ...


class WallClock(Protocol):
    """Wall time, for the presigned POST's life (cryptographic freshness, never the business clock)."""

    def epoch_seconds(self) -> float: ...


@dataclass(frozen=True, slots=True)
class UploadGrant:
    attachment: Attachment
    form: UploadForm
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class DepartmentChoice:
    """A department as a customer chooses it, in one language."""

    code: str
    name: str
    description: str


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` added to its query string (existing parameters kept)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def in_language(texts: Mapping[str, str] | Mapping[Any, str], language: str) -> str:
    by_language = {str(k): v for k, v in texts.items()}
    return by_language.get(language) or by_language["en"]


def _priority(value: str) -> TicketPriority:
    try:
        return TicketPriority(value)
    except ValueError:
        raise InvalidInputError.single(
            "priority", N_("This value is not one of the allowed choices."), "invalid_choice"
        ) from None


def _status(value: str) -> TicketStatus:
    try:
        return TicketStatus(value)
    except ValueError:
        raise InvalidInputError.single(
            "status", N_("This value is not one of the allowed choices."), "invalid_choice"
        ) from None


# --- the use-cases ----------------------------------------------------------------------------------------------
@dataclass
class Tickets:
    store: TicketStore
    files: AttachmentFiles
    upload_tokens: UploadTokens
    clock: Clock
    wall: WallClock
    settings: TicketSettings
    staff_language: str = "pt-BR"  # the language of the alerts sent to department addresses

    # --- departments ------------------------------------------------------------------------------------------
    def departments(self, language: str) -> list[DepartmentChoice]:
        """The departments to choose from, with what each is for, in ``language`` (English when unknown)."""
        return [
            DepartmentChoice(d.code, in_language(d.name, language), in_language(d.description, language))
            for d in self.settings.departments
        ]

    def _department(self, code: str) -> TicketDepartment:
        department = self.settings.department(code)
        if department is None:
            raise InvalidInputError.single(
                "department", N_("This value is not one of the allowed choices."), "invalid_choice"
            )
        return department

    def related_services(self, account_id: str) -> list[ServiceChoice]:
        """The services a new ticket may name as its related service (the account's own), by name."""
        return sorted(self.store.services(account_id), key=lambda s: (s.name.lower(), s.service_id))

    # --- attachments ------------------------------------------------------------------------------------------
    def request_upload(
        self, account_id: str, uploader: Person, filename: str, content_type: str, size: int
    ) -> UploadGrant:
        """A presigned POST for one declared file (the JSON API, or a page with JavaScript): this key, this type,
        at most 10 MB, for 300 seconds. Then ``confirm_upload``."""
        if content_type not in ALLOWED_ATTACHMENT_TYPES:
            raise attachment_type_not_allowed()
        if size > MAX_ATTACHMENT_BYTES:
            raise attachment_too_large()
        attachment = self._pending(
            account_id, uploader, filename=safe_filename(filename), content_type=content_type, size=size
        )
        form = self.files.upload_form(
            attachment.object_key, content_type, MAX_ATTACHMENT_BYTES, UPLOAD_WINDOW_SECONDS, None
        )
        return self._grant(attachment, form)

    def request_browser_upload(self, account_id: str, uploader: Person, redirect_url: str) -> UploadGrant:
        """The portal without JavaScript: a form the browser posts straight to the storage, whose file name and
        type are not known yet (they come from the file). After the upload the storage sends the browser to
        ``redirect_url`` with a signed single-use ``token`` added to its query: the page passes it to
        ``redeem_upload_token``, authorizes the account, then calls ``confirm_upload``."""
        attachment = self._pending(account_id, uploader, filename="", content_type="", size=0, browser_form=True)
        redirect = with_query(redirect_url, token=self.upload_tokens.issue(account_id, attachment.attachment_id))
        form = self.files.browser_form(attachment.object_key, MAX_ATTACHMENT_BYTES, UPLOAD_WINDOW_SECONDS, redirect)
        return self._grant(attachment, form)

    def _pending(
        self,
        account_id: str,
        uploader: Person,
        *,
        filename: str,
        content_type: str,
        size: int,
        browser_form: bool = False,
    ) -> Attachment:
        attachment_id = new_ulid()
        if browser_form:
            key = self.files.key_prefix(account_id, attachment_id)
        else:
            key = self.files.object_key(account_id, attachment_id)
        return Attachment(
            attachment_id=attachment_id,
            account_id=account_id,
            uploaded_by=uploader.user_id,
            filename=filename,
            content_type=content_type,
            size=size,
            state=AttachmentState.PENDING,
            created_at=self.clock.now(),
            object_key=key,
            from_browser_form=browser_form,
        )

    def _grant(self, attachment: Attachment, form: UploadForm) -> UploadGrant:
        self.store.add_attachment(attachment, attachment.created_at + UNLINKED_UPLOAD_LIFETIME)
        expires_at = datetime.fromtimestamp(int(self.wall.epoch_seconds()) + UPLOAD_WINDOW_SECONDS, tz=UTC)
        return UploadGrant(attachment, form, expires_at)

    def redeem_upload_token(self, token: str) -> tuple[str, str]:
        """The ``(account_id, attachment_id)`` a redirect token was issued for (authorize the account, then
        ``confirm_upload``: an attachment is confirmed once, so the token works once)."""
        return self.upload_tokens.redeem(token)

    def confirm_upload(self, account_id: str, attachment_id: str) -> Attachment:
        """The enforcement: the stored object's size and type, and its first bytes, must be what tickets accept.
        A refused upload is deleted and can never be linked."""
        attachment = self.store.attachment(account_id, attachment_id)
        if attachment is None or attachment.state is AttachmentState.REJECTED:
            raise NotFoundError()
        if attachment.state is not AttachmentState.PENDING:
            raise AttachmentAlreadyConfirmedError()
        key = attachment.object_key
        if attachment.from_browser_form:
            key = self.files.uploaded_under(attachment.object_key) or ""
        stored = self.files.stored(key) if key else None
        if stored is None:
            raise attachment_missing()
        head = self.files.head_bytes(key, SNIFF_BYTES)
        filename, content_type = attachment.filename, attachment.content_type
        try:
            if attachment.from_browser_form:
                filename = safe_filename(key.rsplit("/", 1)[-1])
                content_type = check_browser_upload(stored.content_type, stored.size, head)
            else:
                check_upload(content_type, stored.content_type, stored.size, head)
        except AttachmentRefusedError as refusal:
            self.files.delete(key)
            rejected = replace(attachment, state=AttachmentState.REJECTED, rejection=refusal.fields[0].code)
            self.store.save_attachment(attachment, replace(rejected, object_key=key))
            raise
        confirmed = replace(
            attachment,
            state=AttachmentState.CONFIRMED,
            size=stored.size,
            object_key=key,
            filename=filename,
            content_type=content_type,
        )
        self.store.save_attachment(attachment, confirmed)
        return confirmed

    def _linkable(self, account_id: str, attachment_ids: Sequence[str]) -> list[Attachment]:
        wanted = list(dict.fromkeys(attachment_ids))
        if len(wanted) > MAX_ATTACHMENTS_PER_MESSAGE:
            raise InvalidInputError.single("attachment_ids", N_("Attach at most 5 files to a message."), "too_many")
        if not wanted:
            return []
        found = {a.attachment_id: a for a in self.store.attachments(account_id, wanted)}
        now = self.clock.now()
        if any(i not in found or not found[i].linkable_at(now) for i in wanted):
            raise AttachmentNotLinkableError()
        attachments = [found[i] for i in wanted]
        for attachment in attachments:
            self.files.mark_linked(attachment.object_key)  # before the commit: a linked file is never expired
        return attachments

    def download_url(self, account_id: str, ticket_id: str, attachment_id: str) -> str:
        attachment = self.store.attachment(account_id, attachment_id)
        if attachment is None or attachment.ticket_id != ticket_id or attachment.state is not AttachmentState.LINKED:
            raise NotFoundError()
        return self._download(attachment)

    def _download(self, attachment: Attachment) -> str:
        if not attachment.downloadable:
            raise AttachmentBlockedError()
        return self.files.download_url(attachment.object_key, attachment.filename, attachment.content_type)

    def record_scan_result(self, account_id: str, attachment_id: str, status: ScanStatus) -> bool:
        """The malware-scan hook: ``infected`` blocks every download of the file."""
        return self.store.set_scan_status(account_id, attachment_id, status)

    # --- opening ----------------------------------------------------------------------------------------------
    def open_ticket(
        self,
        account_id: str,
        opener: Person,
        *,
        department: str,
        subject: str,
        message: str,
        priority: str = TicketPriority.MEDIUM.value,
        service_id: str | None = None,
        attachment_ids: Sequence[str] = (),
    ) -> Ticket:
        chosen = self._department(department)
        title = validate_subject(subject)
        body = validate_message(message)
        level = _priority(priority)
        account = self._account(account_id)
        service_name = None
        if service_id is not None:
            service_name = self.store.service_name(account_id, service_id)
            if service_name is None:
                raise NotFoundError()
        attachments = self._linkable(account_id, attachment_ids)
        now = self.clock.now()
        draft = Ticket(
            ticket_id=new_ulid(),
            account_id=account_id,
            account_name=account.name,
            number="",
            kind=TicketKind.ISSUE,
            department=chosen.code,
            subject=title,
            status=TicketStatus.OPEN,
            priority=level,
            opened_by=opener,
            created_at=now,
            last_activity_at=now,
            waiting_since=now,
            service_id=service_id,
            service_name=service_name,
        )
        first = self._message(draft, MessageKind.CUSTOMER, opener, body, attachments, now)

        def events_for(ticket: Ticket) -> list[DomainEvent]:
            opened = new_event(
                "ticket.opened",
                now,
                account_id=account_id,
                user_id=opener.user_id,
                **self._ticket_data(ticket, chosen),
                service_name=service_name,
                summary=summary(body),
                attachments=[a.filename for a in attachments],
                extra_recipients=self._opener(ticket, known_member=True),
            )
            return [opened, *self._staff_alert(ticket, chosen, "opened", summary(body), now)]

        return self._open(draft, first, attachments, events_for)

    def request_callback(self, account_id: str, requester: Person, *, phone: str, window: str, reason: str) -> Ticket:
        """Seed 001: "solicitar um contato telefônico" — a ticket of kind ``callback`` for the staff to call back."""
        account = self._account(account_id)
        number = normalise_phone(phone, account.country)
        try:
            period = CallbackWindow(window)
        except ValueError:
            raise InvalidInputError.single(
                "window", N_("This value is not one of the allowed choices."), "invalid_choice"
            ) from None
        body = validate_message(reason, field="reason")
        chosen = self._department(self.settings.callback_department)
        now = self.clock.now()
        draft = Ticket(
            ticket_id=new_ulid(),
            account_id=account_id,
            account_name=account.name,
            number="",
            kind=TicketKind.CALLBACK,
            department=chosen.code,
            subject=validate_subject(summary(body, SUBJECT_MAX_LENGTH - 1), field="reason"),
            status=TicketStatus.OPEN,
            priority=TicketPriority.MEDIUM,
            opened_by=requester,
            created_at=now,
            last_activity_at=now,
            waiting_since=now,
            callback=CallbackRequest(number, period),
        )
        first = self._message(draft, MessageKind.CUSTOMER, requester, body, [], now)

        def events_for(ticket: Ticket) -> list[DomainEvent]:
            requested = new_event(
                "ticket.callback_requested",
                now,
                account_id=account_id,
                user_id=requester.user_id,
                **self._ticket_data(ticket, chosen),
                phone=number,
                window=period.value,
                summary=summary(body),
                extra_recipients=self._opener(ticket, known_member=True),
            )
            return [requested, *self._staff_alert(ticket, chosen, "callback", summary(body), now)]

        return self._open(draft, first, [], events_for)

    def _open(
        self,
        draft: Ticket,
        first: TicketMessage,
        attachments: Sequence[Attachment],
        events_for: Callable[[Ticket], list[DomainEvent]],
    ) -> Ticket:
        for _ in range(NUMBER_ATTEMPTS):
            ticket = replace(draft, number=ticket_number(100_000 + secrets.randbelow(900_000)))
            try:
                self.store.open_ticket(ticket, first, attachments, events_for(ticket))
            except TicketNumberTakenError:
                continue
            return ticket
        raise ConflictError()

    def _account(self, account_id: str) -> AccountBrief:
        account = self.store.account(account_id)
        if account is None:
            raise NotFoundError()
        return account

    @staticmethod
    def _message(
        ticket: Ticket,
        kind: MessageKind,
        author: Person,
        body: str,
        attachments: Sequence[Attachment],
        now: datetime,
    ) -> TicketMessage:
        return TicketMessage(
            message_id=new_ulid(),
            ticket_id=ticket.ticket_id,
            account_id=ticket.account_id,
            kind=kind,
            author=author,
            body=body,
            created_at=now,
            attachments=tuple(a.ref() for a in attachments),
        )

    @staticmethod
    def _ticket_data(ticket: Ticket, department: TicketDepartment | None) -> dict[str, Any]:
        return {
            "ticket_id": ticket.ticket_id,
            "number": ticket.number,
            "subject": ticket.subject,
            "department": ticket.department,
            "department_names": dict(department.name) if department else {},
            "priority": ticket.priority.value,
            "status": ticket.status.value,
        }

    def _opener(self, ticket: Ticket, *, known_member: bool = False) -> list[dict[str, str]]:
        """Account mail goes to the contract email and the ``support`` contacts; the user who opened the ticket
        gets it too — while they are still a user of the account."""
        person = ticket.opened_by
        if not person.email or not (known_member or self.store.is_member(ticket.account_id, person.user_id)):
            return []
        return [{"email": person.email, "language": person.language}]

    def _staff_alert(
        self, ticket: Ticket, department: TicketDepartment | None, reason: str, text: str, now: datetime
    ) -> list[DomainEvent]:
        if department is None or not department.notification_email:
            return []
        data: dict[str, Any] = {
            **self._ticket_data(ticket, department),
            "to": department.notification_email,
            "language": self.staff_language,
            "account_name": ticket.account_name,
            "reason": reason,
            "summary": text,
        }
        if ticket.callback is not None:
            data |= {"phone": ticket.callback.phone, "window": ticket.callback.window.value}
        return [new_event("ticket.staff_alert", now, **data)]

    # --- reading ----------------------------------------------------------------------------------------------
    def account_tickets(
        self, account_id: str, status: str | None = None, limit: int = 25, cursor: str | None = None
    ) -> TicketPage:
        """ "My Support Tickets": the account's tickets by last activity, optionally one status, with the counts
        per status on the first page."""
        return self.store.account_tickets(account_id, _status(status) if status else None, limit, cursor)

    def thread(self, account_id: str, ticket_id: str) -> TicketThread:
        """A ticket as its customer sees it (internal notes never included)."""
        found = self.store.thread(ticket_id, THREAD_PAGE)
        if found is None or found.ticket.account_id != account_id:
            raise NotFoundError()
        return replace(found, messages=customer_view(found.messages))

    def older_messages(self, account_id: str, ticket_id: str, cursor: str) -> tuple[list[TicketMessage], str | None]:
        found = self.store.older_messages(ticket_id, THREAD_PAGE, cursor)
        if found is None or any(m.account_id != account_id for m in found[0]):
            raise NotFoundError()
        messages, following = found
        return customer_view(messages), following

    def account_of_ticket(self, ticket_id: str) -> str:
        """The account a ticket belongs to — email links name the ticket only (``/tickets/{ticket_id}``): the page
        authorizes the signed-in user on that account, then reads the ``thread``."""
        return self.staff_ticket(ticket_id).account_id

    def _ticket_of(self, account_id: str, ticket_id: str) -> Ticket:
        ticket = self.store.ticket(ticket_id)
        if ticket is None or ticket.account_id != account_id:
            raise NotFoundError()
        return ticket

    # --- customer actions -------------------------------------------------------------------------------------
    def reply(
        self, account_id: str, ticket_id: str, author: Person, message: str, attachment_ids: Sequence[str] = ()
    ) -> tuple[Ticket, TicketMessage]:
        body = validate_message(message)
        before = self._ticket_of(account_id, ticket_id)
        attachments = self._linkable(account_id, attachment_ids)
        now = self.clock.now()
        after = after_customer_reply(before, now)
        reply = self._message(after, MessageKind.CUSTOMER, author, body, attachments, now)
        department = self.settings.department(after.department)
        events = [
            self._replied(after, reply, now, author_role="customer"),
            *self._staff_alert(after, department, "customer_reply", summary(body), now),
        ]
        self.store.add_message(before, after, reply, attachments, events)
        return after, reply

    def close(self, account_id: str, ticket_id: str, actor: Person) -> Ticket:
        before = self._ticket_of(account_id, ticket_id)
        now = self.clock.now()
        after = closed(before, now)
        event = new_event(
            "ticket.closed", now, account_id=account_id, user_id=actor.user_id, ticket_id=ticket_id, by="customer"
        )
        self.store.save_ticket(before, after, [event])
        return after

    def reopen(self, account_id: str, ticket_id: str, actor: Person) -> Ticket:
        before = self._ticket_of(account_id, ticket_id)
        now = self.clock.now()
        after = reopened(before, now)
        event = new_event("ticket.reopened", now, account_id=account_id, user_id=actor.user_id, ticket_id=ticket_id)
        self.store.save_ticket(before, after, [event])
        return after

    def _replied(self, ticket: Ticket, reply: TicketMessage, now: datetime, *, author_role: str) -> DomainEvent:
        """Every reply is emailed to the account (never an internal note)."""
        return new_event(
            "ticket.replied",
            now,
            account_id=ticket.account_id,
            user_id=reply.author.user_id,
            **self._ticket_data(ticket, self.settings.department(ticket.department)),
            author=author_role,
            author_name=reply.author.name,
            message=reply.body,
            attachments=[a.filename for a in reply.attachments],
            extra_recipients=self._opener(ticket),
        )

    # --- staff ------------------------------------------------------------------------------------------------
    def queue(self, query: QueueFilter, limit: int = 25, cursor: str | None = None) -> tuple[list[Ticket], str | None]:
        """The staff queue: tickets that are not closed (or those of one status), longest waiting first."""
        if query.department is not None:
            self._department(query.department)
        return self.store.queue(query, limit, cursor)

    def staff_ticket(self, ticket_id: str) -> Ticket:
        ticket = self.store.ticket(ticket_id)
        if ticket is None:
            raise NotFoundError()
        return ticket

    def staff_thread(self, ticket_id: str) -> TicketThread:
        """A ticket as the staff see it: internal notes included."""
        found = self.store.thread(ticket_id, THREAD_PAGE)
        if found is None:
            raise NotFoundError()
        return found

    def staff_older_messages(self, ticket_id: str, cursor: str) -> tuple[list[TicketMessage], str | None]:
        found = self.store.older_messages(ticket_id, THREAD_PAGE, cursor)
        if found is None:
            raise NotFoundError()
        return found

    def staff_reply(self, ticket_id: str, staff: Person, message: str) -> tuple[Ticket, TicketMessage]:
        body = validate_message(message)
        before = self.staff_ticket(ticket_id)
        now = self.clock.now()
        after = after_staff_reply(before, now)
        reply = self._message(after, MessageKind.STAFF, staff, body, [], now)
        self.store.add_message(before, after, reply, [], [self._replied(after, reply, now, author_role="staff")])
        return after, reply

    def add_note(self, ticket_id: str, staff: Person, message: str) -> tuple[Ticket, TicketMessage]:
        """An internal note: staff only, no status change, no email."""
        body = validate_message(message)
        ticket = self.staff_ticket(ticket_id)
        now = self.clock.now()
        note = self._message(ticket, MessageKind.NOTE, staff, body, [], now)
        event = new_event(
            "ticket.note_added", now, account_id=ticket.account_id, user_id=staff.user_id, ticket_id=ticket_id
        )
        self.store.add_message(ticket, None, note, [], [event])
        return ticket, note

    def update(self, ticket_id: str, staff: Person, changes: Mapping[str, Any]) -> Ticket:
        """Staff change the status, priority, department or assignee (``"me"``, a user id, or None)."""
        before = self.staff_ticket(ticket_id)
        now = self.clock.now()
        after = before
        if changes.get("status") is not None:
            after = with_status(after, _status(str(changes["status"])), now)
        if changes.get("priority") is not None:
            after = replace(after, priority=_priority(str(changes["priority"])))
        if changes.get("department") is not None:
            after = replace(after, department=self._department(str(changes["department"])).code)
        if "assignee" in changes:
            after = replace(after, assignee=self._assignee(changes["assignee"], staff))
        if after == before:
            return before
        event = new_event(
            "ticket.updated",
            now,
            account_id=before.account_id,
            user_id=staff.user_id,
            ticket_id=ticket_id,
            changes={k: v for k, v in changes.items() if v is not None or k == "assignee"},
        )
        self.store.save_ticket(before, after, [event])
        return after

    def _assignee(self, value: Any, staff: Person) -> Person | None:
        if value is None:
            return None
        if value in (ASSIGN_TO_CALLER, staff.user_id):
            return Person(staff.user_id, staff.name, staff.email)
        person = self.store.person(str(value))
        if person is None:
            raise InvalidInputError.single("assignee", N_("There is no such user."), "unknown_user")
        return Person(person.user_id, person.name, person.email)

    def staff_download_url(self, account_id: str, attachment_id: str) -> str:
        attachment = self.store.attachment(account_id, attachment_id)
        if attachment is None or attachment.state is not AttachmentState.LINKED:
            raise NotFoundError()
        return self._download(attachment)

    def staff_person(self, user_id: str, email: str) -> Person:
        """How a staff member signs a reply: their name, or their email when they have no profile."""
        found = self.store.person(user_id)
        return Person(user_id, found.name if found else email, email)

    # --- the auto-close job -----------------------------------------------------------------------------------
    def auto_close(self) -> dict[str, int]:
        """Job ``ticket_autoclose`` (hourly): answered tickets without a customer reply for N days close, each on
        its own (a ticket that changed meanwhile is skipped), with an email. Returns the job's counts."""
        days = self.settings.auto_close_days
        if days is None:
            return {"closed": 0, "skipped": 0, "disabled": 1}
        now = self.clock.now()
        counts = {"closed": 0, "skipped": 0}
        for ticket in self.store.answered_waiting_since_before(auto_close_cutoff(now, days)):
            after = closed(ticket, now)
            event = new_event(
                "ticket.auto_closed",
                now,
                account_id=ticket.account_id,
                **self._ticket_data(after, self.settings.department(after.department)),
                days=days,
                answered_at=format_timestamp(ticket.waiting_since),
                extra_recipients=self._opener(ticket),
            )
            try:
                self.store.save_ticket(ticket, after, [event])
            except ConflictError:  # changed since the (eventually consistent) queue was read: not due anymore
                counts["skipped"] += 1
                continue
            counts["closed"] += 1
        return counts
