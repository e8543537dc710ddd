"""Flow-weighted averages of a property (temperature, pressure, BSW, API gravity) over a day.

Both the property (temperature, pressure, BSW, API gravity) and the rate are taken as piecewise
linear between their usable samples, on the union of both sets of timestamps and the window
edges. On each sub-interval where both are covered the average is weighted by the volume that
flowed, ``∫ q·p dt / ∫ q dt``; the product of two linear functions is integrated exactly
(Simpson's rule). Negative rate samples weigh as zero. With no flow (or no rate data) over the
property's covered time, the result is the time-weighted average of the property; with no
covered time at all, the mean of the usable samples inside the window; with none, ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .inputs import (
    GOOD,
    SECONDS_PER_DAY,
    US_PER_S,
    BoolArray,
    FloatArray,
    Int64Array,
    check_positive,
    check_times,
    check_values,
    check_window,
    severity,
    tolerance_us,
)


@dataclass(frozen=True, slots=True)
class PropertyAverage:
    """Average of a property (temperature, pressure, BSW, API gravity) over one contract day."""

    value: float
    basis: Literal["flow", "time", "samples"]
    """``flow``: flow-weighted; ``time``: time-weighted (no flow); ``samples``: plain mean of
    the usable samples in the window (no covered time)."""
    weight_volume: float
    """Volume that weighted the average (``flow`` basis), else 0; in the rate's volume unit."""
    covered_s: float
    """Time over which the average was taken (0 for the ``samples`` basis)."""
    samples_good: int
    """Usable property samples inside the window."""


def flow_weighted_average(
    values_t: ArrayLike,
    values: ArrayLike,
    rate_t: ArrayLike,
    rate: ArrayLike,
    *,
    values_quality: ArrayLike | None = None,
    rate_quality: ArrayLike | None = None,
    day_start_us: int,
    day_end_us: int,
    gap_tolerance_s: float,
    values_gap_tolerance_s: float | None = None,
    rate_time_base_s: float = SECONDS_PER_DAY,
) -> PropertyAverage | None:
    """Flow-weighted average of a property over the contract day; ``None`` without data.

    ``gap_tolerance_s`` applies to the rate and, unless ``values_gap_tolerance_s`` is given, to
    the property too (a lab BSW sampled every few hours needs a longer one). The method and its
    fallbacks are described in the module docstring.
    """
    start, end = check_window(day_start_us, day_end_us)
    rate_tol_us = tolerance_us(gap_tolerance_s)
    if values_gap_tolerance_s is None:
        values_tol_us = rate_tol_us
    else:
        values_tol_us = tolerance_us(values_gap_tolerance_s, "values_gap_tolerance_s")
    check_positive("rate_time_base_s", rate_time_base_s)
    tp_all = check_times("values_t", values_t)
    p_all = check_values("values", values, "values_t", tp_all.size)
    p_severity = severity("values_quality", values_quality, "values_t", tp_all.size)
    tq_all = check_times("rate_t", rate_t)
    q_all = check_values("rate", rate, "rate_t", tq_all.size)
    q_severity = severity("rate_quality", rate_quality, "rate_t", tq_all.size)

    p_usable = (p_severity == GOOD) & np.isfinite(p_all)
    tp, p = tp_all[p_usable], p_all[p_usable]
    q_usable = (q_severity == GOOD) & np.isfinite(q_all)
    tq, q = tq_all[q_usable], np.maximum(q_all[q_usable], 0.0)

    inside = (tp >= start) & (tp < end)
    samples_good = int(np.count_nonzero(inside))
    if tp.size == 0:
        return None

    # Sub-intervals of the window on the union of both sets of timestamps: on each one both
    # series are linear (or uncovered), so the integrals below are exact.
    times = np.concatenate((tp, tq))
    times = times[(times > start) & (times < end)]
    grid = np.unique(np.concatenate((np.array([start, end], dtype=np.int64), times)))
    x0, x1 = grid[:-1], grid[1:]
    h = (x1 - x0) / US_PER_S
    p_ok, p0, p1 = _piecewise_linear(tp, p, values_tol_us, x0, x1, start)
    q_ok, q0, q1 = _piecewise_linear(tq, q, rate_tol_us, x0, x1, start)

    both = p_ok & q_ok
    flow = math.fsum((h * (q0 + q1) / 2.0)[both].tolist())
    if flow > 0.0:
        flow_property = h / 6.0 * (2 * q0 * p0 + q0 * p1 + q1 * p0 + 2 * q1 * p1)
        return PropertyAverage(
            value=math.fsum(flow_property[both].tolist()) / flow,
            basis="flow",
            weight_volume=flow / rate_time_base_s,
            covered_s=math.fsum(h[both].tolist()),
            samples_good=samples_good,
        )
    covered = math.fsum(h[p_ok].tolist())
    if covered > 0.0:
        return PropertyAverage(
            value=math.fsum((h * (p0 + p1) / 2.0)[p_ok].tolist()) / covered,
            basis="time",
            weight_volume=0.0,
            covered_s=covered,
            samples_good=samples_good,
        )
    if samples_good:
        return PropertyAverage(
            value=math.fsum(p[inside].tolist()) / samples_good,
            basis="samples",
            weight_volume=0.0,
            covered_s=0.0,
            samples_good=samples_good,
        )
    return None


def _piecewise_linear(
    t: Int64Array, v: FloatArray, tol_us: int, x0: Int64Array, x1: Int64Array, origin: int
) -> tuple[BoolArray, FloatArray, FloatArray]:
    """Values at both ends of each sub-interval ``[x0, x1]`` and whether it is covered.

    Every sample time inside the window is a grid point, so each sub-interval lies within one
    interval ``[t_k, t_(k+1)]`` of the series, with ``k`` the last sample at or before ``x0``.
    """
    if t.size < 2:
        nothing = np.zeros(x0.size, dtype=np.float64)
        return np.zeros(x0.size, dtype=np.bool_), nothing, nothing
    k = np.searchsorted(t, x0, side="right") - 1
    inside = (k >= 0) & (k < t.size - 1)
    k_safe = np.clip(k, 0, t.size - 2)
    ok = inside & ((t[k_safe + 1] - t[k_safe]) <= tol_us)
    ts = (t - origin) / US_PER_S
    v0 = np.interp((x0 - origin) / US_PER_S, ts, v)
    v1 = np.interp((x1 - origin) / US_PER_S, ts, v)
    return ok, v0, v1
