"""Contract-day windows from the field's timezone and start hour (timezones passed explicitly)."""

from __future__ import annotations

import datetime as dt

import pytest

from anh_reporter.production.contract_day import contract_day, contract_day_of, last_complete_day

UTC = dt.UTC


def test_bogota_six_to_six_is_eleven_to_eleven_utc() -> None:
    day = contract_day(dt.date(2026, 2, 2), timezone="America/Bogota", start_hour=6)
    # Bogota is UTC-5 all year: 06:00 local = 11:00 UTC.
    assert day.start == dt.datetime(2026, 2, 2, 11, tzinfo=UTC)
    assert day.end == dt.datetime(2026, 2, 3, 11, tzinfo=UTC)
    assert day.hours == 24.0
    assert day.end_us - day.start_us == 86_400_000_000


def test_midnight_start() -> None:
    day = contract_day(dt.date(2026, 2, 2), timezone="America/Bogota", start_hour=0)
    assert (day.start, day.end) == (
        dt.datetime(2026, 2, 2, 5, tzinfo=UTC),
        dt.datetime(2026, 2, 3, 5, tzinfo=UTC),
    )


def test_instant_belongs_to_the_day_that_started_before_it() -> None:
    before = dt.datetime(2026, 2, 3, 10, 59, 59, tzinfo=UTC)  # 05:59:59 Bogota on 3 Feb
    at = dt.datetime(2026, 2, 3, 11, tzinfo=UTC)  # 06:00 Bogota on 3 Feb
    kw = {"timezone": "America/Bogota", "start_hour": 6}
    assert contract_day_of(before, **kw).day == dt.date(2026, 2, 2)
    assert contract_day_of(at, **kw).day == dt.date(2026, 2, 3)


def test_last_complete_day_is_yesterdays() -> None:
    now = dt.datetime(2026, 2, 3, 12, tzinfo=UTC)  # 07:00 Bogota on 3 Feb
    day = last_complete_day(now, timezone="America/Bogota", start_hour=6)
    assert day.day == dt.date(2026, 2, 2) and day.is_over(now)
    early = dt.datetime(2026, 2, 3, 10, tzinfo=UTC)  # 05:00 Bogota: 2 Feb still running
    assert last_complete_day(early, timezone="America/Bogota", start_hour=6).day == dt.date(
        2026, 2, 1
    )


def test_daylight_saving_days_are_23_and_25_hours() -> None:
    # New York springs forward on 8 Mar 2026 and falls back on 1 Nov 2026 (at 02:00).
    spring = contract_day(dt.date(2026, 3, 7), timezone="America/New_York", start_hour=6)
    assert spring.start == dt.datetime(2026, 3, 7, 11, tzinfo=UTC)  # 06:00 EST
    assert spring.end == dt.datetime(2026, 3, 8, 10, tzinfo=UTC)  # 06:00 EDT
    assert spring.hours == 23.0
    fall = contract_day(dt.date(2026, 10, 31), timezone="America/New_York", start_hour=6)
    assert fall.hours == 25.0


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError, match=r"start hour must be in \[0, 23\], got 24"):
        contract_day(dt.date(2026, 1, 1), timezone="America/Bogota", start_hour=24)
    with pytest.raises(ValueError, match="naive datetime"):
        contract_day_of(dt.datetime(2026, 1, 1), timezone="America/Bogota", start_hour=6)  # noqa: DTZ001 - a naive time is what is tested
