"""Daily production per PMO: load a contract day from the database, compute, store, keep current.

* Volumes need the raw rows of one series per PMO (the totalizer when the meter has one, else
  the flow rate), with the one reading before and after the window that
  :mod:`~anh_reporter.production.volumes` interpolates the edges with. They come in one binary
  COPY for the whole field, decoded by numpy (no Python object per row).
* Properties (temperature, pressure, BSW, API gravity) and the per-series completeness come from
  the hourly rollups when the contract day starts and ends on a whole hour (always so for
  America/Bogota); otherwise from raw rows through
  :func:`~anh_reporter.production.volumes.flow_weighted_average`.
* Results are upserted into ``daily_production``. A recompute that changes a figure of a day
  whose report was already signed marks that row, and the report, as needing an amendment.
  :func:`recompute_stale` finds days whose telemetry changed (late data) after they were computed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
import psycopg

from anh_reporter.domain.timeutil import to_us
from anh_reporter.errors import AnhError
from anh_reporter.observability.metrics import data_quality_score
from anh_reporter.production.contract_day import ContractDay, contract_day
from anh_reporter.production.figures import (
    DEFAULT_SETTINGS,
    PROPERTY_KINDS,
    VOLUME_KINDS,
    DailyFigures,
    Fluid,
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


class UnknownFieldError(AnhError):
    """A field code that is not in the database."""


@dataclass(frozen=True)
class SeriesInfo:
    """A series of a PMO as the computation needs it."""

    id: int
    variable: str
    unit: str
    sampling_period_s: float
    rollover: float | None


@dataclass(frozen=True)
class PmoConfig:
    """A measurement point and its series."""

    id: int
    code: str
    name: str
    kind: Fluid
    meter_type: str
    has_totalizer: bool
    meter_factor: float
    series: dict[str, SeriesInfo]

    def volume_series(self) -> SeriesInfo | None:
        """The totalizer when the meter has one, else the flow rate, else ``None``."""
        total = self.series.get(f"{self.kind}_total")
        if self.has_totalizer and total is not None:
            return total
        return self.series.get(f"{self.kind}_rate")


@dataclass(frozen=True)
class FieldConfig:
    """A field with its operator and PMOs, as stored."""

    id: int
    code: str
    name: str
    contract: str
    municipality_dane: str
    timezone: str
    start_hour: int
    report_type: str
    operator_nit: str
    operator_name: str
    pmos: tuple[PmoConfig, ...]

    def day(self, day: dt.date) -> ContractDay:
        """The window of contract day ``day`` for this field."""
        return contract_day(day, timezone=self.timezone, start_hour=self.start_hour)


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


def load_field(conn: Conn, field_code: str) -> FieldConfig:
    """The stored configuration of a field; :class:`UnknownFieldError` when there is none."""
    row = conn.execute(
        "SELECT f.id, f.code, f.name, f.contract, f.municipality_dane, f.timezone, "
        "f.contract_day_start_hour, f.report_type, o.nit, o.name "
        "FROM fields f JOIN operators o ON o.id = f.operator_id WHERE f.code = %s",
        (field_code,),
    ).fetchone()
    if row is None:
        known = [r[0] for r in conn.execute("SELECT code FROM fields ORDER BY code").fetchall()]
        raise UnknownFieldError(
            f"field {field_code!r} is not in the database (known: {', '.join(known) or 'none'}; "
            "load the site file first)"
        )
    series: dict[int, dict[str, SeriesInfo]] = defaultdict(dict)
    for sid, pmo_id, variable, unit, period, rollover in conn.execute(
        "SELECT id, pmo_id, variable, unit, sampling_period_s, rollover FROM series "
        "WHERE field_id = %s AND pmo_id IS NOT NULL ORDER BY id",
        (row[0],),
    ).fetchall():
        series[pmo_id][variable] = SeriesInfo(sid, variable, unit, period, rollover)
    pmos = tuple(
        PmoConfig(pid, code, name, kind, meter, has_tot, mf, series.get(pid, {}))
        for pid, code, name, kind, meter, has_tot, mf in conn.execute(
            "SELECT id, code, name, kind, meter_type, has_totalizer, meter_factor "
            "FROM measurement_points WHERE field_id = %s ORDER BY code",
            (row[0],),
        ).fetchall()
    )
    fid, code, name, contract, dane, zone, hour, rtype, nit, operator = row
    return FieldConfig(
        fid, code, name, contract, dane, zone, int(hour), str(rtype), nit, operator, pmos
    )


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
    config = load_field(conn, field_code)
    window = config.day(day)
    inputs = build_inputs(conn, config, window, settings, use_rollups=use_rollups)
    figures = tuple(daily_figures(i, settings) for i in inputs)
    changed = store(conn, config, window, figures)
    amend = bool(changed) and mark_amendment(conn, config.id, day, changed, config)
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


_UPSERT = """
INSERT INTO daily_production (
    pmo_id, contract_day, day_start, day_end, fluid, method, unit, indicated_volume,
    meter_factor, gross_observed_volume, ctl, cpl, ctpl, gross_standard_volume, bsw_percent,
    net_standard_volume, temperature_f, pressure_psig, api_gravity, sources, samples_expected,
    samples_received, samples_good, longest_gap_s, time_completeness_pct,
    sample_completeness_pct, quality_score, quality_components, quality_explanation, rollovers,
    resets, events, issues, manual_entry_ids, digest, computed_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
        %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s::jsonb, %s::jsonb, %s,
        %s, now())
