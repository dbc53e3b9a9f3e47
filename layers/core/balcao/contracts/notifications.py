"""The customer's email log (API.md: ``/api/accounts/{id}/emails``)."""

from __future__ import annotations

from datetime import datetime

from balcao.contracts import Contract
from balcao.contracts.identity import Timestamped
from balcao.services.notifications import LoggedEmail


class EmailSummary(Timestamped):
    email_id: str
    sent_at: datetime
    subject: str
    recipients: list[str]
    department: str
    status: str

    @classmethod
    def of(cls, email: LoggedEmail) -> EmailSummary:
        return cls(
            email_id=email.email_id,
            sent_at=email.sent_at,
            subject=email.subject,
            recipients=[email.recipient],
            department=email.department.value,
            status=email.status,
        )


class EmailDetail(EmailSummary):
    text: str
    html: str
    status_at: datetime | None

    @classmethod
    def of(cls, email: LoggedEmail) -> EmailDetail:
        return cls(**EmailSummary.of(email).model_dump(), text=email.text, html=email.html, status_at=email.status_at)


class EmailList(Contract):
    items: list[EmailSummary]
    next: str | None = None
