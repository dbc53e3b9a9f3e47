"""The resolver factory: one place where errors become HTTP answers, and where mutating requests are audited.

Every JSON API function builds its resolver with ``rest_resolver()``. It maps:
- ``BalcaoError`` subclasses → their code's status (``STATUS_BY_CODE``), message translated to the caller's language;
- request-validation errors → 422 ``validation_error`` with ``fields``;
- unknown routes → 404 ``not_found``; anything unexpected → 500 ``internal_error`` (logged, never leaked).
After a successful POST/PUT/PATCH/DELETE by a signed-in caller it records an audit entry (actor, account, action,
target, time, source IP, request id) through the ``AuditLog`` port.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from balcao.domain.errors import (
    FIELD_MESSAGES,
    BalcaoError,
    FieldProblem,
    InvalidInputError,
    RateLimitedError,
    problems_from_validation,
)
from balcao.runtime.observability import logger
from balcao.web.i18n import gettext, negotiate

STATUS_BY_CODE: dict[str, int] = {
    "bad_request": 400,  # an unparseable webhook body (the only 400 of API.md)
    "validation_error": 422,
    "invalid_credentials": 401,
    "unauthorized": 401,
    "forbidden": 403,
    "mfa_required": 403,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
    "internal_error": 500,
    "provider_unavailable": 503,
}

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

AuditRecorder = Callable[[APIGatewayRestResolver, Response[Any]], None]


def caller_language(app: APIGatewayRestResolver) -> str:
    """The caller's language: their stored preference (set by the principal loader), then Accept-Language."""
    preferred = app.context.get("language")
    if isinstance(preferred, str):
        return preferred
    headers = app.current_event.headers or {}
    accept = next((v for k, v in headers.items() if k.lower() == "accept-language"), None)
    return negotiate(accept)


def error_response(
    code: str, message: str, fields: list[FieldProblem] | None = None, headers: dict[str, str] | None = None
) -> Response[str]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        error["fields"] = [{"field": f.field, "code": f.code, "message": f.message} for f in fields]
    return Response(
        status_code=STATUS_BY_CODE[code],
        content_type="application/json",
        body=json.dumps({"error": error}, ensure_ascii=False),
        headers=headers,
    )


NOT_JSON: dict[str, object] = {"type": "json_invalid", "loc": ("body",)}


def _internal_error(app: APIGatewayRestResolver) -> Response[str]:
    """Anything unexpected: logged with its traceback, answered 500 without details."""
    logger.exception("unexpected error")
    return error_response("internal_error", gettext(caller_language(app), BalcaoError.default_message))


def _nests_too_deep(body: str | None) -> bool:
    try:
        json.loads(body or "null")
    except RecursionError:
        return True
    except ValueError:
        return False
    return False


def _unencodable(value: Any, path: str = "") -> str | None:
    """The path of the first string holding a lone UTF-16 surrogate (valid JSON, ``"\\ud800"``, but no UTF-8 text)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "body"
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _unencodable(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def refuse_unencodable_text(resolver: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Refuse, before the handler runs, a JSON body whose text cannot be stored or sent (lone surrogates) — instead
    of failing half-way through a write."""
    body = resolver.current_event.decoded_body
    if body and "\\u" in body:  # only an escape can smuggle a lone surrogate into valid JSON
        try:
            field = _unencodable(json.loads(body))
        except (ValueError, RecursionError):
            field = None  # not JSON: request validation has answered already
        if field is not None:
            raise InvalidInputError([FieldProblem(field, "invalid", FIELD_MESSAGES["invalid"])])
    return next_middleware(resolver)


def rest_resolver(audit: AuditRecorder | None = None) -> APIGatewayRestResolver:
    """A Powertools REST resolver with validation, the error map of API.md and (optionally) auditing."""
    app = APIGatewayRestResolver(enable_validation=True)

    def answer(error: BalcaoError) -> Response[str]:
        language = caller_language(app)
        logger.info("request refused", extra={"error_code": error.code, "error": type(error).__name__})
        headers = None
        if isinstance(error, RateLimitedError):
            headers = {"Retry-After": str(error.retry_after_seconds)}
        fields = None
        if isinstance(error, InvalidInputError):
            fields = [FieldProblem(f.field, f.code, gettext(language, f.message)) for f in error.fields]
        return error_response(error.code, gettext(language, error.message), fields, headers)

    @app.exception_handler(BalcaoError)
    def handle_balcao_error(error: BalcaoError) -> Response[str]:
        return answer(error)

    @app.exception_handler(RequestValidationError)
    def handle_validation_error(error: RequestValidationError) -> Response[str]:
        return answer(InvalidInputError(problems_from_validation(list(error.errors()))))

    @app.exception_handler(RequestUnsupportedContentType)
    def handle_unsupported_content_type(_: RequestUnsupportedContentType) -> Response[str]:
        # A body in another format (XML, text…): the answer of a body that is not valid JSON.
        return answer(InvalidInputError(problems_from_validation([NOT_JSON])))

    @app.exception_handler(RecursionError)
    def handle_recursion(_: RecursionError) -> Response[str]:
        # The JSON parser gives up on a body nested deeper than the recursion limit: invalid input, not a crash.
        too_deep = _nests_too_deep(app.current_event.decoded_body)
        return answer(InvalidInputError(problems_from_validation([NOT_JSON]))) if too_deep else _internal_error(app)

    @app.not_found
    def handle_not_found(_: Exception) -> Response[str]:
        return error_response("not_found", gettext(caller_language(app), "Not found."))

    @app.exception_handler(Exception)
    def handle_unexpected(error: Exception) -> Response[str]:
        return _internal_error(app)

    app.use(middlewares=[refuse_unencodable_text])
    if audit is not None:
        recorder = audit

        def audit_mutations(resolver: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
            response = next_middleware(resolver)
            if resolver.current_event.http_method in MUTATING_METHODS and response.status_code < 400:
                try:
                    recorder(resolver, response)
                except Exception:  # the change is committed; a lost audit line is logged, never a failed request
                    logger.exception("audit entry not recorded")
            return response

        app.use(middlewares=[audit_mutations])
    return app
