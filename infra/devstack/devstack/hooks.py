"""The hooks on moto 5.2.5's internals (pinned; each has a guard test in tests/integration/devstack):

1. Lambda dispatch: moto's docker-less Lambda backend runs our handlers (not its echo), so Step Functions tasks
   execute our code; an exception becomes ``FunctionError: Unhandled`` as on AWS.
2. Waits on the application clock: a Wait ends when the application clock passes its target. Every waiting
   execution blocks on one clock-changed condition, notified when the clock moves or an execution stops.
3. No retry sleep: Retry intervals return at once.
4. Fast transactions: moto's ``transact_write_items`` deep-copies the whole table per action and is not safe under
   concurrent requests. The hook serialises DynamoDB requests behind one lock, checks every condition before
   writing, snapshots only the touched items and restores them (and truncates the stream) on error.
5. Wake on write: a message added to a queue (sent, sent in a batch, delivered by a bus rule, moved to a DLQ) or a
   record added to a table's stream calls back with the queue's or the table's ARN, so idle pumps sleep until then.
6. Fast queries: moto's Query reads the whole table, sorted, to answer any query (``Table.all_items()``: 95 ms at
   20,000 items, so the stack slowed down as it filled). A query on the table reads its partition only, a query on
   an index the items unsorted (moto filters and sorts what matches itself); the answers are the same.
7. moto's per-request lookups remembered: its server lists its package folder (a ``stat`` per entry, under its
   dispatch lock) twice a request to tell a service name from a host name; each request lists its handler class's
   methods with ``inspect.getmembers``; every backend lookup searches the list of backends in use (an ``==`` call
   per backend, under a global lock); and an EventBridge input transformer builds a JSONPath parser per path and
   event. Each is now done once (the backend lookup only when the account is new); the answers are the same.
8. In-process transport: a request from this interpreter to moto's endpoint (our functions, the pumps, the seed)
   calls moto's server application directly, with the environ its HTTP server would build, instead of crossing a
   loopback socket and a thread per connection. The request and the answer are the same bytes; clients in other
   processes (tests, the bench, a developer's AWS CLI) still use the HTTP server.
9. Powertools' metrics take turns: Powertools keeps one metrics store per interpreter, shared by every
   ``Metrics()``. The stack's containers share this interpreter (real ones never meet), so their metric writes and
   flushes take turns: otherwise one container's flush empties the store between another's check and its
   serialisation, and that handler fails with "Must contain at least one metric".
"""

from __future__ import annotations

import copy
import json
import threading
import time as _time
import types
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

DYNAMODB_LOCK = threading.RLock()
CLOCK_CHANGED = threading.Condition()
_waiting: set[int] = set()
_installed: set[str] = set()

Handler = Callable[[dict[str, Any], Any], Any]


def waiting_executions() -> int:
    """How many executions are blocked in a Wait state right now."""
    with CLOCK_CHANGED:
        return len(_waiting)


def notify_clock_changed() -> None:
    """Wake every waiting execution. They count as busy until they block again, so ``settle()`` waits for them."""
    with CLOCK_CHANGED:
        _waiting.clear()
        CLOCK_CHANGED.notify_all()


