"""A field's metered injection wells on a contract day: the water each one injected.

Called by :mod:`~anh_reporter.production.well_days` while it allocates a day. Each well of the
topology in force that names an ``injection_meter`` (site file; docs/allocation.md, "Balances")
gets its day volume:

* **the series**: the named ``water_rate`` (bbl/d) or ``water_total`` (bbl) series, with its
  logged attributes (rollover, resolution, low-flow cutoff...) as in force when the day started;
* **the volume**: :func:`~anh_reporter.production.day_volume.day_volume`, the computation a
  PMO's volume goes through (a counter's difference, else the rate integrated over the day;
  measured plus estimated parts), on the day's readings and their neighbours
  (:func:`~anh_reporter.production.raw_rows.load_raw`); the indicated volume rounded half up to
  0.01 bbl, with no meter factor nor temperature correction;
* **gaps**: a meter whose day has missing readings, estimated parts or a reset gets an
  ``injection_meter_gap`` finding naming the well, the series and the seconds and barrels
  concerned; a stretch with no basis for an estimate (or no reading at all) leaves the well
  **incomplete**: its figure is what was measured, and the water balance is not taken as closed
  on it (:func:`~anh_reporter.allocation.balances.water_balance`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import psycopg

from anh_reporter.allocation.balances import MeteredInjection
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.domain.mpms import round_half_up
from anh_reporter.production.config import SeriesInfo, series_in_force
from anh_reporter.production.contract_day import ContractDay
from anh_reporter.production.day_volume import day_volume
from anh_reporter.production.inputs import Issue, PmoInputs, ProductionSettings, Samples
from anh_reporter.production.raw_rows import COUNTER_LOOKBACK, RawRequest, load_raw
from anh_reporter.production.volumes import CounterSpec
from anh_reporter.storage.config_history import values_in_force
from anh_reporter.storage.well_records import WellRow

Conn = psycopg.Connection[Any]
Rows = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class InjectionDay:
    """The metered injection wells of a field's day."""

    metered: MeteredInjection
    details: list[dict[str, Any]]
    """Per well, as stored with the day's totals: series, method, volume, measured and
    estimated parts, seconds missing."""


def injection_day(
    conn: Conn,
    field_id: int,
    wells: Sequence[WellRow],
    window: ContractDay,
    settings: ProductionSettings,
) -> InjectionDay:
    """Each metered injection well's water of the day (wells without a meter: none)."""
    meters = {w.code: w.injection_meter for w in wells if w.injection_meter}
    if not meters:
        return InjectionDay(MeteredInjection({}), [])
    infos = _series(conn, field_id, sorted(set(meters.values())), window.start)
    requests = [
        RawRequest(s, far=True, before=COUNTER_LOOKBACK if _is_total(s) else 1)
        for s in infos.values()
    ]
    raw = load_raw(conn, requests, window, settings)
    volumes: dict[str, Decimal] = {}
    incomplete: list[str] = []
    findings: list[Finding] = []
    details: list[dict[str, Any]] = []
    for well, code in sorted(meters.items()):
        info = infos.get(code)
        day = meter_day(well, code, info, raw.get(info.id) if info else None, window, settings)
        volumes[well] = day.volume
        if not day.complete:
            incomplete.append(well)
        if day.finding is not None:
            findings.append(day.finding)
        details.append(day.details)
    return InjectionDay(MeteredInjection(volumes, tuple(incomplete), tuple(findings)), details)


@dataclass(frozen=True)
class MeterDay:
    """One injection well's meter over the day."""

    volume: Decimal
    """The volume counted (bbl, 0.01): what was measured and estimated."""
    complete: bool
    """False when part of the day has no volume (no basis for an estimate, or no reading)."""
    finding: Finding | None
    details: dict[str, Any]


