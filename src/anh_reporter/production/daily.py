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

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import psycopg

from anh_reporter.domain import mpms
from anh_reporter.domain.quality import GOOD_STORED_UPPER
from anh_reporter.domain.timeutil import to_us
from anh_reporter.observability.metrics import data_quality_score
from anh_reporter.production import store
from anh_reporter.production.approvals import approvals_of_day
from anh_reporter.production.config import FieldConfig, PmoConfig, SeriesInfo, load_field
from anh_reporter.production.contract_day import ContractDay
from anh_reporter.production.figures import DailyFigures, daily_figures
from anh_reporter.production.inputs import (
    DEFAULT_SETTINGS,
    PROPERTY_KINDS,
    VOLUME_KINDS,
    Custody,
    GasBases,
    HourlySeries,
    HourRecord,
    ManualValue,
    PmoInputs,
    ProductionSettings,
    Samples,
)
from anh_reporter.production.raw_rows import COUNTER_LOOKBACK, RawRequest, load_raw
from anh_reporter.production.volumes import CounterSpec
from anh_reporter.production.well_days import WellDaysResult, allocate_day

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
    wells: WellDaysResult | None = None
    """The day's allocation to wells (None: the field is not allocated per well)."""


# --- Loading ----------------------------------------------------------------------------------


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


def active_manual_entries(conn: Conn, field_id: int, day: dt.date) -> list[tuple[int, ManualValue]]:
    """Entries of the field's PMOs for ``day`` not superseded, with their owner's id.

    Returns ``(pmo_id, entry)`` pairs: for a kind entered twice for the whole day, the latest;
    entries that cover a window are all kept.
    """
    rows = conn.execute(
        "SELECT DISTINCT ON (pmo_id, kind, window_start, window_end, "
        "CASE WHEN window_start IS NULL THEN 0 ELSE id END) "
        "id, pmo_id, kind, value, unit, level, window_start, window_end, details "
        "FROM manual_entries WHERE field_id = %s AND contract_day = %s AND pmo_id IS NOT NULL "
        "AND superseded_by IS NULL "
        "ORDER BY pmo_id, kind, window_start, window_end, "
        "CASE WHEN window_start IS NULL THEN 0 ELSE id END, entered_at DESC, id DESC",
        (field_id, day),
    ).fetchall()
    return [
        (
            pmo_id,
            ManualValue(
                id=eid,
                kind=kind,
                value=value,
                unit=unit,
                level=level,
                window_start_us=None if ws is None else to_us(ws),
                window_end_us=None if we is None else to_us(we),
                details=details,
            ),
        )
        for eid, pmo_id, kind, value, unit, level, ws, we, details in rows
    ]


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
    wells = allocate_day(conn, config, window, settings)
    if wells is not None and wells.changed:
        amend = store.flag_issued_report(conn, config.id, day) or amend
    conn.commit()
    scores = [f.quality_score for f in figures if f.quality_score is not None]
    if scores:
        data_quality_score.labels(field_id=str(config.id)).set(sum(scores) / len(scores))
    return ComputeResult(field_code, window, figures, tuple(changed), amend, wells)


def _is_total(series: SeriesInfo) -> bool:
    return series.variable.endswith("_total")


