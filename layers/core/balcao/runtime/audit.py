"""Audit recording for the resolver factory: one entry per successful mutating request by a signed-in caller."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from balcao.domain.audit import AuditEntry
from balcao.domain.ids import new_ulid
from balcao.domain.principal import Principal
from balcao.services.ports import AuditLog, Clock

SECRET_PATH_PARAMETERS = frozenset({"token"})


class RequestAuditor:
    """Builds the entry from the request (route, path ids, caller, source IP, request id) and records it.

    The account is the path's ``account_id`` or, for routes addressed by another id (staff routes), the
    ``audit_account_id`` a route puts in the resolver's context.
    """

    def __init__(self, log: AuditLog, clock: Clock) -> None:
        self._log = log
        self._clock = clock

    def __call__(self, app: APIGatewayRestResolver, response: Response[Any]) -> None:
        principal = app.context.get("principal")
        if not isinstance(principal, Principal):
            return
        event = app.current_event
        route = app.context.get("_route")
        rule = getattr(route, "openapi_path", None) or event.resource or event.path
        # Secrets in paths (invitation tokens) never reach the audit log.
        path_ids = {k: v for k, v in (event.path_parameters or {}).items() if v and k not in SECRET_PATH_PARAMETERS}
        account_id = path_ids.get("account_id") or app.context.get("audit_account_id")
        self._log.record(
            AuditEntry(
                audit_id=new_ulid(),
                at=self._clock.now(),
                actor_user_id=principal.user_id,
                actor_email=principal.email,
                account_id=account_id if isinstance(account_id, str) else None,
                action=f"{event.http_method} {rule}",
                target=path_ids,
                source_ip=event.request_context.identity.source_ip,
                request_id=event.request_context.request_id,
                staff=principal.is_staff,
            )
        )
