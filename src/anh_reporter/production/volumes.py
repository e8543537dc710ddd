"""One contract day of telemetry samples → a daily volume and its data-quality figures.

Pure numerics: numpy arrays in, frozen dataclasses out; no database, no I/O.

Inputs
------
* Times are ``int64`` microseconds since the Unix epoch, UTC, **strictly increasing** (the
  database returns rows ordered by time and unique on ``(series_id, time)``). Unsorted or
  duplicated times raise ``ValueError``; they are not re-sorted, because silently reordering
  rows would hide an upstream bug.
* Values are ``float64``. Quality is the OPC UA status code, unsigned 32-bit; signed 32-bit
  codes (the database ``int4`` form, Bad codes negative) are read as their bit pattern. A
  sample is *usable* iff its code is Good (top two bits 00) **and** its value is finite.
  ``quality=None`` means every sample is Good.
* The contract day is the half-open window ``[day_start_us, day_end_us)``, taken as given
  (not assumed to be 24 h).
* **Neighbours**: the caller should pass, in the same arrays, the last sample before the window
  and the first sample at or after its end (the query is ``time >= start`` minus one row,
  ``time < end`` plus one row). They are used only to interpolate the value at the window
  edges; they are not counted as received samples. Without them the edge stretches count as
  gaps.

Coverage and gaps (shared by every figure)
------------------------------------------
Consider consecutive usable samples ``t_i < t_(i+1)``. The interval between them is *covered*
iff ``t_(i+1) - t_i <= gap_tolerance_s``. Covered intervals are interpolated linearly; an
interval longer than the tolerance is a *gap*. The window is partitioned into the parts of
each interval that fall inside it, plus the stretch before the first usable sample and after
the last one (always gaps). So::

    covered_s + gap_s == window_s

A gap is one such stretch, clipped to the window: an isolated usable sample between two gaps
splits them. ``longest_gap_s`` is the longest of them (0 when there is none).

Because the interval that straddles a window edge is split at the edge with the same linear
interpolation on both days, consecutive days add up exactly (up to float rounding) to the figure
for both days together.

Rate integration (``integrate_rate``)
-------------------------------------
Trapezoid rule on the actual timestamps over the covered parts of the window, divided by the
rate's time base (86,400 s for per-day rates such as bbl/d), so the result is in the rate's
volume unit. A gap contributes nothing: the volume is *not* extrapolated; ``time_completeness_pct``
tells how much of the day it covers. ``avg(rate) × 24`` is never used.

Totalizer difference (``totalizer_volume``)
-------------------------------------------
The volume is the sum of the increments between consecutive usable readings, where the
increment ``d = r_(i+1) - r_i`` is read as:

* ``d >= -max_backstep``: an ordinary increment (a small backward step, e.g. a re-read, is kept
  as a negative increment so that it cancels out);
* a drop with ``(1 - rollover_margin) × R <= -d <= R`` (``R`` = ``rollover_value``): a
  **rollover**, increment ``d + R``;
* any other drop: a **meter reset**, increment ``r_(i+1)`` (the post-reset reading is taken as
  counting from 0). The volume between the last reading before the reset and the reset itself
  is lost; if the meter restarts from a value other than 0 the increment is overstated. Resets
  are flagged and cost quality points.

An interval fully inside the window counts whole, even when it is longer than the tolerance (the
counter kept counting), but it is still reported as a gap: a reset or a second rollover within
it cannot be seen. An interval that straddles an edge counts in proportion to the part inside
the window (linear interpolation of the reading at the edge) when it is covered, and not at all
otherwise. A rollover or reset is flagged on the day(s) to whose volume its interval
contributes.

Quality score (0–100)
---------------------
With ``C`` = covered time / window time, ``G`` = good samples / received samples (0 when none
were received), ``F = max(0, 1 - longest_gap_s / longest_gap_limit_s)`` and the defaults of
``QualityScoring``::

    score = clip(60·C + 20·G + 20·F − 2·rollovers − 20·resets, 0, 100)

``QualityScore`` returns every term (fractions, points, penalties) and ``explain()`` writes it
out in one line. Sample completeness (received / expected) is reported but not scored:
report-by-exception devices (deadband) legitimately send fewer samples than the nominal period,
and lost samples already show up as lost coverage.

Flow-weighted averages (``flow_weighted_average``)
--------------------------------------------------
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
from numpy.typing import ArrayLike, NDArray

from anh_reporter.domain.quality import SEVERITY_MASK

__all__ = [
    "DEFAULT_SCORING",
    "SECONDS_PER_DAY",
    "DayQuality",
    "Gap",
    "PropertyAverage",
    "QualityScore",
    "QualityScoring",
    "RateVolume",
    "TotalizerEvent",
    "TotalizerVolume",
    "flow_weighted_average",
    "integrate_rate",
    "totalizer_volume",
]

SECONDS_PER_DAY = 86_400.0
_US_PER_S = 1_000_000
_GOOD, _UNCERTAIN, _BAD = 0, 1, 2

Int64Array = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def _check_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def _check_non_negative(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch ``[start_us, end_us)`` of the window with no usable, interpolable data."""

    start_us: int
    end_us: int

    @property
    def duration_s(self) -> float:
        """Length of the gap in seconds."""
        return (self.end_us - self.start_us) / _US_PER_S


