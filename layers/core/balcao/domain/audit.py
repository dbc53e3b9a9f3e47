"""Audit entries: who did what, when, from where. Append-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    audit_id: str
    at: datetime
    actor_user_id: str | None
    actor_email: str | None
    account_id: str | None
    action: str
    target: dict[str, str] = field(default_factory=dict)
    source_ip: str | None = None
    request_id: str | None = None
    staff: bool = False
