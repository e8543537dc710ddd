"""Read what analytics needs from the database: the watched series, samples, rollups, days.

Reads only; the maths lives in :mod:`features`, :mod:`anomaly` and :mod:`forecast`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from anh_reporter.analytics.features import WindowStats, is_analysed, stats_from_rollups
from anh_reporter.analytics.online import SeriesInfo
from anh_reporter.domain.timeutil import US_PER_HOUR, from_us, to_us
from anh_reporter.storage import cold_read


@dataclass(frozen=True)
class PmoSeries:
    """A watched series of a PMO, with the codes people know it by."""

    info: SeriesInfo
    code: str
    pmo_code: str
    pmo_kind: str
    field_code: str


def watched_series(
    conn: psycopg.Connection[Any], *, field_code: str | None = None, pmo_code: str | None = None
) -> list[PmoSeries]:
    """The analysed series (rates and properties) of every PMO, of one field / PMO if given."""
    rows = conn.execute(
        """
        SELECT s.id, s.field_id, s.variable, s.sampling_period_s, s.range_lo, s.range_hi,
               s.pmo_id, s.code, p.code, p.kind, f.code
        FROM series s
        JOIN measurement_points p ON p.id = s.pmo_id
        JOIN fields f ON f.id = s.field_id
        WHERE (%(field)s::text IS NULL OR f.code = %(field)s)
          AND (%(pmo)s::text IS NULL OR p.code = %(pmo)s)
        ORDER BY p.id, s.id
        """,
        {"field": field_code, "pmo": pmo_code},
    ).fetchall()
    out = []
    for sid, fid, variable, period, lo, hi, pmo_id, code, pmo, kind, field in rows:
        if is_analysed(variable):
            info = SeriesInfo(sid, fid, variable, period, lo, hi, pmo_id)
            out.append(PmoSeries(info, code, pmo, kind, field))
    return out


def all_series_infos(conn: psycopg.Connection[Any]) -> list[SeriesInfo]:
    """Every series (of PMOs and wells) as the online rules need it."""
    rows = conn.execute(
        "SELECT id, field_id, variable, sampling_period_s, range_lo, range_hi, pmo_id "
        "FROM series ORDER BY id"
    ).fetchall()
    return [SeriesInfo(*row) for row in rows]


def read_samples(
    conn: psycopg.Connection[Any], *, series_id: int, start_us: int, end_us: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.uint32]]:
    """Raw samples of one series in ``[start, end)``: times (µs), values (NaN for NULL), codes;
    archived weeks included (read from their Parquet files)."""
    hot = _read_hot_samples(conn, series_id=series_id, start_us=start_us, end_us=end_us)
    files = cold_read.cold_files(conn, from_us(start_us), from_us(end_us))
    if not files:
        return hot
    cold = cold_read.read_cold(files, [series_id], start_us, end_us)
    times = np.concatenate([cold.time_us, hot[0]])
    order = np.argsort(times, kind="stable")
    return (
        times[order],
        np.concatenate([cold.value, hot[1]])[order],
        np.concatenate([cold.quality.view(np.uint32), hot[2]])[order],
    )


def _read_hot_samples(
    conn: psycopg.Connection[Any], *, series_id: int, start_us: int, end_us: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.uint32]]:
    rows = conn.execute(
        """
        SELECT (extract(epoch FROM time) * 1000000)::int8, coalesce(value, 'NaN'), quality
        FROM telemetry WHERE series_id = %s AND time >= %s AND time < %s ORDER BY time
        """,
        (series_id, from_us(start_us), from_us(end_us)),
    ).fetchall()
    if not rows:
        return (
            np.empty(0, dtype=np.int64),
            np.empty(0, dtype=np.float64),
            np.empty(0, dtype=np.uint32),
        )
    columns = np.array(rows, dtype=object).T
    return (
        columns[0].astype(np.int64),
        columns[1].astype(np.float64),
        columns[2].astype(np.int64).astype(np.int32).view(np.uint32),
    )


def read_hourly(
    conn: psycopg.Connection[Any], *, series_ids: Sequence[int], start_us: int, end_us: int
) -> dict[int, WindowStats]:
    """Hourly rollups of the series on the hourly grid of ``[start, end)`` (hour-aligned)."""
    if start_us % US_PER_HOUR or end_us % US_PER_HOUR:
        raise ValueError("start and end must fall on whole hours for hourly rollups")
    rows = conn.execute(
        """
        SELECT series_id, (extract(epoch FROM hour) * 1000000)::int8, count, good_count,
               coalesce(avg, 'NaN'), coalesce(min, 'NaN'), coalesce(max, 'NaN')
        FROM telemetry_hourly
        WHERE series_id = ANY(%s) AND hour >= %s AND hour < %s
        ORDER BY series_id, hour
        """,
        (list(series_ids), from_us(start_us), from_us(end_us)),
    ).fetchall()
    by_series: dict[int, list[tuple[Any, ...]]] = {sid: [] for sid in series_ids}
    for row in rows:
        by_series[row[0]].append(row[1:])
    out = {}
    for sid, got in by_series.items():
        cols = np.array(got, dtype=np.float64).reshape(-1, 6).T
        out[sid] = stats_from_rollups(
            cols[0].astype(np.int64),
            cols[1],
            cols[2],
            cols[3],
            cols[4],
            cols[5],
            start_us=start_us,
            end_us=end_us,
            window_us=US_PER_HOUR,
        )
    return out


@dataclass(frozen=True)
class DailyRates:
    """Average rate per contract day (days as ordinals of the day's local start date)."""

    day: npt.NDArray[np.int64]
    rate: npt.NDArray[np.float64]
    coverage: npt.NDArray[np.float64]

    def dates(self) -> list[dt.date]:
        """The contract days as dates."""
        return [dt.date.fromordinal(int(d)) for d in self.day]


def daily_rates(
    conn: psycopg.Connection[Any],
    *,
    series_id: int,
    since: dt.datetime,
    until: dt.datetime,
    min_coverage: float = 0.9,
) -> DailyRates:
    """The average rate of each whole contract day in ``[since, until)``, from hourly rollups.

    A day's rate is the sum of its hours' integrals over the time they cover (first to last
    Good reading of each hour): the time-weighted mean rate, unbiased by gaps. Days covered
    less than ``min_coverage`` (the day still running, a long outage) are left out.
    """
    rows = conn.execute(
        """
        WITH f AS (
            SELECT f.timezone AS tz, f.contract_day_start_hour AS h
            FROM series s JOIN fields f ON f.id = s.field_id WHERE s.id = %(sid)s
        )
        SELECT ((r.hour AT TIME ZONE f.tz) - make_interval(hours => f.h))::date AS day,
               sum(r.integral) AS integral,
               sum(extract(epoch FROM r.last_time - r.first_time)) AS covered
        FROM telemetry_hourly r CROSS JOIN f
        WHERE r.series_id = %(sid)s AND r.hour >= %(since)s AND r.hour < %(until)s
          AND r.good_count >= 2
        GROUP BY 1 ORDER BY 1
        """,
        {"sid": series_id, "since": since, "until": until},
    ).fetchall()
    days, rates, coverage = [], [], []
    for day, integral, covered in rows:
        share = float(covered) / 86_400.0
        if share < min_coverage or covered <= 0:
            continue
        days.append(day.toordinal())
        rates.append(float(integral) / float(covered))
        coverage.append(share)
    return DailyRates(
        np.array(days, dtype=np.int64), np.array(rates), np.array(coverage, dtype=np.float64)
    )


def hour_floor(when: dt.datetime) -> int:
    """µs of the start of the hour ``when`` falls in."""
    us = to_us(when)
    return us - us % US_PER_HOUR
