"""Route access declarations: who may call a route, stated once where the route is declared.

``@app.get(path, **access.staff(StaffRole.FINANCE))`` both enforces the rule (a route middleware) and documents it
in the OpenAPI operation (``x-balcao-access``), which the BOLA matrix reads to classify every route. A route
without a declaration fails the matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from balcao.domain.errors import ForbiddenError
from balcao.domain.principal import Principal, StaffRole
from balcao.runtime.auth import principal_from_claims

ACCESS_EXTENSION = "x-balcao-access"
PERMISSION_EXTENSION = "x-balcao-permission"
STAFF_ROLES_EXTENSION = "x-balcao-staff-roles"

Middleware = Callable[[APIGatewayRestResolver, NextMiddleware], Response[Any]]


def claims_of(app: APIGatewayRestResolver) -> dict[str, Any] | None:
    authorizer = app.current_event.request_context.authorizer
    claims = authorizer.claims if authorizer is not None else None
    return dict(claims) if claims else None


def load_principal(app: APIGatewayRestResolver) -> Principal:
    """The caller, loaded once per request and kept in the resolver's context."""
    cached = app.context.get("principal")
    if isinstance(cached, Principal):
        return cached
    principal = principal_from_claims(claims_of(app))
    app.context["principal"] = principal
    if principal.language:
        app.context["language"] = principal.language
    return principal


def current_principal(app: APIGatewayRestResolver) -> Principal:
    return load_principal(app)


def _signed_in_middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    load_principal(app)
    return next_middleware(app)


def _staff_middleware(allowed: frozenset[StaffRole]) -> Middleware:
    def require_staff(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        principal = load_principal(app)
        if not principal.has_staff_role(allowed):
            raise ForbiddenError()
        return next_middleware(app)

    return require_staff


def public() -> dict[str, Any]:
    """No sign-in (``Authorizer: NONE`` in template.yaml)."""
    return {"openapi_extensions": {ACCESS_EXTENSION: "public"}}


def signed_in() -> dict[str, Any]:
    """Any signed-in user, acting on their own data (``/api/me/…``, invitations)."""
    return {"openapi_extensions": {ACCESS_EXTENSION: "self"}, "middlewares": [_signed_in_middleware]}


def staff(*roles: StaffRole) -> dict[str, Any]:
    """Staff with one of ``roles`` (admins always). A customer gets 403 ``forbidden``."""
    allowed = frozenset(roles)
    return {
        "openapi_extensions": {ACCESS_EXTENSION: "staff", STAFF_ROLES_EXTENSION: sorted(r.value for r in allowed)},
        "middlewares": [_staff_middleware(allowed)],
    }
