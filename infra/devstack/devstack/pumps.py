"""Pumps that feed our handlers like AWS would, and ``settle()`` that waits until they are idle.

- ``QueuePump``: an SQS event source mapping (batch, partial failures, failed messages visible again at once so
  retries do not wait for a visibility timeout; moto moves them to the DLQ after ``maxReceiveCount``).
- ``StreamPump``: the DynamoDB stream event source (filters, batch, retry of a failed batch, then skip and log).
- ``settle()``: returns once every pump's last poll found nothing, nothing was written for it since, no pump is
  polling or delivering, and every running Step Functions execution is blocked in a Wait state — the same in two
  checks in a row with nothing happening between them. It waits in the devstack, so tests never sleep.

An idle pump sleeps until something it reads is written (``wake_for``, called by the write hook on moto: a message
added to its queue, a record added to its table's stream) or at the latest after ``IDLE_WAKE_SECONDS`` (messages
that become visible with no write: a visibility timeout ending). A failed message is made visible again at once and
the pump that worked polls again at once, so no wait hides work from ``settle()``. Idle pumps used to poll every
10 ms, and ``settle()`` had every pump poll every 10 ms while it waited: both kept a core busy and slowed every
request.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3

from devstack import hooks

REGION = "eu-west-1"
ACCOUNT = "123456789012"
Invoker = Callable[[str, dict[str, Any]], Any]
SETTLE_CHECK_SECONDS = 0.01  # settle()'s pace: how often it looks at the pumps' state
IDLE_WAKE_SECONDS = 0.5  # an idle pump's own pace when no write wakes it

_listening: dict[str, set[Pump]] = defaultdict(set)  # what a pump reads (queue or table ARN) → running pumps
_listening_lock = threading.Lock()
_happenings = [0]  # writes for a pump and polls started, counted so that settle() sees whether anything moved


def wake_for(source_arn: str) -> None:
    """Something was written to ``source_arn`` (a queue's or a table's ARN): the pumps reading it poll now."""
    with _listening_lock:
        listening = list(_listening.get(source_arn, ()))
    for pump in listening:
        pump.wake()


class Pump(threading.Thread):
    source_arn = ""  # what wake_for() names when there is something new to read

    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.stopped = threading.Event()
        self.woken = threading.Event()  # set by a write for this pump, cleared when a poll starts
        self.polling = False
        self.found_nothing = False  # what the last poll found
        self.empty_polls = 0
        self.errors = 0

    def stop(self) -> None:
        self.stopped.set()
        self.woken.set()

    def wake(self) -> None:
        _happenings[0] += 1
        self.woken.set()

    @property
    def quiet(self) -> bool:
        """The last poll found nothing and nothing was written for this pump since (nor is it polling)."""
        return self.found_nothing and not self.polling and not self.woken.is_set()

    def run(self) -> None:
        with _listening_lock:
            _listening[self.source_arn].add(self)
        try:
            while not self.stopped.is_set():
                self.polling = True
                _happenings[0] += 1
                self.woken.clear()  # before polling: a write during the poll makes the wait below return at once
                try:
                    worked = self.poll_once()
                except Exception:
                    if self.stopped.is_set():
                        return
                    traceback.print_exc()
                    self.errors += 1
                    worked = False
                self.found_nothing = not worked
                self.polling = False
                if not worked:
                    self.empty_polls += 1
                    self.woken.wait(IDLE_WAKE_SECONDS)
        finally:
            with _listening_lock:
                _listening[self.source_arn].discard(self)

    def poll_once(self) -> bool:
        raise NotImplementedError


def matches_pattern(pattern: Any, value: Any) -> bool:
    """EventBridge-style filter matching (the subset used by event source mapping filters)."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(matches_pattern(sub, value.get(key)) for key, sub in pattern.items())
    if isinstance(pattern, list):
        for option in pattern:
            if isinstance(option, dict) and "prefix" in option:
                if isinstance(value, str) and value.startswith(option["prefix"]):
                    return True
            elif isinstance(option, dict) and "exists" in option:
                if (value is not None) == bool(option["exists"]):
                    return True
            elif value == option:
                return True
        return False
    return bool(pattern == value)


