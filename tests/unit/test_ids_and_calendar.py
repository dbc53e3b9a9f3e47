"""ULIDs and the wire formats of time."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from balcao.domain.calendar import format_timestamp, local_date, parse_timestamp, start_of_local_day
from balcao.domain.ids import is_ulid, new_ulid, ulid_time_ms


def test_ulids_are_26_crockford_characters_sorted_by_creation():
    ids = [new_ulid() for _ in range(1000)]
    assert all(is_ulid(i) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 1000


def test_a_ulid_carries_its_creation_time():
    before = int(time.time() * 1000)
    value = new_ulid()
    assert before <= ulid_time_ms(value) <= int(time.time() * 1000)


def test_timestamps_travel_as_utc_seconds_with_z():
    moment = datetime(2026, 11, 22, 12, 30, 5, 999, tzinfo=UTC)
    assert format_timestamp(moment) == "2026-11-22T12:30:05Z"
    assert parse_timestamp("2026-11-22T12:30:05Z") == moment.replace(microsecond=0)


def test_calendar_dates_are_in_the_company_timezone():
    late_evening_in_sao_paulo = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    assert local_date(late_evening_in_sao_paulo, "America/Sao_Paulo") == date(2026, 11, 22)
    assert local_date(late_evening_in_sao_paulo, "Europe/Madrid") == date(2026, 11, 23)
    assert start_of_local_day(date(2026, 11, 22), "America/Sao_Paulo") == datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
