"""SES feedback (delivery, bounce, complaint) from the configuration set's EventBridge destination, through its
queue: the email log's status, and suppression of hard-bounced and complaining addresses."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.notifications import DynamoFeedbackStore
from balcao.runtime.observability import logger
from balcao.runtime.queues import BatchResponse, QueueMessage, process_batch
from balcao.services.email_feedback import Feedback, FeedbackKind, apply_feedback

store = DynamoFeedbackStore(app_clock())
KINDS = {"Delivery": FeedbackKind.DELIVERY, "Bounce": FeedbackKind.BOUNCE, "Complaint": FeedbackKind.COMPLAINT}


def feedback_from(detail: dict[str, Any]) -> Feedback | None:
    kind = KINDS.get(str(detail.get("eventType")))
    if kind is None:
        return None
    message_id = str(detail["mail"]["messageId"])
    if kind is FeedbackKind.BOUNCE:
        bounce = detail.get("bounce", {})
        recipients = tuple(r["emailAddress"] for r in bounce.get("bouncedRecipients", []))
        return Feedback(message_id, kind, bounce.get("bounceType") == "Permanent", recipients)
    if kind is FeedbackKind.COMPLAINT:
        complaint = detail.get("complaint", {})
        return Feedback(
            message_id, kind, True, tuple(r["emailAddress"] for r in complaint.get("complainedRecipients", []))
        )
    return Feedback(message_id, kind, False, tuple(detail.get("delivery", {}).get("recipients", [])))


def handle_record(record: QueueMessage) -> None:
    detail = json.loads(record.body).get("detail", {})
    feedback = feedback_from(detail)
    if feedback is not None and not apply_feedback(feedback, store):
        logger.info("feedback for an unknown message", extra={"kind": feedback.kind.value})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_batch(event, handle_record)
