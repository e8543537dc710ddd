"""The contract day: the 24-hour (or DST-shortened/lengthened) window a daily figure covers.

A field's contract day ``D`` runs from ``D`` at ``start_hour`` local time to ``D + 1`` at
``start_hour``, in the field's IANA timezone, as the half-open window ``[start, end)``. The day
is named by the local date on which it *starts* (the usual convention for daily reports: the
06:00-to-06:00 day that starts on 2 Feb is "2 Feb"). Timezones are always passed explicitly;
nothing here reads the machine's local time. In a zone with daylight saving time the window is
23 or 25 hours on the transition days; America/Bogota has none, so its days are always 24 h.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from anh_reporter.domain.timeutil import to_us


@dataclass(frozen=True)
class ContractDay:
    """One contract day of one field: its name (a date) and its UTC window."""

    day: dt.date
    start: dt.datetime
    """Aware UTC datetime: the first instant of the day."""
    end: dt.datetime
    """Aware UTC datetime: the first instant of the next day (excluded)."""
    timezone: str
    start_hour: int

    @property
    def start_us(self) -> int:
        """Start in µs since the Unix epoch."""
        return to_us(self.start)

    @property
    def end_us(self) -> int:
        """End (excluded) in µs since the Unix epoch."""
        return to_us(self.end)

    @property
    def hours(self) -> float:
        """Length of the window in hours (24 except on DST transition days)."""
        return (self.end - self.start).total_seconds() / 3600.0

    def is_over(self, now: dt.datetime) -> bool:
        """True once ``now`` (aware) is at or after the end of the day."""
        return now >= self.end


def _check_hour(start_hour: int) -> None:
    if not 0 <= start_hour <= 23:
        raise ValueError(f"contract day start hour must be in [0, 23], got {start_hour!r}")


def contract_day(
    day: dt.date, *, timezone: str, start_hour: int, next_start_hour: int | None = None
) -> ContractDay:
    """The window of contract day ``day`` for a field in ``timezone`` starting at ``start_hour``.

    ``next_start_hour`` is the next day's start hour when the contract hour changes between the
    two days: the window then ends where the next one starts, so no instant is lost or counted
    twice (the day is shorter or longer than 24 h).
    """
    _check_hour(start_hour)
    end_hour = start_hour if next_start_hour is None else next_start_hour
    _check_hour(end_hour)
    zone = ZoneInfo(timezone)
    start_local = dt.datetime.combine(day, dt.time(start_hour), zone)
    end_local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(end_hour), zone)
    return ContractDay(
        day=day,
        start=start_local.astimezone(dt.UTC),
        end=end_local.astimezone(dt.UTC),
        timezone=timezone,
        start_hour=start_hour,
    )


def contract_day_of(instant: dt.datetime, *, timezone: str, start_hour: int) -> ContractDay:
    """The contract day that contains ``instant`` (an aware datetime)."""
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant.isoformat()} given; an aware time is needed")
    _check_hour(start_hour)
    local = instant.astimezone(ZoneInfo(timezone))
    day = local.date() if local.hour >= start_hour else local.date() - dt.timedelta(days=1)
    return contract_day(day, timezone=timezone, start_hour=start_hour)


def last_complete_day(now: dt.datetime, *, timezone: str, start_hour: int) -> ContractDay:
    """The most recent contract day that is over at ``now`` ("yesterday" for a daily report)."""
    current = contract_day_of(now, timezone=timezone, start_hour=start_hour)
    return contract_day(
        current.day - dt.timedelta(days=1), timezone=timezone, start_hour=start_hour
    )
