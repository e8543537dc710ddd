"""Telemetry reads for the API: raw readings, time buckets (rollups, downsampling), CSV.

Buckets of whole hours come from ``telemetry_hourly`` (3-5x faster than raw rows); other
bucket sizes aggregate raw rows with ``date_bin``. Every figure except ``count`` uses Good
readings only, as the hourly rollup does. Quality is answered as the unsigned OPC UA code.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from pydantic import BaseModel

from anh_reporter.api.errors import ApiError
from anh_reporter.api.pool import ConnectionPool
from anh_reporter.api.scoping import SeriesRef
from anh_reporter.domain.quality import GOOD_STORED_UPPER

HOUR_S = 3600
MAX_BUCKETS = 10_000
_GOOD = f"(t.quality >= 0 AND t.quality < {GOOD_STORED_UPPER} AND t.value IS NOT NULL)"


class RawReadings(BaseModel):
    """Readings of one series in ``[start, end)``, as columns; ``next_start`` pages on."""

    series_id: int
    start: dt.datetime
    end: dt.datetime
    count: int
    truncated: bool
    next_start: dt.datetime | None
    time: list[dt.datetime]
    value: list[float | None]
    quality: list[int]


class Buckets(BaseModel):
    """Time buckets of one series: each list has one entry per bucket."""

    series_id: int
    start: dt.datetime
    end: dt.datetime
    interval_s: int
    source: str
    bucket: list[dt.datetime]
    count: list[int]
    good_count: list[int]
    avg: list[float | None]
    min: list[float | None]
    max: list[float | None]
    integral: list[float | None]
    first: list[float | None]
    last: list[float | None]


def check_range(start: dt.datetime, end: dt.datetime) -> None:
    """422 naming the parameters unless ``start < end``."""
    if end <= start:
        raise ApiError(
            422,
            "validation_error",
            f"end: must be after start (start={start.isoformat()}, end={end.isoformat()})",
        )


async def raw(
    conn: AsyncConnection[Any],
    series: SeriesRef,
    start: dt.datetime,
    end: dt.datetime,
    limit: int,
) -> dict[str, Any]:
    """Up to ``limit`` readings from ``start`` (inclusive) to ``end`` (exclusive), in order."""
    check_range(start, end)
    # Binary results: half the client CPU of text for the same Python values.
    async with conn.cursor(binary=True) as cur:
        await cur.execute(
            "SELECT time, value, quality::bigint & 4294967295 FROM telemetry "
            "WHERE series_id = %s AND time >= %s AND time < %s ORDER BY time LIMIT %s",
            (series.id, start, end, limit + 1),
        )
        rows = await cur.fetchall()
    truncated = len(rows) > limit
    rows = rows[:limit]
    return {
        "series_id": series.id,
        "start": start,
        "end": end,
        "count": len(rows),
        "truncated": truncated,
        "next_start": (rows[-1][0] + dt.timedelta(microseconds=1)) if truncated else None,
        "time": [r[0] for r in rows],
        "value": [r[1] for r in rows],
        "quality": [r[2] for r in rows],
    }


_HOURLY_SQL = """
SELECT date_bin(make_interval(secs => %(interval)s), hour, %(origin)s) AS bucket,
       sum(count)::int, sum(good_count)::int,
       sum(avg * good_count) FILTER (WHERE avg IS NOT NULL)
           / nullif(sum(good_count) FILTER (WHERE avg IS NOT NULL), 0),
       min(min), max(max), sum(integral),
       (array_agg(first_value ORDER BY first_time) FILTER (WHERE first_time IS NOT NULL))[1],
       (array_agg(last_value ORDER BY last_time DESC) FILTER (WHERE last_time IS NOT NULL))[1]
FROM telemetry_hourly
WHERE series_id = %(series)s AND hour >= %(start)s AND hour < %(end)s
GROUP BY bucket ORDER BY bucket
"""

_RAW_SQL = f"""
SELECT date_bin(make_interval(secs => %(interval)s), t.time, %(origin)s) AS bucket,
       count(*)::int, (count(*) FILTER (WHERE {_GOOD}))::int,
       avg(t.value) FILTER (WHERE {_GOOD}), min(t.value) FILTER (WHERE {_GOOD}),
       max(t.value) FILTER (WHERE {_GOOD}), NULL::float8,
       (array_agg(t.value ORDER BY t.time) FILTER (WHERE {_GOOD}))[1],
       (array_agg(t.value ORDER BY t.time DESC) FILTER (WHERE {_GOOD}))[1]
