"""Dunning's job and consumer.

- Job ``reconcile_dunning`` (daily, company timezone; ``/_dev/jobs/reconcile_dunning`` locally): every unpaid renewal
  or manual invoice without a running workflow gets one (GSI3 work queues, no Scan); orders, upgrades and add funds
  get their one reminder.
- Invoice events (bus → queue): each one brings its invoice's workflow in line — started when the invoice is issued,
  stopped when it is paid or cancelled, restarted as ``{invoice_id}-{n+1}`` after a reversal. Batch with partial
  failures: a failed message goes back to the queue (then the DLQ and its alarm).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.domain.events import DomainEvent
from balcao.runtime.dunning_composition import dunning
from balcao.runtime.observability import logger, metrics
from balcao.runtime.queues import QueueMessage, process_batch


def handle_record(record: QueueMessage) -> None:
    envelope: dict[str, Any] = json.loads(record.body)
    event = DomainEvent.from_json(envelope["detail"])
    invoice_id = event.data.get("invoice_id")
    if event.account_id is None or not invoice_id:
        return
    outcome = dunning().sync(event.account_id, str(invoice_id), event.event_id)
    if outcome in ("started", "restarted", "stopped"):
        metrics.add_metric(name=f"Dunning.{outcome}", unit="Count", value=1)


def reconcile() -> dict[str, int]:
    return dunning().reconcile()


JOBS = {"reconcile_dunning": reconcile}


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    if "Records" in event:
        return process_batch(event, handle_record)
    name = str(event["job"])
    counts = JOBS[name]()
    logger.info("job finished", extra={"job": name, "counts": counts})
    for key, value in counts.items():
        metrics.add_metric(name=f"{name}.{key}", unit="Count", value=value)
    return {"job": name, "counts": counts}
