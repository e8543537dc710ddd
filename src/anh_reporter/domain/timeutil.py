"""Instants as int64 microseconds since the Unix epoch (UTC): the unit of every batch."""

from __future__ import annotations

import datetime as dt

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
US_PER_SECOND = 1_000_000
US_PER_HOUR = 3_600 * US_PER_SECOND
US_PER_DAY = 86_400 * US_PER_SECOND


def to_us(when: dt.datetime) -> int:
    """Microseconds since the epoch of an aware datetime (naive ones are refused)."""
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when.isoformat()} given; an aware time is needed")
    delta = when - EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def from_us(us: int) -> dt.datetime:
    """The aware UTC datetime of ``us`` microseconds since the epoch."""
    return EPOCH + dt.timedelta(microseconds=int(us))
