"""Clocks. Deployed: wall time. The devstack installs a clock it can move forward (``/_dev/clock``).

Handlers get the process's business clock with ``app_clock()`` and pass it to services as the ``Clock`` port.
"""

from __future__ import annotations

from datetime import UTC, datetime

from balcao.services.ports import Clock


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


_installed: Clock = SystemClock()


class _InstalledClock:
    """Delegates to whichever clock is installed, so handlers may capture it at import."""

    def now(self) -> datetime:
        return _installed.now()


_APP_CLOCK = _InstalledClock()


def app_clock() -> Clock:
    return _APP_CLOCK


class WallClock:
    """Wall time for cryptographic freshness (TOTP steps, the pending-login window); never moved."""

    def epoch_seconds(self) -> float:
        import time

        return time.time()


def install_clock(clock: Clock) -> None:
    """Replace the business clock of this process (the devstack and tests do this; Lambda never does)."""
    global _installed
    _installed = clock
