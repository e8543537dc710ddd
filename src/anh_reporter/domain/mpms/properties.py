"""API MPMS 11.1-2004 data: commodity groups, K-constants, limits, unit conversions, checks.

The 2004 implementation procedures (adjunct to ASTM D1250-04) define, for crude oil, refined
products and lubricating oils, the α60 correlation constants, the density, temperature and
pressure limits, the ITS-90 → IPTS-68 temperature shift and the relations between density,
relative density and API gravity. :mod:`.ctpl` uses them to compute CTL and CPL.

Units: temperature °F (ITS-90), gauge pressure psig, density kg/m³, API gravity °API, α60 1/°F.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from anh_reporter.domain.mpms.errors import MeasurementError, OutOfRangeError

__all__ = [
    "ALPHA60_RANGE",
    "BASE_TEMPERATURE_IPTS68_F",
    "DELTA_60",
    "PRESSURE_RANGE_PSIG",
    "TEMPERATURE_RANGE_F",
    "WATER_DENSITY_60F",
    "Commodity",
    "ProductGroup",
    "api_to_density",
    "density_to_api",
    "its90_to_ipts68_f",
    "product_group",
    "relative_density_to_density",
]

# --- Constants of API MPMS 11.1-2004 -------------------------------------------------------

WATER_DENSITY_60F = 999.016
"""Density of water at 60 °F, kg/m³ (11.1.5.1): relative density and API gravity conversions."""

DELTA_60 = 0.01374979547
"""δ60, °F: the 60 °F base on ITS-90 expressed on the IPTS-68 scale, minus 60 (11.1.6.1 step 5)."""

BASE_TEMPERATURE_IPTS68_F = 60.0068749
"""The 60 °F (ITS-90) base temperature on the IPTS-68 scale (11.1.6.1 step 5)."""

IPTS68_COEFFICIENTS = (
    -0.148759,
    -0.267408,
    1.080760,
    1.269056,
    -4.089591,
    -1.871251,
    7.438081,
    -3.536296,
)
"""a1..a8 of the ITS-90 → IPTS-68 power series in τ = t°C / 630 (11.1.5.3)."""

# Fp = exp(A + B·t* + (C + D·t*) / ρ*²), Fp in 1/psi scaled by 1e5 (11.1.6.1 step 6).
FP_A = -1.9947
FP_B = 0.00013427
FP_C = 793920.0
FP_D = 2326.0
CPL_SCALE = 1e-5
"""Fp is tabulated in 1/psi × 1e5: compressibility = Fp × CPL_SCALE per psi."""

TEMPERATURE_RANGE_F = (-58.0, 302.0)
"""Temperature limits of the 2004 procedures, °F (11.1.6.1 step 1)."""

PRESSURE_RANGE_PSIG = (0.0, 1500.0)
"""Pressure limits of the 2004 procedures, psig (11.1.6.1 step 1)."""

ALPHA60_RANGE = (230.0e-6, 930.0e-6)
"""α60 limits for special applications, 1/°F (11.1.6.1 step 1)."""


class Commodity(StrEnum):
    """Commodity as named in 11.1-2004: it selects the α60 correlation."""

    CRUDE_OIL = "crude_oil"
    REFINED_PRODUCTS = "refined_products"
    LUBRICATING_OIL = "lubricating_oil"
    SPECIAL_APPLICATION = "special_application"
    """A liquid whose α60 is measured and given directly (chemicals, special blends)."""


class ProductGroup(StrEnum):
    """The group whose K-constants apply; refined products split into four by density."""

    CRUDE_OIL = "crude_oil"
    FUEL_OIL = "fuel_oil"
    JET_FUEL = "jet_fuel"
    TRANSITION_ZONE = "transition_zone"
    GASOLINE = "gasoline"
    LUBRICATING_OIL = "lubricating_oil"


@dataclass(frozen=True)
class GroupConstants:
    """K-constants (α60 = K0/ρ*² + K1/ρ* + K2), D_α of 11.1.6.2, base density limits."""

    k0: float
    k1: float
    k2: float
    d_alpha: float
    rho_low: float
    rho_high: float


# 11.1.6.1 step 3 table; D_α from 11.1.6.2 step 5. The transition zone is the A + B/ρ*² form
# (A = K2 = -0.00186840, B = K0 = 1489.0670), which the general formula covers with K1 = 0.
GROUPS: dict[ProductGroup, GroupConstants] = {
    ProductGroup.CRUDE_OIL: GroupConstants(341.0957, 0.0, 0.0, 2.0, 610.6, 1163.5),
    ProductGroup.FUEL_OIL: GroupConstants(103.8720, 0.2701, 0.0, 1.3, 838.3127, 1163.5),
    ProductGroup.JET_FUEL: GroupConstants(330.3010, 0.0, 0.0, 2.0, 787.5195, 838.3127),
    ProductGroup.TRANSITION_ZONE: GroupConstants(
        1489.0670, 0.0, -0.00186840, 8.5, 770.3520, 787.5195
    ),
    ProductGroup.GASOLINE: GroupConstants(192.4571, 0.2438, 0.0, 1.5, 610.6, 770.3520),
    ProductGroup.LUBRICATING_OIL: GroupConstants(0.0, 0.34878, 0.0, 1.0, 800.9, 1163.5),
}

# Refined products are tried in this order; ranges include both ends, so a density exactly on a
# boundary takes the first (denser) group, as the ranges of 11.1.6.1 read (e.g. jet fuel
# 787.5195 <= ρ60 < 838.3127).
REFINED_ORDER = (
    ProductGroup.FUEL_OIL,
    ProductGroup.JET_FUEL,
    ProductGroup.TRANSITION_ZONE,
    ProductGroup.GASOLINE,
)

BASE_DENSITY_RANGE: dict[Commodity, tuple[float, float]] = {
    Commodity.CRUDE_OIL: (610.6, 1163.5),
    Commodity.REFINED_PRODUCTS: (610.6, 1163.5),
    Commodity.LUBRICATING_OIL: (800.9, 1163.5),
}
"""Base density (60 °F) limits, kg/m³ (11.1.6.1 step 1)."""

OBSERVED_DENSITY_RANGE: dict[Commodity, tuple[float, float]] = {
    Commodity.CRUDE_OIL: (470.5, 1201.8),
    Commodity.REFINED_PRODUCTS: (470.4, 1209.5),
    Commodity.LUBRICATING_OIL: (714.3, 1208.3),
}
"""Observed density limits when not at base conditions, kg/m³ (11.1.6.2 step 1)."""

SCOPE_NAMES: dict[Commodity, str] = {
    Commodity.CRUDE_OIL: "crude oil",
    Commodity.REFINED_PRODUCTS: "refined products",
    Commodity.LUBRICATING_OIL: "lubricating oil",
    Commodity.SPECIAL_APPLICATION: "special application",
}


# --- Conversions (11.1.5) ------------------------------------------------------------------


def api_to_density(api: float) -> float:
    """Density at 60 °F in kg/m³ from API gravity: ρ = 141.5 × 999.016 / (API + 131.5)."""
    return 141.5 * WATER_DENSITY_60F / (api + 131.5)


def density_to_api(density: float) -> float:
    """API gravity from a density at 60 °F in kg/m³ (inverse of :func:`api_to_density`)."""
    return 141.5 * WATER_DENSITY_60F / density - 131.5


def relative_density_to_density(relative_density: float) -> float:
    """Density in kg/m³ from relative density 60/60 °F (water at 60 °F = 999.016 kg/m³)."""
    return relative_density * WATER_DENSITY_60F


def its90_to_ipts68_f(temperature_f: float) -> float:
    """Shift an ITS-90 temperature in °F to the IPTS-68 scale the correlations use (11.1.5.3)."""
    t_c = (temperature_f - 32.0) / 1.8
    tau = t_c / 630.0
    delta = 0.0
    for coefficient in reversed(IPTS68_COEFFICIENTS):
        delta = (delta + coefficient) * tau
    return 1.8 * (t_c - delta) + 32.0


# --- Range checks ----------------------------------------------------------------------------


def check_temperature(temperature_f: float) -> None:
    """Raise :class:`OutOfRangeError` unless the temperature is within the 2004 limits."""
    low, high = TEMPERATURE_RANGE_F
    if not low <= temperature_f <= high:
        raise OutOfRangeError(
            "temperature", temperature_f, low, high, scope="API MPMS 11.1", unit="°F"
        )


def effective_pressure(pressure_psig: float, equilibrium_pressure_psig: float) -> float:
    """Check the pressures and return P − Pe in psi, as CPL uses it (11.1.6.1 step 7)."""
    # Negative gauge pressures (vacuum) are corrected as 0 psig, as in 11.1.6.1 example 3.
    pressure = max(pressure_psig, 0.0)
    low, high = PRESSURE_RANGE_PSIG
    if pressure > high:
        raise OutOfRangeError(
            "pressure", pressure_psig, low, high, scope="API MPMS 11.1", unit="psig"
        )
    # Pe below atmospheric is taken as 0 psig (11.1.3.4).
    equilibrium = max(equilibrium_pressure_psig, 0.0)
    if equilibrium > pressure:
        raise OutOfRangeError(
            "pressure",
            pressure_psig,
            equilibrium,
            high,
            scope="single-phase liquid",
            unit="psig",
            detail="(it must not be below the equilibrium vapour pressure)",
        )
    return pressure - equilibrium


def check_density(
    commodity: Commodity,
    density: float,
    limits: tuple[float, float],
    *,
    what: str,
    api: float | None,
) -> None:
    """Raise :class:`OutOfRangeError` unless ``density`` is within ``limits`` (kg/m³)."""
    low, high = limits
    if low <= density <= high:
        return
    scope = SCOPE_NAMES[commodity]
    if api is None:
        raise OutOfRangeError(f"{what} density", density, low, high, scope=scope, unit="kg/m³")
    # The limits are defined in kg/m³; show the API equivalents, and the exact limit.
    raise OutOfRangeError(
        f"{what} API gravity",
        api,
        round(density_to_api(high), 1),
        round(density_to_api(low), 1),
        scope=scope,
        unit="°API",
        detail=f"({density:.2f} kg/m³; the limits are [{low}, {high}] kg/m³)",
    )


def check_alpha60(alpha60: float) -> None:
    """Raise :class:`OutOfRangeError` unless α60 is within the special-application limits."""
    low, high = ALPHA60_RANGE
    if not low <= alpha60 <= high:
        raise OutOfRangeError(
            "alpha60", alpha60, low, high, scope="special application", unit="1/°F"
        )


def pick_density(
    density: float | None, api: float | None, *, density_name: str, api_name: str
) -> float:
    """The density in kg/m³ from exactly one of a density or an API gravity."""
    if (density is None) == (api is None):
        raise MeasurementError(f"give exactly one of {density_name} (kg/m³) or {api_name} (°API)")
    if density is not None:
        if not density > 0.0:
            raise MeasurementError(f"{density_name} must be a positive density in kg/m³")
        return density
    assert api is not None  # noqa: S101 - narrows for mypy: exactly one of the two is given (checked)
    if not api > -131.5:
        raise MeasurementError(f"{api_name} {api!r} does not convert to a density")
    return api_to_density(api)


def check_commodity_alpha(commodity: Commodity, alpha60: float | None) -> None:
    """α60 is given for a special application and only for it."""
    if commodity is Commodity.SPECIAL_APPLICATION:
        if alpha60 is None:
            raise MeasurementError("a special application needs alpha60 (1/°F)")
        check_alpha60(alpha60)
    elif alpha60 is not None:
        raise MeasurementError(
            f"alpha60 is only given for a special application, not for {SCOPE_NAMES[commodity]}"
        )


def product_group(commodity: Commodity, rho60: float) -> ProductGroup:
    """The group whose K-constants apply to ``commodity`` at base density ``rho60`` (kg/m³)."""
    if commodity is Commodity.CRUDE_OIL:
        return ProductGroup.CRUDE_OIL
    if commodity is Commodity.LUBRICATING_OIL:
        return ProductGroup.LUBRICATING_OIL
    if commodity is Commodity.REFINED_PRODUCTS:
        for group in REFINED_ORDER:
            constants = GROUPS[group]
            if constants.rho_low <= rho60 <= constants.rho_high:
                return group
        low, high = BASE_DENSITY_RANGE[commodity]
        raise OutOfRangeError(
            "base density", rho60, low, high, scope="refined products", unit="kg/m³"
        )
    raise MeasurementError("a special application has no product group: give alpha60")
