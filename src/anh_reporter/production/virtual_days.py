"""A field's day of virtual meters: each well's liquid from its pump speed, Σ against each PMO.

Called by :mod:`~anh_reporter.production.well_days` while it allocates a field's day. For each
well whose site entry has a ``virtual_meter`` block (docs/allocation.md, "Virtual meter"):

* **calibration** on the test in force (the one allocation uses): the speed during the test is
  the mean speed while the pump ran, from the well's speed series (ESP ``pump_speed`` Hz, rod
  pump ``strokes_per_minute``, PCP ``pump_speed`` rpm), over the test's window when it has one
  (a test read from a test separator, :mod:`~anh_reporter.production.separator_tests`), else
  over the test's whole contract day (a test typed by hand has a date, not a time); when the
  series has no running time there (no data kept, or the test predates the series), the
  ``pump_speed`` typed with the test; else the well has no estimate and says why;
* **the day's liquid**: :func:`~anh_reporter.allocation.virtual_meter.virtual_liquid` over the
  contract day, with its coverage; split into oil and water by the test's water cut.

Each production PMO of oil or water with at least one such well gets
:func:`~anh_reporter.allocation.virtual_meter.check_virtual_meter` of its wells' virtual oil
(or water) against its measured volume, within the field's band
(``allocation.virtual_meter_band_pct``, default 10 %): a divergence is a warning finding
``virtual_meter_diverges`` (the report's IDP035); a comparison that cannot be made (a producing
well without an estimate, a thin day of data) is an info finding ``virtual_meter_incomplete``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, cast

import numpy as np
import psycopg

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.field_day import WellDayInput
from anh_reporter.allocation.findings import Finding
from anh_reporter.allocation.hours_on import ON_SIGNALS, WellStatus
from anh_reporter.allocation.timeseries import Window
from anh_reporter.allocation.topology import Topology
from anh_reporter.allocation.virtual_meter import (
    EspCorrection,
    LiftMethod,
    Signal,
    VirtualEstimate,
    calibrate_well,
    check_virtual_meter,
    mean_while_running,
    virtual_liquid,
)
from anh_reporter.domain.quality import GOOD_STORED_UPPER
from anh_reporter.domain.timeutil import to_us
from anh_reporter.production.inputs import ProductionSettings
from anh_reporter.site_virtual_meter import ESP_LOAD_SERIES, LIFT_SPEED_SERIES
from anh_reporter.storage import well_records as records

Conn = psycopg.Connection[Any]


@dataclass(frozen=True)
class VirtualDay:
    """The virtual meters of a field's day, as stored."""

    rows: dict[str, dict[str, Any]]
    """By well code: ``virtual_liquid_bbl`` and ``virtual_meter`` (how it was obtained)."""
    checks: list[dict[str, Any]]
    """Per production PMO: Σ virtual against the measured volume."""
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class _Meter:
    well: records.WellRow
    method: LiftMethod
    speed: records.WellSeriesRow | None
    load: records.WellSeriesRow | None
    correction: EspCorrection


def _text(value: Decimal | float | None, places: int = 4) -> str | None:
    if value is None:
        return None
    return str(value) if isinstance(value, Decimal) else f"{value:.{places}f}"


def _signal(rows: list[tuple[dt.datetime, float, int]]) -> Signal:
    values = np.array([r[1] for r in rows], dtype=np.float64)
    quality = np.array([r[2] for r in rows], dtype=np.int64)
    good = (quality >= 0) & (quality < GOOD_STORED_UPPER) & np.isfinite(values)
    return Signal(np.array([to_us(r[0]) for r in rows], dtype=np.int64), values, good)


def _meters(conn: Conn, field_id: int, wells: Sequence[records.WellRow]) -> dict[str, _Meter]:
    configured = [w for w in wells if w.virtual_meter is not None]
    if not configured:
        return {}
    series: dict[str, dict[str, records.WellSeriesRow]] = defaultdict(dict)
    for s in records.well_series(conn, field_id):
        series[s.well][s.variable] = s
    out = {}
    for w in configured:
        conf = w.virtual_meter or {}
        variable = LIFT_SPEED_SERIES.get(w.production_method, ("", ""))[0]
        correction = cast(EspCorrection, conf.get("esp_correction") or "none")
        load = series[w.code].get(ESP_LOAD_SERIES.get(correction, ""))
        method = cast(LiftMethod, w.production_method)
        out[w.code] = _Meter(w, method, series[w.code].get(variable), load, correction)
    return out


