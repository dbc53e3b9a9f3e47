"""Support tickets: attachments (presigned POST, confirmation, download), tickets and their threads, replies,
close and reopen, phone callbacks; the staff queue, staff replies, internal notes and changes. Account routes need
the ``tickets`` permission; staff routes the support role (admins always)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.audit import DynamoAuditLog
from balcao.contracts.tickets import (
    AttachmentOut,
    AttachmentUploadIn,
    AttachmentUploadOut,
    CallbackCreated,
    CallbackIn,
    DepartmentList,
    DepartmentOut,
    MessageList,
    MessageOut,
    PriorityKey,
    ReplyIn,
    ReplyOut,
    StaffMessageIn,
    StaffMessageList,
    StaffMessageOut,
    StaffReplyOut,
    StaffTicketDetail,
    StaffTicketList,
    StaffTicketPatch,
    StaffTicketSummary,
    StatusKey,
    TicketCreated,
    TicketDetail,
    TicketIn,
    TicketList,
    TicketSummary,
)
from balcao.domain.accounts import Permission
from balcao.domain.principal import StaffRole
from balcao.domain.tickets import Person, TicketPriority, TicketStatus
from balcao.runtime import access
from balcao.runtime.audit import RequestAuditor
from balcao.runtime.http import caller_language, rest_resolver
from balcao.runtime.observability import logger, tracer
from balcao.runtime.tickets_composition import tickets
from balcao.services.tickets import ASSIGN_TO_CALLER, QueueFilter

app = rest_resolver(audit=RequestAuditor(DynamoAuditLog(), app_clock()))
AccountId = Annotated[str, Path(max_length=64)]
ItemId = Annotated[str, Path(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]
RequiredCursor = Annotated[str, Query(min_length=1, max_length=2000)]
TICKETS = access.account(Permission.TICKETS)
SUPPORT = access.staff(StaffRole.SUPPORT)


def customer() -> Person:
    """The signed-in member acting on the path's account."""
    principal = access.current_principal(app)
    membership = access.current_membership(app)
    return Person(
        principal.user_id,
        membership.user_name or principal.email,
        principal.email,
        principal.language or caller_language(app),
    )


def staff_member() -> Person:
    principal = access.current_principal(app)
    return tickets().staff_person(principal.user_id, principal.email)


def redirect(url: str) -> Response[str]:
    return Response(302, "text/plain; charset=utf-8", "", headers={"Location": url, "Cache-Control": "no-store"})


# --- departments ----------------------------------------------------------------------------------------------------
@app.get("/api/ticket-departments", **access.signed_in())
def list_departments() -> DepartmentList:
    """What each department is for, in the caller's language (shown when choosing one)."""
    choices = tickets().departments(caller_language(app))
    return DepartmentList(items=[DepartmentOut.of(c) for c in choices])


# --- attachments ----------------------------------------------------------------------------------------------------
@app.post("/api/accounts/<account_id>/attachments", status_code=201, **TICKETS)
def request_upload(account_id: AccountId, body: AttachmentUploadIn) -> AttachmentUploadOut:
    """A presigned POST (≤ 10 MB, this type only, valid 300 s); then ``…/confirm``. Unlinked uploads are deleted
    after 24 hours."""
    grant = tickets().request_upload(account_id, customer(), body.filename, body.content_type, body.size)
    return AttachmentUploadOut.of(grant)


@app.post("/api/accounts/<account_id>/attachments/<attachment_id>/confirm", **TICKETS)
def confirm_upload(account_id: AccountId, attachment_id: ItemId) -> AttachmentOut:
    """Checks the stored file's size, type and first bytes: 200 (it can now be linked, once) or 422."""
    return AttachmentOut.of(tickets().confirm_upload(account_id, attachment_id))


@app.get(
    "/api/accounts/<account_id>/tickets/<ticket_id>/attachments/<attachment_id>",
    responses={302: {"description": "Redirect to a presigned download URL valid for at most 300 seconds."}},
    **TICKETS,
)
def download_attachment(account_id: AccountId, ticket_id: ItemId, attachment_id: ItemId) -> Response[str]:
    return redirect(tickets().download_url(account_id, ticket_id, attachment_id))


