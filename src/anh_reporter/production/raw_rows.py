"""Raw telemetry rows of a contract day, with the neighbours each side the volumes need.

One binary query for every series of a field (:func:`load_raw`), archived weeks merged in:
the PMOs' daily figures (:mod:`~anh_reporter.production.daily`) and the metered injection
wells' day volumes (:mod:`~anh_reporter.production.injection_days`) read them alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg

from anh_reporter.domain.quality import GOOD_STORED_UPPER
from anh_reporter.production.config import SeriesInfo
from anh_reporter.production.contract_day import ContractDay
from anh_reporter.production.inputs import ProductionSettings
from anh_reporter.storage import cold_read
from anh_reporter.storage.copy import PG_EPOCH_US

Conn = psycopg.Connection[Any]

# Per series, one bytea of fixed 20-byte records in time order: the server packs the rows, so
# the client reads one message per series, not one per row.
_RAW_SQL = """
    SELECT s.id, string_agg(
        timestamptz_send(x.time) || float8send(coalesce(x.value, 'NaN'::float8))
        || int4send(x.quality), ''::bytea ORDER BY x.time)
    FROM unnest(%(ids)s::int[], %(tols)s::float8[], %(far)s::bool[], %(before)s::int[])
         AS s(id, tol, far, before)
    CROSS JOIN LATERAL (
        (SELECT time, value, quality FROM telemetry
          WHERE series_id = s.id AND time < %(start)s
            AND (s.far OR time >= %(start)s - make_interval(secs => s.tol))
            AND (NOT s.far OR (value IS NOT NULL AND quality >= 0 AND quality < %(good)s))
          ORDER BY time DESC LIMIT s.before)
        UNION ALL
        (SELECT time, value, quality FROM telemetry
          WHERE series_id = s.id AND time >= %(start)s AND time < %(end)s)
        UNION ALL
        (SELECT time, value, quality FROM telemetry
          WHERE series_id = s.id AND time >= %(end)s
            AND (s.far OR time <= %(end)s + make_interval(secs => s.tol))
            AND (NOT s.far OR (value IS NOT NULL AND quality >= 0 AND quality < %(good)s))
          ORDER BY time LIMIT 1)
    ) AS x
    GROUP BY s.id
"""
_RAW_ROW = np.dtype([("time", ">i8"), ("value", ">f8"), ("quality", ">i4")])
COUNTER_LOOKBACK = 16
"""Usable readings of a totalizer loaded before the window: consecutive days must see the same
readings before the interval they share (its high-water mark), so both load the same ones."""


@dataclass(frozen=True)
class RawRequest:
    """One series to load: neighbours within the tolerance, or far ones (volume series)."""

    series: SeriesInfo
    far: bool = False
    before: int = 1


def load_raw(
    conn: Conn, requests: Sequence[RawRequest], day: ContractDay, settings: ProductionSettings
) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Raw rows of each series in the window plus neighbours each side.

    A plain request gets the reading just before and just after the window within the gap
    tolerance (to interpolate the edges); a ``far`` request gets the nearest usable ones however
    far away (``before`` of them before the window), because a counter difference or a rate line
    across a long gap is still known. Returns ``{series_id: (times_us int64, values float64
    (NaN for NULL), quality int32)}``, ordered by time, from one query for all series.
    """
    if not requests:
        return {}
    params = {
        "ids": [r.series.id for r in requests],
        "tols": [settings.gap_tolerance_s(r.series.sampling_period_s) for r in requests],
        "far": [r.far for r in requests],
        "before": [r.before for r in requests],
        "start": day.start,
        "end": day.end,
        "good": GOOD_STORED_UPPER,
    }
    out: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for series_id, packed in conn.execute(_RAW_SQL, params, binary=True).fetchall():
        rows = np.frombuffer(packed, dtype=_RAW_ROW)
        out[int(series_id)] = (
            rows["time"].astype(np.int64) + PG_EPOCH_US,
            rows["value"].astype(np.float64),
            rows["quality"].astype(np.int32),
        )
    # Archived weeks (cold storage) are merged in with the same selection.
    windows = [
        cold_read.WindowRequest(
            r.series.id,
            round(settings.gap_tolerance_s(r.series.sampling_period_s) * 1e6),
            r.far,
            r.before,
        )
        for r in requests
    ]
    cold_read.add_cold_to_window(conn, out, windows, day.start_us, day.end_us, GOOD_STORED_UPPER)
    return out