@dataclass(frozen=True, slots=True)
class QualityScoring:
    """Weights of the quality score; the three weights must add up to 100 points."""

    coverage_weight: float = 60.0
    good_ratio_weight: float = 20.0
    gap_weight: float = 20.0
    longest_gap_limit_s: float = 4 * 3600.0
    """A longest gap this long or longer earns no gap points."""
    rollover_penalty: float = 2.0
    reset_penalty: float = 20.0

    def __post_init__(self) -> None:
        for name in (
            "coverage_weight",
            "good_ratio_weight",
            "gap_weight",
            "rollover_penalty",
            "reset_penalty",
        ):
            _check_non_negative(name, getattr(self, name))
        _check_positive("longest_gap_limit_s", self.longest_gap_limit_s)
        total = self.coverage_weight + self.good_ratio_weight + self.gap_weight
        if not math.isclose(total, 100.0, rel_tol=0.0, abs_tol=1e-9):
            raise ValueError(
                "coverage_weight + good_ratio_weight + gap_weight must be 100 points, "
                f"got {total!r}"
            )


DEFAULT_SCORING = QualityScoring()


@dataclass(frozen=True, slots=True)
class QualityScore:
    """The quality score and every term that makes it up, so a report can explain it."""

    coverage: float
    """Covered time / window time, 0..1."""
    good_ratio: float
    """Good samples / received samples, 0..1 (0 when nothing was received)."""
    gap_factor: float
    """``max(0, 1 - longest_gap_s / longest_gap_limit_s)``, 0..1."""
    coverage_points: float
    good_ratio_points: float
    gap_points: float
    rollover_penalty: float
    reset_penalty: float
    score: float
    """``clip(sum of points - penalties, 0, 100)``."""

    def explain(self) -> str:
        """One line a report can print, e.g. ``score 77.5 = 52.5 coverage (87.5 %) + ...``."""
        return (
            f"score {self.score:.1f} = {self.coverage_points:.1f} coverage "
            f"({100 * self.coverage:.1f} % of the day) + {self.good_ratio_points:.1f} good "
            f"samples ({100 * self.good_ratio:.1f} %) + {self.gap_points:.1f} longest gap "
            f"(factor {self.gap_factor:.3f}) - {self.rollover_penalty:.1f} rollovers "
            f"- {self.reset_penalty:.1f} resets"
        )


