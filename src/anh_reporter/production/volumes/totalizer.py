"""Daily volume from a cumulative totalizer: exact counter differences, estimates only where due.

Inputs: the usable readings of the counter over the window, **the last usable reading before it
and the first at or after its end however far away** (a long gap across the contract hour still
has a known counter difference), and any earlier readings back to a common point (see
:mod:`~anh_reporter.production.volumes.counter`: consecutive days must see the same readings
around the interval they share). Steps are classified by
:func:`~anh_reporter.production.volumes.counter.classify`.

Exact volumes
-------------
Volumes are :class:`~decimal.Decimal` built from the readings' decimal representations
(``repr`` of the float: 1000.05 → ``Decimal('1000.05')``), so differences are exact. The
counter's value at a time ``x`` between readings ``i`` and ``i + 1`` is the high-water mark at
``i`` plus a split ``C(x)`` of the increment ``Δ`` across the interval; the share after ``x`` is
``Δ - C(x)``, with ``C`` = 0 at the interval's start and ``Δ`` at its end. Every call computes
``C(x)`` the same way from the same interval, so consecutive days add up **exactly** to the
counter difference. ``C(x)`` is rounded half-even to the finer of the counter's resolution and
the readings' own decimals.

Measured and estimated
----------------------
* An interval wholly inside the day is **measured**, however long (the meter kept counting); a
  long one is a gap in the flow-time coverage, not an estimate.
* An interval within the gap tolerance that a day edge cuts is split on the straight line in
  time (the usual edge interpolation of one sampling interval) and is measured.
* An interval longer than the gap tolerance that a day edge (or the edge of a manual window)
  cuts: ``counter_difference_across_gap``. The increment is known; its split is estimated, in
  proportion to the rate series' integral when a rate is given and spans the interval, else in
  proportion to time. Both sides get an estimated part.
* Estimates below are rounded half-even to the counter's resolution.
* A reset: the count restarts from the reading after it (that reading itself is not volume).
  The volume lost between the last reading before it and the first after it is a
  ``reset_estimate``: the rate series' integral over the interval when a rate is given and spans
  it, else the last good rate (mean flow of the nearest covered interval before; else after) ×
  the interval, else nothing (the interval is then listed as unestimated). A reset needs a
  person's confirmation: pass the ``after_us`` of confirmed resets in ``confirmed_resets``; a
  reset inside a manual window is replaced and needs none.
* A stretch with no reading before it or after it (no neighbour): the rate series' integral
  (``rate_interpolation`` when the rate spans it, else ``last_good_rate``), else the counter's
  nearest good rate × time (``last_good_rate``), else unestimated.

Events: every rollover and reset in an interval that overlaps the day is listed; backsteps are
counted (``DayQuality.backsteps``) with the largest one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .counter import CounterReadings, CounterSpec, classify
from .coverage import (
    DEFAULT_SCORING,
    DayQuality,
    Gap,
    QualityScoring,
    SampleCounts,
    coverage,
    day_quality,
)
from .inputs import check_positive, check_window, checked_series, tolerance_us
from .parts import (
    ZERO,
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
from .rate_curve import RateCurve, RateSamples

_PRECISION = 60
"""Decimal digits for the arithmetic: far more than any reading has, so nothing rounds early."""


@dataclass(frozen=True, slots=True)
class TotalizerEvent:
    """A rollover or a meter reset between two consecutive usable readings."""

    kind: Literal["rollover", "reset"]
    before_us: int
    after_us: int
    before_value: float
    after_value: float
    volume: Decimal
    """Rollover: the increment counted across the wrap. Reset: the estimated lost volume over
    the whole interval (0 when there was no basis for an estimate)."""
    basis: str
    """How it was classified or estimated, in one line."""
    confirmed: bool = False
    """A reset a person confirmed (its ``after_us`` was in ``confirmed_resets``)."""
    replaced: bool = False
    """The reset's part of the day lies inside a manual window."""
    needs_confirmation: bool = False
    """A reset neither confirmed nor replaced: the day must not be signed as it is."""


@dataclass(frozen=True, slots=True)
class TotalizerVolume:
    """A totalizer day: its volume (measured + estimated), events and data quality."""

    volume: DayVolume
    events: tuple[TotalizerEvent, ...]
    largest_backstep: float
    """The largest step below the high-water mark ignored as noise (0 if none)."""
    backstep_tolerance: float
    """The tolerance the steps were classified with."""
    quality: DayQuality


