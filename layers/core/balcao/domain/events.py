"""Domain events: what happened, written in the same transaction as the change (the outbox) and published on the
bus afterwards. Consumers are idempotent per (event id, recipient or action) and never depend on order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from balcao.domain.calendar import format_timestamp, parse_timestamp
from balcao.domain.ids import new_ulid

SOURCE = "balcao"


@dataclass(frozen=True, slots=True)
class DomainEvent:
    event_id: str
    type: str  # "<capability>.<what happened>", e.g. "identity.signup_code", "invoice.paid"
    occurred_at: datetime
    account_id: str | None = None
    user_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "occurred_at": format_timestamp(self.occurred_at),
            "account_id": self.account_id,
            "user_id": self.user_id,
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> DomainEvent:
        return cls(
            event_id=str(payload["event_id"]),
            type=str(payload["type"]),
            occurred_at=parse_timestamp(str(payload["occurred_at"])),
            account_id=payload.get("account_id"),
            user_id=payload.get("user_id"),
            data=dict(payload.get("data") or {}),
        )


def new_event(
    event_type: str, at: datetime, *, account_id: str | None = None, user_id: str | None = None, **data: Any
) -> DomainEvent:
    return DomainEvent(new_ulid(), event_type, at, account_id, user_id, data)
