"""One PMO's contract day: samples and manual values in, the daily figures out (pure, no I/O).

Order of work:

1. **The day's volume** (:mod:`~anh_reporter.production.day_volume`): a measured part plus
   estimated parts (each with its method and window) from the totalizer or the flow rate, or a
   person's whole-day entry at the level it states (indicated, GOV, GSV, NSV, tank gauge); the
   telemetry figure a manual entry replaces is kept.
2. **Properties** (:mod:`~anh_reporter.production.custody`): custody temperature and pressure
   (named fallbacks only, with a warning), BSW, API gravity at 60 °F (observed series converted).
3. **Corrections** (:mod:`~anh_reporter.production.corrections`): oil by the API MPMS 12.2.2
   ticket (CCF), water to 60 °F, gas to the field's reporting base.
4. **Uncertainty**: the expanded (k = 2) uncertainty of the NSV per API MPMS 13 / GUM, from the
   meter, its factor, temperature, pressure, gravity, BSW and the estimated share.

Every problem that leaves a figure missing, estimated or in doubt is an :class:`Issue`; the
report's rules judge them. :meth:`DailyFigures.digest` covers the reported figures only, so data
that changes no reported figure (a late sample count) does not flag a signed day.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from anh_reporter.domain import mpms
from anh_reporter.production.corrections import Corrections, correct
from anh_reporter.production.custody import Properties, custody_properties
from anh_reporter.production.day_volume import DayVolumeResult, day_volume
from anh_reporter.production.inputs import (
    DEFAULT_SETTINGS,
    Fluid,
    Issue,
    Level,
    Method,
    PmoInputs,
    ProductionSettings,
)

METER_TYPES: dict[str, mpms.MeterType] = {
    "coriolis": mpms.MeterType.CORIOLIS,
    "turbine": mpms.MeterType.TURBINE,
    "pd": mpms.MeterType.POSITIVE_DISPLACEMENT,
    "positive_displacement": mpms.MeterType.POSITIVE_DISPLACEMENT,
    "ultrasonic": mpms.MeterType.ULTRASONIC,
    "tank": mpms.MeterType.TANK_GAUGING,
    "tank_gauging": mpms.MeterType.TANK_GAUGING,
    "orifice": mpms.MeterType.ORIFICE_GAS,
    "orifice_gas": mpms.MeterType.ORIFICE_GAS,
}
"""Site file meter types → the uncertainty defaults of :mod:`anh_reporter.domain.mpms`."""


@dataclass(frozen=True)
class Estimate:
    """An estimated part of the day's volume: its window, method and volume."""

    method: str
    start_us: int
    end_us: int
    volume: Decimal
    detail: str = ""


@dataclass(frozen=True)
class Replaced:
    """A person's volume and the telemetry figure it replaced over the same window."""

    start_us: int
    end_us: int
    manual_volume: Decimal
    telemetry_volume: Decimal | None
    reference: str


@dataclass(frozen=True)
class UncertaintyLine:
    """One input of the uncertainty budget."""

    quantity: str
    value: float | None
    unit: str
    standard_uncertainty: float
    sensitivity: float
    contribution: float
    """Its standard uncertainty in the volume's unit (sensitivity × standard uncertainty)."""
    share_pct: float


@dataclass(frozen=True)
class Uncertainty:
    """The NSV's expanded uncertainty and the budget it comes from."""

    expanded: Decimal
    """In the volume's unit, at ``coverage_factor``."""
    expanded_pct: float
    coverage_factor: float
    lines: list[UncertaintyLine]
    method: str


