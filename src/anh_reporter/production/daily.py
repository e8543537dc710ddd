"""Daily production per PMO: load a contract day from the database, compute, store, keep current.

* Volumes need the raw rows of one series per PMO (the totalizer when the meter has one, else
  the flow rate), with the one reading before and after the window that
  :mod:`~anh_reporter.production.volumes` interpolates the edges with. They come in one binary
  COPY for the whole field, decoded by numpy (no Python object per row).
* Properties (temperature, pressure, BSW, API gravity) and the per-series completeness come from
  the hourly rollups when the contract day starts and ends on a whole hour (always so for
  America/Bogota); otherwise from raw rows through
  :func:`~anh_reporter.production.volumes.flow_weighted_average`.
* Results are stored by :mod:`~anh_reporter.production.store`; a recompute that changes a
  figure of a day whose report was already signed marks it as needing an amendment.
  :func:`recompute_stale` recomputes days whose telemetry changed (late data) after they were
  computed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import psycopg

from anh_reporter.domain.timeutil import to_us
from anh_reporter.observability.metrics import data_quality_score
from anh_reporter.production import store
from anh_reporter.production.config import FieldConfig, SeriesInfo, load_field
from anh_reporter.production.contract_day import ContractDay
from anh_reporter.production.figures import (
    DEFAULT_SETTINGS,
    PROPERTY_KINDS,
    VOLUME_KINDS,
    DailyFigures,
    HourlySeries,
    HourRecord,
    ManualValue,
    PmoInputs,
    ProductionSettings,
    Samples,
    daily_figures,
)
from anh_reporter.storage.copy import PG_EPOCH_US, ROW

Conn = psycopg.Connection[Any]


@dataclass(frozen=True)
class ComputeResult:
    """What one compute of a field's day did."""

    field_code: str
    day: ContractDay
    figures: tuple[DailyFigures, ...]
    changed: tuple[str, ...]
    """PMO codes whose figures are new or differ from what was stored."""
    needs_amendment: bool
    """The day's report was already signed and its figures changed."""


# --- Loading ----------------------------------------------------------------------------------

_RAW_SQL = """
COPY (
    SELECT x.time, s.id, coalesce(x.value, 'NaN'::float8), x.quality
    FROM unnest(%(ids)s::int[], %(tols)s::float8[]) AS s(id, tol)
    CROSS JOIN LATERAL (
        (SELECT time, value, quality FROM telemetry
          WHERE series_id = s.id AND time < %(start)s
            AND time >= %(start)s - make_interval(secs => s.tol)
          ORDER BY time DESC LIMIT 1)
        UNION ALL
        (SELECT time, value, quality FROM telemetry
          WHERE series_id = s.id AND time >= %(start)s AND time < %(end)s)
        UNION ALL
        (SELECT time, value, quality FROM telemetry
          WHERE series_id = s.id AND time >= %(end)s
            AND time <= %(end)s + make_interval(secs => s.tol)
          ORDER BY time LIMIT 1)
    ) AS x
) TO STDOUT (FORMAT BINARY)
"""

_HEADER_BYTES = 19


def load_raw(
    conn: Conn, series: Sequence[SeriesInfo], day: ContractDay, settings: ProductionSettings
) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Raw rows of ``series`` in the window plus one neighbour each side within the tolerance.

    Returns ``{series_id: (times_us int64, values float64 (NaN for NULL), quality int32)}``,
    ordered by time. One binary COPY for all series, decoded as a numpy record array.
    """
    if not series:
        return {}
    params = {
        "ids": [s.id for s in series],
        "tols": [settings.gap_tolerance_s(s.sampling_period_s) for s in series],
        "start": day.start,
        "end": day.end,
    }
    buffer = bytearray()
    with conn.cursor() as cur, cur.copy(_RAW_SQL, params) as copy:
        for chunk in copy:
            buffer += chunk
    body = memoryview(buffer)[_HEADER_BYTES : len(buffer) - 2]
    rows = np.frombuffer(body, dtype=ROW)
    times = rows["time"].astype(np.int64) + PG_EPOCH_US
    sids = rows["series_id"].astype(np.int32)
    order = np.lexsort((times, sids))
    times, sids = times[order], sids[order]
    values = rows["value"].astype(np.float64)[order]
    quality = rows["quality"].astype(np.int32)[order]
    out: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    bounds = np.flatnonzero(np.diff(sids)) + 1
    for lo, hi in zip(
        np.concatenate(([0], bounds)).tolist(),
        np.concatenate((bounds, [sids.size])).tolist(),
        strict=True,
    ):
        if hi > lo:
            out[int(sids[lo])] = (times[lo:hi], values[lo:hi], quality[lo:hi])
    return out


def load_hours(
    conn: Conn, series_ids: Sequence[int], day: ContractDay
) -> dict[int, tuple[HourRecord, ...]]:
    """Hourly rollups of ``series_ids`` for the hours that start inside the window."""
    out: dict[int, list[HourRecord]] = defaultdict(list)
    rows = conn.execute(
        "SELECT series_id, hour, count, good_count, avg, integral, first_time, last_time, "
        "first_value, last_value FROM telemetry_hourly "
        "WHERE series_id = ANY(%s) AND hour >= %s AND hour < %s ORDER BY series_id, hour",
        (list(series_ids), day.start, day.end),
    ).fetchall()
    for sid, hour, count, good, avg, integral, first_t, last_t, first_v, last_v in rows:
        out[sid].append(
            HourRecord(
                to_us(hour),
                count,
                good,
                avg,
                integral,
                to_us(first_t) if first_t else None,
                to_us(last_t) if last_t else None,
                first_v,
                last_v,
            )
        )
    return {sid: tuple(hours) for sid, hours in out.items()}


@dataclass(frozen=True)
class ActiveEntry:
    """A manual entry in force for a PMO's day."""

    id: int
    pmo_id: int | None
    well_id: int | None
    kind: str
    value: Decimal
    unit: str


