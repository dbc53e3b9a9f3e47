"""Payments' event consumers (through its SQS queue, fed by the bus):

- ``invoice.paid`` → services suspended for ``overdue`` are unsuspended when no other invoice of the service has
  reached its suspension day (the services capability's use-case does the unsuspension);
- ``invoice.cancelled`` → any charge still open at a provider is cancelled (the cancellation cancels them first;
  this catches a cancellation made without the payments capability's hook).

Batch with partial failures: a message that failed goes back to the queue (then the DLQ and its alarm).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.domain.events import DomainEvent
from balcao.runtime.observability import logger, metrics
from balcao.runtime.payments_composition import payments
from balcao.runtime.queues import BatchResponse, QueueMessage, process_batch


def handle_record(record: QueueMessage) -> None:
    envelope: dict[str, Any] = json.loads(record.body)
    event = DomainEvent.from_json(envelope["detail"])
    if event.account_id is None or not event.data.get("invoice_id"):
        return
    invoice_id = str(event.data["invoice_id"])
    service = payments()
    if event.type == "invoice.paid":
        lifted = service.unsuspend_after_payment(event.account_id, invoice_id)
        if lifted:
            metrics.add_metric(name="ServicesUnsuspended", unit="Count", value=len(lifted))
    elif event.type == "invoice.cancelled":
        invoice = service.invoices.store.invoice(event.account_id, invoice_id)
        if invoice is not None:
            cancelled = service.cancel_open_charges(invoice)
            if cancelled:
                metrics.add_metric(name="ChargesCancelled", unit="Count", value=cancelled)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_batch(event, handle_record)