@dataclass(frozen=True, slots=True)
class DayQuality:
    """Data-quality figures of one series over one contract day."""

    window_start_us: int
    window_end_us: int
    window_s: float
    sampling_period_s: float
    gap_tolerance_s: float
    samples_expected: int
    """``ceil(window_s / sampling_period_s)``: the grid points in the half-open window."""
    samples_received: int
    """Samples with ``window_start_us <= time < window_end_us``, any quality."""
    samples_good: int
    """Received samples that were used: Good status and a finite value."""
    samples_uncertain: int
    """Received samples with an Uncertain status (not used)."""
    samples_bad: int
    """Received samples with a Bad status, or Good status but a NaN/inf value (not used)."""
    covered_s: float
    gap_s: float
    longest_gap_s: float
    gaps: tuple[Gap, ...]
    time_completeness_pct: float
    """``100 × covered_s / window_s``."""
    sample_completeness_pct: float
    """``100 × min(samples_received, samples_expected) / samples_expected``."""
    rollovers: int
    resets: int
    score: QualityScore


@dataclass(frozen=True, slots=True)
class RateVolume:
    """Volume integrated from a flow rate over the covered part of one contract day."""

    volume: float
    """In the rate's volume unit (bbl for bbl/d); gaps contribute nothing."""
    quality: DayQuality


@dataclass(frozen=True, slots=True)
class TotalizerEvent:
    """A rollover or meter reset seen between two consecutive usable readings."""

    kind: Literal["rollover", "reset"]
    before_us: int
    after_us: int
    before_value: float
    after_value: float
    increment: float
    """Increment counted for the whole interval (before clipping to the window)."""


@dataclass(frozen=True, slots=True)
class TotalizerVolume:
    """Volume from the difference of a cumulative totalizer over one contract day."""

    volume: float
    """In the totalizer's unit."""
    events: tuple[TotalizerEvent, ...]
    quality: DayQuality


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


# ---------------------------------------------------------------------------------------------
# Public functions


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
    scoring: QualityScoring = DEFAULT_SCORING,
) -> RateVolume:
    """Integrate a flow rate over the contract day (trapezoid on the actual timestamps).

    ``rate_time_base_s`` is the rate's time unit in seconds: 86,400 for per-day rates (bbl/d,
    kscf/d), 3,600 for per-hour rates. Pass the neighbour samples just outside the window (see
    the module docstring) so that the edges are interpolated and consecutive days add up.
    """
    start, end = _check_window(day_start_us, day_end_us)
    tol_us = _tolerance_us(gap_tolerance_s)
    _check_positive("sampling_period_s", sampling_period_s)
    _check_positive("rate_time_base_s", rate_time_base_s)
    t_all = _check_times("times_us", times_us)
    v_all = _check_values("rates", rates, "times_us", t_all.size)
    severity = _severity("quality", quality, "times_us", t_all.size)

    usable = (severity == _GOOD) & np.isfinite(v_all)
    t, v = t_all[usable], v_all[usable]
    seg = _segments(t, start, end, tol_us)

    volume = 0.0
    take = seg.overlap & seg.covered
    if np.any(take):
        a, b, lo, hi = seg.a[take], seg.b[take], seg.lo[take], seg.hi[take]
        va, vb = v[:-1][take], v[1:][take]
        span = (b - a).astype(np.float64)
        v_lo = np.where(lo == a, va, va + (vb - va) * ((lo - a) / span))
        v_hi = np.where(hi == b, vb, va + (vb - va) * ((hi - a) / span))
        areas = ((hi - lo) / _US_PER_S) * (v_lo + v_hi) / 2.0
        volume = math.fsum(areas.tolist()) / rate_time_base_s

    quality_figures = _day_quality(
        t_all=t_all,
        severity=severity,
        finite=np.isfinite(v_all),
        seg=seg,
        start=start,
        end=end,
        sampling_period_s=sampling_period_s,
        gap_tolerance_s=gap_tolerance_s,
        rollovers=0,
        resets=0,
        scoring=scoring,
    )
    return RateVolume(volume=volume, quality=quality_figures)


