"""The portal's request plumbing: HTML answers, security headers, CSRF, language, cookies.

Pages are server-rendered and work without JavaScript: every form posts and redirects (303). Each POST carries the
CSRF token of a double-submit cookie; SameSite=Lax and the session cookie's ``__Host-`` prefix (when Secure) do
the rest. Errors render a page in the visitor's language and leak nothing.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from balcao.domain.errors import N_, BalcaoError, InvalidInputError
from balcao.runtime.http import STATUS_BY_CODE
from balcao.runtime.observability import logger
from balcao.services.company_settings import BrandSettings, ContactSettings
from balcao.web import i18n
from balcao.web.rendering import render

LANGUAGE_COOKIE = "balcao_lang"
CSRF_COOKIE = "balcao_csrf"
CSRF_FIELD = "csrf_token"
HTML = "text/html; charset=utf-8"
# What every page shows when the company settings could not be read (an error page must still render).
FALLBACK_SITE: dict[str, Any] = {
    "brand": BrandSettings(),
    "support_email": ContactSettings().support_email,
    "user": None,
    "navigation": [],
}
LANGUAGE_NAMES = {"pt-BR": "Português (Brasil)", "es": "Español", "en": "English"}  # endonyms, never translated

# Messages shown once after a form redirects (``?notice=<key>``).
NOTICES: dict[str, str] = {
    "saved": N_("Saved."),
    "signed_out": N_("You are signed out."),
    "confirmed": N_("Your email is confirmed. You can sign in now."),
    "password_reset": N_("If the code was right, your password was changed. Sign in with the new one."),
    "contact_added": N_("The contact was added."),
    "contact_removed": N_("The contact was removed."),
    "invited": N_("The invitation is on its way."),
    "invitation_revoked": N_("The invitation was revoked."),
    "invitation_accepted": N_("Welcome! The account is now in your client area."),
    "user_removed": N_("The user was removed from the account."),
    "owner_transferred": N_("The ownership was transferred."),
    "left_account": N_("You left the account."),
    "export_requested": N_("We are preparing the export. We email a download link when it is ready."),
    "closure_requested": N_("The closure was requested. Our team will contact you."),
    "password_changed": N_("Your password was changed. Your other sessions were signed out."),
    "mfa_disabled": N_("Two-factor authentication is off."),
    "email_changed": N_("Your sign-in email was changed."),
    "session_revoked": N_("The session was signed out."),
    # services
    "ordered": N_("Your order was placed. The service is set up as soon as this invoice is paid."),
    "plan_change_ordered": N_("The plan change applies as soon as this invoice is paid."),
    "plan_changed": N_("The plan was changed."),
    "service_password_changed": N_("The control panel password was changed."),
    "cancellation_requested": N_("The cancellation was requested. We emailed you a confirmation."),
    "cancellation_withdrawn": N_("The cancellation request was withdrawn: the service renews as usual."),
    "service_cancelled": N_("The service was cancelled."),
}

ERROR_TITLES: dict[int, str] = {
    400: N_("This request could not be understood"),
    401: N_("Please sign in"),
    403: N_("You are not allowed to see this page"),
    404: N_("Page not found"),
    409: N_("This changed in the meantime"),
    422: N_("Some fields need your attention"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
    503: N_("A service is unavailable"),
}


def content_security_policy(form_actions: tuple[str, ...] = (), image_origins: tuple[str, ...] = ()) -> str:
    actions = " ".join(("'self'", *form_actions))
    images = " ".join(("'self'", "data:", *image_origins))
    return (
        f"default-src 'self'; img-src {images}; style-src 'self'; script-src 'self'; font-src 'self'; "
        f"connect-src 'self'; form-action {actions}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


def security_headers(form_actions: tuple[str, ...] = (), image_origins: tuple[str, ...] = ()) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(form_actions, image_origins),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def parse_cookies(headers: Mapping[str, str] | None) -> dict[str, str]:
    raw = next((v for k, v in (headers or {}).items() if k.lower() == "cookie"), "")
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is ignored, like a browser would
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def cookie_header(
    name: str, value: str, *, secure: bool, max_age: int | None = None, http_only: bool = True, same_site: str = "Lax"
) -> str:
    parts = [f"{name}={value}", "Path=/", f"SameSite={same_site}"]
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def safe_local_path(target: str | None, fallback: str = "/") -> str:
    """Only same-site paths are followed after a form (no open redirects)."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


class SignInRequired(Exception):
    """Raised by a page that needs a signed-in user; the portal answers with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass
class PortalRequest:
    """What a page needs to know about the request it answers."""

    language: str
    cookies: dict[str, str]
    form: dict[str, list[str]] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    path: str = "/"
    csrf_token: str = ""
    new_cookies: list[str] = field(default_factory=list)
    secure_cookies: bool = True
    form_actions: tuple[str, ...] = ()  # origins other than the portal that this page's forms post to
    image_origins: tuple[str, ...] = ()  # the brand logo's origin when it is hosted elsewhere
    site: dict[str, Any] = field(default_factory=dict)

    def value(self, name: str, default: str = "") -> str:
        values = self.form.get(name)
        return values[0].strip() if values else default

    def values(self, name: str) -> list[str]:
        return [v.strip() for v in self.form.get(name, [])]

    def gettext(self, message: str) -> str:
        return i18n.gettext(self.language, message)


def current_request(app: APIGatewayRestResolver) -> PortalRequest:
    request = app.context.get("portal_request")
    if not isinstance(request, PortalRequest):
        raise RuntimeError("portal request context missing: is the portal middleware installed?")
    return request


def page(request: PortalRequest, template: str, status: int = 200, title: str = "", **context: Any) -> Response[str]:
    """Render a page with the base context (language, CSRF token, request) and the portal's headers."""
    body = render(
        template,
        request.language,
        request=request,
        csrf_token=request.csrf_token,
        page_title=title,
        languages=i18n.LANGUAGES,
        language_names=LANGUAGE_NAMES,
        notice=NOTICES.get(request.query.get("notice", "")),
        **{**FALLBACK_SITE, **request.site},
        **context,
    )
    return Response(status_code=status, content_type=HTML, body=body, headers=_headers(request))


