"""One PMO's contract day: samples and manual values in, the daily figures out (pure, no I/O).

Order of work (API MPMS 12.2 for liquids):

1. **Indicated volume (IV)**: a manual volume entry (Tipo B, tank gauging) when one is active;
   else the totalizer difference when the meter has a totalizer series
   (:func:`~anh_reporter.production.volumes.totalizer_volume`); else the time integral of the
   flow rate (:func:`~anh_reporter.production.volumes.integrate_rate`); else no volume.
2. **Properties**: temperature, pressure, BSW and API gravity are the manual (lab) value where
   one is entered, otherwise the flow-weighted average of the day (see :func:`hourly_average`
   and :func:`~anh_reporter.production.volumes.flow_weighted_average`). They are rounded to
   :class:`ProductionSettings` increments before use, so the reported value is the value used.
   API gravity is taken as corrected to 60 °F (as a lab or a densitometer with compensation
   reports it); pressure in psia is turned into psig with the standard atmosphere.
3. **Oil**: CTL, CPL and CTPL from :func:`~anh_reporter.domain.mpms.base_to_alternate` (crude
   oil) at the day's temperature and pressure; then
   :func:`~anh_reporter.domain.mpms.liquid_volumes`: GOV = IV × MF, GSV = GOV × CTPL,
   NSV = GSV × (1 − BSW/100), each rounded half up at its discrimination. Without a pressure
   CPL is 1 (0 psig) and an issue says so; without temperature or API gravity there is no GSV.
4. **Water**: GOV = IV × MF; no temperature correction (API MPMS 11.1 covers hydrocarbons), so
   GSV = NSV = GOV. **Gas**: the flow computer already gives kscf at base conditions
   (AGA-3/7/9 with AGA-8); GOV = IV × MF and GSV = NSV = GOV.

Every problem that leaves a figure missing is an :class:`Issue` with a code; the report's rules
turn them into findings. Quality figures (samples, longest gap, completeness, score and its
terms) are those of the volume series, from :class:`~anh_reporter.production.volumes.DayQuality`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import orjson
from numpy.typing import NDArray

from anh_reporter.domain import mpms
from anh_reporter.production.volumes import (
    SECONDS_PER_DAY,
    CounterSpec,
    DayQuality,
    DayVolume,
    PropertyAverage,
    RateSamples,
    flow_weighted_average,
    integrate_rate,
    totalizer_volume,
)

Fluid = Literal["oil", "gas", "water"]
Method = Literal["totalizer", "rate_integration", "manual", "tank_gauging", "none"]

ATMOSPHERE_PSIA = 14.696
"""Standard atmosphere, psia: converts a psia pressure to the psig CPL needs."""

PROPERTY_VARIABLES: dict[str, tuple[str, ...]] = {
    "temperature": ("meter_temperature", "separator_temperature", "flowline_temperature"),
    "pressure": ("meter_pressure", "line_pressure", "separator_pressure"),
    "bsw": ("bsw",),
    "api_gravity": ("api_gravity",),
}
"""Which series give each property of a PMO, in order of preference."""

VOLUME_KINDS: dict[str, Fluid | None] = {
    "oil_volume": "oil",
    "water_volume": "water",
    "gas_volume": "gas",
    "tank_gauging": None,
}
"""Manual entry kinds that replace the telemetry volume (tank gauging: any liquid PMO)."""

PROPERTY_KINDS = ("temperature", "pressure", "bsw", "api_gravity")


@dataclass(frozen=True)
class ProductionSettings:
    """Tolerances and reporting increments of the daily computation."""

    gap_tolerance_periods: float = 6.0
    """An interval longer than this many sampling periods is a gap (not interpolated)..."""
    min_gap_tolerance_s: float = 60.0
    """...and never shorter than this."""
    property_gap_tolerance_s: float = 4 * 3600.0
    """Lab-like properties (BSW, API gravity) sampled rarely stay valid this long."""
    temperature_increment: Decimal = Decimal("0.1")
    pressure_increment: Decimal = Decimal("0.1")
    api_increment: Decimal = Decimal("0.1")
    bsw_increment: Decimal = Decimal("0.01")
    rounding: mpms.VolumeRounding = mpms.BBL_ROUNDING

    def gap_tolerance_s(self, sampling_period_s: float) -> float:
        """The gap tolerance of a series sampled every ``sampling_period_s``."""
        return max(self.gap_tolerance_periods * sampling_period_s, self.min_gap_tolerance_s)


DEFAULT_SETTINGS = ProductionSettings()


@dataclass(frozen=True)
class Samples:
    """Raw rows of one series: the window plus one neighbour each side (as volumes.py needs)."""

    times_us: NDArray[np.int64]
    values: NDArray[np.float64]
    quality: NDArray[np.int32]
    sampling_period_s: float
    unit: str
    rollover: float | None = None


@dataclass(frozen=True)
class HourRecord:
    """One ``telemetry_hourly`` row (times in µs)."""

    hour_us: int
    count: int
    good_count: int
    avg: float | None
    integral: float | None
    first_time_us: int | None
    last_time_us: int | None
    first_value: float | None
    last_value: float | None

    @property
    def mean(self) -> float | None:
        """Time-weighted mean over the hour's good readings (their plain mean if only one)."""
        if self.good_count == 0 or self.avg is None:
            return None
        if (
            self.integral is not None
            and self.first_time_us is not None
            and self.last_time_us is not None
            and self.last_time_us > self.first_time_us
        ):
            return self.integral / ((self.last_time_us - self.first_time_us) / 1e6)
        return self.avg

    @property
    def span_s(self) -> float:
        """Seconds between the hour's first and last good reading."""
        if self.first_time_us is None or self.last_time_us is None:
            return 0.0
        return (self.last_time_us - self.first_time_us) / 1e6


