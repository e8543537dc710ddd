"""Daily volume from a flow rate: measured where the samples cover the day, estimated in gaps.

Cleaning
--------
Usable samples below 0 are taken as 0 (a meter does not un-flow; a negative rate is an offset
or a reverse-flow artefact) and samples in ``(0, low_flow_cutoff)`` as 0 (meter noise at no
flow). Both are counted in :class:`~anh_reporter.production.volumes.coverage.DayQuality`
(``negative_clipped``, ``low_flow_zeroed``) over the samples inside the window.

Measured part
-------------
The trapezoid rule on the actual timestamps over the covered intervals (consecutive usable
samples at most ``gap_tolerance_s`` apart), clipped to the window, divided by the rate's time
base (86,400 s for per-day rates such as bbl/d). An interval that straddles the window edge is
split at the edge on the straight line between its samples, so consecutive days add up (to
float rounding) to the integral over both. ``avg(rate) × 24`` is never used.

Estimated parts
---------------
* A gap between two usable samples: ``rate_interpolation``, the straight line between the gap's
  edge samples integrated over the part of the gap inside the day (the same trapezoid, but it is
  an estimate); or, with ``gap_method="last_good_rate"``, the rate at the gap's start held
  constant. A gap across the contract hour is split at the hour on that line: both days get their
  share and an estimated part.
* A stretch with no sample after it (the end of the data): ``last_good_rate``, the last usable
  rate × time. A stretch with no sample before it: the first usable rate × time (same method).
* No usable sample at all: nothing to estimate from; the day is listed as ``unestimated``.

Manual windows replace the telemetry figure over their window (see
:mod:`~anh_reporter.production.volumes.parts`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .coverage import (
    DEFAULT_SCORING,
    DayQuality,
    Gap,
    QualityScoring,
    SampleCounts,
    coverage,
    day_quality,
)
from .inputs import (
    SECONDS_PER_DAY,
    US_PER_S,
    FloatArray,
    Int64Array,
    check_positive,
    check_window,
    checked_series,
    tolerance_us,
)
from .parts import (
    DayVolume,
    EstimatedPart,
    ManualWindow,
    PieceVolume,
    assemble,
    check_manual_windows,
    decimal_of,
    iso,
    pieces,
)
from .rate_curve import clean_rate

RateGapMethod = Literal["rate_interpolation", "last_good_rate"]


@dataclass(frozen=True, slots=True)
class RateVolume:
    """A rate-integrated day: its volume (measured + estimated) and the data quality."""

    volume: DayVolume
    quality: DayQuality


def integrate_rate(
    times_us: ArrayLike,
    rates: ArrayLike,
    quality: ArrayLike | None = None,
    *,
    day_start_us: int,
    day_end_us: int,
    gap_tolerance_s: float,
    sampling_period_s: float,
    rate_time_base_s: float = SECONDS_PER_DAY,
    low_flow_cutoff: float = 0.0,
    gap_method: RateGapMethod = "rate_interpolation",
    manual_windows: Sequence[ManualWindow] = (),
    scoring: QualityScoring = DEFAULT_SCORING,
) -> RateVolume:
    """The day's volume from a flow rate, measured plus estimated (see the module docstring).

    Pass the last sample before the window and the first at or after its end with the window's
    samples: they let the edges be interpolated rather than estimated. ``rate_time_base_s`` is
    the rate's time unit in seconds (86,400 for bbl/d, 3,600 for bbl/h); ``low_flow_cutoff`` is
    in the rate's unit.
    """
    start, end = check_window(day_start_us, day_end_us)
    tol_us = tolerance_us(gap_tolerance_s)
    check_positive("sampling_period_s", sampling_period_s)
    check_positive("rate_time_base_s", rate_time_base_s)
    if gap_method not in ("rate_interpolation", "last_good_rate"):
        raise ValueError(
            f"gap_method must be 'rate_interpolation' or 'last_good_rate', got {gap_method!r}"
        )
    windows = check_manual_windows(manual_windows, start, end)
    t_all, v_all, severity, usable = checked_series(
        times_us, rates, quality, names=("times_us", "rates", "quality")
    )
    clean = clean_rate(t_all[usable], v_all[usable], low_flow_cutoff)
    t, v = clean.t, clean.q
    inside = (t >= start) & (t < end)

    results = [
        (p, _piece(t, v, tol_us, p.start_us, p.end_us, rate_time_base_s, gap_method))
        for p in pieces(start, end, windows)
    ]
    volume = assemble(results)
    counts = SampleCounts(
        negative_clipped=int(np.count_nonzero(clean.negative & inside)),
        low_flow_zeroed=int(np.count_nonzero(clean.low_flow & inside)),
    )
    quality_figures = day_quality(
        t_all=t_all,
        severity=severity,
        finite=np.isfinite(v_all),
        cov=coverage(t, start, end, tol_us),
        start=start,
        end=end,
        sampling_period_s=sampling_period_s,
        gap_tolerance_s=gap_tolerance_s,
        measured_share=volume.measured_share_pct / 100.0,
        counts=counts,
        scoring=scoring,
    )
    return RateVolume(volume=volume, quality=quality_figures)


def _piece(
    t: Int64Array,
    v: FloatArray,
    tol_us: int,
    lo: int,
    hi: int,
    base_s: float,
    method: RateGapMethod,
) -> PieceVolume:
    """Measured and estimated volume of the rate over ``[lo, hi)``."""
    out = PieceVolume()
    if t.size == 0:
        out.unestimated.append(Gap(lo, hi))
        return out
    a, b = t[:-1], t[1:]
    clo, chi = np.maximum(a, lo), np.minimum(b, hi)
    take = np.flatnonzero(chi > clo)
    a, b, clo, chi = a[take], b[take], clo[take], chi[take]
    va, vb = v[:-1][take], v[1:][take]
    span = (b - a).astype(np.float64)
    v_lo = np.where(clo == a, va, va + (vb - va) * ((clo - a) / span))
    v_hi = np.where(chi == b, vb, va + (vb - va) * ((chi - a) / span))
    seconds = (chi - clo) / US_PER_S
    areas = seconds * (v_lo + v_hi) / 2.0
    covered = (b - a) <= tol_us
    out.measured = decimal_of(math.fsum(areas[covered].tolist()) / base_s)

    for i in np.flatnonzero(~covered).tolist():
        window = f"{iso(int(a[i]))} → {iso(int(b[i]))}"
        if method == "rate_interpolation":
            area = float(areas[i])
            detail = f"gap {window}: straight line from {va[i]:g} to {vb[i]:g}"
        else:
            area = float(va[i] * seconds[i])
            detail = f"gap {window}: last good rate {va[i]:g} held"
        out.estimates.append(
            EstimatedPart(int(clo[i]), int(chi[i]), method, decimal_of(area / base_s), detail)
        )

    first, last = int(t[0]), int(t[-1])
    if first > lo:
        stop = min(first, hi)
        out.estimates.append(
            EstimatedPart(
                lo,
                stop,
                "last_good_rate",
                decimal_of(float(v[0]) * (stop - lo) / US_PER_S / base_s),
                f"no sample before {iso(first)}: the first good rate {v[0]:g} held",
            )
        )
    if last < hi:
        begin = max(last, lo)
        out.estimates.append(
            EstimatedPart(
                begin,
                hi,
                "last_good_rate",
                decimal_of(float(v[-1]) * (hi - begin) / US_PER_S / base_s),
                f"no sample after {iso(last)}: the last good rate {v[-1]:g} held",
            )
        )
    return out