def virtual_day(
    conn: Conn,
    field_id: int,
    *,
    wells: Sequence[records.WellRow],
    inputs: Sequence[WellDayInput],
    test_ids: Mapping[int, int],
    topology: Topology,
    measured: Mapping[str, Decimal],
    window: Window,
    day_window: Callable[[dt.date], Window],
    allocation: Mapping[str, Any],
    settings: ProductionSettings,
) -> VirtualDay:
    """Estimate each configured well's liquid of ``window`` and compare Σ with each PMO."""
    meters = _meters(conn, field_id, wells)
    if not meters:
        return VirtualDay({}, [], ())
    by_well = {i.well: i for i in inputs}
    ids = [s.id for m in meters.values() for s in (m.speed, m.load) if s is not None]
    day_raw = records.series_readings(conn, ids, _at(window.start_us), _at(window.end_us))
    spans = _test_spans(conn, meters, by_well, test_ids, day_window)
    test_raw = _test_readings(conn, meters, spans)
    rows: dict[str, dict[str, Any]] = {}
    estimates: dict[str, VirtualEstimate] = {}
    notes: dict[str, str] = {}
    for code, meter in sorted(meters.items()):
        try:
            record, estimate = _estimate(
                meter,
                by_well[code],
                spans.get(code),
                window,
                day_raw,
                test_raw,
                settings,
            )
        except AllocationError as exc:
            record, estimate = {"method": meter.method, "note": str(exc)}, None
        if estimate is None:
            notes[code] = str(record.get("note") or "no estimate")
        else:
            estimates[code] = estimate
        rows[code] = {
            "virtual_liquid_bbl": None if estimate is None else estimate.liquid_bbl,
            "virtual_meter": record,
        }
    checks, findings = _checks(topology, meters, by_well, estimates, notes, measured, allocation)
    return VirtualDay(rows, checks, findings)


