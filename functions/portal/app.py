"""The portal: server-rendered pages at ``/`` in pt-BR, es and en. Each capability adds its pages here.

Every page works without JavaScript (forms post and redirect); a signed-in user is known by an opaque session
cookie, loaded with their memberships once per request. Static files come from the layer with cache headers;
``/static/theme.css`` carries the brand colours from the company settings.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.audit import DynamoAuditLog
from balcao.adapters.dynamodb.email_log import DynamoEmailLog, DynamoServiceDirectory
from balcao.domain.accounts import Permission
from balcao.domain.identity import User
from balcao.runtime import composition
from balcao.runtime.lazy import lazy_module
from balcao.runtime.observability import logger, tracer
from balcao.runtime.settings import load_settings
from balcao.services.auth import Request
from balcao.services.rate_limits import enforce
from balcao.web import i18n, rendering
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
from balcao.web.views.identity import Visit
from balcao.web.views.links import Elsewhere

# Each capability's pages and use-cases load when a page first needs them: a cold start imports one page's share.
if TYPE_CHECKING:
    from balcao.runtime import dashboard_composition, invoices_composition, services_composition, tickets_composition
    from balcao.web.views import access as access_pages
    from balcao.web.views import contacts as contact_pages
    from balcao.web.views import dashboard as dashboard_pages
    from balcao.web.views import invoices as invoice_pages
    from balcao.web.views import payments as payment_pages
    from balcao.web.views import profile as profile_pages
    from balcao.web.views import records as record_pages
    from balcao.web.views import security as security_pages
    from balcao.web.views import services as service_pages
    from balcao.web.views import tickets as ticket_pages
    from balcao.web.views import users as user_pages
else:
    dashboard_composition = lazy_module("balcao.runtime.dashboard_composition")
    invoices_composition = lazy_module("balcao.runtime.invoices_composition")
    services_composition = lazy_module("balcao.runtime.services_composition")
    tickets_composition = lazy_module("balcao.runtime.tickets_composition")
    access_pages = lazy_module("balcao.web.views.access")
    contact_pages = lazy_module("balcao.web.views.contacts")
    dashboard_pages = lazy_module("balcao.web.views.dashboard")
    invoice_pages = lazy_module("balcao.web.views.invoices")
    payment_pages = lazy_module("balcao.web.views.payments")
    profile_pages = lazy_module("balcao.web.views.profile")
    record_pages = lazy_module("balcao.web.views.records")
    security_pages = lazy_module("balcao.web.views.security")
    service_pages = lazy_module("balcao.web.views.services")
    ticket_pages = lazy_module("balcao.web.views.tickets")
    user_pages = lazy_module("balcao.web.views.users")

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
        "navigation": user.menu if user else [],
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
    return dashboard_pages.overview_page(request, user, dashboard_composition.dashboard())


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
    import mimetypes  # reads the system's type maps: only static files need it

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
        current_request(app), portal_user(app), token, composition.identity_store(), app_clock().now
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


# --- invoices and credit --------------------------------------------------------------------------------------------
@app.get("/invoices")
def invoice_list() -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return invoice_pages.list_page(visit(), membership, invoices_composition.invoices())


@app.get("/invoices/<invoice_id>")
def invoice_detail(invoice_id: str) -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    service = invoices_composition.invoices()
    elsewhere = Elsewhere(require_user(app), Permission.INVOICES, service.account_of_invoice)
    can_pay = invoice_pages.pay_route_served(app)
    return invoice_pages.detail_page(visit(), membership, service, invoice_id, can_pay=can_pay, elsewhere=elsewhere)


@app.get("/invoices/<invoice_id>/pdf")
def invoice_pdf(invoice_id: str) -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return invoice_pages.invoice_pdf(current_request(app), membership, invoices_composition.documents(), invoice_id)


@app.get("/credit-notes/<credit_note_id>/pdf")
def credit_note_pdf(credit_note_id: str) -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    documents = invoices_composition.documents()
    return invoice_pages.credit_note_pdf(current_request(app), membership, documents, credit_note_id)


@app.get("/credit")
def credit() -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return invoice_pages.credit_page(visit(), membership, invoices_composition.invoices())


@app.post("/credit/auto-apply")
def credit_auto_apply() -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return invoice_pages.set_auto_apply(visit(), membership, invoices_composition.invoices())


@app.get("/credit/add")
def add_funds_form() -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return invoice_pages.add_funds_page(visit(), membership, invoices_composition.invoices(), composition.accounts())


@app.post("/credit/add")
def add_funds() -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return invoice_pages.add_funds(visit(), membership, invoices_composition.invoices(), composition.accounts())


# --- support tickets -------------------------------------------------------------------------------------------------
@app.get("/tickets")
def ticket_list() -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    return ticket_pages.list_page(visit(), membership, tickets_composition.tickets())


@app.get("/tickets/new")
def new_ticket_form() -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    return ticket_pages.new_page(visit(), membership, tickets_composition.tickets())


@app.post("/tickets/new")
def open_ticket() -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    return ticket_pages.open_ticket(visit(), membership, tickets_composition.tickets())


@app.get("/tickets/callback")
def callback_form() -> Response[str]:
    return ticket_pages.callback_page(visit(), require_account(app, Permission.TICKETS))


@app.post("/tickets/callback")
def request_callback() -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    return ticket_pages.request_callback(visit(), membership, tickets_composition.tickets())


@app.get("/tickets/attachments/new")
def attachment_upload_form() -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    base_url = composition.company().contact.public_base_url or load_settings().public_base_url
    page_visit = visit()
    # The one page whose form posts elsewhere (the bucket): only its policy lists that origin.
    page_visit.request.form_actions = (tickets_composition.attachments_form_origin(),)
    return ticket_pages.upload_page(page_visit, membership, tickets_composition.tickets(), base_url)


@app.get("/tickets/attachments/uploaded")
def attachment_uploaded() -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    return ticket_pages.uploaded(visit(), membership, tickets_composition.tickets())


@app.get("/tickets/<ticket_id>")
def ticket_thread(ticket_id: str) -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    service = tickets_composition.tickets()
    elsewhere = Elsewhere(require_user(app), Permission.TICKETS, service.account_of_ticket)
    return ticket_pages.thread_page(visit(), membership, service, ticket_id, elsewhere=elsewhere)


@app.get("/tickets/<ticket_id>/messages")
def ticket_older_messages(ticket_id: str) -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    return ticket_pages.older_page(visit(), membership, tickets_composition.tickets(), ticket_id)


@app.post("/tickets/<ticket_id>/replies")
def ticket_reply(ticket_id: str) -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    return ticket_pages.reply(visit(), membership, tickets_composition.tickets(), ticket_id)


@app.post("/tickets/<ticket_id>/close")
def close_ticket(ticket_id: str) -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    return ticket_pages.close(visit(), membership, tickets_composition.tickets(), ticket_id)


@app.post("/tickets/<ticket_id>/reopen")
def reopen_ticket(ticket_id: str) -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    return ticket_pages.reopen(visit(), membership, tickets_composition.tickets(), ticket_id)


@app.get("/tickets/<ticket_id>/attachments/<attachment_id>")
def ticket_attachment(ticket_id: str, attachment_id: str) -> Response[str]:
    membership = require_account(app, Permission.TICKETS)
    service = tickets_composition.tickets()
    return ticket_pages.download(current_request(app), membership, service, ticket_id, attachment_id)


# --- services: the catalog and the order, the services, single sign-on, password, plan change, cancellation ----------
@app.get("/order")
def order_form() -> Response[str]:
    return service_pages.order_page(visit(), require_account(app, Permission.ORDERS), services_composition.services())


@app.post("/order")
def place_order() -> Response[str]:
    return service_pages.order(visit(), require_account(app, Permission.ORDERS), services_composition.services())


@app.get("/services")
def service_list() -> Response[str]:
    return service_pages.list_page(visit(), require_account(app, Permission.SERVICES), services_composition.services())


@app.get("/services/<service_id>")
def service_detail(service_id: str) -> Response[str]:
    membership = require_account(app, Permission.SERVICES)
    return service_pages.detail_page(visit(), membership, services_composition.services(), service_id)


@app.post("/services/<service_id>/sso")
def service_sso(service_id: str) -> Response[str]:
    membership = require_account(app, Permission.SERVICE_SSO)
    return service_pages.single_sign_on(visit(), membership, services_composition.services(), service_id)


@app.post("/services/<service_id>/password")
def service_password(service_id: str) -> Response[str]:
    membership = require_account(app, Permission.MANAGE_SERVICES)
    return service_pages.change_password(visit(), membership, services_composition.services(), service_id)


@app.get("/services/<service_id>/upgrade")
def service_upgrade_form(service_id: str) -> Response[str]:
    membership = require_account(app, Permission.ORDERS)
    return service_pages.upgrade_page(visit(), membership, services_composition.services(), service_id)


@app.post("/services/<service_id>/upgrade")
def service_upgrade(service_id: str) -> Response[str]:
    membership = require_account(app, Permission.ORDERS)
    return service_pages.upgrade(visit(), membership, services_composition.services(), service_id)


@app.get("/services/<service_id>/cancellation")
def service_cancellation_form(service_id: str) -> Response[str]:
    membership = require_account(app, Permission.ORDERS)
    return service_pages.cancellation_page(visit(), membership, services_composition.services(), service_id)


@app.post("/services/<service_id>/cancellation")
def service_cancellation(service_id: str) -> Response[str]:
    membership = require_account(app, Permission.ORDERS)
    return service_pages.request_cancellation(visit(), membership, services_composition.services(), service_id)


@app.post("/services/<service_id>/cancellation/withdraw")
def service_cancellation_withdraw(service_id: str) -> Response[str]:
    membership = require_account(app, Permission.ORDERS)
    return service_pages.withdraw_cancellation(visit(), membership, services_composition.services(), service_id)


# --- payments: pay an invoice or several, a payment's page, the boleto, saved methods --------------------------------
def payment_use_cases() -> Any:
    """The payment use-cases and whether Stripe's card form (its publishable key) or the sandbox is on, built only
    on these pages (the provider libraries stay out of other pages' cold starts)."""
    from balcao.runtime.payments_composition import payments, registry

    keys = registry()
    return payments(), keys.publishable_key, keys.local


@app.get("/invoices/<invoice_id>/pay")
def pay_invoice_page(invoice_id: str) -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return payment_pages.pay_page(visit(), membership, payment_use_cases()[0], invoice_id)


@app.post("/invoices/<invoice_id>/pay")
def pay_invoice(invoice_id: str) -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return payment_pages.start_payment(visit(), membership, payment_use_cases()[0], invoice_id)


@app.get("/pay")
def pay_several_page() -> Response[str]:
    return payment_pages.several_page(visit(), require_account(app, Permission.INVOICES), payment_use_cases()[0])


@app.post("/pay")
def pay_several() -> Response[str]:
    return payment_pages.pay_several(visit(), require_account(app, Permission.INVOICES), payment_use_cases()[0])


@app.get("/payments/<payment_id>")
def payment_page(payment_id: str) -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    service, key, local = payment_use_cases()
    return payment_pages.payment_page(visit(), membership, service, payment_id, key, local)


@app.get("/payments/<payment_id>/boleto")
def boleto_page(payment_id: str) -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return payment_pages.boleto_page(visit(), membership, payment_use_cases()[0], payment_id)


@app.get("/payment-methods")
def payment_methods_page() -> Response[str]:
    service, key, local = payment_use_cases()
    return payment_pages.methods_page(visit(), require_account(app, Permission.INVOICES), service, key, local)


@app.post("/payment-methods")
def add_payment_method() -> Response[str]:
    service, key, local = payment_use_cases()
    return payment_pages.add_method(visit(), require_account(app, Permission.INVOICES), service, key, local)


@app.post("/payment-methods/<payment_method_id>/default")
def default_payment_method(payment_method_id: str) -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return payment_pages.make_default(visit(), membership, payment_use_cases()[0], payment_method_id)


@app.get("/payment-methods/<payment_method_id>/services")
def payment_method_services_page(payment_method_id: str) -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return payment_pages.method_services_page(visit(), membership, payment_use_cases()[0], payment_method_id)


@app.post("/payment-methods/<payment_method_id>/services")
def payment_method_services(payment_method_id: str) -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return payment_pages.set_method_services(visit(), membership, payment_use_cases()[0], payment_method_id)


@app.post("/payment-methods/<payment_method_id>/remove")
def remove_payment_method(payment_method_id: str) -> Response[str]:
    membership = require_account(app, Permission.INVOICES)
    return payment_pages.remove_method(visit(), membership, payment_use_cases()[0], payment_method_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
