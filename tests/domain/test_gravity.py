"""Observed gravity → API at 60 °F (API MPMS 11.1.6.2), against the standard's own examples.

The base densities are the published results of the §11.1.6.2 examples (the sources are listed
in tests/domain/test_mpms.py: [API-C], [PYM]); the API conversions are worked by hand with
API = 141.5 × 999.016 / ρ − 131.5 (11.1.5.1), 141.5 × 999.016 = 141,360.764.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from anh_reporter.domain.mpms import Commodity, OutOfRangeError, relative_density_to_density
from anh_reporter.domain.mpms.gravity import gravity_at_base


def test_example_1_crude_density_observed_at_80_3_f() -> None:
    """§11.1.6.2 example 1: crude oil, 823.7 kg/m³ observed at 80.3 °F, −5 psig.
    Published ρ60 = 832.048516184234 kg/m³.
        API60 = 141,360.764 / 832.048516 − 131.5 = 169.894857 − 131.5 = 38.394857 → 38.4
        observed API = 141,360.764 / 823.7 − 131.5 = 171.616807 − 131.5 = 40.116807 → 40.1
    """
    gravity = gravity_at_base(observed_density=823.7, temperature_f=80.3, pressure_psig=-5)
    assert gravity.rho60 == pytest.approx(832.048516184234, abs=1e-9)
    assert gravity.api60 == pytest.approx(38.394857, abs=1e-6)
    assert gravity.observed_api == pytest.approx(40.116807, abs=1e-6)
    assert gravity.api60_reported == Decimal("38.4")
    assert gravity.observed_api_reported == Decimal("40.1")
    assert gravity.observed_density == 823.7
    assert gravity.converged


def test_example_4_refined_api_observed_at_72_f_and_375_psig() -> None:
    """§11.1.6.2 example 4: refined products, 41.4 °API observed at 72 °F, 375 psig.
    Published ρ60 = 820.670624131605 kg/m³.
        API60 = 141,360.764 / 820.670624 − 131.5 = 172.250303 − 131.5 = 40.750303 → 40.8
    """
    gravity = gravity_at_base(
        observed_api=41.4,
        temperature_f=72.0,
        pressure_psig=375.0,
        commodity=Commodity.REFINED_PRODUCTS,
    )
    assert gravity.rho60 == pytest.approx(820.670624131605, abs=1e-9)
    assert gravity.api60 == pytest.approx(40.750303, abs=1e-6)
    assert gravity.api60_reported == Decimal("40.8")
    assert gravity.observed_api_reported == Decimal("41.4")


def test_example_2_crude_relative_density_observed_cold() -> None:
    """§11.1.6.2 example 2: crude oil, RD 0.72332 observed at −57.95 °F, 113.5 psig.
    Published ρ60 = 663.445062852402 kg/m³.
        API60 = 141,360.764 / 663.445063 − 131.5 = 213.070791 − 131.5 = 81.570791 → 81.6
        observed API = 141.5 / 0.72332 − 131.5 = 195.625726 − 131.5 = 64.125726 → 64.1
    """
    gravity = gravity_at_base(
        observed_density=relative_density_to_density(0.72332),
        temperature_f=-57.95,
        pressure_psig=113.5,
    )
    assert gravity.rho60 == pytest.approx(663.445062852402, abs=1e-9)
    assert gravity.api60_reported == Decimal("81.6")
    assert gravity.observed_api == pytest.approx(64.125726, abs=1e-6)


def test_a_reading_outside_the_standard_is_refused_with_its_limits() -> None:
    with pytest.raises(OutOfRangeError, match=r"observed API gravity 200.0 °API .* range"):
        gravity_at_base(observed_api=200.0, temperature_f=80.0)
