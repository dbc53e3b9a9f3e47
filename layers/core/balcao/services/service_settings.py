"""The ``services`` section of the company settings: how long unpaid orders and plan changes wait, the live status's
timeout and cache, and how often a provisioning action is tried before staff are asked to look at it.

Defaults: unpaid orders and plan changes are cancelled 7 days after they were placed (their invoice is due then);
the live status waits 3 seconds for the control panel and a fresh answer is reused for 60 seconds; a provisioning
action is tried 5 times.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ServiceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    unpaid_order_days: int = Field(default=7, ge=1, le=60)
    unpaid_change_days: int = Field(default=7, ge=1, le=60)
    live_status_timeout_seconds: float = Field(default=3.0, gt=0, le=10)
    live_status_cache_seconds: int = Field(default=60, ge=0, le=3600)
    provisioning_attempts: int = Field(default=5, ge=1, le=20)
