"""Billing cycles and calendar months.

A service keeps the day of the month it started on (its anchor): a service started on 31 January is due on 28 or 29
February, 31 March, 30 April… — adding months clamps to the month's last day without drifting.
"""

from __future__ import annotations

import calendar
from datetime import date
from enum import StrEnum


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"
    BIENNIAL = "biennial"

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12, "biennial": 24}[self.value]


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """``day`` moved by ``months`` (may be negative), on ``anchor_day`` (default: ``day.day``) clamped to the month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    wanted = anchor_day or day.day
    return date(year, month + 1, min(wanted, calendar.monthrange(year, month + 1)[1]))


def period_start(end: date, cycle: BillingCycle, anchor_day: int | None = None) -> date:
    """The first day of the period of ``cycle`` that ends (is due) on ``end``."""
    return add_months(end, -cycle.months, anchor_day or end.day)


def next_period_end(end: date, cycle: BillingCycle, anchor_day: int | None = None) -> date:
    return add_months(end, cycle.months, anchor_day or end.day)
