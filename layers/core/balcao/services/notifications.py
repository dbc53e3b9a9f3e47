"""Every notice goes through one pipeline: event → template → recipients → rendered mail → SES → email log.

Which events send which email is the ``EMAILS`` catalog: the template, who receives it (the account's contract
email and every contact subscribed to the department, or — for security mail — the user alone) and which values
must never be stored (codes, tokens, sign-in links).

Fault model, per (event id, recipient):
1. claim: a conditional put; a claim already marked *sent* means a redelivery — nothing is sent again;
2. send through SES; if SES fails, the claim is released and the error goes back to the queue (retried with
   backoff, then the DLQ and its alarm): nothing is lost;
3. mark sent (and write the email log) in one transaction. A crash between 2 and 3 leaves a stale claim; the next
   delivery re-claims it once and sends again — so a recipient gets an email at most twice, and only then.
Hard-bounced addresses are skipped (and the skip is logged).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from balcao.domain.accounts import AccountDirectoryEntry, Department, Recipient
from balcao.domain.email import Attachment, OutgoingEmail
from balcao.domain.events import DomainEvent
from balcao.services.ports import Clock, Mailer

MASK = "••••"


class Audience(StrEnum):
    ACCOUNT = "account"  # contract email + subscribed contacts; shown in the account's email log
    USER = "user"  # one person (codes, invitations, sign-in notices); never in an account's log


@dataclass(frozen=True, slots=True)
class EmailSpec:
    template: str
    audience: Audience
    department: Department = Department.GENERAL
    sensitive: frozenset[str] = frozenset()  # data keys masked in the stored copy
    attach_invoice_pdf: bool = False


def _security(template: str, *sensitive: str) -> EmailSpec:
    return EmailSpec(template, Audience.USER, Department.GENERAL, frozenset(sensitive))


EMAILS: dict[str, EmailSpec] = {
    # identity
    "identity.signup_code": _security("signup_code", "code"),
    "identity.account_exists": _security("account_exists"),
    "identity.welcome": EmailSpec("welcome", Audience.ACCOUNT, Department.GENERAL),
    "identity.password_reset_code": _security("password_reset_code", "code"),
    "identity.email_change_code": _security("email_change_code", "code"),
    "identity.security_notice": _security("security_notice"),
    "identity.invitation": _security("invitation", "accept_url"),
    "identity.export_ready": _security("export_ready", "download_url"),
    # invoices
    "invoice.created": EmailSpec("invoice_created", Audience.ACCOUNT, Department.BILLING, attach_invoice_pdf=True),
    "invoice.paid": EmailSpec("payment_received", Audience.ACCOUNT, Department.BILLING),
    "invoice.partially_paid": EmailSpec("payment_received", Audience.ACCOUNT, Department.BILLING),
    "credit.added": EmailSpec("credit_added", Audience.ACCOUNT, Department.BILLING),
    # payments
    "payment.failed": EmailSpec("payment_failed", Audience.ACCOUNT, Department.BILLING),
    "payment_method.expiring": EmailSpec("card_expiring", Audience.ACCOUNT, Department.BILLING),
    # tickets
    "ticket.opened": EmailSpec("ticket_opened", Audience.ACCOUNT, Department.SUPPORT),
    "ticket.replied": EmailSpec("ticket_reply", Audience.ACCOUNT, Department.SUPPORT),
    "ticket.auto_closed": EmailSpec("ticket_auto_closed", Audience.ACCOUNT, Department.SUPPORT),
    "ticket.callback_requested": EmailSpec("callback_requested", Audience.ACCOUNT, Department.SUPPORT),
    "ticket.staff_alert": EmailSpec("ticket_staff_alert", Audience.USER, Department.SUPPORT),
    # services
    "service.activated": EmailSpec("service_activated", Audience.ACCOUNT, Department.SERVICES),
    "service.suspended": EmailSpec("service_suspended", Audience.ACCOUNT, Department.SERVICES),
    "service.unsuspended": EmailSpec("service_reactivated", Audience.ACCOUNT, Department.SERVICES),
    "service.cancelled": EmailSpec("service_cancelled", Audience.ACCOUNT, Department.SERVICES),
    "service.terminated": EmailSpec("service_terminated", Audience.ACCOUNT, Department.SERVICES),
    "service.cancellation_requested": EmailSpec("cancellation_requested", Audience.ACCOUNT, Department.SERVICES),
    "service.plan_changed": EmailSpec("plan_changed", Audience.ACCOUNT, Department.SERVICES),
    # dunning
    "dunning.reminder": EmailSpec("dunning_reminder", Audience.ACCOUNT, Department.BILLING),
    "dunning.overdue_notice": EmailSpec("dunning_overdue_notice", Audience.ACCOUNT, Department.BILLING),
    "dunning.suspended": EmailSpec("dunning_suspended", Audience.ACCOUNT, Department.BILLING),
    "dunning.terminated": EmailSpec("dunning_terminated", Audience.ACCOUNT, Department.BILLING),
    "dunning.staff_alert": EmailSpec("dunning_staff_alert", Audience.USER, Department.BILLING),
}


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class EmailRenderer(Protocol):
    def render(self, template: str, language: str, context: Mapping[str, Any]) -> RenderedEmail: ...


class AccountDirectory(Protocol):
    def entry(self, account_id: str) -> AccountDirectoryEntry | None: ...


class ClaimState(StrEnum):
    NEW = "new"  # ours to send
    RETRY = "retry"  # a stale claim re-taken once (a crash between send and mark)
    DONE = "done"  # already sent (or given up): nothing to do


@dataclass(frozen=True, slots=True)
class EmailLogEntry:
    account_id: str
    event_id: str
    template: str
    department: Department
    recipient: Recipient
    subject: str
    text: str
    html: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class LoggedEmail:
    """An entry of an account's email log, as the customer reads it."""

    email_id: str
    sent_at: datetime
    subject: str
    recipient: str
    department: Department
    status: str
    text: str
    html: str
    status_at: datetime | None = None


