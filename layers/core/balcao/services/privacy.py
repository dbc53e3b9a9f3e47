"""LGPD / GDPR: data exports, retention of the email and audit logs, removal of sign-ups never confirmed, and the
anonymisation of closed accounts once fiscal retention allows (invoices are fiscal records and stay).

Each job is idempotent and resumable: it takes its work from a queue (no Scan), finishes each item in one
transaction, and reports counts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from balcao.domain.events import DomainEvent, new_event
from balcao.services.company_settings import CompanySettingsView
from balcao.services.ports import Clock

EXPORT_LINK_HOURS = 6
UNCONFIRMED_QUEUE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class ExportRequest:
    account_id: str
    export_id: str
    requested_by: str


class PrivacyStore(Protocol):
    def pending_exports(self, limit: int) -> list[ExportRequest]: ...

    def account_items(self, account_id: str) -> list[dict[str, Any]]: ...

    def complete_export(
        self, request: ExportRequest, object_key: str, now: datetime, events: Sequence[DomainEvent]
    ) -> None: ...

    def requester(self, user_id: str) -> tuple[str, str] | None:
        """(email, language) of the user who asked."""
        ...

    def unconfirmed_before(self, cutoff: datetime, limit: int) -> list[str]: ...

    def remove_unconfirmed(self, user_id: str) -> None: ...

    def purge_logs(self, kind: str, before: datetime) -> int: ...

    def closures_due(self, day: str) -> list[str]: ...

    def anonymise(self, account_id: str, now: datetime) -> None: ...


class ExportFiles(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def download_url(self, key: str, filename: str, content_type: str, seconds: int) -> str: ...


class LoginRemover(Protocol):
    def delete(self, user_id: str) -> None: ...


@dataclass
class Privacy:
    store: PrivacyStore
    clock: Clock

    def run_exports(self, files: ExportFiles, limit: int = 25) -> dict[str, int]:
        """Write every item of each requested account as JSON to S3 and email the requester a short-lived link."""
        done = 0
        for request in self.store.pending_exports(limit):
            now = self.clock.now()
            key = f"exports/{request.account_id}/{request.export_id}.json"
            document = {
                "account_id": request.account_id,
                "exported_at": now.isoformat(),
                "items": self.store.account_items(request.account_id),
            }
            files.put(key, json.dumps(document, ensure_ascii=False, default=str, indent=1).encode(), "application/json")
            url = files.download_url(
                key, f"export-{request.account_id}.json", "application/json", EXPORT_LINK_HOURS * 3600
            )
            requester = self.store.requester(request.requested_by)
            events = []
            if requester is not None:
                email, language = requester
                events.append(
                    new_event(
                        "identity.export_ready",
                        now,
                        user_id=request.requested_by,
                        to=email,
                        language=language,
                        account_name=request.account_id,
                        download_url=url,
                        valid_hours=EXPORT_LINK_HOURS,
                    )
                )
            self.store.complete_export(request, key, now, events)
            done += 1
        return {"exported": done}

    def remove_unconfirmed_signups(self, settings: CompanySettingsView, logins: LoginRemover) -> dict[str, int]:
        cutoff = self.clock.now() - timedelta(days=settings.identity.unconfirmed_signup_days)
        removed = 0
        for user_id in self.store.unconfirmed_before(cutoff, UNCONFIRMED_QUEUE_LIMIT):
            logins.delete(user_id)
            self.store.remove_unconfirmed(user_id)
            removed += 1
        return {"removed": removed}

    def apply_retention(self, settings: CompanySettingsView) -> dict[str, int]:
        now = self.clock.now()
        emails = self.store.purge_logs("email", now - timedelta(days=settings.retention.email_log_days))
        audit = self.store.purge_logs("audit", now - timedelta(days=settings.retention.audit_log_days))
        anonymised = 0
        for account_id in self.store.closures_due(now.date().isoformat()):
            self.store.anonymise(account_id, now)
            anonymised += 1
        return {"emails_deleted": emails, "audit_deleted": audit, "accounts_anonymised": anonymised}
