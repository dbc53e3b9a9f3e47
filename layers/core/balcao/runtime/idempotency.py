"""``Idempotency-Key`` on money routes (API.md "Idempotency").

A key is scoped to (caller, route, path ids) and lives 24 hours:
- the same key with the same body → the first answer again, with its status (and ``Idempotent-Replayed: true``);
- the same key with another body → 409 ``conflict``;
- a retry while the first request still runs → 409 ``conflict``.
Only answers below 400 are remembered: a refused request wrote nothing, so repeating it runs it again (as Stripe does
for requests that fail validation). The record is a conditional put in the idempotency table before the work
starts; a request that raises releases its key. Business effects keep their own guards (natural-key conditional
writes): this layer makes retries of a whole request safe and cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import BaseModel

from balcao.adapters.dynamodb.idempotency import IN_PROGRESS, DynamoIdempotencyRecords
from balcao.domain.errors import N_, ConflictError, FieldProblem, InvalidInputError
from balcao.runtime.access import current_principal
from balcao.runtime.settings import load_settings

HEADER = "Idempotency-Key"
LIFETIME_SECONDS = 24 * 3600
IN_PROGRESS_SECONDS = 60  # without a Lambda context: how long a running request holds its key
MAX_KEY_LENGTH = 255
JSON = "application/json"


class IdempotencyKeyRequiredError(InvalidInputError):
    def __init__(self) -> None:
        message = N_("This request needs an Idempotency-Key header.")
        super().__init__([FieldProblem(field=HEADER, code="required", message=message)], message)


class IdempotencyKeyInvalidError(InvalidInputError):
    def __init__(self) -> None:
        message = N_("An Idempotency-Key has 1 to 255 visible characters.")
        super().__init__([FieldProblem(field=HEADER, code="invalid", message=message)], message)


class IdempotencyKeyReusedError(ConflictError):
    default_message = N_("This Idempotency-Key was used with another request body.")


class IdempotentRequestInProgressError(ConflictError):
    default_message = N_("A request with this Idempotency-Key is still being handled. Try again shortly.")


_records: DynamoIdempotencyRecords | None = None


def records() -> DynamoIdempotencyRecords:
    global _records
    if _records is None:
        _records = DynamoIdempotencyRecords(load_settings().idempotency_table_name)
    return _records


def _header(app: APIGatewayRestResolver) -> str | None:
    headers = app.current_event.headers or {}
    return next((v for k, v in headers.items() if k.lower() == HEADER.lower()), None)


def _fingerprint(body: str | None) -> str:
    """The body's hash, insensitive to JSON spacing and key order."""
    text = body or ""
    with contextlib.suppress(ValueError):  # not JSON: the raw text
        text = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _scope(app: APIGatewayRestResolver, key: str) -> str:
    event = app.current_event
    route = app.context.get("_route")
    rule = getattr(route, "openapi_path", None) or event.resource or event.path
    path_ids = json.dumps(event.path_parameters or {}, sort_keys=True)
    caller = current_principal(app).user_id
    return hashlib.sha256(f"{caller}\n{event.http_method} {rule}\n{path_ids}\n{key}".encode()).hexdigest()


def _in_progress_seconds(app: APIGatewayRestResolver) -> int:
    context = getattr(app, "lambda_context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        milliseconds = remaining()
        if isinstance(milliseconds, int) and milliseconds > 0:
            return max(1, milliseconds // 1000 + 1)
    return IN_PROGRESS_SECONDS


def json_response(status_code: int, model: BaseModel) -> Response[str]:
    return Response(status_code, JSON, model.model_dump_json())


def once(app: APIGatewayRestResolver, work: Callable[[], Response[Any]], *, required: bool = False) -> Response[Any]:
    """Run ``work`` once per Idempotency-Key (see the module's rules); without a key it just runs (unless required)."""
    key = _header(app)
    if key is None:
        if required:
            raise IdempotencyKeyRequiredError()
        return work()
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable() or key.strip() != key:
        raise IdempotencyKeyInvalidError()
    record_id = _scope(app, key)
    fingerprint = _fingerprint(app.current_event.body)
    now = int(time.time())  # wall time: the key's life is not business time
    existing = records().claim(record_id, fingerprint, now, now + LIFETIME_SECONDS, now + _in_progress_seconds(app))
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReusedError()
        if existing.status == IN_PROGRESS or existing.status_code is None:
            raise IdempotentRequestInProgressError()
        return Response(
            existing.status_code,
            existing.content_type or JSON,
            existing.body or "",
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        response = work()
    except BaseException:
        records().release(record_id)
        raise
    body = response.body if isinstance(response.body, str) else ""
    if response.status_code < 400 and isinstance(response.body, str | None):
        content_type = response.content_type or JSON
        records().complete(record_id, response.status_code, body, content_type)
    else:
        records().release(record_id)
    return response
