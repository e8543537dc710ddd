"""Hourly rollups, maintained incrementally and always equal to the raw rows.

Per (series, hour): count, good count, and over Good readings avg, min, max, the trapezoid
integral of value over time (value × seconds, between the Good readings of that hour), first
and last (time, value).

A committed batch's partial aggregates are computed with numpy and merged into the stored row
when the batch's Good readings all come after the stored ones (the usual case: data arrives in
time order); the trapezoid segment bridging the old last and the new first reading is added.
Late data whose Good readings all fall in one gap between stored Good readings (before the
first, or between two: a dead worker's batches claimed after newer ones were written, a replay
of an outage) is merged too: the stored readings on either side of the gap are looked up (two
index probes), the segment that bridged the gap is replaced by the two that now reach the
batch, and the batch's own integral is added. Any other (series, hour) — readings interleaved
with stored ones — is recomputed from the raw rows. All paths give the figures the raw rows
give.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from anh_reporter.domain.quality import GOOD_STORED_UPPER
from anh_reporter.domain.timeutil import US_PER_HOUR, from_us

_GOOD_SQL = f"(t.quality >= 0 AND t.quality < {GOOD_STORED_UPPER} AND t.value IS NOT NULL)"

RECOMPUTE_SQL = f"""
WITH touched AS (
    SELECT DISTINCT s AS series_id, h AS hour
    FROM unnest(%(series)s::int[], %(hours)s::timestamptz[]) AS u(s, h)
),
raw AS (
    SELECT t.series_id, k.hour, t.time, t.value, {_GOOD_SQL} AS good
    FROM touched k
    JOIN telemetry t
      ON t.series_id = k.series_id AND t.time >= k.hour AND t.time < k.hour + interval '1 hour'
),
counts AS (
    SELECT series_id, hour, count(*) AS n, count(*) FILTER (WHERE good) AS n_good
    FROM raw GROUP BY series_id, hour
),
good AS (
    SELECT series_id, hour, time, value,
           lag(time) OVER w AS prev_time, lag(value) OVER w AS prev_value
    FROM raw WHERE good
    WINDOW w AS (PARTITION BY series_id, hour ORDER BY time)
),
stats AS (
    SELECT series_id, hour, avg(value) AS avg, min(value) AS min, max(value) AS max,
           coalesce(sum((value + prev_value) / 2
                        * extract(epoch FROM time - prev_time)::float8), 0) AS integral,
           min(time) AS first_time, (array_agg(value ORDER BY time))[1] AS first_value,
           max(time) AS last_time, (array_agg(value ORDER BY time DESC))[1] AS last_value
    FROM good GROUP BY series_id, hour
)
INSERT INTO telemetry_hourly AS r (series_id, hour, count, good_count, avg, min, max, integral,
                                   first_time, first_value, last_time, last_value)
SELECT c.series_id, c.hour, c.n, c.n_good, s.avg, s.min, s.max, s.integral,
       s.first_time, s.first_value, s.last_time, s.last_value
FROM counts c LEFT JOIN stats s USING (series_id, hour)
ON CONFLICT (series_id, hour) DO UPDATE SET
    count = excluded.count, good_count = excluded.good_count, avg = excluded.avg,
    min = excluded.min, max = excluded.max, integral = excluded.integral,
    first_time = excluded.first_time, first_value = excluded.first_value,
    last_time = excluded.last_time, last_value = excluded.last_value, updated_at = now()
"""  # noqa: S608 - built from module constants only

_PARTIALS_SQL = """
    SELECT * FROM unnest(%(series)s::int[], %(hours)s::timestamptz[], %(count)s::int[],
                         %(good)s::int[], %(avg)s::float8[], %(min)s::float8[], %(max)s::float8[],
                         %(integral)s::float8[], %(first_time)s::timestamptz[],
                         %(first_value)s::float8[], %(last_time)s::timestamptz[],
                         %(last_value)s::float8[])
        AS p(series_id, hour, count, good, avg, min, max, integral, first_time, first_value,
             last_time, last_value)
"""


MERGE_SQL = f"""
INSERT INTO telemetry_hourly AS r (series_id, hour, count, good_count, avg, min, max, integral,
                                   first_time, first_value, last_time, last_value)
{_PARTIALS_SQL}
ON CONFLICT (series_id, hour) DO UPDATE SET
    count = r.count + excluded.count,
    good_count = r.good_count + excluded.good_count,
    avg = CASE WHEN excluded.good_count = 0 THEN r.avg
               WHEN r.good_count = 0 THEN excluded.avg
               ELSE (r.avg * r.good_count + excluded.avg * excluded.good_count)
                    / (r.good_count + excluded.good_count) END,
    min = least(r.min, excluded.min),
    max = greatest(r.max, excluded.max),
    integral = CASE WHEN excluded.good_count = 0 THEN r.integral
                    WHEN r.good_count = 0 THEN excluded.integral
                    ELSE r.integral + excluded.integral
                         + (r.last_value + excluded.first_value) / 2
                           * extract(epoch FROM excluded.first_time - r.last_time)::float8 END,
    first_time = CASE WHEN r.good_count = 0 THEN excluded.first_time ELSE r.first_time END,
    first_value = CASE WHEN r.good_count = 0 THEN excluded.first_value ELSE r.first_value END,
    last_time = CASE WHEN excluded.good_count = 0 THEN r.last_time ELSE excluded.last_time END,
    last_value = CASE WHEN excluded.good_count = 0 THEN r.last_value ELSE excluded.last_value END,
    updated_at = now()
