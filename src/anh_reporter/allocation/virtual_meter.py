"""A virtual meter per well: daily liquid from lift telemetry, calibrated on the last valid test.

Every artificially lifted well already reports how fast its pump turns. Each lift method's rate
is (to first order) proportional to that speed, so one test fixes the constant and the day's
speed history gives the day's liquid (oil + water, bbl at the test's conditions):

* **ESP** — centrifugal pump affinity laws (API RP 11S4, Appendix D, variable-speed drives):
  Q ∝ N, H ∝ N², P ∝ N³, with N ∝ the drive frequency f. Calibrated on the test:
  ``k = Q_test / f_test`` (bbl/d per Hz), then ``liquid = k × ∫ f dt / 1 day``.
  *Optional load correction* (off by default): when the operating point moves at a given speed
  (wear, a changed head), the motor load moves with it. With the running-time means of the day,
  ``r = (P / P_test) / (f / f_test)³`` (motor power), or with motor current at constant V/Hz
  (P ∝ V·I ∝ f·I) ``r = (I / I_test) / (f / f_test)²``; the estimate is multiplied by ``r^(1/3)``
  (the flow that the affinity law P ∝ Q³ ties to that power). Power factor and motor efficiency
  are taken as unchanged from the test.
* **Rod pump** — pump displacement (API RP 11L): ``PD = 0.1166 × S × N × D²`` bbl/d with S the
  plunger stroke (in), N strokes per minute, D the plunger diameter (in); 0.1166 =
  1440 min/d × π/4 / 9702 in³/bbl. Volumetric efficiency ``E_v = Q_test / PD(N_test)``;
  ``liquid = 0.1166 × S × D² × E_v × ∫ N dt / 1 day``.
* **PCP** — a progressing cavity pump displaces a fixed volume per revolution (ISO 15136-1):
  ``Q = d × rpm × E_v`` with d the rated displacement (bbl/d per rpm); ``E_v = Q_test /
  (d × rpm_test)``; ``liquid = d × E_v × ∫ rpm dt / 1 day``.

The speed series is integrated by the trapezoid rule between good samples, gaps left out
(:func:`~anh_reporter.allocation.timeseries.trapezoid`); the estimate reports its coverage and
is not extrapolated over gaps. :func:`check_virtual_meter` compares Σ virtual with what the PMO
measured and raises a finding beyond a band (default ±10 %): meter drift, a misrouted well,
unreported flow. The liquid is split into oil and water by the test's water cut when the PMO
measures one of them.

:func:`mean_while_running` gives the speed (or motor load) a test saw: its mean over the time the
pump ran in the test's window; :func:`calibrate_well` calibrates any of the three methods. The
daily compute runs all this per field-day in :mod:`anh_reporter.production.virtual_days`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from numpy.typing import ArrayLike

from anh_reporter.allocation.errors import AllocationError, require_non_negative
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.allocation.timeseries import (
    Sampled,
    Window,
    good_samples,
    state_durations,
    trapezoid,
)
from anh_reporter.allocation.well_tests import WellTest
from anh_reporter.domain.mpms import round_half_up
from anh_reporter.domain.timeutil import US_PER_SECOND

SECONDS_PER_DAY = 86_400.0
IN3_PER_BBL = 9702.0
"""42 US gallons × 231 in³."""
ROD_PUMP_CONSTANT = 1440.0 * math.pi / 4.0 / IN3_PER_BBL
"""bbl/d per (in stroke × spm × in² plunger diameter): 0.11657 (API RP 11L rounds to 0.1166)."""
LIQUID_INCREMENT = Decimal("0.01")

LiftMethod = Literal["esp", "rod_pump", "pcp"]
EspCorrection = Literal["none", "power", "current"]


@dataclass(frozen=True)
class Signal:
    """One telemetry series for the virtual meter: times (µs), values, optional good mask."""

    times_us: ArrayLike
    values: ArrayLike
    good: ArrayLike | None = None


@dataclass(frozen=True)
class Calibration:
    """A well's virtual-meter constant, fixed on a test: liquid bbl/d per unit of speed."""

    well: str
    method: LiftMethod
    bbl_d_per_unit: float
    """bbl/d per Hz (ESP), per spm (rod pump) or per rpm (PCP)."""
    test: WellTest
    test_speed: float
    efficiency: float | None = None
    """Volumetric efficiency (rod pump, PCP)."""
    test_power_kw: float | None = None
    test_current_a: float | None = None

    @property
    def water_cut_pct(self) -> Decimal | None:
        """The test's water cut, used to split the liquid into oil and water."""
        return self.test.water_cut_pct


