"""A hosting service's lifecycle (API.md): ``pending → active``, ``pending → cancelled``, ``active ⇄ suspended``,
``active | suspended → cancelled``, ``active | suspended → terminated``; cancelled and terminated are final.

Every change carries a reason and an actor. Only suspensions for ``overdue`` lift themselves when the invoice is
paid (WHMCS's rule): a suspension for abuse or by staff stays until staff lift it. Not paying is not cancelling —
that is dunning's, with reason ``overdue``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from balcao.domain.errors import N_, ConflictError


class ServiceStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"


class ServiceReason(StrEnum):
    OVERDUE = "overdue"
    ABUSE = "abuse"
    CUSTOMER_REQUEST = "customer_request"
    STAFF = "staff"
    UNPAID_ORDER = "unpaid_order"


ALLOWED: dict[ServiceStatus, frozenset[ServiceStatus]] = {
    ServiceStatus.PENDING: frozenset({ServiceStatus.ACTIVE, ServiceStatus.CANCELLED}),
    ServiceStatus.ACTIVE: frozenset({ServiceStatus.SUSPENDED, ServiceStatus.CANCELLED, ServiceStatus.TERMINATED}),
    ServiceStatus.SUSPENDED: frozenset({ServiceStatus.ACTIVE, ServiceStatus.CANCELLED, ServiceStatus.TERMINATED}),
    ServiceStatus.CANCELLED: frozenset(),
    ServiceStatus.TERMINATED: frozenset(),
}
FINAL = frozenset({ServiceStatus.CANCELLED, ServiceStatus.TERMINATED})


class IllegalTransitionError(ConflictError):
    """A service cannot move from its status to the one asked (409)."""

    default_message = N_("This service cannot change to that status now.")

    def __init__(self, current: ServiceStatus, wanted: ServiceStatus) -> None:
        super().__init__()
        self.current = current
        self.wanted = wanted


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: ServiceStatus
    reason: ServiceReason | None
    actor: str  # a user id, "staff:<id>", or "system:<job or workflow>"
    at: datetime


def check_transition(current: ServiceStatus, wanted: ServiceStatus) -> None:
    if wanted not in ALLOWED[current]:
        raise IllegalTransitionError(current, wanted)


def lifts_on_payment(status: ServiceStatus, reason: ServiceReason | None) -> bool:
    """Whether paying lifts this suspension by itself (only ``overdue`` ones do)."""
    return status is ServiceStatus.SUSPENDED and reason is ServiceReason.OVERDUE
