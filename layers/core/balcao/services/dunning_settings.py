"""The ``dunning`` section of the company settings: the default timeline, per-product and per-account overrides.

Defaults (PRODUCT.md, day 0 = due date): reminder at −3, overdue notices at +1, +3 and +7, suspension at +7 (a
pending payment pauses it), termination at +30 but off; steps run at 09:00 in the company's timezone. Late fees are
the invoices section's (the ``late_fees`` job).

Overrides replace only the fields they set; an account's (e.g. ``no_suspension_before`` for a promise to pay) wins
over a product's, which wins over the defaults. Setting an override to ``null`` removes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from balcao.domain.dunning import MAX_NOTICES, DunningPolicy, PolicyOverride, merge_most_lenient

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
ID = r"^[A-Za-z0-9_.:-]{1,64}$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _notice_days(days: list[int] | None) -> list[int] | None:
    if days is None:
        return None
    if len(days) > MAX_NOTICES:
        raise ValueError("at most three overdue notices")
    if any(d < 0 or d > 365 for d in days) or sorted(set(days)) != days:
        raise ValueError("days after the due date, from 0 to 365, in increasing order")
    return days


class DunningOverrideSettings(_Section):
    """A product's or an account's exceptions; every field is optional."""

    reminder_days_before: int | None = Field(default=None, ge=0, le=60)
    no_reminder: bool = False
    overdue_notice_days: list[int] | None = None
    suspend: bool | None = None
    suspend_after_days: int | None = Field(default=None, ge=0, le=365)
    terminate: bool | None = None
    terminate_after_days: int | None = Field(default=None, ge=1, le=730)
    pending_pauses_suspension: bool | None = None
    no_suspension_before: date | None = None
    note: str | None = Field(default=None, max_length=200)  # why (e.g. "promise to pay by the 20th")

    @field_validator("overdue_notice_days")
    @classmethod
    def valid_days(cls, days: list[int] | None) -> list[int] | None:
        return _notice_days(days)

    def override(self) -> PolicyOverride:
        return PolicyOverride(
            reminder_days_before=self.reminder_days_before,
            no_reminder=self.no_reminder,
            overdue_notice_days=tuple(self.overdue_notice_days) if self.overdue_notice_days is not None else None,
            suspend_after_days=self.suspend_after_days,
            suspend=self.suspend,
            terminate_after_days=self.terminate_after_days,
            terminate=self.terminate,
            pending_pauses_suspension=self.pending_pauses_suspension,
            no_suspension_before=self.no_suspension_before,
        )


def _drop_removed(value: Any) -> Any:
    """``{"id": null}`` in a PATCH removes that override."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v is not None}
    return value


class DunningSettings(_Section):
    reminder_days_before: int | None = Field(default=3, ge=0, le=60)  # None: no reminder
    overdue_notice_days: list[int] = Field(default_factory=lambda: [1, 3, 7])
    suspend: bool = True
    suspend_after_days: int = Field(default=7, ge=0, le=365)
    terminate: bool = False
    terminate_after_days: int = Field(default=30, ge=1, le=730)
    pending_pauses_suspension: bool = True
    hour: int = Field(default=9, ge=0, le=23)  # local time of day at which steps run
    staff_alert_email: str | None = Field(default=None, pattern=EMAIL)  # default: the company's support email
    products: dict[str, DunningOverrideSettings] = Field(default_factory=dict, max_length=500)
    accounts: dict[str, DunningOverrideSettings] = Field(default_factory=dict, max_length=2000)

    @field_validator("overdue_notice_days")
    @classmethod
    def valid_days(cls, days: list[int]) -> list[int]:
        checked = _notice_days(days)
        assert checked is not None
        return checked

    @field_validator("products", "accounts", mode="before")
    @classmethod
    def removed_overrides(cls, value: Any) -> Any:
        return _drop_removed(value)

    @field_validator("products", "accounts")
    @classmethod
    def valid_ids(cls, value: dict[str, DunningOverrideSettings]) -> dict[str, DunningOverrideSettings]:
        import re

        if any(not re.match(ID, key) for key in value):
            raise ValueError("ids are 1 to 64 letters, digits, '_', '.', ':' or '-'")
        return value

    @model_validator(mode="after")
    def termination_after_suspension(self) -> DunningSettings:
        if self.terminate_after_days <= self.suspend_after_days:
            raise ValueError("termination comes after suspension")
        return self

    @property
    def _days(self) -> dict[str, int]:
        return {"suspend_days": self.suspend_after_days, "terminate_days": self.terminate_after_days}

    def base_policy(self, timezone: str) -> DunningPolicy:
        return DunningPolicy(
            reminder_days_before=self.reminder_days_before,
            overdue_notice_days=tuple(self.overdue_notice_days),
            suspend_after_days=self.suspend_after_days if self.suspend else None,
            terminate_after_days=self.terminate_after_days if self.suspend and self.terminate else None,
            pending_pauses_suspension=self.pending_pauses_suspension,
            hour=self.hour,
            timezone=timezone,
        )

    def policy_for(self, timezone: str, account_id: str, product_ids: Iterable[str | None] = ()) -> DunningPolicy:
        """Defaults, then each product's override (several products: the most lenient), then the account's."""
        base = self.base_policy(timezone)
        per_product = [
            self.products[p].override().apply(base, **self._days)
            for p in dict.fromkeys(product_ids)
            if p is not None and p in self.products
        ]
        policy = merge_most_lenient(per_product) if per_product else base
        account = self.accounts.get(account_id)
        if account is not None:
            policy = account.override().apply(policy, **self._days)
        return policy