WHERE excluded.good_count = 0 OR r.good_count = 0 OR excluded.first_time > r.last_time
RETURNING series_id, hour
"""


def _segment(a: str, b: str) -> str:
    """SQL: the trapezoid between the Good readings ``a`` and ``b`` (NULL when one is missing)."""
    return f"({a}_value + {b}_value) / 2 * extract(epoch FROM {b}_time - {a}_time)::float8"


GAP_MERGE_SQL = f"""
WITH p AS ({_PARTIALS_SQL}),
g AS (
    SELECT p.*, prev.time AS prev_time, prev.value AS prev_value,
           nxt.time AS next_time, nxt.value AS next_value,
           (SELECT count(*) FROM telemetry t
            WHERE t.series_id = p.series_id AND t.time >= p.first_time
              AND t.time <= p.last_time AND {_GOOD_SQL}) AS inside
    FROM p
    LEFT JOIN LATERAL (
        SELECT t.time, t.value FROM telemetry t
        WHERE t.series_id = p.series_id AND t.time >= p.hour AND t.time < p.first_time
          AND {_GOOD_SQL}
        ORDER BY t.time DESC LIMIT 1) prev ON true
    LEFT JOIN LATERAL (
        SELECT t.time, t.value FROM telemetry t
        WHERE t.series_id = p.series_id AND t.time > p.last_time
          AND t.time < p.hour + interval '1 hour' AND {_GOOD_SQL}
        ORDER BY t.time LIMIT 1) nxt ON true
    WHERE p.good > 0
)
INSERT INTO telemetry_hourly AS r (series_id, hour, count, good_count, avg, min, max, integral,
                                   first_time, first_value, last_time, last_value)
SELECT g.series_id, g.hour, h.count + g.count, h.good_count + g.good,
       (h.avg * h.good_count + g.avg * g.good) / (h.good_count + g.good),
       least(h.min, g.min), greatest(h.max, g.max),
       h.integral + g.integral
           + coalesce({_segment("g.prev", "g.first")}, 0)
           + coalesce({_segment("g.last", "g.next")}, 0)
           - coalesce({_segment("g.prev", "g.next")}, 0),
       CASE WHEN g.prev_time IS NULL THEN g.first_time ELSE h.first_time END,
       CASE WHEN g.prev_time IS NULL THEN g.first_value ELSE h.first_value END,
       CASE WHEN g.next_time IS NULL THEN g.last_time ELSE h.last_time END,
       CASE WHEN g.next_time IS NULL THEN g.last_value ELSE h.last_value END
FROM g
-- The stored row, by its primary key for each partial (a LATERAL lookup, never a scan of the
-- table: the planner cannot estimate how many partials pass the filters and, joining, once
-- compared every stored row with every partial). MERGE_SQL locked it in this transaction.
JOIN LATERAL (
    SELECT * FROM telemetry_hourly x WHERE x.series_id = g.series_id AND x.hour = g.hour
) h ON true
WHERE h.good_count > 0 AND g.inside = g.good
ON CONFLICT (series_id, hour) DO UPDATE SET
    count = excluded.count, good_count = excluded.good_count, avg = excluded.avg,
    min = excluded.min, max = excluded.max, integral = excluded.integral,
    first_time = excluded.first_time, first_value = excluded.first_value,
    last_time = excluded.last_time, last_value = excluded.last_value, updated_at = now()
