"""Property tests over random totalizer series (Hypothesis).

A series: a meter flowing at a constant true rate ``q`` (so the true volume of any window is
``q × its length``), read every 1, 5 or 10 minutes with jitter, shown to 0.01 bbl; random
outages up to 14 h (some across the contract hour); a counter that wraps at its modulus;
injected stale re-reads (a reading replaced by one up to the backstep tolerance below the
previous one) and, in the reset variant, meter resets to 0. Contract days start at a random hour;
every call gets the whole series (the readings a day shares with its neighbour are the same).

What must hold:
* the sum over consecutive days equals the volume of the whole stretch, **exactly** (Decimal);
  without resets it equals the counter difference between the readings at its ends, exactly;
* each day's measured + estimated volume equals the true volume ``q × 1 day`` within
  0.02 bbl: the readings are shown to 0.01 (≤ 0.005 off the true counter) and a split at a day
  edge is rounded to 0.01 (≤ 0.005), so each edge is at most 0.01 off. Stale re-reads, rollovers
  and gaps add no error (stale re-reads are kept away from the day edges, where the high-water
  mark would hold the edge value flat for one interval). Each reset adds at most 0.05 bbl: its
  two readings' display rounding, and the rounding of the good rate it is estimated from;
* no measured part or estimated part is negative; every wrap is one rollover, every injected
  stale re-read one backstep, every injected reset one reset needing confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from anh_reporter.production.volumes import CounterSpec, RateSamples, totalizer_volume

from .series import DAY, HOUR, US, S

CENT = Decimal("0.01")


@dataclass
class Series:
    """A generated totalizer series and what is true about it."""

    t: np.ndarray
    r: np.ndarray
    spec: CounterSpec
    period_s: float
    q: float
    days: list[tuple[int, int]]
    true_counter: list[Decimal]
    """The meter's true (unwrapped) count at each reading, before any injected fault."""
    backsteps: int = 0
    resets: list[int] = field(default_factory=list)
    """Index ``i`` of each reset interval (between readings ``i`` and ``i + 1``)."""
    wraps: int = 0

    @property
    def tol_s(self) -> float:
        return 6 * self.period_s

    def index(self, time_us: int) -> int:
        return int(np.flatnonzero(self.t == time_us)[0])


