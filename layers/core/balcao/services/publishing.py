"""Publishing the outbox: events from the table's stream onto the bus, reporting the first failure back.

A DynamoDB stream is processed in order per shard: on a failure the batch is checkpointed at the first failed
record, which (with every later record) comes again. Consumers dedupe, so re-publishing is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from balcao.domain.events import DomainEvent


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> list[str]:
        """Publish; return the ids of the events that were not accepted."""
        ...


@dataclass(frozen=True, slots=True)
class StreamedEvent:
    sequence_number: str
    event: DomainEvent


def publish_streamed(records: Sequence[StreamedEvent], publisher: EventPublisher) -> str | None:
    """Publish every event; return the sequence number to retry from (the first failed one), or None."""
    if not records:
        return None
    failed = set(publisher.publish([r.event for r in records]))
    for record in records:
        if record.event.event_id in failed:
            return record.sequence_number
    return None
