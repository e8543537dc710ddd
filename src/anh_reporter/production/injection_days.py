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
  concerned (info while the day stays whole);
* **incomplete** (warning): a stretch with no basis for an estimate or no reading at all (its
  figure is what was measured); no good reading inside the day nor around it within the gap
  tolerance (a volume wholly estimated from readings outside it, before the series started or
  after it stopped: not counted, 0.00 bbl);
  a day in progress (only its part until now is counted); or an estimated share of the volume
  above the limit a PMO's day needs a person's approval beyond (setting
  ``reports.estimate_approval_pct``, IDP028; a well's meter has no approval). The water balance
  is not taken as closed on an incomplete well
  (:func:`~anh_reporter.allocation.balances.water_balance`).
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
from anh_reporter.config import get_settings
from anh_reporter.domain.mpms import round_half_up
from anh_reporter.domain.timeutil import to_us
from anh_reporter.production.config import SeriesInfo, series_in_force
from anh_reporter.production.contract_day import ContractDay
from anh_reporter.production.day_volume import day_volume
from anh_reporter.production.inputs import Issue, PmoInputs, ProductionSettings, Samples
from anh_reporter.production.raw_rows import COUNTER_LOOKBACK, RawRequest, load_raw
from anh_reporter.production.volumes import CounterSpec, DayQuality
from anh_reporter.production.volumes.parts import iso
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
    *,
    now: dt.datetime | None = None,
    estimate_limit_pct: Decimal | None = None,
) -> InjectionDay:
    """Each metered injection well's water of the day (wells without a meter: none).

    ``now`` (default: the clock) ends a day in progress; ``estimate_limit_pct`` (default: the
    setting ``reports.estimate_approval_pct``, the PMOs' IDP028 limit) caps a meter's estimated
    share of a day taken as whole.
    """
    meters = {w.code: w.injection_meter for w in wells if w.injection_meter}
    if not meters:
        return InjectionDay(MeteredInjection({}), [])
    at = dt.datetime.now(dt.UTC) if now is None else now
    if estimate_limit_pct is None:
        estimate_limit_pct = get_settings().reports.estimate_approval_pct
    limits = MeterLimits(to_us(at), estimate_limit_pct)
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
        rows = raw.get(info.id) if info else None
        day = meter_day(well, code, info, rows, window, settings, limits)
        volumes[well] = day.volume
        if not day.complete:
            incomplete.append(well)
        if day.finding is not None:
            findings.append(day.finding)
        details.append(day.details)
    return InjectionDay(MeteredInjection(volumes, tuple(incomplete), tuple(findings)), details)


@dataclass(frozen=True)
class MeterLimits:
    """What a meter's day is judged against."""

    now_us: int
    """The instant of the computation: a day that ends later is in progress."""
    estimate_limit_pct: Decimal
    """A day with a larger estimated share of its volume is not whole (as a PMO's above the
    IDP028 limit needs a person's approval; a well's meter has no approval)."""


@dataclass(frozen=True)
class MeterDay:
    """One injection well's meter over the day."""

    volume: Decimal
    """The volume counted (bbl, 0.01): what was measured and estimated."""
    complete: bool
    """False when part of the day has no volume (no basis for an estimate, no reading in the
    day, a day in progress) or too much of it is estimated."""
    finding: Finding | None
    details: dict[str, Any]


