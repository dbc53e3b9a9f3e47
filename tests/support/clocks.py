"""A clock tests set and move by hand (the ``Clock`` port)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FixedClock:
    def __init__(self, now: datetime | str = "2026-11-22T12:00:00Z") -> None:
        self._now = datetime.fromisoformat(now.replace("Z", "+00:00")) if isinstance(now, str) else now
        self._now = self._now.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, now: str) -> None:
        self._now = datetime.fromisoformat(now.replace("Z", "+00:00")).astimezone(UTC)
