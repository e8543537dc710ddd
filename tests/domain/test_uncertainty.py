"""Uncertainty budget of a daily NSV (API MPMS 13 / GUM), worked by hand.

The CTL and CPL quantities of 40.0 °API crude at 84.0 °F are those worked by hand in
tests/domain/test_ticket.py: α60 = 5.020463e-4 /°F, ΔT = t* − 60.0068749 = 24.006220 °F,
Fp = 0.590223 (× 1e-5 /psi).
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from anh_reporter.domain.mpms import Commodity, MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.uncertainty import (
    DEFAULT_STATED_UNCERTAINTY,
    BudgetLine,
    MeterType,
    StatedUncertainty,
    UncertaintyInput,
    combine_uncertainty,
    daily_nsv_uncertainty,
)


def _line(lines: tuple[BudgetLine, ...], quantity: str) -> BudgetLine:
    return next(line for line in lines if line.quantity == quantity)


def test_budget_of_a_day_with_an_estimated_part_by_hand() -> None:
    """Turbine meter, NSV 10,000 bbl of which 1,000 bbl estimated, S&W 0.5 %, stated (k = 2):
    meter 0.25 %, meter factor 0.027 %, S&W 0.1 points, estimate 10 %.
        meter:        u = 0.25/2 = 0.125 %;  c = 9,000/100 = 90 bbl/%;       90 × 0.125 = 11.25
        meter factor: u = 0.0135 %;          c = 10,000/100 = 100 bbl/%;     1.35
        S&W:          u = 0.05 points;       c = −10,000/(100 − 0.5) = −100.50251 bbl/point;
                      100.50251 × 0.05 = 5.025126
        estimate:     u = 5 %;               c = 1,000/100 = 10 bbl/%;       50
        u_c = √(11.25² + 1.35² + 5.025126² + 50²) = √(126.5625 + 1.8225 + 25.251888 + 2500)
            = √2653.636888 = 51.513463 bbl = 0.515135 %
        U = 2 × 51.513463 = 103.026926 bbl = 1.030269 %; the estimate holds 2500/2653.64 = 94.21 %
    """
    budget = daily_nsv_uncertainty(
        nsv_bbl=10_000.0,
        estimated_bbl=1_000.0,
        meter_type=MeterType.TURBINE,
        bsw_percent=0.5,
    )
    assert [line.quantity for line in budget.lines] == ["meter", "meter factor", "S&W", "estimate"]
    contributions = {line.quantity: line.contribution_bbl for line in budget.lines}
    assert contributions["meter"] == pytest.approx(11.25, abs=1e-9)
    assert contributions["meter factor"] == pytest.approx(1.35, abs=1e-9)
    assert contributions["S&W"] == pytest.approx(5.025126, abs=1e-6)
    assert contributions["estimate"] == pytest.approx(50.0, abs=1e-9)
    assert _line(budget.lines, "S&W").sensitivity == pytest.approx(-100.50251, abs=1e-5)
    assert budget.combined_standard_bbl == pytest.approx(51.513463, abs=1e-6)
    assert budget.expanded_bbl == pytest.approx(103.026926, abs=1e-6)
    assert budget.expanded_pct == pytest.approx(1.030269, abs=1e-6)
    assert _line(budget.lines, "estimate").share_pct == pytest.approx(94.21, abs=0.01)
    assert (budget.measured_bbl, budget.estimated_bbl) == (9_000.0, 1_000.0)


def test_temperature_and_pressure_sensitivities_match_the_derivatives_of_11_1() -> None:
    """ln CTL = −α ΔT (1 + 0.8 α (ΔT + δ60)) with ΔT = t* − 60.0068749, so
        d ln CTL/dt* = −α (1 + 0.8 α (2 ΔT + δ60))
                     = −5.020463e-4 × (1 + 0.8 × 5.020463e-4 × 48.026190) = −5.117303e-4
        dt*/dt = 1 − dΔ/dt, Δ = Σ aᵢ τⁱ (τ = t°C/630): dΔ/dt = (1/630) Σ i aᵢ τⁱ⁻¹
               = (−0.148759 − 2 × 0.267408 × 0.0458554 + 3 × 1.080760 × 0.0458554² + ...)/630
               = −2.63601e-4, so dt*/dt = 1.000263601
        d ln CTL/dt = −5.117303e-4 × 1.000263601 = −5.118652e-4 per °F (at 0 psig);
    ln CPL = −ln(1 − F P), so d ln CPL/dP = F / (1 − F P) = 0.590223e-5 / 0.99970489
        = 5.903972e-6 per psi (at 50 psig).
    With NSV 10,000 bbl: c_T = −5.118652 bbl/°F, c_P = 0.05903972 bbl/psi."""
    at_zero = daily_nsv_uncertainty(
        nsv_bbl=10_000.0,
        meter_type=MeterType.CORIOLIS,
        temperature_f=84.0,
        pressure_psig=0.0,
        api60=40.0,
    )
    assert _line(at_zero.lines, "temperature").sensitivity == pytest.approx(-5.118652, rel=2e-6)
    at_50 = daily_nsv_uncertainty(
        nsv_bbl=10_000.0,
        meter_type=MeterType.CORIOLIS,
        temperature_f=84.0,
        pressure_psig=50.0,
        api60=40.0,
    )
    assert _line(at_50.lines, "pressure").sensitivity == pytest.approx(0.05903972, rel=1e-5)


def test_full_oil_budget_adds_up() -> None:
    """The golden ticket's day: Coriolis, NSV 12,234.34 bbl, 84.0 °F, 50 psig, 40.0 °API,
    S&W 0.35 %. At 50 psig CPL also moves with temperature, through Fp:
        d ln CPL/dt = F P/(1 − F P) × d ln Fp/dt* × dt*/dt
                    = 2.951986e-4 × (0.00013427 + 2326/679410.91) × 1.000264
                    = 2.951986e-4 × 0.00355782 × 1.000264 = 1.050542e-6 per °F
        c_T/NSV = −5.118652e-4 + 0.010505e-4 = −5.108147e-4 per °F
    Temperature: 12,234.34 × 5.108147e-4 × (0.5/2) = 1.562370 bbl; pressure:
    12,234.34 × 5.903972e-6 × (2.0/2) = 0.072231 bbl. Shares add up to 100 %, U = 2 u_c."""
    budget = daily_nsv_uncertainty(
        nsv_bbl=12_234.34,
        meter_type=MeterType.CORIOLIS,
        temperature_f=84.0,
        pressure_psig=50.0,
        api60=40.0,
        bsw_percent=0.35,
    )
    names = [line.quantity for line in budget.lines]
    assert names == ["meter", "meter factor", "temperature", "pressure", "API gravity", "S&W"]
    assert _line(budget.lines, "temperature").contribution_bbl == pytest.approx(1.562370, rel=2e-6)
    assert _line(budget.lines, "pressure").contribution_bbl == pytest.approx(0.072231, rel=1e-4)
    assert sum(line.share_pct for line in budget.lines) == pytest.approx(100.0)
    assert budget.expanded_bbl == pytest.approx(2 * budget.combined_standard_bbl)
    combined = math.sqrt(sum(line.contribution_bbl**2 for line in budget.lines))
    assert budget.combined_standard_bbl == pytest.approx(combined)
    assert budget.method.startswith("API MPMS 13 / GUM")


def test_water_temperature_sensitivity_is_water_expansion() -> None:
    """Water expands by about 4.5e-4 per K near 49 °C (120 °F), i.e. 2.5e-4 per °F:
    1,000 bbl at 120 °F has c_T ≈ −0.25 bbl/°F."""
    budget = daily_nsv_uncertainty(
        nsv_bbl=1_000.0, meter_type=MeterType.CORIOLIS, fluid="water", temperature_f=120.0
    )
    assert _line(budget.lines, "temperature").sensitivity == pytest.approx(-0.25, rel=0.03)


def test_gas_budget_is_the_meter_and_the_estimate() -> None:
    """Orifice gas 5,000 kscf, 500 estimated: meter 1 %/2 × 45 = 22.5, estimate 5 % × 5 = 25;
    u_c = √(22.5² + 25²) = √1131.25 = 33.634060; U = 67.268120 (1.345362 %)."""
    budget = daily_nsv_uncertainty(
        nsv_bbl=5_000.0,
        estimated_bbl=500.0,
        meter_type=MeterType.ORIFICE_GAS,
        fluid="gas",
        temperature_f=80.0,
        bsw_percent=0.0,
    )
    assert [line.quantity for line in budget.lines] == ["meter", "meter factor", "estimate"]
    assert budget.expanded_bbl == pytest.approx(67.268120, abs=1e-6)
    assert budget.expanded_pct == pytest.approx(1.345362, abs=1e-6)


def test_stated_uncertainties_are_settings() -> None:
    stated = replace(DEFAULT_STATED_UNCERTAINTY[MeterType.TURBINE], meter_pct=0.5)
    budget = daily_nsv_uncertainty(nsv_bbl=100.0, meter_type=MeterType.TURBINE, stated=stated)
    assert budget.lines[0].standard_uncertainty == 0.25
    assert DEFAULT_STATED_UNCERTAINTY[MeterType.CORIOLIS] == StatedUncertainty(meter_pct=0.20)


def test_combination_is_plain_gum() -> None:
    """Two inputs 3 and 4 bbl: u_c = 5, U (k = 2) = 10 = 10 % of 100 bbl."""
    budget = combine_uncertainty(
        [
            UncertaintyInput("a", None, "bbl", 3.0, 1.0),
            UncertaintyInput("b", None, "bbl", 2.0, -2.0),
        ],
        nsv_bbl=100.0,
        measured_bbl=100.0,
        estimated_bbl=0.0,
    )
    assert (budget.combined_standard_bbl, budget.expanded_bbl, budget.expanded_pct) == (5, 10, 10)
    assert [line.share_pct for line in budget.lines] == pytest.approx([36.0, 64.0])


def test_budget_inputs_are_checked() -> None:
    with pytest.raises(OutOfRangeError, match=r"estimated volume 20.0 bbl .* \[0.0, 10.0\]"):
        daily_nsv_uncertainty(nsv_bbl=10.0, estimated_bbl=20.0, meter_type=MeterType.TURBINE)
    with pytest.raises(OutOfRangeError, match=r"temperature 400\.0 °F"):
        daily_nsv_uncertainty(
            nsv_bbl=10.0, meter_type=MeterType.TURBINE, temperature_f=400.0, api60=30.0
        )
    with pytest.raises(MeasurementError, match="special application"):
        daily_nsv_uncertainty(
            nsv_bbl=10.0,
            meter_type=MeterType.TURBINE,
            temperature_f=80.0,
            api60=30.0,
            commodity=Commodity.SPECIAL_APPLICATION,
        )
    with pytest.raises(OutOfRangeError, match="standard uncertainty of a"):
        combine_uncertainty(
            [UncertaintyInput("a", None, "bbl", -1.0, 1.0)],
            nsv_bbl=1.0,
            measured_bbl=1.0,
            estimated_bbl=0.0,
        )