def active_manual_entries(conn: Conn, field_id: int, day: dt.date) -> list[ActiveEntry]:
    """Entries of the field for ``day`` not superseded; for a kind entered twice, the latest."""
    rows = conn.execute(
        "SELECT DISTINCT ON (pmo_id, well_id, kind) id, pmo_id, well_id, kind, value, unit "
        "FROM manual_entries WHERE field_id = %s AND contract_day = %s "
        "AND superseded_by IS NULL ORDER BY pmo_id, well_id, kind, entered_at DESC, id DESC",
        (field_id, day),
    ).fetchall()
    return [ActiveEntry(*r) for r in rows]


# --- Computing and storing ----------------------------------------------------------------------


def compute_day(
    conn: Conn,
    field_code: str,
    day: dt.date,
    *,
    settings: ProductionSettings = DEFAULT_SETTINGS,
    use_rollups: bool = True,
) -> ComputeResult:
    """Compute and store the daily figures of every PMO of a field for one contract day.

    Commits: the figures and any amendment flag are stored together. ``use_rollups=False``
    reads raw rows for the properties too (slower; the benchmark's baseline).
    """
    config = load_field(conn, field_code, day=day)
    window = config.day(day)
    inputs = build_inputs(conn, config, window, settings, use_rollups=use_rollups)
    figures = tuple(daily_figures(i, settings) for i in inputs)
    ids = {p.code: p.id for p in config.pmos}
    changed = store.save(conn, ids, window, figures)
    amend = bool(changed) and store.mark_amendment(
        conn, config.id, day, [ids[code] for code in changed]
    )
    conn.commit()
    scores = [f.quality_score for f in figures if f.quality_score is not None]
    if scores:
        data_quality_score.labels(field_id=str(config.id)).set(sum(scores) / len(scores))
    return ComputeResult(field_code, window, figures, tuple(changed), amend)


def build_inputs(
    conn: Conn,
    config: FieldConfig,
    window: ContractDay,
    settings: ProductionSettings,
    *,
    use_rollups: bool = True,
) -> list[PmoInputs]:
    """Load everything the PMOs of a field need for one day."""
    aligned = (
        use_rollups and window.start_us % 3_600_000_000 == 0 and window.end_us % 3_600_000_000 == 0
    )
    raw_series: list[SeriesInfo] = []
    for pmo in config.pmos:
        volume = pmo.volume_series()
        if volume is not None:
            raw_series.append(volume)
        if not aligned:
            raw_series.extend(s for s in pmo.series.values() if s is not volume)
    raw = load_raw(conn, raw_series, window, settings)
    hours = (
        load_hours(conn, [s.id for p in config.pmos for s in p.series.values()], window)
        if aligned
        else {}
    )
    entries = active_manual_entries(conn, config.id, window.day)
    by_pmo: dict[int, dict[str, ManualValue]] = defaultdict(dict)
    for e in entries:
        if e.pmo_id is not None and (e.kind in VOLUME_KINDS or e.kind in PROPERTY_KINDS):
            by_pmo[e.pmo_id][e.kind] = ManualValue(e.id, e.kind, e.value, e.unit)

    def samples(s: SeriesInfo) -> Samples:
        t, v, q = raw.get(
            s.id, (np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int32))
        )
        return Samples(t, v, q, s.sampling_period_s, s.unit, s.rollover)

    out = []
    for pmo in config.pmos:
        volume = pmo.volume_series()
        out.append(
            PmoInputs(
                code=pmo.code,
                fluid=pmo.kind,
                has_totalizer=pmo.has_totalizer,
                meter_factor=pmo.meter_factor,
                day_start_us=window.start_us,
                day_end_us=window.end_us,
                volume_series=samples(volume) if volume else None,
                volume_variable=volume.variable if volume else None,
                property_hours={
                    s.variable: HourlySeries(
                        hours.get(s.id, ()), s.sampling_period_s, s.unit, s.rollover
                    )
                    for s in pmo.series.values()
                }
                if aligned
                else {},
                property_raw={}
                if aligned
                else {s.variable: samples(s) for s in pmo.series.values()},
                manual=by_pmo.get(pmo.id, {}),
            )
        )
    return out


def recompute_stale(
    conn: Conn, *, field_code: str | None = None, settings: ProductionSettings = DEFAULT_SETTINGS
) -> list[ComputeResult]:
    """Recompute every stored day whose telemetry rollups changed after it was computed."""
    return [
        compute_day(conn, code, day, settings=settings)
        for code, day in store.stale_days(conn, field_code=field_code)
    ]