def totalizer_volume(
    times_us: ArrayLike,
    readings: ArrayLike,
    quality: ArrayLike | None = None,
    *,
    day_start_us: int,
    day_end_us: int,
    gap_tolerance_s: float,
    sampling_period_s: float,
    counter: CounterSpec,
    rate: RateSamples | None = None,
    manual_windows: Sequence[ManualWindow] = (),
    confirmed_resets: Collection[int] = (),
    scoring: QualityScoring = DEFAULT_SCORING,
) -> TotalizerVolume:
    """The day's volume from a cumulative totalizer (see the module docstring).

    ``counter`` says how the meter counts (its modulus ``M``, at which it wraps to 0; its
    resolution; its maximum rate; the backstep tolerance). ``rate``, when given, splits long
    gaps across the contract hour and estimates resets and stretches without readings.
    """
    start, end = check_window(day_start_us, day_end_us)
    tol_us = tolerance_us(gap_tolerance_s)
    check_positive("sampling_period_s", sampling_period_s)
    windows = check_manual_windows(manual_windows, start, end)
    t_all, r_all, severity, usable = checked_series(
        times_us, readings, quality, names=("times_us", "readings", "quality")
    )
    curve = None if rate is None else RateCurve(rate)
    counted = classify(t_all[usable], r_all[usable], counter, sampling_period_s)

    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = ROUND_HALF_EVEN
        day = _Day(counted, curve, tol_us, counter.resolution)
        results = [(p, day.piece(p.start_us, p.end_us)) for p in pieces(start, end, windows)]
        volume = assemble(results)
        events = day.events(start, end, windows, frozenset(confirmed_resets))

    c = counted
    overlap = np.minimum(c.t[1:], end) > np.maximum(c.t[:-1], start)
    rollovers = sum(1 for e in events if e.kind == "rollover")
    counts = SampleCounts(
        rollovers=rollovers,
        resets=len(events) - rollovers,
        unconfirmed_resets=sum(1 for e in events if e.needs_confirmation),
        backsteps=int(np.count_nonzero(c.backstep & overlap)),
    )
    sizes = c.backstep_size[overlap]
    quality_figures = day_quality(
        t_all=t_all,
        severity=severity,
        finite=np.isfinite(r_all),
        cov=coverage(c.t, start, end, tol_us),
        start=start,
        end=end,
        sampling_period_s=sampling_period_s,
        gap_tolerance_s=gap_tolerance_s,
        measured_share=volume.measured_share_pct / 100.0,
        counts=counts,
        scoring=scoring,
    )
    return TotalizerVolume(
        volume=volume,
        events=events,
        largest_backstep=float(sizes.max()) if sizes.size else 0.0,
        backstep_tolerance=counter.tolerance(sampling_period_s),
        quality=quality_figures,
    )


@dataclass(frozen=True, slots=True)
class _Estimate:
    """A cumulative estimate over one interval ``[a, b]``: ``volume(x)`` from ``a`` to ``x``.

    Either the rate curve's integral, or a good counter interval's ``increment`` over its
    ``duration_us`` held constant (kept as a fraction, so 10 bbl per 600 s × 600 s is 10).
    """

    a: int
    curve: RateCurve | None
    increment: Decimal
    duration_us: int
    basis: str
    quantum: Decimal
    """Estimates are kept to the counter's resolution (they are not better than that)."""

    def volume(self, x: int) -> Decimal:
        if x <= self.a:
            return ZERO
        if self.curve is not None:
            value = decimal_of(self.curve.integral(self.a, x))
        else:
            value = self.increment * (x - self.a) / self.duration_us
        return value.quantize(self.quantum)


