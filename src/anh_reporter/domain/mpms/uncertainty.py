"""Expanded uncertainty (k = 2) of a daily net standard volume, API MPMS 13 / GUM.

The daily figure is NSV = (measured + estimated indicated volume) × MF × CTL × CPL × CSW. Each
input's standard uncertainty u(xᵢ) (a stated expanded uncertainty divided by its coverage factor)
times its sensitivity coefficient cᵢ = ∂NSV/∂xᵢ is its contribution in barrels; with the inputs
taken as uncorrelated (GUM 5.1.2), the combined standard uncertainty is

    u_c(NSV) = √(Σ (cᵢ · u(xᵢ))²),   and the expanded uncertainty U = k · u_c, k = 2 (~95 %).

Inputs and their sensitivities (NSV in bbl):

* meter: relative, applies to the measured part only: c = measured / 100 bbl per %;
* meter factor (proving): relative, whole NSV: c = NSV / 100 bbl per %;
* temperature: c = NSV × ∂ln(CTL·CPL)/∂t (bbl per °F), CTL and CPL by API MPMS 11.1-2004;
* pressure: c = NSV × ∂ln CPL/∂P (bbl per psi);
* API gravity: c = NSV × ∂ln(CTL·CPL)/∂API (bbl per °API);
* S&W: CSW = 1 − S&W/100, so c = −NSV / (100 − S&W) (bbl per percentage point);
* estimate: relative, applies to the estimated part only: c = estimated / 100 bbl per %.

The 11.1 derivatives are central differences of the unrounded factors (steps 0.5 °F, 5 psi,
0.1 °API; one-sided at a range limit or at 0 psig). For water, CTLw of :mod:`.water` gives the
temperature sensitivity; gas volumes come corrected from the flow computer, whose stated
uncertainty covers its temperature, pressure and compressibility.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from anh_reporter.domain.mpms.ctpl import base_to_alternate
from anh_reporter.domain.mpms.errors import MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.properties import (
    BASE_DENSITY_RANGE,
    PRESSURE_RANGE_PSIG,
    TEMPERATURE_RANGE_F,
    Commodity,
    density_to_api,
)
from anh_reporter.domain.mpms.water import WATER_TEMPERATURE_RANGE_F, water_correction

__all__ = [
    "DEFAULT_STATED_UNCERTAINTY",
    "BudgetLine",
    "MeterType",
    "StatedUncertainty",
    "UncertaintyBudget",
    "UncertaintyInput",
    "combine_uncertainty",
    "daily_nsv_uncertainty",
]

Fluid = Literal["oil", "water", "gas"]


class MeterType(StrEnum):
    """How a PMO measures its volume; it selects the default meter uncertainty."""

    CORIOLIS = "coriolis"
    TURBINE = "turbine"
    POSITIVE_DISPLACEMENT = "positive_displacement"
    ULTRASONIC = "ultrasonic"
    TANK_GAUGING = "tank_gauging"
    ORIFICE_GAS = "orifice_gas"


@dataclass(frozen=True)
class StatedUncertainty:
    """Expanded uncertainties of a PMO's inputs as stated (data sheet, certificate, procedure).

    All at the coverage factor ``coverage_factor`` (k = 2, about 95 %): each is divided by it
    to give the standard uncertainty. A site file overrides any of them.
    """

    meter_pct: float
    """The meter (or tank gauging, or gas flow computer) on its own, % of the measured volume."""
    meter_factor_pct: float = 0.027
    """The meter factor from proving, % (API MPMS 4.8 repeatability tables: ±0.027 %)."""
    temperature_f: float = 0.5
    """Custody temperature measurement, °F."""
    pressure_psi: float = 2.0
    """Custody pressure measurement, psi."""
    api_gravity: float = 0.3
    """API gravity at 60 °F (densitometer or laboratory), °API."""
    bsw_points: float = 0.1
    """S&W by sampling and laboratory, percentage points of volume."""
    estimate_pct: float = 10.0
    """An estimated volume (gap filled by rate or manual entry), % of the estimated volume."""
    coverage_factor: float = 2.0


DEFAULT_STATED_UNCERTAINTY: Mapping[MeterType, StatedUncertainty] = MappingProxyType(
    {
        MeterType.CORIOLIS: StatedUncertainty(meter_pct=0.20),
        MeterType.TURBINE: StatedUncertainty(meter_pct=0.25),
        MeterType.POSITIVE_DISPLACEMENT: StatedUncertainty(meter_pct=0.25),
        MeterType.ULTRASONIC: StatedUncertainty(meter_pct=0.30),
        MeterType.TANK_GAUGING: StatedUncertainty(meter_pct=0.50, meter_factor_pct=0.0),
        MeterType.ORIFICE_GAS: StatedUncertainty(meter_pct=1.00, meter_factor_pct=0.0),
    }
)
"""Typical expanded (k = 2) uncertainties per meter type; docs/measurement.md says why."""


@dataclass(frozen=True)
class UncertaintyInput:
    """One input of a budget: its value, standard uncertainty and sensitivity (bbl per unit)."""

    quantity: str
    value: float | None
    unit: str
    standard_uncertainty: float
    sensitivity: float


@dataclass(frozen=True)
class BudgetLine:
    """One line of an uncertainty budget."""

    quantity: str
    value: float | None
    """The input's value (°F, psig, °API, % points); for a relative input (unit ``%``: the
    meter, an estimate) the volume the percentage applies to; ``None`` where it has none."""
    unit: str
    """Unit of the standard uncertainty (and of the value, except for a relative input)."""
    standard_uncertainty: float
    sensitivity: float
    """∂NSV/∂input, bbl per ``unit``."""
    contribution_bbl: float
    """|sensitivity| × standard uncertainty, bbl."""
    share_pct: float
    """This line's share of the combined variance, %."""


