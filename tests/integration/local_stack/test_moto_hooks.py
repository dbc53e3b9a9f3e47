"""Guards of the moto hooks (moto is pinned; these fail first if its internals move)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import boto3
import pytest

from balcao.domain.calendar import format_timestamp
from devstack import hooks, pumps


def wait_for_status(client, arn: str, statuses: set[str], seconds: float = 10.0) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        described = client.describe_execution(executionArn=arn)
        if described["status"] in statuses:
            return described
        time.sleep(0.01)
    raise AssertionError(f"execution still {described['status']}")


def wait_until_blocked(count: int, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while hooks.waiting_executions() < count:
        assert time.monotonic() < deadline, "the execution never reached its Wait"
        time.sleep(0.01)


def test_installed():
    assert hooks.installed() >= {
        "lambda_dispatch",
        "clock_waits",
        "no_retry_sleep",
        "fast_transactions",
        "write_wakeups",
        "fast_queries",
        "moto_lookups_once",
    }


def test_a_lambda_task_runs_our_handler_and_a_3_day_wait_ends_when_the_clock_moves(aws, clock):
    # Given the self-check state machine, waiting 3 days after its first task
    sfn = boto3.client("stepfunctions")
    arn = aws.ref("SelfCheckStateMachine")
    wait_until = format_timestamp(clock.now() + timedelta(days=3))
    execution = sfn.start_execution(
        stateMachineArn=arn, name="self-check-1", input=json.dumps({"wait_until": wait_until})
    )
    # When it reaches the Wait
    wait_until_blocked(1)
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING"
    # Then moving the clock 2 days does not end it, 3 days does
    clock.advance(days=2)
    hooks.notify_clock_changed()
    time.sleep(0.05)
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING"
    clock.advance(days=1, seconds=1)
    hooks.notify_clock_changed()
    described = wait_for_status(sfn, execution["executionArn"], {"SUCCEEDED", "FAILED"})
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["before"] == {"checked": True, "handler": "health.self_check"}
    assert output["after"] == {"checked": True, "handler": "health.self_check"}


def test_a_stopped_execution_leaves_its_wait_at_once(aws, clock):
    sfn = boto3.client("stepfunctions")
    far = format_timestamp(clock.now() + timedelta(days=365))
    execution = sfn.start_execution(
        stateMachineArn=aws.ref("SelfCheckStateMachine"), name="self-check-stop", input=json.dumps({"wait_until": far})
    )
    wait_until_blocked(1)
    sfn.stop_execution(executionArn=execution["executionArn"])
    assert wait_for_status(sfn, execution["executionArn"], {"ABORTED"}, 5)["status"] == "ABORTED"
    deadline = time.monotonic() + 5
    while hooks.waiting_executions():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_retries_do_not_sleep(aws):
    # Given a task that always fails, retried 3 times 60 s apart with backoff
    sfn = boto3.client("stepfunctions")
    definition = {
        "StartAt": "Fail",
        "States": {
            "Fail": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "NoSuchHandlerAnywhere", "Payload": {}},
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 60, "MaxAttempts": 3, "BackoffRate": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    role = "arn:aws:iam::123456789012:role/balcao-local-states"
    machine = sfn.create_state_machine(name="retry-guard", definition=json.dumps(definition), roleArn=role)
    started = time.monotonic()
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="retry-guard-1", input="{}")
    # Then it ends in its Catch in well under one retry interval
    assert wait_for_status(sfn, execution["executionArn"], {"SUCCEEDED", "FAILED"})["status"] == "SUCCEEDED"
    assert time.monotonic() - started < 5


def _fill(table: str, count: int) -> None:
    client = boto3.client("dynamodb")
    for start in range(0, count, 25):
        client.batch_write_item(
            RequestItems={
                table: [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": f"FILL#{i % 97}"},
                                "sk": {"S": f"ITEM#{i:06d}"},
                                "entity": {"S": "Fill"},
                            }
                        }
                    }
                    for i in range(start, min(start + 25, count))
                ]
            }
        )


@pytest.mark.slow
def test_a_4_action_transaction_takes_under_10_ms_on_a_20000_item_table(aws):
    table = aws.ref("BalcaoTable")
    _fill(table, 20_000)
    client = boto3.client("dynamodb")
    timings = []
    for n in range(7):
        items = [
            {
                "Put": {
                    "TableName": table,
                    "Item": {"pk": {"S": f"TX#{n}"}, "sk": {"S": f"A{i}"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for i in range(3)
        ] + [
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": "FILL#1"}, "sk": {"S": "ITEM#000001"}},
                    "UpdateExpression": "SET n = :n",
                    "ExpressionAttributeValues": {":n": {"N": str(n)}},
                }
            }
        ]
        started = time.perf_counter()
        client.transact_write_items(TransactItems=items)
        timings.append(time.perf_counter() - started)
    timings.sort()
    assert timings[len(timings) // 2] < 0.010, timings


def test_a_failed_transaction_writes_nothing(aws):
    table = aws.ref("BalcaoTable")
    client = boto3.client("dynamodb")
    client.put_item(TableName=table, Item={"pk": {"S": "GUARD"}, "sk": {"S": "X"}})
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "NEW"}, "sk": {"S": "Y"}}}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": "GUARD"}, "sk": {"S": "X"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "NEW"}, "sk": {"S": "Y"}})


def test_8_threads_issue_200_gapless_numbers(aws):
    """Claim-next-number transactions from 8 threads: numbers 1..200, no gap, no duplicate."""
    table = aws.ref("BalcaoTable")
    issued: list[int] = []
    lock = threading.Lock()

    def claim() -> int:
        client = boto3.client("dynamodb")
        while True:
            current = client.get_item(
                TableName=table, Key={"pk": {"S": "SEQUENCE#T"}, "sk": {"S": "SEQUENCE"}}, ConsistentRead=True
            ).get("Item")
            last = int(current["last"]["N"]) if current else 0
            condition = "#last = :last" if current else "attribute_not_exists(pk)"
            values = {":next": {"N": str(last + 1)}} | ({":last": {"N": str(last)}} if current else {})
            try:
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": table,
                                "Key": {"pk": {"S": "SEQUENCE#T"}, "sk": {"S": "SEQUENCE"}},
                                "UpdateExpression": "SET #last = :next",
                                "ConditionExpression": condition,
                                "ExpressionAttributeNames": {"#last": "last"},
                                "ExpressionAttributeValues": values,
                            }
                        },
                        {
                            "Put": {
                                "TableName": table,
                                "Item": {"pk": {"S": f"INVNUM#T#{last + 1:09d}"}, "sk": {"S": "LOOKUP"}},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
                return last + 1
            except client.exceptions.TransactionCanceledException:
                continue

    def worker() -> None:
        for _ in range(25):
            number = claim()
            with lock:
                issued.append(number)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(issued) == list(range(1, 201))


class Delivered:
    """A pump's invoke that records what it was handed."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.arrived = threading.Event()

    def __call__(self, function: str, event: dict) -> dict:
        self.events.append(event)
        self.arrived.set()
        return {"batchItemFailures": []}


