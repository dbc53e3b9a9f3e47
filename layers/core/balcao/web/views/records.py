"""What happened on an account: its audit log (owner only) and the log of every email sent to it.

Both are paginated newest first with the store's opaque cursor ("Older entries"). A logged email shows its text
part as stored; its HTML part is served by a route of its own with a policy that forbids scripts, forms, plugins
and remote content, and shown in a sandboxed frame — the stored HTML never joins a portal page.
"""

from __future__ import annotations

from typing import Protocol

from aws_lambda_powertools.event_handler import Response

from balcao.domain.accounts import Membership
from balcao.domain.errors import N_, NotFoundError
from balcao.services.accounts import Accounts
from balcao.services.notifications import LoggedEmail
from balcao.web.portal import HTML, page, with_query
from balcao.web.views.identity import (
    AUDIT_ACTIONS,
    DEPARTMENT_LABELS,
    EMAIL_STATUS_LABELS,
    PAGE_SIZE,
    Visit,
    cursor_of,
)

STAFF_ACTOR = N_("Our team")
# The stored HTML of an email: no scripts, forms, frames, plugins or remote content; only a portal page may frame it.
EMAIL_HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox"
)


class EmailLog(Protocol):
    def list(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[LoggedEmail], str | None]: ...

    def get(self, account_id: str, email_id: str) -> LoggedEmail | None: ...


def _label(visit: Visit, names: dict[str, str], key: str) -> str:
    """The translated label of ``key``, or the key itself when it has none."""
    return visit.request.gettext(names[key]) if key in names else key


def audit_page(visit: Visit, owner: Membership, accounts: Accounts) -> Response[str]:
    cursor = cursor_of(visit.request)
    entries, next_cursor = accounts.audit(owner.account_id, PAGE_SIZE, cursor)
    request = visit.request
    rows = [
        {
            "at": entry.at,
            "when": visit.moment(entry.at),
            "who": entry.actor_email or "",
            "staff": entry.staff,
            "what": AUDIT_ACTIONS.get(entry.action),
            "action": entry.action,
            "source_ip": entry.source_ip or "",
        }
        for entry in entries
    ]
    return page(
        request,
        "identity/audit.html",
        title=N_("Audit log"),
        rows=rows,
        staff_actor=STAFF_ACTOR,
        older=with_query("/audit", cursor=next_cursor) if next_cursor else None,
        paged=cursor is not None,
    )


def emails_page(visit: Visit, membership: Membership, email_log: EmailLog) -> Response[str]:
    cursor = cursor_of(visit.request)
    entries, next_cursor = email_log.list(membership.account_id, PAGE_SIZE, cursor)
    rows = [
        {
            "email": entry,
            "sent_at": visit.moment(entry.sent_at),
            "department": _label(visit, DEPARTMENT_LABELS, entry.department.value),
            "status": _label(visit, EMAIL_STATUS_LABELS, entry.status),
        }
        for entry in entries
    ]
    return page(
        visit.request,
        "identity/emails.html",
        title=N_("Emails"),
        rows=rows,
        older=with_query("/emails", cursor=next_cursor) if next_cursor else None,
        paged=cursor is not None,
    )


def _logged(membership: Membership, email_log: EmailLog, email_id: str) -> LoggedEmail:
    entry = email_log.get(membership.account_id, email_id)
    if entry is None:
        raise NotFoundError()
    return entry


def email_page(visit: Visit, membership: Membership, email_log: EmailLog, email_id: str) -> Response[str]:
    entry = _logged(membership, email_log, email_id)
    return page(
        visit.request,
        "identity/email.html",
        title=N_("Email"),
        email=entry,
        sent_at=visit.moment(entry.sent_at),
        status_at=visit.moment(entry.status_at),
        department=_label(visit, DEPARTMENT_LABELS, entry.department.value),
        delivery=_label(visit, EMAIL_STATUS_LABELS, entry.status),
    )


def email_html(membership: Membership, email_log: EmailLog, email_id: str) -> Response[str]:
    """The stored HTML part, alone, under a policy that lets it be nothing but a document to look at."""
    entry = _logged(membership, email_log, email_id)
    if not entry.html:
        raise NotFoundError()
    return Response(
        200,
        HTML,
        entry.html,
        headers={
            "Content-Security-Policy": EMAIL_HTML_POLICY,
            "X-Frame-Options": "SAMEORIGIN",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Cache-Control": "no-store",
        },
    )