def install_lambda_dispatch(handlers: Callable[[str], Handler | None], context_factory: Callable[[str], Any]) -> None:
    """Dispatch moto's simple-Lambda invokes to our handlers by function name (``handlers(name)``)."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        name = function_name.rsplit(":", 1)[-1] if function_name.startswith("arn:") else function_name
        handler = handlers(name)
        if handler is None:
            raise LookupError(f"no handler for Lambda function {name!r}")
        event = json.loads(body) if body else {}
        try:
            output = json.dumps(handler(event, context_factory(name))).encode()
        except Exception as error:  # the error shape real Lambda returns for an unhandled exception
            response_headers["x-amz-function-error"] = "Unhandled"
            output = json.dumps({"errorMessage": str(error), "errorType": type(error).__name__}).encode()
        response_headers["Content-Length"] = str(len(output))
        return output

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment]
    _installed.add("lambda_dispatch")


def install_clock_waits(now: Callable[[], datetime]) -> None:
    """Wait states end when ``now()`` (the application clock, aware UTC) passes their target."""
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp as timestamp_module
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
    from moto.stepfunctions.parser.backend import execution as execution_module

    def app_now_naive() -> datetime:
        return now().astimezone(UTC).replace(tzinfo=None)

    class AppDateTime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> AppDateTime:  # type: ignore[override]
            current = app_now_naive()
            return cls(*current.timetuple()[:6], current.microsecond)

    # The timestamp waits compute "target - datetime.datetime.now()": make that the application clock.
    timestamp_module.datetime = types.SimpleNamespace(datetime=AppDateTime, timezone=__import__("datetime").timezone)  # type: ignore[attr-defined]

    def eval_body(self: Any, env: Any) -> None:
        seconds = self._get_wait_seconds(env=env)
        target = app_now_naive() + timedelta(seconds=max(seconds, 0))
        key = id(env)
        with CLOCK_CHANGED:
            try:
                while env.is_running() and app_now_naive() < target:
                    _waiting.add(key)
                    CLOCK_CHANGED.wait()
            finally:
                _waiting.discard(key)

    WaitFunction._eval_body = eval_body  # type: ignore[method-assign]

    original_stop = execution_module.Execution.stop

    def stop(self: Any, stop_date: Any, error: Any, cause: Any) -> None:
        original_stop(self, stop_date, error, cause)
        notify_clock_changed()

    execution_module.Execution.stop = stop  # type: ignore[method-assign]
    _installed.add("clock_waits")


def install_no_retry_sleep() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    retrier_decl.time = types.SimpleNamespace(sleep=lambda _s: None, time=_time.time, monotonic=_time.monotonic)  # type: ignore[attr-defined]
    _installed.add("no_retry_sleep")


def install_fast_moto() -> None:
    """What every moto of the project runs with (the devstack, the integration tests, the bench): linearizable fast
    transactions (4.), queries that read their partition (6.) and per-request lookups done once (7.)."""
    install_fast_transactions()
    install_fast_queries()
    install_moto_lookups_once()


def install_fast_transactions() -> None:
    """O(touched items), linearizable DynamoDB transactions in moto (dev and tests only)."""
    if "fast_transactions" in _installed:
        return
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.responses import DynamoHandler

    original_call = DynamoHandler.call_action

    def call_action(self: Any) -> Any:  # one DynamoDB request at a time, like a linearizable store
        with DYNAMODB_LOCK:
            return original_call(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]

    def key_of(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
        if op_type != "Put":
            key: dict[str, Any] = op["Key"]
            return key
        table = backend.get_table(op["TableName"])
        found = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            found[table.range_key_attr] = op["Item"][table.range_key_attr]
        return found

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with DYNAMODB_LOCK:
            if len(transact_items) > 100:
                raise TooManyTransactionsException()
            seen: set[tuple[str, str]] = set()
            reasons: list[tuple[str | None, str | None, Any]] = []
            failed = False
            for item in transact_items:  # phase 1: every condition, no write
                if len(item) > 1:
                    raise TransactWriteSingleOpException
                op_type, op = next(iter(item.items()))
                key = key_of(self, op_type, op)
                unique = (op["TableName"], json.dumps(key, sort_keys=True))
                if unique in seen:
                    raise MultipleTransactionsException()
                seen.add(unique)
                condition = op.get("ConditionExpression")
                current = self.get_item(op["TableName"], key)
                if condition is not None and not get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                ).expr(current):
                    old = None
                    if current is not None and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                        old = current.to_json()["Attributes"]
                    reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
                    failed = True
                else:
                    reasons.append((None, None, None))
            if failed:
                raise TransactionCanceledException(reasons)
            snapshots = []  # phase 2: apply; restore the touched items on error
            for item in transact_items:
                op_type, op = next(iter(item.items()))
                if op_type == "ConditionCheck":
                    continue
                table = self.get_table(op["TableName"])
                key = key_of(self, op_type, op)
                stream_length = len(table.stream_shard.items) if table.stream_shard else None
                snapshots.append((table, key, copy.deepcopy(self.get_item(op["TableName"], key)), stream_length))
            try:
                for item in transact_items:
                    op_type, op = next(iter(item.items()))
                    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                    if op_type == "Put":
                        self.put_item(
                            op["TableName"],
                            op["Item"],
                            expression_attribute_names=names,
                            expression_attribute_values=values,
                        )
                    elif op_type == "Delete":
                        self.delete_item(op["TableName"], op["Key"])
                    elif op_type == "Update":
                        self.update_item(
                            op["TableName"],
                            op["Key"],
                            update_expression=op["UpdateExpression"],
                            expression_attribute_names=names,
                            expression_attribute_values=values,
                        )
            except Exception:
                for table, key, old, stream_length in reversed(snapshots):
                    hash_value = DynamoType(key[table.hash_key_attr])
                    if table.range_key_attr is not None:
                        bucket = table.items[hash_value]
                        slot = DynamoType(key[table.range_key_attr])
                    else:
                        bucket, slot = table.items, hash_value
                    if old is None:
                        bucket.pop(slot, None)
                    else:
                        bucket[slot] = old
                    if stream_length is not None:
                        del table.stream_shard.items[stream_length:]
                raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _installed.add("fast_transactions")


def install_write_wakeups(on_write: Callable[[str], None]) -> None:
    """``on_write(queue_arn)`` after a message is added to a queue, ``on_write(table_arn)`` after a stream record."""
    if "write_wakeups" in _installed:
        return
    from moto.dynamodb.models.table import StreamShard
    from moto.sqs.models import Queue

    original_add_message = Queue.add_message

    def add_message(self: Any, message: Any) -> None:
        original_add_message(self, message)
        on_write(self.queue_arn)

    Queue.add_message = add_message  # type: ignore[method-assign]

    original_add = StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        original_add(self, old, new)
        on_write(self.table.table_arn)

    StreamShard.add = add  # type: ignore[method-assign]
    _installed.add("write_wakeups")


def install_fast_queries() -> None:
    """Query candidates: the partition (table) or every item unsorted (index), not the whole table sorted."""
    if "fast_queries" in _installed:
        return
    import inspect

    from moto.dynamodb.models.table import Table

    candidates = threading.local()  # (table, items) while that table answers a query on this thread
    original_all_items = Table.all_items
    original_query = Table.query
    signature = inspect.signature(original_query)

    def all_items(self: Any) -> list[Any]:
        current = getattr(candidates, "current", None)
        if current is not None and current[0] is self:
            return list(current[1])
        return original_all_items(self)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        hash_key, conditions = arguments.get("hash_key"), arguments.get("hash_key_conditions")
        if arguments.get("index_name") and conditions:
            items = [
                item
                for partition in self.items.values()
                for item in (partition.values() if self.range_key_attr else (partition,))
                if all(_same_key(item.attrs.get(name), value) for name, value in conditions)
            ]
        elif not arguments.get("index_name") and hash_key is not None:
            partition = self.items.get(hash_key)
            items = [] if partition is None else list(partition.values()) if self.range_key_attr else [partition]
        else:
            return original_query(self, *args, **kwargs)
        candidates.current = (self, items)
        try:
            return original_query(self, *args, **kwargs)
        finally:
            candidates.current = None

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    _installed.add("fast_queries")


def _same_key(found: Any, wanted: Any) -> bool:
    """A key attribute equals the queried value (strings and binaries compared raw: moto's ``==`` casts both)."""
    if found is None:
        return False
    if wanted.type in ("S", "B"):
        return bool(found.type == wanted.type and found.value == wanted.value)
    return bool(found == wanted)


def install_moto_lookups_once() -> None:
    """moto's per-request lookups that never change answer from memory (see 7. above)."""
    if "moto_lookups_once" in _installed:
        return
    import functools

    import jsonpath_ng.ext
    from moto import backends
    from moto.core import responses
    from moto.core.base_backend import BackendDict

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)  # type: ignore[assignment]
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=512)(jsonpath_ng.ext.parse)  # type: ignore[attr-defined]
    original_create = BackendDict._create_account_specific_backend

    def create_account_specific_backend(self: Any, account_id: str) -> None:
        if not dict.__contains__(self, account_id):  # a known account's backend is registered already
            original_create(self, account_id)

    BackendDict._create_account_specific_backend = create_account_specific_backend  # type: ignore[method-assign]
    _installed.add("moto_lookups_once")


