"""A flow rate as a curve a totalizer can lean on: straight lines between its usable samples.

The totalizer uses it to split a counter increment across a long gap in proportion to the flow,
to estimate the volume lost around a meter reset, and to fill stretches with no readings. The
rate is taken as piecewise linear between its usable samples **whatever their spacing** (across
the rate's own gaps too) and constant beyond its first and last sample. Negative samples count as
0 and samples below the low-flow cutoff as 0, as in
:func:`~anh_reporter.production.volumes.rate.integrate_rate`.

Determinism: :meth:`RateCurve.integral` over ``[a, x]`` uses only the samples from the last one
at or before ``a`` to the first one at or after ``x``, with times taken relative to ``a``. Two
calls (two contract days) given the same samples there get bit-identical floats, which is what
lets consecutive days split an increment the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .inputs import (
    SECONDS_PER_DAY,
    US_PER_S,
    FloatArray,
    Int64Array,
    check_non_negative,
    check_positive,
    checked_series,
)


@dataclass(frozen=True, eq=False)
class RateSamples:
    """A flow-rate series (e.g. bbl/d) given to a totalizer computation.

    Pass the samples over the same span as the totalizer's readings (window, neighbours and any
    history), so that every contract day sees the same rate around a shared interval.
    """

    times_us: ArrayLike
    values: ArrayLike
    quality: ArrayLike | None = None
    time_base_s: float = SECONDS_PER_DAY
    """The rate's time unit in seconds: 86,400 for per-day rates, 3,600 for per-hour rates."""
    low_flow_cutoff: float = 0.0
    """Samples below this (in the rate's unit) count as no flow."""


@dataclass(frozen=True, slots=True)
class CleanRate:
    """Usable rate samples with negatives and low flow set to 0, and how many were."""

    t: Int64Array
    q: FloatArray
    negative: np.ndarray
    """Mask over ``t``: the sample was below 0."""
    low_flow: np.ndarray
    """Mask over ``t``: the sample was in ``[0, cutoff)`` and above 0."""


def clean_rate(t: Int64Array, v: FloatArray, low_flow_cutoff: float) -> CleanRate:
    """Negative samples → 0; samples in ``(0, low_flow_cutoff)`` → 0 (both flagged)."""
    check_non_negative("low_flow_cutoff", low_flow_cutoff)
    negative = v < 0.0
    low_flow = (v > 0.0) & (v < low_flow_cutoff)
    q = np.where(negative | low_flow, 0.0, v)
    return CleanRate(t, q, negative, low_flow)


class RateCurve:
    """Integrals of a rate taken as straight lines between its usable samples (module doc)."""

    def __init__(self, samples: RateSamples) -> None:
        check_positive("rate time_base_s", samples.time_base_s)
        t, v, _, usable = checked_series(
            samples.times_us,
            samples.values,
            samples.quality,
            names=("rate times_us", "rate values", "rate quality"),
        )
        clean = clean_rate(t[usable], v[usable], samples.low_flow_cutoff)
        self.t = clean.t
        self.q = clean.q
        self.time_base_s = float(samples.time_base_s)

    @property
    def empty(self) -> bool:
        """No usable sample at all."""
        return self.t.size == 0

    def spans(self, a: int, b: int) -> bool:
        """There is a usable sample at or before ``a`` and one at or after ``b``."""
        return bool(self.t.size) and int(self.t[0]) <= a and int(self.t[-1]) >= b

    def integral(self, a: int, x: int) -> float:
        """Volume from ``a`` to ``x`` (µs, ``a <= x``), in the rate's volume unit."""
        if x <= a or self.t.size == 0:
            return 0.0
        n = self.t.size
        k0 = max(int(np.searchsorted(self.t, a, side="right")) - 1, 0)
        k1 = min(int(np.searchsorted(self.t, x, side="left")), n - 1)
        ts, qs = self.t[k0 : k1 + 1], self.q[k0 : k1 + 1]
        inner = ts[(ts > a) & (ts < x)]
        points = np.concatenate(([a], inner, [x])).astype(np.int64)
        rel = (points - a) / US_PER_S
        values = np.interp(rel, (ts - a) / US_PER_S, qs)
        areas = np.diff(rel) * (values[:-1] + values[1:]) / 2.0
        return math.fsum(areas.tolist()) / self.time_base_s
