"""Flow-time coverage, gaps and the explained 0–100 quality score of one series over one day.

Coverage
--------
Consider consecutive usable samples ``t_i < t_(i+1)``. The interval between them is *covered*
iff ``t_(i+1) - t_i <= gap_tolerance_s``; an interval longer than the tolerance is a *gap*. The
window is partitioned into the parts of each interval that fall inside it, plus the stretch
before the first usable sample and after the last one (always gaps), so::

    covered_s + gap_s == window_s

A gap is one such stretch, clipped to the window. ``longest_gap_s`` is the longest (0 if none).
For a totalizer the covered share is its *flow-time coverage*: how much of the day the readings
watched the meter. It says nothing about the volume, which the counter measures across a gap.

Quality score (0–100)
---------------------
With ``M`` = measured share of the day's volume (measured / (measured + estimated), see
:class:`~anh_reporter.production.volumes.parts.DayVolume`), ``G`` = good samples / received
samples (0 when none were received), ``C`` = flow-time coverage (covered time / window time),
and the defaults of :class:`QualityScoring`::

    score = clip(60·M + 20·G + 20·C − 2·rollovers − 20·unconfirmed resets, 0, 100)

So a totalizer day with a long outage but an exact counter difference keeps its 60 volume points
and loses only coverage points; a rate day with the same outage loses both, because part of its
volume is an estimate. :class:`QualityScore` keeps every term and ``explain()`` writes them out.
Sample completeness (received / expected) is reported but not scored: report-by-exception
devices legitimately send fewer samples than the nominal period, and lost samples already show
as lost coverage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .inputs import (
    GOOD,
    UNCERTAIN,
    US_PER_S,
    BoolArray,
    Int64Array,
    SeverityArray,
    check_non_negative,
)


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch ``[start_us, end_us)`` of the window with no usable, interpolable data."""

    start_us: int
    end_us: int

    @property
    def duration_s(self) -> float:
        """Length of the gap in seconds."""
        return (self.end_us - self.start_us) / US_PER_S


@dataclass(frozen=True, slots=True)
class Coverage:
    """Intervals between consecutive usable samples, clipped to a window ``[start, end)``."""

    a: Int64Array
    """Start of each interval (``t_i``)."""
    b: Int64Array
    """End of each interval (``t_(i+1)``)."""
    lo: Int64Array
    """``max(a, start)``."""
    hi: Int64Array
    """``min(b, end)``."""
    overlap: BoolArray
    """The clipped interval has a positive length."""
    covered: BoolArray
    """The interval is within the gap tolerance."""
    gaps: tuple[Gap, ...]
    covered_us: int


def coverage(t: Int64Array, start: int, end: int, tol_us: int) -> Coverage:
    """The intervals of usable sample times ``t`` within ``[start, end)`` (see module doc)."""
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
    return Coverage(a, b, lo, hi, overlap, covered, tuple(gaps), covered_us)


@dataclass(frozen=True, slots=True)
class QualityScoring:
    """Weights of the quality score; the three weights must add up to 100 points."""

    coverage_weight: float = 60.0
    """Points for a fully measured volume (scaled by the measured share)."""
    good_ratio_weight: float = 20.0
    """Points for all received samples being usable (scaled by the good ratio)."""
    gap_weight: float = 20.0
    """Points for full flow-time coverage (scaled by the covered share of the day)."""
    rollover_penalty: float = 2.0
    """Points off per counter rollover in the day."""
    reset_penalty: float = 20.0
    """Points off per meter reset nobody has confirmed yet."""

    def __post_init__(self) -> None:
        for name in (
            "coverage_weight",
            "good_ratio_weight",
            "gap_weight",
            "rollover_penalty",
            "reset_penalty",
        ):
            check_non_negative(name, getattr(self, name))
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

    measured_share: float
    """Measured volume / total volume, 0..1 (1 when nothing flowed and nothing is missing)."""
    good_ratio: float
    """Good samples / received samples, 0..1 (0 when nothing was received)."""
    flow_time_coverage: float
    """Covered time / window time, 0..1."""
    rollovers: int
    unconfirmed_resets: int
    coverage_points: float
    """``coverage_weight × measured_share``."""
    good_ratio_points: float
    gap_points: float
    """``gap_weight × flow_time_coverage``."""
    rollover_penalty: float
    reset_penalty: float
    score: float
    """``clip(sum of points - penalties, 0, 100)``."""

    def explain(self) -> str:
        """One line a report can print, e.g. ``score 88.3 = 60.0 measured volume (...) + ...``."""
        return (
            f"score {self.score:.1f} = {self.coverage_points:.1f} measured volume "
            f"({100 * self.measured_share:.1f} % of the volume) + {self.good_ratio_points:.1f} "
            f"good samples ({100 * self.good_ratio:.1f} %) + {self.gap_points:.1f} flow-time "
            f"coverage ({100 * self.flow_time_coverage:.1f} % of the day) "
            f"- {self.rollover_penalty:.1f} rollovers ({self.rollovers}) "
            f"- {self.reset_penalty:.1f} unconfirmed resets ({self.unconfirmed_resets})"
        )


