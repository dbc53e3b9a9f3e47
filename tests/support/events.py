"""API Gateway REST v1 proxy events built from the JSON fixture ``tests/events/api_gateway_rest.json``."""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[1] / "events"


@cache
def _fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


def fixture(name: str) -> dict[str, Any]:
    return copy.deepcopy(_fixture(name))


def claims_for(
    user_id: str,
    email: str = "",
    groups: tuple[str, ...] = (),
    session_key: str | None = None,
    issued_at: float | None = None,
) -> dict[str, str]:
    """Claims as API Gateway's Cognito authorizer hands them to the function (strings)."""
    now = int(issued_at if issued_at is not None else time.time())
    claims = {
        "sub": user_id,
        "email": email,
        "token_use": "id",
        "iat": str(now),
        "exp": str(now + 3600),
        "origin_jti": session_key or str(uuid.uuid4()),
    }
    if groups:
        claims["cognito:groups"] = ",".join(groups)
    return claims


def api_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    body: Any = None,
    claims: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """A REST v1 event for ``method path``; ``resource`` (``/api/accounts/{account_id}``) gives path parameters."""
    event = fixture("api_gateway_rest.json")
    resource = resource or path
    names = re.findall(r"\{(\w+)\+?\}", resource)
    pattern = (
        "^"
        + re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(resource)))
        + "$"
    )
    match = re.match(pattern, path)
    if names and not match:
        raise ValueError(f"{path} does not match {resource}")
    all_headers = {**event["headers"], **(headers or {})}
    if body is not None or raw_body is not None:
        all_headers.setdefault("Content-Type", "application/json")
    event.update(
        resource=resource,
        path=path,
        httpMethod=method,
        headers=all_headers,
        multiValueHeaders={k: [v] for k, v in all_headers.items()},
        queryStringParameters=query or None,
        multiValueQueryStringParameters={k: [v] for k, v in (query or {}).items()} or None,
        pathParameters=match.groupdict() if names and match else None,
        body=raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
    )
    context = event["requestContext"]
    context.update(resourcePath=resource, httpMethod=method, path=f"/prod{path}", requestId=str(uuid.uuid4()))
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return event


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def header(response: dict[str, Any], name: str) -> str | None:
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return str(values[-1])
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None
