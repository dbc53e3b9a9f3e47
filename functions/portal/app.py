"""The portal: server-rendered pages at ``/`` in pt-BR, es and en. Each capability adds its pages here.

Static files come from the layer (``balcao/web/static``) with long cache headers; ``/static/theme.css`` carries
the brand colours from the company settings.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.dynamodb.settings import DynamoSettingsStore
from balcao.runtime.observability import logger, tracer
from balcao.runtime.settings import load_settings
from balcao.services.company_settings import load_company_settings
from balcao.web import i18n
from balcao.web.portal import (
    LANGUAGE_COOKIE,
    PortalRequest,
    cookie_header,
    current_request,
    page,
    portal_resolver,
    redirect,
    safe_local_path,
)

STATIC_DIR = Path(i18n.__file__).with_name("static")
settings_store = DynamoSettingsStore()


def _site_context(app: APIGatewayRestResolver, request: PortalRequest) -> None:
    company = load_company_settings(settings_store)
    request.site = {"brand": company.brand, "support_email": company.contact.support_email}


app = portal_resolver(
    default_language=lambda: load_company_settings(settings_store).locale.default_language,
    secure_cookies=lambda: load_settings().secure_cookies,
    context_hooks=(_site_context,),
)


@app.get("/")
def home() -> Response[str]:
    return page(current_request(app), "home.html")


@app.post("/language")
def change_language() -> Response[str]:
    request = current_request(app)
    chosen = i18n.normalise_language(request.value("language"))
    if chosen:
        request.language = chosen
        year = 365 * 24 * 3600
        request.new_cookies.append(
            cookie_header(LANGUAGE_COOKIE, chosen, secure=request.secure_cookies, max_age=year, http_only=False)
        )
    return redirect(request, safe_local_path(request.value("next")))


@app.get("/static/theme.css")
def theme() -> Response[str]:
    brand = load_company_settings(settings_store).brand
    css = f":root {{ --brand: {brand.primary_colour}; --accent: {brand.accent_colour}; }}\n"
    return Response(200, "text/css; charset=utf-8", css, headers={"Cache-Control": "public, max-age=300"})


@app.get("/static/<path>")
def static_file(path: str) -> Response[Any]:
    candidate = (STATIC_DIR / path).resolve()
    if STATIC_DIR.resolve() not in candidate.parents or not candidate.is_file():
        return Response(404, "text/plain; charset=utf-8", "Not found")
    content_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in ("application/javascript", "image/svg+xml"):
        content_type += "; charset=utf-8"
    return Response(
        200,
        content_type,
        candidate.read_bytes(),
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
