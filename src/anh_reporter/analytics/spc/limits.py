"""Control limits frozen from a baseline, and process capability against specification limits.

Pure functions over numpy arrays; see the package docstring for sigma and the zones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

D2_MOVING_RANGE: Final = 1.128
"""d2 for moving ranges of two points: sigma = mean moving range / d2."""

DEFAULT_MIN_BASELINE: Final = 20
"""Finite points a baseline needs by default (the usual 20-25 points for an individuals chart)."""

SigmaMethod = Literal["moving_range", "std"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ControlLimits:
    """Frozen centre line and sigma, with the +/-1, 2 and 3 sigma lines derived from them."""

    center: float
    sigma: float
    sigma_method: str = "given"
    baseline_points: int = 0
    upper_1sigma: float = field(init=False)
    upper_2sigma: float = field(init=False)
    upper_3sigma: float = field(init=False)
    lower_1sigma: float = field(init=False)
    lower_2sigma: float = field(init=False)
    lower_3sigma: float = field(init=False)

    def __post_init__(self) -> None:
        center, sigma = float(self.center), float(self.sigma)
        if not math.isfinite(center):
            raise ValueError(f"center must be a finite number, got {center}")
        if not (math.isfinite(sigma) and sigma > 0.0):
            raise ValueError(f"sigma must be a finite number > 0, got {sigma}")
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "sigma", sigma)
        for k in (1, 2, 3):
            upper, lower = center + k * sigma, center - k * sigma
            if not (math.isfinite(upper) and math.isfinite(lower)):
                raise ValueError(
                    f"center +/- {k}*sigma must be finite, got {lower} .. {upper} "
                    f"(center={center}, sigma={sigma})"
                )
            object.__setattr__(self, f"upper_{k}sigma", upper)
            object.__setattr__(self, f"lower_{k}sigma", lower)

    @property
    def ucl(self) -> float:
        """Upper control limit, centre + 3 sigma."""
        return self.upper_3sigma

    @property
    def lcl(self) -> float:
        """Lower control limit, centre - 3 sigma."""
        return self.lower_3sigma

    def upper(self, sigmas: int) -> float:
        """The line ``sigmas`` (1, 2 or 3) sigma above the centre line."""
        return _pick(sigmas, self.upper_1sigma, self.upper_2sigma, self.upper_3sigma)

    def lower(self, sigmas: int) -> float:
        """The line ``sigmas`` (1, 2 or 3) sigma below the centre line."""
        return _pick(sigmas, self.lower_1sigma, self.lower_2sigma, self.lower_3sigma)


def _pick(sigmas: int, one: float, two: float, three: float) -> float:
    if sigmas == 1:
        return one
    if sigmas == 2:
        return two
    if sigmas == 3:
        return three
    raise ValueError(f"sigmas must be 1, 2 or 3, got {sigmas}")


@dataclass(frozen=True, slots=True)
class Capability:
    """Process capability against specification limits; one-sided when a limit is absent.

    ``cp`` needs both limits and is None otherwise; ``cpu``/``cpl`` are None when their limit
    is absent; ``cpk`` is the smaller of the ones present.
    """

    cp: float | None
    cpk: float
    cpu: float | None
    cpl: float | None


def as_series(values: npt.ArrayLike, *, name: str) -> FloatArray:
    """``values`` as a one-dimensional float64 array; ValueError naming ``name`` otherwise."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def control_limits(
    baseline: npt.ArrayLike,
    *,
    sigma_method: SigmaMethod = "moving_range",
    min_points: int = DEFAULT_MIN_BASELINE,
) -> ControlLimits:
    """Freeze limits from a baseline: centre = mean of its finite points, sigma per method.

    Non-finite baseline points are ignored; moving ranges are taken only between consecutive
    finite points. Raises ValueError when the baseline has fewer than ``min_points`` finite
    points, no moving range, or zero spread.
    """
    if min_points < 2:
        raise ValueError(f"min_points must be >= 2 (a sigma needs two points), got {min_points}")
    if sigma_method not in ("moving_range", "std"):
        raise ValueError(f"sigma_method must be 'moving_range' or 'std', got {sigma_method!r}")
    values = as_series(baseline, name="baseline")
    if values.size == 0:
        raise ValueError(
            f"baseline is empty (0 points); at least min_points={min_points} finite points "
            "are needed"
        )
    finite = np.isfinite(values)
    n_finite = int(np.count_nonzero(finite))
    if n_finite < min_points:
        raise ValueError(
            f"baseline has {n_finite} finite points (of {values.size}); at least "
            f"min_points={min_points} are needed"
        )
    kept = values[finite]
    center = float(kept.mean())
    if sigma_method == "moving_range":
        ranges = np.abs(np.diff(np.where(finite, values, np.nan)))
        ranges = ranges[np.isfinite(ranges)]
        if ranges.size == 0:
            raise ValueError(
                "baseline has 0 moving ranges (no two consecutive finite points); at least 1 "
                "is needed for sigma_method='moving_range'"
            )
        sigma = float(ranges.mean()) / D2_MOVING_RANGE
    else:
        sigma = float(kept.std(ddof=1))
    if not sigma > 0.0:
        raise ValueError(
            f"baseline sigma is {sigma} (sigma_method={sigma_method!r}, {n_finite} points): "
            "sigma must be > 0; a constant baseline gives no control limits"
        )
    return ControlLimits(center, sigma, sigma_method, n_finite)


def process_capability(
    *, center: float, sigma: float, lsl: float | None = None, usl: float | None = None
) -> Capability:
    """Cp, Cpk (and CPU, CPL) of a process with this centre and sigma against spec limits.

    Cp = (USL - LSL) / 6 sigma; CPU = (USL - centre) / 3 sigma; CPL = (centre - LSL) / 3 sigma;
    Cpk = min(CPU, CPL) over the limits present. Pass the short-term (moving range) sigma for
    Cp/Cpk; the overall standard deviation gives Pp/Ppk.
    """
    if not (math.isfinite(sigma) and sigma > 0.0):
        raise ValueError(
            f"sigma must be a finite number > 0 for Cp/Cpk, got {sigma} "
            "(a process with no variation has no defined capability)"
        )
    if not math.isfinite(center):
        raise ValueError(f"center must be a finite number, got {center}")
    if lsl is None and usl is None:
        raise ValueError("lsl and usl are both None; at least one specification limit is needed")
    for name, limit in (("lsl", lsl), ("usl", usl)):
        if limit is not None and not math.isfinite(limit):
            raise ValueError(f"{name} must be a finite number or None, got {limit}")
    if lsl is not None and usl is not None and not lsl < usl:
        raise ValueError(f"lsl must be below usl, got lsl={lsl} >= usl={usl}")
    cpu = None if usl is None else (usl - center) / (3.0 * sigma)
    cpl = None if lsl is None else (center - lsl) / (3.0 * sigma)
    cp = None if lsl is None or usl is None else (usl - lsl) / (6.0 * sigma)
    cpk = min(c for c in (cpu, cpl) if c is not None)
    return Capability(cp=cp, cpk=cpk, cpu=cpu, cpl=cpl)
