"""The read side of the telemetry: raw readings, time buckets, hourly averages, day quality, CSV.

Buckets of whole hours come from ``telemetry_hourly`` (3-5x faster than raw rows); other
bucket sizes aggregate raw rows with ``date_bin``. Every figure except ``count`` uses Good
readings only, as the hourly rollup does. Quality is read as the unsigned OPC UA code.
These are the API's reads (async); the batch jobs read through :mod:`anh_reporter.analytics.history`
and :mod:`anh_reporter.production`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from psycopg import AsyncConnection

from anh_reporter.domain.quality import GOOD_STORED_UPPER
from anh_reporter.domain.timeutil import from_us, to_us
from anh_reporter.storage import cold_read

HOUR_S = 3600
_GOOD = f"(t.quality >= 0 AND t.quality < {GOOD_STORED_UPPER} AND t.value IS NOT NULL)"


async def raw_readings(
    conn: AsyncConnection[Any],
    *,
    series_id: int,
    start: dt.datetime,
    end: dt.datetime,
    limit: int,
) -> list[tuple[dt.datetime, float | None, int]]:
    """Up to ``limit`` readings (time, value, unsigned quality) in ``[start, end)``, in order;
    archived weeks are read from their Parquet files (:mod:`.cold_read`)."""
    # Binary results: half the client CPU of text for the same Python values.
    async with conn.cursor(binary=True) as cur:
        await cur.execute(
            "SELECT time, value, quality::bigint & 4294967295 FROM telemetry "
            "WHERE series_id = %s AND time >= %s AND time < %s ORDER BY time LIMIT %s",
            (series_id, start, end, limit),
        )
        hot: list[tuple[dt.datetime, float | None, int]] = list(await cur.fetchall())
    files = await cold_read.cold_files_async(conn, start, end)
    if not files:
        return hot
    cold = await asyncio.to_thread(
        cold_read.read_cold, files, [series_id], to_us(start), to_us(end)
    )
    merged = hot + [
        (from_us(int(t)), None if null else float(v), int(q) & 0xFFFFFFFF)
        for t, v, null, q in zip(
            cold.time_us[:limit],
            cold.value[:limit],
            cold.null[:limit],
            cold.quality[:limit],
            strict=True,
        )
    ]
    merged.sort(key=lambda row: row[0])
    return merged[:limit]


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
       avg(t.value ORDER BY t.time) FILTER (WHERE {_GOOD}), min(t.value) FILTER (WHERE {_GOOD}),
       max(t.value) FILTER (WHERE {_GOOD}), NULL::float8,
       (array_agg(t.value ORDER BY t.time) FILTER (WHERE {_GOOD}))[1],
       (array_agg(t.value ORDER BY t.time DESC) FILTER (WHERE {_GOOD}))[1]
FROM {{source}} t
WHERE t.series_id = %(series)s AND t.time >= %(start)s AND t.time < %(end)s
GROUP BY bucket ORDER BY bucket
"""  # noqa: S608 - built from module constants only

# Archived rows sent along as arrays: the server aggregates and formats them as its own.
_WITH_COLD = """(SELECT time, series_id, value, quality FROM telemetry UNION ALL
 SELECT timestamptz 'epoch' + c.us * interval '1 microsecond', c.series_id, c.value, c.quality
 FROM unnest(%(cold_us)s::int8[], %(cold_series)s::int[], %(cold_value)s::float8[],
             %(cold_quality)s::int[]) AS c(us, series_id, value, quality))"""


async def _cold_params(
    conn: AsyncConnection[Any], series_ids: Sequence[int], start: dt.datetime, end: dt.datetime
) -> dict[str, list[Any]] | None:
    """Archived rows of the series in ``[start, end)`` as query parameters (None: none)."""
    files = await cold_read.cold_files_async(conn, start, end)
    if not files:
        return None
    rows = await asyncio.to_thread(
        cold_read.read_cold, files, list(series_ids), to_us(start), to_us(end)
    )
    values = rows.value.tolist()
    for i in np.flatnonzero(rows.null).tolist():
        values[i] = None
    return {
        "cold_us": rows.time_us.tolist(),
        "cold_series": rows.series_id.tolist(),
        "cold_value": values,
        "cold_quality": rows.quality.tolist(),
    }


BUCKET_COLUMNS = (
    "bucket",
    "count",
    "good_count",
    "avg",
    "min",
    "max",
    "integral",
    "first",
    "last",
)
"""The columns :func:`buckets` answers, in order."""


@dataclass(frozen=True)
class BucketPlan:
    """Where buckets come from, and the aligned range they cover."""

    interval_s: int
    start: dt.datetime
    end: dt.datetime
    from_hourly: bool

    @property
    def source(self) -> str:
        """The table the buckets are aggregated from."""
        return "telemetry_hourly" if self.from_hourly else "telemetry"


def plan_buckets(start: dt.datetime, end: dt.datetime, interval_s: int) -> BucketPlan:
    """Whole hours come from the hourly rollup (the range is widened to whole UTC hours)."""
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if interval_s % HOUR_S == 0:
        start_h = start.replace(minute=0, second=0, microsecond=0)
        end_h = end.replace(minute=0, second=0, microsecond=0)
        if end_h < end:
            end_h += dt.timedelta(hours=1)
        return BucketPlan(interval_s, start_h, end_h, True)
    return BucketPlan(interval_s, start, end, False)


