"""Parameter types and checks routes share: instants and days the database and the date maths
can hold, and day ranges within a limit.

An aware datetime such as ``0001-01-01T00:00+00:01`` or ``2000-01-01T00:00+16:00`` is valid
ISO 8601 but cannot be converted to UTC in Python, or stored by PostgreSQL (offsets are
limited to 15:59). :data:`UtcDatetime` takes any aware time within :data:`FIRST` ..
:data:`LAST` and hands the route its UTC equivalent; anything else is a 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime

from anh_reporter.api.errors import ApiError

MAX_ID32 = 2**31 - 1
"""The largest ``integer`` (serial) id: a larger one in a path or query is a 422, not a 500."""
MAX_ID64 = 2**63 - 1
"""The largest ``bigint`` (bigserial) id."""

FieldId = Annotated[int, Path(ge=1, le=MAX_ID32)]
"""A field id in a path."""

FIRST_DAY = dt.date(1970, 1, 2)
LAST_DAY = dt.date(2199, 12, 31)
"""The contract days a route takes: what the contract-day maths and the stored figures hold."""

FIRST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LAST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _utc(value: dt.datetime) -> dt.datetime:
    try:
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not FIRST <= utc < LAST:
        raise ValueError(f"must be from {FIRST.isoformat()} to {LAST.isoformat()}")
    return utc


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
"""An aware datetime (any offset) between 1900 and 2200, converted to UTC."""


def check_days(start_day: dt.date, end_day: dt.date, limit: int) -> list[dt.date]:
    """The days from ``start_day`` to ``end_day`` inclusive; 422 naming the parameter unless
    ``start_day <= end_day`` within ``limit`` days."""
    if end_day < start_day:
        raise ApiError(
            422, "validation_error", f"end_day: {end_day} is before start_day {start_day}"
        )
    n = (end_day - start_day).days + 1
    if n > limit:
        raise ApiError(
            422, "validation_error", f"end_day: the range is {n} days; the limit is {limit}"
        )
    return [start_day + dt.timedelta(days=i) for i in range(n)]
