"""API MPMS 12.2.2 measurement ticket: a golden ticket worked by hand, discrimination, errors.

Every expected number is worked by hand below (a pocket calculator's arithmetic, written step by
step), or copied from the API MPMS 11.1-2004 worked examples that tests/domain/test_mpms.py
reproduces, never taken from the code under test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from anh_reporter.domain.mpms import Commodity, MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.ticket import (
    CONTINUOUS_DISCRIMINATION,
    TICKET_DISCRIMINATION,
    indicated_volume_from_readings,
    meter_ticket,
    ticket_volumes,
)

D = Decimal


def test_golden_lact_ticket_worked_by_hand() -> None:
    """A LACT ticket for a 40 °API crude, every step by hand.

    Field data and their discrimination (half up):
        opening reading 48,215.37 bbl, closing 60,612.94 bbl
        IV = 60,612.94 − 48,215.37 = 12,397.57 bbl
        meter factor 1.00213 → 1.0021 (4 decimals)
        meter temperature 84.04 °F → 84.0 °F (0.1 °F)
        meter pressure 50.4 psig → 50 psig (1 psi)
        API gravity at 60 °F 40.04 → 40.0 °API (0.1 °API)
        S&W 0.346 % → 0.35 % (0.01 %)

    CTL, 11.1-2004 §11.1.6.1 at 40.0 °API, 84.0 °F, by hand:
        ρ60 = 141.5 × 999.016 / (40.0 + 131.5) = 824.26101 kg/m³
        t = 84.0 °F = 28.888889 °C; τ = t/630 = 0.0458554;
        Δt(ITS-90 → IPTS-68) = Σ aᵢτⁱ = −0.0072747 °C; t* = 1.8 × 28.896164 + 32 = 84.013094 °F
        A = δ60/2 × K0/ρ60² = 0.006874898 × 341.0957 / 679406.22 = 3.45154e-6; B = 2
        ρ* = ρ60 × (1 + (e^{A(1+0.8A)} − 1)/(1 + A(1+1.6A)B)) = 824.26386 kg/m³
        α60 = K0/ρ*² = 341.0957 / 679410.91 = 5.020463e-4 /°F
        ΔT = t* − 60.0068749 = 24.006220 °F
        CTL = exp(−α ΔT (1 + 0.8 α (ΔT + δ60))) = exp(−0.01205223 × 1.00964731) = 0.98790523
        → 0.9879 (4 decimals; also the published 4-decimal VCF of 40.0 °API crude at 84.0 °F)
    CPL at 50 psig:
        Fp = exp(−1.9947 + 0.00013427 t* + (793920 + 2326 t*)/ρ*²)
           = exp(−1.9947 + 0.0112804 + 989334.46/679410.91) = exp(−0.527254) = 0.590223
        CPL = 1 / (1 − 0.590223e-5 × 50) = 1 / 0.99970489 = 1.00029520 → 1.0003
    CCF = CTL × CPL × MF = 0.9879 × 1.0003 × 1.0021
        = 0.98819637 × 1.0021 = 0.98819637 + 0.00207521 = 0.99027158 → 0.9903
    GSV = IV × CCF = 12,397.57 × 0.9903 = 12,397.57 − 120.256429 = 12,277.313571 → 12,277.31
    GOV = IV × MF = 12,397.57 × 1.0021 = 12,397.57 + 26.034897 = 12,423.604897 → 12,423.60
    CSW = 1 − 0.35/100 = 0.9965
    NSV = GSV × CSW = 12,277.31 − 12,277.31 × 0.0035 = 12,277.31 − 42.970585
        = 12,234.339415 → 12,234.34
    S&W volume = 12,277.31 − 12,234.34 = 42.97
    """
    ticket = meter_ticket(
        indicated_volume=indicated_volume_from_readings(D("48215.37"), D("60612.94")),
        meter_factor=D("1.00213"),
        temperature_f=D("84.04"),
        pressure_psig=D("50.4"),
        api60=D("40.04"),
        bsw_percent=D("0.346"),
    )
    assert (ticket.temperature_f, ticket.pressure_psig, ticket.api60) == (
        D("84.0"),
        D("50"),
        D("40.0"),
    )
    assert ticket.rho60 is None
    assert ticket.correction.ctl == pytest.approx(0.98790523, abs=5e-9)
    assert ticket.correction.cpl == pytest.approx(1.00029520, abs=5e-9)
    v = ticket.volumes
    assert v.indicated_volume == D("12397.57")
    assert v.meter_factor == D("1.0021")
    assert (v.ctl, v.cpl, v.ccf) == (D("0.9879"), D("1.0003"), D("0.9903"))
    assert v.gross_standard_volume == D("12277.31")
    assert v.gross_observed_volume == D("12423.60")
    assert (v.bsw_percent, v.csw) == (D("0.35"), D("0.9965"))
    assert v.net_standard_volume == D("12234.34")
    assert v.sediment_and_water_volume == D("42.97")


def test_ccf_is_rounded_once_from_the_rounded_factors() -> None:
    """Factors of 11.1.6.1 example 4 (jet fuel, RD 0.7943, 85 °F, 247.3 psig), as published:
    CTL 0.986832406683, CPL 1.001646525013, CTPL 0.988457250925.

    Discrete: CTL → 0.9868, CPL → 1.0016, MF 1.0000;
        CCF = 0.9868 × 1.0016 × 1.0000 = 0.98837888 → 0.9884
        GSV = 1,000.00 × 0.9884 = 988.40; S&W 0 → CSW 1.0000, NSV 988.40
    Continuous: CCF = CTPL × MF = 0.988457250925 (unrounded)
        GSV = 1,000 × 0.988457250925 = 988.457250925 → 988.46
    """
    factors = {"ctl": 0.986832406683, "cpl": 1.001646525013}
    discrete = ticket_volumes(
        indicated_volume=D("1000.00"), meter_factor=D("1.0000"), bsw_percent=0, **factors
    )
    assert (discrete.ctl, discrete.cpl, discrete.ccf) == (D("0.9868"), D("1.0016"), D("0.9884"))
    assert discrete.gross_standard_volume == discrete.net_standard_volume == D("988.40")
    continuous = ticket_volumes(
        indicated_volume=D("1000"),
        meter_factor=D("1"),
        bsw_percent=0,
        discrimination=CONTINUOUS_DISCRIMINATION,
        **factors,
    )
    assert continuous.ccf == pytest.approx(D("0.988457250925"), abs=D("1e-12"))
    assert continuous.gross_standard_volume == D("988.46")


def test_continuous_method_rounds_only_the_reported_volumes() -> None:
    """IV 12,397.574 bbl, MF 1.00213, CTL 0.98790523, CPL 1.00029520, S&W 0.346 %, nothing
    rounded on the way:
        CCF = 0.98790523 × 1.00029520 × 1.00213 = 0.98819686... × 1.00213 = 0.99030172
        GSV = 12,397.574 × 0.99030172 = 12,397.574 − 120.235157 = 12,277.33884 → 12,277.34
        NSV = 12,277.33884 × (1 − 0.00346) = 12,277.33884 − 42.47959 = 12,234.85925 → 12,234.86
    (the discrete ticket of the same data gives 12,234.34: the rounding of the factors to four
    decimals moves this ticket by 0.52 bbl).
    """
    volumes = ticket_volumes(
        indicated_volume=D("12397.574"),
        meter_factor=D("1.00213"),
        ctl=D("0.98790523"),
        cpl=D("1.00029520"),
        bsw_percent=D("0.346"),
        discrimination=CONTINUOUS_DISCRIMINATION,
    )
    assert volumes.ccf == pytest.approx(D("0.99030172"), abs=D("5e-9"))
    assert volumes.indicated_volume == D("12397.57")
    assert volumes.gross_standard_volume == D("12277.34")
    assert volumes.net_standard_volume == D("12234.86")


def test_pressure_is_discriminated_to_whole_psi_before_cpl() -> None:
    """50.4 psig is used as 50 psig (the CPL of both tickets is the same); 50.5 rounds half up
    to 51 psig; a vacuum reading −3.2 psig is recorded as −3 psig and corrected as 0 psig
    (CPL = 1, 11.1-2004)."""
    common = {
        "indicated_volume": D("1000"),
        "meter_factor": D("1"),
        "temperature_f": D("84.0"),
        "api60": D("40.0"),
        "bsw_percent": 0,
    }
    at_50 = meter_ticket(pressure_psig=D("50"), **common)
    at_50_4 = meter_ticket(pressure_psig=D("50.4"), **common)
    assert at_50_4.pressure_psig == D("50")
    assert at_50_4.correction.cpl == at_50.correction.cpl
    assert meter_ticket(pressure_psig=D("50.5"), **common).pressure_psig == D("51")
    vacuum = meter_ticket(pressure_psig=D("-3.2"), **common)
    assert vacuum.pressure_psig == D("-3")
    assert vacuum.volumes.cpl == D("1.0000")


def test_composite_meter_factor_applies_cpl_once() -> None:
    """A composite meter factor already holds CPL: the ticket takes CPL as 1.0000, so
    CCF = 0.9879 × 1.0000 × 1.0024 = 0.99027096 → 0.9903."""
    ticket = meter_ticket(
        indicated_volume=D("1000"),
        meter_factor=D("1.0024"),
        temperature_f=D("84.0"),
        pressure_psig=D("50"),
        api60=D("40.0"),
        bsw_percent=0,
        composite_meter_factor=True,
    )
    assert (ticket.volumes.ctl, ticket.volumes.cpl, ticket.volumes.ccf) == (
        D("0.9879"),
        D("1.0000"),
        D("0.9903"),
    )


def test_temperature_gravity_and_density_levels() -> None:
    """84.05 °F → 84.1 °F; 40.05 °API → 40.1 °API; a base density 824.26 kg/m³ → 824.3 kg/m³
    (0.1 kg/m³), used instead of API gravity."""
    common = {
        "indicated_volume": D("1000"),
        "meter_factor": D("1"),
        "pressure_psig": 0,
        "bsw_percent": 0,
    }
    ticket = meter_ticket(temperature_f=D("84.05"), api60=D("40.05"), **common)
    assert (ticket.temperature_f, ticket.api60) == (D("84.1"), D("40.1"))
    by_density = meter_ticket(temperature_f=D("84.0"), rho60=D("824.26"), **common)
    assert by_density.rho60 == D("824.3")
    assert by_density.api60 is None
    assert by_density.correction.rho60 == 824.3


def test_ticket_discrimination_defaults_are_the_documented_levels() -> None:
    level = TICKET_DISCRIMINATION
    assert (level.temperature_f, level.pressure_psig) == (D("0.1"), D("1"))
    assert (level.api_gravity, level.density_kg_m3) == (D("0.1"), D("0.1"))
    assert level.ctl == level.cpl == level.ccf == level.meter_factor == level.csw == D("0.0001")
    assert (level.bsw_percent, level.volume) == (D("0.01"), D("0.01"))


def test_ticket_errors_name_the_value_and_the_limit() -> None:
    with pytest.raises(OutOfRangeError, match=r"closing meter reading 99 bbl .* \[100, inf\]"):
        indicated_volume_from_readings(D("100"), D("99"))
    with pytest.raises(OutOfRangeError, match=r"indicated volume -1 is outside"):
        ticket_volumes(indicated_volume=-1, meter_factor=1, ctl=1, cpl=1, bsw_percent=0)
    with pytest.raises(MeasurementError, match=r"meter factor 0.0000 must be positive"):
        ticket_volumes(indicated_volume=1, meter_factor=0, ctl=1, cpl=1, bsw_percent=0)
    with pytest.raises(MeasurementError, match="exactly one of api60"):
        meter_ticket(
            indicated_volume=1,
            meter_factor=1,
            temperature_f=60,
            pressure_psig=0,
            bsw_percent=0,
            api60=30,
            rho60=870,
        )
    with pytest.raises(OutOfRangeError, match=r"temperature 400.0 °F is outside"):
        meter_ticket(
            indicated_volume=1,
            meter_factor=1,
            temperature_f=400,
            pressure_psig=0,
            bsw_percent=0,
            api60=30,
            commodity=Commodity.CRUDE_OIL,
        )