@dataclass(frozen=True)
class HourlySeries:
    """The hourly rollups of one series over the window."""

    hours: tuple[HourRecord, ...]
    sampling_period_s: float
    unit: str
    rollover: float | None = None


@dataclass(frozen=True)
class ManualValue:
    """An active manual entry as the computation uses it."""

    id: int
    kind: str
    value: Decimal
    unit: str


@dataclass(frozen=True)
class Issue:
    """Something that leaves a figure missing or estimated; the report rules judge it."""

    code: str
    message: str


@dataclass(frozen=True)
class PmoInputs:
    """Everything one PMO's day needs."""

    code: str
    fluid: Fluid
    has_totalizer: bool
    meter_factor: float
    day_start_us: int
    day_end_us: int
    volume_series: Samples | None = None
    volume_variable: str | None = None
    """``oil_total``/``oil_rate``... the series ``volume_series`` holds."""
    property_hours: Mapping[str, HourlySeries] = field(default_factory=dict)
    """Hourly rollups of every series of the PMO, by variable (rates and totalizers too)."""
    property_raw: Mapping[str, Samples] = field(default_factory=dict)
    """Raw rows by variable; used instead of the rollups when the window is not hour-aligned."""
    manual: Mapping[str, ManualValue] = field(default_factory=dict)
    """Active manual entries by kind."""


@dataclass(frozen=True)
class DailyFigures:
    """A PMO's daily figures: what ``daily_production`` stores."""

    code: str
    fluid: Fluid
    method: Method
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
    """Per property: ``telemetry (flow|time|samples basis)``, ``manual #id`` or ``none``."""
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
    events: list[dict[str, Any]]
    issues: list[Issue]
    manual_entry_ids: list[int]

    def digest(self) -> str:
        """sha256 of every figure: equal digests mean an unchanged day."""
        body = asdict(self)
        return hashlib.sha256(
            orjson.dumps(body, default=str, option=orjson.OPT_SORT_KEYS)
        ).hexdigest()


# ---------------------------------------------------------------------------------------------


