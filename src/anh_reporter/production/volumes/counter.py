"""Every step of a totalizer between two usable readings, classified (never guessed).

A counter with modulus ``M`` (``CounterSpec.modulus``) counts up to just below ``M`` and wraps to
0: a 32-bit register has ``M = 2**32``, a 7-digit display ``M = 1e7``. ``M`` is the modulus, not
the last value shown.

Two tolerances
--------------
* ``T``, the **backstep tolerance**: ``CounterSpec.backstep_tolerance`` when set, else
  ``max(backstep_resolutions × resolution, max_rate_per_day / 86,400 × backstep_periods ×
  sampling_period_s)`` (defaults: 10 resolution steps, or what the meter passes at full rate in
  two sampling periods, whichever is larger).
* ``L(Δt)``, the **most the meter can pass** in ``Δt`` seconds:
  ``max_rate_per_day / 86,400 × (Δt + sampling_period_s) + resolution`` when the meter's maximum
  rate is given (one extra period for the jitter between reading times and the counter's own
  updates, one resolution step for the display rounding); else ``rollover_fraction × M``
  (default 10 % of the modulus); else no limit.

Classification
--------------
With ``d = r_(i+1) - r_i``, ``F = rollover_fraction × M`` (no limit without a modulus):

* **ordinary**: ``0 <= d <= F``;
* **backstep**: ``-T <= d < 0``: noise, e.g. a stale re-read. A stale re-read of the value from
  just before a wrap (``d > F`` and ``d - M`` in ``[-T, 0)``) is a backstep too;
* **rollover**: a larger drop whose wrapped increment is plausible: ``0 <= d + M <= F``;
* **reset**: anything else.

Readings are then *unwrapped* (``U = r + k·M``, ``k`` counting the rollovers) and the volume is
measured from the counter's **high-water mark** ``H`` (the running maximum of ``U`` since the last
reset): a stale re-read below it neither adds nor removes volume, and no interval has a negative
increment. Against the mark, each reading must also be plausible, or the interval is a reset:

* a reading more than ``T`` below ``H`` (steps down that were each within the tolerance but
  drifted beyond it are not noise);
* a reading more than ``L(Δt)`` above ``H``, with ``Δt`` the time since the reading that set
  ``H`` (a forward jump, or a "rollover" the meter could not have made: measuring from the mark
  keeps the step up that follows a stale re-read from looking like a jump).

When the meter could pass a whole modulus within one interval (``L >= M``, a very long gap), a
wrap cannot be told from a reset; the drop is taken as one rollover and the gap shows in the
flow-time coverage.

The high-water mark depends on the readings since the last reset, so every call that shares an
interval (two consecutive contract days) must be given the readings back to a common point for
their figures to agree exactly: in practice, the same readings before the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from .inputs import (
    SECONDS_PER_DAY,
    US_PER_S,
    BoolArray,
    FloatArray,
    Int64Array,
    check_non_negative,
    check_positive,
)
from .parts import decimal_of


@dataclass(frozen=True, slots=True)
class CounterSpec:
    """How a totalizer counts: modulus, resolution, the most it can pass, its noise tolerance."""

    modulus: float | None = None
    """The counter's modulus ``M``: it counts up to just below ``M`` and wraps to 0 (e.g.
    ``2**32`` or ``1e7``); ``None`` when it never wraps (every large drop is then a reset)."""
    resolution: float = 0.01
    """The smallest step the counter shows, in its unit."""
    max_rate_per_day: float | None = None
    """The most the meter can pass, in the counter's unit per day (e.g. the upper range limit
    of its rate in bbl/d); ``None`` when unknown."""
    backstep_tolerance: float | None = None
    """Largest step back taken as noise, in the counter's unit; ``None``: the default formula."""
    backstep_resolutions: float = 10.0
    """Default tolerance: at least this many resolution steps..."""
    backstep_periods: float = 2.0
    """...and at least what the meter passes at full rate in this many sampling periods."""
    rollover_fraction: float = 0.1
    """``F``: a step (or a wrapped step) above this share of ``M`` is a reset; without
    ``max_rate_per_day`` it is also the most the meter is taken to pass in one interval."""

    def __post_init__(self) -> None:
        if self.modulus is not None:
            check_positive("modulus", self.modulus)
        check_positive("resolution", self.resolution)
        if self.max_rate_per_day is not None:
            check_positive("max_rate_per_day", self.max_rate_per_day)
        if self.backstep_tolerance is not None:
            check_non_negative("backstep_tolerance", self.backstep_tolerance)
        check_non_negative("backstep_resolutions", self.backstep_resolutions)
        check_non_negative("backstep_periods", self.backstep_periods)
        if not (math.isfinite(self.rollover_fraction) and 0.0 < self.rollover_fraction <= 0.5):
            raise ValueError(
                f"rollover_fraction must be in (0, 0.5], got {self.rollover_fraction!r}"
            )

    def tolerance(self, sampling_period_s: float) -> float:
        """The backstep tolerance ``T`` for a series sampled every ``sampling_period_s``."""
        if self.backstep_tolerance is not None:
            tol = self.backstep_tolerance
        else:
            tol = self.backstep_resolutions * self.resolution
            if self.max_rate_per_day is not None:
                per_s = self.max_rate_per_day / SECONDS_PER_DAY
                tol = max(tol, per_s * self.backstep_periods * sampling_period_s)
        if self.modulus is not None and tol >= self.modulus / 2:
            raise ValueError(
                f"backstep tolerance {tol!r} must be below half the modulus "
                f"({self.modulus / 2!r}): a step back that large cannot be told from a rollover"
            )
        return tol

    def fraction_limit(self) -> float:
        """``F``: the largest step read as ordinary or as a wrap, from the modulus alone."""
        return math.inf if self.modulus is None else self.rollover_fraction * self.modulus

    def limit(self, dt_s: FloatArray, sampling_period_s: float) -> FloatArray:
        """``L(Δt)``: the most the meter can pass in ``dt_s`` seconds (see the module doc)."""
        if self.max_rate_per_day is not None:
            per_s = self.max_rate_per_day / SECONDS_PER_DAY
            result: FloatArray = per_s * (dt_s + sampling_period_s) + self.resolution
            return result
        return np.full(dt_s.size, self.fraction_limit())


