"""``service.provisioning_requested`` (through its SQS queue, fed by the bus) → the control panel (cPanel/WHM, or
the simulated panel locally): create, suspend, unsuspend, terminate, change the package — once per (service,
action, request id).

A retryable failure returns the message to the queue (retried after the visibility timeout) until the company's
number of attempts; then the request is marked failed for staff, who may retry it. A message that cannot be handled
at all goes to the dead-letter queue, whose alarm tells the operators.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.domain.events import DomainEvent
from balcao.runtime.observability import logger, metrics
from balcao.runtime.queues import BatchResponse, QueueMessage, process_batch
from balcao.runtime.services_composition import provisioning


def handle_record(record: QueueMessage) -> None:
    envelope: dict[str, Any] = json.loads(record.body)
    event = DomainEvent.from_json(envelope["detail"])
    request_id = event.data.get("request_id")
    if event.type != "service.provisioning_requested" or event.account_id is None or not request_id:
        return
    outcome = provisioning().run(event.account_id, str(request_id))
    metrics.add_metric(name=f"Provisioning.{outcome}", unit="Count", value=1)
    if outcome == "failed":
        logger.warning(
            "provisioning failed",
            extra={"service_id": event.data.get("service_id"), "action": event.data.get("action")},
        )


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_batch(event, handle_record)