ON CONFLICT (pmo_id, contract_day) DO UPDATE SET
    day_start = excluded.day_start, day_end = excluded.day_end, fluid = excluded.fluid,
    method = excluded.method, unit = excluded.unit,
    indicated_volume = excluded.indicated_volume, meter_factor = excluded.meter_factor,
    gross_observed_volume = excluded.gross_observed_volume, ctl = excluded.ctl,
    cpl = excluded.cpl, ctpl = excluded.ctpl,
    gross_standard_volume = excluded.gross_standard_volume,
    bsw_percent = excluded.bsw_percent, net_standard_volume = excluded.net_standard_volume,
    temperature_f = excluded.temperature_f, pressure_psig = excluded.pressure_psig,
    api_gravity = excluded.api_gravity, sources = excluded.sources,
    samples_expected = excluded.samples_expected, samples_received = excluded.samples_received,
    samples_good = excluded.samples_good, longest_gap_s = excluded.longest_gap_s,
    time_completeness_pct = excluded.time_completeness_pct,
    sample_completeness_pct = excluded.sample_completeness_pct,
    quality_score = excluded.quality_score, quality_components = excluded.quality_components,
    quality_explanation = excluded.quality_explanation, rollovers = excluded.rollovers,
    resets = excluded.resets, events = excluded.events, issues = excluded.issues,
    manual_entry_ids = excluded.manual_entry_ids, digest = excluded.digest,
    computed_at = now()
"""


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def store(
    conn: Conn, config: FieldConfig, window: ContractDay, figures: Sequence[DailyFigures]
) -> list[str]:
    """Upsert the figures; return the PMO codes whose digest changed (or are new)."""
    ids = {p.code: p.id for p in config.pmos}
    stored = dict(
        conn.execute(
            "SELECT pmo_id, digest FROM daily_production "
            "WHERE pmo_id = ANY(%s) AND contract_day = %s",
            (list(ids.values()), window.day),
        ).fetchall()
    )
    changed: list[str] = []
    rows = []
    for f in figures:
        digest = f.digest()
        pmo_id = ids[f.code]
        if stored.get(pmo_id) != digest:
            changed.append(f.code)
        rows.append(
            (
                pmo_id,
                window.day,
                window.start,
                window.end,
                f.fluid,
                f.method,
                f.unit,
                f.indicated_volume,
                f.meter_factor,
                f.gross_observed_volume,
                f.ctl,
                f.cpl,
                f.ctpl,
                f.gross_standard_volume,
                f.bsw_percent,
                f.net_standard_volume,
                f.temperature_f,
                f.pressure_psig,
                f.api_gravity,
                _json(f.sources),
                f.samples_expected,
                f.samples_received,
                f.samples_good,
                f.longest_gap_s,
                f.time_completeness_pct,
                f.sample_completeness_pct,
                f.quality_score,
                _json(f.quality_components),
                f.quality_explanation,
                f.rollovers,
                f.resets,
                _json(f.events),
                _json([{"code": i.code, "message": i.message} for i in f.issues]),
                f.manual_entry_ids,
                digest,
            )
        )
    with conn.cursor() as cur:
        cur.executemany(_UPSERT, rows)
    return changed


_ISSUED = ("signed", "submitted", "accepted", "rejected")


def mark_amendment(
    conn: Conn, field_id: int, day: dt.date, changed: Sequence[str], config: FieldConfig
) -> bool:
    """If the day's report was already signed, flag the changed rows and the report."""
    if not flag_issued_report(conn, field_id, day):
        return False
    ids = [p.id for p in config.pmos if p.code in changed]
    conn.execute(
        "UPDATE daily_production SET needs_amendment = true "
        "WHERE pmo_id = ANY(%s) AND contract_day = %s",
        (ids, day),
    )
    return True


