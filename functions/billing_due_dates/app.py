"""``invoice.paid`` (through its SQS queue, fed by the bus) → the next due date of each service the invoice renewed
moves forward one period, once (a conditional write); a renewal already due in its new window is issued at once.

Batch with partial failures: a message that failed goes back to the queue (then the DLQ and its alarm).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.domain.events import DomainEvent
from balcao.runtime.invoices_composition import renewals
from balcao.runtime.observability import logger, metrics
from balcao.runtime.queues import BatchResponse, QueueMessage, process_batch


def handle_record(record: QueueMessage) -> None:
    envelope: dict[str, Any] = json.loads(record.body)
    event = DomainEvent.from_json(envelope["detail"])
    services = list(event.data.get("services") or [])
    if event.type != "invoice.paid" or event.account_id is None or not services:
        return
    counts = renewals().advance_paid(event.account_id, services)
    for key, value in counts.items():
        if value:
            metrics.add_metric(name=f"DueDates.{key}", unit="Count", value=value)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_batch(event, handle_record)
