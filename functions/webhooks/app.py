"""Provider webhooks: ``POST /webhooks/{provider}`` — ``stripe``, ``mercadopago`` (and ``sandbox`` on the local stack).

The signature is checked on the raw body (401 when missing, invalid or stale; 503 when the provider has no secret);
an unreadable body is 400; the event is then applied exactly once inside this request — its dedupe item, the
payment, the invoice and the outbox event in one transaction — and only then answered 200. A duplicate is answered
200 and changes nothing; an event for an unknown invoice is answered 200 and flagged for staff.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.contracts.payments import WebhookAnswer
from balcao.runtime import access
from balcao.runtime.http import rest_resolver
from balcao.runtime.observability import logger, metrics, tracer
from balcao.runtime.payments_composition import event_from_webhook, payments

app = rest_resolver()


# Public (providers sign their calls); besides validation: 400 unreadable body, 401 bad signature (nothing written),
# 404 unknown provider (and the sandbox outside the local stack), 503 provider not configured.
WEBHOOK_ERRORS: dict[str, Any] = {access.ACCESS_EXTENSION: "public", access.ERRORS_EXTENSION: [400, 401, 404, 503]}


@app.post("/webhooks/<provider>", openapi_extensions=WEBHOOK_ERRORS)
def webhook(provider: Annotated[str, Path(max_length=32)]) -> WebhookAnswer:
    """A provider's event: verified, then settled exactly once (see the module docstring)."""
    event = app.current_event
    raw_body = event.decoded_body or ""
    query = dict(event.query_string_parameters or {})
    verified = event_from_webhook(provider, raw_body, dict(event.headers or {}), query)
    outcome = payments().handle_event(verified)
    logger.info(
        "webhook handled",
        extra={"provider": provider, "event_id": verified.event_id, "kind": verified.kind.value, "outcome": outcome},
    )
    metrics.add_metric(name=f"Webhook.{outcome.value}", unit="Count", value=1)
    return WebhookAnswer(received=True, outcome=outcome.value)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
