"""Liquid measurement math: API MPMS 11.1 (2004) CTL/CPL and API MPMS 12.2 volumes.

Chapter 11.1 (2004 implementation procedures, adjunct to ASTM D1250-04) gives the volume
correction factors for crude oil, refined products and lubricating oils:

* :func:`base_to_alternate` is procedure 11.1.6.1: from a base density (60 °F, 0 psig) to the
  correction factors and density at another temperature and pressure.
* :func:`observed_to_base` is procedure 11.1.6.2: from a density observed at some temperature
  and pressure (hydrometer, densitometer) to the base density, by the standard's iteration.

Both follow the standard's steps in order: ITS-90 → IPTS-68 temperature shift, the shifted
density ρ*, α60 from the commodity group's K0/K1/K2, CTL with the δ60 term, the scaled
compressibility factor Fp, CPL, and CTPL = CTL × CPL. Inputs are used as given (the standard's
own examples use unrounded inputs such as 48.04 °F and 124.63 psig); round readings to the
contract's discrimination before calling if the contract requires it. The factors are computed
unrounded; the ``*_rounded`` properties give them at the standard's reporting increments
(CTL, CPL, CTPL to 5 decimals, Fp to 3 decimals). CTPL is rounded once, from the unrounded
product, as 11.1-2004 prescribes (Addendum 1: "CTPL should be substituted for CTL × CPL").

Chapter 12.2 volumes (:func:`liquid_volumes`) are computed in :class:`~decimal.Decimal` and
rounded half up at each step, at the discrimination levels of a :class:`VolumeRounding`:

    GOV = IV × MF,  GSV = GOV × CTPL,  NSV = GSV × CSW,  CSW = 1 − BSW/100.

Units: temperature °F (ITS-90), gauge pressure psig, density kg/m³, API gravity °API, α60 1/°F.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from anh_reporter.errors import AnhError

__all__ = [
    "ALPHA60_RANGE",
    "BBL_ROUNDING",
    "M3_ROUNDING",
    "PRESSURE_RANGE_PSIG",
    "TEMPERATURE_RANGE_F",
    "WATER_DENSITY_60F",
    "BaseDensity",
    "Commodity",
    "ConvergenceError",
    "Correction",
    "MeasurementError",
    "OutOfRangeError",
    "ProductGroup",
    "VolumeRounding",
    "Volumes",
    "api_to_density",
    "base_to_alternate",
    "density_to_api",
    "gross_observed_volume",
    "gross_standard_volume",
    "its90_to_ipts68_f",
    "liquid_volumes",
    "net_standard_volume",
    "observed_to_base",
    "product_group",
    "relative_density_to_density",
    "round_half_up",
]

# --- Constants of API MPMS 11.1-2004 -------------------------------------------------------

WATER_DENSITY_60F = 999.016
"""Density of water at 60 °F, kg/m³ (11.1.5.1): relative density and API gravity conversions."""

DELTA_60 = 0.01374979547
"""δ60, °F: the 60 °F base on ITS-90 expressed on the IPTS-68 scale, minus 60 (11.1.6.1 step 5)."""

BASE_TEMPERATURE_IPTS68_F = 60.0068749
"""The 60 °F (ITS-90) base temperature on the IPTS-68 scale (11.1.6.1 step 5)."""

_IPTS68_COEFFICIENTS = (
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
_FP_A = -1.9947
_FP_B = 0.00013427
_FP_C = 793920.0
_FP_D = 2326.0
_CPL_SCALE = 1e-5

TEMPERATURE_RANGE_F = (-58.0, 302.0)
"""Temperature limits of the 2004 procedures, °F (11.1.6.1 step 1)."""

PRESSURE_RANGE_PSIG = (0.0, 1500.0)
"""Pressure limits of the 2004 procedures, psig (11.1.6.1 step 1)."""

ALPHA60_RANGE = (230.0e-6, 930.0e-6)
"""α60 limits for special applications, 1/°F (11.1.6.1 step 1)."""

_CONVERGENCE_LIMIT = 1e-6
"""11.1.6.2 stops when the recomputed observed density is within this of the input, kg/m³."""

_MAX_ITERATIONS = 15
"""11.1.6.2 iteration limit."""

_TRANSITION_NOTE_WINDOW = 1.0
"""11.1.6.2 step 4 note: near a transition-zone limit a non-converged value is accepted, kg/m³."""


class MeasurementError(AnhError, ValueError):
    """A measurement calculation cannot be done with the inputs given."""


class OutOfRangeError(MeasurementError):
    """An input lies outside the range over which the standard is defined."""

    def __init__(
        self,
        field: str,
        value: float,
        low: float,
        high: float,
        *,
        scope: str,
        unit: str = "",
        detail: str = "",
    ) -> None:
        self.field = field
        self.value = value
        self.low = low
        self.high = high
        unit_suffix = f" {unit}" if unit else ""
        message = (
            f"{field} {value!r}{unit_suffix} is outside the {scope} range "
            f"[{low!r}, {high!r}]{unit_suffix}"
        )
        super().__init__(f"{message} {detail}".rstrip())


class ConvergenceError(MeasurementError):
    """The 11.1.6.2 iteration did not converge within the standard's iteration limit."""


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
class _GroupConstants:
    """K-constants (α60 = K0/ρ*² + K1/ρ* + K2), D_α of 11.1.6.2, base density limits."""

    k0: float
    k1: float
    k2: float
    d_alpha: float
    rho_low: float
    rho_high: float