def install_in_process_transport(application: Callable[..., Any], endpoint: str) -> None:
    """botocore requests from this interpreter to ``endpoint`` are answered by ``application`` (moto's server
    application) without a socket. Installed as a built-in botocore handler, so sessions created afterwards carry it
    (boto3's and PynamoDB's alike)."""
    if "in_process_transport" in _installed:
        return
    from botocore import handlers

    handlers.BUILTIN_HANDLERS.append(("before-send", _InProcessTransport(application, endpoint)))
    _installed.add("in_process_transport")


class _InProcessTransport:
    def __init__(self, application: Callable[..., Any], endpoint: str) -> None:
        from urllib.parse import urlsplit

        self.application = application
        self.prefix = endpoint.rstrip("/") + "/"
        self.host, _, self.port = urlsplit(endpoint).netloc.partition(":")

    def __call__(self, request: Any, **_: Any) -> Any:
        if not (request.url + "/").startswith(self.prefix):
            return None
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse
        from werkzeug.test import run_wsgi_app

        environ = self.environ(request)
        try:
            chunks, status, headers = run_wsgi_app(self.application, environ, buffered=True)
            body = b"".join(chunks)
            status_code = int(status.split(" ", 1)[0])
        except Exception as error:  # what moto's HTTP server answers for an error it did not handle
            body, status_code, headers = f"Internal Server Error: {error!r}".encode(), 500, {}
        return AWSResponse(request.url, status_code, dict(headers.items()), MockRawResponse(body))

    def environ(self, request: Any) -> dict[str, Any]:
        """What werkzeug's HTTP server (moto's request handler) builds for this request."""
        import io
        import sys
        from urllib.parse import unquote, urlsplit

        from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY, should_preserve_original_header_name
        from werkzeug._internal import _wsgi_encoding_dance

        url = urlsplit(request.url)
        body = request.body
        if body is None:
            body = b""
        elif hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": _wsgi_encoding_dance(unquote(url.path)),
            "QUERY_STRING": _wsgi_encoding_dance(url.query),
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_NAME": self.host,
            "SERVER_PORT": self.port,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": url.netloc,
        }
        preserved: dict[str, str] = {}
        for name, raw in request.headers.items():
            value = (raw.decode() if isinstance(raw, bytes) else str(raw)).replace("\r\n", "")
            key = name.upper().replace("-", "_")
            if key == "TRANSFER_ENCODING":  # the body is read whole here, as the server's dechunking leaves it
                continue
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = f"HTTP_{key}"
            if "_" in name:
                if not should_preserve_original_header_name(name):
                    continue
                preserved.setdefault(key, name)
            environ[key] = f"{environ[key]},{value}" if key in environ and key != "HTTP_HOST" else value
        environ["CONTENT_LENGTH"] = str(len(body))
        environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved
        return environ


def install_metrics_take_turns() -> None:
    """Powertools' metric writes and flushes one at a time in this interpreter (see 9. above)."""
    if "metrics_take_turns" in _installed:
        return
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    turn = threading.RLock()
    for name in ("add_metric", "add_dimension", "add_metadata", "flush_metrics"):
        original = getattr(AmazonCloudWatchEMFProvider, name)

        def in_turn(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with turn:
                return _original(*args, **kwargs)

        setattr(AmazonCloudWatchEMFProvider, name, in_turn)
    _installed.add("metrics_take_turns")


def installed() -> frozenset[str]:
    return frozenset(_installed)
