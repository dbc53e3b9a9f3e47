"""The portal: server-rendered pages at ``/`` in pt-BR, es and en. Each capability adds its pages here.

Every page works without JavaScript (forms post and redirect); a signed-in user is known by an opaque session
cookie, loaded with their memberships once per request. Static files come from the layer with cache headers;
``/static/theme.css`` carries the brand colours from the company settings.
"""

from __future__ import annotations

import mimetypes
import time
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.domain.errors import N_
from balcao.runtime import composition
from balcao.runtime.observability import logger, tracer
from balcao.runtime.settings import load_settings
from balcao.services.auth import Request
from balcao.services.rate_limits import enforce
from balcao.web import i18n
from balcao.web.navigation import navigation_for
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
from balcao.web.session import identify, portal_user, require_user, session_cookie_name
from balcao.web.views import access as access_pages

STATIC_DIR = Path(i18n.__file__).with_name("static")


def _identify(app: APIGatewayRestResolver, request: PortalRequest) -> None:
    company = composition.company()
    user = identify(request, composition.auth().portal_session, composition.identity_store().memberships_of)
    if user is not None and not request.cookies.get(LANGUAGE_COOKIE):
        request.language = user.session.language
        app.context["language"] = request.language
    app.context["portal_user"] = user
    request.site = {
        "brand": company.brand,
        "support_email": company.contact.support_email,
        "user": user,
        "navigation": navigation_for(user.current if user else None),
    }


app = portal_resolver(
    default_language=lambda: composition.company().locale.default_language,
    secure_cookies=lambda: load_settings().secure_cookies,
    context_hooks=(_identify,),
)


def origin() -> Request:
    event = app.current_event
    agent = next((v for k, v in (event.headers or {}).items() if k.lower() == "user-agent"), None)
    return Request(ip=event.request_context.identity.source_ip, device=agent[:200] if agent else None)


def limit(route: str, email: str | None) -> None:
    enforce(
        route,
        composition.company().rate_limits,
        composition.rate_limiter(),
        ip=origin().ip,
        email=email,
        now=time.time(),
    )


# --- shell ---------------------------------------------------------------------------------------------------------
@app.get("/")
def home() -> Response[str]:
    request = current_request(app)
    user = portal_user(app)
    if user is None:
        return page(request, "home.html")
    current = user.current
    return page(
        request,
        "home.html",
        title=N_("Overview"),
        display_name=user.session.email,
        mfa_required_notice=bool(current and current.require_mfa and not user.session.mfa_passed),
    )


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
    brand = composition.company().brand
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


# --- access ----------------------------------------------------------------------------------------------------
@app.get("/login")
def login_page() -> Response[str]:
    return access_pages.login_page(current_request(app))


@app.post("/login")
def login() -> Response[str]:
    return access_pages.login(current_request(app), composition.auth(), origin(), limit)


@app.post("/login/totp")
def login_totp() -> Response[str]:
    return access_pages.login_totp(current_request(app), composition.auth(), origin(), limit)


@app.post("/logout")
def logout() -> Response[str]:
    request = current_request(app)
    return access_pages.logout(
        request, composition.auth(), request.cookies.get(session_cookie_name(request.secure_cookies))
    )


@app.get("/signup")
def signup_page() -> Response[str]:
    return access_pages.signup_page(current_request(app))


@app.post("/signup")
def signup() -> Response[str]:
    return access_pages.signup(current_request(app), composition.auth(), limit)


@app.get("/signup/confirm")
def confirm_page() -> Response[str]:
    return access_pages.confirm_page(current_request(app))


@app.post("/signup/confirm")
def confirm() -> Response[str]:
    return access_pages.confirm(current_request(app), composition.auth(), limit)


@app.get("/password/forgot")
def forgot_page() -> Response[str]:
    return access_pages.forgot_page(current_request(app))


@app.post("/password/forgot")
def forgot() -> Response[str]:
    return access_pages.forgot(current_request(app), composition.auth(), limit)


@app.get("/password/reset")
def reset_page() -> Response[str]:
    return access_pages.reset_page(current_request(app))


@app.post("/password/reset")
def reset() -> Response[str]:
    return access_pages.reset(current_request(app), composition.auth(), origin(), limit)


@app.post("/accounts/switch")
def switch_account() -> Response[str]:
    return access_pages.switch_account(current_request(app), require_user(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