def _at(us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(us / 1_000_000, dt.UTC)


_Raw = Mapping[int, list[tuple[dt.datetime, float, int]]]


@dataclass(frozen=True)
class _TestSpan:
    """Where a well's test speed is read: the test's window, else its whole contract day."""

    window: Window
    over: Literal["test_window", "contract_day"]
    test_id: int | None
    row: records.WellTestRow | None


def _test_spans(
    conn: Conn,
    meters: Mapping[str, _Meter],
    inputs: Mapping[str, WellDayInput],
    test_ids: Mapping[int, int],
    day_window: Callable[[dt.date], Window],
) -> dict[str, _TestSpan]:
    """Per well with a test in force: the span its test speed is read over.

    A test with a window (read from a test separator) saw the pump only then; a test typed by
    hand has a date, not a time, so its whole contract day stands for it.
    """
    tests = {code: inputs[code].test.test for code in meters}
    wanted = [test_ids[id(t)] for t in tests.values() if t is not None and id(t) in test_ids]
    stored = records.well_tests_by_id(conn, wanted) if wanted else {}
    out: dict[str, _TestSpan] = {}
    for code, test in tests.items():
        if test is None:
            continue
        test_id = test_ids.get(id(test))
        row = None if test_id is None else stored.get(test_id)
        if row is not None and row.window_start is not None and row.window_end is not None:
            span = Window(to_us(row.window_start), to_us(row.window_end))
            out[code] = _TestSpan(span, "test_window", test_id, row)
        else:
            out[code] = _TestSpan(day_window(test.tested_on), "contract_day", test_id, row)
    return out


def _test_readings(
    conn: Conn, meters: Mapping[str, _Meter], spans: Mapping[str, _TestSpan]
) -> dict[Window, _Raw]:
    """The speed (and load) readings over each test's span: one query per distinct span."""
    by_span: dict[Window, list[int]] = defaultdict(list)
    for code, span in spans.items():
        meter = meters[code]
        by_span[span.window] += [s.id for s in (meter.speed, meter.load) if s is not None]
    return {
        span: records.series_readings(conn, ids, _at(span.start_us), _at(span.end_us))
        for span, ids in by_span.items()
    }


def _estimate(
    meter: _Meter,
    well: WellDayInput,
    span: _TestSpan | None,
    window: Window,
    day_raw: _Raw,
    test_raw: Mapping[Window, _Raw],
    settings: ProductionSettings,
) -> tuple[dict[str, Any], VirtualEstimate | None]:
    """One well's virtual liquid of the day and the record of how it was obtained."""
    record: dict[str, Any] = {"method": meter.method}
    test = well.test.test
    if meter.speed is None:
        return {**record, "note": "no speed series"}, None
    if test is None or span is None:
        return {**record, "note": "no test to calibrate on"}, None
    record.update(
        test_id=span.test_id, test_date=str(test.tested_on), test_state=str(well.test.state)
    )
    tolerance = settings.gap_tolerance_s(meter.speed.sampling_period_s)
    threshold = ON_SIGNALS[LIFT_SPEED_SERIES[meter.method][0]].threshold
    test_window = span.window
    raw = test_raw.get(test_window, {})
    name = f"speed series of well {meter.well.code!r}"
    speed_rows = raw.get(meter.speed.id)
    test_speed = None
    if speed_rows:
        test_speed = mean_while_running(
            name, _signal(speed_rows), test_window, gap_tolerance_s=tolerance, threshold=threshold
        )
    source = "telemetry"
    if test_speed is None:
        typed = span.row
        if typed is None or typed.pump_speed is None:
            during = "the test's window" if span.over == "test_window" else "that day"
            note = (
                f"no speed during the test of {test.tested_on}: its series has no running time "
                f"over {during} and the test has no pump_speed typed with it"
            )
            return {**record, "note": note}, None
        test_speed, source = float(typed.pump_speed), "manual"
    conf = meter.well.virtual_meter or {}
    load_mean = None
    correction: EspCorrection = meter.correction
    if correction != "none" and meter.load is not None and speed_rows:
        load_mean = mean_while_running(
            name, _signal(speed_rows), test_window, gap_tolerance_s=tolerance,
            threshold=threshold, series=_signal(raw.get(meter.load.id) or []),
        )  # fmt: skip
    if correction != "none" and load_mean is None:
        record["note"] = f"no {correction} during the test: affinity law without correction"
        correction = "none"
    calibration = calibrate_well(
        meter.method, test, test_speed,
        stroke_in=conf.get("stroke_in"), plunger_diameter_in=conf.get("plunger_diameter_in"),
        displacement_bbl_d_per_rpm=conf.get("displacement_bbl_d_per_rpm"),
        power_kw=load_mean if correction == "power" else None,
        current_a=load_mean if correction == "current" else None,
    )  # fmt: skip
    load = None
    if correction != "none" and meter.load is not None:
        load = _signal(day_raw.get(meter.load.id) or [])
    estimate = virtual_liquid(
        calibration, _signal(day_raw.get(meter.speed.id) or []), window,
        gap_tolerance_s=tolerance, correction=correction, load=load,
    )  # fmt: skip
    record.update(
        test_speed=_text(test_speed),
        test_speed_source=source,
        test_speed_over=span.over,
        bbl_d_per_unit=_text(calibration.bbl_d_per_unit, 5),
        efficiency=_text(calibration.efficiency),
        coverage_pct=_text(estimate.coverage_pct, 1),
        correction_factor=_text(estimate.correction_factor),
        water_cut_pct=_text(estimate.water_cut_pct),
        oil_bbl=_text(estimate.oil_bbl),
        water_bbl=_text(estimate.water_bbl),
    )
    return record, estimate


def _producing(w: WellDayInput | None) -> bool:
    if w is None or w.status != WellStatus.PRODUCING:
        return False
    return w.hours_on is None or w.hours_on > 0


def _checks(
    topology: Topology,
    meters: Mapping[str, _Meter],
    inputs: Mapping[str, WellDayInput],
    estimates: Mapping[str, VirtualEstimate],
    notes: Mapping[str, str],
    measured: Mapping[str, Decimal],
    allocation: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], tuple[Finding, ...]]:
    band = Decimal(repr(float(allocation.get("virtual_meter_band_pct") or 10)))
    coverage = float(allocation.get("virtual_meter_min_coverage_pct") or 95)
    checks: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for pmo in topology.production_pmos():
        wells = topology.wells_at(pmo.code)
        volume = measured.get(pmo.code)
        if pmo.fluid == "gas" or volume is None or not any(w in meters for w in wells):
            continue
        fluid: Literal["oil", "water"] = "oil" if pmo.fluid == "oil" else "water"
        without = [
            f"{w} ({notes.get(w, 'no virtual meter')})"
            for w in wells
            if w not in estimates and _producing(inputs.get(w))
        ]
        check = check_virtual_meter(
            pmo.code, volume, [estimates[w] for w in wells if w in estimates], fluid=fluid,
            band_pct=band, min_coverage_pct=coverage, without_meter=without,
        )  # fmt: skip
        findings.extend(check.findings)
        checks.append(
            {
                "pmo": pmo.code,
                "fluid": fluid,
                "measured": str(volume),
                "virtual_total": _text(check.virtual_total),
                "deviation_pct": _text(check.deviation_pct),
                "band_pct": str(band),
                "diverges": any(f.code == "virtual_meter_diverges" for f in check.findings),
                "wells": sorted(e.well for e in check.estimates),
            }
        )
    return checks, tuple(findings)