# 11.1.6.1 step 3 table; D_α from 11.1.6.2 step 5. The transition zone is the A + B/ρ*² form
# (A = K2 = -0.00186840, B = K0 = 1489.0670), which the general formula covers with K1 = 0.
_GROUPS: dict[ProductGroup, _GroupConstants] = {
    ProductGroup.CRUDE_OIL: _GroupConstants(341.0957, 0.0, 0.0, 2.0, 610.6, 1163.5),
    ProductGroup.FUEL_OIL: _GroupConstants(103.8720, 0.2701, 0.0, 1.3, 838.3127, 1163.5),
    ProductGroup.JET_FUEL: _GroupConstants(330.3010, 0.0, 0.0, 2.0, 787.5195, 838.3127),
    ProductGroup.TRANSITION_ZONE: _GroupConstants(
        1489.0670, 0.0, -0.00186840, 8.5, 770.3520, 787.5195
    ),
    ProductGroup.GASOLINE: _GroupConstants(192.4571, 0.2438, 0.0, 1.5, 610.6, 770.3520),
    ProductGroup.LUBRICATING_OIL: _GroupConstants(0.0, 0.34878, 0.0, 1.0, 800.9, 1163.5),
}

# Refined products are tried in this order; ranges include both ends, so a density exactly on a
# boundary takes the first (denser) group, as the ranges of 11.1.6.1 read (e.g. jet fuel
# 787.5195 <= ρ60 < 838.3127).
_REFINED_ORDER = (
    ProductGroup.FUEL_OIL,
    ProductGroup.JET_FUEL,
    ProductGroup.TRANSITION_ZONE,
    ProductGroup.GASOLINE,
)

_BASE_DENSITY_RANGE: dict[Commodity, tuple[float, float]] = {
    Commodity.CRUDE_OIL: (610.6, 1163.5),
    Commodity.REFINED_PRODUCTS: (610.6, 1163.5),
    Commodity.LUBRICATING_OIL: (800.9, 1163.5),
}
"""Base density (60 °F) limits, kg/m³ (11.1.6.1 step 1)."""

_OBSERVED_DENSITY_RANGE: dict[Commodity, tuple[float, float]] = {
    Commodity.CRUDE_OIL: (470.5, 1201.8),
    Commodity.REFINED_PRODUCTS: (470.4, 1209.5),
    Commodity.LUBRICATING_OIL: (714.3, 1208.3),
}
"""Observed density limits when not at base conditions, kg/m³ (11.1.6.2 step 1)."""