@dataclass(frozen=True)
class DailyFigures:
    """A PMO's daily figures: what ``daily_production`` stores and the report reads."""

    code: str
    fluid: Fluid
    method: Method
    unit: str
    level: Level | None = None
    indicated_volume: Decimal | None = None
    meter_factor: Decimal | None = None
    gross_observed_volume: Decimal | None = None
    ctl: Decimal | None = None
    cpl: Decimal | None = None
    ctpl: Decimal | None = None
    ccf: Decimal | None = None
    gross_standard_volume: Decimal | None = None
    bsw_percent: Decimal | None = None
    csw: Decimal | None = None
    net_standard_volume: Decimal | None = None
    measured_volume: Decimal | None = None
    """The measured part of the day's volume (at ``level``, before corrections)."""
    estimated_volume: Decimal | None = None
    """The estimated part: the sum of ``estimates``."""
    estimated_share_pct: float | None = None
    completeness_pct: float | None = None
    """The share of the day's volume that was measured (100 − estimated share)."""
    flow_time_coverage_pct: float | None = None
    """How much of the day the volume series watched the meter."""
    estimates: list[Estimate] = field(default_factory=list)
    replaced: list[Replaced] = field(default_factory=list)
    missing_s: float = 0.0
    """Seconds with no data and no basis for an estimate (volume missing from the figure)."""
    temperature_f: Decimal | None = None
    pressure_psig: Decimal | None = None
    api_gravity: Decimal | None = None
    """API gravity at 60 °F."""
    api_observed: Decimal | None = None
    """API gravity as observed at line conditions (an ``observed`` series)."""
    sources: dict[str, str] = field(default_factory=dict)
    property_coverage_pct: dict[str, float] = field(default_factory=dict)
    fallbacks: list[str] = field(default_factory=list)
    water_method: str | None = None
    gas_base_pressure_psia: Decimal | None = None
    gas_base_temperature_f: Decimal | None = None
    gas_conversion: str | None = None
    samples_expected: int = 0
    samples_received: int = 0
    samples_good: int = 0
    longest_gap_s: float | None = None
    sample_completeness_pct: float | None = None
    quality_score: float | None = None
    quality_components: dict[str, Any] = field(default_factory=dict)
    quality_explanation: str | None = None
    rollovers: int = 0
    resets: int = 0
    unconfirmed_resets: int = 0
    backsteps: int = 0
    negative_clipped: int = 0
    low_flow_zeroed: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    uncertainty: Uncertainty | None = None
    meter_type: str = ""
    issues: list[Issue] = field(default_factory=list)
    manual_entry_ids: list[int] = field(default_factory=list)

    def digest(self) -> str:
        """sha256 of the reported figures: equal digests mean nothing reported changed."""
        body = {name: getattr(self, name) for name in REPORTED}
        body["estimates"] = [(e.method, e.start_us, e.end_us, e.volume) for e in self.estimates]
        body["replaced"] = [asdict(r) for r in self.replaced]
        body["uncertainty"] = None if self.uncertainty is None else self.uncertainty.expanded
        return hashlib.sha256(
            orjson.dumps(body, default=str, option=orjson.OPT_SORT_KEYS)
        ).hexdigest()


REPORTED = (
    "method",
    "level",
    "unit",
    "indicated_volume",
    "meter_factor",
    "gross_observed_volume",
    "ctl",
    "cpl",
    "ccf",
    "gross_standard_volume",
    "bsw_percent",
    "csw",
    "net_standard_volume",
    "measured_volume",
    "estimated_volume",
    "temperature_f",
    "pressure_psig",
    "api_gravity",
    "api_observed",
    "water_method",
    "gas_base_pressure_psia",
    "gas_base_temperature_f",
    "gas_conversion",
    "unconfirmed_resets",
)
"""The figures a report states: a change in any of them changes the digest."""


def daily_figures(
    inputs: PmoInputs, settings: ProductionSettings = DEFAULT_SETTINGS
) -> DailyFigures:
    """Compute one PMO's day: volume, properties, corrections, quality (see module docstring)."""
    issues: list[Issue] = []
    used_manual: list[int] = []
    volume = day_volume(inputs, settings, issues)
    if volume.manual_entry is not None:
        used_manual.append(volume.manual_entry.id)
    used_manual += [e.id for e in inputs.manual_windows if volume.telemetry is not None]
    props = custody_properties(inputs, settings, used_manual, issues)
    tank = volume.manual_entry.details if volume.manual_entry is not None else None
    corrected = correct(inputs, volume.total, volume.level, props, settings, issues, tank)
    uncertainty = _uncertainty(inputs, volume, props, corrected, issues)
    return _figures(inputs, volume, props, corrected, uncertainty, issues, used_manual)