def score(
    *,
    measured_share: float,
    good_ratio: float,
    flow_time_coverage: float,
    rollovers: int,
    unconfirmed_resets: int,
    scoring: QualityScoring,
) -> QualityScore:
    """The score from its terms (see the module docstring)."""
    coverage_points = scoring.coverage_weight * measured_share
    good_ratio_points = scoring.good_ratio_weight * good_ratio
    gap_points = scoring.gap_weight * flow_time_coverage
    rollover_penalty = scoring.rollover_penalty * rollovers
    reset_penalty = scoring.reset_penalty * unconfirmed_resets
    raw = coverage_points + good_ratio_points + gap_points - rollover_penalty - reset_penalty
    return QualityScore(
        measured_share=measured_share,
        good_ratio=good_ratio,
        flow_time_coverage=flow_time_coverage,
        rollovers=rollovers,
        unconfirmed_resets=unconfirmed_resets,
        coverage_points=coverage_points,
        good_ratio_points=good_ratio_points,
        gap_points=gap_points,
        rollover_penalty=rollover_penalty,
        reset_penalty=reset_penalty,
        score=min(100.0, max(0.0, raw)),
    )


@dataclass(frozen=True, slots=True)
class SampleCounts:
    """What the day's samples say about the data, before any volume is computed."""

    rollovers: int = 0
    resets: int = 0
    unconfirmed_resets: int = 0
    backsteps: int = 0
    negative_clipped: int = 0
    low_flow_zeroed: int = 0


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
    """``100 × covered_s / window_s``: the flow-time coverage."""
    sample_completeness_pct: float
    """``100 × min(samples_received, samples_expected) / samples_expected``."""
    rollovers: int
    """Counter rollovers in intervals that overlap the day."""
    resets: int
    """Meter resets in intervals that overlap the day (confirmed or not)."""
    unconfirmed_resets: int
    """Resets not yet confirmed by a person nor replaced by a manual entry."""
    backsteps: int
    """Counter steps back within the tolerance (ignored as noise)."""
    negative_clipped: int
    """Rate samples in the window below 0, taken as 0."""
    low_flow_zeroed: int
    """Rate samples in the window between 0 and the low-flow cutoff, taken as 0."""
    score: QualityScore


def day_quality(
    *,
    t_all: Int64Array,
    severity: SeverityArray,
    finite: BoolArray,
    cov: Coverage,
    start: int,
    end: int,
    sampling_period_s: float,
    gap_tolerance_s: float,
    measured_share: float,
    counts: SampleCounts,
    scoring: QualityScoring,
) -> DayQuality:
    """The quality figures of a series whose samples are ``t_all`` (any quality)."""
    window_us = end - start
    period_us = max(1, round(sampling_period_s * US_PER_S))
    expected = -(-window_us // period_us)

    inside = (t_all >= start) & (t_all < end)
    received = int(np.count_nonzero(inside))
    good = int(np.count_nonzero(inside & (severity == GOOD) & finite))
    uncertain = int(np.count_nonzero(inside & (severity == UNCERTAIN)))

    longest_gap_us = max((g.end_us - g.start_us for g in cov.gaps), default=0)
    time_coverage = cov.covered_us / window_us
    terms = score(
        measured_share=measured_share,
        good_ratio=good / received if received else 0.0,
        flow_time_coverage=time_coverage,
        rollovers=counts.rollovers,
        unconfirmed_resets=counts.unconfirmed_resets,
        scoring=scoring,
    )
    return DayQuality(
        window_start_us=start,
        window_end_us=end,
        window_s=window_us / US_PER_S,
        sampling_period_s=float(sampling_period_s),
        gap_tolerance_s=float(gap_tolerance_s),
        samples_expected=expected,
        samples_received=received,
        samples_good=good,
        samples_uncertain=uncertain,
        samples_bad=received - good - uncertain,
        covered_s=cov.covered_us / US_PER_S,
        gap_s=(window_us - cov.covered_us) / US_PER_S,
        longest_gap_s=longest_gap_us / US_PER_S,
        gaps=cov.gaps,
        time_completeness_pct=100.0 * time_coverage,
        sample_completeness_pct=100.0 * min(received, expected) / expected,
        rollovers=counts.rollovers,
        resets=counts.resets,
        unconfirmed_resets=counts.unconfirmed_resets,
        backsteps=counts.backsteps,
        negative_clipped=counts.negative_clipped,
        low_flow_zeroed=counts.low_flow_zeroed,
        score=terms,
    )
