"""The outbox publisher: new outbox items from the table's stream → domain events on the EventBridge bus.

Batched (PutEvents of 10); a failure reports the first failed record so Lambda retries from there.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeDeserializer

from balcao.adapters.events import EventBridgePublisher
from balcao.domain.events import DomainEvent
from balcao.runtime.observability import logger, metrics
from balcao.runtime.settings import load_settings
from balcao.services.publishing import StreamedEvent, publish_streamed

_deserializer = TypeDeserializer()
_publisher: EventBridgePublisher | None = None


def publisher() -> EventBridgePublisher:
    global _publisher
    if _publisher is None:
        _publisher = EventBridgePublisher(load_settings().event_bus_name)
    return _publisher


def streamed_events(event: dict[str, Any]) -> list[StreamedEvent]:
    found = []
    for record in event.get("Records", []):
        image = record.get("dynamodb", {}).get("NewImage")
        if record.get("eventName") != "INSERT" or not image or "event" not in image:
            continue
        payload = json.loads(_deserializer.deserialize(image["event"]))  # a JSONAttribute is stored as a string
        found.append(StreamedEvent(record["dynamodb"]["SequenceNumber"], DomainEvent.from_json(payload)))
    return found


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = streamed_events(event)
    retry_from = publish_streamed(records, publisher())
    metrics.add_metric(name="OutboxEventsPublished", unit="Count", value=len(records))
    if retry_from is None:
        return {"batchItemFailures": []}
    logger.warning("outbox events not accepted by the bus; retrying from a record", extra={"sequence": retry_from})
    return {"batchItemFailures": [{"itemIdentifier": retry_from}]}