FROM telemetry t
WHERE t.series_id = %(series)s AND t.time >= %(start)s AND t.time < %(end)s
GROUP BY bucket ORDER BY bucket
"""  # noqa: S608 - built from module constants only


@dataclass(frozen=True)
class BucketPlan:
    """Where buckets come from, and the aligned range they cover."""

    interval_s: int
    start: dt.datetime
    end: dt.datetime
    from_hourly: bool


def plan_buckets(start: dt.datetime, end: dt.datetime, interval_s: int) -> BucketPlan:
    """Whole hours come from the hourly rollup (the range is widened to whole UTC hours)."""
    check_range(start, end)
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    n = math.ceil((end - start).total_seconds() / interval_s)
    if n > MAX_BUCKETS:
        raise ApiError(
            422,
            "validation_error",
            f"interval_s: {interval_s} s over this range makes {n:,} buckets; the limit is "
            f"{MAX_BUCKETS:,} (use a larger interval_s or a shorter range)",
        )
    if interval_s % HOUR_S == 0:
        start_h = start.replace(minute=0, second=0, microsecond=0)
        end_h = end.replace(minute=0, second=0, microsecond=0)
        if end_h < end:
            end_h += dt.timedelta(hours=1)
        return BucketPlan(interval_s, start_h, end_h, True)
    return BucketPlan(interval_s, start, end, False)


async def buckets(
    conn: AsyncConnection[Any], series: SeriesRef, plan: BucketPlan
) -> dict[str, Any]:
    """Aggregate the series per bucket of ``plan.interval_s`` seconds from ``plan.start``."""
    cur = await conn.execute(
        _HOURLY_SQL if plan.from_hourly else _RAW_SQL,
        {
            "interval": plan.interval_s,
            "origin": plan.start,
            "series": series.id,
            "start": plan.start,
            "end": plan.end,
        },
    )
    rows = await cur.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 9
    names = ("bucket", "count", "good_count", "avg", "min", "max", "integral", "first", "last")
    out: dict[str, Any] = {
        "series_id": series.id,
        "start": plan.start,
        "end": plan.end,
        "interval_s": plan.interval_s,
        "source": "telemetry_hourly" if plan.from_hourly else "telemetry",
    }
    out.update({name: list(col) for name, col in zip(names, columns, strict=True)})
    return out


def downsample_interval(start: dt.datetime, end: dt.datetime, points: int) -> int:
    """The bucket size giving at most ``points`` buckets; whole hours from an hour up."""
    check_range(start, end)
    seconds = max(1, math.ceil((end - start).total_seconds() / points))
    if seconds >= HOUR_S:
        seconds = math.ceil(seconds / HOUR_S) * HOUR_S
    return seconds


async def export_csv(
    pool: ConnectionPool,
    series: list[SeriesRef],
    start: dt.datetime,
    end: dt.datetime,
) -> AsyncIterator[bytes]:
    """CSV (header, then ``time,series_id,series_code,value,quality`` rows), streamed by COPY.

    Takes its own pooled connection: a streaming response outlives the request's dependencies.
    """
    codes = {s.id: s.code for s in series}
    query = (
        "COPY (SELECT to_char(t.time AT TIME ZONE 'UTC', "
        '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') AS time, t.series_id, s.code AS series_code, '
        "t.value, t.quality::bigint & 4294967295 AS quality "
        "FROM telemetry t JOIN series s ON s.id = t.series_id "
        "WHERE t.series_id = ANY(%s) AND t.time >= %s AND t.time < %s "
        "ORDER BY t.series_id, t.time) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    async with pool.connection() as conn:
        cur = conn.cursor()
        async with cur.copy(query, (sorted(codes), start, end)) as copy:
            async for chunk in copy:
                yield bytes(chunk)
