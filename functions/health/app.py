"""Health, the merged OpenAPI document and Swagger UI; also the state machines' self-check task.

Routes: GET /health, GET /api/openapi.json, GET /api/docs (+ its two assets). The OpenAPI document is generated
from every function's resolver by ``make openapi`` into ``openapi.json`` beside this file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import aws_lambda_powertools
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.runtime import access
from balcao.runtime.http import rest_resolver
from balcao.runtime.observability import logger, tracer

app = rest_resolver()
OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")
SWAGGER_ASSETS = Path(aws_lambda_powertools.__file__ or ".").parent / "event_handler/openapi/swagger_ui"
ASSET_CACHE = "public, max-age=86400"


@app.get("/health", **access.public())
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get(
    "/api/openapi.json",
    responses={
        200: {
            "description": "The OpenAPI 3.1 document.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
    **access.public(),
)
def openapi_document() -> Response[str]:
    return Response(200, "application/json", _document(), headers={"Cache-Control": "public, max-age=300"})


@app.get("/api/docs", responses={200: {"description": "Swagger UI.", "content": {"text/html": {}}}}, **access.public())
def swagger_ui() -> Response[str]:
    page = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Balcão API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css"></head><body><div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui.js"></script><script src="/api/docs/swagger-init.js"></script></body></html>"""
    return Response(200, "text/html; charset=utf-8", page)


@app.get(
    "/api/docs/<asset>",
    responses={
        200: {"description": "A Swagger UI asset.", "content": {"text/javascript": {}, "text/css": {}}},
        404: {
            "description": "No such asset.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        },
    },
    **access.public(),
)
def swagger_asset(asset: str) -> Response[str]:
    if asset == "swagger-init.js":
        script = "window.ui = SwaggerUIBundle({url: '/api/openapi.json', dom_id: '#swagger-ui', deepLinking: true});"
        return Response(200, "text/javascript", script, headers={"Cache-Control": ASSET_CACHE})
    files = {
        "swagger-ui.js": ("swagger-ui-bundle.min.js", "text/javascript"),
        "swagger-ui.css": ("swagger-ui.min.css", "text/css"),
    }
    if asset not in files:
        return Response(404, "application/json", '{"error":{"code":"not_found","message":"Not found."}}')
    name, content_type = files[asset]
    return Response(200, content_type, (SWAGGER_ASSETS / name).read_text(), headers={"Cache-Control": ASSET_CACHE})


@cache
def _document() -> str:
    return OPENAPI_DOCUMENT.read_text()


def self_check(event: dict[str, Any]) -> dict[str, Any]:
    """The self-check state machine's task: echoes its step so the run proves our code executed the task."""
    return {"checked": True, "step": event.get("step"), "handler": "health.self_check"}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("task") == "self_check":
        return self_check(event)
    return app.resolve(event, context)
