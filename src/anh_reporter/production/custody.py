"""A PMO's day properties: custody temperature and pressure, BSW, API gravity at 60 °F.

* **Temperature and pressure** are the custody (meter) series the site file names for the PMO
  (``custody.temperature`` / ``custody.pressure``, default ``meter_temperature`` /
  ``meter_pressure``). Another sensor (separator, flowline) is used only when the site names it
  as the PMO's fallback; the figure then says which series it used and carries a warning.
* **BSW** is the lab value when one is entered, else the BSW series.
* **API gravity**: a lab value is at 60 °F. A telemetry series says its basis: ``base`` (already
  at 60 °F) or ``observed`` (at line conditions, e.g. a densitometer), which is converted by
  API MPMS 11.1.6.2 at the same flow-weighted temperature and pressure; both values are kept.

A telemetry property is the day's flow-weighted average (from the hourly rollups when the day
starts and ends on whole hours, else from raw rows); a manual entry replaces it. Values are
rounded to the reporting increments before use, so the reported value is the value used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from anh_reporter.domain import mpms
from anh_reporter.production.inputs import (
    HourRecord,
    Issue,
    PmoInputs,
    ProductionSettings,
    Samples,
)
from anh_reporter.production.volumes import SECONDS_PER_DAY, PropertyAverage, flow_weighted_average

ATMOSPHERE_PSIA = 14.696
"""Standard atmosphere, psia: converts a psia pressure to the psig CPL needs."""


@dataclass(frozen=True)
class Property:
    """One property of the day as used, and where it came from."""

    value: Decimal | None
    source: str
    """``manual #12``, ``telemetry <series> (flow-weighted)``, ``fallback <series> (...)`` or
    ``none``."""
    coverage_pct: float | None = None
    """Share of the day the telemetry series covered (``None`` for a manual value)."""
    fallback: bool = False


@dataclass(frozen=True)
class Properties:
    """The day's properties of a PMO."""

    temperature_f: Property
    pressure_psig: Property
    bsw_percent: Property
    api60: Property
    api_observed: Decimal | None
    """The observed API gravity (line conditions) an ``observed`` series gave, 0.1 °API."""

    def sources(self) -> dict[str, str]:
        """Per property, where it came from."""
        return {
            "temperature": self.temperature_f.source,
            "pressure": self.pressure_psig.source,
            "bsw": self.bsw_percent.source,
            "api_gravity": self.api60.source,
        }

    def coverage(self) -> dict[str, float]:
        """Per telemetry property, the share of the day its series covered."""
        out = {}
        for name, prop in (
            ("temperature", self.temperature_f),
            ("pressure", self.pressure_psig),
            ("bsw", self.bsw_percent),
            ("api_gravity", self.api60),
        ):
            if prop.coverage_pct is not None:
                out[name] = round(prop.coverage_pct, 3)
        return out


def custody_properties(
    inputs: PmoInputs, settings: ProductionSettings, used_manual: list[int], issues: list[Issue]
) -> Properties:
    """The day's temperature, pressure, BSW and API gravity (see the module docstring)."""
    c = inputs.custody
    temperature = _property(
        inputs,
        "temperature",
        c.temperature,
        c.fallback_temperature,
        settings,
        settings.temperature_increment,
        used_manual,
        issues,
    )
    pressure = _property(
        inputs,
        "pressure",
        c.pressure,
        c.fallback_pressure,
        settings,
        settings.pressure_increment,
        used_manual,
        issues,
    )
    bsw = _property(
        inputs, "bsw", "bsw", None, settings, settings.bsw_increment, used_manual, issues
    )
    api = _property(
        inputs,
        "api_gravity",
        "api_gravity",
        None,
        settings,
        settings.api_increment,
        used_manual,
        issues,
    )
    observed = None
    if api.value is not None and api.source.startswith("telemetry"):
        if inputs.api_basis == "observed":
            observed = api.value
            api = _to_base(inputs.code, api, temperature, pressure, issues)
        elif inputs.api_basis is None:
            issues.append(
                Issue(
                    "api_basis_unknown",
                    f"{inputs.code}: the API gravity series does not say whether it is observed "
                    "or at 60 °F (basis in the site file): taken as at 60 °F",
                )
            )
    return Properties(temperature, pressure, bsw, api, observed)


