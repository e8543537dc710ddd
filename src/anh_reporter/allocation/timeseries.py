"""Time-weighted sums of sampled telemetry over a window, with gaps kept apart (numpy in).

Two readings of a series, both exact about the time they do not know:

* :func:`state_durations` treats each good sample as a state held until the next one (pump
  status, "speed above a threshold"): time on, time off, and time unknown.
* :func:`trapezoid` integrates an analogue value (frequency, strokes per minute, rpm) linearly
  between good samples: the area (value × seconds) and the time it covers.

A **gap** is an interval between consecutive good samples longer than ``gap_tolerance_s``: the
whole interval is unknown (neither on nor off, not integrated). At the window's edges a sample
holds (or the value is carried flat) over the stretch to the edge only when that stretch is no
longer than the tolerance, so pass the last sample before the window and the first after it
(the neighbours) for an exact edge. Bad-quality samples and NaN values are dropped first.
Instants are int64 microseconds since the epoch (``domain.timeutil``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.fluids import HOURS_INCREMENT
from anh_reporter.domain.mpms import round_half_up
from anh_reporter.domain.timeutil import US_PER_HOUR, US_PER_SECOND


@dataclass(frozen=True)
class Window:
    """A time window ``[start_us, end_us)``, typically one contract day."""

    start_us: int
    end_us: int

    def __post_init__(self) -> None:
        if self.end_us <= self.start_us:
            raise AllocationError(
                f"window end {self.end_us} µs must be after its start {self.start_us} µs"
            )

    @property
    def length_us(self) -> int:
        """Length in microseconds."""
        return self.end_us - self.start_us

    @property
    def hours(self) -> Decimal:
        """Length in hours (exact)."""
        return Decimal(self.length_us) / Decimal(US_PER_HOUR)


@dataclass(frozen=True)
class Sampled:
    """Good samples of one series, sorted by time: what the two readings work on."""

    times_us: NDArray[np.int64]
    values: NDArray[np.float64]


def good_samples(
    field: str,
    times_us: ArrayLike,
    values: ArrayLike,
    good: ArrayLike | None = None,
) -> Sampled:
    """Check a series (same lengths, strictly increasing times) and keep its good samples.

    ``good`` is a boolean mask (True = usable); NaN values are dropped like bad samples.
    """
    t = np.asarray(times_us, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or v.shape != t.shape:
        raise AllocationError(
            f"{field}: times and values must be 1-D arrays of the same length, got shapes "
            f"{t.shape} and {v.shape}"
        )
    if t.size > 1 and not bool(np.all(np.diff(t) > 0)):
        at = int(np.argmax(np.diff(t) <= 0))
        raise AllocationError(
            f"{field}: times must strictly increase; sample {at + 1} at {int(t[at + 1])} µs "
            f"is not after sample {at} at {int(t[at])} µs"
        )
    keep = ~np.isnan(v)
    if good is not None:
        mask = np.asarray(good, dtype=np.bool_)
        if mask.shape != t.shape:
            raise AllocationError(
                f"{field}: the good mask has shape {mask.shape}, the times {t.shape}"
            )
        keep &= mask
    if np.isinf(v[keep]).any():
        raise AllocationError(f"{field}: infinite value among the samples")
    return Sampled(t[keep], v[keep])


@dataclass(frozen=True)
class StateTime:
    """How a window splits between a state being on, off, and unknown (µs, exact)."""

    on_us: int
    off_us: int
    unknown_us: int

    def hours(self) -> tuple[Decimal, Decimal, Decimal]:
        """On, off and unknown hours to 0.01 h; the three add up to the window's hours."""
        total = Decimal(self.on_us + self.off_us + self.unknown_us) / Decimal(US_PER_HOUR)
        on = _hours(self.on_us)
        unknown = _hours(self.unknown_us)
        return on, round_half_up(total, HOURS_INCREMENT) - on - unknown, unknown


def _hours(us: int) -> Decimal:
    return round_half_up(Decimal(us) / Decimal(US_PER_HOUR), HOURS_INCREMENT)


def state_durations(
    samples: Sampled, is_on: NDArray[np.bool_], window: Window, gap_tolerance_s: float
) -> StateTime:
    """Time on / off / unknown in ``window`` of a sampled state (sample-and-hold, see module)."""
    if is_on.shape != samples.times_us.shape:
        raise AllocationError(
            f"state mask shape {is_on.shape} differs from the samples' {samples.times_us.shape}"
        )
    tolerance = int(gap_tolerance_s * US_PER_SECOND)
    t = samples.times_us
    start, end = window.start_us, window.end_us
    if t.size == 0:
        return StateTime(0, 0, window.length_us)
    # Intervals [a, b) each held by a state, or unknown: edge stretches plus the inner ones.
    lo = np.concatenate(([start], t))
    hi = np.concatenate((t, [end]))
    state = np.concatenate(([is_on[0]], is_on))
    known = np.concatenate(
        ([t[0] - start <= tolerance], np.diff(t) <= tolerance, [end - t[-1] <= tolerance])
    )
    a = np.clip(lo, start, end)
    b = np.clip(hi, start, end)
    length = np.maximum(b - a, 0)
    on = int(length[known & state].sum())
    off = int(length[known & ~state].sum())
    return StateTime(on, off, window.length_us - on - off)


@dataclass(frozen=True)
class Integral:
    """The time integral of a value over the covered part of a window."""

    area: float
    """Value × seconds over the covered time."""
    covered_s: float
    window_s: float

    @property
    def coverage_pct(self) -> float:
        """Share of the window covered by good samples (gaps excluded), %."""
        return 100.0 * self.covered_s / self.window_s


def trapezoid(samples: Sampled, window: Window, gap_tolerance_s: float) -> Integral:
    """∫ value dt over ``window``: linear between good samples, flat to an edge (see module)."""
    tolerance = gap_tolerance_s * US_PER_SECOND
    t = samples.times_us
    v = samples.values
    start, end = window.start_us, window.end_us
    window_s = window.length_us / US_PER_SECOND
    if t.size == 0:
        return Integral(0.0, 0.0, window_s)
    area = 0.0
    covered = 0
    if t.size > 1:
        t0, t1 = t[:-1], t[1:]
        v0, v1 = v[:-1], v[1:]
        inner = (t1 - t0) <= tolerance
        a = np.clip(t0, start, end)
        b = np.clip(t1, start, end)
        span = (t1 - t0).astype(np.float64)
        # Linear interpolation at the clipped ends of each segment.
        va = v0 + (v1 - v0) * (a - t0) / span
        vb = v0 + (v1 - v0) * (b - t0) / span
        use = inner & (b > a)
        area += float(np.sum((va[use] + vb[use]) / 2.0 * (b[use] - a[use])))
        covered += int(np.sum(b[use] - a[use]))
    if t[0] > start and t[0] - start <= tolerance:
        stretch = min(t[0], end) - start
        area += float(v[0]) * stretch
        covered += int(stretch)
    if t[-1] < end and end - t[-1] <= tolerance:
        stretch = end - max(int(t[-1]), start)
        area += float(v[-1]) * stretch
        covered += int(stretch)
    return Integral(area / US_PER_SECOND, covered / US_PER_SECOND, window_s)
