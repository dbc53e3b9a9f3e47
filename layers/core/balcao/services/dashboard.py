"""The overview a signed-in customer lands on: their services, what is due, open tickets and what needs them.

One read for a member (the account's services, invoice summary and ticket counts sort together under the account)
and one for a technical delegate (their service). What needs attention is derived here, not in the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from balcao.domain.accounts import Membership
from balcao.domain.money import Money
from balcao.domain.service_lifecycle import ServiceReason, ServiceStatus
from balcao.domain.services import Service

SHOWN_STATUSES = frozenset({ServiceStatus.PENDING, ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED})


@dataclass(frozen=True, slots=True)
class TicketTally:
    open: int = 0  # every ticket not closed
    answered: int = 0  # answered by the team and waiting for the customer


@dataclass(frozen=True, slots=True)
class AccountOverview:
    services: tuple[Service, ...] = ()  # pending, active and suspended ones, by name
    due: tuple[Money, ...] = ()  # what the unpaid invoices still ask for, per currency (none when nothing is due)
    unpaid_invoices: int = 0
    tickets: TicketTally = TicketTally()

    @property
    def active_services(self) -> int:
        return sum(1 for service in self.services if service.status is ServiceStatus.ACTIVE)

    @property
    def suspended_for_overdue(self) -> tuple[Service, ...]:
        """Services a payment brings back: the customer's first thing to do."""
        return tuple(
            s for s in self.services if s.status is ServiceStatus.SUSPENDED and s.reason is ServiceReason.OVERDUE
        )

    @property
    def suspended_otherwise(self) -> tuple[Service, ...]:
        """Suspended by the team (abuse, request): the customer talks to support."""
        return tuple(
            s for s in self.services if s.status is ServiceStatus.SUSPENDED and s.reason is not ServiceReason.OVERDUE
        )


class OverviewReader(Protocol):
    def overview(self, account_id: str) -> AccountOverview:
        """The account's services, invoice summary and ticket counts (one read)."""
        ...

    def service(self, account_id: str, service_id: str) -> Service | None: ...


@dataclass
class Dashboard:
    reader: OverviewReader

    def overview(self, membership: Membership) -> AccountOverview:
        """A member's overview; a technical delegate sees their one service and nothing of the account's money."""
        if membership.is_delegate:
            service = self.reader.service(membership.account_id, membership.service_id or "")
            shown = (service,) if service is not None and service.status in SHOWN_STATUSES else ()
            return AccountOverview(services=shown)
        return self.reader.overview(membership.account_id)
