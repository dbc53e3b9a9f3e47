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

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.audit import DynamoAuditLog
from balcao.adapters.dynamodb.email_log import DynamoEmailLog, DynamoServiceDirectory
from balcao.domain.accounts import Permission
from balcao.domain.errors import N_
from balcao.domain.identity import User
from balcao.runtime import composition
from balcao.runtime.observability import logger, tracer
from balcao.runtime.settings import load_settings
from balcao.runtime.tickets_composition import attachments_form_origin
from balcao.services.auth import Request
from balcao.services.rate_limits import enforce
from balcao.web import i18n, rendering
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
from balcao.web.session import identify, portal_user, require_account, require_user, session_cookie_name
from balcao.web.views import access as access_pages
from balcao.web.views import contacts as contact_pages
from balcao.web.views import profile as profile_pages
from balcao.web.views import records as record_pages
from balcao.web.views import security as security_pages
from balcao.web.views import users as user_pages
from balcao.web.views.identity import Visit

STATIC_DIR = Path(i18n.__file__).with_name("static")


def _identify(app: APIGatewayRestResolver, request: PortalRequest) -> None:
    company = composition.company()
    user = identify(request, composition.auth().portal_session, composition.identity_store().user_with_memberships)
    if user is not None and not request.cookies.get(LANGUAGE_COOKIE) and request.language != i18n.PSEUDO_LANGUAGE:
        request.language = user.session.language
        app.context["language"] = request.language
    app.context["portal_user"] = user
    request.image_origins = company.brand.image_origins
    request.site = {
        "brand": company.brand,
        "support_email": company.contact.support_email,
        "user": user,
        "navigation": navigation_for(user.current if user else None),
    }