def _figures(
    inputs: PmoInputs,
    volume: DayVolumeResult,
    props: Properties,
    c: Corrections,
    uncertainty: Uncertainty | None,
    issues: list[Issue],
    used_manual: list[int],
) -> DailyFigures:
    # A whole-day manual entry replaces the telemetry: its quality is not the figure's.
    q = volume.quality if volume.manual_entry is None else None
    telemetry = volume.telemetry if volume.manual_entry is None else None
    estimates = [] if telemetry is None else [
        Estimate(p.method, p.start_us, p.end_us, p.volume, p.detail) for p in telemetry.estimates
    ]  # fmt: skip
    replaced = _replaced(inputs, volume)
    measured = estimated = share = None
    if telemetry is not None:
        measured, estimated = telemetry.measured, telemetry.estimated
        total = telemetry.total
        share = float(100 * estimated / total) if total else 0.0
    elif volume.total is not None:
        measured, estimated, share = Decimal(0), volume.total, 100.0
    ctpl = None
    if c.ctl is not None and c.cpl is not None:
        ctpl = mpms.round_half_up(c.ctl * c.cpl, Decimal("0.0001"))
    return DailyFigures(
        code=inputs.code,
        fluid=inputs.fluid,
        method=volume.method,
        unit=volume.unit,
        level=volume.level,
        indicated_volume=c.indicated_volume,
        meter_factor=c.meter_factor,
        gross_observed_volume=c.gross_observed_volume,
        ctl=c.ctl,
        cpl=c.cpl,
        ctpl=ctpl,
        ccf=c.ccf,
        gross_standard_volume=c.gross_standard_volume,
        bsw_percent=props.bsw_percent.value if inputs.fluid == "oil" else None,
        csw=c.csw,
        net_standard_volume=c.net_standard_volume,
        measured_volume=measured,
        estimated_volume=estimated,
        estimated_share_pct=None if share is None else round(share, 4),
        completeness_pct=None if share is None else round(100.0 - share, 4),
        flow_time_coverage_pct=q.time_completeness_pct if q else None,
        estimates=estimates,
        replaced=replaced,
        missing_s=sum(g.duration_s for g in telemetry.unestimated) if telemetry else 0.0,
        temperature_f=props.temperature_f.value,
        pressure_psig=props.pressure_psig.value,
        api_gravity=props.api60.value if inputs.fluid == "oil" else None,
        api_observed=props.api_observed,
        sources=props.sources(),
        property_coverage_pct=props.coverage(),
        fallbacks=[
            name
            for name, prop in (
                ("temperature", props.temperature_f),
                ("pressure", props.pressure_psig),
            )
            if prop.fallback
        ],
        water_method=c.water_method,
        gas_base_pressure_psia=c.gas_base_pressure_psia,
        gas_base_temperature_f=c.gas_base_temperature_f,
        gas_conversion=c.gas_conversion,
        samples_expected=q.samples_expected if q else 0,
        samples_received=q.samples_received if q else 0,
        samples_good=q.samples_good if q else 0,
        longest_gap_s=q.longest_gap_s if q else None,
        sample_completeness_pct=q.sample_completeness_pct if q else None,
        quality_score=q.score.score if q else None,
        quality_components=_components(volume),
        quality_explanation=q.score.explain() if q else _manual_note(volume.method),
        rollovers=q.rollovers if q else 0,
        resets=q.resets if q else 0,
        unconfirmed_resets=q.unconfirmed_resets if q and volume.manual_entry is None else 0,
        backsteps=q.backsteps if q else 0,
        negative_clipped=q.negative_clipped if q else 0,
        low_flow_zeroed=q.low_flow_zeroed if q else 0,
        events=[dict(e) for e in volume.events],
        uncertainty=uncertainty,
        meter_type=inputs.meter_type,
        issues=issues,
        manual_entry_ids=sorted(set(used_manual)),
    )


