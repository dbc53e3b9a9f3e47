"""The devstack's application clock: wall time plus an offset that only grows.

Moving it (``/_dev/clock``) wakes every execution blocked in a Wait state, so workflows advance with it.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

from devstack.hooks import notify_clock_changed

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


class ClockMovedBackwardsError(ValueError):
    """The application clock only moves forward."""


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds (``P8D``, ``PT36H``, ``P1DT2H``)."""
    match = _DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    parts = {name: int(value) for name, value in match.groupdict().items() if value}
    return timedelta(**parts)


class DevClock:
    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, moment: datetime) -> datetime:
        with self._lock:
            current = self.now()
            if moment.astimezone(UTC) < current - timedelta(seconds=1):
                raise ClockMovedBackwardsError(f"the clock is at {current.isoformat()}; it only moves forward")
            self._offset += max(moment.astimezone(UTC) - current, timedelta(0))
        notify_clock_changed()
        return self.now()

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta(0):
            raise ClockMovedBackwardsError("the clock only moves forward")
        with self._lock:
            self._offset += by
        notify_clock_changed()
        return self.now()