def flag_issued_report(conn: Conn, field_id: int, day: dt.date) -> bool:
    """Mark the field's report of ``day`` as needing an amendment if one was already signed."""
    if conn.execute("SELECT to_regclass('report_versions')").fetchone() == (None,):
        return False
    row = conn.execute(
        "UPDATE reports r SET needs_amendment = true, updated_at = now() "
        "WHERE r.field_id = %s AND r.contract_day = %s AND EXISTS "
        "(SELECT 1 FROM report_versions v WHERE v.report_id = r.id AND v.status = ANY(%s)) "
        "RETURNING r.id",
        (field_id, day, list(_ISSUED)),
    ).fetchone()
    return row is not None


def clear_amendment(conn: Conn, field_id: int, day: dt.date) -> None:
    """The day was reported again (amended): its rows no longer need an amendment."""
    conn.execute(
        "UPDATE daily_production d SET needs_amendment = false FROM measurement_points p "
        "WHERE p.id = d.pmo_id AND p.field_id = %s AND d.contract_day = %s",
        (field_id, day),
    )


def recompute_stale(
    conn: Conn, *, field_code: str | None = None, settings: ProductionSettings = DEFAULT_SETTINGS
) -> list[ComputeResult]:
    """Recompute every stored day whose telemetry rollups changed after it was computed."""
    rows = conn.execute(
        """
        SELECT DISTINCT f.code, d.contract_day
        FROM daily_production d
        JOIN measurement_points p ON p.id = d.pmo_id
        JOIN fields f ON f.id = p.field_id
        JOIN series s ON s.pmo_id = p.id
        WHERE (%(field)s::text IS NULL OR f.code = %(field)s)
          AND EXISTS (SELECT 1 FROM telemetry_hourly h
                      WHERE h.series_id = s.id
                        AND h.hour >= d.day_start - interval '1 hour' AND h.hour < d.day_end
                        AND h.updated_at > d.computed_at)
        ORDER BY 1, 2
        """,
        {"field": field_code},
    ).fetchall()
    conn.commit()
    return [compute_day(conn, code, day, settings=settings) for code, day in rows]


@dataclass(frozen=True)
class StoredDay:
    """One ``daily_production`` row with its PMO's identity, as reports and the CLI read it."""

    pmo_id: int
    pmo_code: str
    pmo_name: str
    meter_type: str
    fluid: str
    method: str
    unit: str
    indicated_volume: Decimal | None
    meter_factor: Decimal | None
    gross_observed_volume: Decimal | None
    ctl: Decimal | None
    cpl: Decimal | None
    ctpl: Decimal | None
    gross_standard_volume: Decimal | None
    bsw_percent: Decimal | None
    net_standard_volume: Decimal | None
    temperature_f: Decimal | None
    pressure_psig: Decimal | None
    api_gravity: Decimal | None
    sources: dict[str, str]
    samples_expected: int
    samples_received: int
    samples_good: int
    longest_gap_s: float | None
    time_completeness_pct: float | None
    sample_completeness_pct: float | None
    quality_score: float | None
    quality_components: dict[str, Any]
    quality_explanation: str | None
    rollovers: int
    resets: int
    issues: list[dict[str, str]]
    manual_entry_ids: list[int]
    computed_at: dt.datetime
    needs_amendment: bool


def load_daily(conn: Conn, field_id: int, day: dt.date) -> list[StoredDay]:
    """The stored figures of a field's day, by PMO code."""
    rows = conn.execute(
        """
        SELECT p.id, p.code, p.name, p.meter_type, d.fluid, d.method, d.unit,
               d.indicated_volume, d.meter_factor, d.gross_observed_volume, d.ctl, d.cpl, d.ctpl,
               d.gross_standard_volume, d.bsw_percent, d.net_standard_volume, d.temperature_f,
               d.pressure_psig, d.api_gravity, d.sources, d.samples_expected,
               d.samples_received, d.samples_good, d.longest_gap_s, d.time_completeness_pct,
               d.sample_completeness_pct, d.quality_score, d.quality_components,
               d.quality_explanation, d.rollovers, d.resets, d.issues, d.manual_entry_ids,
               d.computed_at, d.needs_amendment
        FROM daily_production d JOIN measurement_points p ON p.id = d.pmo_id
        WHERE p.field_id = %s AND d.contract_day = %s ORDER BY p.code
        """,
        (field_id, day),
    ).fetchall()
    return [StoredDay(*r) for r in rows]