_SCOPE_NAMES: dict[Commodity, str] = {
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
    for coefficient in reversed(_IPTS68_COEFFICIENTS):
        delta = (delta + coefficient) * tau
    return 1.8 * (t_c - delta) + 32.0


def round_half_up(value: Decimal | float | int, quantum: Decimal) -> Decimal:
    """Round half up to ``quantum`` (e.g. ``Decimal("0.00001")``), as API MPMS 12.2 rounds.

    A float is taken at its shortest decimal form (``repr``), so 100.005 rounds to 100.01 as
    written rather than as its binary approximation 100.00499999...
    """
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    return exact.quantize(quantum, rounding=ROUND_HALF_UP)


_FACTOR_QUANTUM = Decimal("0.00001")
_FP_QUANTUM = Decimal("0.001")


# --- Range checks ----------------------------------------------------------------------------


def _check_temperature(temperature_f: float) -> None:
    low, high = TEMPERATURE_RANGE_F
    if not low <= temperature_f <= high:
        raise OutOfRangeError(
            "temperature", temperature_f, low, high, scope="API MPMS 11.1", unit="°F"
        )


def _effective_pressure(pressure_psig: float, equilibrium_pressure_psig: float) -> float:
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


def _check_density(
    commodity: Commodity,
    density: float,
    limits: tuple[float, float],
    *,
    what: str,
    api: float | None,
) -> None:
    low, high = limits
    if low <= density <= high:
        return
    scope = _SCOPE_NAMES[commodity]
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


def _check_alpha60(alpha60: float) -> None:
    low, high = ALPHA60_RANGE
    if not low <= alpha60 <= high:
        raise OutOfRangeError(
            "alpha60", alpha60, low, high, scope="special application", unit="1/°F"
        )


def _pick_density(
    density: float | None, api: float | None, *, density_name: str, api_name: str
) -> float:
    if (density is None) == (api is None):
        raise MeasurementError(f"give exactly one of {density_name} (kg/m³) or {api_name} (°API)")
    if density is not None:
        if not density > 0.0:
            raise MeasurementError(f"{density_name} must be a positive density in kg/m³")
        return density
    assert api is not None
    if not api > -131.5:
        raise MeasurementError(f"{api_name} {api!r} does not convert to a density")
    return api_to_density(api)


def _check_commodity_alpha(commodity: Commodity, alpha60: float | None) -> None:
    if commodity is Commodity.SPECIAL_APPLICATION:
        if alpha60 is None:
            raise MeasurementError("a special application needs alpha60 (1/°F)")
        _check_alpha60(alpha60)
    elif alpha60 is not None:
        raise MeasurementError(
            f"alpha60 is only given for a special application, not for {_SCOPE_NAMES[commodity]}"
        )


def product_group(commodity: Commodity, rho60: float) -> ProductGroup:
    """The group whose K-constants apply to ``commodity`` at base density ``rho60`` (kg/m³)."""
    if commodity is Commodity.CRUDE_OIL:
        return ProductGroup.CRUDE_OIL
    if commodity is Commodity.LUBRICATING_OIL:
        return ProductGroup.LUBRICATING_OIL
    if commodity is Commodity.REFINED_PRODUCTS:
        for group in _REFINED_ORDER:
            constants = _GROUPS[group]
            if constants.rho_low <= rho60 <= constants.rho_high:
                return group
        low, high = _BASE_DENSITY_RANGE[commodity]
        raise OutOfRangeError(
            "base density", rho60, low, high, scope="refined products", unit="kg/m³"
        )
    raise MeasurementError("a special application has no product group: give alpha60")


# --- 11.1.6.1: base to alternate -------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """Correction factors from base (60 °F, 0 psig) to one temperature and pressure.

    ``ctl`` and ``ctpl`` are V60 / V(t, P) = ρ(t, P) / ρ60: a volume measured at ``temperature_f``
    and ``pressure_psig`` times ``ctpl_rounded`` is its gross standard volume.
    """

    commodity: Commodity
    group: ProductGroup | None
    """K-constant group used; ``None`` for a special application (α60 given)."""
    rho60: float
    """Base density, kg/m³ (ITS-90, 60 °F, 0 psig)."""
    temperature_f: float
    pressure_psig: float
    temperature_ipts68_f: float
    """t*, the temperature shifted to IPTS-68 (step 2), °F."""
    rho_star: float
    """ρ*, the base density shifted to the IPTS-68 basis (step 3), kg/m³."""
    alpha60: float
    """α60, thermal expansion coefficient at 60 °F (step 4), 1/°F."""
    ctl: float
    fp: float
    """Scaled compressibility factor Fp (step 6): compressibility = Fp × 1e-5 per psi."""
    cpl: float
    ctpl: float
    density: float
    """Density at ``temperature_f`` and ``pressure_psig``: ρ60 × CTL × CPL, kg/m³."""

    @property
    def ctl_rounded(self) -> Decimal:
        """CTL rounded to 5 decimals, as reported."""
        return round_half_up(self.ctl, _FACTOR_QUANTUM)

    @property
    def cpl_rounded(self) -> Decimal:
        """CPL rounded to 5 decimals, as reported."""
        return round_half_up(self.cpl, _FACTOR_QUANTUM)

    @property
    def ctpl_rounded(self) -> Decimal:
        """CTPL rounded to 5 decimals from the unrounded CTL × CPL: the factor volumes use."""
        return round_half_up(self.ctpl, _FACTOR_QUANTUM)

    @property
    def fp_rounded(self) -> Decimal:
        """Fp rounded to 3 decimals (1/psi × 1e5), as reported."""
        return round_half_up(self.fp, _FP_QUANTUM)


def _rho_star(rho60: float, constants: _GroupConstants | None, alpha60: float | None) -> float:
    """Step 3: shift ρ60 to the IPTS-68 basis."""
    if constants is None:
        assert alpha60 is not None
        return rho60 * math.exp(0.5 * alpha60 * DELTA_60 * (1.0 + 0.4 * alpha60 * DELTA_60))
    k0, k1, k2 = constants.k0, constants.k1, constants.k2
    a = DELTA_60 / 2.0 * ((k0 / rho60 + k1) / rho60 + k2)
    b = (2.0 * k0 + k1 * rho60) / (k0 + (k1 + k2 * rho60) * rho60)
    return rho60 * (1.0 + (math.exp(a * (1.0 + 0.8 * a)) - 1.0) / (1.0 + a * (1.0 + 1.6 * a) * b))


def _correct(
    commodity: Commodity,
    group: ProductGroup | None,
    rho60: float,
    temperature_f: float,
    pressure_psig: float,
    effective_pressure: float,
    alpha60_given: float | None,
) -> Correction:
    """Steps 2-9 of 11.1.6.1 for inputs already checked."""
    constants = None if group is None else _GROUPS[group]
    t_star = its90_to_ipts68_f(temperature_f)  # step 2
    rho_star = _rho_star(rho60, constants, alpha60_given)  # step 3
    if constants is None:  # step 4
        assert alpha60_given is not None
        alpha60 = alpha60_given
    else:
        alpha60 = (constants.k0 / rho_star + constants.k1) / rho_star + constants.k2
    delta_t = t_star - BASE_TEMPERATURE_IPTS68_F  # step 5
    ctl = math.exp(-alpha60 * delta_t * (1.0 + 0.8 * alpha60 * (delta_t + DELTA_60)))
    fp = math.exp(_FP_A + _FP_B * t_star + (_FP_C + _FP_D * t_star) / rho_star**2)  # step 6
    cpl = 1.0 / (1.0 - _CPL_SCALE * fp * effective_pressure)  # step 7
    ctpl = ctl * cpl  # step 8
    return Correction(
        commodity=commodity,
        group=group,
        rho60=rho60,
        temperature_f=temperature_f,
        pressure_psig=pressure_psig,
        temperature_ipts68_f=t_star,
        rho_star=rho_star,
        alpha60=alpha60,
        ctl=ctl,
        fp=fp,
        cpl=cpl,
        ctpl=ctpl,
        density=rho60 * ctpl,  # step 9
    )


def base_to_alternate(
    *,
    commodity: Commodity,
    temperature_f: float,
    pressure_psig: float = 0.0,
    rho60: float | None = None,
    api60: float | None = None,
    alpha60: float | None = None,
    equilibrium_pressure_psig: float = 0.0,
) -> Correction:
    """API MPMS 11.1.6.1: CTL, Fp, CPL and CTPL at ``temperature_f`` and ``pressure_psig``.

    Give the base density as ``rho60`` (kg/m³) or ``api60`` (°API). ``alpha60`` (1/°F) is given
    only for :attr:`Commodity.SPECIAL_APPLICATION`. ``equilibrium_pressure_psig`` (Pe) is the
    liquid's equilibrium vapour pressure; below atmospheric it is 0, the default for crude oil.

    Raises :class:`OutOfRangeError` for an input outside the standard's limits.
    """
    _check_commodity_alpha(commodity, alpha60)
    rho = _pick_density(rho60, api60, density_name="rho60", api_name="api60")
    if commodity is not Commodity.SPECIAL_APPLICATION:
        _check_density(commodity, rho, _BASE_DENSITY_RANGE[commodity], what="base", api=api60)
    _check_temperature(temperature_f)
    effective = _effective_pressure(pressure_psig, equilibrium_pressure_psig)
    group = None if alpha60 is not None else product_group(commodity, rho)
    return _correct(commodity, group, rho, temperature_f, pressure_psig, effective, alpha60)


# --- 11.1.6.2: observed to base --------------------------------------------------------------


@dataclass(frozen=True)
class BaseDensity:
    """Base density found from an observed density, with the factors at the observed state."""

    rho60: float
    """Base density, kg/m³ (60 °F, 0 psig)."""
    correction: Correction
    """The 11.1.6.1 factors at the observed temperature and pressure, for ``rho60``."""
    iterations: int
    """Number of 11.1.6.1 evaluations the iteration took."""
    converged: bool
    """False only when the standard's transition-zone note accepted the last iterate."""

    @property
    def api60(self) -> float:
        """Base density as API gravity."""
        return density_to_api(self.rho60)


def observed_to_base(
    *,
    commodity: Commodity,
    temperature_f: float,
    pressure_psig: float = 0.0,
    observed_density: float | None = None,
    observed_api: float | None = None,
    alpha60: float | None = None,
    equilibrium_pressure_psig: float = 0.0,
) -> BaseDensity:
    """API MPMS 11.1.6.2: base density from a density observed at a temperature and pressure.

    Give the observed density as ``observed_density`` (kg/m³) or ``observed_api`` (°API, as read
    on a hydrometer, uncorrected). Newton iteration of the standard: start from the observed
    density (held within the commodity's base limits), evaluate 11.1.6.1, stop when ρ60 × CTPL
    is within 1e-6 kg/m³ of the observed density, else step by
    Δρ60 = E / (1 + D_t + D_p) with E = ρ_obs / CTPL − ρ60, at most 15 times.

    Raises :class:`OutOfRangeError` for an input outside the standard's limits or a base density
    outside them, :class:`ConvergenceError` when the iteration does not converge.
    """
    _check_commodity_alpha(commodity, alpha60)
    rho_obs = _pick_density(
        observed_density, observed_api, density_name="observed_density", api_name="observed_api"
    )
    _check_temperature(temperature_f)
    effective = _effective_pressure(pressure_psig, equilibrium_pressure_psig)
    at_base = temperature_f == 60.0 and pressure_psig == 0.0
    special = commodity is Commodity.SPECIAL_APPLICATION
    if not special:
        limits = _BASE_DENSITY_RANGE[commodity] if at_base else _OBSERVED_DENSITY_RANGE[commodity]
        _check_density(commodity, rho_obs, limits, what="observed", api=observed_api)

    # Step 2: start from the observed density, held within the commodity's base limits.
    rho_low, rho_high = (0.0, math.inf) if special else _BASE_DENSITY_RANGE[commodity]
    rho60 = min(max(rho_obs, rho_low), rho_high)
    delta_t_obs = temperature_f - 60.0
    correction: Correction | None = None
    estimate = rho60
    for iteration in range(1, _MAX_ITERATIONS + 1):
        # Step 3: 11.1.6.1 at the observed conditions; refined products re-pick their group.
        group = None if special else product_group(commodity, rho60)
        correction = _correct(
            commodity, group, rho60, temperature_f, pressure_psig, effective, alpha60
        )
        # Step 4: converged when the base density reproduces the observed density.
        if abs(rho_obs - correction.density) < _CONVERGENCE_LIMIT:
            return BaseDensity(rho60, correction, iteration, converged=True)
        # Step 5: Newton step on ρ60 (D_t is 0 when α60 is given: it does not depend on ρ60).
        e = rho_obs / correction.ctpl - rho60
        d_t = 0.0
        if group is not None:
            alpha = correction.alpha60
            d_t = _GROUPS[group].d_alpha * alpha * delta_t_obs * (1.0 + 1.6 * alpha * delta_t_obs)
        d_p = (
            -2.0
            * correction.cpl
            * effective
            * correction.fp
            * (_FP_C + _FP_D * temperature_f)
            * _CPL_SCALE
            / rho60**2
        )
        estimate = rho60 + e / (1.0 + d_t + d_p)
        rho60 = min(max(estimate, rho_low), rho_high)

    assert correction is not None
    if not rho_low <= estimate <= rho_high:
        # The iteration was held at a limit: the liquid's base density lies beyond it.
        raise OutOfRangeError(
            "base density",
            round(estimate, 1),
            rho_low,
            rho_high,
            scope=_SCOPE_NAMES[commodity],
            unit="kg/m³",
            detail=(
                f"(estimated from observed density {rho_obs!r} kg/m³ at {temperature_f!r} °F, "
                f"{pressure_psig!r} psig)"
            ),
        )
    if commodity is Commodity.REFINED_PRODUCTS and _near_transition_limit(correction.rho60):
        # Note to step 4: around a transition-zone limit the groups' α60 curves meet at an
        # angle and the iteration may oscillate; the last value is accepted.
        return BaseDensity(correction.rho60, correction, _MAX_ITERATIONS, converged=False)
    raise ConvergenceError(
        f"API MPMS 11.1.6.2 did not converge in {_MAX_ITERATIONS} iterations for observed "
        f"density {rho_obs!r} kg/m³ at {temperature_f!r} °F, {pressure_psig!r} psig "
        f"(last base density {correction.rho60!r} kg/m³): check the inputs"
    )


def _near_transition_limit(rho60: float) -> bool:
    transition = _GROUPS[ProductGroup.TRANSITION_ZONE]
    return (
        abs(rho60 - transition.rho_low) < _TRANSITION_NOTE_WINDOW
        or abs(rho60 - transition.rho_high) < _TRANSITION_NOTE_WINDOW
    )


# --- API MPMS 12.2: volumes ------------------------------------------------------------------


@dataclass(frozen=True)
class VolumeRounding:
    """Discrimination levels for the 12.2 volume sequence; each step is rounded half up.

    Defaults: volumes to 0.01 bbl, meter factor to 4 decimals, CTPL and CSW to 5 decimals
    (5 decimals being the 11.1-2004 increment for correction factors). API MPMS 12.2 lets the
    contract or the measurement ticket fix the volume discrimination, so these are settings.
    IV and MF are taken to their level before use; each product is rounded before the next.
    """

    volume: Decimal = Decimal("0.01")
    meter_factor: Decimal = Decimal("0.0001")
    correction_factor: Decimal = Decimal("0.00001")


BBL_ROUNDING = VolumeRounding()
"""Volumes in barrels, to 0.01 bbl."""

M3_ROUNDING = VolumeRounding(volume=Decimal("0.001"))
"""Volumes in cubic metres, to 0.001 m³."""


def _decimal(value: Decimal | float | int) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def gross_observed_volume(
    indicated_volume: Decimal | float | int,
    meter_factor: Decimal | float | int,
    rounding: VolumeRounding = BBL_ROUNDING,
) -> Decimal:
    """GOV = IV × MF, with IV and MF at their discrimination and the product rounded."""
    iv = round_half_up(indicated_volume, rounding.volume)
    mf = round_half_up(meter_factor, rounding.meter_factor)
    if iv < 0:
        raise OutOfRangeError("indicated volume", float(iv), 0.0, math.inf, scope="API MPMS 12.2")
    if mf <= 0:
        raise MeasurementError(f"meter factor {mf} must be positive")
    return round_half_up(iv * mf, rounding.volume)


def gross_standard_volume(
    gov: Decimal | float | int,
    ctpl: Decimal | float,
    rounding: VolumeRounding = BBL_ROUNDING,
) -> Decimal:
    """GSV = GOV × CTPL, CTPL at 5 decimals (pass ``Correction.ctpl_rounded``)."""
    factor = round_half_up(ctpl, rounding.correction_factor)
    if factor <= 0:
        raise MeasurementError(f"CTPL {factor} must be positive")
    return round_half_up(round_half_up(gov, rounding.volume) * factor, rounding.volume)


def net_standard_volume(
    gsv: Decimal | float | int,
    bsw_percent: Decimal | float | int,
    rounding: VolumeRounding = BBL_ROUNDING,
) -> Decimal:
    """NSV = GSV × CSW with CSW = 1 − BSW/100 (BSW = sediment and water, volume %)."""
    return round_half_up(
        round_half_up(gsv, rounding.volume) * _csw(bsw_percent, rounding), rounding.volume
    )


def _csw(bsw_percent: Decimal | float | int, rounding: VolumeRounding) -> Decimal:
    bsw = _decimal(bsw_percent)
    if not Decimal(0) <= bsw < Decimal(100):
        raise OutOfRangeError(
            "BSW",
            float(bsw),
            0.0,
            100.0,
            scope="sediment and water",
            unit="%",
            detail="(it must be below 100 %)",
        )
    return round_half_up(1 - bsw / 100, rounding.correction_factor)


@dataclass(frozen=True)
class Volumes:
    """The API MPMS 12.2 volume sequence of one meter run or one day."""

    indicated_volume: Decimal
    meter_factor: Decimal
    gross_observed_volume: Decimal
    ctpl: Decimal
    gross_standard_volume: Decimal
    bsw_percent: Decimal
    csw: Decimal
    net_standard_volume: Decimal


def liquid_volumes(
    *,
    indicated_volume: Decimal | float | int,
    meter_factor: Decimal | float | int,
    ctpl: Decimal | float,
    bsw_percent: Decimal | float | int,
    rounding: VolumeRounding = BBL_ROUNDING,
) -> Volumes:
    """IV → GOV → GSV → NSV in the order of API MPMS 12.2, each step rounded half up.

    ``ctpl`` is the combined correction at the meter's temperature and pressure, normally
    ``base_to_alternate(...).ctpl_rounded``.
    """
    gov = gross_observed_volume(indicated_volume, meter_factor, rounding)
    gsv = gross_standard_volume(gov, ctpl, rounding)
    nsv = net_standard_volume(gsv, bsw_percent, rounding)
    return Volumes(
        indicated_volume=round_half_up(indicated_volume, rounding.volume),
        meter_factor=round_half_up(meter_factor, rounding.meter_factor),
        gross_observed_volume=gov,
        ctpl=round_half_up(ctpl, rounding.correction_factor),
        gross_standard_volume=gsv,
        bsw_percent=_decimal(bsw_percent),
        csw=_csw(bsw_percent, rounding),
        net_standard_volume=nsv,
    )