@dataclass(frozen=True)
class UncertaintyBudget:
    """The budget of a daily NSV and its combined and expanded uncertainty, in bbl and %."""

    nsv_bbl: float
    measured_bbl: float
    estimated_bbl: float
    lines: tuple[BudgetLine, ...]
    combined_standard_bbl: float
    coverage_factor: float
    expanded_bbl: float
    combined_standard_pct: float
    expanded_pct: float
    method: str


def combine_uncertainty(
    inputs: Sequence[UncertaintyInput],
    *,
    nsv_bbl: float,
    measured_bbl: float,
    estimated_bbl: float,
    coverage_factor: float = 2.0,
) -> UncertaintyBudget:
    """Combine uncorrelated inputs by the GUM law of propagation; k × u_c is the expanded U."""
    for item in inputs:
        if not item.standard_uncertainty >= 0:
            raise OutOfRangeError(
                f"standard uncertainty of {item.quantity}",
                item.standard_uncertainty,
                0.0,
                math.inf,
                scope="uncertainty budget",
                unit=item.unit,
            )
    contributions = [abs(item.sensitivity) * item.standard_uncertainty for item in inputs]
    variance = sum(c * c for c in contributions)
    combined = math.sqrt(variance)
    lines = tuple(
        BudgetLine(
            quantity=item.quantity,
            value=item.value,
            unit=item.unit,
            standard_uncertainty=item.standard_uncertainty,
            sensitivity=item.sensitivity,
            contribution_bbl=c,
            share_pct=100.0 * c * c / variance if variance > 0 else 0.0,
        )
        for item, c in zip(inputs, contributions, strict=True)
    )
    expanded = coverage_factor * combined
    return UncertaintyBudget(
        nsv_bbl=nsv_bbl,
        measured_bbl=measured_bbl,
        estimated_bbl=estimated_bbl,
        lines=lines,
        combined_standard_bbl=combined,
        coverage_factor=coverage_factor,
        expanded_bbl=expanded,
        combined_standard_pct=100.0 * combined / nsv_bbl if nsv_bbl else 0.0,
        expanded_pct=100.0 * expanded / nsv_bbl if nsv_bbl else 0.0,
        method=(
            f"API MPMS 13 / GUM: u_c = √Σ(cᵢ·u(xᵢ))², inputs uncorrelated; U = k·u_c, "
            f"k = {coverage_factor:g}"
        ),
    )


def _log_derivative(
    factor: Callable[[float], float], x: float, step: float, low: float, high: float
) -> float:
    """d ln f / dx by central differences, one-sided where x ± step leaves [low, high]."""
    below, above = max(x - step, low), min(x + step, high)
    if above <= below:
        raise MeasurementError(f"no room for a derivative at {x!r} within [{low!r}, {high!r}]")
    return (math.log(factor(above)) - math.log(factor(below))) / (above - below)


