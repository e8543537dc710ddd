"""A PMO's volume for the day, before corrections: telemetry (measured + estimated) or manual.

* **Telemetry**: the totalizer difference when the meter has a totalizer, else the flow rate
  integrated over time (:mod:`~anh_reporter.production.volumes`). Either way the volume is a
  measured part plus estimated parts, each with its method and window. Manual entries that
  cover a window of the day (at the indicated level) replace telemetry over that window.
* **A whole-day manual entry** (a Tipo B ticket, a tank gauge, a typed-in NSV) is the day's
  volume at the level it says; the telemetry figure it replaces is computed all the same and
  kept, so the report shows both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from anh_reporter.production.inputs import (
    VOLUME_KINDS,
    Issue,
    Level,
    ManualValue,
    Method,
    PmoInputs,
    ProductionSettings,
)
from anh_reporter.production.volumes import (
    SECONDS_PER_DAY,
    CounterSpec,
    DayQuality,
    DayVolume,
    ManualWindow,
    RateSamples,
    integrate_rate,
    totalizer_volume,
)


@dataclass(frozen=True)
class DayVolumeResult:
    """The day's volume before corrections, and where it comes from."""

    method: Method
    unit: str
    level: Level | None
    """What ``total`` is (``indicated`` for telemetry); ``None`` without a volume."""
    total: Decimal | None
    telemetry: DayVolume | None
    """The telemetry figure (measured + estimated), also when a whole-day entry replaced it."""
    quality: DayQuality | None
    events: tuple[dict[str, Any], ...]
    manual_entry: ManualValue | None
    """The whole-day manual entry that gives the volume, if any."""
    backstep_tolerance: float | None = None
    largest_backstep: float | None = None

    @property
    def replaced_telemetry(self) -> Decimal | None:
        """The telemetry volume a whole-day manual entry replaced (``None`` if not replaced)."""
        if self.manual_entry is None or self.telemetry is None:
            return None
        return self.telemetry.total


def day_volume(
    inputs: PmoInputs, settings: ProductionSettings, issues: list[Issue]
) -> DayVolumeResult:
    """The PMO's day volume (see the module docstring); problems go to ``issues``."""
    unit = "kscf" if inputs.fluid == "gas" else "bbl"
    entry = _whole_day_entry(inputs)
    # Telemetry a whole-day entry replaces is still computed (the report shows it), but its
    # problems are not the day's.
    telemetry_issues: list[Issue] = [] if entry is not None else issues
    method, telemetry, quality, events, counter = _telemetry(
        inputs, settings, unit, telemetry_issues
    )
    tolerance = largest = None
    if counter is not None:
        tolerance, largest = counter
    if entry is not None:
        level: Level = entry.level or ("tank" if entry.kind == "tank_gauging" else "indicated")
        return DayVolumeResult(
            method="tank_gauging" if level == "tank" else "manual",
            unit=unit,
            level=level,
            total=entry.value,
            telemetry=telemetry,
            quality=quality,
            events=events,
            manual_entry=entry,
            backstep_tolerance=tolerance,
            largest_backstep=largest,
        )
    if telemetry is None:
        if not inputs.manual_windows:
            issues.append(
                Issue("no_volume", f"{inputs.code}: no volume series and no manual volume")
            )
        return DayVolumeResult("none", unit, None, None, None, None, (), None)
    return DayVolumeResult(
        method=method,
        unit=unit,
        level="indicated",
        total=telemetry.total,
        telemetry=telemetry,
        quality=quality,
        events=events,
        manual_entry=None,
        backstep_tolerance=tolerance,
        largest_backstep=largest,
    )


def _whole_day_entry(inputs: PmoInputs) -> ManualValue | None:
    for kind, fluid in VOLUME_KINDS.items():
        entry = inputs.manual.get(kind)
        if entry is None or entry.covers_window:
            continue
        if fluid is not None and fluid != inputs.fluid:
            continue
        if fluid is None and inputs.fluid == "gas":
            continue
        return entry
    return None


def _windows(inputs: PmoInputs) -> list[ManualWindow]:
    return [
        ManualWindow(
            int(e.window_start_us or 0), int(e.window_end_us or 0), e.value, f"manual entry #{e.id}"
        )
        for e in inputs.manual_windows
    ]


def _telemetry(
    inputs: PmoInputs, settings: ProductionSettings, unit: str, issues: list[Issue]
) -> tuple[
    Method, DayVolume | None, DayQuality | None, tuple[dict[str, Any], ...],
    tuple[float, float] | None,
]:  # fmt: skip
    series = inputs.volume_series
    if series is None or inputs.volume_variable is None:
        return "none", None, None, (), None
    tolerance = settings.gap_tolerance_s(series.sampling_period_s)
    if inputs.volume_variable.endswith("_total"):
        rate = inputs.rate_series
        total = totalizer_volume(
            series.times_us,
            series.values,
            series.quality,
            day_start_us=inputs.day_start_us,
            day_end_us=inputs.day_end_us,
            gap_tolerance_s=tolerance,
            sampling_period_s=series.sampling_period_s,
            counter=inputs.counter or CounterSpec(),
            rate=None if rate is None else RateSamples(rate.times_us, rate.values, rate.quality),
            manual_windows=_windows(inputs),
            confirmed_resets=inputs.confirmed_resets,
        )
        for e in total.events:
            if e.needs_confirmation:
                issues.append(
                    Issue(
                        "meter_reset",
                        f"{inputs.code}: totalizer reset from {e.before_value:,.2f} to "
                        f"{e.after_value:,.2f}; {e.volume} {unit} lost around it estimated "
                        f"({e.basis}); a person must confirm it or enter the volume",
                    )
                )
        events = tuple(
            {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(e).items()}
            for e in total.events
        )
        _estimate_issue(inputs.code, unit, total.volume, issues)
        return (
            "totalizer",
            total.volume,
            total.quality,
            events,
            (total.backstep_tolerance, total.largest_backstep),
        )
    rate_volume = integrate_rate(
        series.times_us,
        series.values,
        series.quality,
        day_start_us=inputs.day_start_us,
        day_end_us=inputs.day_end_us,
        gap_tolerance_s=tolerance,
        sampling_period_s=series.sampling_period_s,
        rate_time_base_s=SECONDS_PER_DAY,
        low_flow_cutoff=inputs.low_flow_cutoff,
        gap_method=settings.rate_gap_method,
        manual_windows=_windows(inputs),
    )
    _estimate_issue(inputs.code, unit, rate_volume.volume, issues)
    return "rate_integration", rate_volume.volume, rate_volume.quality, (), None


def _estimate_issue(code: str, unit: str, volume: DayVolume, issues: list[Issue]) -> None:
    if not volume.unestimated:
        return
    missing = sum(g.duration_s for g in volume.unestimated)
    issues.append(
        Issue(
            "volume_missing",
            f"{code}: {missing:g} s of the day have no data and no basis for an estimate: "
            f"the {unit} of those hours are missing from the figure; enter a manual volume",
        )
    )
