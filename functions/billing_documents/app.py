"""Invoice PDFs (through its SQS queue, fed by the bus): an issued invoice gets its PDF, then its "invoice created"
email is announced; a paid, cancelled or re-routed invoice gets its PDF rendered again; a credit note gets its own.

Batch with partial failures: a message that failed goes back to the queue (then the DLQ and its alarm).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.domain.events import DomainEvent
from balcao.runtime.invoices_composition import documents
from balcao.runtime.observability import logger, metrics
from balcao.runtime.queues import BatchResponse, QueueMessage, process_batch


def handle_record(record: QueueMessage) -> None:
    envelope: dict[str, Any] = json.loads(record.body)
    event = DomainEvent.from_json(envelope["detail"])
    outcome = documents().handle(event)
    metrics.add_metric(name=f"InvoicePdf.{outcome}", unit="Count", value=1)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_batch(event, handle_record)
