"""Time on the wire and in the company's timezone (API.md "Dates").

Timestamps travel as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds); calendar dates (due dates, periods) as
``YYYY-MM-DD`` in the company's timezone. Business time always comes from the ``Clock`` port.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Parse ``YYYY-MM-DDTHH:MM:SSZ`` (or any ISO 8601 with an offset) into an aware UTC datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("timestamp without timezone")
    return moment.astimezone(UTC)


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date of ``moment`` in ``timezone`` (an IANA name such as ``America/Sao_Paulo``)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def start_of_local_day(day: date, timezone: str) -> datetime:
    """The UTC instant at which ``day`` starts in ``timezone``."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def add_days(moment: datetime, days: int) -> datetime:
    return moment + timedelta(days=days)