def meter_day(
    well: str,
    code: str,
    info: SeriesInfo | None,
    rows: Rows | None,
    window: ContractDay,
    settings: ProductionSettings,
) -> MeterDay:
    """Well ``well``'s day from its meter ``code`` (``info`` None: no such series stored)."""
    where = f"well {well!r}: injection meter {code!r}"
    if info is None:
        message = f"{where} is not a stored series: the well's injection is unknown (0.00 bbl)"
        unknown = Finding(Code.INJECTION_METER_GAP, Severity.WARNING, message, well)
        details = {"well": well, "series": code, "method": "none", "volume": "0.00",
                   "estimated": "0.00", "missing_s": (window.end_us - window.start_us) / 1e6,
                   "complete": False}  # fmt: skip
        return MeterDay(Decimal("0.00"), False, unknown, details)
    issues: list[Issue] = []
    result = day_volume(_inputs(well, info, rows, window), settings, issues)
    telemetry, quality = result.telemetry, result.quality
    step = settings.rounding.volume
    volume = round_half_up(result.total or 0, step)
    estimated = round_half_up(telemetry.estimated, step) if telemetry else Decimal(0)
    if telemetry is None:
        missing_s = (window.end_us - window.start_us) / 1e6
    else:
        missing_s = sum(g.duration_s for g in telemetry.unestimated)
    complete = missing_s == 0
    parts: list[str] = []
    if telemetry is None:
        parts.append("no usable reading in or around the day: the well's injection is unknown")
    elif quality is not None and quality.gaps:
        parts.append(
            f"no usable reading for {quality.gap_s:g} s of the day (longest gap "
            f"{quality.longest_gap_s:g} s)"
        )
    if telemetry is not None and estimated:
        methods = ", ".join(sorted({p.method for p in telemetry.estimates}))
        parts.append(f"{estimated} bbl of the {volume} bbl counted estimated ({methods})")
    elif telemetry is not None and quality is not None and quality.gaps and complete:
        parts.append("the counter's difference across it is measured")
    if telemetry is not None and not complete:
        parts.append(
            f"{missing_s:g} s have no basis for an estimate: their water is missing from the "
            f"{volume} bbl counted"
        )
    # Other problems of the day (a reset to confirm) say so too; the missing volume is above.
    others = [i.message for i in issues if i.code not in ("volume_missing", "no_volume")]
    finding: Finding | None = None
    if parts or others:
        severity = Severity.INFO if complete and not others else Severity.WARNING
        message = f"{where}: " + "; ".join([*parts, *others])
        finding = Finding(Code.INJECTION_METER_GAP, severity, message, well)
    details = {
        "well": well,
        "series": code,
        "method": result.method,
        "volume": str(volume),
        "estimated": str(estimated),
        "missing_s": missing_s,
        "complete": complete,
    }
    return MeterDay(volume, complete, finding, details)


def _inputs(well: str, info: SeriesInfo, rows: Rows | None, window: ContractDay) -> PmoInputs:
    """The meter as :func:`day_volume` reads a PMO's: one water volume series, no manual entry."""
    t, v, q = rows or (np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int32))
    total = _is_total(info)
    return PmoInputs(
        code=well,
        fluid="water",
        has_totalizer=total,
        meter_factor=1.0,
        day_start_us=window.start_us,
        day_end_us=window.end_us,
        volume_series=Samples(t, v, q, info.sampling_period_s, info.unit, info.code),
        volume_variable=info.variable,
        counter=CounterSpec(
            modulus=info.rollover,
            resolution=info.resolution or 0.01,
            backstep_tolerance=info.backstep_tolerance,
        )
        if total
        else None,
        low_flow_cutoff=info.low_flow_cutoff or 0.0,
    )


def _is_total(info: SeriesInfo) -> bool:
    return info.variable.endswith("_total")


def _series(conn: Conn, field_id: int, codes: list[str], at: dt.datetime) -> dict[str, SeriesInfo]:
    """The named series of the field, with their logged attributes as in force at ``at``."""
    rows = conn.execute(
        "SELECT id, code, variable, unit, sampling_period_s, rollover, range_lo, range_hi, "
        "resolution, backstep_tolerance, low_flow_cutoff, basis FROM series "
        "WHERE field_id = %s AND code = ANY(%s)",
        (field_id, codes),
    ).fetchall()
    infos = {str(r[1]): SeriesInfo(*r) for r in rows}
    in_force = values_in_force(conn, [("series", c) for c in infos], at)
    return {c: series_in_force(info, in_force) for c, info in infos.items()}
