"""Support tickets: "My Support Tickets" with the counts per status, opening a ticket (departments with what each
is for, the related service, the priority, attachments), the thread with replies and downloads, closing and
reopening, and the phone callback request (seed 001).

Every page calls the use-cases of ``/api/accounts/{id}/tickets`` after the account's ``tickets`` permission was
checked: another account's ticket or attachment is the 404 page, like a missing one, and internal notes never
reach a page (the use-case leaves them out). Messages are plain text, escaped like everything else.

Attachments without JavaScript (decision 0009): a file is sent before the ticket or the reply it goes with. The
upload page asks for a browser form whose file goes straight to storage; the storage then sends the browser back to
``/tickets/attachments/uploaded`` with a sealed single-use token; that page confirms the file (size, type from its
first bytes) and returns to the form it came from with the file added to the *draft*: the files waiting to be sent,
carried in the form's address as ``files=<attachment id>:<name>/…`` (names have no ``/``). The names are only what
the page shows; the ids are checked by the use-case when the ticket or reply is sent (confirmed, of this account,
never linked before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import Response

from balcao.domain.accounts import Membership
from balcao.domain.errors import N_, InvalidInputError, NotFoundError
from balcao.domain.tickets import (
    ALLOWED_ATTACHMENT_TYPES,
    MAX_ATTACHMENTS_PER_MESSAGE,
    MESSAGE_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    AttachmentAlreadyConfirmedError,
    AttachmentRefusedError,
    CallbackWindow,
    MessageKind,
    Person,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    attachment_empty,
    attachment_missing,
    attachment_too_large,
    attachment_type_mismatch,
    attachment_type_not_allowed,
)
from balcao.services.tickets import Tickets, TicketThread
from balcao.web.i18n import LANGUAGES
from balcao.web.portal import PortalRequest, page, redirect, with_query
from balcao.web.views.forms import field_errors
from balcao.web.views.identity import PAGE_SIZE, Visit, cursor_of
from balcao.web.views.links import Elsewhere, known_id

NEW_DRAFT = "new"
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
MAX_TOKEN_LENGTH = 4000
# What the file chooser offers (the confirmation decides from the bytes whatever the browser sent).
ACCEPT = ",".join((*ALLOWED_ATTACHMENT_TYPES, ".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf", ".txt", ".log", ".zip"))

STATUS_LABELS = {
    TicketStatus.OPEN.value: N_("Open"),
    TicketStatus.ANSWERED.value: N_("Answered"),
    TicketStatus.CUSTOMER_REPLY.value: N_("Customer reply"),
    TicketStatus.ON_HOLD.value: N_("On hold"),
    TicketStatus.IN_PROGRESS.value: N_("In progress"),
    TicketStatus.CLOSED.value: N_("Closed"),
}
# (key, label, when to choose it) — seed 003's words.
PRIORITIES: tuple[tuple[str, str, str], ...] = (
    (TicketPriority.LOW.value, N_("Low"), N_("General questions or requests that are not urgent.")),
    (TicketPriority.MEDIUM.value, N_("Medium"), N_("Problems that affect part of your site or service.")),
    (
        TicketPriority.HIGH.value,
        N_("High"),
        N_("Critical problems, such as a site completely down or a serious security flaw. Use it sparingly."),
    ),
)
PRIORITY_LABELS = {key: label for key, label, _ in PRIORITIES}
CALLBACK_WINDOWS: tuple[tuple[str, str], ...] = (
    (CallbackWindow.MORNING.value, N_("Morning (9:00 to 12:00)")),
    (CallbackWindow.AFTERNOON.value, N_("Afternoon (12:00 to 18:00)")),
    (CallbackWindow.EVENING.value, N_("Evening (18:00 to 21:00)")),
    (CallbackWindow.ANY_TIME.value, N_("Any time of the day")),
)
WINDOW_LABELS = dict(CALLBACK_WINDOWS)
# Why a file was refused, by the code of the refusal (the messages of the domain's errors).
REFUSALS = {
    error.fields[0].code: error.message
    for error in (
        attachment_too_large(),
        attachment_type_not_allowed(),
        attachment_type_mismatch(),
        attachment_missing(),
        attachment_empty(),
    )
}
# Messages shown once after a form of these pages redirects (``?done=<key>``).
DONE = {
    "opened": N_("Your ticket was opened. We email you at every reply."),
    "replied": N_("Your reply was sent."),
    "closed": N_("The ticket was closed. You can reopen it if you still need help."),
    "reopened": N_("The ticket was reopened."),
    "callback": N_("Your request was received: our team will call you in the time you chose."),
}


# --- the draft: files waiting to be sent with a new ticket or a reply ------------------------------------------
@dataclass(frozen=True, slots=True)
class DraftFile:
    attachment_id: str
    name: str


def draft_files(value: str) -> list[DraftFile]:
    """The files of ``files=<id>:<name>/…`` (well-formed entries only, each id once, at most five)."""
    files: list[DraftFile] = []
    for part in value.split("/"):
        attachment_id, separator, name = part.partition(":")
        if separator and ULID.match(attachment_id) and name and all(f.attachment_id != attachment_id for f in files):
            files.append(DraftFile(attachment_id, name[:200]))
    return files[:MAX_ATTACHMENTS_PER_MESSAGE]


def files_value(files: list[DraftFile]) -> str:
    return "/".join(f"{f.attachment_id}:{f.name}" for f in files)


def draft_of(value: str | None) -> str:
    """``new`` (a new ticket) or the id of the ticket a reply is for; anything else is not found."""
    if value == NEW_DRAFT or (value is not None and ULID.match(value)):
        return value
    raise NotFoundError()


def draft_path(draft: str, files: list[DraftFile], **extra: str) -> str:
    """The form a draft belongs to, with its files (and ``extra``) in the query."""
    params = {"files": files_value(files), **extra} if files or extra else {}
    if draft == NEW_DRAFT:
        return with_query("/tickets/new", **params)
    return with_query(f"/tickets/{draft}", **params) + "#reply"


def _draft_context(draft: str, files: list[DraftFile], request: PortalRequest) -> dict[str, Any]:
    """What the attachments part of a form shows: the files, how to add one or drop one, a refusal."""
    refused = REFUSALS.get(request.query.get("refused", ""))
    return {
        "files": files,
        "files_value": files_value(files),
        "attach_path": with_query("/tickets/attachments/new", draft=draft, files=files_value(files))
        if len(files) < MAX_ATTACHMENTS_PER_MESSAGE
        else None,
        "drop_paths": {f.attachment_id: draft_path(draft, [g for g in files if g is not f]) for f in files},
        "refused": refused,
        "max_files": MAX_ATTACHMENTS_PER_MESSAGE,
    }


def person(visit: Visit, membership: Membership) -> Person:
    """The signed-in member as a ticket names them (emails to them use the page's language)."""
    user = visit.user
    language = visit.request.language if visit.request.language in LANGUAGES else user.profile.language
    name = membership.user_name or user.profile.name or user.session.email
    return Person(user.user_id, name, user.session.email, language)


def _done(request: PortalRequest) -> str | None:
    return DONE.get(request.query.get("done", ""))


# --- "My Support Tickets" --------------------------------------------------------------------------------------
def list_page(visit: Visit, membership: Membership, tickets: Tickets) -> Response[str]:
    request = visit.request
    status = request.query.get("status") or None
    cursor = cursor_of(request)
    found = tickets.account_tickets(membership.account_id, status, PAGE_SIZE, cursor)
    departments = {d.code: d.name for d in tickets.departments(request.language)}
    rows = [
        {
            "ticket": ticket,
            "department": departments.get(ticket.department, ticket.department),
            "status": STATUS_LABELS.get(ticket.status.value, ticket.status.value),
            "priority": PRIORITY_LABELS.get(ticket.priority.value, ticket.priority.value),
            "last_activity": visit.moment(ticket.last_activity_at),
            "callback": ticket.callback is not None,
        }
        for ticket in found.items
    ]
    counts = found.counts or {}
    filters = [
        {
            "path": with_query("/tickets", status=key) if key else "/tickets",
            "label": label,
            "count": counts.get(TicketStatus(key)) if key else None,
            "current": key == (status or ""),
        }
        for key, label in (("", N_("All")), *STATUS_LABELS.items())
    ]
    filtered = {"status": status} if status else {}
    return page(
        request,
        "tickets/list.html",
        title=N_("My support tickets"),
        rows=rows,
        chosen_status=status or "",
        filters=filters,
        first=with_query("/tickets", **filtered),
        older=with_query("/tickets", **filtered, cursor=found.next) if found.next else None,
        paged=cursor is not None,
        done=_done(request),
    )


# --- opening a ticket --------------------------------------------------------------------------------------------
TICKET_FIELDS = ("department", "subject", "service_id", "priority", "message")


def new_page(
    visit: Visit,
    membership: Membership,
    tickets: Tickets,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    request = visit.request
    files = values["files"] if values else draft_files(request.query.get("files", ""))
    departments = tickets.departments(request.language)
    services = tickets.related_services(membership.account_id)
    chosen = values or {"department": departments[0].code, "priority": TicketPriority.MEDIUM.value}
    return page(
        request,
        "tickets/new.html",
        status=status,
        title=N_("Open a ticket"),
        values={name: chosen.get(name, "") for name in TICKET_FIELDS},
        errors=errors or {},
        departments=[(d.code, d.name, d.description) for d in departments],
        services=[("", request.gettext(N_("None: a general question"))), *((s.service_id, s.name) for s in services)],
        priorities=PRIORITIES,
        subject_max=SUBJECT_MAX_LENGTH,
        message_max=MESSAGE_MAX_LENGTH,
        **_draft_context(NEW_DRAFT, files, request),
    )


def _errors(request: PortalRequest, error: InvalidInputError) -> dict[str, str]:
    """Inline errors; a refusal of the files belongs to the attachments part of the form."""
    errors = field_errors(request, error)
    if "file" in errors:
        errors.setdefault("attachment_ids", errors.pop("file"))
    return errors


def open_ticket(visit: Visit, membership: Membership, tickets: Tickets) -> Response[str]:
    request = visit.request
    values: dict[str, Any] = {name: request.value(name) for name in TICKET_FIELDS}
    values["files"] = draft_files(request.value("files"))
    try:
        ticket = tickets.open_ticket(
            membership.account_id,
            person(visit, membership),
            department=values["department"],
            subject=values["subject"],
            message=values["message"],
            priority=values["priority"] or TicketPriority.MEDIUM.value,
            service_id=values["service_id"] or None,
            attachment_ids=[f.attachment_id for f in values["files"]],
        )
    except InvalidInputError as error:
        return new_page(visit, membership, tickets, values, _errors(request, error), 422)
    visit.record("POST /api/accounts/{account_id}/tickets", membership.account_id, ticket_id=ticket.ticket_id)
    return redirect(request, with_query(f"/tickets/{ticket.ticket_id}", done="opened"))


# --- attachments without JavaScript ----------------------------------------------------------------------------
def upload_page(visit: Visit, membership: Membership, tickets: Tickets, base_url: str) -> Response[str]:
    """A plain form that posts one file straight to storage, which then sends the browser back here."""
    request = visit.request
    draft = draft_of(request.query.get("draft"))
    files = draft_files(request.query.get("files", ""))
    if len(files) >= MAX_ATTACHMENTS_PER_MESSAGE:
        return redirect(request, draft_path(draft, files))
    landing = with_query("/tickets/attachments/uploaded", draft=draft, files=files_value(files))
    grant = tickets.request_browser_upload(
        membership.account_id, person(visit, membership), base_url.rstrip("/") + landing
    )
    return page(
        request,
        "tickets/upload.html",
        title=N_("Attach a file"),
        form=grant.form,
        accept=ACCEPT,
        back=draft_path(draft, files),
        for_reply=draft != NEW_DRAFT,
        files=files,
        max_files=MAX_ATTACHMENTS_PER_MESSAGE,
    )


def uploaded(visit: Visit, membership: Membership, tickets: Tickets) -> Response[str]:
    """Where storage sends the browser after an upload: the token names the account and the attachment; the file
    is confirmed (once) and joins the draft, or the form says why it was refused."""
    request = visit.request
    draft = draft_of(request.query.get("draft"))
    files = draft_files(request.query.get("files", ""))
    token = request.query.get("token", "")
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise NotFoundError()
    account_id, attachment_id = tickets.redeem_upload_token(token)
    if account_id != membership.account_id:
        raise NotFoundError()
    try:
        attachment = tickets.confirm_upload(account_id, attachment_id)
    except AttachmentRefusedError as refusal:
        return redirect(request, draft_path(draft, files, refused=refusal.fields[0].code))
    except AttachmentAlreadyConfirmedError:  # the same landing again (a reload): the draft is as it was
        return redirect(request, draft_path(draft, files))
    visit.record(
        "POST /api/accounts/{account_id}/attachments/{attachment_id}/confirm",
        account_id,
        attachment_id=attachment_id,
    )
    added = [*files, DraftFile(attachment.attachment_id, attachment.filename)]
    return redirect(request, draft_path(draft, added))


def download(
    request: PortalRequest, membership: Membership, tickets: Tickets, ticket_id: str, attachment_id: str
) -> Response[str]:
    """A presigned GET of 300 s answering as a download, after the permission check (never served from here)."""
    url = tickets.download_url(membership.account_id, known_id(ticket_id), known_id(attachment_id))
    return redirect(request, url, status=302)


# --- the thread --------------------------------------------------------------------------------------------------
def _message_rows(visit: Visit, messages: list[TicketMessage]) -> list[dict[str, Any]]:
    return [
        {
            "message": message,
            "when": visit.moment(message.created_at),
            "staff": message.kind is MessageKind.STAFF,
            "mine": message.author.user_id == visit.user.user_id,
        }
        for message in messages
        if message.kind is not MessageKind.NOTE  # the use-case already leaves notes out; never render one
    ]


def thread_page(
    visit: Visit,
    membership: Membership,
    tickets: Tickets,
    ticket_id: str,
    *,
    elsewhere: Elsewhere | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    request = visit.request
    try:
        thread: TicketThread = tickets.thread(membership.account_id, known_id(ticket_id))
    except NotFoundError:
        if elsewhere is None:
            raise
        return elsewhere.switch_to(request, ticket_id)
    ticket = thread.ticket
    departments = {d.code: d.name for d in tickets.departments(request.language)}
    files = values["files"] if values else draft_files(request.query.get("files", ""))
    return page(
        request,
        "tickets/thread.html",
        status=status,
        title=N_("Ticket"),
        ticket=ticket,
        status_label=STATUS_LABELS.get(ticket.status.value, ticket.status.value),
        priority=PRIORITY_LABELS.get(ticket.priority.value, ticket.priority.value),
        department=departments.get(ticket.department, ticket.department),
        opened_at=visit.moment(ticket.created_at),
        window=WINDOW_LABELS.get(ticket.callback.window.value, "") if ticket.callback else "",
        rows=_message_rows(visit, thread.messages),
        older=with_query(f"/tickets/{ticket.ticket_id}/messages", cursor=thread.next) if thread.next else None,
        message=(values or {}).get("message", ""),
        errors=errors or {},
        message_max=MESSAGE_MAX_LENGTH,
        done=_done(request),
        **_draft_context(ticket.ticket_id, files, request),
    )


def older_page(visit: Visit, membership: Membership, tickets: Tickets, ticket_id: str) -> Response[str]:
    """Earlier messages of a long thread (the thread page shows the newest 50)."""
    request = visit.request
    cursor = cursor_of(request)
    if cursor is None:
        return redirect(request, f"/tickets/{known_id(ticket_id)}")
    messages, following = tickets.older_messages(membership.account_id, known_id(ticket_id), cursor)
    return page(
        request,
        "tickets/older.html",
        title=N_("Earlier messages"),
        ticket_id=ticket_id,
        rows=_message_rows(visit, messages),
        older=with_query(f"/tickets/{ticket_id}/messages", cursor=following) if following else None,
    )


def reply(visit: Visit, membership: Membership, tickets: Tickets, ticket_id: str) -> Response[str]:
    request = visit.request
    message = request.value("message")
    files = draft_files(request.value("files"))
    try:
        tickets.reply(
            membership.account_id,
            known_id(ticket_id),
            person(visit, membership),
            message,
            [f.attachment_id for f in files],
        )
    except InvalidInputError as error:
        values = {"message": message, "files": files}
        return thread_page(
            visit, membership, tickets, ticket_id, values=values, errors=_errors(request, error), status=422
        )
    visit.record(
        "POST /api/accounts/{account_id}/tickets/{ticket_id}/replies", membership.account_id, ticket_id=ticket_id
    )
    return redirect(request, with_query(f"/tickets/{ticket_id}", done="replied"))


def close(visit: Visit, membership: Membership, tickets: Tickets, ticket_id: str) -> Response[str]:
    tickets.close(membership.account_id, known_id(ticket_id), person(visit, membership))
    visit.record(
        "POST /api/accounts/{account_id}/tickets/{ticket_id}/close", membership.account_id, ticket_id=ticket_id
    )
    return redirect(visit.request, with_query(f"/tickets/{ticket_id}", done="closed"))


def reopen(visit: Visit, membership: Membership, tickets: Tickets, ticket_id: str) -> Response[str]:
    tickets.reopen(membership.account_id, known_id(ticket_id), person(visit, membership))
    visit.record(
        "POST /api/accounts/{account_id}/tickets/{ticket_id}/reopen", membership.account_id, ticket_id=ticket_id
    )
    return redirect(visit.request, with_query(f"/tickets/{ticket_id}", done="reopened"))


# --- phone callback ---------------------------------------------------------------------------------------------
CALLBACK_FIELDS = ("phone", "window", "reason")


def callback_page(
    visit: Visit,
    membership: Membership,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    return page(
        visit.request,
        "tickets/callback.html",
        status=status,
        title=N_("Request a phone call"),
        values=values or {"phone": "", "window": CallbackWindow.ANY_TIME.value, "reason": ""},
        errors=errors or {},
        windows=CALLBACK_WINDOWS,
        reason_max=MESSAGE_MAX_LENGTH,
    )


def request_callback(visit: Visit, membership: Membership, tickets: Tickets) -> Response[str]:
    request = visit.request
    values = {name: request.value(name) for name in CALLBACK_FIELDS}
    try:
        ticket = tickets.request_callback(
            membership.account_id,
            person(visit, membership),
            phone=values["phone"],
            window=values["window"],
            reason=values["reason"],
        )
    except InvalidInputError as error:
        return callback_page(visit, membership, values, field_errors(request, error), 422)
    visit.record("POST /api/accounts/{account_id}/callbacks", membership.account_id, ticket_id=ticket.ticket_id)
    return redirect(request, with_query(f"/tickets/{ticket.ticket_id}", done="callback"))
