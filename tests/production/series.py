"""Sample times and closed-form sums for the volume tests (no database)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

US = 1_000_000
MINUTE = 60 * US
HOUR = 3600 * US
DAY = 24 * HOUR
# Contract day 2026-02-02 06:00 America/Bogota (UTC-5) = 11:00 UTC.
S = int(datetime(2026, 2, 2, 11, tzinfo=UTC).timestamp()) * US
E = S + DAY
BAD = 0x80000000
UNCERTAIN = 0x40000000

DEFAULTS = {"day_start_us": S, "day_end_us": E, "sampling_period_s": 600.0}


def jittered_times(
    start: int, end: int, seed: int, step_s: int = 600, jitter_s: int = 200
) -> np.ndarray:
    """Times every ``step_s`` ± ``jitter_s`` (integer µs), one neighbour beyond each end.

    The longest interval is step + 2 × jitter = 1,000 s by default.
    """
    rng = np.random.default_rng(seed)
    n = (end - start) // (step_s * US)
    grid = start + np.arange(-1, n + 2, dtype=np.int64) * step_s * US
    jitter = rng.integers(-jitter_s * US, jitter_s * US, size=grid.size, endpoint=True)
    times = grid + jitter
    assert times[0] < start and times[-1] >= end
    return times


def grid_times(start: int, end: int, step_s: int = 600) -> np.ndarray:
    """Exact grid from ``start`` to ``end`` inclusive."""
    return np.arange(start, end + 1, step_s * US, dtype=np.int64)


def seconds_since(times: np.ndarray, origin: int = S) -> np.ndarray:
    """Seconds from ``origin`` (float)."""
    return (times - origin) / US


def trapezoid(times: np.ndarray, values: np.ndarray) -> float:
    """Closed-form trapezoid of the sampled points, in value × seconds (independent of the code)."""
    t = [int(x) for x in times]
    v = [float(x) for x in values]
    return math.fsum((t[i + 1] - t[i]) / US * (v[i] + v[i + 1]) / 2 for i in range(len(t) - 1))


def dec(value: float) -> Decimal:
    """The decimal a reading was written as."""
    return Decimal(repr(float(value)))
