"""Idempotency records in their own table (``IDEMPOTENCY_TABLE_NAME``: key ``id``, TTL ``expiration``), apart from
the single table so they never reach its stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IN_PROGRESS = "INPROGRESS"
COMPLETED = "COMPLETED"


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    fingerprint: str
    status: str
    status_code: int | None = None
    body: str | None = None
    content_type: str | None = None


class DynamoIdempotencyRecords:
    def __init__(self, table_name: str) -> None:
        self._table = table_name
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client

    def claim(
        self, record_id: str, fingerprint: str, now: int, expires_at: int, in_progress_until: int
    ) -> IdempotencyRecord | None:
        """Take the key (None), or return the record that holds it: still running, or with its stored answer.

        An expired record, or one left running past ``in_progress_until`` (a timed-out invocation), is taken over.
        """
        try:
            self.client.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": record_id},
                    "status": {"S": IN_PROGRESS},
                    "fingerprint": {"S": fingerprint},
                    "expiration": {"N": str(expires_at)},
                    "in_progress_until": {"N": str(in_progress_until)},
                },
                ConditionExpression=(
                    "attribute_not_exists(id) OR expiration < :now OR (#status = :running AND in_progress_until < :now)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":running": {"S": IN_PROGRESS}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            item = self.client.get_item(TableName=self._table, Key={"id": {"S": record_id}}, ConsistentRead=True)
            found = item.get("Item")
            if found is None:  # expired and removed in between: the next attempt takes it
                return IdempotencyRecord(fingerprint, IN_PROGRESS)
            return IdempotencyRecord(
                fingerprint=found["fingerprint"]["S"],
                status=found["status"]["S"],
                status_code=int(found["status_code"]["N"]) if "status_code" in found else None,
                body=found.get("body", {}).get("S"),
                content_type=found.get("content_type", {}).get("S"),
            )
        return None

    def complete(self, record_id: str, status_code: int, body: str, content_type: str) -> None:
        self.client.update_item(
            TableName=self._table,
            Key={"id": {"S": record_id}},
            UpdateExpression="SET #status = :done, status_code = :code, body = :body, content_type = :type",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":done": {"S": COMPLETED},
                ":code": {"N": str(status_code)},
                ":body": {"S": body},
                ":type": {"S": content_type},
            },
        )

    def release(self, record_id: str) -> None:
        self.client.delete_item(TableName=self._table, Key={"id": {"S": record_id}})
