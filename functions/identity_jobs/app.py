"""Identity's scheduled jobs (EventBridge Scheduler; ``/_dev/jobs/{name}`` locally):

- ``exports`` — data exports requested by account owners (LGPD/GDPR): JSON in S3, a short-lived link by email;
- ``retention`` — email and audit logs past their retention, and closed accounts past fiscal retention;
- ``unconfirmed_signups`` — sign-ups never confirmed (login and account removed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.privacy import DynamoPrivacyStore
from balcao.adapters.s3 import S3Documents
from balcao.runtime import composition
from balcao.runtime.observability import logger, metrics
from balcao.runtime.settings import load_settings
from balcao.services.privacy import Privacy


def privacy() -> Privacy:
    return Privacy(DynamoPrivacyStore(), app_clock())


def exports() -> dict[str, int]:
    return privacy().run_exports(S3Documents(load_settings().documents_bucket))


def retention() -> dict[str, int]:
    return privacy().apply_retention(composition.company())


def unconfirmed_signups() -> dict[str, int]:
    return privacy().remove_unconfirmed_signups(composition.company(), composition.identity_provider())


JOBS: dict[str, Callable[[], dict[str, int]]] = {
    "exports": exports,
    "retention": retention,
    "unconfirmed_signups": unconfirmed_signups,
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
