"""The tickets capability's background work:

- job ``ticket_autoclose`` (EventBridge Scheduler, hourly; ``/_dev/jobs/ticket_autoclose`` locally): answered
  tickets without a customer reply for the configured number of days close, with an email;
- malware-scan results of the attachments bucket (GuardDuty Malware Protection for S3 → default bus → queue):
  an attachment found infected can no longer be downloaded.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.attachments import S3AttachmentFiles
from balcao.domain.tickets import ScanStatus
from balcao.runtime.observability import logger, metrics
from balcao.runtime.queues import QueueMessage, process_batch
from balcao.runtime.settings import load_settings
from balcao.runtime.tickets_composition import tickets

SCAN_RESULTS = {"NO_THREATS_FOUND": ScanStatus.CLEAN, "THREATS_FOUND": ScanStatus.INFECTED}


def record_scan_result(record: QueueMessage) -> None:
    """One GuardDuty "Object Scan Result": results other than clean/infected (unsupported, failed…) change
    nothing; objects outside the attachments are ignored."""
    detail = json.loads(record.body)["detail"]
    objects = detail["s3ObjectDetails"]
    status = SCAN_RESULTS.get(str(detail.get("scanResultDetails", {}).get("scanResultStatus")))
    ids = S3AttachmentFiles.ids_from_key(str(objects["objectKey"]))
    if status is None or ids is None or objects["bucketName"] != load_settings().attachments_bucket:
        logger.info("scan result ignored", extra={"key": objects["objectKey"], "result": str(status)})
        return
    account_id, attachment_id = ids
    if not tickets().record_scan_result(account_id, attachment_id, status):
        logger.info("scan result for an unknown attachment", extra={"key": objects["objectKey"]})
    elif status is ScanStatus.INFECTED:
        logger.warning("attachment infected: downloads blocked", extra={"key": objects["objectKey"]})


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return dict(process_batch(event, record_scan_result))
    name = str(event["job"])
    if name != "ticket_autoclose":
        raise ValueError(f"unknown job {name}")
    counts = tickets().auto_close()
    logger.info("job finished", extra={"job": name, "counts": counts})
    for key, value in counts.items():
        metrics.add_metric(name=f"{name}.{key}", unit="Count", value=value)
    return {"job": name, "counts": counts}