def _counter_needs_rate(
    rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None, window: ContractDay, tol_s: float
) -> bool:
    """Whether a counter's readings leave anything for a rate series to do (conservative)."""
    if rows is None or rows[0].size < 2:
        return True
    t, v, q = rows
    if t[0] >= window.start_us or t[-1] < window.end_us:  # no neighbour on one side
        return True
    if not bool(np.all(np.isfinite(v) & (q >= 0) & (q < GOOD_STORED_UPPER))):
        return True
    return bool(np.any(np.diff(t) >= tol_s * 1e6) or np.any(np.diff(v) < 0))


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
    requests: list[RawRequest] = []
    for pmo in config.pmos:
        volume, rate = pmo.volume_series(), pmo.rate_series()
        if volume is not None:
            totalizer = volume.variable.endswith("_total")
            requests.append(
                RawRequest(volume, far=True, before=COUNTER_LOOKBACK if totalizer else 1)
            )
        if rate is not None and rate is not volume and not (volume and _is_total(volume)):
            requests.append(RawRequest(rate, far=True))
        if not aligned:
            requests.extend(RawRequest(s) for s in pmo.series.values() if s not in (volume, rate))
    raw = load_raw(conn, requests, window, settings)
    # A totalizer's rate series only splits its gaps and estimates around its resets: loaded
    # (far neighbours included) only for the PMOs whose counter has a gap, a step back, a
    # reading not Good or no reading on one side of the day; the figures are the same.
    rates = [
        RawRequest(rate, far=True)
        for pmo in config.pmos
        if (volume := pmo.volume_series()) is not None
        and _is_total(volume)
        and (rate := pmo.rate_series()) is not None
        and rate is not volume
        and _counter_needs_rate(
            raw.get(volume.id), window, settings.gap_tolerance_s(volume.sampling_period_s)
        )
    ]
    if rates:
        raw.update(load_raw(conn, rates, window, settings))
    hours = (
        load_hours(conn, [s.id for p in config.pmos for s in p.series.values()], window)
        if aligned
        else {}
    )
    whole_day: dict[int, dict[str, ManualValue]] = defaultdict(dict)
    windows: dict[int, list[ManualValue]] = defaultdict(list)
    for pmo_id, e in active_manual_entries(conn, config.id, window.day):
        if e.covers_window:
            windows[pmo_id].append(e)
        elif e.kind in VOLUME_KINDS or e.kind in PROPERTY_KINDS:
            whole_day[pmo_id][e.kind] = e
    confirmed = confirmed_resets(conn, config.id, window.day)

    def samples(s: SeriesInfo) -> Samples:
        t, v, q = raw.get(
            s.id, (np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int32))
        )
        return Samples(t, v, q, s.sampling_period_s, s.unit, s.code)

    out = []
    for pmo in config.pmos:
        volume, rate = pmo.volume_series(), pmo.rate_series()
        out.append(
            PmoInputs(
                code=pmo.code,
                fluid=pmo.kind,
                has_totalizer=pmo.has_totalizer,
                meter_factor=pmo.meter_factor,
                day_start_us=window.start_us,
                day_end_us=window.end_us,
                meter_type=pmo.meter_type,
                volume_series=samples(volume) if volume else None,
                volume_variable=volume.variable if volume else None,
                rate_series=samples(rate) if rate and rate is not volume else None,
                counter=counter_spec(pmo, volume),
                low_flow_cutoff=(volume.low_flow_cutoff or 0.0) if volume else 0.0,
                property_hours={
                    s.variable: HourlySeries(
                        hours.get(s.id, ()), s.sampling_period_s, s.unit, s.rollover, s.code
                    )
                    for s in pmo.series.values()
                }
                if aligned
                else {},
                property_raw={}
                if aligned
                else {s.variable: samples(s) for s in pmo.series.values()},
                manual=whole_day.get(pmo.id, {}),
                manual_windows=tuple(windows.get(pmo.id, ())),
                custody=Custody(**dataclasses.asdict(pmo.custody)),
                api_basis=_basis(pmo.series.get("api_gravity")),
                gas_bases=_gas_bases(config, pmo) if pmo.kind == "gas" else None,
                confirmed_resets=frozenset(confirmed.get(pmo.code, ())),
                stated_uncertainty=_stated(pmo),
            )
        )
    return out


def counter_spec(pmo: PmoConfig, volume: SeriesInfo | None) -> CounterSpec | None:
    """How a PMO's totalizer counts, from its series and meter (as in force on the day)."""
    if volume is None or not volume.variable.endswith("_total"):
        return None
    rate = pmo.rate_series()
    max_rate = pmo.max_rate or (rate.range_hi if rate is not None else None)
    return CounterSpec(
        modulus=volume.rollover,
        resolution=volume.resolution or 0.01,
        max_rate_per_day=max_rate if max_rate and max_rate > 0 else None,
        backstep_tolerance=volume.backstep_tolerance,
    )


def confirmed_resets(conn: Conn, field_id: int, day: dt.date) -> dict[str, list[int]]:
    """Per PMO code, the ``after_us`` of the resets a person confirmed for the day."""
    out: dict[str, list[int]] = defaultdict(list)
    for a in approvals_of_day(conn, field_id, day):
        if a.kind == "reset_confirmation":
            out[a.pmo_code].append(int(a.subject["after_us"]))
    return out


def _basis(series: SeriesInfo | None) -> Literal["observed", "base"] | None:
    if series is None or series.basis not in ("observed", "base"):
        return None
    return "observed" if series.basis == "observed" else "base"


def _gas_bases(config: FieldConfig, pmo: PmoConfig) -> GasBases:
    flow_computer = mpms.GasBase(
        Decimal(repr(pmo.base_pressure_psia)), Decimal(repr(pmo.base_temperature_f))
    )
    if config.gas_base_pressure_psia is None or config.gas_base_temperature_f is None:
        return GasBases(flow_computer, flow_computer)
    reporting = mpms.GasBase(
        Decimal(repr(config.gas_base_pressure_psia)), Decimal(repr(config.gas_base_temperature_f))
    )
    return GasBases(flow_computer, reporting)


def _stated(pmo: PmoConfig) -> mpms.StatedUncertainty | None:
    if pmo.uncertainty_pct is None:
        return None
    return mpms.StatedUncertainty(meter_pct=pmo.uncertainty_pct)


def recompute_stale(
    conn: Conn, *, field_code: str | None = None, settings: ProductionSettings = DEFAULT_SETTINGS
) -> list[ComputeResult]:
    """Recompute every stored day whose telemetry rollups changed after it was computed."""
    return [
        compute_day(conn, code, day, settings=settings)
        for code, day in store.stale_days(conn, field_code=field_code)
    ]
