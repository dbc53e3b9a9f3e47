"""Payments' scheduled jobs (EventBridge Scheduler, company timezone; ``/_dev/jobs/{name}`` locally):

- ``autocharge`` (daily) — invoices of services with a saved card or SEPA mandate are charged off-session on the
  due date (``autocharge_days_before``), then retried (default +3 and +5 days); a failure sends "payment failed";
- ``card_expiry`` (monthly) — a notice for each saved card that expires this month.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.runtime.observability import logger, metrics
from balcao.runtime.payments_composition import payments

JOBS: dict[str, Callable[[LambdaContext], dict[str, int]]] = {
    "autocharge": lambda _context: payments().autocharge(),
    "card_expiry": lambda _context: payments().card_expiry(),
}


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    name = str(event["job"])
    counts = JOBS[name](context)
    logger.info("job finished", extra={"job": name, "counts": counts})
    for key, value in counts.items():
        metrics.add_metric(name=f"{name}.{key}", unit="Count", value=value)
    return {"job": name, "counts": counts}