def totalizer_volume(
    times_us: ArrayLike,
    readings: ArrayLike,
    quality: ArrayLike | None = None,
    *,
    day_start_us: int,
    day_end_us: int,
    gap_tolerance_s: float,
    sampling_period_s: float,
    rollover_value: float | None,
    rollover_margin: float = 0.1,
    max_backstep: float = 0.0,
    scoring: QualityScoring = DEFAULT_SCORING,
) -> TotalizerVolume:
    """Difference of a cumulative totalizer over the contract day, rollover and reset aware.

    ``rollover_value`` is the value at which the counter wraps to 0 (e.g. ``1e7`` or
    ``2**32``), or ``None`` when it never wraps (then every drop is a reset). A drop of at least
    ``(1 - rollover_margin) × rollover_value`` is a rollover; a drop no larger than
    ``max_backstep`` is meter noise kept as a negative increment; any other drop is a reset.
    Readings at the window edges are interpolated between the neighbours when the interval
    is within ``gap_tolerance_s`` (see the module docstring).
    """
    start, end = _check_window(day_start_us, day_end_us)
    tol_us = _tolerance_us(gap_tolerance_s)
    _check_positive("sampling_period_s", sampling_period_s)
    if rollover_value is not None:
        _check_positive("rollover_value", rollover_value)
    if not (math.isfinite(rollover_margin) and 0.0 <= rollover_margin < 1.0):
        raise ValueError(f"rollover_margin must be in [0, 1), got {rollover_margin!r}")
    _check_non_negative("max_backstep", max_backstep)
    t_all = _check_times("times_us", times_us)
    r_all = _check_values("readings", readings, "times_us", t_all.size)
    severity = _severity("quality", quality, "times_us", t_all.size)

    usable = (severity == _GOOD) & np.isfinite(r_all)
    t, r = t_all[usable], r_all[usable]
    seg = _segments(t, start, end, tol_us)

    volume = 0.0
    events: list[TotalizerEvent] = []
    if t.size >= 2:
        step = np.diff(r)
        ordinary = step >= -max_backstep
        if rollover_value is not None:
            drop = -step
            rolled = (
                ~ordinary
                & (drop >= (1.0 - rollover_margin) * rollover_value)
                & (drop <= rollover_value)
            )
            rolled_increment = step + rollover_value
        else:
            rolled = np.zeros_like(ordinary)
            rolled_increment = step
        reset = ~ordinary & ~rolled
        increment = np.where(ordinary, step, np.where(rolled, rolled_increment, r[1:]))

        whole = (seg.lo == seg.a) & (seg.hi == seg.b)
        counted = seg.overlap & (whole | seg.covered)
        span = (seg.b - seg.a).astype(np.float64)
        fraction = np.where(whole, 1.0, (seg.hi - seg.lo) / span)
        volume = math.fsum((increment * fraction)[counted].tolist())

        for i in np.flatnonzero(counted & (rolled | reset)).tolist():
            events.append(
                TotalizerEvent(
                    kind="rollover" if rolled[i] else "reset",
                    before_us=int(t[i]),
                    after_us=int(t[i + 1]),
                    before_value=float(r[i]),
                    after_value=float(r[i + 1]),
                    increment=float(increment[i]),
                )
            )

    rollovers = sum(1 for e in events if e.kind == "rollover")
    resets = len(events) - rollovers
    quality_figures = _day_quality(
        t_all=t_all,
        severity=severity,
        finite=np.isfinite(r_all),
        seg=seg,
        start=start,
        end=end,
        sampling_period_s=sampling_period_s,
        gap_tolerance_s=gap_tolerance_s,
        rollovers=rollovers,
        resets=resets,
        scoring=scoring,
    )
    return TotalizerVolume(volume=volume, events=tuple(events), quality=quality_figures)


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
    start, end = _check_window(day_start_us, day_end_us)
    rate_tol_us = _tolerance_us(gap_tolerance_s)
    if values_gap_tolerance_s is None:
        values_tol_us = rate_tol_us
    else:
        values_tol_us = _tolerance_us(values_gap_tolerance_s, "values_gap_tolerance_s")
    _check_positive("rate_time_base_s", rate_time_base_s)
    tp_all = _check_times("values_t", values_t)
    p_all = _check_values("values", values, "values_t", tp_all.size)
    p_severity = _severity("values_quality", values_quality, "values_t", tp_all.size)
    tq_all = _check_times("rate_t", rate_t)
    q_all = _check_values("rate", rate, "rate_t", tq_all.size)
    q_severity = _severity("rate_quality", rate_quality, "rate_t", tq_all.size)

    p_usable = (p_severity == _GOOD) & np.isfinite(p_all)
    tp, p = tp_all[p_usable], p_all[p_usable]
    q_usable = (q_severity == _GOOD) & np.isfinite(q_all)
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
    h = (x1 - x0) / _US_PER_S
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