class DeliveryLedger(Protocol):
    def is_suppressed(self, email: str) -> bool: ...

    def claim(self, event_id: str, email: str) -> ClaimState: ...

    def release(self, event_id: str, email: str) -> None: ...

    def mark_sent(self, event_id: str, email: str, message_id: str, log: EmailLogEntry | None) -> None: ...


class AttachmentSource(Protocol):
    def invoice_pdf(self, account_id: str, invoice_id: str) -> Attachment | None: ...


@dataclass(frozen=True, slots=True)
class Site:
    """What every email shows: brand and where links point."""

    brand_name: str
    public_base_url: str
    support_email: str
    sender: str
    primary_colour: str = "#0B5CAD"


@dataclass
class DeliveryReport:
    sent: int = 0
    skipped: list[str] = field(default_factory=list)


def recipients_for(
    spec: EmailSpec, event: DomainEvent, directory: AccountDirectory
) -> tuple[list[Recipient], str | None]:
    """Who receives ``event``'s email, and the account name (None for user mail)."""
    if spec.audience is Audience.USER:
        data = event.data
        return [Recipient(str(data["to"]), str(data.get("language") or "en"))], data.get("account_name")
    if event.account_id is None:
        raise ValueError(f"{event.type} is account mail but carries no account_id")
    entry = directory.entry(event.account_id)
    if entry is None:
        return [], None
    recipients = entry.recipients(spec.department)
    seen = {r.email.lower() for r in recipients}
    for extra in event.data.get("extra_recipients", []):
        if str(extra["email"]).lower() not in seen:
            seen.add(str(extra["email"]).lower())
            recipients.append(Recipient(str(extra["email"]), str(extra.get("language") or entry.language)))
    return recipients, entry.name


def deliver(
    event: DomainEvent,
    *,
    directory: AccountDirectory,
    renderer: EmailRenderer,
    mailer: Mailer,
    ledger: DeliveryLedger,
    attachments: AttachmentSource,
    site: Site,
    clock: Clock,
) -> DeliveryReport:
    """Send ``event``'s email to each of its recipients, once (see the module's fault model)."""
    report = DeliveryReport()
    spec = EMAILS.get(event.type)
    if spec is None:
        return report
    recipients, account_name = recipients_for(spec, event, directory)
    files: tuple[Attachment, ...] = ()
    if spec.attach_invoice_pdf and event.account_id and event.data.get("invoice_id"):
        pdf = attachments.invoice_pdf(event.account_id, str(event.data["invoice_id"]))
        files = (pdf,) if pdf else ()
    for recipient in recipients:
        if ledger.is_suppressed(recipient.email):
            report.skipped.append(recipient.email)
            continue
        if ledger.claim(event.event_id, recipient.email) is ClaimState.DONE:
            continue
        context = _context(event, site, recipient, account_name)
        rendered = renderer.render(spec.template, recipient.language, context)
        message = OutgoingEmail(
            sender=f"{site.brand_name} <{site.sender}>",
            recipients=(recipient.email,),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            language=recipient.language,
            attachments=files,
            reply_to=site.support_email,
        )
        try:
            message_id = mailer.send(message)
        except Exception:
            ledger.release(event.event_id, recipient.email)
            raise
        log = None
        if spec.audience is Audience.ACCOUNT and event.account_id:
            stored = rendered
            if spec.sensitive:
                masked = {**context, "data": {k: (MASK if k in spec.sensitive else v) for k, v in event.data.items()}}
                stored = renderer.render(spec.template, recipient.language, masked)
            log = EmailLogEntry(
                account_id=event.account_id,
                event_id=event.event_id,
                template=spec.template,
                department=spec.department,
                recipient=recipient,
                subject=stored.subject,
                text=stored.text,
                html=stored.html,
                sent_at=clock.now(),
            )
        ledger.mark_sent(event.event_id, recipient.email, message_id, log)
        report.sent += 1
    return report


def _context(event: DomainEvent, site: Site, recipient: Recipient, account_name: str | None) -> dict[str, Any]:
    return {
        "data": dict(event.data),
        "site": site,
        "recipient": recipient,
        "account_name": account_name,
        "event_type": event.type,
        "occurred_at": event.occurred_at,
    }