@dataclass(frozen=True, slots=True)
class CounterReadings:
    """Usable readings of a totalizer, unwrapped and classified (see the module docstring)."""

    t: Int64Array
    r: FloatArray
    """The readings as given."""
    k: Int64Array
    """Rollovers counted before each reading (since the first one given)."""
    u: FloatArray
    """Unwrapped readings ``r + k·M``."""
    h: FloatArray
    """High-water mark of ``u`` since the last reset, at each reading."""
    h_index: Int64Array
    """Index of the reading that set ``h``."""
    segment: Int64Array
    """Resets before each reading: readings with the same number count together."""
    rollover: BoolArray
    """Per interval ``i`` (between readings ``i`` and ``i + 1``): the counter wrapped past the
    modulus for the first time (wrapping back after a stale pre-wrap value is not counted)."""
    reset: BoolArray
    """Per interval: a reset (its volume is estimated, not counted)."""
    backstep: BoolArray
    """Per interval: the reading stepped back (within the tolerance)."""
    backstep_size: FloatArray
    """Per interval: how far the new reading is below the high-water mark (0 if not below)."""
    modulus: Decimal | None
    _decimals: dict[int, Decimal]

    def mark(self, i: int) -> Decimal:
        """The high-water mark at reading ``i`` as an exact decimal (unwrapped)."""
        j = int(self.h_index[i])
        value = self._decimals.get(j)
        if value is None:
            value = decimal_of(float(self.r[j]))
            if self.modulus is not None:
                value += int(self.k[j]) * self.modulus
            self._decimals[j] = value
        return value

    def increment(self, i: int) -> Decimal:
        """The volume counted over interval ``i`` (>= 0): ``mark(i + 1) - mark(i)``."""
        return self.mark(i + 1) - self.mark(i)

    def rate_per_s(self, i: int) -> float:
        """Mean flow over interval ``i``, in the counter's unit per second."""
        dt_s = (int(self.t[i + 1]) - int(self.t[i])) / US_PER_S
        return float(self.h[i + 1] - self.h[i]) / dt_s