def _to_base(
    code: str, api: Property, temperature: Property, pressure: Property, issues: list[Issue]
) -> Property:
    """An observed API gravity at 60 °F, converted at the day's custody conditions."""
    if temperature.value is None:
        issues.append(
            Issue(
                "api_not_at_base",
                f"{code}: observed API gravity {api.value} cannot be corrected to 60 °F without "
                "the custody temperature: no API at 60 °F",
            )
        )
        return Property(None, api.source, api.coverage_pct)
    try:
        base = mpms.gravity_at_base(
            temperature_f=float(temperature.value),
            pressure_psig=max(0.0, float(pressure.value or 0)),
            observed_api=float(api.value or 0),
        )
    except mpms.MeasurementError as exc:
        issues.append(Issue("api_invalid", f"{code}: {exc}"))
        return Property(None, api.source, api.coverage_pct)
    source = f"{api.source}, observed → 60 °F by API MPMS 11.1.6.2"
    return Property(base.api60_reported, source, api.coverage_pct, api.fallback)


def _property(
    inputs: PmoInputs,
    kind: str,
    variable: str,
    fallback: str | None,
    settings: ProductionSettings,
    increment: Decimal,
    used_manual: list[int],
    issues: list[Issue],
) -> Property:
    entry = inputs.manual.get(kind)
    if entry is not None:
        used_manual.append(entry.id)
        return Property(mpms.round_half_up(entry.value, increment), f"manual #{entry.id}")
    for name, is_fallback in ((variable, False), (fallback, True)):
        if name is None:
            continue
        found = _average(inputs, name, settings, lab_like=kind in ("bsw", "api_gravity"))
        if found is None:
            continue
        average, unit, code, coverage = found
        value = (
            average.value - ATMOSPHERE_PSIA
            if kind == "pressure" and unit == "psia"
            else (average.value)
        )
        label = f"{code or name} ({average.basis}-weighted)"
        if is_fallback:
            issues.append(
                Issue(
                    "fallback_series",
                    f"{inputs.code}: no {kind} from the custody series {variable}: the fallback "
                    f"{code or name} named in the site file was used",
                )
            )
        return Property(
            mpms.round_half_up(value, increment),
            ("fallback " if is_fallback else "telemetry ") + label,
            coverage,
            is_fallback,
        )
    return Property(None, "none")


def _average(
    inputs: PmoInputs, variable: str, settings: ProductionSettings, *, lab_like: bool
) -> tuple[PropertyAverage, str, str, float] | None:
    window_s = (inputs.day_end_us - inputs.day_start_us) / 1e6
    hours = inputs.property_hours.get(variable)
    if hours is not None:
        average = hourly_average(hours.hours, _hourly_weights(inputs))
        if average is None:
            return None
        # From rollups the coverage is counted in samples: good samples × the sampling period.
        sampled_s = sum(h.good_count for h in hours.hours) * hours.sampling_period_s
        return average, hours.unit, hours.code, 100.0 * min(sampled_s / window_s, 1.0)
    raw = inputs.property_raw.get(variable)
    if raw is None:
        return None
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
            tolerance, settings.property_gap_tolerance_s if lab_like else 0.0
        ),
    )
    if result is None:
        return None
    return result, raw.unit, raw.code, 100.0 * min(result.covered_s / window_s, 1.0)


def _raw_rate(inputs: PmoInputs) -> Samples | None:
    rate = inputs.property_raw.get(f"{inputs.fluid}_rate")
    if rate is not None:
        return rate
    if inputs.rate_series is not None:
        return inputs.rate_series
    if inputs.volume_variable == f"{inputs.fluid}_rate":
        return inputs.volume_series
    return None


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
