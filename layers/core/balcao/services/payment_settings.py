"""The ``payments`` section of the company settings: automatic charging, boletos, PIX codes and card-expiry notices.

Defaults: saved methods are charged on the due date (0 days before) and retried 3 and 5 days after it; a boleto is
due 3 days after it is issued (never after the invoice's cancellation day); a PIX code is valid for 24 hours;
unpaid orders are cancelled 7 days after issue (the day a boleto may not pass). The suspension day a boleto's pause
is measured against comes from the dunning section.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from balcao.domain.payments.charges import AutochargeSchedule


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PaymentSettings(_Section):
    autocharge_days_before: int = Field(default=0, ge=0, le=30)
    autocharge_retries: tuple[int, ...] = Field(default=(3, 5), max_length=5)
    boleto_days: int = Field(default=3, ge=1, le=30)
    pix_expiry_minutes: int = Field(default=1440, ge=5, le=43_200)
    unpaid_order_days: int = Field(default=7, ge=1, le=90)
    card_expiry_notices: bool = True

    @field_validator("autocharge_retries")
    @classmethod
    def increasing(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(day < 1 or day > 60 for day in value) or list(value) != sorted(set(value)):
            raise ValueError("retries are increasing days after the due date, from 1 to 60")
        return value

    def schedule(self) -> AutochargeSchedule:
        return AutochargeSchedule(self.autocharge_days_before, tuple(self.autocharge_retries))
