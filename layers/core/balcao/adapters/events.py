"""EventBridge: domain events onto the custom bus, in PutEvents chunks of 10; failed entries are returned, not
raised, so the caller reports exactly those records back for a retry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from balcao.domain.events import SOURCE, DomainEvent

PUT_EVENTS_LIMIT = 10


class EventBridgePublisher:
    def __init__(self, bus_name: str) -> None:
        self._bus_name = bus_name
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("events")
        return self._client

    def publish(self, events: Sequence[DomainEvent]) -> list[str]:
        """Put ``events`` on the bus; return the ids of those that were not accepted."""
        failed: list[str] = []
        for start in range(0, len(events), PUT_EVENTS_LIMIT):
            chunk = events[start : start + PUT_EVENTS_LIMIT]
            entries = [
                {
                    "Source": SOURCE,
                    "DetailType": event.type,
                    "Detail": json.dumps(event.to_json(), ensure_ascii=False),
                    "EventBusName": self._bus_name,
                }
                for event in chunk
            ]
            try:
                response = self.client.put_events(Entries=entries)
            except Exception:
                failed.extend(event.event_id for event in chunk)
                continue
            for event, entry in zip(chunk, response.get("Entries", []), strict=False):
                if entry.get("ErrorCode"):
                    failed.append(event.event_id)
            if len(response.get("Entries", [])) < len(chunk):
                failed.extend(event.event_id for event in chunk[len(response.get("Entries", [])) :])
        return failed
