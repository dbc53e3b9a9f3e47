"""Billing cycles, service periods and which due dates a renewal run covers.

A renewal invoice for a service is issued ``lead`` days before its next due date (default 14, overridable per
product and cycle). The run keeps, per lead, the last due date it covered; each run covers the due dates after it up
to ``today + lead``, so missed days are caught up and a due date is visited once. A lead new to the run starts after
the smallest date any lead covered (a superset: the per-(service, period) guard absorbs the overlap).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from balcao.domain.cycles import BillingCycle, add_months


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def next_due_date(self) -> date:
        return self.end + timedelta(days=1)


def period_from(due_date: date, cycle: BillingCycle, anchor_day: int | None = None) -> Period:
    """The period a renewal due on ``due_date`` pays for: from that date to the day before the next one.

    ``anchor_day`` is the service's day of the month, so a service started on the 31st stays on the 31st after a
    short month instead of drifting to the 28th.
    """
    return Period(due_date, add_months(due_date, cycle.months, anchor_day) - timedelta(days=1))


@dataclass(frozen=True, slots=True)
class LeadOverride:
    product_id: str
    cycle: BillingCycle | None
    lead_days: int


@dataclass(frozen=True, slots=True)
class LeadPolicy:
    default_days: int
    overrides: tuple[LeadOverride, ...] = ()

    def lead_for(self, product_id: str | None, cycle: BillingCycle) -> int:
        """The override for (product, cycle), then for the product in any cycle, then the default."""
        exact = [o for o in self.overrides if o.product_id == product_id and o.cycle is cycle]
        if exact:
            return exact[0].lead_days
        any_cycle = [o for o in self.overrides if o.product_id == product_id and o.cycle is None]
        return any_cycle[0].lead_days if any_cycle else self.default_days

    @property
    def leads(self) -> frozenset[int]:
        return frozenset({self.default_days, *(o.lead_days for o in self.overrides)})


@dataclass(frozen=True, slots=True)
class Window:
    """The due dates a run visits for one lead: ``first`` to ``last`` inclusive (empty when first > last)."""

    lead_days: int
    first: date
    last: date

    def days(self) -> Iterable[date]:
        day = self.first
        while day <= self.last:
            yield day
            day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RenewalCoverage:
    """Per lead, the last due date a run covered completely (the stored checkpoint)."""

    covered: Mapping[int, date] = field(default_factory=dict)

    def windows(self, today: date, leads: Iterable[int]) -> list[Window]:
        found: list[Window] = []
        floor = min(self.covered.values()) if self.covered else None
        for lead in sorted(set(leads)):
            if lead in self.covered:
                first = self.covered[lead] + timedelta(days=1)
            elif floor is not None:
                first = floor + timedelta(days=1)
            else:
                first = today  # the first run ever: what is due from today on
            found.append(Window(lead, first, today + timedelta(days=lead)))
        return found

    def advanced(self, lead: int, through: date) -> RenewalCoverage:
        current = self.covered.get(lead)
        if current is not None and current >= through:
            return self
        return RenewalCoverage({**self.covered, lead: through})
