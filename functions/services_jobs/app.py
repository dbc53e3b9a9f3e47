"""The services' scheduled jobs (EventBridge Scheduler, company timezone; ``/_dev/jobs/{name}`` locally):

- ``unpaid_orders`` — new orders still unpaid after their invoice's due date (7 days by default) are cancelled with
  their invoice and their pending services; an invoice with a payment in flight (``payment_pending``) waits;
- ``unpaid_upgrades`` — plan changes still unpaid after their invoice's due date are dropped, with their invoice;
- ``cancellations`` — cancellation requests whose date came are carried out (status ``cancelled``, the control panel
  account removed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.runtime.observability import logger, metrics
from balcao.runtime.services_composition import services

JOBS: dict[str, Callable[[], dict[str, int]]] = {
    "unpaid_orders": lambda: services().cancel_unpaid_orders(),
    "unpaid_upgrades": lambda: services().cancel_unpaid_changes(),
    "cancellations": lambda: services().run_cancellations(),
}


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    name = str(event["job"])
    counts = JOBS[name]()
    logger.info("job finished", extra={"job": name, "counts": counts})
    for key, value in counts.items():
        metrics.add_metric(name=f"{name}.{key}", unit="Count", value=value)
    return {"job": name, "counts": counts}
