"""The signed-in user's security: two-factor authentication (enrolment with a QR code and recovery codes shown
once; turning it off needs a code), the password, the sign-in email (confirmed with a code sent to the new
address), active sessions, and the accounts the user belongs to. The use-cases send the security notices.

Enrolment keeps no state in the page but the secret it shows: the code is checked against the pending secret
stored sealed for the user, so a tampered form changes nothing but what its own page displays.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import segno
from aws_lambda_powertools.event_handler import Response
from markupsafe import Markup

from balcao.domain.errors import N_, ConflictError, InvalidInputError, RateLimitedError
from balcao.domain.identity import SessionKind, User
from balcao.domain.totp import otpauth_uri
from balcao.services.auth import Auth
from balcao.web.portal import page, redirect, with_query
from balcao.web.views.access import TOO_MANY
from balcao.web.views.forms import field_errors
from balcao.web.views.identity import ROLE_LABELS, Visit

Limit = Callable[[str, str | None], None]
SECRET = re.compile(r"[A-Z2-7]{32}")
EMAIL_TAKEN = N_("This email address already belongs to another login.")
SESSION_KINDS = {SessionKind.PORTAL: N_("Browser"), SessionKind.API: N_("App or API")}


def security_page(
    visit: Visit,
    auth: Auth,
    me: User,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    current = visit.user.session.session_key
    sessions = sorted(auth.sessions(me.user_id), key=lambda s: (s.session_key != current, -s.last_seen_at.timestamp()))
    return page(
        visit.request,
        "identity/security.html",
        status=status,
        title=N_("Security"),
        me=me,
        recovery_codes_left=len(me.recovery_codes),
        sessions=[
            {
                "session": s,
                "current": s.session_key == current,
                "kind": SESSION_KINDS[s.kind],
                "created_at": visit.moment(s.created_at),
                "last_seen_at": visit.moment(s.last_seen_at),
            }
            for s in sessions
        ],
        memberships=[{"membership": m, "role": ROLE_LABELS[m.role.value]} for m in visit.user.memberships],
        values=values or {},
        errors=errors or {},
    )


# --- password --------------------------------------------------------------------------------------------------
def change_password(visit: Visit, auth: Auth, me: User, limit: Limit) -> Response[str]:
    request = visit.request
    try:
        limit("login", me.email)
        auth.change_password(
            me.user_id,
            visit.user.session.session_key,
            request.value("current_password"),
            request.value("new_password"),
            visit.origin,
        )
    except RateLimitedError:
        return security_page(visit, auth, me, errors={"current_password": request.gettext(TOO_MANY)}, status=429)
    except InvalidInputError as error:
        return security_page(visit, auth, me, errors=field_errors(request, error), status=422)
    visit.record("PUT /api/me/password", None)
    return redirect(request, with_query("/security", notice="password_changed"))


# --- two-factor authentication ---------------------------------------------------------------------------------
def _setup_page(
    visit: Visit, auth: Auth, me: User, secret: str, errors: dict[str, str] | None = None, status: int = 200
) -> Response[str]:
    uri = otpauth_uri(secret, me.email, auth.brand_name.replace(":", " "))
    title = visit.request.gettext(N_("QR code to scan with your authenticator app"))
    qr = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", title=title, svgclass="qr")
    return page(
        visit.request,
        "identity/totp_setup.html",
        status=status,
        title=N_("Set up two-factor authentication"),
        qr_svg=Markup(qr),  # noqa: S704 - segno's SVG of our own otpauth URI; segno escapes its title
        secret=secret,
        secret_groups=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        errors=errors or {},
    )


def start_totp(visit: Visit, auth: Auth, me: User) -> Response[str]:
    secret, _uri = auth.start_totp(me.user_id)
    return _setup_page(visit, auth, me, secret)


def confirm_totp(visit: Visit, auth: Auth, me: User, limit: Limit) -> Response[str]:
    request = visit.request
    secret = request.value("secret")
    if not SECRET.fullmatch(secret):
        return redirect(request, "/security")
    try:
        limit("mfa", None)
        codes = auth.confirm_totp(me.user_id, visit.user.session.session_key, request.value("code"), visit.origin)
    except RateLimitedError:
        return _setup_page(visit, auth, me, secret, {"code": request.gettext(TOO_MANY)}, 429)
    except InvalidInputError as error:
        return _setup_page(visit, auth, me, secret, field_errors(request, error), 422)
    visit.record("POST /api/me/mfa/totp/verify", None)
    return page(request, "identity/recovery_codes.html", title=N_("Your recovery codes"), codes=codes)


def disable_totp(visit: Visit, auth: Auth, me: User, limit: Limit) -> Response[str]:
    request = visit.request
    try:
        limit("mfa", None)
        auth.disable_totp(me.user_id, visit.user.session.session_key, request.value("code"), visit.origin)
    except RateLimitedError:
        return security_page(visit, auth, me, errors={"code": request.gettext(TOO_MANY)}, status=429)
    except InvalidInputError as error:
        return security_page(visit, auth, me, errors=field_errors(request, error), status=422)
    visit.record("DELETE /api/me/mfa/totp", None)
    return redirect(request, with_query("/security", notice="mfa_disabled"))


# --- sign-in email ---------------------------------------------------------------------------------------------
def request_email_change(visit: Visit, auth: Auth, me: User) -> Response[str]:
    request = visit.request
    values = {"email": request.value("email"), "also_contract_email": request.value("also_contract_email")}
    try:
        auth.request_email_change(me.user_id, values["email"], values["also_contract_email"] == "yes")
    except InvalidInputError as error:
        return security_page(visit, auth, me, values, field_errors(request, error), 422)
    visit.record("POST /api/me/email", None)
    return redirect(request, with_query("/security/email", email=values["email"].lower()))


def email_code_page(visit: Visit, errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    request = visit.request
    return page(
        request,
        "identity/email_confirm.html",
        status=status,
        title=N_("Confirm your new email"),
        email=request.query.get("email") or request.value("email"),
        errors=errors or {},
    )


def confirm_email_change(visit: Visit, auth: Auth) -> Response[str]:
    request = visit.request
    try:
        auth.confirm_email_change(
            visit.user.user_id, visit.user.session.session_key, request.value("code"), visit.origin
        )
    except InvalidInputError as error:
        return email_code_page(visit, field_errors(request, error), 422)
    except ConflictError:
        return email_code_page(visit, {"code": request.gettext(EMAIL_TAKEN)}, 409)
    visit.record("POST /api/me/email/verify", None)
    return redirect(request, with_query("/security", notice="email_changed"))


# --- sessions --------------------------------------------------------------------------------------------------
def revoke_session(visit: Visit, auth: Auth, session_id: str) -> Response[str]:
    auth.revoke(visit.user.user_id, session_id)
    visit.record("DELETE /api/me/sessions/{session_id}", None, session_id=session_id)
    return redirect(visit.request, with_query("/security", notice="session_revoked"))
