"""Daily volumes and quality figures, checked against analytic integrals and hand calculations.

Every expected number below comes from a closed form or is worked out in a comment; none is
produced by the code under test.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from anh_reporter.production.volumes import (
    Gap,
    QualityScoring,
    flow_weighted_average,
    integrate_rate,
    totalizer_volume,
)

US = 1_000_000
HOUR = 3600 * US
DAY = 24 * HOUR
# Contract day 2026-02-02 06:00 America/Bogota (UTC-5) = 11:00 UTC.
S = int(datetime(2026, 2, 2, 11, tzinfo=UTC).timestamp()) * US
E = S + DAY
BAD = 0x80000000
UNCERTAIN = 0x40000000

DEFAULTS = {"day_start_us": S, "day_end_us": E, "sampling_period_s": 600.0}


def jittered_times(start: int, end: int, seed: int, step_s: int = 600, jitter_s: int = 200):
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


def grid_times(start: int, end: int, step_s: int = 600):
    """Exact grid from ``start`` to ``end`` inclusive."""
    return np.arange(start, end + 1, step_s * US, dtype=np.int64)


def seconds_since(times, origin: int = S):
    return (times - origin) / US


def trapezoid(times, values) -> float:
    """Closed-form trapezoid of the sampled points, in value × seconds (independent of the code)."""
    t = [int(x) for x in times]
    v = [float(x) for x in values]
    return math.fsum((t[i + 1] - t[i]) / US * (v[i] + v[i + 1]) / 2 for i in range(len(t) - 1))


# --- integrate_rate: exact integrals -------------------------------------------------------


def test_constant_rate_with_jittered_samples_integrates_exactly():
    times = jittered_times(S, E, seed=1)
    rates = np.full(times.size, 1234.5)

    result = integrate_rate(times, rates, gap_tolerance_s=1200, **DEFAULTS)

    # 1234.5 bbl/d over exactly one day.
    assert result.volume == pytest.approx(1234.5, rel=1e-9)
    q = result.quality
    assert q.covered_s == 86_400 and q.gap_s == 0 and q.longest_gap_s == 0 and q.gaps == ()
    assert q.time_completeness_pct == 100.0
    assert q.score.score == pytest.approx(100.0)


def test_ramp_rate_with_jittered_samples_matches_analytic_integral():
    times = jittered_times(S, E, seed=2)
    tau = seconds_since(times)
    rates = 800.0 + 0.005 * tau  # bbl/d, τ in seconds since the day start

    result = integrate_rate(times, rates, gap_tolerance_s=1200, **DEFAULTS)

    # ∫0^86400 (800 + 0.005 τ) dτ / 86400 = 800 + 0.005 × 86400 / 2 = 1016 bbl.
    assert result.volume == pytest.approx(1016.0, rel=1e-9)


def test_sine_rate_matches_closed_form_trapezoid_of_the_samples():
    """The sine is checked against the trapezoid of its own samples (exact for the method),
    computed independently here with samples placed exactly on both window edges; the analytic
    integral is only a loose sanity check (trapezoid error with 10-min jittered samples)."""
    times = jittered_times(S, E, seed=3)
    times[1] = S  # grid point k = 0 moved onto the window start
    times[-2] = E  # grid point k = 144 moved onto the window end
    tau = seconds_since(times)
    rates = 1000.0 + 200.0 * np.sin(2 * math.pi * tau / 86_400 + 0.3)

    result = integrate_rate(times, rates, gap_tolerance_s=1200, **DEFAULTS)

    inside = (times >= S) & (times <= E)
    expected = trapezoid(times[inside], rates[inside]) / 86_400
    assert result.volume == pytest.approx(expected, rel=1e-12)
    # A whole period of the sine integrates to 0: the analytic volume is 1000 bbl.
    assert result.volume == pytest.approx(1000.0, rel=1e-5)


def test_rate_time_base_per_hour():
    times = grid_times(S - HOUR, E + HOUR)
    result = integrate_rate(
        times, np.full(times.size, 50.0), gap_tolerance_s=900, rate_time_base_s=3600, **DEFAULTS
    )
    assert result.volume == pytest.approx(50.0 * 24, rel=1e-12)  # 50 bbl/h × 24 h


def test_window_is_taken_as_given_not_assumed_24h():
    end = S + 25 * HOUR
    times = grid_times(S - HOUR, end + HOUR)
    result = integrate_rate(
        times,
        np.full(times.size, 240.0),
        day_start_us=S,
        day_end_us=end,
        gap_tolerance_s=900,
        sampling_period_s=600,
    )
    assert result.volume == pytest.approx(250.0, rel=1e-12)  # 240 bbl/d × 25/24 d
    assert result.quality.window_s == 90_000
    assert result.quality.samples_expected == 150  # 25 h / 10 min


def test_consecutive_days_add_up_to_the_two_day_integral():
    end2 = E + DAY
    times = jittered_times(S, end2, seed=4)
    times[1] = S
    times[-2] = end2
    assert not np.any(times == E)  # the day boundary falls inside a sampling interval
    rng = np.random.default_rng(5)
    tau = seconds_since(times)
    rates = 900 + 150 * np.sin(tau / 20_000) + rng.normal(0, 25, times.size)

    day1 = integrate_rate(times, rates, gap_tolerance_s=1200, **DEFAULTS)
    day2 = integrate_rate(
        times,
        rates,
        day_start_us=E,
        day_end_us=end2,
        gap_tolerance_s=1200,
        sampling_period_s=600,
    )
    both = integrate_rate(
        times, rates, day_start_us=S, day_end_us=end2, gap_tolerance_s=1200, sampling_period_s=600
    )

    inside = (times >= S) & (times <= end2)
    expected = trapezoid(times[inside], rates[inside]) / 86_400
    assert day1.volume + day2.volume == pytest.approx(expected, rel=1e-12)
    assert both.volume == pytest.approx(expected, rel=1e-12)
    assert day1.quality.covered_s + day2.quality.covered_s == 2 * 86_400


# --- integrate_rate: gaps and quality ------------------------------------------------------


def test_gap_longer_than_tolerance_is_not_interpolated_and_is_reported():
    times = grid_times(S - 600 * US, E + 600 * US)
    keep = ~((times > S + 10 * HOUR) & (times < S + 13 * HOUR))
    times = times[keep]

    result = integrate_rate(times, np.full(times.size, 240.0), gap_tolerance_s=900, **DEFAULTS)

    # 10:00 → 13:00 has no sample: 3 h uncovered, 21 h covered → 240 × 21/24 = 210 bbl.
    assert result.volume == pytest.approx(210.0, rel=1e-12)
    q = result.quality
    assert q.gaps == (Gap(S + 10 * HOUR, S + 13 * HOUR),)
    assert q.longest_gap_s == 10_800
    assert q.gap_s == 10_800 and q.covered_s == 75_600
    assert q.time_completeness_pct == pytest.approx(87.5)
    # Grid points 10:10 … 12:50 are missing: 17 of 144.
    assert (q.samples_expected, q.samples_received, q.samples_good) == (144, 127, 127)
    assert q.sample_completeness_pct == pytest.approx(100 * 127 / 144)
    # 60 × 0.875 + 20 × 1 + 20 × (1 − 10800/14400) = 52.5 + 20 + 5 = 77.5
    s = q.score
    assert (s.coverage_points, s.good_ratio_points, s.gap_points) == pytest.approx((52.5, 20, 5))
    assert s.score == pytest.approx(77.5)
    assert s.explain().startswith("score 77.5 = 52.5 coverage (87.5 % of the day)")


def test_missing_neighbour_leaves_the_edge_as_a_gap():
    times = grid_times(S + 1800 * US, E + 600 * US)  # first sample 30 min into the day

    result = integrate_rate(times, np.full(times.size, 480.0), gap_tolerance_s=900, **DEFAULTS)

    # 480 bbl/d × (86400 − 1800)/86400 = 470 bbl.
    assert result.volume == pytest.approx(470.0, rel=1e-12)
    q = result.quality
    assert q.gaps == (Gap(S, S + 1800 * US),) and q.longest_gap_s == 1800
    # Samples at 00:30 + k × 10 min before 24:00: k = 0 … 140.
    assert q.samples_received == 141
    # 60 × 84600/86400 + 20 + 20 × (1 − 1800/14400) = 58.75 + 20 + 17.5 = 96.25
    assert q.score.score == pytest.approx(96.25)


def test_neighbour_beyond_tolerance_is_not_used_at_the_edge():
    times = np.concatenate(([S - 1200 * US], grid_times(S + 600 * US, E)))
    result = integrate_rate(times, np.full(times.size, 100.0), gap_tolerance_s=900, **DEFAULTS)
    # The interval S−20 min → S+10 min is 30 min > 15 min: [S, S+10 min) is a gap.
    assert result.volume == pytest.approx(100.0 * 85_800 / 86_400, rel=1e-12)
    assert result.quality.gaps == (Gap(S, S + 600 * US),)


def test_bad_and_uncertain_samples_are_excluded():
    times = grid_times(S - 600 * US, E + 600 * US)
    k = np.arange(times.size) - 1  # grid index: k = 0 at the window start
    rates = np.full(times.size, 300.0)
    quality = np.zeros(times.size, dtype=np.uint32)
    quality[k % 6 == 3] = BAD
    rates[k % 6 == 3] = 1e9
    quality[k % 6 == 5] = UNCERTAIN
    rates[k % 6 == 5] = -5e8

    result = integrate_rate(times, rates, quality, gap_tolerance_s=1300, **DEFAULTS)

    # Removing isolated samples leaves 20-min intervals, within the 1,300 s tolerance.
    assert result.volume == pytest.approx(300.0, rel=1e-12)
    q = result.quality
    assert (q.samples_received, q.samples_good, q.samples_uncertain, q.samples_bad) == (
        144,
        96,
        24,
        24,
    )
    assert q.gaps == ()
    # 60 + 20 × 96/144 + 20 = 93.33…
    assert q.score.good_ratio == pytest.approx(2 / 3)
    assert q.score.score == pytest.approx(80 + 40 / 3)


def test_bad_samples_make_a_gap_and_nan_counts_as_bad():
    times = grid_times(S - 600 * US, E + 600 * US)
    rates = np.full(times.size, 300.0)
    rates[50] = np.nan  # Good status but not a number: not used, counted bad
    during = (times > S + 2 * HOUR) & (times < S + 5 * HOUR)
    # Signed int4 form of Bad, as the database stores it.
    quality = np.where(during, np.uint32(BAD), np.uint32(0)).astype(np.uint32).view(np.int32)
    assert quality.min() < 0

    result = integrate_rate(times, rates, quality, gap_tolerance_s=900, **DEFAULTS)

    # 2:00 → 5:00 Bad (3 h gap); the NaN at grid k = 49 (8:10) leaves a 20-min gap.
    assert result.volume == pytest.approx(300.0 * (86_400 - 10_800 - 1_200) / 86_400, rel=1e-12)
    q = result.quality
    assert q.gaps == (Gap(S + 2 * HOUR, S + 5 * HOUR), Gap(S + 48 * 600 * US, S + 50 * 600 * US))
    assert q.longest_gap_s == 10_800
    assert (q.samples_good, q.samples_bad) == (144 - 17 - 1, 17 + 1)


def test_no_samples_gives_zero_volume_and_zero_score():
    result = integrate_rate(
        np.array([], dtype=np.int64), np.array([]), gap_tolerance_s=900, **DEFAULTS
    )
    q = result.quality
    assert result.volume == 0.0
    assert q.gaps == (Gap(S, E),) and q.longest_gap_s == 86_400
    assert (q.samples_expected, q.samples_received, q.sample_completeness_pct) == (144, 0, 0.0)
    assert q.score.score == 0.0


def test_custom_scoring_weights():
    times = grid_times(S - 600 * US, E + 600 * US)
    times = times[~((times > S + 10 * HOUR) & (times < S + 13 * HOUR))]
    scoring = QualityScoring(
        coverage_weight=50, good_ratio_weight=30, gap_weight=20, longest_gap_limit_s=3 * 3600
    )
    result = integrate_rate(
        times, np.full(times.size, 1.0), gap_tolerance_s=900, scoring=scoring, **DEFAULTS
    )
    # 50 × 0.875 + 30 × 1 + 20 × max(0, 1 − 3 h / 3 h) = 43.75 + 30 + 0
    assert result.quality.score.score == pytest.approx(73.75)


def test_scoring_weights_must_add_up_to_100():
    with pytest.raises(ValueError, match=r"must be 100 points, got 110"):
        QualityScoring(coverage_weight=70)
    with pytest.raises(ValueError, match=r"reset_penalty must be a finite number >= 0, got -1"):
        QualityScoring(reset_penalty=-1)


# --- totalizer_volume ----------------------------------------------------------------------


def test_totalizer_plain_difference():
    times = jittered_times(S, E, seed=6)
    readings = 5000.0 + 100.0 * seconds_since(times) / 3600  # 100 bbl/h

    result = totalizer_volume(times, readings, gap_tolerance_s=1200, rollover_value=1e7, **DEFAULTS)

    assert result.volume == pytest.approx(2400.0, rel=1e-9)
    assert result.events == ()
    assert result.quality.score.score == pytest.approx(100.0)


def test_totalizer_one_rollover():
    times = jittered_times(S, E, seed=7)
    readings = (9_999_000.0 + 100.0 * seconds_since(times) / 3600) % 1e7  # wraps at 10:00

    result = totalizer_volume(times, readings, gap_tolerance_s=1200, rollover_value=1e7, **DEFAULTS)

    assert result.volume == pytest.approx(2400.0, rel=1e-9)
    assert [e.kind for e in result.events] == ["rollover"]
    event = result.events[0]
    assert event.before_us < S + 10 * HOUR < event.after_us
    assert result.quality.rollovers == 1 and result.quality.resets == 0
    assert result.quality.score.score == pytest.approx(98.0)  # 100 − 2 per rollover


def test_totalizer_reset_is_flagged_and_counted_from_zero():
    times = grid_times(S, E)  # k = 0 … 144, 10 min apart
    k = np.arange(times.size)
    # 10 per 10 min until 12:00 (k = 72: 5720); the meter is reset to 0 at 12:05, so at
    # 12:10 it reads 5, then 10 more every 10 min: 10 (k − 72) − 5; at 24:00 (k = 144): 715.
    readings = np.where(k <= 72, 5000.0 + 10 * k, 10.0 * (k - 72) - 5)

    result = totalizer_volume(times, readings, gap_tolerance_s=900, rollover_value=1e7, **DEFAULTS)

    # 5720 − 5000 = 720 before; 5 across the reset; 715 − 5 = 710 after → 1435
    # (the 5 between 12:00 and the reset at 12:05 are lost).
    assert result.volume == pytest.approx(1435.0, rel=1e-12)
    assert len(result.events) == 1
    event = result.events[0]
    assert (event.kind, event.before_us, event.after_us) == (
        "reset",
        S + 72 * 600 * US,
        S + 73 * 600 * US,
    )
    assert (event.before_value, event.after_value, event.increment) == (5720.0, 5.0, 5.0)
    assert result.quality.resets == 1
    assert result.quality.score.reset_penalty == 20.0
    assert result.quality.score.score == pytest.approx(80.0)


def test_totalizer_rollover_at_the_window_edge():
    times = S - 300 * US + np.arange(146, dtype=np.int64) * 600 * US  # S−5 min … E+5 min
    unwrapped = 999_995.0 + 10.0 * np.arange(146)  # 1 per minute
    readings = unwrapped % 1e6  # 999995 at S−5 min, 5 at S+5 min

    today = totalizer_volume(times, readings, gap_tolerance_s=900, rollover_value=1e6, **DEFAULTS)
    yesterday = totalizer_volume(
        times,
        readings,
        day_start_us=S - DAY,
        day_end_us=S,
        gap_tolerance_s=900,
        sampling_period_s=600,
        rollover_value=1e6,
    )

    # 1 per minute × 1440 min; the edge reading at S is 1,000,000 ≡ 0 (interpolated).
    assert today.volume == pytest.approx(1440.0, rel=1e-12)
    assert [e.kind for e in today.events] == ["rollover"]
    assert today.events[0].increment == pytest.approx(10.0)
    # Yesterday gets the 5 counted from S−5 min to S, and sees the same rollover.
    assert yesterday.volume == pytest.approx(5.0, rel=1e-12)
    assert [e.kind for e in yesterday.events] == ["rollover"]
    # Together, from the first reading (S−5 min) to the window end E, unwrapped:
    # 1001440 (interpolated at E, half-way to E+5 min) − 999995 = 1445.
    assert today.volume + yesterday.volume == pytest.approx(1445.0, rel=1e-12)


def test_totalizer_without_rollover_value_flags_a_wrap_as_reset():
    times = grid_times(S, E)
    readings = (999_000.0 + 10.0 * np.arange(times.size)) % 1e6  # wraps at k = 100
    result = totalizer_volume(times, readings, gap_tolerance_s=900, rollover_value=None, **DEFAULTS)
    # Reset counted from 0: 990 before (k 0 → 99), 0 across (reads 0 at k = 100), 440 after.
    assert result.volume == pytest.approx(1430.0, rel=1e-12)
    assert [e.kind for e in result.events] == ["reset"]


def test_totalizer_drop_far_from_a_full_rollover_is_a_reset():
    times = grid_times(S, S + 2 * 600 * US)
    readings = np.array([600_000.0, 100_000.0, 100_010.0])  # drop of half the rollover
    result = totalizer_volume(
        times,
        readings,
        day_start_us=S,
        day_end_us=S + 1200 * US,
        gap_tolerance_s=900,
        sampling_period_s=600,
        rollover_value=1e6,
    )
    assert [e.kind for e in result.events] == ["reset"]
    assert result.volume == pytest.approx(100_010.0)


def test_totalizer_small_backstep_cancels_out():
    times = grid_times(S, S + 2 * 600 * US)
    readings = np.array([1000.0, 999.99, 1000.5])
    window = {"day_start_us": S, "day_end_us": S + 1200 * US, "sampling_period_s": 600}

    tolerant = totalizer_volume(
        times, readings, gap_tolerance_s=900, rollover_value=None, max_backstep=0.1, **window
    )
    strict = totalizer_volume(times, readings, gap_tolerance_s=900, rollover_value=None, **window)

    assert tolerant.volume == pytest.approx(0.5, rel=1e-9) and tolerant.events == ()
    # Without it the 0.01 step back reads as a reset: 999.99 + 0.51.
    assert strict.volume == pytest.approx(1000.5, rel=1e-9)
    assert [e.kind for e in strict.events] == ["reset"]


def test_totalizer_interior_gap_keeps_the_volume_but_is_reported():
    times = grid_times(S, E)
    times = times[~((times > S + 10 * HOUR) & (times < S + 13 * HOUR))]
    readings = 5000.0 + 100.0 * seconds_since(times) / 3600

    result = totalizer_volume(times, readings, gap_tolerance_s=900, rollover_value=1e7, **DEFAULTS)

    assert result.volume == pytest.approx(2400.0, rel=1e-12)
    assert result.quality.gaps == (Gap(S + 10 * HOUR, S + 13 * HOUR),)
    assert result.quality.time_completeness_pct == pytest.approx(87.5)


def test_totalizer_edge_without_neighbour_loses_the_edge_volume():
    times = grid_times(S + 1800 * US, E)
    readings = 5000.0 + 100.0 * seconds_since(times) / 3600
    result = totalizer_volume(times, readings, gap_tolerance_s=900, rollover_value=1e7, **DEFAULTS)
    assert result.volume == pytest.approx(2350.0, rel=1e-12)  # 100 bbl/h × 23.5 h
    assert result.quality.gaps == (Gap(S, S + 1800 * US),)


def test_totalizer_score_is_clipped_at_zero():
    times = grid_times(S, E)
    k = np.arange(times.size)
    readings = np.where(k <= 72, 5000.0 + 10 * k, 10.0 * (k - 72) - 5)
    result = totalizer_volume(
        times,
        readings,
        gap_tolerance_s=900,
        rollover_value=1e7,
        scoring=QualityScoring(reset_penalty=150),
        **DEFAULTS,
    )
    assert result.quality.score.score == 0.0


# --- flow_weighted_average -----------------------------------------------------------------

W = 86_400.0


def test_flow_weighted_average_of_linear_signals_is_exact():
    rate_t = jittered_times(S, E, seed=8)
    values_t = jittered_times(S, E, seed=9, step_s=900, jitter_s=100)
    rate = 500.0 + 0.01 * seconds_since(rate_t)  # bbl/d
    temperature = 60.0 + 0.0002 * seconds_since(values_t)  # °F

    result = flow_weighted_average(
        values_t, temperature, rate_t, rate, day_start_us=S, day_end_us=E, gap_tolerance_s=1200
    )

    # q = 500 + 0.01 τ, p = 60 + 0.0002 τ on [0, W]:
    flow = 500 * W + 0.01 * W**2 / 2
    flow_p = 500 * 60 * W + (500 * 0.0002 + 0.01 * 60) * W**2 / 2 + 0.01 * 0.0002 * W**3 / 3
    assert result is not None
    assert result.basis == "flow"
    assert result.value == pytest.approx(flow_p / flow, rel=1e-9)
    assert result.weight_volume == pytest.approx(flow / 86_400, rel=1e-9)
    assert result.covered_s == pytest.approx(W)


def test_flow_weighted_average_ignores_the_property_when_nothing_flows():
    times = grid_times(S, E)
    k = np.arange(times.size)
    rate = np.where(k <= 72, 1000.0, 0.0)  # flows until 12:00, stopped from 12:10
    bsw = np.where(k <= 73, 50.0, 80.0)  # changes only after the flow stopped

    result = flow_weighted_average(
        times, bsw, times, rate, day_start_us=S, day_end_us=E, gap_tolerance_s=900
    )

    assert result is not None and result.basis == "flow"
    assert result.value == pytest.approx(50.0, rel=1e-12)
    # 1000 bbl/d × 12 h + the 12:00 → 12:10 ramp down (1000 × 600 s / 2), in days.
    assert result.weight_volume == pytest.approx((1000 * 43_200 + 1000 * 600 / 2) / 86_400)


def test_flow_weighted_average_falls_back_to_time_weighted_without_flow():
    values_t = jittered_times(S, E, seed=10)
    pressure = 60.0 + 0.0002 * seconds_since(values_t)
    rate_t = grid_times(S - HOUR, E + HOUR)

    for rate_times, rate in ((rate_t, np.zeros(rate_t.size)), (np.array([], np.int64), [])):
        result = flow_weighted_average(
            values_t, pressure, rate_times, rate, day_start_us=S, day_end_us=E, gap_tolerance_s=1200
        )
        assert result is not None and result.basis == "time"
        assert result.value == pytest.approx(60.0 + 0.0002 * W / 2, rel=1e-12)  # 68.64
        assert result.weight_volume == 0.0


def test_flow_weighted_average_single_lab_sample():
    rate_t = grid_times(S, E)
    result = flow_weighted_average(
        np.array([S + 8 * HOUR]),
        np.array([0.35]),
        rate_t,
        np.full(rate_t.size, 900.0),
        day_start_us=S,
        day_end_us=E,
        gap_tolerance_s=900,
    )
    assert result is not None
    assert (result.basis, result.value, result.samples_good) == ("samples", 0.35, 1)


def test_flow_weighted_average_is_none_without_good_samples():
    rate_t = grid_times(S, E)
    rate = np.full(rate_t.size, 900.0)
    common = {"day_start_us": S, "day_end_us": E, "gap_tolerance_s": 900}
    values_t = grid_times(S, E, step_s=3600)
    all_bad = np.full(values_t.size, BAD, dtype=np.uint32)

    assert flow_weighted_average(np.array([], np.int64), [], rate_t, rate, **common) is None
    assert (
        flow_weighted_average(
            values_t, np.ones(values_t.size), rate_t, rate, values_quality=all_bad, **common
        )
        is None
    )
    outside = np.array([S - 5 * HOUR])  # a good sample, but far outside the window
    assert flow_weighted_average(outside, [1.0], rate_t, rate, **common) is None


# --- argument errors -----------------------------------------------------------------------


def test_unsorted_times_are_rejected():
    times = np.array([S, S + 600 * US, S + 300 * US])
    with pytest.raises(ValueError, match=r"times_us must be strictly increasing: times_us\[2\]="):
        integrate_rate(times, [1.0, 1.0, 1.0], gap_tolerance_s=900, **DEFAULTS)
    with pytest.raises(ValueError, match=r"rate_t must be strictly increasing"):
        flow_weighted_average(
            [S], [1.0], times, [1.0, 1.0, 1.0], day_start_us=S, day_end_us=E, gap_tolerance_s=1
        )


def test_duplicate_times_are_rejected():
    times = np.array([S, S, S + 600 * US])
    with pytest.raises(ValueError, match=rf"times_us\[1\]={S} is not greater than times_us\[0\]"):
        totalizer_volume(
            times, [1.0, 1.0, 2.0], gap_tolerance_s=900, rollover_value=None, **DEFAULTS
        )


def test_mismatched_lengths_are_rejected():
    times = grid_times(S, S + 1800 * US)  # 4 samples
    with pytest.raises(ValueError, match=r"rates has 3 elements but times_us has 4"):
        integrate_rate(times, [1.0, 2.0, 3.0], gap_tolerance_s=900, **DEFAULTS)
    with pytest.raises(ValueError, match=r"quality has 2 elements but times_us has 4"):
        integrate_rate(times, np.ones(4), [0, 0], gap_tolerance_s=900, **DEFAULTS)
    with pytest.raises(ValueError, match=r"values has 1 elements but values_t has 4"):
        flow_weighted_average(
            times, [1.0], times, np.ones(4), day_start_us=S, day_end_us=E, gap_tolerance_s=900
        )


def test_negative_tolerance_is_rejected():
    times = grid_times(S, E)
    with pytest.raises(ValueError, match=r"gap_tolerance_s must be a finite number >= 0, got -1"):
        integrate_rate(times, np.ones(times.size), gap_tolerance_s=-1, **DEFAULTS)
    with pytest.raises(ValueError, match=r"values_gap_tolerance_s must be .* >= 0, got -5"):
        flow_weighted_average(
            times,
            np.ones(times.size),
            times,
            np.ones(times.size),
            day_start_us=S,
            day_end_us=E,
            gap_tolerance_s=900,
            values_gap_tolerance_s=-5,
        )


def test_other_invalid_arguments_are_rejected():
    times = grid_times(S, E)
    ones = np.ones(times.size)
    with pytest.raises(ValueError, match=r"day_end_us must be greater than day_start_us"):
        integrate_rate(
            times, ones, day_start_us=E, day_end_us=S, gap_tolerance_s=900, sampling_period_s=600
        )
    with pytest.raises(ValueError, match=r"sampling_period_s must be a finite number > 0, got 0"):
        integrate_rate(
            times, ones, day_start_us=S, day_end_us=E, gap_tolerance_s=900, sampling_period_s=0
        )
    with pytest.raises(ValueError, match=r"times_us must hold integer microseconds"):
        integrate_rate(times / US, ones, gap_tolerance_s=900, **DEFAULTS)
    with pytest.raises(ValueError, match=r"rollover_margin must be in \[0, 1\), got 1.5"):
        totalizer_volume(
            times, ones, gap_tolerance_s=900, rollover_value=1e7, rollover_margin=1.5, **DEFAULTS
        )
    with pytest.raises(ValueError, match=r"quality must hold 32-bit OPC UA status codes"):
        integrate_rate(times, ones, np.full(times.size, 2**33), gap_tolerance_s=900, **DEFAULTS)