# ---------------------------------------------------------------------------------------------
# Coverage, gaps and quality


@dataclass(frozen=True, slots=True)
class _Segments:
    """Intervals between consecutive usable samples, clipped to the window."""

    a: Int64Array
    b: Int64Array
    lo: Int64Array
    hi: Int64Array
    overlap: BoolArray
    """The clipped interval has a positive length."""
    covered: BoolArray
    """The interval is within the gap tolerance."""
    gaps: tuple[Gap, ...]
    covered_us: int


def _segments(t: Int64Array, start: int, end: int, tol_us: int) -> _Segments:
    a, b = t[:-1], t[1:]
    lo, hi = np.maximum(a, start), np.minimum(b, end)
    overlap = hi > lo
    covered = (b - a) <= tol_us
    covered_us = int(np.sum((hi - lo)[overlap & covered]))

    gaps: list[Gap] = []
    if t.size == 0:
        gaps.append(Gap(start, end))
    else:
        first, last = int(t[0]), int(t[-1])
        if first > start:
            gaps.append(Gap(start, min(first, end)))
        gap_index = np.flatnonzero(overlap & ~covered)
        gaps.extend(Gap(int(lo[i]), int(hi[i])) for i in gap_index.tolist())
        if last < end:
            gaps.append(Gap(max(last, start), end))
    return _Segments(a, b, lo, hi, overlap, covered, tuple(gaps), covered_us)