def daily_figures(
    inputs: PmoInputs, settings: ProductionSettings = DEFAULT_SETTINGS
) -> DailyFigures:
    """Compute one PMO's day: volume, properties, corrections, quality (see module docstring)."""
    issues: list[Issue] = []
    used_manual: list[int] = []
    method, iv, unit, quality, events, volume = _indicated_volume(
        inputs, settings, issues, used_manual
    )
    props, sources = _properties(inputs, settings, used_manual)

    mf = Decimal(repr(inputs.meter_factor))
    ctl = cpl = ctpl = gov = gsv = nsv = None
    bsw = props["bsw"] if inputs.fluid == "oil" else None
    if iv is not None:
        try:
            gov = mpms.gross_observed_volume(iv, mf, settings.rounding)
        except mpms.MeasurementError as exc:
            issues.append(Issue("volume_invalid", f"{inputs.code}: {exc}"))
    if gov is not None and inputs.fluid == "oil":
        ctl, cpl, ctpl = _oil_corrections(inputs.code, props, issues)
        if ctpl is not None:
            gsv = mpms.gross_standard_volume(gov, ctpl, settings.rounding)
            if bsw is None:
                issues.append(Issue("bsw_missing", f"{inputs.code}: no BSW for the day: no NSV"))
            else:
                try:
                    nsv = mpms.net_standard_volume(gsv, bsw, settings.rounding)
                except mpms.MeasurementError as exc:
                    issues.append(Issue("bsw_invalid", f"{inputs.code}: {exc}"))
    elif gov is not None:
        gsv = nsv = gov

    return DailyFigures(
        code=inputs.code,
        fluid=inputs.fluid,
        method=method,
        unit=unit,
        indicated_volume=None if iv is None else mpms.round_half_up(iv, settings.rounding.volume),
        meter_factor=mpms.round_half_up(mf, settings.rounding.meter_factor),
        gross_observed_volume=gov,
        ctl=ctl,
        cpl=cpl,
        ctpl=ctpl,
        gross_standard_volume=gsv,
        bsw_percent=bsw,
        net_standard_volume=nsv,
        temperature_f=props["temperature"],
        pressure_psig=props["pressure"],
        api_gravity=props["api_gravity"],
        sources=sources,
        samples_expected=quality.samples_expected if quality else 0,
        samples_received=quality.samples_received if quality else 0,
        samples_good=quality.samples_good if quality else 0,
        longest_gap_s=quality.longest_gap_s if quality else None,
        time_completeness_pct=quality.time_completeness_pct if quality else None,
        sample_completeness_pct=quality.sample_completeness_pct if quality else None,
        quality_score=quality.score.score if quality else None,
        quality_components=_components(quality, inputs, volume),
        quality_explanation=quality.score.explain() if quality else _manual_note(method),
        rollovers=quality.rollovers if quality else 0,
        resets=quality.resets if quality else 0,
        events=events,
        issues=issues,
        manual_entry_ids=sorted(used_manual),
    )


def _manual_note(method: Method) -> str | None:
    if method in ("manual", "tank_gauging"):
        return "volume entered by hand: no telemetry quality score"
    return None


def _indicated_volume(
    inputs: PmoInputs,
    settings: ProductionSettings,
    issues: list[Issue],
    used_manual: list[int],
) -> tuple[Method, Decimal | None, str, DayQuality | None, list[dict[str, Any]], DayVolume | None]:
    unit = "kscf" if inputs.fluid == "gas" else "bbl"
    for kind, fluid in VOLUME_KINDS.items():
        entry = inputs.manual.get(kind)
        if entry is None or (fluid is not None and fluid != inputs.fluid):
            continue
        if fluid is None and inputs.fluid == "gas":
            continue
        used_manual.append(entry.id)
        method: Method = "tank_gauging" if kind == "tank_gauging" else "manual"
        return method, entry.value, unit, None, [], None

    series = inputs.volume_series
    if series is None or inputs.volume_variable is None:
        issues.append(
            Issue("no_volume", f"{inputs.code}: no volume series and no manual volume entry")
        )
        return "none", None, unit, None, [], None
    tolerance = settings.gap_tolerance_s(series.sampling_period_s)
    if inputs.volume_variable.endswith("_total"):
        total = totalizer_volume(
            series.times_us,
            series.values,
            series.quality,
            gap_tolerance_s=tolerance,
            sampling_period_s=series.sampling_period_s,
            counter=CounterSpec(modulus=series.rollover),
            rate=_rate_samples(inputs),
            day_start_us=inputs.day_start_us,
            day_end_us=inputs.day_end_us,
        )
        events = [asdict(e) for e in total.events]
        for e in total.events:
            if e.needs_confirmation:
                issues.append(
                    Issue(
                        "meter_reset",
                        f"{inputs.code}: totalizer reset from {e.before_value:g} to "
                        f"{e.after_value:g}: {e.volume} {unit} lost around it estimated "
                        f"({e.basis}); needs confirmation",
                    )
                )
        _estimated_issue(inputs.code, unit, total.volume, issues)
        return "totalizer", total.volume.total, unit, total.quality, events, total.volume
    rate = integrate_rate(
        series.times_us,
        series.values,
        series.quality,
        gap_tolerance_s=tolerance,
        sampling_period_s=series.sampling_period_s,
        rate_time_base_s=SECONDS_PER_DAY,
        day_start_us=inputs.day_start_us,
        day_end_us=inputs.day_end_us,
    )
    _estimated_issue(inputs.code, unit, rate.volume, issues)
    return "rate_integration", rate.volume.total, unit, rate.quality, [], rate.volume