def classify(
    t: Int64Array, r: FloatArray, spec: CounterSpec, sampling_period_s: float
) -> CounterReadings:
    """Classify every interval of the usable readings ``(t, r)``; unwrap; high-water marks."""
    n = t.size
    tol = spec.tolerance(sampling_period_s)
    m = spec.modulus
    f = spec.fraction_limit()
    d = np.diff(r)
    ordinary = (d >= 0) & (d <= f)
    back = (d < 0) & (d >= -tol)
    if m is not None:
        rolled = (d < -tol) & (d + m >= 0) & (d + m <= f)
        back_across_wrap = ~ordinary & (d > 0) & (d - m >= -tol) & (d - m < 0)
    else:
        rolled = np.zeros(d.size, dtype=np.bool_)
        back_across_wrap = rolled
    reset = ~(ordinary | back | rolled | back_across_wrap)

    steps = rolled.astype(np.int64) - back_across_wrap.astype(np.int64)
    k = np.concatenate((np.zeros(min(n, 1), dtype=np.int64), np.cumsum(steps)))
    u = r + k * m if m is not None else r.copy()
    index = np.arange(n, dtype=np.int64)

    # Each reading against the high-water mark: more than T below it or more than L(Δt) above
    # it starts a new count (a reset). A pass marks the first such interval per segment, so this
    # loops once per fault.
    while True:
        segment: Int64Array = np.concatenate(
            (np.zeros(min(n, 1), dtype=np.int64), np.cumsum(reset, dtype=np.int64))
        )
        h = _segment_running_max(u, reset)
        h_index = np.maximum.accumulate(np.where(u >= h, index, 0)) if n else index
        up = u[1:] - h[:-1]
        if spec.max_rate_per_day is not None:
            since_mark_s = (t[1:] - t[h_index[:-1]]) / US_PER_S
            too_high = up > spec.limit(since_mark_s, sampling_period_s)
        else:
            too_high = up > f  # the limit does not depend on time: no need for the times
        implausible = ~reset & ((up < -tol) | too_high)
        if not implausible.any():
            break
        first = np.flatnonzero(implausible & _first_per_segment(implausible, segment[:-1]))
        reset = reset.copy()
        reset[first] = True

    below = np.maximum(h[:-1] - u[1:], 0.0)
    # Wrapping back after a stale re-read of a pre-wrap value is not a new rollover.
    new_wrap = k[1:] > np.maximum.accumulate(k)[:-1] if n else rolled
    stepped_back = ~reset & ~rolled & ((u[1:] < u[:-1]) | back_across_wrap)
    return CounterReadings(
        t=t,
        r=r,
        k=k,
        u=u,
        h=h,
        h_index=h_index,
        segment=segment,
        rollover=rolled & ~reset & new_wrap,
        reset=reset,
        backstep=stepped_back,
        backstep_size=np.where(stepped_back, below, 0.0),
        modulus=None if m is None else decimal_of(m),
        _decimals={},
    )


def _segment_running_max(u: FloatArray, reset: BoolArray) -> FloatArray:
    """Running maximum of ``u`` restarted after every reset interval."""
    if u.size == 0:
        return u.copy()
    starts = np.concatenate(([0], np.flatnonzero(reset) + 1, [u.size]))
    h = np.empty_like(u)
    for lo, hi in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
        h[lo:hi] = np.maximum.accumulate(u[lo:hi])
    return h


def _first_per_segment(flags: BoolArray, segment: Int64Array) -> BoolArray:
    """Mask of the first ``True`` of ``flags`` within each run of equal ``segment`` values."""
    idx = np.flatnonzero(flags)
    first = np.zeros(flags.size, dtype=np.bool_)
    if idx.size:
        seg = segment[idx]
        keep = np.concatenate(([True], seg[1:] != seg[:-1]))
        first[idx[keep]] = True
    return first
