"""API MPMS 11.1-2004: CTL, CPL and CTPL (11.1.6.1) and observed → base density (11.1.6.2).

* :func:`base_to_alternate` is procedure 11.1.6.1: from a base density (60 °F, 0 psig) to the
  correction factors and density at another temperature and pressure.
* :func:`observed_to_base` is procedure 11.1.6.2: from a density observed at some temperature
  and pressure (hydrometer, densitometer) to the base density, by the standard's iteration.

Both follow the standard's steps in order: ITS-90 → IPTS-68 temperature shift, the shifted
density ρ*, α60 from the commodity group's K0/K1/K2, CTL with the δ60 term, the scaled
compressibility factor Fp, CPL, and CTPL = CTL × CPL. Inputs are used as given (the standard's
own examples use unrounded inputs such as 48.04 °F and 124.63 psig); round readings to the
contract's discrimination before calling if the contract requires it (:mod:`.ticket` does). The
factors are computed unrounded; the ``*_rounded`` properties give them at the standard's
reporting increments (CTL, CPL, CTPL to 5 decimals, Fp to 3 decimals). CTPL is rounded once,
from the unrounded product, as 11.1-2004 prescribes (Addendum 1: "CTPL should be substituted for
CTL × CPL").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from anh_reporter.domain.mpms.errors import ConvergenceError, OutOfRangeError
from anh_reporter.domain.mpms.properties import (
    BASE_DENSITY_RANGE,
    BASE_TEMPERATURE_IPTS68_F,
    CPL_SCALE,
    DELTA_60,
    FP_A,
    FP_B,
    FP_C,
    FP_D,
    GROUPS,
    OBSERVED_DENSITY_RANGE,
    SCOPE_NAMES,
    Commodity,
    GroupConstants,
    ProductGroup,
    check_commodity_alpha,
    check_density,
    check_temperature,
    density_to_api,
    effective_pressure,
    its90_to_ipts68_f,
    pick_density,
    product_group,
)
from anh_reporter.domain.mpms.rounding import round_half_up

__all__ = ["BaseDensity", "Correction", "base_to_alternate", "observed_to_base"]

_FACTOR_QUANTUM = Decimal("0.00001")
_FP_QUANTUM = Decimal("0.001")

_CONVERGENCE_LIMIT = 1e-6
"""11.1.6.2 stops when the recomputed observed density is within this of the input, kg/m³."""

_MAX_ITERATIONS = 15
"""11.1.6.2 iteration limit."""

_TRANSITION_NOTE_WINDOW = 1.0
"""11.1.6.2 step 4 note: near a transition-zone limit a non-converged value is accepted, kg/m³."""


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


def _rho_star(rho60: float, constants: GroupConstants | None, alpha60: float | None) -> float:
    """Step 3: shift ρ60 to the IPTS-68 basis."""
    if constants is None:
        assert alpha60 is not None  # noqa: S101 - narrows for mypy: without group constants alpha60 is required (checked)
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
    effective_psi: float,
    alpha60_given: float | None,
) -> Correction:
    """Steps 2-9 of 11.1.6.1 for inputs already checked."""
    constants = None if group is None else GROUPS[group]
    t_star = its90_to_ipts68_f(temperature_f)  # step 2
    rho_star = _rho_star(rho60, constants, alpha60_given)  # step 3
    if constants is None:  # step 4
        assert alpha60_given is not None  # noqa: S101 - narrows for mypy: checked by _check_commodity_alpha
        alpha60 = alpha60_given
    else:
        alpha60 = (constants.k0 / rho_star + constants.k1) / rho_star + constants.k2
    delta_t = t_star - BASE_TEMPERATURE_IPTS68_F  # step 5
    ctl = math.exp(-alpha60 * delta_t * (1.0 + 0.8 * alpha60 * (delta_t + DELTA_60)))
    fp = math.exp(FP_A + FP_B * t_star + (FP_C + FP_D * t_star) / rho_star**2)  # step 6
    cpl = 1.0 / (1.0 - CPL_SCALE * fp * effective_psi)  # step 7
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
    check_commodity_alpha(commodity, alpha60)
    rho = pick_density(rho60, api60, density_name="rho60", api_name="api60")
    if commodity is not Commodity.SPECIAL_APPLICATION:
        check_density(commodity, rho, BASE_DENSITY_RANGE[commodity], what="base", api=api60)
    check_temperature(temperature_f)
    effective = effective_pressure(pressure_psig, equilibrium_pressure_psig)
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
    check_commodity_alpha(commodity, alpha60)
    rho_obs = pick_density(
        observed_density, observed_api, density_name="observed_density", api_name="observed_api"
    )
    check_temperature(temperature_f)
    effective = effective_pressure(pressure_psig, equilibrium_pressure_psig)
    at_base = temperature_f == 60.0 and pressure_psig == 0.0
    special = commodity is Commodity.SPECIAL_APPLICATION
    if not special:
        limits = BASE_DENSITY_RANGE[commodity] if at_base else OBSERVED_DENSITY_RANGE[commodity]
        check_density(commodity, rho_obs, limits, what="observed", api=observed_api)

    # Step 2: start from the observed density, held within the commodity's base limits.
    rho_low, rho_high = (0.0, math.inf) if special else BASE_DENSITY_RANGE[commodity]
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
            d_t = GROUPS[group].d_alpha * alpha * delta_t_obs * (1.0 + 1.6 * alpha * delta_t_obs)
        d_p = (
            -2.0
            * correction.cpl
            * effective
            * correction.fp
            * (FP_C + FP_D * temperature_f)
            * CPL_SCALE
            / rho60**2
        )
        estimate = rho60 + e / (1.0 + d_t + d_p)
        rho60 = min(max(estimate, rho_low), rho_high)

    assert correction is not None  # noqa: S101 - narrows for mypy: the loop runs at least once
    if not rho_low <= estimate <= rho_high:
        # The iteration was held at a limit: the liquid's base density lies beyond it.
        raise OutOfRangeError(
            "base density",
            round(estimate, 1),
            rho_low,
            rho_high,
            scope=SCOPE_NAMES[commodity],
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
    transition = GROUPS[ProductGroup.TRANSITION_ZONE]
    return (
        abs(rho60 - transition.rho_low) < _TRANSITION_NOTE_WINDOW
        or abs(rho60 - transition.rho_high) < _TRANSITION_NOTE_WINDOW
    )
