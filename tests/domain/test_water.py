"""Produced water to 60 °F: Kell's density of water, checked against published values.

Sources: Kell's formulation as printed by F. E. Jones and G. L. Harris (J. Res. NIST 97, 335,
1992), its published maximum density 999.972 kg/m³ near 4 °C, the 999.016 kg/m³ at 60 °F that
API MPMS 11.4.1 and 11.1-2004 use, and the CIPM formula of M. Tanaka et al. (Metrologia 38, 301,
2001: ρ = a5 [1 − (t + a1)² (t + a2) / (a3 (t + a4))], a1 = −3.983035 °C, a2 = 301.797 °C,
a3 = 522528.9 °C², a4 = 69.34881 °C, a5 = 999.974950 kg/m³), an independent formula for 0-40 °C.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from anh_reporter.domain.mpms import MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.water import water_correction, water_density, water_standard_volume


def _tanaka(t_c: float) -> float:
    return 999.974950 * (
        1 - (t_c - 3.983035) ** 2 * (t_c + 301.797) / (522528.9 * (t_c + 69.34881))
    )


def test_density_of_water_at_published_points() -> None:
    assert water_density(39.2) == pytest.approx(999.972, abs=5e-4)  # Kell's maximum, ~4 °C
    assert water_density(60.0) == pytest.approx(999.016, abs=3e-3)  # API MPMS 11.4.1 value


@pytest.mark.parametrize("temperature_f", [32.0, 45.0, 68.0, 77.0, 86.0, 95.0, 104.0])
def test_ctlw_agrees_with_the_cipm_formula_from_0_to_40_c(temperature_f: float) -> None:
    """Two independent published formulas give the same ratio ρ(t)/ρ(60 °F) within 1e-6."""
    expected = _tanaka((temperature_f - 32) / 1.8) / _tanaka(15.555555555556)
    assert water_correction(temperature_f).ctl == pytest.approx(expected, abs=1e-6)


def test_water_at_120_f_worked_by_hand() -> None:
    """1,000.00 bbl of water at 120 °F.
    t = 120 °F → 48.888889 °C (ITS-90) → 48.901504 °C (IPTS-68, the 11.1-2004 shift)
    numerator = 999.83952 + 828.644589 − 19.099865 − 5.399218 + 0.603671 − 0.078453
              = 1804.510244
    denominator = 1 + 0.01687985 × 48.901504 = 1.825450
    ρw(120 °F) = 1804.510244 / 1.825450 = 988.52896 kg/m³
    at 60 °F: t = 15.559375 °C (IPTS-68): numerator = 999.83952 + 263.656347 − 1.933616
              − 0.173916 + 0.006187 − 0.000256 = 1261.394266; denominator = 1.262640
    ρw(60 °F) = 999.01346 kg/m³
    CTLw = 988.52896 / 999.01346 = 0.989505 → 0.98951
    GSVw = 1,000.00 × 0.98951 = 989.51 bbl
    """
    volumes = water_standard_volume(Decimal("1000.00"), 120.0)
    assert volumes.correction.density_at_temperature == pytest.approx(988.52896, abs=1e-5)
    assert volumes.correction.density_at_60f == pytest.approx(999.01346, abs=1e-5)
    assert volumes.ctl == Decimal("0.98951")
    assert volumes.gross_standard_volume == Decimal("989.51")
    assert "Kell" in volumes.correction.method


def test_measured_densities_give_ctlw_directly() -> None:
    """A brine measured at 1,068.2 kg/m³ at 140 °F and 1,085.0 kg/m³ at 60 °F:
    CTLw = 1068.2 / 1085.0 = 0.984516 → 0.98452; 500.00 bbl → 492.26 bbl."""
    volumes = water_standard_volume(
        Decimal("500.00"),
        140.0,
        measured_density_at_temperature=1068.2,
        measured_density_at_60f=1085.0,
    )
    assert volumes.ctl == Decimal("0.98452")
    assert volumes.gross_standard_volume == Decimal("492.26")
    assert "measured" in volumes.correction.method


def test_water_inputs_are_checked() -> None:
    with pytest.raises(OutOfRangeError, match=r"water temperature 310.0 °F .* \[32.0, 302.0\]"):
        water_density(310.0)
    with pytest.raises(MeasurementError, match="give both measured water densities"):
        water_correction(100.0, measured_density_at_60f=1050.0)
    with pytest.raises(OutOfRangeError, match=r"measured water density at 60 °F 50.0 kg/m³"):
        water_correction(
            100.0, measured_density_at_temperature=1040.0, measured_density_at_60f=50.0
        )
