"""Parameter types routes share: instants and days the database and the date maths can hold.

An aware datetime such as ``0001-01-01T00:00+00:01`` or ``2000-01-01T00:00+16:00`` is valid
ISO 8601 but cannot be converted to UTC in Python, or stored by PostgreSQL (offsets are
limited to 15:59). :data:`UtcDatetime` takes any aware time within :data:`FIRST` ..
:data:`LAST` and hands the route its UTC equivalent; anything else is a 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

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