@st.composite
def series(draw: st.DrawFn, *, with_resets: bool) -> Series:
    period_s = draw(st.sampled_from([60, 300, 600]))
    period = period_s * US
    n_days = draw(st.integers(2, 3) if not with_resets else st.integers(1, 2))
    start = S + draw(st.integers(0, 23)) * HOUR
    end = start + n_days * DAY
    days = [(start + j * DAY, start + (j + 1) * DAY) for j in range(n_days)]
    q = draw(st.floats(100.0, 50_000.0))
    max_rate = q * draw(st.floats(1.1, 2.5))
    modulus = draw(st.sampled_from([None, 1e6, 1e7, 2.0**32]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    # Times: a grid with jitter (up to a fifth of the period), exact at the stretch's ends.
    n = (end - start) // period
    k = np.arange(-3, n + 4)
    jitter = rng.integers(-period // 5, period // 5, size=k.size, endpoint=True)
    jitter[(k == 0) | (k == n)] = 0
    t = start + k * period + jitter
    protected = (k <= 1) | (k >= n - 1)  # the neighbours and the readings at both ends
    for _ in range(draw(st.integers(0, 3))):
        # An outage: some straddle a contract hour, some lie inside a day.
        length = draw(st.integers(7, 14 * 3600 // period_s)) * period
        centre = start + draw(st.floats(0.0, 1.0)) * (end - start)
        if draw(st.booleans()) and n_days > 1:
            centre = days[draw(st.integers(1, n_days - 1))][0] + draw(st.integers(-3, 3)) * period
        inside = (t > centre - length / 2) & (t < centre + length / 2) & ~protected
        t, k, protected = t[~inside], k[~inside], protected[~inside]

    # The true count, shown to 0.01, wrapping at the modulus.
    first = draw(st.floats(0.0, 1.5)) * q * n_days
    c0 = (modulus - first) if modulus is not None and modulus > first else first
    counts = c0 + q * (t - t[0]) / DAY
    true_counter = [Decimal(repr(round(float(c), 2))).quantize(CENT) for c in counts]
    m = None if modulus is None else Decimal(repr(modulus))
    shown = [v if m is None else v % m for v in true_counter]
    spec = CounterSpec(modulus=modulus, max_rate_per_day=max_rate)
    tol = Decimal(repr(spec.tolerance(period_s))).quantize(CENT, rounding="ROUND_DOWN")
    out = Series(t, np.zeros(t.size), spec, period_s, q, days, true_counter)

    dt = np.diff(t)
    covered = dt <= 6 * period
    edges = np.array([d[0] for d in days] + [end])
    near_edge = np.array(
        [bool(np.any((edges > t[max(i - 2, 0)]) & (edges < t[min(i + 2, t.size - 1)]))) for i in
         range(t.size)]
    )  # fmt: skip
    taken = np.zeros(t.size, dtype=bool)

    def candidates() -> np.ndarray:
        ok = np.zeros(t.size, dtype=bool)
        ok[2:-2] = covered[1:-2] & covered[2:-1] & covered[:-3] & covered[3:]
        free = ~(taken | np.roll(taken, 1) | np.roll(taken, -1))
        return np.flatnonzero(ok & free & ~protected & ~near_edge)

    # Resets: the counter drops to 0 inside an interval and counts on from there.
    # Drawn first, applied in time order: each reset rewrites the readings after it, so an
    # earlier one applied last would rewrite (and undo) a later one.
    if with_resets:
        chosen: list[tuple[int, float]] = []
        for _ in range(draw(st.integers(1, 2))):
            pool = candidates()
            pool = pool[pool < t.size - 3]
            if pool.size == 0:
                break
            i = int(pool[draw(st.integers(0, pool.size - 1))])
            chosen.append((i, draw(st.floats(0.01, 0.99))))
            taken[max(i - 1, 0) : i + 3] = True
        for i, fraction in sorted(chosen):
            at = t[i] + int(fraction * (t[i + 1] - t[i]))
            offset = float(counts[i]) + q * (at - t[i]) / DAY  # the count at the reset moment
            for j in range(i + 1, t.size):
                value = Decimal(repr(round(float(counts[j] - offset), 2))).quantize(CENT)
                shown[j] = value if m is None else value % m
            before, after = shown[i], shown[i + 1]
            # Make it a drop no rule could read as noise or as a wrap.
            limit = Decimal(repr(float(max_rate * (dt[i] / US + period_s) / 86_400))) + tol
            assume(before - after > 2 * tol)
            assume(m is None or before < m - limit - after)
            out.resets.append(i)
            counts = counts - np.where(np.arange(t.size) > i, offset, 0.0)

    # Stale re-reads (after the resets, which rewrite the readings that follow them): a reading
    # replaced by one up to the tolerance below the previous one.
    for _ in range(draw(st.integers(0, 4))):
        pool = candidates()
        if pool.size == 0:
            break
        i = int(pool[draw(st.integers(0, pool.size - 1))])
        step = Decimal(draw(st.integers(1, max(1, int(tol / CENT))))) * CENT
        stale = shown[i - 1] - step
        shown[i] = stale if m is None or stale >= 0 else stale + m
        taken[i] = True
        out.backsteps += 1

    out.r = np.array([float(v) for v in shown])
    if m is not None and not out.resets:
        # The wraps between the readings at the stretch's ends.
        out.wraps = int(true_counter[out.index(end)] // m - true_counter[out.index(start)] // m)
    return out


def day_results(s: Series, **extra: object) -> list:  # type: ignore[type-arg]
    return [
        totalizer_volume(
            s.t,
            s.r,
            day_start_us=lo,
            day_end_us=hi,
            gap_tolerance_s=s.tol_s,
            sampling_period_s=s.period_s,
            counter=s.spec,
            **extra,  # type: ignore[arg-type]
        )
        for lo, hi in s.days
    ]


def whole(s: Series, **extra: object):  # type: ignore[no-untyped-def]
    return totalizer_volume(
        s.t,
        s.r,
        day_start_us=s.days[0][0],
        day_end_us=s.days[-1][1],
        gap_tolerance_s=s.tol_s,
        sampling_period_s=s.period_s,
        counter=s.spec,
        **extra,  # type: ignore[arg-type]
    )


def check_parts(result) -> None:  # type: ignore[no-untyped-def]
    v = result.volume
    assert v.measured >= 0
    assert all(p.volume >= 0 for p in v.estimates)
    assert v.unestimated == ()
    assert v.total == v.measured + sum((p.volume for p in v.estimates), Decimal(0))


PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(series(with_resets=False))
def test_days_add_up_exactly_to_the_counter_difference_and_each_day_is_true(s: Series) -> None:
    days = day_results(s)
    stretch = whole(s)
    start, end = s.days[0][0], s.days[-1][1]

    counter_difference = s.true_counter[s.index(end)] - s.true_counter[s.index(start)]
    total = sum((d.volume.total for d in days), Decimal(0))
    assert total == stretch.volume.total == counter_difference
    for d in days:
        check_parts(d)
        assert abs(float(d.volume.total) - s.q) <= 0.02 + 1e-9
    assert stretch.quality.backsteps == s.backsteps
    assert stretch.quality.rollovers == s.wraps
    assert stretch.quality.resets == 0
    # Gaps wholly inside a day are measured; only a cut through a gap is estimated.
    for d in days:
        for p in d.volume.estimates:
            assert p.method == "counter_difference_across_gap"
            assert p.start_us == d.quality.window_start_us or p.end_us == d.quality.window_end_us


@PROPERTY_SETTINGS
@given(series(with_resets=True), st.booleans())
def test_resets_are_estimated_within_the_rate_error_and_days_still_add_up(
    s: Series, with_rate: bool
) -> None:
    extra: dict[str, object] = {}
    if with_rate:
        extra["rate"] = RateSamples(s.t, np.full(s.t.size, s.q))
    days = day_results(s, **extra)
    stretch = whole(s, **extra)

    total = sum((d.volume.total for d in days), Decimal(0))
    assert total == stretch.volume.total
    for d in days:
        check_parts(d)
        resets_in_day = sum(
            1
            for i in s.resets
            if min(s.t[i + 1], d.quality.window_end_us) > max(s.t[i], d.quality.window_start_us)
        )
        assert abs(float(d.volume.total) - s.q) <= 0.02 + 0.05 * resets_in_day + 1e-9
    resets = [e for e in stretch.events if e.kind == "reset"]
    assert [e.after_us for e in resets] == [int(s.t[i + 1]) for i in sorted(s.resets)]
    assert all(e.needs_confirmation for e in resets)
    assert stretch.quality.backsteps == s.backsteps