# --- tickets --------------------------------------------------------------------------------------------------------
@app.get("/api/accounts/<account_id>/tickets", **TICKETS)
def list_tickets(
    account_id: AccountId,
    status: Annotated[StatusKey | None, Query()] = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> TicketList:
    """ "My Support Tickets": newest activity first; ``counts`` per status on the first page."""
    return TicketList.of(tickets().account_tickets(account_id, status, limit, cursor))


@app.post("/api/accounts/<account_id>/tickets", status_code=201, **TICKETS)
def open_ticket(account_id: AccountId, body: TicketIn) -> TicketCreated:
    ticket = tickets().open_ticket(
        account_id,
        customer(),
        department=body.department,
        subject=body.subject,
        message=body.message,
        priority=body.priority,
        service_id=body.service_id,
        attachment_ids=body.attachment_ids,
    )
    return TicketCreated(ticket_id=ticket.ticket_id, number=ticket.number, status="open")


@app.get("/api/accounts/<account_id>/tickets/<ticket_id>", **TICKETS)
def get_ticket(account_id: AccountId, ticket_id: ItemId) -> TicketDetail:
    return TicketDetail.of_thread(tickets().thread(account_id, ticket_id))


@app.get("/api/accounts/<account_id>/tickets/<ticket_id>/messages", **TICKETS)
def older_messages(account_id: AccountId, ticket_id: ItemId, cursor: RequiredCursor) -> MessageList:
    """Older messages of a long thread: ``cursor`` is the ``next`` of the ticket (or of the previous page)."""
    messages, following = tickets().older_messages(account_id, ticket_id, cursor)
    return MessageList(items=[MessageOut.of(m) for m in messages], next=following)


@app.post("/api/accounts/<account_id>/tickets/<ticket_id>/replies", status_code=201, **TICKETS)
def reply(account_id: AccountId, ticket_id: ItemId, body: ReplyIn) -> ReplyOut:
    ticket, message = tickets().reply(account_id, ticket_id, customer(), body.message, body.attachment_ids)
    return ReplyOut.model_validate({**MessageOut.fields_of(message), "ticket_status": ticket.status.value})


@app.post("/api/accounts/<account_id>/tickets/<ticket_id>/close", **TICKETS)
def close_ticket(account_id: AccountId, ticket_id: ItemId) -> TicketSummary:
    return TicketSummary.of(tickets().close(account_id, ticket_id, customer()))


@app.post("/api/accounts/<account_id>/tickets/<ticket_id>/reopen", **TICKETS)
def reopen_ticket(account_id: AccountId, ticket_id: ItemId) -> TicketSummary:
    return TicketSummary.of(tickets().reopen(account_id, ticket_id, customer()))


@app.post("/api/accounts/<account_id>/callbacks", status_code=201, **TICKETS)
def request_callback(account_id: AccountId, body: CallbackIn) -> CallbackCreated:
    """Seed 001: a phone callback (phone, time window, reason) becomes a ticket of kind ``callback``."""
    ticket = tickets().request_callback(
        account_id, customer(), phone=body.phone, window=body.window, reason=body.reason
    )
    return CallbackCreated(ticket_id=ticket.ticket_id, number=ticket.number)


# --- staff ----------------------------------------------------------------------------------------------------------
@app.get("/api/staff/tickets", **SUPPORT)
def staff_queue(
    department: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[StatusKey | None, Query()] = None,
    priority: Annotated[PriorityKey | None, Query()] = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> StaffTicketList:
    """Tickets not closed (or of one ``status``), longest waiting first; ``assignee=me`` for the caller's."""
    assignee_id = access.current_principal(app).user_id if assignee == ASSIGN_TO_CALLER else assignee
    query = QueueFilter(
        status=TicketStatus(status) if status else None,
        department=department,
        priority=TicketPriority(priority) if priority else None,
        assignee_id=assignee_id,
    )
    found, following = tickets().queue(query, limit, cursor)
    return StaffTicketList(items=[StaffTicketSummary.of(t) for t in found], next=following)


@app.get("/api/staff/tickets/<ticket_id>", **SUPPORT)
def staff_ticket(ticket_id: ItemId) -> StaffTicketDetail:
    return StaffTicketDetail.of_thread(tickets().staff_thread(ticket_id))


@app.get("/api/staff/tickets/<ticket_id>/messages", **SUPPORT)
def staff_older_messages(ticket_id: ItemId, cursor: RequiredCursor) -> StaffMessageList:
    messages, following = tickets().staff_older_messages(ticket_id, cursor)
    return StaffMessageList(items=[StaffMessageOut.of(m) for m in messages], next=following)


@app.post("/api/staff/tickets/<ticket_id>/replies", status_code=201, **SUPPORT)
def staff_reply(ticket_id: ItemId, body: StaffMessageIn) -> StaffReplyOut:
    ticket, message = tickets().staff_reply(ticket_id, staff_member(), body.message)
    app.context["audit_account_id"] = ticket.account_id
    return StaffReplyOut.model_validate(
        {**StaffMessageOut.of(message).model_dump(), "ticket_status": ticket.status.value}
    )


@app.post("/api/staff/tickets/<ticket_id>/notes", status_code=201, **SUPPORT)
def staff_note(ticket_id: ItemId, body: StaffMessageIn) -> StaffMessageOut:
    """An internal note: never shown to the customer, never emailed, no status change."""
    ticket, note = tickets().add_note(ticket_id, staff_member(), body.message)
    app.context["audit_account_id"] = ticket.account_id
    return StaffMessageOut.of(note)


@app.patch("/api/staff/tickets/<ticket_id>", **SUPPORT)
def staff_update(ticket_id: ItemId, body: StaffTicketPatch) -> StaffTicketSummary:
    ticket = tickets().update(ticket_id, staff_member(), body.model_dump(exclude_unset=True))
    app.context["audit_account_id"] = ticket.account_id
    return StaffTicketSummary.of(ticket)


@app.get(
    "/api/staff/accounts/<account_id>/attachments/<attachment_id>",
    responses={302: {"description": "Redirect to a presigned download URL valid for at most 300 seconds."}},
    **SUPPORT,
)
def staff_download(account_id: AccountId, attachment_id: ItemId) -> Response[str]:
    return redirect(tickets().staff_download_url(account_id, attachment_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