def redirect(request: PortalRequest, location: str, status: int = 303) -> Response[str]:
    headers = _headers(request)
    headers["Location"] = location
    return Response(status_code=status, content_type=HTML, body="", headers=headers)


def _headers(request: PortalRequest) -> dict[str, str | list[str]]:
    headers: dict[str, str | list[str]] = dict(security_headers(request.form_actions, request.image_origins))
    headers["Cache-Control"] = "no-store"
    if request.new_cookies:
        headers["Set-Cookie"] = list(request.new_cookies)
    return headers


def with_query(path: str, **params: str) -> str:
    return f"{path}?{urlencode(params)}" if params else path


PageContextHook = Callable[[APIGatewayRestResolver, PortalRequest], None]


def portal_resolver(
    *,
    default_language: Callable[[], str],
    secure_cookies: Callable[[], bool],
    context_hooks: tuple[PageContextHook, ...] = (),
) -> APIGatewayRestResolver:
    """A resolver for HTML pages: request context, CSRF on every POST, error pages in the visitor's language."""
    app = APIGatewayRestResolver()

    def prepare(resolver: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        event = resolver.current_event
        cookies = parse_cookies(event.headers)
        headers = event.headers or {}
        accept = next((v for k, v in headers.items() if k.lower() == "accept-language"), None)
        language = i18n.normalise_language(cookies.get(LANGUAGE_COOKIE)) or i18n.negotiate(accept, default_language())
        if (resolver.current_event.query_string_parameters or {}).get("lang") == i18n.PSEUDO_LANGUAGE and (
            not secure_cookies()
        ):
            language = i18n.PSEUDO_LANGUAGE  # the pseudo-locale walk, devstack only
        request = PortalRequest(
            language=language,
            cookies=cookies,
            query={k: v for k, v in (event.query_string_parameters or {}).items() if v is not None},
            path=event.path,
            secure_cookies=secure_cookies(),
        )
        csrf = cookies.get(CSRF_COOKIE, "")
        if len(csrf) < 32:
            csrf = secrets.token_urlsafe(32)
            request.new_cookies.append(
                cookie_header(CSRF_COOKIE, csrf, secure=request.secure_cookies, same_site="Strict")
            )
        request.csrf_token = csrf
        if event.http_method == "POST":
            content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
            if not content_type.startswith("application/x-www-form-urlencoded"):
                return error_page(request, 400)
            raw = event.decoded_body or ""
            request.form = parse_qs(raw, keep_blank_values=True, max_num_fields=200)
            sent = request.value(CSRF_FIELD)
            if not sent or not cookies.get(CSRF_COOKIE) or not hmac.compare_digest(sent, cookies[CSRF_COOKIE]):
                return error_page(request, 403, detail=N_("Your form expired. Please go back, reload and try again."))
        resolver.context.update(portal_request=request, language=request.language)
        for hook in context_hooks:
            hook(resolver, request)
        return next_middleware(resolver)

    app.use(middlewares=[prepare])

    @app.exception_handler(SignInRequired)
    def handle_sign_in_required(error: SignInRequired) -> Response[str]:
        request = _request_or_default(app, default_language())
        return redirect(request, with_query("/login", next=error.next_path))

    @app.exception_handler(BalcaoError)
    def handle_balcao_error(error: BalcaoError) -> Response[str]:
        request = _request_or_default(app, default_language())
        status = STATUS_BY_CODE.get(error.code, 500)
        if isinstance(error, InvalidInputError):
            return error_page(request, 422, detail=error.fields[0].message if error.fields else None)
        return error_page(request, status, detail=error.message)

    @app.not_found
    def handle_not_found(_: Exception) -> Response[str]:
        return error_page(_request_or_default(app, default_language()), 404)

    @app.exception_handler(Exception)
    def handle_unexpected(_: Exception) -> Response[str]:
        logger.exception("portal page failed")
        return error_page(_request_or_default(app, default_language()), 500)

    return app


def _request_or_default(app: APIGatewayRestResolver, language: str) -> PortalRequest:
    request = app.context.get("portal_request")
    if isinstance(request, PortalRequest):
        return request
    return PortalRequest(language=language, cookies={})


def error_page(request: PortalRequest, status: int, detail: str | None = None) -> Response[str]:
    return page(
        request,
        "errors/error.html",
        status=status,
        title=ERROR_TITLES.get(status, ERROR_TITLES[500]),
        status_code=status,
        detail=detail,
    )