def _day_quality(
    *,
    t_all: Int64Array,
    severity: NDArray[np.int8],
    finite: BoolArray,
    seg: _Segments,
    start: int,
    end: int,
    sampling_period_s: float,
    gap_tolerance_s: float,
    rollovers: int,
    resets: int,
    scoring: QualityScoring,
) -> DayQuality:
    window_us = end - start
    period_us = max(1, round(sampling_period_s * _US_PER_S))
    expected = -(-window_us // period_us)

    inside = (t_all >= start) & (t_all < end)
    received = int(np.count_nonzero(inside))
    good = int(np.count_nonzero(inside & (severity == _GOOD) & finite))
    uncertain = int(np.count_nonzero(inside & (severity == _UNCERTAIN)))

    longest_gap_us = max((g.end_us - g.start_us for g in seg.gaps), default=0)
    coverage = seg.covered_us / window_us
    score = _score(
        coverage=coverage,
        good_ratio=good / received if received else 0.0,
        longest_gap_s=longest_gap_us / _US_PER_S,
        rollovers=rollovers,
        resets=resets,
        scoring=scoring,
    )
    return DayQuality(
        window_start_us=start,
        window_end_us=end,
        window_s=window_us / _US_PER_S,
        sampling_period_s=float(sampling_period_s),
        gap_tolerance_s=float(gap_tolerance_s),
        samples_expected=expected,
        samples_received=received,
        samples_good=good,
        samples_uncertain=uncertain,
        samples_bad=received - good - uncertain,
        covered_s=seg.covered_us / _US_PER_S,
        gap_s=(window_us - seg.covered_us) / _US_PER_S,
        longest_gap_s=longest_gap_us / _US_PER_S,
        gaps=seg.gaps,
        time_completeness_pct=100.0 * coverage,
        sample_completeness_pct=100.0 * min(received, expected) / expected,
        rollovers=rollovers,
        resets=resets,
        score=score,
    )


def _score(
    *,
    coverage: float,
    good_ratio: float,
    longest_gap_s: float,
    rollovers: int,
    resets: int,
    scoring: QualityScoring,
) -> QualityScore:
    gap_factor = max(0.0, 1.0 - longest_gap_s / scoring.longest_gap_limit_s)
    coverage_points = scoring.coverage_weight * coverage
    good_ratio_points = scoring.good_ratio_weight * good_ratio
    gap_points = scoring.gap_weight * gap_factor
    rollover_penalty = scoring.rollover_penalty * rollovers
    reset_penalty = scoring.reset_penalty * resets
    raw = coverage_points + good_ratio_points + gap_points - rollover_penalty - reset_penalty
    return QualityScore(
        coverage=coverage,
        good_ratio=good_ratio,
        gap_factor=gap_factor,
        coverage_points=coverage_points,
        good_ratio_points=good_ratio_points,
        gap_points=gap_points,
        rollover_penalty=rollover_penalty,
        reset_penalty=reset_penalty,
        score=min(100.0, max(0.0, raw)),
    )


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
    ts = (t - origin) / _US_PER_S
    v0 = np.interp((x0 - origin) / _US_PER_S, ts, v)
    v1 = np.interp((x1 - origin) / _US_PER_S, ts, v)
    return ok, v0, v1


# ---------------------------------------------------------------------------------------------
# Argument checks: each error names the argument, the value and the limit.


def _tolerance_us(value: float, name: str = "gap_tolerance_s") -> int:
    _check_non_negative(name, value)
    return round(value * _US_PER_S)


def _check_window(day_start_us: int, day_end_us: int) -> tuple[int, int]:
    start, end = int(day_start_us), int(day_end_us)
    if end <= start:
        raise ValueError(
            f"day_end_us must be greater than day_start_us={start}, got {end} "
            "(the contract day is the half-open window [day_start_us, day_end_us))"
        )
    return start, end


def _check_times(name: str, times: ArrayLike) -> Int64Array:
    arr = np.asarray(times)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got {arr.ndim} dimensions")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(
            f"{name} must hold integer microseconds since the Unix epoch (int64), "
            f"got dtype {arr.dtype}"
        )
    t = arr.astype(np.int64)
    not_increasing = np.flatnonzero(np.diff(t) <= 0)
    if not_increasing.size:
        i = int(not_increasing[0]) + 1
        raise ValueError(
            f"{name} must be strictly increasing: {name}[{i}]={int(t[i])} is not greater than "
            f"{name}[{i - 1}]={int(t[i - 1])}; pass the rows ordered by time, without duplicates"
        )
    return t


def _check_values(name: str, values: ArrayLike, times_name: str, n: int) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got {arr.ndim} dimensions")
    if arr.size != n:
        raise ValueError(
            f"{name} has {arr.size} elements but {times_name} has {n}; they must match"
        )
    return arr


def _severity(name: str, quality: ArrayLike | None, times_name: str, n: int) -> NDArray[np.int8]:
    """0 Good, 1 Uncertain, 2 Bad, from OPC UA status codes (unsigned, or signed int4 form)."""
    if quality is None:
        return np.zeros(n, dtype=np.int8)
    arr = np.asarray(quality)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got {arr.ndim} dimensions")
    if arr.size != n:
        raise ValueError(
            f"{name} has {arr.size} elements but {times_name} has {n}; they must match"
        )
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer OPC UA status codes, got dtype {arr.dtype}")
    low, high = int(arr.min()), int(arr.max())
    if low < -(2**31) or high >= 2**32:
        bad = low if low < -(2**31) else high
        raise ValueError(
            f"{name} must hold 32-bit OPC UA status codes in [-2**31, 2**32), got {bad}"
        )
    codes: Int64Array = arr.astype(np.int64) & np.int64(0xFFFFFFFF)
    top: Int64Array = (codes & np.int64(SEVERITY_MASK)) >> np.int64(30)
    severity: NDArray[np.int8] = np.minimum(top, _BAD).astype(np.int8)
    return severity