def meter_day(
    well: str,
    code: str,
    info: SeriesInfo | None,
    rows: Rows | None,
    window: ContractDay,
    settings: ProductionSettings,
    limits: MeterLimits,
) -> MeterDay:
    """Well ``well``'s day from its meter ``code`` (``info`` None: no such series stored)."""
    where = f"well {well!r}: injection meter {code!r}"
    end_us = min(window.end_us, limits.now_us)
    ahead_s = (window.end_us - end_us) / 1e6
    if info is None or end_us <= window.start_us:
        why = (
            "is not a stored series"
            if info is None
            else f"has nothing to measure yet: the day starts after now ({iso(limits.now_us)})"
        )
        message = f"{where} {why}: the well's injection is unknown (0.00 bbl)"
        unknown = Finding(Code.INJECTION_METER_GAP, Severity.WARNING, message, well)
        details = {"well": well, "series": code, "method": "none", "volume": "0.00",
                   "estimated": "0.00", "missing_s": (window.end_us - window.start_us) / 1e6,
                   "complete": False}  # fmt: skip
        return MeterDay(Decimal("0.00"), False, unknown, details)
    issues: list[Issue] = []
    result = day_volume(_inputs(well, info, rows, window.start_us, end_us), settings, issues)
    telemetry, quality = result.telemetry, result.quality
    step = settings.rounding.volume
    volume = round_half_up(result.total or 0, step)
    estimated = round_half_up(telemetry.estimated, step) if telemetry else Decimal(0)
    methods = ", ".join(sorted({p.method for p in telemetry.estimates})) if telemetry else ""
    parts: list[str] = []
    if telemetry is None:
        missing_s = (end_us - window.start_us) / 1e6
        parts.append("no usable reading in or around the day: the well's injection is unknown")
    elif quality is not None and quality.samples_good == 0 and not quality.covered_s:
        # No good reading in the day, and none around it within the gap tolerance: its volume
        # is wholly estimated from readings outside it (before the series started, after it
        # stopped), nothing of it was metered, so nothing of it is counted.
        missing_s = (end_us - window.start_us) / 1e6
        not_counted = (
            f"; the {volume} bbl estimated from readings outside it ({methods}) are not counted"
            if estimated
            else ""
        )
        parts.append(
            f"no good reading inside the day{not_counted}: the well's injection is unknown "
            "(0.00 bbl)"
        )
        volume = estimated = Decimal("0.00")
    else:
        missing_s = sum(g.duration_s for g in telemetry.unestimated)
        parts += _gaps(quality, volume, estimated, methods, missing_s)
    share = 100 * estimated / volume if volume else Decimal(0)
    capped = share > limits.estimate_limit_pct
    if capped:
        parts.append(
            f"{share:.2f} % of the volume is estimated, above the "
            f"{limits.estimate_limit_pct} % limit (reports.estimate_approval_pct): the day is "
            "not taken as metered"
        )
    if ahead_s:
        parts.append(
            f"the day is in progress: its {ahead_s:g} s after now ({iso(limits.now_us)}) are "
            f"not counted in the {volume} bbl"
        )
    complete = missing_s == 0 and not capped and not ahead_s
    # Other problems of the day (a reset to confirm) say so too; the missing volume is above.
    # A PMO's reset is confirmed (or its volume typed) by a person; an injection well's meter
    # has neither yet: its reset is counted as estimated, and said so.
    others = [
        i.message.replace(
            "a person must confirm it or enter the volume",
            "an injection meter's reset cannot be confirmed: the estimate stands and the water "
            "balance shows it",
        )
        for i in issues
        if i.code not in ("volume_missing", "no_volume")
    ]
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
        "missing_s": missing_s + ahead_s,
        "complete": complete,
    }
    return MeterDay(volume, complete, finding, details)


def _gaps(
    quality: DayQuality | None, volume: Decimal, estimated: Decimal, methods: str, missing_s: float
) -> list[str]:
    """What a meter with readings in the day says of its gaps and estimates."""
    parts: list[str] = []
    if quality is not None and quality.gaps:
        parts.append(
            f"no usable reading for {quality.gap_s:g} s of the day (longest gap "
            f"{quality.longest_gap_s:g} s)"
        )
    if estimated:
        parts.append(f"{estimated} bbl of the {volume} bbl counted estimated ({methods})")
    elif quality is not None and quality.gaps and not missing_s:
        parts.append("the counter's difference across it is measured")
    if missing_s:
        parts.append(
            f"{missing_s:g} s have no basis for an estimate: their water is missing from the "
            f"{volume} bbl counted"
        )
    return parts


def _inputs(
    well: str, info: SeriesInfo, rows: Rows | None, start_us: int, end_us: int
) -> PmoInputs:
    """The meter as :func:`day_volume` reads a PMO's: one water volume series, no manual entry;
    over ``[start_us, end_us)`` (the day, or its part until now)."""
    t, v, q = rows or (np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int32))
    total = _is_total(info)
    return PmoInputs(
        code=well,
        fluid="water",
        has_totalizer=total,
        meter_factor=1.0,
        day_start_us=start_us,
        day_end_us=end_us,
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