def _rate_samples(inputs: PmoInputs) -> RateSamples | None:
    """The PMO's raw flow rate, when loaded, to split totalizer gaps and estimate resets."""
    rate = inputs.property_raw.get(f"{inputs.fluid}_rate")
    if rate is None:
        return None
    return RateSamples(rate.times_us, rate.values, rate.quality)


def _estimated_issue(code: str, unit: str, volume: DayVolume, issues: list[Issue]) -> None:
    if volume.estimates or volume.unestimated:
        methods = ", ".join(sorted({p.method for p in volume.estimates})) or "none"
        missing = sum(g.duration_s for g in volume.unestimated)
        issues.append(
            Issue(
                "volume_estimated",
                f"{code}: {volume.estimated} of {volume.total} {unit} estimated ({methods}); "
                f"measured share {volume.measured_share_pct:.1f} %"
                + (f"; {missing:g} s without any basis for an estimate" if missing else ""),
            )
        )


def _properties(
    inputs: PmoInputs, settings: ProductionSettings, used_manual: list[int]
) -> tuple[dict[str, Decimal | None], dict[str, str]]:
    increments = {
        "temperature": settings.temperature_increment,
        "pressure": settings.pressure_increment,
        "bsw": settings.bsw_increment,
        "api_gravity": settings.api_increment,
    }
    values: dict[str, Decimal | None] = {}
    sources: dict[str, str] = {}
    aligned = _hour_aligned(inputs.day_start_us, inputs.day_end_us)
    for prop in PROPERTY_KINDS:
        entry = inputs.manual.get(prop)
        if entry is not None:
            used_manual.append(entry.id)
            values[prop] = mpms.round_half_up(entry.value, increments[prop])
            sources[prop] = f"manual #{entry.id}"
            continue
        found = _telemetry_property(inputs, prop, settings, aligned)
        if found is None:
            values[prop] = None
            sources[prop] = "none"
            continue
        average, unit = found
        value = average.value
        if prop == "pressure" and unit == "psia":
            value -= ATMOSPHERE_PSIA
        values[prop] = mpms.round_half_up(value, increments[prop])
        sources[prop] = f"telemetry ({average.basis}-weighted)"
    return values, sources


def _telemetry_property(
    inputs: PmoInputs, prop: str, settings: ProductionSettings, aligned: bool
) -> tuple[PropertyAverage, str] | None:
    tolerance_for_lab = prop in ("bsw", "api_gravity")
    for variable in PROPERTY_VARIABLES[prop]:
        if aligned and variable in inputs.property_hours:
            hours = inputs.property_hours[variable]
            average = hourly_average(hours.hours, _hourly_weights(inputs))
            if average is not None:
                return average, hours.unit
        elif variable in inputs.property_raw:
            raw = inputs.property_raw[variable]
            rate = _raw_rate(inputs)
            tolerance = settings.gap_tolerance_s(raw.sampling_period_s)
            rate_tolerance = settings.gap_tolerance_s(rate.sampling_period_s) if rate else tolerance
            result = flow_weighted_average(
                raw.times_us,
                raw.values,
                rate.times_us if rate else np.zeros(0, dtype=np.int64),
                rate.values if rate else np.zeros(0),
                values_quality=raw.quality,
                rate_quality=rate.quality if rate else None,
                day_start_us=inputs.day_start_us,
                day_end_us=inputs.day_end_us,
                gap_tolerance_s=rate_tolerance,
                values_gap_tolerance_s=max(
                    tolerance, settings.property_gap_tolerance_s if tolerance_for_lab else 0.0
                ),
            )
            if result is not None:
                return result, raw.unit
    return None


def _raw_rate(inputs: PmoInputs) -> Samples | None:
    rate = inputs.property_raw.get(f"{inputs.fluid}_rate")
    if rate is not None:
        return rate
    if inputs.volume_variable == f"{inputs.fluid}_rate":
        return inputs.volume_series
    return None


def _hour_aligned(start_us: int, end_us: int) -> bool:
    hour = 3_600_000_000
    return start_us % hour == 0 and end_us % hour == 0


