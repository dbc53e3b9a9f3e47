"""A local API Gateway (REST v1, Lambda proxy) built from template.yaml's ``Api`` events.

It serves every route of every function as a real REST v1 proxy event, emulates the Cognito authorizer against
moto's JWKS (RS256, issuer, audience, ``token_use``, expiry), renders the template's ``GatewayResponses`` for what
the gateway itself answers (no or bad token → 401, unknown route → 404, a crashed function → 502), honours
``BinaryMediaTypes`` and the 10 MB payload limit, and gives the ``/_dev`` routes to the devstack (a failing one
answers 500, or 504 when ``settle()`` gave up, with the error's message).
"""

from __future__ import annotations

import base64
import json
import re
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from devstack import template

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
STAGE = "local"

TokenVerifier = Callable[[str], dict[str, Any]]
DevRoute = Callable[[Request], Response]
Invoker = Callable[[str, dict[str, Any]], dict[str, Any]]


class LambdaContext:
    """The fields of Lambda's context object that Powertools and our handlers read."""

    def __init__(self, function_name: str, timeout_seconds: int = 900) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def werkzeug_rule(path: str) -> str:
    """``/api/accounts/{account_id}`` → ``/api/accounts/<account_id>``; ``{proxy+}`` → ``<path:proxy>``."""
    path = re.sub(r"\{(\w+)\+\}", r"<path:\1>", path)
    return re.sub(r"\{(\w+)\}", r"<\1>", path)


def stringify_claims(claims: dict[str, Any]) -> dict[str, str]:
    """API Gateway hands claims to the function as strings; lists become comma-separated."""
    result: dict[str, str] = {}
    for key, value in claims.items():
        if isinstance(value, list):
            result[key] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            result[key] = "true" if value else "false"
        else:
            result[key] = str(value)
    return result


class Gateway:
    def __init__(self, invoke: Invoker, verify_token: TokenVerifier) -> None:
        self._invoke = invoke
        self._verify_token = verify_token
        self._dev_routes: dict[str, tuple[Rule, DevRoute]] = {}
        self._dev_map = Map([], strict_slashes=False)
        self._binary = template.binary_media_types()
        self._responses = template.gateway_responses()
        rules = []
        for route in template.api_routes():
            methods = None if route.method == "ANY" else [route.method]
            rules.append(Rule(werkzeug_rule(route.path), endpoint=route, methods=methods))
        self._map = Map(rules, strict_slashes=False, merge_slashes=False)

    def add_dev_route(self, rule: str, handler: DevRoute, methods: list[str]) -> None:
        endpoint = f"dev:{rule}:{','.join(methods)}"
        self._dev_routes[endpoint] = (Rule(rule, endpoint=endpoint, methods=methods), handler)
        self._dev_map.add(self._dev_routes[endpoint][0])

    def gateway_response(self, kind: str, default_status: int) -> Response:
        spec = (
            self._responses.get(kind)
            or self._responses.get("DEFAULT_5XX" if default_status >= 500 else "DEFAULT_4XX")
            or {}
        )
        status = int(spec.get("StatusCode", default_status)) if kind in self._responses else default_status
        body = (spec.get("ResponseTemplates") or {}).get("application/json", '{"message": "error"}')
        return Response(body, status=status, content_type="application/json")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Exception as error:
            # Every failure gets an answer: werkzeug takes a TimeoutError or ConnectionError raised by the
            # application for a client that went away, answers nothing and keeps the connection open, so the
            # caller would wait until its own timeout (a settle() that timed out in a dev route did exactly that).
            traceback.print_exc()
            response = json_response(
                {"error": {"code": "internal_error", "message": f"{type(error).__name__}: {error}"}},
                504 if isinstance(error, TimeoutError) else 500,
            )
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith("/_dev/"):
            try:
                endpoint, arguments = self._dev_map.bind_to_environ(request.environ).match()
            except HTTPException:
                return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", 404)
            request.view_args = arguments  # type: ignore[attr-defined]
            return self._dev_routes[endpoint][1](request)
        try:
            route, arguments = self._map.bind_to_environ(request.environ).match()
        except (NotFound, MethodNotAllowed):
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", 404)
        if (request.content_length or 0) > MAX_PAYLOAD_BYTES:
            return self.gateway_response("REQUEST_TOO_LARGE", 413)
        claims = None
        if route.authorized:
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else header.strip()
            try:
                claims = stringify_claims(self._verify_token(token))
            except Exception:
                return self.gateway_response("UNAUTHORIZED", 401)
        event = self.build_event(request, route, arguments, claims)
        try:
            result = self._invoke(route.function, event)
        except Exception:
            traceback.print_exc()
            return self.gateway_response("DEFAULT_5XX", 502)
        return self.to_response(result)

    def build_event(
        self, request: Request, route: template.ApiRoute, arguments: dict[str, str], claims: dict[str, str] | None
    ) -> dict[str, Any]:
        body = request.get_data()
        binary = any(self._matches(request.mimetype, pattern) for pattern in self._binary)
        multi_headers = {key: request.headers.getlist(key) for key in {name for name, _ in request.headers.items()}}
        multi_query = {key: request.args.getlist(key) for key in request.args}
        context: dict[str, Any] = {
            "accountId": "123456789012",
            "apiId": "local",
            "stage": STAGE,
            "resourcePath": route.path,
            "httpMethod": request.method,
            "path": f"/{STAGE}{request.path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": request.remote_addr or "127.0.0.1", "userAgent": request.user_agent.string},
        }
        if claims is not None:
            context["authorizer"] = {"claims": claims}
        return {
            "resource": route.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": {key: values[-1] for key, values in multi_headers.items()},
            "multiValueHeaders": multi_headers,
            "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": dict(arguments) or None,
            "stageVariables": None,
            "requestContext": context,
            "body": (base64.b64encode(body).decode() if binary else body.decode("utf-8", "replace")) if body else None,
            "isBase64Encoded": bool(body) and binary,
        }

    @staticmethod
    def _matches(mimetype: str, pattern: str) -> bool:
        if pattern.endswith("/*"):
            return mimetype.startswith(pattern[:-1])
        return mimetype == pattern

    @staticmethod
    def to_response(result: dict[str, Any]) -> Response:
        raw = result.get("body") or ""
        body: bytes | str = base64.b64decode(raw) if result.get("isBase64Encoded") else raw
        response = Response(body, status=int(result.get("statusCode", 200)))
        response.headers.pop("Content-Type", None)
        for key, value in (result.get("headers") or {}).items():
            response.headers[key] = str(value)
        for key, values in (result.get("multiValueHeaders") or {}).items():
            response.headers.pop(key, None)
            for value in values:
                response.headers.add(key, str(value))
        return response


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json")
