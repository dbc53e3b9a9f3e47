"""Route access declarations: who may call a route, stated once where the route is declared.

``@app.get(path, **access.account(Permission.CONTACTS))`` both enforces the rule (a route middleware) and documents
it in the OpenAPI operation (``x-balcao-access``, ``x-balcao-permission``), which the BOLA matrix reads to classify
every route. A route without a declaration fails the matrix.

The principal loader reads the caller's session record — and, on account routes, their membership — in one
DynamoDB call (a TransactGet): a revoked or expired session is refused at once whatever the token says; the
membership goes through the one policy (``balcao.domain.accounts.authorize``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from balcao.adapters.clock import app_clock
from balcao.domain.accounts import AccountProfile, Membership, Permission, authorize
from balcao.domain.errors import ForbiddenError, NotFoundError, UnauthenticatedError
from balcao.domain.identity import Session, StaffMfaRequiredError, User
from balcao.domain.principal import Principal, StaffRole
from balcao.runtime.auth import principal_from_claims
from balcao.services.ports import AccessReader

ACCESS_EXTENSION = "x-balcao-access"
PERMISSION_EXTENSION = "x-balcao-permission"
STAFF_ROLES_EXTENSION = "x-balcao-staff-roles"
SERVICE_SCOPED_EXTENSION = "x-balcao-service-scoped"
OWNER_ONLY_EXTENSION = "x-balcao-owner-only"

Middleware = Callable[[APIGatewayRestResolver, NextMiddleware], Response[Any]]


_reader: AccessReader | None = None


def access_reader() -> AccessReader:
    global _reader
    if _reader is None:
        from balcao.adapters.dynamodb.access import DynamoAccessReader

        _reader = DynamoAccessReader()
    return _reader


def claims_of(app: APIGatewayRestResolver) -> dict[str, Any] | None:
    authorizer = app.current_event.request_context.authorizer
    claims = authorizer.claims if authorizer is not None else None
    return dict(claims) if claims else None


def load_principal(
    app: APIGatewayRestResolver, account_id: str | None = None, *, with_account: bool = False, with_user: bool = False
) -> Principal:
    """The caller with their live session (and, as asked, membership, account and user), loaded once per request."""
    cached = app.context.get("principal")
    if isinstance(cached, Principal):
        return cached
    principal = principal_from_claims(claims_of(app))
    if principal.session_key is None:
        raise UnauthenticatedError()
    read = access_reader().load(
        principal.session_key, principal.user_id, account_id, with_account=with_account, with_user=with_user
    )
    session = read.session
    if session is None or session.user_id != principal.user_id or not session.is_active(app_clock().now()):
        raise UnauthenticatedError()
    principal = replace(principal, email=session.email, mfa_passed=session.mfa_passed, language=session.language)
    app.context.update(principal=principal, session=session, language=session.language, membership=read.membership)
    if with_account:
        app.context["account"] = read.account
    if with_user:
        app.context["user"] = read.user
    return principal


def current_principal(app: APIGatewayRestResolver) -> Principal:
    return load_principal(app)


def current_session(app: APIGatewayRestResolver) -> Session:
    load_principal(app)
    session = app.context["session"]
    assert isinstance(session, Session)
    return session


def current_account(app: APIGatewayRestResolver) -> AccountProfile:
    """The path's account profile, read with the authorization (routes declared ``with_account=True``)."""
    account = app.context.get("account")
    if not isinstance(account, AccountProfile):
        raise NotFoundError()
    return account


def current_user(app: APIGatewayRestResolver) -> User:
    """The caller's own user record, read with the session (routes declared ``signed_in(with_user=True)``)."""
    user = app.context.get("user")
    if not isinstance(user, User):
        raise UnauthenticatedError()
    return user


def current_membership(app: APIGatewayRestResolver) -> Membership:
    membership = app.context.get("membership")
    if not isinstance(membership, Membership):
        raise RuntimeError("current_membership() on a route without access.account()")
    return membership


def _signed_in_middleware(with_user: bool) -> Middleware:
    def require_session(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        load_principal(app, with_user=with_user)
        return next_middleware(app)

    return require_session


def _staff_middleware(allowed: frozenset[StaffRole]) -> Middleware:
    def require_staff(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        principal = load_principal(app)
        if not principal.has_staff_role(allowed):
            raise ForbiddenError()
        if not principal.mfa_passed:
            raise StaffMfaRequiredError()
        return next_middleware(app)

    return require_staff


def _account_middleware(
    permission: Permission | None, owner_only: bool, service_scoped: bool, with_account: bool
) -> Middleware:
    def require_membership(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        parameters = app.current_event.path_parameters or {}
        account_id = parameters.get("account_id", "")
        principal = load_principal(app, account_id, with_account=with_account)
        app.context["membership"] = authorize(
            app.context.get("membership"),
            permission,
            mfa_passed=principal.mfa_passed,
            owner_only=owner_only,
            service_id=parameters.get("service_id"),
            service_scoped=service_scoped,
        )
        return next_middleware(app)

    return require_membership


ERRORS_EXTENSION = "x-balcao-errors"


def public(*, rate_limited: bool = False) -> dict[str, Any]:
    """No sign-in (``Authorizer: NONE`` in template.yaml); ``rate_limited`` documents its 429."""
    extensions: dict[str, Any] = {ACCESS_EXTENSION: "public"}
    if rate_limited:
        extensions[ERRORS_EXTENSION] = [429]
    return {"openapi_extensions": extensions}


def signed_in(*, with_user: bool = False) -> dict[str, Any]:
    """Any signed-in user, acting on their own data (``/api/me/…``, invitations); ``with_user`` reads their record
    in the same call as the session."""
    return {"openapi_extensions": {ACCESS_EXTENSION: "self"}, "middlewares": [_signed_in_middleware(with_user)]}


def staff(*roles: StaffRole) -> dict[str, Any]:
    """Staff with one of ``roles`` (admins always), signed in with TOTP. A customer gets 403 ``forbidden``."""
    allowed = frozenset(roles)
    return {
        "openapi_extensions": {ACCESS_EXTENSION: "staff", STAFF_ROLES_EXTENSION: sorted(r.value for r in allowed)},
        "middlewares": [_staff_middleware(allowed)],
    }


def account(
    permission: Permission | None = None,
    *,
    owner_only: bool = False,
    service_scoped: bool = False,
    with_account: bool = False,
) -> dict[str, Any]:
    """A member of the path's account holding ``permission`` (the owner holds all); otherwise 404.

    ``service_scoped``: technical delegates may call it, for their own service only. ``with_account``: the account's
    profile is read in the same call as the authorization (``current_account(app)``).
    """
    extensions: dict[str, Any] = {ACCESS_EXTENSION: "account"}
    if permission is not None:
        extensions[PERMISSION_EXTENSION] = permission.value
    if owner_only:
        extensions[OWNER_ONLY_EXTENSION] = True
    if service_scoped:
        extensions[SERVICE_SCOPED_EXTENSION] = True
    return {
        "openapi_extensions": extensions,
        "middlewares": [_account_middleware(permission, owner_only, service_scoped, with_account)],
    }