async def buckets(
    conn: AsyncConnection[Any], *, series_id: int, plan: BucketPlan
) -> dict[str, list[Any]]:
    """Aggregates per bucket of ``plan.interval_s`` seconds from ``plan.start``, as columns
    named by :data:`BUCKET_COLUMNS` (raw buckets include archived weeks)."""
    params: dict[str, Any] = {
        "interval": plan.interval_s,
        "origin": plan.start,
        "series": series_id,
        "start": plan.start,
        "end": plan.end,
    }
    query = _HOURLY_SQL
    if not plan.from_hourly:
        cold = await _cold_params(conn, [series_id], plan.start, plan.end)
        query = _RAW_SQL.format(source=_WITH_COLD if cold else "telemetry")
        params.update(cold or {})
    cur = await conn.execute(query, params)
    rows = await cur.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(BUCKET_COLUMNS)
    return {name: list(col) for name, col in zip(BUCKET_COLUMNS, columns, strict=True)}


async def hourly_averages(
    conn: AsyncConnection[Any], *, series_id: int, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, float | None]]:
    """(hour, average of Good readings) of the series in ``[start, end)``, at most 20,000."""
    cur = await conn.execute(
        "SELECT hour, avg FROM telemetry_hourly WHERE series_id = %s AND hour >= %s "
        "AND hour < %s ORDER BY hour LIMIT 20000",
        (series_id, start, end),
    )
    return list(await cur.fetchall())


@dataclass(frozen=True)
class SeriesDayCounts:
    """One series on one UTC day: samples expected, received and Good, with statistics."""

    series_id: int
    series_code: str
    variable: str
    day: dt.date
    expected: int
    count: int
    good_count: int
    avg: float | None
    min: float | None
    max: float | None


_DAILY_SQL = """
SELECT s.id, s.code, s.variable, d.day::date,
       (86400 / s.sampling_period_s)::int,
       coalesce(sum(h.count), 0)::int, coalesce(sum(h.good_count), 0)::int,
       sum(h.avg * h.good_count) FILTER (WHERE h.avg IS NOT NULL)
           / nullif(sum(h.good_count) FILTER (WHERE h.avg IS NOT NULL), 0),
       min(h.min), max(h.max)
FROM series s
CROSS JOIN generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d(day)
LEFT JOIN telemetry_hourly h
       ON h.series_id = s.id AND h.hour >= d.day AND h.hour < d.day + interval '1 day'
WHERE s.field_id = %(field)s
GROUP BY s.id, s.code, s.variable, d.day
ORDER BY s.id, d.day
"""


async def daily_counts(
    conn: AsyncConnection[Any], *, field_id: int, start_day: dt.date, end_day: dt.date
) -> list[SeriesDayCounts]:
    """Every series of the field on every UTC day from ``start_day`` to ``end_day``."""
    cur = await conn.execute(_DAILY_SQL, {"start": start_day, "end": end_day, "field": field_id})
    return [SeriesDayCounts(*row) for row in await cur.fetchall()]


async def count_capped(
    conn: AsyncConnection[Any],
    *,
    series_ids: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
    cap: int,
) -> int:
    """How many readings of the series fall in ``[start, end)``, counting no further than
    ``cap + 1`` (enough to tell that there are more than ``cap``)."""
    cur = await conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM telemetry WHERE series_id = ANY(%s) "
        "AND time >= %s AND time < %s LIMIT %s) x",
        (sorted(set(series_ids)), start, end, cap + 1),
    )
    row = await cur.fetchone()
    hot = int(row[0]) if row else 0
    files = await cold_read.cold_files_async(conn, start, end)
    if not files or hot > cap:
        return hot
    cold = await asyncio.to_thread(
        cold_read.read_cold, files, list(series_ids), to_us(start), to_us(end)
    )
    return min(hot + len(cold), cap + 1)


async def copy_csv(
    conn: AsyncConnection[Any],
    *,
    series_ids: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
) -> AsyncIterator[bytes]:
    """CSV (header, then ``time,series_id,series_code,value,quality`` rows), streamed by COPY;
    archived weeks included."""
    ids = sorted(set(series_ids))
    cold = await _cold_params(conn, ids, start, end)
    source = _WITH_COLD if cold else "telemetry"
    query = (
        "COPY (SELECT to_char(t.time AT TIME ZONE 'UTC', "  # noqa: S608 - source: a constant
        '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') AS time, t.series_id, s.code AS series_code, '
        "t.value, t.quality::bigint & 4294967295 AS quality "
        f"FROM {source} t JOIN series s ON s.id = t.series_id "
        "WHERE t.series_id = ANY(%(ids)s) AND t.time >= %(start)s AND t.time < %(end)s "
        "ORDER BY t.series_id, t.time) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    cur = conn.cursor()
    async with cur.copy(query, {"ids": ids, "start": start, "end": end, **(cold or {})}) as copy:
        async for chunk in copy:
            yield bytes(chunk)