app = portal_resolver(
    default_language=lambda: composition.company().locale.default_language,
    secure_cookies=lambda: load_settings().secure_cookies,
    form_actions=lambda: (attachments_form_origin(),),
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
    return _file_from(STATIC_DIR, path)


@app.get("/static/theme/<path>")
def theme_file(path: str) -> Response[Any]:
    """The theme layer's own files (a logo, fonts): ``static/`` beside its ``templates/`` (docs/theming.md)."""
    folder = rendering.theme_static_dir()
    return _file_from(folder, path) if folder else Response(404, "text/plain; charset=utf-8", "Not found")


def _file_from(folder: Path, path: str) -> Response[Any]:
    candidate = (folder / path).resolve()
    if folder.resolve() not in candidate.parents or not candidate.is_file():
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


# --- identity: profile, contacts, users and invitations, security; audit and email logs ------------------------------
audit_log = DynamoAuditLog()
email_log = DynamoEmailLog()
service_directory = DynamoServiceDirectory()


def visit() -> Visit:
    """The signed-in visitor of this page (or the sign-in page), where they come from, and the audit log."""
    return Visit(
        request=current_request(app),
        user=require_user(app),
        origin=origin(),
        request_id=app.current_event.request_context.request_id,
        timezone=composition.company().locale.timezone,
        audit_log=audit_log,
        clock=app_clock(),
    )


def me() -> User:
    """The signed-in user's own record (read with their memberships when the page was identified)."""
    return require_user(app).profile


def invitations() -> user_pages.Invitations:
    base_url = composition.company().contact.public_base_url or load_settings().public_base_url
    return user_pages.Invitations(composition.accounts(), service_directory, base_url)


@app.get("/profile")
def profile() -> Response[str]:
    return profile_pages.show(visit(), require_account(app, Permission.PROFILE), composition.accounts())


@app.get("/profile/edit")
def profile_form() -> Response[str]:
    return profile_pages.edit_page(visit(), require_account(app, Permission.PROFILE), composition.accounts())


@app.post("/profile/edit")
def update_profile() -> Response[str]:
    return profile_pages.update(visit(), require_account(app, Permission.PROFILE), composition.accounts())


@app.post("/profile/export")
def request_export() -> Response[str]:
    return profile_pages.request_export(visit(), require_account(app, None, owner_only=True), composition.accounts())


@app.get("/profile/closure")
def closure_form() -> Response[str]:
    return profile_pages.closure_page(visit(), require_account(app, None, owner_only=True), composition.accounts())


@app.post("/profile/closure")
def request_closure() -> Response[str]:
    owner = require_account(app, None, owner_only=True)
    years = composition.company().retention.fiscal_years
    return profile_pages.request_closure(visit(), owner, composition.accounts(), years)


@app.get("/accounts/<account_id>/leave")
def leave_form(account_id: str) -> Response[str]:
    return user_pages.leave_page(visit(), user_pages.membership_in(require_user(app), account_id))


@app.post("/accounts/<account_id>/leave")
def leave(account_id: str) -> Response[str]:
    member = user_pages.membership_in(require_user(app), account_id)
    return user_pages.leave(visit(), member, composition.accounts())


@app.get("/contacts")
def contacts() -> Response[str]:
    return contact_pages.list_page(visit(), require_account(app, Permission.CONTACTS), composition.accounts())


@app.post("/contacts")
def add_contact() -> Response[str]:
    return contact_pages.add(visit(), require_account(app, Permission.CONTACTS), composition.accounts())


@app.get("/contacts/<contact_id>")
def contact(contact_id: str) -> Response[str]:
    membership = require_account(app, Permission.CONTACTS)
    return contact_pages.edit_page(visit(), membership, composition.accounts(), contact_id)


@app.post("/contacts/<contact_id>")
def update_contact(contact_id: str) -> Response[str]:
    membership = require_account(app, Permission.CONTACTS)
    return contact_pages.update(visit(), membership, composition.accounts(), contact_id)


@app.get("/contacts/<contact_id>/delete")
def contact_removal(contact_id: str) -> Response[str]:
    membership = require_account(app, Permission.CONTACTS)
    return contact_pages.delete_page(visit(), membership, composition.accounts(), contact_id)


@app.post("/contacts/<contact_id>/delete")
def remove_contact(contact_id: str) -> Response[str]:
    membership = require_account(app, Permission.CONTACTS)
    return contact_pages.delete(visit(), membership, composition.accounts(), contact_id)


@app.get("/contacts/<contact_id>/invitation")
def contact_invitation(contact_id: str) -> Response[str]:
    owner = require_account(app, None, owner_only=True)
    return contact_pages.invite_page(visit(), owner, composition.accounts(), contact_id)


@app.post("/contacts/<contact_id>/invitation")
def invite_contact(contact_id: str) -> Response[str]:
    owner = require_account(app, None, owner_only=True)
    return contact_pages.invite(visit(), owner, invitations(), contact_id)


@app.get("/users")
def users() -> Response[str]:
    return user_pages.users_page(visit(), require_account(app, None, owner_only=True), invitations())


@app.post("/users/invitations")
def invite_user() -> Response[str]:
    return user_pages.invite(visit(), require_account(app, None, owner_only=True), invitations())


@app.post("/users/invitations/<invitation_id>/revoke")
def revoke_invitation(invitation_id: str) -> Response[str]:
    owner = require_account(app, None, owner_only=True)
    return user_pages.revoke(visit(), owner, composition.accounts(), invitation_id)


@app.post("/users/<user_id>/permissions")
def change_permissions(user_id: str) -> Response[str]:
    owner = require_account(app, None, owner_only=True)
    return user_pages.change_permissions(visit(), owner, composition.accounts(), user_id)


@app.get("/users/<user_id>/remove")
def user_removal(user_id: str) -> Response[str]:
    owner = require_account(app, None, owner_only=True)
    return user_pages.remove_page(visit(), owner, composition.accounts(), user_id)


@app.post("/users/<user_id>/remove")
def remove_user(user_id: str) -> Response[str]:
    owner = require_account(app, None, owner_only=True)
    return user_pages.remove(visit(), owner, composition.accounts(), user_id)


@app.get("/users/<user_id>/owner")
def ownership_transfer(user_id: str) -> Response[str]:
    owner = require_account(app, None, owner_only=True)
    return user_pages.transfer_page(visit(), owner, composition.accounts(), user_id)


@app.post("/users/<user_id>/owner")
def transfer_ownership(user_id: str) -> Response[str]:
    owner = require_account(app, None, owner_only=True)
    return user_pages.transfer(visit(), owner, composition.accounts(), user_id)


@app.get("/invitations/<token>")
def invitation(token: str) -> Response[str]:
    return user_pages.invitation_page(
        current_request(app), portal_user(app), token, composition.identity_store(), service_directory, app_clock().now
    )


@app.post("/invitations/<token>")
def accept_invitation(token: str) -> Response[str]:
    return user_pages.accept(visit(), composition.accounts(), token, me())


@app.get("/security")
def security() -> Response[str]:
    return security_pages.security_page(visit(), composition.auth(), me())


@app.post("/security/password")
def change_password() -> Response[str]:
    return security_pages.change_password(visit(), composition.auth(), me(), limit)


@app.post("/security/totp")
def start_totp() -> Response[str]:
    return security_pages.start_totp(visit(), composition.auth(), me())


@app.post("/security/totp/verify")
def confirm_totp() -> Response[str]:
    return security_pages.confirm_totp(visit(), composition.auth(), me(), limit)


@app.post("/security/totp/disable")
def disable_totp() -> Response[str]:
    return security_pages.disable_totp(visit(), composition.auth(), me(), limit)


@app.post("/security/email")
def request_email_change() -> Response[str]:
    return security_pages.request_email_change(visit(), composition.auth(), me())


@app.get("/security/email")
def email_code() -> Response[str]:
    return security_pages.email_code_page(visit())


@app.post("/security/email/confirm")
def confirm_email_change() -> Response[str]:
    return security_pages.confirm_email_change(visit(), composition.auth())


@app.post("/security/sessions/<session_id>/revoke")
def revoke_session(session_id: str) -> Response[str]:
    return security_pages.revoke_session(visit(), composition.auth(), session_id)


@app.get("/audit")
def audit() -> Response[str]:
    return record_pages.audit_page(visit(), require_account(app, None, owner_only=True), composition.accounts())


@app.get("/emails")
def emails() -> Response[str]:
    return record_pages.emails_page(visit(), require_account(app, Permission.EMAILS), email_log)


@app.get("/emails/<email_id>")
def email(email_id: str) -> Response[str]:
    return record_pages.email_page(visit(), require_account(app, Permission.EMAILS), email_log, email_id)


@app.get("/emails/<email_id>/html")
def email_html(email_id: str) -> Response[str]:
    return record_pages.email_html(require_account(app, Permission.EMAILS), email_log, email_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
