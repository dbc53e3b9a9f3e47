"""Sign-in (with the TOTP step), sign-up and confirmation, password reset, sign-out and the account switcher."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from balcao.domain.errors import N_, InvalidCredentialsError, InvalidInputError, RateLimitedError
from balcao.domain.identity import TERMS_VERSION, SessionKind
from balcao.services.auth import Auth, LoginResult, Request
from balcao.web.i18n import LANGUAGES
from balcao.web.portal import LANGUAGE_NAMES, PortalRequest, cookie_header, page, redirect, safe_local_path, with_query
from balcao.web.session import ACCOUNT_COOKIE, PortalUser, clear_session_cookie, session_cookie
from balcao.web.views.forms import field_errors

WRONG_CREDENTIALS = N_("The email or password is incorrect.")
WRONG_CODE = N_("The code is not valid. Try again.")
TOO_MANY = N_("Too many attempts. Please wait a moment and try again.")


def login_page(request: PortalRequest, failed: str | None = None, status: int = 200) -> Response[str]:
    return page(
        request,
        "access/login.html",
        status=status,
        title=N_("Sign in"),
        failed=failed,
        email=request.value("email"),
        next_path=safe_local_path(request.query.get("next") or request.value("next")),
    )


def _signed_in(request: PortalRequest, result: LoginResult) -> Response[str]:
    assert result.cookie is not None
    request.new_cookies.append(session_cookie(request, result.cookie))
    return redirect(request, safe_local_path(request.value("next")))


def login(request: PortalRequest, auth: Auth, origin: Request, limit: Any) -> Response[str]:
    email = request.value("email")
    try:
        limit("login", email)
        result = auth.login(email, request.value("password"), origin, kind=SessionKind.PORTAL)
    except RateLimitedError:
        return login_page(request, TOO_MANY, 429)
    except (InvalidCredentialsError, InvalidInputError):
        return login_page(request, WRONG_CREDENTIALS, 401)
    if result.challenge_session is not None:
        return page(
            request,
            "access/login_totp.html",
            title=N_("Two-factor authentication"),
            challenge=result.challenge_session,
            next_path=safe_local_path(request.value("next")),
            failed=None,
        )
    return _signed_in(request, result)


def login_totp(request: PortalRequest, auth: Auth, origin: Request, limit: Any) -> Response[str]:
    try:
        limit("mfa", None)
        result = auth.complete_mfa(request.value("challenge"), request.value("code"), origin)
    except RateLimitedError:
        return login_page(request, TOO_MANY, 429)
    except InvalidCredentialsError:
        return login_page(request, N_("The code was not accepted. Sign in again."), 401)
    return _signed_in(request, result)


def logout(request: PortalRequest, auth: Auth, cookie: str | None) -> Response[str]:
    if cookie:
        auth.end_portal_session(cookie)
    request.new_cookies.append(clear_session_cookie(request))
    return redirect(request, with_query("/login", notice="signed_out"))


def signup_page(request: PortalRequest, errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    return page(
        request,
        "access/signup.html",
        status=status,
        title=N_("Create your account"),
        errors=errors or {},
        values={k: request.value(k) for k in ("name", "email", "language", "accept_terms")},
        language_options=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        terms_version=TERMS_VERSION,
    )


def signup(request: PortalRequest, auth: Auth, limit: Any) -> Response[str]:
    email = request.value("email")
    language = request.value("language") if request.value("language") in LANGUAGES else request.language
    try:
        limit("signup", email)
        auth.sign_up(
            email, request.value("password"), request.value("name"), language, request.value("accept_terms") == "yes"
        )
    except RateLimitedError:
        return signup_page(request, {"email": request.gettext(TOO_MANY)}, 429)
    except InvalidInputError as error:
        return signup_page(request, field_errors(request, error), 422)
    return redirect(request, with_query("/signup/confirm", email=email.strip().lower()))


def confirm_page(request: PortalRequest, errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    email = request.query.get("email") or request.value("email")
    return page(
        request,
        "access/signup_confirm.html",
        status=status,
        title=N_("Confirm your email"),
        email=email,
        errors=errors or {},
    )


def confirm(request: PortalRequest, auth: Auth, limit: Any) -> Response[str]:
    try:
        limit("confirm", request.value("email"))
        auth.confirm_sign_up(request.value("email"), request.value("code"))
    except RateLimitedError:
        return confirm_page(request, {"code": request.gettext(TOO_MANY)}, 429)
    except InvalidInputError as error:
        return confirm_page(request, field_errors(request, error), 422)
    return redirect(request, with_query("/login", notice="confirmed"))


def forgot_page(request: PortalRequest) -> Response[str]:
    return page(request, "access/forgot.html", title=N_("Reset your password"))


def forgot(request: PortalRequest, auth: Auth, limit: Any) -> Response[str]:
    email = request.value("email")
    try:
        limit("forgot", email)
        auth.forgot_password(email)
    except RateLimitedError:
        pass  # same answer either way: never reveal anything about the address
    return redirect(request, with_query("/password/reset", email=email.strip().lower()))


def reset_page(request: PortalRequest, errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    email = request.query.get("email") or request.value("email")
    return page(
        request, "access/reset.html", status=status, title=N_("Choose a new password"), email=email, errors=errors or {}
    )


def reset(request: PortalRequest, auth: Auth, origin: Request, limit: Any) -> Response[str]:
    try:
        limit("reset", request.value("email"))
        auth.reset_password(request.value("email"), request.value("code"), request.value("password"), origin)
    except RateLimitedError:
        return reset_page(request, {"code": request.gettext(TOO_MANY)}, 429)
    except InvalidInputError as error:
        return reset_page(request, field_errors(request, error), 422)
    return redirect(request, with_query("/login", notice="password_reset"))


def switch_account(request: PortalRequest, user: PortalUser) -> Response[str]:
    wanted = request.value("account_id")
    if any(m.account_id == wanted for m in user.memberships):
        request.new_cookies.append(
            cookie_header(ACCOUNT_COOKIE, wanted, secure=request.secure_cookies, max_age=30 * 86400)
        )
    return redirect(request, safe_local_path(request.value("next")))
