"""``invoice.paid`` and ``invoice.cancelled`` (through their SQS queue, fed by the bus) → services:

- a paid order invoice accepts the order: its services become active and their control panel accounts are asked
  for; a paid upgrade invoice applies the plan change; a paid renewal is remembered as the period's payment (what
  a later plan change credits); the overdue suspensions of the invoice's services lift;
- a cancelled order or upgrade invoice cancels its order (and the order's pending services).

Each step is idempotent (an accepted order is not accepted again), so a redelivered message changes nothing.
Batch with partial failures: a message that failed goes back to the queue (then the DLQ and its alarm).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.domain.events import DomainEvent
from balcao.runtime.observability import logger, metrics
from balcao.runtime.queues import BatchResponse, QueueMessage, process_batch
from balcao.runtime.services_composition import services


def handle_record(record: QueueMessage) -> None:
    envelope: dict[str, Any] = json.loads(record.body)
    event = DomainEvent.from_json(envelope["detail"])
    invoice_id = event.data.get("invoice_id")
    if event.account_id is None or not invoice_id:
        return
    if event.type == "invoice.paid":
        counts = services().on_invoice_paid(event.account_id, str(invoice_id))
        for key, value in counts.items():
            if value:
                metrics.add_metric(name=f"ServicesPaid.{key}", unit="Count", value=value)
    elif event.type == "invoice.cancelled":
        outcome = services().on_invoice_cancelled(event.account_id, str(invoice_id))
        if outcome == "cancelled":
            metrics.add_metric(name="ServicesPaid.orders_cancelled", unit="Count", value=1)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_batch(event, handle_record)
