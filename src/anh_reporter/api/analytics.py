"""Analytics answers the API caches: daily data quality per field, SPC charts per series.

Both read the hourly rollup; both are pure SQL plus :mod:`anh_reporter.analytics.spc`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from psycopg import AsyncConnection
from pydantic import BaseModel

from anh_reporter.analytics.spc.batch import evaluate_against_prior
from anh_reporter.api.errors import ApiError
from anh_reporter.api.scoping import SeriesRef

MAX_DAYS = 92


class SeriesDayQuality(BaseModel):
    """One series on one UTC day: samples against the configured period, and statistics."""

    series_id: int
    series_code: str
    variable: str
    day: dt.date
    expected: int
    count: int
    good_count: int
    completeness_pct: float
    avg: float | None
    min: float | None
    max: float | None


class DailyQuality(BaseModel):
    """Data quality of a field's series per UTC day."""

    field_id: int
    start_day: dt.date
    end_day: dt.date
    rows: list[SeriesDayQuality]


class SpcLimits(BaseModel):
    """Frozen centre line and sigma, with the 3-sigma control limits."""

    center: float
    sigma: float
    ucl: float
    lcl: float
    baseline_points: int


class SpcViolation(BaseModel):
    """One rule firing at one hour."""

    rule: str
    index: int
    time: dt.datetime
    side: str | None


class SpcChart(BaseModel):
    """Hourly averages of a series judged by SPC rules against a prior baseline."""

    series_id: int
    start: dt.datetime
    end: dt.datetime
    time: list[dt.datetime]
    value: list[float | None]
    limits: SpcLimits
    violations: list[SpcViolation]


def day_range(start_day: dt.date, end_day: dt.date) -> list[dt.date]:
    """The days from ``start_day`` to ``end_day`` inclusive; 422 naming the limit."""
    if end_day < start_day:
        raise ApiError(
            422, "validation_error", f"end_day: {end_day} is before start_day {start_day}"
        )
    n = (end_day - start_day).days + 1
    if n > MAX_DAYS:
        raise ApiError(
            422, "validation_error", f"end_day: the range is {n} days; the limit is {MAX_DAYS}"
        )
    return [start_day + dt.timedelta(days=i) for i in range(n)]


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


async def daily_quality(
    conn: AsyncConnection[Any], field_id: int, start_day: dt.date, end_day: dt.date
) -> dict[str, Any]:
    """Per series and UTC day: expected, received and Good samples, completeness, stats."""
    cur = await conn.execute(_DAILY_SQL, {"start": start_day, "end": end_day, "field": field_id})
    rows = []
    for sid, code, variable, day, expected, count, good, avg, lo, hi in await cur.fetchall():
        rows.append(
            {
                "series_id": sid,
                "series_code": code,
                "variable": variable,
                "day": day,
                "expected": expected,
                "count": count,
                "good_count": good,
                "completeness_pct": round(min(100.0, 100.0 * good / expected), 2)
                if expected
                else 0.0,
                "avg": avg,
                "min": lo,
                "max": hi,
            }
        )
    return {"field_id": field_id, "start_day": start_day, "end_day": end_day, "rows": rows}


async def spc_chart(
    conn: AsyncConnection[Any],
    series: SeriesRef,
    start: dt.datetime,
    end: dt.datetime,
    baseline_points: int,
) -> dict[str, Any]:
    """Hourly averages; limits from the first ``baseline_points`` hours, rules on the rest."""
    if end <= start:
        raise ApiError(422, "validation_error", "end: must be after start")
    cur = await conn.execute(
        "SELECT hour, avg FROM telemetry_hourly WHERE series_id = %s AND hour >= %s "
        "AND hour < %s ORDER BY hour LIMIT 20000",
        (series.id, start, end),
    )
    rows = await cur.fetchall()
    times = [r[0] for r in rows]
    values = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=np.float64)
    if len(values) <= baseline_points:
        raise ApiError(
            422,
            "not_enough_data",
            f"baseline_points: the range holds {len(values)} hourly points; more than "
            f"{baseline_points} are needed (a longer range or a smaller baseline)",
        )
    try:
        limits, violations = evaluate_against_prior(
            values, baseline_size=baseline_points, min_points=min(baseline_points, 20)
        )
    except ValueError as exc:
        raise ApiError(422, "not_enough_data", f"baseline_points: {exc}") from None
    return {
        "series_id": series.id,
        "start": start,
        "end": end,
        "time": times,
        "value": [None if np.isnan(v) else float(v) for v in values],
        "limits": {
            "center": limits.center,
            "sigma": limits.sigma,
            "ucl": limits.ucl,
            "lcl": limits.lcl,
            "baseline_points": limits.baseline_points,
        },
        "violations": [
            {"rule": v.rule.value, "index": v.last, "time": times[v.last], "side": v.side}
            for v in violations
        ],
    }