def _replaced(inputs: PmoInputs, volume: DayVolumeResult) -> list[Replaced]:
    if volume.manual_entry is not None and volume.total is not None:
        entry = volume.manual_entry
        return [
            Replaced(
                inputs.day_start_us,
                inputs.day_end_us,
                volume.total,
                volume.replaced_telemetry,
                f"manual entry #{entry.id} ({volume.level})",
            )
        ]
    if volume.telemetry is None:
        return []
    return [
        Replaced(
            r.window.start_us,
            r.window.end_us,
            r.window.volume,
            r.telemetry_total,
            r.window.reference,
        )
        for r in volume.telemetry.replaced
    ]


def _manual_note(method: Method) -> str | None:
    if method in ("manual", "tank_gauging"):
        return "volume entered by hand: no telemetry quality score"
    return None


def _uncertainty(
    inputs: PmoInputs,
    volume: DayVolumeResult,
    props: Properties,
    c: Corrections,
    issues: list[Issue],
) -> Uncertainty | None:
    nsv = c.net_standard_volume
    if nsv is None or volume.total is None:
        return None
    meter = METER_TYPES.get(inputs.meter_type.lower())
    if meter is None:
        meter = mpms.MeterType.ORIFICE_GAS if inputs.fluid == "gas" else mpms.MeterType.TURBINE
    if volume.level == "tank":
        meter = mpms.MeterType.TANK_GAUGING
    share = 0.0
    if volume.manual_entry is not None:
        share = 1.0
    elif volume.telemetry is not None and volume.telemetry.total:
        share = float(volume.telemetry.estimated / volume.telemetry.total)
    nsv_f = float(nsv)
    try:
        budget = mpms.daily_nsv_uncertainty(
            nsv_bbl=nsv_f,
            meter_type=meter,
            estimated_bbl=nsv_f * min(max(share, 0.0), 1.0),
            fluid=inputs.fluid,
            temperature_f=None
            if props.temperature_f.value is None
            else float(props.temperature_f.value),
            pressure_psig=None
            if props.pressure_psig.value is None
            else float(props.pressure_psig.value),
            api60=None if props.api60.value is None else float(props.api60.value),
            bsw_percent=None
            if props.bsw_percent.value is None or inputs.fluid != "oil"
            else float(props.bsw_percent.value),
            stated=inputs.stated_uncertainty,
        )
    except mpms.MeasurementError as exc:
        issues.append(Issue("uncertainty_unavailable", f"{inputs.code}: {exc}"))
        return None
    return Uncertainty(
        expanded=mpms.round_half_up(budget.expanded_bbl, Decimal("0.01")),
        expanded_pct=round(budget.expanded_pct, 4),
        coverage_factor=budget.coverage_factor,
        lines=[
            UncertaintyLine(
                line.quantity,
                line.value,
                line.unit,
                line.standard_uncertainty,
                line.sensitivity,
                round(line.contribution_bbl, 6),
                round(line.share_pct, 4),
            )
            for line in budget.lines
        ],
        method=budget.method,
    )


def _components(volume: DayVolumeResult) -> dict[str, Any]:
    q = volume.quality
    out: dict[str, Any] = {}
    if q is not None:
        out["score"] = asdict(q.score)
        out["gaps"] = len(q.gaps)
        out["covered_s"] = q.covered_s
        out["gap_tolerance_s"] = q.gap_tolerance_s
        out["samples_uncertain"] = q.samples_uncertain
        out["samples_bad"] = q.samples_bad
    if volume.backstep_tolerance is not None:
        out["backstep_tolerance"] = volume.backstep_tolerance
        out["largest_backstep"] = volume.largest_backstep
    return out