def daily_nsv_uncertainty(
    *,
    nsv_bbl: float,
    meter_type: MeterType,
    estimated_bbl: float = 0.0,
    fluid: Fluid = "oil",
    temperature_f: float | None = None,
    pressure_psig: float | None = None,
    api60: float | None = None,
    bsw_percent: float | None = None,
    stated: StatedUncertainty | None = None,
    commodity: Commodity = Commodity.CRUDE_OIL,
) -> UncertaintyBudget:
    """The uncertainty budget of one daily NSV (see the module docstring for the model).

    ``nsv_bbl`` is the whole figure and ``estimated_bbl`` its estimated part. Lines appear for
    the inputs given: oil needs ``temperature_f`` and ``api60`` for the temperature and gravity
    lines and ``pressure_psig`` for the pressure line; water needs ``temperature_f``; S&W gives
    a line when ``bsw_percent`` is given. ``stated`` defaults to the meter type's defaults.
    """
    if not nsv_bbl >= 0:
        raise OutOfRangeError("NSV", nsv_bbl, 0.0, math.inf, scope="uncertainty budget", unit="bbl")
    if not 0 <= estimated_bbl <= nsv_bbl:
        raise OutOfRangeError(
            "estimated volume", estimated_bbl, 0.0, nsv_bbl, scope="the day's NSV", unit="bbl"
        )
    s = stated or DEFAULT_STATED_UNCERTAINTY[meter_type]
    k = s.coverage_factor
    measured = nsv_bbl - estimated_bbl
    inputs = [
        UncertaintyInput("meter", measured, "%", s.meter_pct / k, measured / 100.0),
        UncertaintyInput("meter factor", None, "%", s.meter_factor_pct / k, nsv_bbl / 100.0),
    ]
    if fluid == "oil" and temperature_f is not None and api60 is not None:
        inputs += _oil_lines(nsv_bbl, s, temperature_f, pressure_psig, api60, commodity)
    elif fluid == "water" and temperature_f is not None:
        low, high = WATER_TEMPERATURE_RANGE_F
        c_t = _log_derivative(lambda t: water_correction(t).ctl, temperature_f, 0.5, low, high)
        inputs.append(
            UncertaintyInput("temperature", temperature_f, "°F", s.temperature_f / k, nsv_bbl * c_t)
        )
    if bsw_percent is not None and fluid != "gas":
        if not 0 <= bsw_percent < 100:
            raise OutOfRangeError("BSW", bsw_percent, 0.0, 100.0, scope="sediment and water")
        inputs.append(
            UncertaintyInput(
                "S&W", bsw_percent, "% points", s.bsw_points / k, -nsv_bbl / (100.0 - bsw_percent)
            )
        )
    if estimated_bbl > 0:
        inputs.append(
            UncertaintyInput(
                "estimate", estimated_bbl, "%", s.estimate_pct / k, estimated_bbl / 100.0
            )
        )
    return combine_uncertainty(
        inputs,
        nsv_bbl=nsv_bbl,
        measured_bbl=measured,
        estimated_bbl=estimated_bbl,
        coverage_factor=k,
    )


def _oil_lines(
    nsv_bbl: float,
    s: StatedUncertainty,
    temperature_f: float,
    pressure_psig: float | None,
    api60: float,
    commodity: Commodity,
) -> list[UncertaintyInput]:
    if commodity is Commodity.SPECIAL_APPLICATION:
        raise MeasurementError(
            "the uncertainty budget needs a commodity with 11.1 K-constants, not a special "
            "application (give its temperature sensitivity as a budget input instead)"
        )
    k = s.coverage_factor
    pressure = max(pressure_psig or 0.0, 0.0)

    def ctpl(t: float = temperature_f, p: float = pressure, api: float = api60) -> float:
        return base_to_alternate(
            commodity=commodity, temperature_f=t, pressure_psig=p, api60=api
        ).ctpl

    ctpl()  # the inputs themselves must be in range: this raises a named error if not
    c_t = _log_derivative(lambda t: ctpl(t=t), temperature_f, 0.5, *TEMPERATURE_RANGE_F)
    rho_low, rho_high = BASE_DENSITY_RANGE[commodity]
    api_limits = (density_to_api(rho_high), density_to_api(rho_low))
    c_api = _log_derivative(lambda a: ctpl(api=a), api60, 0.1, *api_limits)
    lines = [
        UncertaintyInput("temperature", temperature_f, "°F", s.temperature_f / k, nsv_bbl * c_t),
        UncertaintyInput("API gravity", api60, "°API", s.api_gravity / k, nsv_bbl * c_api),
    ]
    if pressure_psig is not None:
        c_p = _log_derivative(lambda p: ctpl(p=p), pressure, 5.0, *PRESSURE_RANGE_PSIG)
        lines.insert(
            1,
            UncertaintyInput("pressure", pressure_psig, "psig", s.pressure_psi / k, nsv_bbl * c_p),
        )
    return lines
