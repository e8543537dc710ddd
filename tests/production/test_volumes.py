"""Rate-integrated volumes, coverage and quality, flow-weighted averages, argument errors.

Every expected number below comes from a closed form or is worked out in a comment; none is
produced by the code under test. Totalizers are in test_totalizer.py, the property tests in
test_volume_properties.py.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from anh_reporter.production.volumes import (
    CounterSpec,
    Gap,
    ManualWindow,
    QualityScoring,
    flow_weighted_average,
    integrate_rate,
    totalizer_volume,
)

from .series import (
    BAD,
    DAY,
    DEFAULTS,
    HOUR,
    UNCERTAIN,
    US,
    E,
    S,
    grid_times,
    jittered_times,
    seconds_since,
    trapezoid,
)

# --- integrate_rate: exact integrals -------------------------------------------------------


def test_constant_rate_with_jittered_samples_integrates_exactly():
    times = jittered_times(S, E, seed=1)
    rates = np.full(times.size, 1234.5)

    result = integrate_rate(times, rates, gap_tolerance_s=1200, **DEFAULTS)

    # 1234.5 bbl/d over exactly one day, all of it measured.
    assert float(result.volume.total) == pytest.approx(1234.5, rel=1e-9)
    assert result.volume.estimates == () and result.volume.measured_share_pct == 100.0
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
    assert float(result.volume.total) == pytest.approx(1016.0, rel=1e-9)


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
    assert float(result.volume.total) == pytest.approx(expected, rel=1e-12)
    # A whole period of the sine integrates to 0: the analytic volume is 1000 bbl.
    assert float(result.volume.total) == pytest.approx(1000.0, rel=1e-5)


def test_rate_time_base_per_hour():
    times = grid_times(S - HOUR, E + HOUR)
    result = integrate_rate(
        times, np.full(times.size, 50.0), gap_tolerance_s=900, rate_time_base_s=3600, **DEFAULTS
    )
    assert float(result.volume.total) == pytest.approx(50.0 * 24, rel=1e-12)  # 50 bbl/h × 24 h


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
    assert float(result.volume.total) == pytest.approx(250.0, rel=1e-12)  # 240 bbl/d × 25/24 d
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
    assert float(day1.volume.total + day2.volume.total) == pytest.approx(expected, rel=1e-12)
    assert float(both.volume.total) == pytest.approx(expected, rel=1e-12)
    assert day1.quality.covered_s + day2.quality.covered_s == 2 * 86_400


# --- integrate_rate: gaps are estimated, flagged and scored ---------------------------------


def three_hour_gap() -> np.ndarray:
    """10-min grid from S − 10 min to E + 10 min without the samples between 10:00 and 13:00."""
    times = grid_times(S - 600 * US, E + 600 * US)
    return times[~((times > S + 10 * HOUR) & (times < S + 13 * HOUR))]


def test_rate_gap_is_estimated_on_the_straight_line_and_reported():
    times = three_hour_gap()

    result = integrate_rate(times, np.full(times.size, 240.0), gap_tolerance_s=900, **DEFAULTS)

    # Measured 240 bbl/d × 21/24 = 210 bbl; the gap 10:00 → 13:00 on the straight line between
    # its edge samples (240 and 240): 240 × 3/24 = 30 bbl. The day is whole: 240 bbl.
    v = result.volume
    assert float(v.measured) == pytest.approx(210.0, rel=1e-12)
    assert [(p.start_us, p.end_us, p.method) for p in v.estimates] == [
        (S + 10 * HOUR, S + 13 * HOUR, "rate_interpolation")
    ]
    assert float(v.estimated) == pytest.approx(30.0, rel=1e-12)
    assert float(v.total) == pytest.approx(240.0, rel=1e-12)
    assert v.measured_share_pct == pytest.approx(87.5)
    assert v.unestimated == ()
    q = result.quality
    assert q.gaps == (Gap(S + 10 * HOUR, S + 13 * HOUR),)
    assert q.longest_gap_s == 10_800
    assert q.gap_s == 10_800 and q.covered_s == 75_600
    assert q.time_completeness_pct == pytest.approx(87.5)
    # Grid points 10:10 … 12:50 are missing: 17 of 144.
    assert (q.samples_expected, q.samples_received, q.samples_good) == (144, 127, 127)
    assert q.sample_completeness_pct == pytest.approx(100 * 127 / 144)
    # 60 × 0.875 (measured share) + 20 × 1 + 20 × 0.875 (flow-time coverage)
    # = 52.5 + 20 + 17.5 = 90.
    s = q.score
    assert (s.coverage_points, s.good_ratio_points, s.gap_points) == pytest.approx((52.5, 20, 17.5))
    assert s.score == pytest.approx(90.0)
    assert s.explain() == (
        "score 90.0 = 52.5 measured volume (87.5 % of the volume) + 20.0 good samples "
        "(100.0 %) + 17.5 flow-time coverage (87.5 % of the day) - 0.0 rollovers (0) "
        "- 0.0 unconfirmed resets (0)"
    )


def test_rate_gap_by_interpolation_or_by_last_good_rate():
    times = three_hour_gap()
    rates = np.where(times <= S + 10 * HOUR, 240.0, 480.0)

    line = integrate_rate(times, rates, gap_tolerance_s=900, **DEFAULTS)
    held = integrate_rate(
        times, rates, gap_tolerance_s=900, gap_method="last_good_rate", **DEFAULTS
    )

    # Measured: 240 bbl/d for 10 h (100 bbl) and 480 bbl/d for 11 h (220 bbl) = 320 bbl.
    # Gap on the line from 240 to 480: (240 + 480)/2 × 3/24 = 45 bbl; held at 240: 30 bbl.
    assert float(line.volume.measured) == pytest.approx(320.0, rel=1e-12)
    assert float(line.volume.estimated) == pytest.approx(45.0, rel=1e-12)
    assert float(held.volume.estimated) == pytest.approx(30.0, rel=1e-12)
    assert [p.method for p in held.volume.estimates] == ["last_good_rate"]


def test_rate_without_neighbours_holds_the_nearest_good_rate():
    times = grid_times(S + 1800 * US, E - 2 * HOUR)  # from 06:30 to 04:00 the next morning

    result = integrate_rate(times, np.full(times.size, 480.0), gap_tolerance_s=900, **DEFAULTS)

    # Measured 480 bbl/d × 77,400 s / 86,400 s = 430 bbl. No sample before 06:30: the first
    # good rate held, 480 × 1,800/86,400 = 10 bbl; none after 04:00: the last good rate held,
    # 480 × 7,200/86,400 = 40 bbl. Total 480 bbl.
    v = result.volume
    assert float(v.measured) == pytest.approx(430.0, rel=1e-12)
    assert [(p.start_us, p.end_us, p.method) for p in v.estimates] == [
        (S, S + 1800 * US, "last_good_rate"),
        (E - 2 * HOUR, E, "last_good_rate"),
    ]
    assert [float(p.volume) for p in v.estimates] == pytest.approx([10.0, 40.0], rel=1e-12)
    assert "first good rate 480" in v.estimates[0].detail
    assert "last good rate 480" in v.estimates[1].detail
    q = result.quality
    assert q.gaps == (Gap(S, S + 1800 * US), Gap(E - 2 * HOUR, E))
    # Measured share and coverage are both 77,400/86,400: 80 × 0.8958 + 20 = 91.67.
    assert q.score.score == pytest.approx(80 * 77_400 / 86_400 + 20)


def test_neighbour_beyond_tolerance_is_not_used_for_the_measured_part():
    times = np.concatenate(([S - 1200 * US], grid_times(S + 600 * US, E)))
    result = integrate_rate(times, np.full(times.size, 100.0), gap_tolerance_s=900, **DEFAULTS)
    # The interval S−20 min → S+10 min is 30 min > 15 min: [S, S+10 min) is a gap, estimated on
    # the line between its edge samples (100 and 100): 100 × 600/86,400 bbl.
    assert float(result.volume.measured) == pytest.approx(100.0 * 85_800 / 86_400, rel=1e-12)
    assert [(p.start_us, p.end_us) for p in result.volume.estimates] == [(S, S + 600 * US)]
    assert float(result.volume.total) == pytest.approx(100.0, rel=1e-12)
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
    assert float(result.volume.total) == pytest.approx(300.0, rel=1e-12)
    assert result.volume.estimates == ()
    q = result.quality
    assert (q.samples_received, q.samples_good, q.samples_uncertain, q.samples_bad) == (
        144,
        96,
        24,
        24,
    )
    assert q.gaps == ()
    # The unusable −5e8 samples are not counted as clipped: they are not used at all.
    assert q.negative_clipped == 0
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

    # 2:00 → 5:00 Bad (3 h gap); the NaN at grid k = 49 (8:10) leaves a 20-min gap. Both are
    # estimated at 300 bbl/d, so the day is 300 bbl, measured over 86,400 − 10,800 − 1,200 s.
    v = result.volume
    assert float(v.measured) == pytest.approx(300.0 * (86_400 - 10_800 - 1_200) / 86_400)
    assert float(v.total) == pytest.approx(300.0, rel=1e-12)
    gaps = (Gap(S + 2 * HOUR, S + 5 * HOUR), Gap(S + 48 * 600 * US, S + 50 * 600 * US))
    assert tuple(Gap(p.start_us, p.end_us) for p in v.estimates) == gaps
    q = result.quality
    assert q.gaps == gaps
    assert q.longest_gap_s == 10_800
    assert (q.samples_good, q.samples_bad) == (144 - 17 - 1, 17 + 1)


def test_no_samples_gives_zero_volume_flagged_as_missing_and_zero_score():
    result = integrate_rate(
        np.array([], dtype=np.int64), np.array([]), gap_tolerance_s=900, **DEFAULTS
    )
    v, q = result.volume, result.quality
    assert v.total == 0 and v.estimates == ()
    # Nothing to estimate from: the whole day is listed as missing, and completeness is 0 %.
    assert v.unestimated == (Gap(S, E),)
    assert v.measured_share_pct == 0.0
    assert q.gaps == (Gap(S, E),) and q.longest_gap_s == 86_400
    assert (q.samples_expected, q.samples_received, q.sample_completeness_pct) == (144, 0, 0.0)
    assert q.score.score == 0.0


def test_no_flow_and_nothing_missing_is_complete():
    times = grid_times(S - 600 * US, E + 600 * US)
    result = integrate_rate(times, np.zeros(times.size), gap_tolerance_s=900, **DEFAULTS)
    assert result.volume.total == 0 and result.volume.measured_share_pct == 100.0
    assert result.quality.score.score == 100.0


def test_negative_and_low_flow_rates_are_zeroed_and_counted():
    times = grid_times(S - 600 * US, E + 600 * US)
    k = np.arange(times.size) - 1  # grid index: k = 0 at the window start
    rates = np.full(times.size, 1000.0)
    rates[k == -1] = -20.0  # the neighbour before the window: clipped, not counted
    rates[k == 10] = -50.0  # negative: clipped to 0
    rates[k == 20] = 5.0  # below the 10 bbl/d cutoff: 0
    rates[k == 30] = 12.0  # above the cutoff: kept

    result = integrate_rate(times, rates, gap_tolerance_s=900, low_flow_cutoff=10.0, **DEFAULTS)

    # Each sample taken as 0 instead of 1000 takes 2 × 600 s × 1000/2 = 600,000 bbl·s/d off
    # the trapezoid; the 12 bbl/d sample takes 2 × 600 × 988/2 = 592,800:
    # (86,400,000 − 2 × 600,000 − 592,800) / 86,400 = 84,607,200 / 86,400 = 979.25 bbl.
    assert float(result.volume.total) == pytest.approx(979.25, rel=1e-12)
    assert result.volume.estimates == ()
    assert (result.quality.negative_clipped, result.quality.low_flow_zeroed) == (1, 1)


def test_manual_windows_replace_the_telemetry_figure_and_keep_it():
    times = three_hour_gap()
    rates = np.full(times.size, 2400.0)
    windows = [
        ManualWindow(S + 10 * HOUR, S + 13 * HOUR, Decimal("250"), "manual entry #7"),
        ManualWindow(S, S + HOUR, Decimal("90"), "manual entry #8"),
    ]

    result = integrate_rate(times, rates, gap_tolerance_s=900, manual_windows=windows, **DEFAULTS)

    # Telemetry: 06:00–07:00 measured 2400/24 = 100 bbl; the gap 10:00–13:00 estimated
    # 2400 × 3/24 = 300 bbl; the rest measured 2400 × 20/24 = 2,000 bbl. The two windows
    # replace 100 and 300 by 90 and 250: total 2,000 + 90 + 250 = 2,340 bbl.
    v = result.volume
    assert float(v.measured) == pytest.approx(2000.0, rel=1e-12)
    assert [(p.method, p.volume, p.detail) for p in v.estimates] == [
        ("manual_entry", Decimal("90"), "manual entry #8"),
        ("manual_entry", Decimal("250"), "manual entry #7"),
    ]
    assert float(v.total) == pytest.approx(2340.0, rel=1e-12)
    first, second = v.replaced
    assert first.window.reference == "manual entry #8"
    assert float(first.telemetry_measured) == pytest.approx(100.0, rel=1e-12)
    assert first.telemetry_estimated == 0
    assert float(second.telemetry_measured) == 0.0
    assert float(second.telemetry_estimated) == pytest.approx(300.0, rel=1e-12)
    assert float(second.telemetry_total) == pytest.approx(300.0, rel=1e-12)
    assert v.measured_share_pct == pytest.approx(100 * 2000 / 2340)


def test_manual_windows_are_checked():
    times = grid_times(S, E)
    rates = np.ones(times.size)
    outside = [ManualWindow(S - HOUR, S + HOUR, Decimal("1"), "#1")]
    with pytest.raises(ValueError, match=r"manual window #1 .* one entry per day"):
        integrate_rate(times, rates, gap_tolerance_s=900, manual_windows=outside, **DEFAULTS)
    overlapping = [
        ManualWindow(S, S + 2 * HOUR, Decimal("1"), "#1"),
        ManualWindow(S + HOUR, S + 3 * HOUR, Decimal("1"), "#2"),
    ]
    with pytest.raises(ValueError, match=r"must not overlap: #2 starts at"):
        integrate_rate(times, rates, gap_tolerance_s=900, manual_windows=overlapping, **DEFAULTS)
    negative = [ManualWindow(S, S + HOUR, Decimal("-1"), "#3")]
    with pytest.raises(ValueError, match=r"#3 volume must be a finite number >= 0, got -1"):
        integrate_rate(times, rates, gap_tolerance_s=900, manual_windows=negative, **DEFAULTS)


def test_custom_scoring_weights():
    times = three_hour_gap()
    scoring = QualityScoring(coverage_weight=50, good_ratio_weight=30, gap_weight=20)
    result = integrate_rate(
        times, np.full(times.size, 1.0), gap_tolerance_s=900, scoring=scoring, **DEFAULTS
    )
    # 50 × 0.875 + 30 × 1 + 20 × 0.875 = 43.75 + 30 + 17.5
    assert result.quality.score.score == pytest.approx(91.25)


def test_scoring_weights_must_add_up_to_100():
    with pytest.raises(ValueError, match=r"must be 100 points, got 110"):
        QualityScoring(coverage_weight=70)
    with pytest.raises(ValueError, match=r"reset_penalty must be a finite number >= 0, got -1"):
        QualityScoring(reset_penalty=-1)


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
            times, [1.0, 1.0, 2.0], gap_tolerance_s=900, counter=CounterSpec(), **DEFAULTS
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
    with pytest.raises(ValueError, match=r"rollover_fraction must be in \(0, 0.5\], got 0.6"):
        CounterSpec(modulus=1e7, rollover_fraction=0.6)
    with pytest.raises(ValueError, match=r"modulus must be a finite number > 0, got 0"):
        CounterSpec(modulus=0)
    with pytest.raises(ValueError, match=r"backstep tolerance 6000000.0 must be below half"):
        totalizer_volume(
            times,
            ones,
            gap_tolerance_s=900,
            counter=CounterSpec(modulus=1e7, backstep_tolerance=6e6),
            **DEFAULTS,
        )
    with pytest.raises(ValueError, match=r"low_flow_cutoff must be a finite number >= 0"):
        integrate_rate(times, ones, gap_tolerance_s=900, low_flow_cutoff=-1, **DEFAULTS)
    with pytest.raises(ValueError, match=r"gap_method must be 'rate_interpolation' or"):
        integrate_rate(times, ones, gap_tolerance_s=900, gap_method="guess", **DEFAULTS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"quality must hold 32-bit OPC UA status codes"):
        integrate_rate(times, ones, np.full(times.size, 2**33), gap_tolerance_s=900, **DEFAULTS)
