"""One OpenAPI 3 document for every function's routes, generated from their Powertools resolvers.

Each operation gets the error responses its access implies (``x-balcao-access``): 401/404 for signed-in routes,
401/403/404 for account routes (an account may require 2FA) and staff routes, 404 for any other path naming something, 401 for the access routes,
409 for every write (a concurrent change cancels a transaction), 422 wherever input is validated, 429 on
rate-limited public routes, all in the one error shape of API.md. 204s and redirects document no body. ``make openapi`` writes ``functions/health/openapi.json``; a test fails when the
committed document drifts from the code.
"""

from __future__ import annotations

import difflib
import json
import sys
from typing import Any

from devstack.template import ROOT, functions, load_function_module

DOCUMENT = ROOT / "functions" / "health" / "openapi.json"
HTML_FUNCTIONS = {"PortalFunction"}  # pages, not the JSON API
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "enum": [
                        "validation_error",
                        "invalid_credentials",
                        "unauthorized",
                        "forbidden",
                        "mfa_required",
                        "not_found",
                        "conflict",
                        "rate_limited",
                        "internal_error",
                        "provider_unavailable",
                    ],
                },
                "message": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "code", "message"],
                        "properties": {
                            "field": {"type": "string"},
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}
ERROR_DESCRIPTIONS = {
    400: "The request body could not be parsed.",
    401: "Missing, invalid, expired or revoked credentials.",
    403: "Signed in, but not allowed (staff routes, or two-factor authentication required).",
    404: "Not found, or not yours: another account's resources answer 404 too.",
    409: "Conflicts with the current state, or an Idempotency-Key reused with another body.",
    422: "Invalid input; `fields` names each problem.",
    429: "Too many attempts; retry after the `Retry-After` seconds.",
    503: "A provider is not configured or unavailable.",
}
METHODS = ("get", "put", "post", "delete", "patch")
MUTATING = ("put", "post", "delete", "patch")
# What Powertools documents for a handler returning ``Response[str]``: a JSON string, which no route answers.
UNTYPED_BODY = {"title": "Return", "type": "string"}


def _fix_success_bodies(responses: dict[str, Any]) -> None:
    """204 and redirects have no body; an untyped JSON body (a route returning ``Response[str]`` without declaring
    its model) is an object, not the string Powertools infers."""
    for status, response in responses.items():
        if status == "204" or status.startswith("3"):
            response.pop("content", None)
            continue
        schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
        if schema == UNTYPED_BODY:
            response["content"]["application/json"]["schema"] = {"type": "object"}


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _errors_for(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    access = operation.get("x-balcao-access")
    statuses: list[int] = []
    if access == "self":
        statuses += [401, 404]
    elif access == "account":
        statuses += [401, 403, 404]  # 403 mfa_required: the account requires 2FA and the session did not pass it
    elif access == "staff":
        statuses += [401, 403, 404]  # a staff route names a resource (in its path or body) that may not exist
    elif "{" in path:
        statuses.append(404)  # an unknown id or name in the path
    if access == "public" and path.startswith("/api/auth/"):
        statuses.append(401)  # bad credentials, codes or tokens (API.md)
    if method in MUTATING:
        statuses.append(409)  # any write may lose a race with a concurrent change (a cancelled transaction)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    for status in operation.get("x-balcao-errors", []):
        if status not in statuses:
            statuses.append(int(status))
    return sorted(statuses)


def build_document() -> dict[str, Any]:
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Balcão API",
            "version": "1.0.0",
            "description": "Client area and billing back office. Errors share one shape; amounts are integer "
            "minor units with a currency; ids are ULIDs. Authenticate with `Authorization: Bearer <id_token>`.",
        },
        "paths": {},
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"cognito": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
    for logical_id, definition in sorted(functions().items()):
        if logical_id in HTML_FUNCTIONS:
            continue
        app = getattr(load_function_module(definition.folder), "app", None)
        if app is None or not hasattr(app, "get_openapi_schema"):
            continue
        schema = app.get_openapi_schema(title="Balcão API").model_dump(by_alias=True, exclude_none=True, mode="json")
        for path, item in schema.get("paths", {}).items():
            target = document["paths"].setdefault(path, {})
            for method, operation in item.items():
                if method in target:
                    raise ValueError(f"{method.upper()} {path} is declared by two functions")
                target[method] = operation
        for name, component in (schema.get("components") or {}).get("schemas", {}).items():
            if name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
                continue
            existing = document["components"]["schemas"].get(name)
            if existing is not None and existing != component:
                raise ValueError(f"two functions define different schemas named {name}")
            document["components"]["schemas"][name] = component
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            _fix_success_bodies(responses)
            for status in _errors_for(method, path, operation):
                responses[str(status)] = _error_response(status)
            if operation.get("x-balcao-access") != "public":
                operation["security"] = [{"cognito": []}]
    return json.loads(json.dumps(document, sort_keys=True))  # type: ignore[no-any-return]


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check_or_write(check: bool) -> int:
    generated = render(build_document())
    if check:
        current = DOCUMENT.read_text() if DOCUMENT.exists() else ""
        if current != generated:
            diff = difflib.unified_diff(
                current.splitlines(), generated.splitlines(), "committed", "generated", lineterm=""
            )
            print("functions/health/openapi.json is out of date; run 'make openapi'.", file=sys.stderr)
            print("\n".join(list(diff)[:80]), file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(generated)
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0