RETURNING series_id, hour
"""  # noqa: S608 - built from module constants only


def recompute(
    conn: psycopg.Connection[Any], series: npt.NDArray[np.int32], hours_us: npt.NDArray[np.int64]
) -> None:
    """Recompute the rollups of these (series, hour start) pairs from the raw rows."""
    if len(series) == 0:
        return
    conn.execute(
        RECOMPUTE_SQL,
        {"series": series.tolist(), "hours": [from_us(int(h)) for h in hours_us]},
    )


def touched_hours(
    series_id: npt.NDArray[np.int32], time_us: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """The distinct (series, hour start in µs) pairs of a batch."""
    hours = time_us // US_PER_HOUR * US_PER_HOUR
    keys = np.unique(np.stack([series_id.astype(np.int64), hours]), axis=1)
    return keys[0].astype(np.int32), keys[1]


def merge(
    conn: psycopg.Connection[Any],
    series_id: npt.NDArray[np.int32],
    time_us: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    quality: npt.NDArray[np.uint32],
) -> None:
    """Fold newly inserted readings into the rollups (recomputing where merging is not exact)."""
    if len(series_id) == 0:
        return
    p = _partials(series_id, time_us, value, quality)
    todo = np.arange(len(p["series"]))
    for sql in (MERGE_SQL, GAP_MERGE_SQL):
        merged = conn.execute(sql, _params({k: a[todo] for k, a in p.items()})).fetchall()
        if len(merged) == len(todo):
            return
        done = {(int(s), h) for s, h in merged}
        keys = zip(p["series"][todo].tolist(), _times(p["hour"][todo]), strict=True)
        todo = todo[[key not in done for key in keys]]
    recompute(conn, p["series"][todo], p["hour"][todo])


def _params(p: dict[str, npt.NDArray[Any]]) -> dict[str, list[Any]]:
    """The partials as the query parameters of MERGE_SQL and GAP_MERGE_SQL."""
    return {
        "series": p["series"].tolist(),
        "hours": _times(p["hour"]),
        "count": p["count"].tolist(),
        "good": p["good"].tolist(),
        "avg": _floats(p["avg"]),
        "min": _floats(p["min"]),
        "max": _floats(p["max"]),
        "integral": _floats(p["integral"]),
        "first_time": _times(p["first_time"], p["good"] > 0),
        "first_value": _floats(p["first_value"]),
        "last_time": _times(p["last_time"], p["good"] > 0),
        "last_value": _floats(p["last_value"]),
    }


def _partials(
    series_id: npt.NDArray[np.int32],
    time_us: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    quality: npt.NDArray[np.uint32],
) -> dict[str, npt.NDArray[Any]]:
    """Per (series, hour) aggregates of one batch, sorted by series then hour."""
    hour = time_us // US_PER_HOUR * US_PER_HOUR
    order = np.lexsort((time_us, hour, series_id))
    s, h, t, v = series_id[order], hour[order], time_us[order], value[order]
    good = ((quality[order] & np.uint32(0xC0000000)) == 0) & ~np.isnan(v)
    new_group = np.ones(len(s), dtype=bool)
    new_group[1:] = (s[1:] != s[:-1]) | (h[1:] != h[:-1])
    starts = np.flatnonzero(new_group)
    group_of = np.cumsum(new_group) - 1
    n_groups = len(starts)
    counts = np.diff(np.append(starts, len(s)))
    good_counts = np.bincount(group_of, weights=good, minlength=n_groups).astype(np.int64)

    gs, gt, gv, gg = s[good], t[good], v[good], group_of[good]
    out_avg = np.full(n_groups, np.nan)
    out_min = np.full(n_groups, np.nan)
    out_max = np.full(n_groups, np.nan)
    out_int = np.full(n_groups, np.nan)
    first_t = np.zeros(n_groups, dtype=np.int64)
    last_t = np.zeros(n_groups, dtype=np.int64)
    first_v = np.full(n_groups, np.nan)
    last_v = np.full(n_groups, np.nan)
    if len(gs):
        g_new = np.ones(len(gs), dtype=bool)
        g_new[1:] = gg[1:] != gg[:-1]
        g_starts = np.flatnonzero(g_new)
        g_ends = np.append(g_starts[1:], len(gs)) - 1
        ids = gg[g_starts]
        sums = np.add.reduceat(gv, g_starts)
        out_avg[ids] = sums / good_counts[ids]
        out_min[ids] = np.minimum.reduceat(gv, g_starts)
        out_max[ids] = np.maximum.reduceat(gv, g_starts)
        seg = (gv[1:] + gv[:-1]) / 2 * (np.diff(gt) / 1e6)
        seg = np.where(gg[1:] == gg[:-1], seg, 0.0)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        out_int[ids] = cum[g_ends] - cum[g_starts]
        first_t[ids], last_t[ids] = gt[g_starts], gt[g_ends]
        first_v[ids], last_v[ids] = gv[g_starts], gv[g_ends]
    return {
        "series": s[starts],
        "hour": h[starts],
        "count": counts,
        "good": good_counts,
        "avg": out_avg,
        "min": out_min,
        "max": out_max,
        "integral": out_int,
        "first_time": first_t,
        "first_value": first_v,
        "last_time": last_t,
        "last_value": last_v,
    }


def _floats(a: npt.NDArray[np.float64]) -> list[float | None]:
    return [None if x != x else x for x in a.tolist()]


def _times(a: npt.NDArray[np.int64], present: npt.NDArray[np.bool_] | None = None) -> list[Any]:
    if present is None:
        return [from_us(x) for x in a.tolist()]
    return [from_us(x) if ok else None for x, ok in zip(a.tolist(), present.tolist(), strict=True)]