def _hourly_weights(inputs: PmoInputs) -> dict[int, float]:
    """Volume that flowed in each hour (in the rate's unit × days), to weight hourly averages.

    From the rate series when there is one (time-weighted mean rate × 1 h); else from the
    totalizer (difference of the hours' last readings, rollover-aware; a drop counts as 0).
    """
    rate = inputs.property_hours.get(f"{inputs.fluid}_rate")
    if rate is not None:
        return {
            h.hour_us: max(0.0, mean) * 3600.0 / SECONDS_PER_DAY
            for h in rate.hours
            if (mean := h.mean) is not None
        }
    total = inputs.property_hours.get(f"{inputs.fluid}_total")
    if total is None:
        return {}
    weights: dict[int, float] = {}
    previous: float | None = None
    for h in total.hours:
        if h.last_value is None:
            previous = None
            continue
        start = previous if previous is not None else h.first_value
        step = h.last_value - (start if start is not None else h.last_value)
        if step < 0 and total.rollover and -step >= 0.9 * total.rollover:
            step += total.rollover
        weights[h.hour_us] = max(0.0, step)
        previous = h.last_value
    return weights


def hourly_average(
    hours: Sequence[HourRecord], weights: Mapping[int, float]
) -> PropertyAverage | None:
    """Daily average of a property from its hourly records (API MPMS 21.1 style).

    ``Σ V_h·P_h / Σ V_h`` over the hours with both a mean property ``P_h`` (time-weighted over
    the hour's good readings) and a positive volume ``V_h``; with no flow, the mean of the hourly
    means weighted by the time each covers; with no covered time, the plain mean of the hourly
    averages; with no good reading, ``None``.
    """
    flow = weighted = covered = time_weighted = 0.0
    means: list[float] = []
    good = 0
    for h in hours:
        mean = h.mean
        if mean is None:
            continue
        good += h.good_count
        means.append(mean)
        span = h.span_s
        covered += span
        time_weighted += span * mean
        volume = weights.get(h.hour_us, 0.0)
        if volume > 0:
            flow += volume
            weighted += volume * mean
    if flow > 0:
        return PropertyAverage(weighted / flow, "flow", flow, covered, good)
    if covered > 0:
        return PropertyAverage(time_weighted / covered, "time", 0.0, covered, good)
    if means:
        return PropertyAverage(sum(means) / len(means), "samples", 0.0, 0.0, good)
    return None


def _oil_corrections(
    code: str, props: Mapping[str, Decimal | None], issues: list[Issue]
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    temperature, api, pressure = props["temperature"], props["api_gravity"], props["pressure"]
    if temperature is None or api is None:
        missing = " and ".join(
            name
            for name, value in (("temperature", temperature), ("API gravity", api))
            if value is None
        )
        issues.append(Issue("ctl_missing", f"{code}: no {missing} for the day: no CTL, no GSV"))
        return None, None, None
    if pressure is None:
        issues.append(Issue("pressure_missing", f"{code}: no pressure for the day: CPL taken as 1"))
    try:
        correction = mpms.base_to_alternate(
            commodity=mpms.Commodity.CRUDE_OIL,
            temperature_f=float(temperature),
            pressure_psig=float(pressure) if pressure is not None else 0.0,
            api60=float(api),
        )
    except mpms.MeasurementError as exc:
        issues.append(Issue("ctl_invalid", f"{code}: {exc}"))
        return None, None, None
    return correction.ctl_rounded, correction.cpl_rounded, correction.ctpl_rounded


def _components(
    quality: DayQuality | None, inputs: PmoInputs, volume: DayVolume | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if volume is not None:
        out["volume"] = {
            "measured": volume.measured,
            "estimated": volume.estimated,
            "measured_share_pct": volume.measured_share_pct,
            "estimates": [asdict(p) for p in volume.estimates],
            "unestimated": [asdict(g) for g in volume.unestimated],
        }
    if quality is not None:
        out["score"] = asdict(quality.score)
        out["backsteps"] = quality.backsteps
        out["negative_clipped"] = quality.negative_clipped
        out["low_flow_zeroed"] = quality.low_flow_zeroed
        out["gaps"] = len(quality.gaps)
        out["covered_s"] = quality.covered_s
        out["gap_tolerance_s"] = quality.gap_tolerance_s
        out["samples_uncertain"] = quality.samples_uncertain
        out["samples_bad"] = quality.samples_bad
    if inputs.volume_variable:
        out["volume_series"] = inputs.volume_variable
    series: dict[str, dict[str, float]] = {}
    window_s = (inputs.day_end_us - inputs.day_start_us) / 1e6
    for variable, hourly in sorted(inputs.property_hours.items()):
        received = sum(h.count for h in hourly.hours)
        good = sum(h.good_count for h in hourly.hours)
        expected = -(-window_s // hourly.sampling_period_s)
        series[variable] = {
            "expected": int(expected),
            "received": received,
            "good": good,
            "sample_completeness_pct": round(100.0 * min(received, expected) / expected, 3),
        }
    if series:
        out["series"] = series
    return out
