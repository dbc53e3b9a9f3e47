"""The app-level rate limiter of the access routes (sign-up, confirm, login, MFA, forgot, reset): a DynamoDB token
bucket per (route, source IP) and per (route, normalised email), limits from the company settings; over the limit
→ 429 ``rate_limited`` with ``Retry-After``."""

from __future__ import annotations

from typing import Protocol

from balcao.domain.errors import RateLimitedError
from balcao.services.company_settings import RateLimit, RateLimitSettings


class Buckets(Protocol):
    def take(self, route: str, subject: str, capacity: int, refill_per_second: float, now: float) -> bool: ...


def enforce(
    route: str, limits: RateLimitSettings, buckets: Buckets, *, ip: str | None, email: str | None, now: float
) -> None:
    route_limits = getattr(limits, route)
    checks: list[tuple[str, RateLimit]] = []
    if ip:
        checks.append((f"ip:{ip}", route_limits.per_ip))
    if email and route_limits.per_email is not None:
        checks.append((f"email:{email.strip().lower()}", route_limits.per_email))
    for subject, limit in checks:
        if not buckets.take(route, subject, limit.capacity, limit.capacity / limit.window_seconds, now):
            raise RateLimitedError(retry_after_seconds=max(1, round(limit.window_seconds / limit.capacity)))
