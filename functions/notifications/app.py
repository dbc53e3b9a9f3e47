"""The notifications consumer: domain events from the bus (through its SQS queue) → emails, once per recipient.

Batch with partial failures: a message whose sending failed goes back to the queue (retried with backoff, then
the DLQ and its alarm); the others are done.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.notifications import DynamoAccountDirectory, DynamoDeliveryLedger
from balcao.adapters.dynamodb.settings import DynamoSettingsStore
from balcao.adapters.s3 import S3Documents
from balcao.adapters.ses import SesMailer
from balcao.domain.events import DomainEvent
from balcao.runtime.observability import logger, metrics
from balcao.runtime.queues import BatchResponse, QueueMessage, process_batch
from balcao.runtime.settings import load_settings
from balcao.services.company_settings import load_company_settings
from balcao.services.notifications import Site, deliver
from balcao.services.ports import Mailer
from balcao.web.emails import JinjaEmailRenderer

clock = app_clock()
directory = DynamoAccountDirectory()
ledger = DynamoDeliveryLedger(clock)
renderer = JinjaEmailRenderer()
settings_store = DynamoSettingsStore()
_mailer: Mailer | None = None
_documents: S3Documents | None = None


def mailer() -> Mailer:
    global _mailer
    if _mailer is None:
        _mailer = SesMailer(load_settings().ses_configuration_set)
    return _mailer


def documents() -> S3Documents:
    global _documents
    if _documents is None:
        _documents = S3Documents(load_settings().documents_bucket)
    return _documents


def site() -> Site:
    company = load_company_settings(settings_store)
    settings = load_settings()
    return Site(
        brand_name=company.brand.name,
        public_base_url=company.contact.public_base_url or settings.public_base_url,
        support_email=company.contact.support_email,
        sender=settings.sender_address,
        primary_colour=company.brand.primary_colour,
    )


def handle_record(record: QueueMessage) -> None:
    envelope: dict[str, Any] = json.loads(record.body)
    event = DomainEvent.from_json(envelope["detail"])
    report = deliver(
        event,
        directory=directory,
        renderer=renderer,
        mailer=mailer(),
        ledger=ledger,
        attachments=documents(),
        site=site(),
        clock=clock,
    )
    if report.sent:
        metrics.add_metric(name="EmailsSent", unit="Count", value=report.sent)
    if report.skipped:
        logger.info("suppressed recipients skipped", extra={"event_type": event.type, "skipped": len(report.skipped)})


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_batch(event, handle_record)
