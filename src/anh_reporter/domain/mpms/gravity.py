"""Observed API gravity or density at line conditions → API gravity at 60 °F (11.1.6.2).

A densitometer or a hydrometer reads the density of the liquid as it is, at the line's (or the
sample's) temperature and pressure: the *observed* gravity. CTL and CPL need the *base* gravity
at 60 °F and 0 psig. :func:`gravity_at_base` converts one reading, at the flow-weighted
temperature and pressure of the same period, with the 11.1.6.2 iteration, and returns both
values so that a report can show the observed API and the API at 60 °F side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from anh_reporter.domain.mpms.ctpl import observed_to_base
from anh_reporter.domain.mpms.properties import Commodity, api_to_density, density_to_api
from anh_reporter.domain.mpms.rounding import round_half_up

__all__ = ["API_INCREMENT", "GravityAtBase", "gravity_at_base"]

API_INCREMENT = Decimal("0.1")
"""API gravity is reported to 0.1 °API (11.1-2004 input discrimination, API MPMS 12.2.2)."""


@dataclass(frozen=True)
class GravityAtBase:
    """One gravity reading at its observed conditions and the same liquid at 60 °F, 0 psig."""

    commodity: Commodity
    temperature_f: float
    """Temperature at which the gravity was observed, °F."""
    pressure_psig: float
    """Pressure at which the gravity was observed, psig."""
    observed_density: float
    """Density as observed, kg/m³."""
    observed_api: float
    """The observed density as API gravity (an "API at temperature", not at 60 °F)."""
    rho60: float
    """Base density at 60 °F and 0 psig, kg/m³."""
    api60: float
    """API gravity at 60 °F."""
    observed_api_reported: Decimal
    """Observed API gravity at the reporting increment."""
    api60_reported: Decimal
    """API gravity at 60 °F at the reporting increment: the value CTL is computed from."""
    iterations: int
    converged: bool


def gravity_at_base(
    *,
    temperature_f: float,
    pressure_psig: float = 0.0,
    observed_api: float | None = None,
    observed_density: float | None = None,
    commodity: Commodity = Commodity.CRUDE_OIL,
    alpha60: float | None = None,
    api_increment: Decimal = API_INCREMENT,
) -> GravityAtBase:
    """Convert one observed gravity to 60 °F by API MPMS 11.1.6.2; return both values.

    Give the reading as ``observed_api`` (°API at the observed temperature) or
    ``observed_density`` (kg/m³). ``temperature_f`` and ``pressure_psig`` are those of the
    reading: for telemetry, the flow-weighted averages over the same period as the gravity.
    Raises :class:`~anh_reporter.domain.mpms.errors.OutOfRangeError` for a reading outside the
    standard's limits (the message names the value and the limits).
    """
    base = observed_to_base(
        commodity=commodity,
        temperature_f=temperature_f,
        pressure_psig=pressure_psig,
        observed_density=observed_density,
        observed_api=observed_api,
        alpha60=alpha60,
    )
    if observed_api is not None:
        rho_observed, api_observed = api_to_density(observed_api), observed_api
    else:
        assert observed_density is not None  # noqa: S101 - narrows for mypy
        rho_observed, api_observed = observed_density, density_to_api(observed_density)
    return GravityAtBase(
        commodity=commodity,
        temperature_f=temperature_f,
        pressure_psig=pressure_psig,
        observed_density=rho_observed,
        observed_api=api_observed,
        rho60=base.rho60,
        api60=base.api60,
        observed_api_reported=round_half_up(api_observed, api_increment),
        api60_reported=round_half_up(base.api60, api_increment),
        iterations=base.iterations,
        converged=base.converged,
    )