def idle(pump: pumps.Pump) -> None:
    deadline = time.monotonic() + 5
    while pump.empty_polls < 1:
        assert time.monotonic() < deadline, "the pump never polled"
        time.sleep(0.01)


@pytest.fixture
def unwoken_pumps_sleep_a_minute(monkeypatch):
    """Idle pumps that only a write (or settle) wakes within a test's time."""
    monkeypatch.setattr(pumps, "IDLE_WAKE_SECONDS", 60.0)


def notifications_pump(aws, delivered: Delivered) -> pumps.QueuePump:
    return pumps.QueuePump(
        aws.attribute("NotificationsQueue", "Arn"), aws.ref("NotificationsQueue"), "Notifications", delivered, 10, True
    )


@contextmanager
def running_idle(pump: pumps.Pump) -> Iterator[pumps.Pump]:
    """The pump started and idle (it polled and found nothing); stopped afterwards."""
    pump.start()
    try:
        idle(pump)
        yield pump
    finally:
        pump.stop()
        pump.join(5)


def test_a_message_sent_to_a_queue_wakes_its_idle_pump(aws, unwoken_pumps_sleep_a_minute):
    # Given the notifications queue's pump, idle
    delivered = Delivered()
    with running_idle(notifications_pump(aws, delivered)):
        # When a message is sent to its queue
        boto3.client("sqs").send_message(QueueUrl=aws.ref("NotificationsQueue"), MessageBody='{"hello": "pump"}')
        # Then the pump delivers it at once, not a minute later
        assert delivered.arrived.wait(5)
        assert [r["body"] for r in delivered.events[0]["Records"]] == ['{"hello": "pump"}']


def test_a_write_to_the_table_wakes_its_idle_stream_pump(aws, unwoken_pumps_sleep_a_minute):
    # Given a pump on the table's stream that has read everything there is, idle
    delivered = Delivered()
    with running_idle(pumps.StreamPump(aws.attribute("BalcaoTable", "StreamArn"), "Outbox", delivered, 100, [], True)):
        delivered.arrived.clear()
        delivered.events.clear()
        # When an item is written
        boto3.client("dynamodb").put_item(
            TableName=aws.ref("BalcaoTable"), Item={"pk": {"S": "WAKE"}, "sk": {"S": "UP"}}
        )
        # Then the pump hands its stream record over at once
        assert delivered.arrived.wait(5)
        assert delivered.events[-1]["Records"][-1]["dynamodb"]["Keys"] == {"pk": {"S": "WAKE"}, "sk": {"S": "UP"}}