def _positive(field: str, value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise AllocationError(f"{field} {value!r} must be a positive number")
    return value


def _liquid(test: WellTest) -> float:
    liquid = float(test.liquid_bbl_d)
    if liquid <= 0:
        raise AllocationError(
            f"test of well {test.well!r} on {test.tested_on} has no liquid (oil + water = 0): "
            "it cannot calibrate a virtual meter"
        )
    return liquid


def calibrate_esp(
    test: WellTest,
    frequency_hz: float,
    *,
    power_kw: float | None = None,
    current_a: float | None = None,
) -> Calibration:
    """ESP: ``k = Q_test / f_test``, with the test's mean frequency (and power/current)."""
    f = _positive(f"ESP frequency during the test of well {test.well!r} (Hz)", frequency_hz)
    if power_kw is not None:
        _positive(f"motor power during the test of well {test.well!r} (kW)", power_kw)
    if current_a is not None:
        _positive(f"motor current during the test of well {test.well!r} (A)", current_a)
    return Calibration(test.well, "esp", _liquid(test) / f, test, f, None, power_kw, current_a)


@dataclass(frozen=True)
class RodPumpGeometry:
    """Plunger stroke and diameter, inches."""

    stroke_in: float
    plunger_diameter_in: float

    def displacement_bbl_d(self, spm: float) -> float:
        """PD = 0.1166 × S × N × D², bbl/d (API RP 11L)."""
        return ROD_PUMP_CONSTANT * self.stroke_in * spm * self.plunger_diameter_in**2


def calibrate_rod_pump(
    test: WellTest,
    geometry: RodPumpGeometry,
    spm: float,
    *,
    max_efficiency: float = 1.05,
) -> Calibration:
    """Rod pump: ``E_v = Q_test / PD(N_test)``; above ``max_efficiency`` the inputs disagree."""
    _positive(f"stroke length of well {test.well!r} (in)", geometry.stroke_in)
    _positive(f"plunger diameter of well {test.well!r} (in)", geometry.plunger_diameter_in)
    n = _positive(f"strokes per minute during the test of well {test.well!r}", spm)
    efficiency = _liquid(test) / geometry.displacement_bbl_d(n)
    _check_efficiency(test, efficiency, max_efficiency)
    per_spm = geometry.displacement_bbl_d(1.0) * efficiency
    return Calibration(test.well, "rod_pump", per_spm, test, n, efficiency)


def calibrate_pcp(
    test: WellTest,
    displacement_bbl_d_per_rpm: float,
    rpm: float,
    *,
    max_efficiency: float = 1.05,
) -> Calibration:
    """PCP: ``E_v = Q_test / (d × rpm_test)``; above ``max_efficiency`` the inputs disagree."""
    d = _positive(
        f"PCP displacement of well {test.well!r} (bbl/d per rpm)", displacement_bbl_d_per_rpm
    )
    n = _positive(f"PCP speed during the test of well {test.well!r} (rpm)", rpm)
    efficiency = _liquid(test) / (d * n)
    _check_efficiency(test, efficiency, max_efficiency)
    return Calibration(test.well, "pcp", d * efficiency, test, n, efficiency)


def _check_efficiency(test: WellTest, efficiency: float, limit: float) -> None:
    if efficiency > limit:
        raise AllocationError(
            f"volumetric efficiency {efficiency:.3f} from the test of well {test.well!r} on "
            f"{test.tested_on} is above {limit:g}: the test rate, the speed or the pump "
            "geometry is wrong"
        )


@dataclass(frozen=True)
class VirtualEstimate:
    """A well's virtual liquid for a day, with the coverage it rests on."""

    well: str
    method: LiftMethod
    liquid_bbl: Decimal
    coverage_pct: float
    """Share of the day the speed series (and the correction series) covers."""
    water_cut_pct: Decimal | None
    correction_factor: Decimal | None = None
    """ESP load correction r^(1/3) applied (None: no correction)."""

    @property
    def oil_bbl(self) -> Decimal | None:
        """Liquid × (1 − water cut); None without a water cut."""
        if self.water_cut_pct is None:
            return None
        return round_half_up(self.liquid_bbl * (100 - self.water_cut_pct) / 100, LIQUID_INCREMENT)

    @property
    def water_bbl(self) -> Decimal | None:
        """Liquid − oil; None without a water cut."""
        oil = self.oil_bbl
        return None if oil is None else self.liquid_bbl - oil


def virtual_liquid(
    calibration: Calibration,
    speed: Signal,
    window: Window,
    *,
    gap_tolerance_s: float,
    correction: EspCorrection = "none",
    load: Signal | None = None,
) -> VirtualEstimate:
    """The well's liquid over ``window``: ``k × ∫ speed dt / 1 day`` (module docstring).

    ``speed`` is the frequency (Hz), strokes per minute or rpm series. For an ESP,
    ``correction="power"`` or ``"current"`` applies the load correction with ``load`` the motor
    power (kW) or current (A) series.
    """
    name = f"virtual meter speed series of well {calibration.well!r}"
    samples = good_samples(name, speed.times_us, speed.values, speed.good)
    if samples.values.size and float(samples.values.min()) < 0:
        raise AllocationError(f"{name}: negative speed {float(samples.values.min())}")
    integral = trapezoid(samples, window, gap_tolerance_s)
    liquid = calibration.bbl_d_per_unit * integral.area / SECONDS_PER_DAY
    coverage = integral.coverage_pct
    factor: Decimal | None = None
    if correction != "none":
        factor, load_coverage = _esp_load_correction(
            calibration, correction, load, samples, integral.area, window, gap_tolerance_s
        )
        coverage = min(coverage, load_coverage)
        liquid *= float(factor)
    return VirtualEstimate(
        calibration.well,
        calibration.method,
        round_half_up(liquid, LIQUID_INCREMENT),
        coverage,
        calibration.water_cut_pct,
        factor,
    )


RUNNING_HZ = 1.0
"""Frequency above which an ESP counts as running for the load correction's means."""


def _esp_load_correction(
    calibration: Calibration,
    correction: EspCorrection,
    load: Signal | None,
    speed: Sampled,
    speed_area: float,
    window: Window,
    gap_tolerance_s: float,
) -> tuple[Decimal, float]:
    """The load correction r^(1/3) of the day and the load series' coverage."""
    if calibration.method != "esp":
        raise AllocationError(
            f"the load correction applies to ESP wells; well {calibration.well!r} is "
            f"{calibration.method}"
        )
    reference = calibration.test_power_kw if correction == "power" else calibration.test_current_a
    if load is None or reference is None:
        raise AllocationError(
            f"{correction} correction for well {calibration.well!r} needs the {correction} "
            "series of the day and its mean during the test (calibrate_esp)"
        )
    name = f"virtual meter {correction} series of well {calibration.well!r}"
    samples = good_samples(name, load.times_us, load.values, load.good)
    load_integral = trapezoid(samples, window, gap_tolerance_s)
    running = state_durations(speed, speed.values > RUNNING_HZ, window, gap_tolerance_s)
    running_s = running.on_us / US_PER_SECOND
    if running_s <= 0 or speed_area <= 0 or load_integral.area <= 0:
        return Decimal(1), load_integral.coverage_pct
    # Running-time means relative to the test: the load (~0 when stopped) over the same time.
    f_ratio = speed_area / running_s / calibration.test_speed
    x_ratio = load_integral.area / running_s / reference
    exponent = 3 if correction == "power" else 2
    r = x_ratio / f_ratio**exponent
    return round_half_up(r ** (1.0 / 3.0), Decimal("0.0001")), load_integral.coverage_pct


@dataclass(frozen=True)
class VirtualMeterCheck:
    """Σ virtual against the PMO's measured volume for a day."""

    pmo: str
    fluid: Literal["liquid", "oil", "water"]
    measured: Decimal
    virtual_total: Decimal | None
    deviation_pct: Decimal | None
    """(virtual − measured) / measured × 100."""
    estimates: tuple[VirtualEstimate, ...]
    findings: tuple[Finding, ...] = field(default=())


def check_virtual_meter(
    pmo: str,
    measured: Decimal,
    estimates: Sequence[VirtualEstimate],
    *,
    fluid: Literal["liquid", "oil", "water"] = "liquid",
    band_pct: Decimal = Decimal("10"),
    min_coverage_pct: float = 95.0,
    without_meter: Sequence[str] = (),
) -> VirtualMeterCheck:
    """Compare Σ virtual (``fluid``) of the PMO's wells with ``measured``.

    A well whose estimate covers less than ``min_coverage_pct`` of the day, or cannot be split
    into ``fluid``, or a producing well of the PMO without an estimate (``without_meter``,
    with why) makes the comparison incomplete: an info finding, no verdict. Otherwise a
    deviation beyond ±``band_pct`` % (or any virtual flow against a measured 0) is a warning.
    """
    require_non_negative(f"measured volume of PMO {pmo!r}", measured, "bbl")
    require_non_negative("virtual meter band", band_pct, "%")
    ests = tuple(sorted(estimates, key=lambda e: e.well))
    thin = [e.well for e in ests if e.coverage_pct < min_coverage_pct]
    volumes = [_volume(e, fluid) for e in ests]
    unsplit = [e.well for e, v in zip(ests, volumes, strict=True) if v is None]
    if without_meter or thin or unsplit or not ests:
        why = (
            f"no virtual meter estimate for {'; '.join(without_meter)}"
            if without_meter
            else f"wells {thin} cover less than {min_coverage_pct:g} % of the day"
            if thin
            else f"wells {unsplit} have no water cut to split their liquid"
            if unsplit
            else "no well of the PMO has a virtual meter"
        )
        note = Finding(
            Code.VIRTUAL_METER_INCOMPLETE,
            Severity.INFO,
            f"virtual meter not compared with the measured {fluid}: {why}",
            pmo,
        )
        return VirtualMeterCheck(pmo, fluid, measured, None, None, ests, (note,))
    total = sum((v for v in volumes if v is not None), Decimal(0))
    deviation = (
        None
        if measured == 0
        else round_half_up((total - measured) * 100 / measured, Decimal("0.01"))
    )
    findings: tuple[Finding, ...] = ()
    diverges = total > 0 if deviation is None else abs(deviation) > band_pct
    if diverges:
        shown = "" if deviation is None else f" ({deviation:+} %)"
        findings = (
            Finding(
                Code.VIRTUAL_METER_DIVERGES,
                Severity.WARNING,
                f"the wells' virtual meters add up to {total} bbl of {fluid}, the PMO measured "
                f"{measured} bbl{shown}, beyond ±{band_pct} %: meter drift, a misrouted well or "
                "unreported flow",
                pmo,
            ),
        )
    return VirtualMeterCheck(pmo, fluid, measured, total, deviation, ests, findings)


def mean_while_running(
    name: str,
    speed: Signal,
    window: Window,
    *,
    gap_tolerance_s: float,
    threshold: float,
    series: Signal | None = None,
) -> float | None:
    """Mean of ``series`` (default: the speed) over the time the speed is above ``threshold``.

    What a test saw: the speed (or motor power/current) while the pump ran, over the test's
    window. None when the speed series shows no running time there (no data, or stopped).
    """
    samples = good_samples(name, speed.times_us, speed.values, speed.good)
    running = state_durations(samples, samples.values > threshold, window, gap_tolerance_s)
    running_s = running.on_us / US_PER_SECOND
    if running_s <= 0:
        return None
    if series is None:
        area = trapezoid(samples, window, gap_tolerance_s).area
    else:
        other = good_samples(f"{name} (load)", series.times_us, series.values, series.good)
        area = trapezoid(other, window, gap_tolerance_s).area
    mean = area / running_s
    return mean if mean > 0 else None


def calibrate_well(
    method: LiftMethod,
    test: WellTest,
    speed: float,
    *,
    stroke_in: float | None = None,
    plunger_diameter_in: float | None = None,
    displacement_bbl_d_per_rpm: float | None = None,
    power_kw: float | None = None,
    current_a: float | None = None,
) -> Calibration:
    """Calibrate a well of any lift method on ``test`` at ``speed`` (Hz, spm or rpm)."""
    if method == "esp":
        return calibrate_esp(test, speed, power_kw=power_kw, current_a=current_a)
    if method == "rod_pump":
        if stroke_in is None or plunger_diameter_in is None:
            raise AllocationError(
                f"rod pump well {test.well!r} needs its stroke and plunger diameter"
            )
        return calibrate_rod_pump(test, RodPumpGeometry(stroke_in, plunger_diameter_in), speed)
    if displacement_bbl_d_per_rpm is None:
        raise AllocationError(f"PCP well {test.well!r} needs its displacement (bbl/d per rpm)")
    return calibrate_pcp(test, displacement_bbl_d_per_rpm, speed)


def _volume(e: VirtualEstimate, fluid: str) -> Decimal | None:
    if fluid == "liquid":
        return e.liquid_bbl
    return e.oil_bbl if fluid == "oil" else e.water_bbl