class _Day:
    """The counter's value at any time, and the day's pieces, events (Decimal context set)."""

    def __init__(
        self, counted: CounterReadings, curve: RateCurve | None, tol_us: int, resolution: float
    ) -> None:
        self.c = counted
        # Splits are kept at least to the counter's resolution (1000.5 split in four is
        # 250.13, not 250.1 because the readings happened to end in a zero).
        self.exponent = min(int(decimal_of(resolution).as_tuple().exponent), 0)
        self.quantum = Decimal((0, (1,), self.exponent))
        self.curve = curve
        self.covered = np.diff(counted.t) <= tol_us
        self.good = self.covered & ~counted.reset
        self.good_index = np.flatnonzero(self.good)

    # --- the counter's value --------------------------------------------------------------

    def _interval_at(self, x: int) -> int:
        """Index ``i`` with ``t_i <= x < t_(i+1)`` (or ``t_i == x`` for the last reading)."""
        return int(np.searchsorted(self.c.t, x, side="right")) - 1

    def value(self, x: int) -> Decimal:
        """Unwrapped counter value at ``x``, inside a segment's span of readings."""
        i = self._interval_at(x)
        if int(self.c.t[i]) == x:
            return self.c.mark(i)
        return self.c.mark(i) + self.split(i, x)

    def _by_rate(self, i: int) -> float | None:
        """The rate's integral over interval ``i`` when it splits the increment, else ``None``.

        Only a long interval (a gap) is split by the rate, and only when the rate spans it and
        flowed; a covered interval is split on the straight line in time.
        """
        a, b = int(self.c.t[i]), int(self.c.t[i + 1])
        curve = self.curve
        if self.covered[i] or curve is None or not curve.spans(a, b):
            return None
        whole = curve.integral(a, b)
        return whole if whole > 0 else None

    def split(self, i: int, x: int) -> Decimal:
        """``C(x)``: the part of interval ``i``'s increment before ``x``."""
        delta = self.c.increment(i)
        a, b = int(self.c.t[i]), int(self.c.t[i + 1])
        if x <= a or delta == 0:
            return ZERO
        if x >= b:
            return delta
        quantum = Decimal((0, (1,), min(int(delta.as_tuple().exponent), self.exponent)))
        whole = self._by_rate(i)
        if whole is not None and self.curve is not None:
            # Clamped: float rounding must not give a side more than the whole increment.
            fraction = Decimal(min(max(self.curve.integral(a, x) / whole, 0.0), 1.0))
            return (delta * fraction).quantize(quantum)
        return (delta * (x - a) / (b - a)).quantize(quantum)

    # --- estimates --------------------------------------------------------------------------

    def _good_interval(self, before: int | None, after: int | None) -> int | None:
        """The last good interval before ``before``, else the first from ``after``."""
        g = self.good_index
        if before is not None:
            k = int(np.searchsorted(g, before, side="left")) - 1
            if k >= 0:
                return int(g[k])
        if after is not None:
            k = int(np.searchsorted(g, after, side="left"))
            if k < g.size:
                return int(g[k])
        return None

    def _estimate(self, a: int, b: int, before: int | None, after: int | None) -> _Estimate | None:
        """How to estimate the volume over ``[a, b]`` with no counter reading inside."""
        curve = self.curve
        if curve is not None and not curve.empty:
            basis = "rate series" if curve.spans(a, b) else "rate series, held beyond its samples"
            return _Estimate(a, curve, ZERO, 1, basis, self.quantum)
        j = self._good_interval(before, after)
        if j is None:
            return None
        t0, t1 = int(self.c.t[j]), int(self.c.t[j + 1])
        rate = self.c.rate_per_s(j) * 86_400
        basis = f"good rate {rate:g}/d of {iso(t0)} → {iso(t1)}"
        return _Estimate(a, None, self.c.increment(j), t1 - t0, basis, self.quantum)

    # --- one piece of the day ---------------------------------------------------------------

    def piece(self, lo: int, hi: int) -> PieceVolume:
        """Measured and estimated volume over ``[lo, hi)``."""
        out = PieceVolume()
        t, n = self.c.t, self.c.t.size
        if n == 0:
            self._stretch(out, lo, hi, None, None, "no readings")
            return out
        bounds = np.concatenate(([0], np.flatnonzero(self.c.reset) + 1, [n]))
        for i0, i1 in zip(bounds[:-1].tolist(), (bounds[1:] - 1).tolist(), strict=True):
            self._segment(out, i0, i1, lo, hi)
        for i in np.flatnonzero(self.c.reset).tolist():
            self._reset(out, i, lo, hi)
        first, last = int(t[0]), int(t[-1])
        if first > lo:
            note = f"no reading before {iso(first)}"
            self._stretch(out, lo, min(first, hi), None, 0, note)
        if last < hi:
            note = f"no reading after {iso(last)}"
            self._stretch(out, max(last, lo), hi, n - 1, None, note)
        return out

    def _segment(self, out: PieceVolume, i0: int, i1: int, lo: int, hi: int) -> None:
        t = self.c.t
        s_lo, s_hi = max(lo, int(t[i0])), min(hi, int(t[i1]))
        if s_hi <= s_lo:
            return
        measured = self.value(s_hi) - self.value(s_lo)
        cut = set()
        for x in (s_lo, s_hi):
            i = self._interval_at(x)
            if int(t[i]) < x and not self.covered[i]:
                cut.add(i)
        for i in sorted(cut):
            a, b = int(t[i]), int(t[i + 1])
            p_lo, p_hi = max(a, s_lo), min(b, s_hi)
            share = self.split(i, p_hi) - self.split(i, p_lo)
            measured -= share
            delta = self.c.increment(i)
            basis = "time" if self._by_rate(i) is None else "the rate series"
            out.estimates.append(
                EstimatedPart(
                    p_lo,
                    p_hi,
                    "counter_difference_across_gap",
                    share,
                    f"counter increment {delta} over {iso(a)} → {iso(b)}, split by {basis}",
                )
            )
        out.measured += measured

    def _reset(self, out: PieceVolume, i: int, lo: int, hi: int) -> None:
        a, b = int(self.c.t[i]), int(self.c.t[i + 1])
        p_lo, p_hi = max(a, lo), min(b, hi)
        if p_hi <= p_lo:
            return
        estimate = self._estimate(a, b, i, i + 1)
        if estimate is None:
            out.unestimated.append(Gap(p_lo, p_hi))
            return
        share = estimate.volume(p_hi) - estimate.volume(p_lo)
        out.estimates.append(
            EstimatedPart(
                p_lo,
                p_hi,
                "reset_estimate",
                share,
                f"meter reset {self.c.r[i]:,.2f} → {self.c.r[i + 1]:,.2f} "
                f"over {iso(a)} → {iso(b)}: "
                f"lost volume from the {estimate.basis}",
            )
        )

    def _stretch(
        self, out: PieceVolume, lo: int, hi: int, before: int | None, after: int | None, note: str
    ) -> None:
        """A stretch with no counter reading on one side (or none at all)."""
        estimate = self._estimate(lo, hi, before, after)
        if estimate is None:
            out.unestimated.append(Gap(lo, hi))
            return
        spans = self.curve is not None and self.curve.spans(lo, hi)
        out.estimates.append(
            EstimatedPart(
                lo,
                hi,
                "rate_interpolation" if spans else "last_good_rate",
                estimate.volume(hi),
                f"{note}: from the {estimate.basis}",
            )
        )

    # --- events -----------------------------------------------------------------------------

    def events(
        self, start: int, end: int, windows: Sequence[ManualWindow], confirmed: frozenset[int]
    ) -> tuple[TotalizerEvent, ...]:
        """Rollovers and resets in intervals that overlap ``[start, end)``."""
        c = self.c
        if c.t.size < 2:
            return ()
        a, b = c.t[:-1], c.t[1:]
        overlap = np.minimum(b, end) > np.maximum(a, start)
        out: list[TotalizerEvent] = []
        for i in np.flatnonzero(overlap & (c.rollover | c.reset)).tolist():
            ai, bi = int(a[i]), int(b[i])
            values = float(c.r[i]), float(c.r[i + 1])
            if c.rollover[i]:
                basis = f"wrapped at the modulus {c.modulus}"
                out.append(TotalizerEvent("rollover", ai, bi, *values, c.increment(i), basis))
                continue
            estimate = self._estimate(ai, bi, i, i + 1)
            lost = ZERO if estimate is None else estimate.volume(bi)
            basis = "no basis: not estimated" if estimate is None else estimate.basis
            lo, hi = max(ai, start), min(bi, end)
            replaced = any(w.start_us <= lo and hi <= w.end_us for w in windows)
            is_confirmed = bi in confirmed
            out.append(
                TotalizerEvent(
                    "reset",
                    ai,
                    bi,
                    *values,
                    lost,
                    f"lost volume from the {basis}",
                    confirmed=is_confirmed,
                    replaced=replaced,
                    needs_confirmation=not (is_confirmed or replaced),
                )
            )
        return tuple(out)