def test_settle_returns_at_once_on_idle_pumps_and_waits_for_what_was_just_written(aws, unwoken_pumps_sleep_a_minute):
    # Given an idle pump that only a write wakes
    delivered = Delivered()
    with running_idle(notifications_pump(aws, delivered)) as pump:
        # When the stack settles with nothing to do, Then it returns at once (no pump is made to poll)
        started, polls = time.monotonic(), pump.empty_polls
        pumps.settle([pump], timeout_seconds=5)
        assert time.monotonic() - started < 1 and pump.empty_polls == polls
        # And when a message was just sent, settling returns only after the pump handed it over
        boto3.client("sqs").send_message(QueueUrl=aws.ref("NotificationsQueue"), MessageBody='{"settle": "me"}')
        pumps.settle([pump], timeout_seconds=5)
        assert [r["body"] for e in delivered.events for r in e["Records"]] == ['{"settle": "me"}']


def _put(table: str, pk: str, sk: str, **extra: str) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": sk}} | {name: {"S": value} for name, value in extra.items()}
    boto3.client("dynamodb").put_item(TableName=table, Item=item)


def _pages(**query: object) -> list[list[str]]:
    client = boto3.client("dynamodb")
    pages, start = [], None
    while True:
        answer = client.query(**query, **({"ExclusiveStartKey": start} if start else {}))
        pages.append([item["sk"]["S"] for item in answer["Items"]])
        start = answer.get("LastEvaluatedKey")
        if not start:
            return pages


def test_queries_answer_as_dynamodb_does_on_the_table_and_its_indexes(aws):
    # Given items in two partitions, some of them in an index partition across both
    table = aws.ref("BalcaoTable")
    for sk in ("B#2", "A#1", "B#1", "B#3"):
        _put(table, "Q#1", sk, gsi1pk="G#1", gsi1sk=sk[::-1])
    _put(table, "Q#2", "B#0", gsi1pk="G#1", gsi1sk="0")
    _put(table, "Q#2", "B#9", gsi1pk="G#2", gsi1sk="9")
    # Then a table query reads its partition in key order, backwards, a page at a time
    assert _pages(
        TableName=table,
        KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
        ExpressionAttributeValues={":p": {"S": "Q#1"}, ":s": {"S": "B#"}},
        ScanIndexForward=False,
        Limit=2,
    ) == [["B#3", "B#2"], ["B#1"]]
    assert _pages(
        TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "Q#3"}}
    ) == [[]]
    # And an index query finds its items in both partitions, in the index's order, a page at a time
    assert _pages(
        TableName=table,
        IndexName="GSI1",
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": {"S": "G#1"}},
        Limit=3,
    ) == [["B#0", "A#1", "B#1"], ["B#2", "B#3"]]
    # And a table keyed by a hash key only answers too
    idempotency = aws.ref("IdempotencyTable")
    boto3.client("dynamodb").put_item(TableName=idempotency, Item={"id": {"S": "K1"}, "data": {"S": "x"}})
    answer = boto3.client("dynamodb").query(
        TableName=idempotency, KeyConditionExpression="id = :k", ExpressionAttributeValues={":k": {"S": "K1"}}
    )
    assert [item["data"]["S"] for item in answer["Items"]] == ["x"]


@pytest.mark.slow
def test_a_table_query_takes_under_10_ms_on_a_20000_item_table(aws):
    table = aws.ref("BalcaoTable")
    _fill(table, 20_000)
    _put(table, "Q#1", "A#1")
    client = boto3.client("dynamodb")
    timings = []
    for _ in range(7):
        started = time.perf_counter()
        client.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "Q#1"}})
        timings.append(time.perf_counter() - started)
    timings.sort()
    assert timings[len(timings) // 2] < 0.010, timings


def test_in_process_transport_answers_from_motos_server_application_without_a_socket():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from devstack.stack import free_port

    # Given moto's server application, and an endpoint where nothing listens
    endpoint = f"http://127.0.0.1:{free_port()}"
    hooks.install_in_process_transport(DomainDispatcherApplication(create_backend_app), endpoint)
    session = boto3.session.Session(region_name="eu-west-1")
    dynamodb, s3 = session.client("dynamodb", endpoint_url=endpoint), session.client("s3", endpoint_url=endpoint)
    # When clients of this interpreter call it: JSON (DynamoDB), REST with metadata and a non-ASCII key (S3)
    dynamodb.create_table(
        TableName="transport-guard",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="transport-guard", Item={"pk": {"S": "a"}, "n": {"N": "7"}})
    s3.create_bucket(Bucket="transport-guard", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="transport-guard", Key="anexos/relatório final.pdf", Body=b"%PDF", Metadata={"file_name": "x"})
    try:
        # Then they are answered as over HTTP, errors included
        assert dynamodb.get_item(TableName="transport-guard", Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "7"}
        got = s3.get_object(Bucket="transport-guard", Key="anexos/relatório final.pdf")
        assert got["Body"].read() == b"%PDF" and got["Metadata"] == {"file_name": "x"}
        with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
            dynamodb.get_item(TableName="no-such-table", Key={"pk": {"S": "a"}})
        assert "in_process_transport" in hooks.installed()
    finally:
        dynamodb.delete_table(TableName="transport-guard")
        s3.delete_object(Bucket="transport-guard", Key="anexos/relatório final.pdf")
        s3.delete_bucket(Bucket="transport-guard")
