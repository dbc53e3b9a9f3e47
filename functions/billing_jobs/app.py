"""Billing's scheduled jobs (EventBridge Scheduler, company timezone; ``/_dev/jobs/{name}`` locally):

- ``renewals`` — renewal invoices ``lead`` days before each service's next due date, catching up missed days;
- ``unpaid_funds`` — add-funds invoices still unpaid after their due date are cancelled (payment pending waits);
- ``late_fees`` — when enabled, one late-fee invoice per invoice overdue for ``after_days``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.runtime.invoices_composition import invoices, renewals
from balcao.runtime.observability import logger, metrics

# Stop starting renewal days when less than this is left of the invocation (the next run continues).
SAFETY_MARGIN_MILLIS = 90_000


def run_renewals(context: LambdaContext) -> dict[str, int]:
    remaining = getattr(context, "get_remaining_time_in_millis", None)

    def out_of_time() -> bool:
        return callable(remaining) and remaining() < SAFETY_MARGIN_MILLIS

    return renewals().run(out_of_time)


JOBS: dict[str, Callable[[LambdaContext], dict[str, int]]] = {
    "renewals": run_renewals,
    "unpaid_funds": lambda _context: invoices().cancel_unpaid_funds(),
    "late_fees": lambda _context: invoices().charge_late_fees(),
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
