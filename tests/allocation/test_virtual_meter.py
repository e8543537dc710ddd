"""Virtual meter per well: ESP affinity laws, rod-pump displacement, PCP; the check against
the PMO."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.findings import Code
from anh_reporter.allocation.virtual_meter import (
    ROD_PUMP_CONSTANT,
    RodPumpGeometry,
    Signal,
    VirtualEstimate,
    calibrate_esp,
    calibrate_pcp,
    calibrate_rod_pump,
    calibrate_well,
    check_virtual_meter,
    mean_while_running,
    virtual_liquid,
)
from anh_reporter.domain.timeutil import US_PER_SECOND

from .helpers import WINDOW, D, hours_us, well_test

MINUTE = 60 * US_PER_SECOND


def day_signal(value: float, *, until_h: float | None = None) -> Signal:
    """``value`` each minute over the day (neighbours included); 0 from ``until_h`` if given."""
    t = np.arange(hours_us(-1 / 60), hours_us(24 + 1 / 60) + 1, MINUTE, dtype=np.int64)
    if until_h is None:
        return Signal(t, np.full(t.size, value))
    return Signal(t, np.where(t < hours_us(until_h), value, 0.0))


def test_rod_pump_constant() -> None:
    """1440 min/d × π/4 / 9702 in³/bbl = 0.116571... (API RP 11L: 0.1166)."""
    assert round(ROD_PUMP_CONSTANT, 4) == 0.1166
    assert math.isclose(ROD_PUMP_CONSTANT, 0.11657, abs_tol=1e-5)


def test_esp_affinity_law() -> None:
    """Test: 800 oil + 200 water = 1000 bbl/d liquid at 50 Hz → k = 20 bbl/d per Hz.
    Day at 55 Hz throughout: 20 × 55 = 1100.00 bbl; water cut 20 %: oil 880.00, water 220.00."""
    cal = calibrate_esp(well_test("A", oil=800, water=200), 50.0)
    got = virtual_liquid(cal, day_signal(55.0), WINDOW, gap_tolerance_s=360)
    assert got.liquid_bbl == D("1100.00")
    assert (got.oil_bbl, got.water_bbl) == (D("880.00"), D("220.00"))
    assert got.coverage_pct == pytest.approx(100.0)
    assert got.correction_factor is None


def test_esp_stopped_half_the_day() -> None:
    """55 Hz until 12:00 then 0 Hz (one-minute ramp between the 11:59 and 12:00 samples):
    20 × (55 × 11.98333 h + 27.5 × 1/60 h) / 24 = 20 × 659.5417 / 24 = 549.618 → 549.62 bbl."""
    cal = calibrate_esp(well_test("A", oil=800, water=200), 50.0)
    got = virtual_liquid(cal, day_signal(55.0, until_h=12), WINDOW, gap_tolerance_s=360)
    expected = 20 * (55 * (12 - 1 / 60) + 27.5 / 60) / 24
    assert got.liquid_bbl == D(f"{expected:.2f}") == D("549.62")


def test_esp_power_correction() -> None:
    """Test 50 Hz, 100 kW. Day at 50 Hz but 110 kW: r = (110/100) / (50/50)³ = 1.1,
    factor 1.1^(1/3) = 1.03228... → 1.0323; liquid 1000 × 1.0323 = 1032.30."""
    cal = calibrate_esp(well_test("A", oil=1000), 50.0, power_kw=100.0)
    got = virtual_liquid(
        cal,
        day_signal(50.0),
        WINDOW,
        gap_tolerance_s=360,
        correction="power",
        load=day_signal(110.0),
    )
    assert got.correction_factor == D("1.0323")
    assert got.liquid_bbl == D("1032.30")


def test_esp_current_correction() -> None:
    """Test 50 Hz, 40 A. Day at 55 Hz and 48.4 A: r = (48.4/40) / (55/50)² = 1.21 / 1.21 = 1:
    the load matches the affinity law, no correction: 1000 × 55 / 50 = 1100.00."""
    cal = calibrate_esp(well_test("A", oil=1000), 50.0, current_a=40.0)
    got = virtual_liquid(
        cal,
        day_signal(55.0),
        WINDOW,
        gap_tolerance_s=360,
        correction="current",
        load=day_signal(48.4),
    )
    assert got.correction_factor == D("1.0000")
    assert got.liquid_bbl == D("1100.00")


def test_correction_needs_its_inputs() -> None:
    cal = calibrate_esp(well_test("A", oil=1000), 50.0)
    with pytest.raises(AllocationError, match="power correction for well 'A' needs"):
        virtual_liquid(cal, day_signal(50.0), WINDOW, gap_tolerance_s=360, correction="power")
    rod = calibrate_rod_pump(well_test("R", oil=100), RodPumpGeometry(100, 1.5), 8)
    with pytest.raises(AllocationError, match="applies to ESP wells"):
        virtual_liquid(
            rod,
            day_signal(8),
            WINDOW,
            gap_tolerance_s=360,
            correction="power",
            load=day_signal(1),
        )


def test_rod_pump() -> None:
    """S = 100 in, D = 1.5 in; test 150 bbl/d at 8 spm: PD = 0.116571 × 100 × 8 × 2.25 =
    209.83 bbl/d, E_v = 150 / 209.83 = 0.7149. Day at 10 spm: 150 × 10 / 8 = 187.50 bbl."""
    cal = calibrate_rod_pump(
        well_test("R", oil=120, water=30),
        RodPumpGeometry(stroke_in=100, plunger_diameter_in=1.5),
        8,
    )
    assert cal.efficiency == pytest.approx(150 / (ROD_PUMP_CONSTANT * 100 * 8 * 2.25))
    assert round(cal.efficiency or 0, 4) == 0.7149
    got = virtual_liquid(cal, day_signal(10.0), WINDOW, gap_tolerance_s=360)
    assert got.liquid_bbl == D("187.50")


def test_rod_pump_efficiency_above_one_is_refused() -> None:
    """150 bbl/d from a pump that displaces 20.98 bbl/d at 8 spm (S = 10 in) cannot be."""
    with pytest.raises(AllocationError, match=r"volumetric efficiency 7\.149 .* is above 1\.05"):
        calibrate_rod_pump(well_test("R", oil=150), RodPumpGeometry(10, 1.5), 8)


def test_pcp() -> None:
    """d = 1.0 bbl/d per rpm; test 160 bbl/d at 200 rpm: E_v = 0.8. Day at 250 rpm:
    1.0 × 0.8 × 250 = 200.00 bbl."""
    cal = calibrate_pcp(well_test("P", oil=40, water=120), 1.0, 200)
    assert cal.efficiency == pytest.approx(0.8)
    got = virtual_liquid(cal, day_signal(250.0), WINDOW, gap_tolerance_s=360)
    assert got.liquid_bbl == D("200.00")
    assert (got.oil_bbl, got.water_bbl) == (D("50.00"), D("150.00"))


def test_calibration_errors() -> None:
    with pytest.raises(AllocationError, match="has no liquid"):
        calibrate_esp(well_test("A", gas=10), 50.0)
    with pytest.raises(AllocationError, match=r"ESP frequency .* 0\.0 must be a positive"):
        calibrate_esp(well_test("A", oil=10), 0.0)


def _estimate(
    well: str, liquid: str, coverage: float = 100.0, cut: str | None = "20"
) -> VirtualEstimate:
    return VirtualEstimate(well, "esp", D(liquid), coverage, None if cut is None else D(cut))


def test_check_within_and_beyond_the_band() -> None:
    """Σ virtual 1100 vs measured 1000: +10.00 %, on the band's edge: no finding.
    1150 vs 1000: +15.00 %: diverges."""
    ok = check_virtual_meter("P", D(1000), [_estimate("A", "600"), _estimate("B", "500")])
    assert (ok.virtual_total, ok.deviation_pct, ok.findings) == (D(1100), D("10.00"), ())
    off = check_virtual_meter("P", D(1000), [_estimate("A", "650"), _estimate("B", "500")])
    (finding,) = off.findings
    assert finding.code is Code.VIRTUAL_METER_DIVERGES
    assert "(+15.00 %)" in finding.message


def test_check_against_oil_splits_by_water_cut() -> None:
    """Liquid 1000 and 500 at 20 % water cut: oil 800 + 400 = 1200 vs measured oil 1200."""
    got = check_virtual_meter(
        "P", D(1200), [_estimate("A", "1000"), _estimate("B", "500")], fluid="oil"
    )
    assert got.virtual_total == D(1200) and got.deviation_pct == 0


def test_check_incomplete_and_measured_zero() -> None:
    thin = check_virtual_meter("P", D(1000), [_estimate("A", "1000", coverage=80.0)])
    assert thin.virtual_total is None
    assert [f.code for f in thin.findings] == [Code.VIRTUAL_METER_INCOMPLETE]
    uncut = check_virtual_meter("P", D(1000), [_estimate("A", "1000", cut=None)], fluid="water")
    assert [f.code for f in uncut.findings] == [Code.VIRTUAL_METER_INCOMPLETE]
    stopped_meter = check_virtual_meter("P", D(0), [_estimate("A", "300")])
    assert [f.code for f in stopped_meter.findings] == [Code.VIRTUAL_METER_DIVERGES]
    assert check_virtual_meter("P", D(0), [_estimate("A", "0")]).findings == ()


def test_gap_reduces_coverage_without_extrapolating() -> None:
    """No samples 06:00–12:00: 6 h uncovered (75 % coverage); 18 h at 50 Hz × 20 = 750.00."""
    cal = calibrate_esp(well_test("A", oil=1000), 50.0)
    signal = day_signal(50.0)
    t = np.asarray(signal.times_us)
    keep = (t <= hours_us(6)) | (t >= hours_us(12))
    got = virtual_liquid(
        cal, Signal(t[keep], np.asarray(signal.values)[keep]), WINDOW, gap_tolerance_s=360
    )
    assert got.coverage_pct == pytest.approx(75.0)
    assert got.liquid_bbl == D("750.00")


def test_check_incomplete_when_a_producing_well_has_no_estimate() -> None:
    got = check_virtual_meter(
        "P", D(1000), [_estimate("A", "1000")], without_meter=["B (no test to calibrate on)"]
    )
    assert got.virtual_total is None
    (note,) = got.findings
    assert note.code is Code.VIRTUAL_METER_INCOMPLETE
    assert "no virtual meter estimate for B (no test to calibrate on)" in note.message


def test_mean_speed_while_running_over_the_test_window() -> None:
    """55 Hz until 12:00, then 0: running 12 h (the 11:59–12:00 ramp counts as running: held
    state of the 11:59 sample); ∫ f dt = 55 × 11.98333 h + 27.5 × 1/60 h = 659.5417 Hz·h;
    mean while running = 659.5417 / 12 = 54.9618 Hz. A day stopped throughout: None."""
    mean = mean_while_running(
        "s", day_signal(55.0, until_h=12), WINDOW, gap_tolerance_s=360, threshold=1.0
    )
    assert mean == pytest.approx(659.541667 / 12, rel=1e-6)
    assert (
        mean_while_running("s", day_signal(0.0), WINDOW, gap_tolerance_s=360, threshold=1.0) is None
    )


def test_mean_load_while_running() -> None:
    """A motor current of 40 A while 50 Hz all day: mean 40 A over the 24 h running."""
    mean = mean_while_running(
        "s", day_signal(50.0), WINDOW, gap_tolerance_s=360, threshold=1.0, series=day_signal(40.0)
    )
    assert mean == pytest.approx(40.0)


def test_calibrate_well_by_method() -> None:
    """Test 400 bbl/d liquid. ESP at 50 Hz: 8 bbl/d per Hz. Rod pump 100 in × 2 in at 10 spm:
    PD 466.28, E_v 0.8578, 40 bbl/d per spm. PCP 2 bbl/d per rpm at 250 rpm: E_v 0.8,
    1.6 bbl/d per rpm. A rod pump without its geometry is refused."""
    test = well_test("A", oil=392, water=8)
    assert calibrate_well("esp", test, 50.0).bbl_d_per_unit == pytest.approx(8.0)
    rod = calibrate_well("rod_pump", test, 10.0, stroke_in=100, plunger_diameter_in=2)
    assert rod.bbl_d_per_unit == pytest.approx(40.0)
    assert rod.efficiency == pytest.approx(0.85785, rel=1e-4)
    pcp = calibrate_well("pcp", test, 250.0, displacement_bbl_d_per_rpm=2)
    assert (pcp.bbl_d_per_unit, pcp.efficiency) == (pytest.approx(1.6), pytest.approx(0.8))
    with pytest.raises(AllocationError, match="rod pump well 'A' needs its stroke and plunger"):
        calibrate_well("rod_pump", test, 10.0, stroke_in=100)
    with pytest.raises(AllocationError, match="PCP well 'A' needs its displacement"):
        calibrate_well("pcp", test, 250.0)