class QueuePump(Pump):
    def __init__(
        self, queue_arn: str, queue_url: str, function: str, invoke: Invoker, batch_size: int, report_failures: bool
    ) -> None:
        super().__init__(name=f"sqs:{function}:{queue_arn.rsplit(':', 1)[-1]}")
        self.queue_arn = queue_arn
        self.source_arn = queue_arn
        self.queue_url = queue_url
        self.function = function
        self.invoke = invoke
        self.batch_size = min(batch_size, 10)
        self.report_failures = report_failures
        self.client = boto3.client("sqs", region_name=REGION)

    def poll_once(self) -> bool:
        received = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return False
        records = [self._record(message) for message in received]
        failed: set[str] = set()
        try:
            result = self.invoke(self.function, {"Records": records})
            if self.report_failures and isinstance(result, dict):
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:
            traceback.print_exc()
            failed = {m["MessageId"] for m in received}
        for message in received:
            if message["MessageId"] in failed:
                self.client.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return True

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {k: str(v) for k, v in message.get("Attributes", {}).items()}
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": attributes,
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }

    def pending(self) -> int:
        attributes = self.client.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())


class StreamPump(Pump):
    MAX_ATTEMPTS = 3

    def __init__(
        self,
        stream_arn: str,
        function: str,
        invoke: Invoker,
        batch_size: int,
        filters: list[dict[str, Any]],
        report_failures: bool,
    ) -> None:
        super().__init__(name=f"stream:{function}")
        self.stream_arn = stream_arn
        self.source_arn = stream_arn.split("/stream/", 1)[0]  # the table's ARN
        self.function = function
        self.invoke = invoke
        self.batch_size = batch_size
        self.filters = filters
        self.report_failures = report_failures
        self.client = boto3.client("dynamodbstreams", region_name=REGION)
        self.iterators: dict[str, str] = {}

    def _refresh_shards(self) -> None:
        shards = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in self.iterators:
                self.iterators[shard["ShardId"]] = self.client.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]

    def poll_once(self) -> bool:
        if not self.iterators:
            self._refresh_shards()
        worked = False
        for shard_id, iterator in list(self.iterators.items()):
            response = self.client.get_records(ShardIterator=iterator, Limit=self.batch_size)
            records = response.get("Records", [])
            if not records:
                self.iterators[shard_id] = response.get("NextShardIterator", iterator)
                continue
            worked = True
            self._deliver([self._record(r) for r in records])
            self.iterators[shard_id] = response.get("NextShardIterator", iterator)
        return worked

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        selected = [r for r in records if not self.filters or any(matches_pattern(f, r) for f in self.filters)]
        attempt = 0
        while selected:
            attempt += 1
            try:
                result = self.invoke(self.function, {"Records": selected})
            except Exception:
                traceback.print_exc()
                failed_from = 0
            else:
                failures = (
                    result.get("batchItemFailures", []) if self.report_failures and isinstance(result, dict) else []
                )
                if not failures:
                    return
                sequence = failures[0]["itemIdentifier"]
                failed_from = next(
                    (i for i, r in enumerate(selected) if r["dynamodb"]["SequenceNumber"] == sequence), 0
                )
            if attempt >= self.MAX_ATTEMPTS:
                print(
                    f"devstack: {self.function} failed {attempt} times on stream records; skipped {len(selected) - failed_from}"
                )
                self.errors += 1
                return
            selected = selected[failed_from:]

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            data["ApproximateCreationDateTime"] = int(created.timestamp())
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": data,
            "eventSourceARN": self.stream_arn,
        }


def running_executions() -> int:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends[ACCOUNT][REGION]
    return sum(1 for machine in backend.state_machines for e in machine.executions if e.status == "RUNNING")


def settle(pumps: list[Pump], timeout_seconds: float = 60.0) -> None:
    """Return once nothing moves: every pump quiet and every running execution waiting, in two checks in a row with
    nothing written for a pump and no poll started between them."""
    deadline = time.monotonic() + timeout_seconds
    seen = -1
    while time.monotonic() < deadline:
        happened = _happenings[0]
        if all(pump.quiet for pump in pumps) and running_executions() <= hooks.waiting_executions():
            if happened == seen:
                return
            seen = happened
        else:
            seen = -1
        time.sleep(SETTLE_CHECK_SECONDS)
    state = {p.name: {"polling": p.polling, "quiet": p.quiet} for p in pumps if not p.quiet}
    raise TimeoutError(
        f"the devstack did not settle in {timeout_seconds}s: {json.dumps(state)}; running executions {running_executions()}"
    )
