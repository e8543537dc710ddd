"""Totalizer days worked by hand: backsteps, rollovers, resets, gaps, the contract hour, manual.

Readings are written as the decimals a meter shows; expected volumes are exact decimals worked
out in the comments (never taken from the code's output).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from anh_reporter.production.volumes import (
    CounterSpec,
    Gap,
    ManualWindow,
    QualityScoring,
    RateSamples,
    integrate_rate,
    totalizer_volume,
)

from .series import DAY, DEFAULTS, HOUR, MINUTE, US, E, S, dec, grid_times

TEN_MIN = 10 * MINUTE
M7 = CounterSpec(modulus=1e7)
OUTAGE_TOLERANCE = {"gap_tolerance_s": 3600.0}  # 6 sampling periods of 10 min


def day_grid(start: int = S, end: int = E) -> np.ndarray:
    """10-min grid with one neighbour each side."""
    return grid_times(start - TEN_MIN, end + TEN_MIN)


def linear(times: np.ndarray, start_value: float, per_day: float, origin: int = S) -> np.ndarray:
    """A counter rising ``per_day`` from ``start_value`` at ``origin``, shown to 0.01."""
    return np.round(start_value + per_day * (times - origin) / DAY, 2)


# --- backsteps ------------------------------------------------------------------------------


def test_stale_reread_below_the_previous_reading_leaves_the_day_at_its_volume():
    """The issue's case: one reading 0.05 bbl below the previous one in an 8,000 bbl day."""
    t = day_grid()
    r = linear(t, 1000.0, 8000.0)  # 1,000.00 at 06:00, 9,000.00 at 06:00 the next day
    k50 = int(np.flatnonzero(t == S + 50 * TEN_MIN)[0])
    r[k50] = r[k50 - 1] - 0.05  # a stale re-read

    result = totalizer_volume(t, r, counter=M7, gap_tolerance_s=3600, **DEFAULTS)

    # 9,000.00 − 1,000.00 = 8,000.00 bbl, all measured; the step back is noise (tolerance
    # 10 × 0.01 = 0.1 bbl), counted, and neither adds nor removes volume.
    assert result.volume.total == Decimal("8000.00")
    assert result.volume.measured == Decimal("8000.00") and result.volume.estimates == ()
    assert result.events == ()
    assert result.backstep_tolerance == pytest.approx(0.1)
    assert result.quality.backsteps == 1
    assert result.largest_backstep == pytest.approx(0.05)
    assert result.quality.score.score == pytest.approx(100.0)


def test_backstep_tolerance_default_follows_resolution_and_rate():
    # max(10 × 0.5, 36,000 bbl/d / 86,400 × 2 × 600 s) = max(5, 500) = 500 bbl.
    spec = CounterSpec(modulus=1e7, resolution=0.5, max_rate_per_day=36_000)
    assert spec.tolerance(600) == pytest.approx(500.0)
    assert CounterSpec(resolution=0.5).tolerance(600) == 5.0
    assert CounterSpec(backstep_tolerance=2.0, max_rate_per_day=36_000).tolerance(600) == 2.0


def test_small_steps_back_that_drift_beyond_the_tolerance_are_a_reset():
    t = day_grid()
    k = (t - S) // TEN_MIN
    # 10 bbl per 10 min to 5,500.00 at k = 50; then 5,499.94 and 5,499.88 (two steps of
    # 0.06, each within 0.1, but 0.12 below the high-water mark); flat to k = 59; then 10 per
    # 10 min again: 5,499.88 + 10 (k − 59), 6,349.88 at k = 144.
    r = np.where(k <= 50, 5000.0 + 10 * k, 5499.88)
    r[k == 51] = 5499.94
    r = np.where(k >= 60, np.round(5499.88 + 10 * (k - 59), 2), r)

    result = totalizer_volume(t, r, counter=M7, gap_tolerance_s=3600, **DEFAULTS)

    # The drop below the mark by more than the tolerance is a reset at k = 51 → 52, counted
    # from 5,499.88; the lost volume is estimated from the last good rate (k = 50 → 51: the
    # mark did not move, 0 bbl). Measured (5,500 − 5,000) + (6,349.88 − 5,499.88) = 1,350.
    assert result.volume.measured == Decimal("1350")
    assert result.volume.estimated == 0
    (event,) = result.events
    assert (event.kind, event.before_value, event.after_value) == ("reset", 5499.94, 5499.88)
    assert event.needs_confirmation
    assert result.quality.backsteps == 1  # k = 50 → 51


# --- rollovers ------------------------------------------------------------------------------


def test_rollover_at_2_pow_32():
    t = day_grid()
    k = (t - S) // TEN_MIN
    # A 32-bit register of whole barrels, 100 bbl per 10 min, 3,000 below the wrap at 06:00:
    # (2**32 − 3,000 + 100 k) mod 2**32 reads 0 at k = 30.
    r = ((2**32 - 3000 + 100 * k) % 2**32).astype(np.float64)

    result = totalizer_volume(
        t, r, counter=CounterSpec(modulus=2**32), gap_tolerance_s=3600, **DEFAULTS
    )

    # 144 intervals × 100 bbl = 14,400 bbl exactly.
    assert result.volume.total == Decimal(14_400)
    (event,) = result.events
    assert event.kind == "rollover"
    assert (event.before_value, event.after_value) == (2**32 - 100, 0.0)
    assert event.volume == Decimal(100)
    assert (event.before_us, event.after_us) == (S + 29 * TEN_MIN, S + 30 * TEN_MIN)
    assert result.quality.rollovers == 1 and result.quality.resets == 0
    assert result.quality.score.score == pytest.approx(98.0)  # 100 − 2 per rollover


def test_rollover_at_1e7_and_a_stale_reread_across_the_wrap():
    t = day_grid()
    k = (t - S) // TEN_MIN
    # A 7-digit display: 9,999,500.25 + 12.5 k mod 1e7 wraps to 0.25 at k = 40.
    r = (9_999_500.25 + 12.5 * k) % 1e7
    assert r[k == 39][0] == 9_999_987.75 and r[k == 40][0] == 0.25
    stale = r.copy()
    stale[k == 41] = 9_999_987.75  # k = 41 re-reads the value from before the wrap

    spec = CounterSpec(modulus=1e7, max_rate_per_day=3600)  # tolerance 3600/86400 × 1200 = 50
    plain = totalizer_volume(t, r, counter=spec, gap_tolerance_s=3600, **DEFAULTS)
    noisy = totalizer_volume(t, stale, counter=spec, gap_tolerance_s=3600, **DEFAULTS)

    # 144 × 12.5 = 1,800 bbl either way; one rollover, not two; one backstep.
    assert plain.volume.total == Decimal(1800) and noisy.volume.total == Decimal(1800)
    assert [e.kind for e in plain.events] == ["rollover"] == [e.kind for e in noisy.events]
    assert plain.events[0].volume == Decimal("12.5")
    assert (plain.quality.backsteps, noisy.quality.backsteps) == (0, 1)
    assert noisy.largest_backstep == pytest.approx(12.5)  # 0.25 + 1e7 − 9,999,987.75


def test_wrap_without_a_modulus_is_a_reset_and_with_one_a_rollover():
    t = grid_times(S, E)
    r = (999_000.0 + 10.0 * np.arange(t.size)) % 1e6  # reads 0 at k = 100
    common = {"gap_tolerance_s": 900, **DEFAULTS}

    reset = totalizer_volume(t, r, counter=CounterSpec(), **common)
    rolled = totalizer_volume(t, r, counter=CounterSpec(modulus=1e6), **common)

    # As a rollover: 144 × 10 = 1,440 exactly. As a reset: 990 before (k 0 → 99), 440 after
    # (the reading 0 is the new start, not volume), and the interval k = 99 → 100 estimated
    # from the last good rate (10 per 10 min): 10. Total 1,440, flagged.
    assert rolled.volume.total == Decimal(1440) and rolled.volume.estimates == ()
    assert reset.volume.measured == Decimal(1430)
    assert reset.volume.estimated == Decimal(10)
    assert [e.kind for e in reset.events] == ["reset"]


def test_drop_far_from_a_full_modulus_is_a_reset():
    t = grid_times(S, S + 2 * TEN_MIN)
    r = np.array([600_000.0, 100_000.0, 100_010.0])  # half the modulus down
    result = totalizer_volume(
        t,
        r,
        counter=CounterSpec(modulus=1e6),
        day_start_us=S,
        day_end_us=S + 2 * TEN_MIN,
        gap_tolerance_s=900,
        sampling_period_s=600,
    )
    # The wrapped increment 500,000 is above 10 % of the modulus: a reset. Measured 10 (after
    # it); the lost 10 min estimated from the next good rate (10 per 10 min): 10.
    assert [e.kind for e in result.events] == ["reset"]
    assert (result.volume.measured, result.volume.estimated) == (Decimal(10), Decimal(10))


def test_forward_jump_beyond_what_the_meter_can_pass_is_a_reset():
    t = day_grid()
    k = (t - S) // TEN_MIN
    # 1,440 bbl/d (10 per 10 min); at k = 73 the counter jumps by 5,000 and counts on.
    r = np.where(k <= 72, 5000.0 + 10 * k, 10_730.0 + 10 * (k - 73))
    # The meter passes at most 2000/86400 × (600 + 600) + 0.01 = 27.79 bbl in 10 min.
    spec = CounterSpec(modulus=1e7, max_rate_per_day=2000)

    result = totalizer_volume(t, r, counter=spec, gap_tolerance_s=3600, **DEFAULTS)

    # Measured 720 (k 0 → 72) + 710 (k 73 → 144); the jump interval estimated at the last
    # good rate, 10: 1,440 bbl, and the reset needs confirmation.
    assert result.volume.measured == Decimal(1430)
    assert result.volume.estimated == Decimal(10)
    (event,) = result.events
    assert (event.kind, event.before_value, event.after_value) == ("reset", 5720.0, 10_730.0)


# --- resets ---------------------------------------------------------------------------------


def reset_day() -> tuple[np.ndarray, np.ndarray]:
    """1,440 bbl/d: 10 per 10 min to 5,720 at 12:00 (k = 72); reset to 0 at 12:05, so 5 at
    12:10 (k = 73) and 10 more per 10 min: 715 at k = 144."""
    t = day_grid()
    k = (t - S) // TEN_MIN
    return t, np.where(k <= 72, 5000.0 + 10 * k, 10.0 * (k - 73) + 5)


def test_reset_with_a_rate_series_estimates_the_lost_volume_from_the_rate():
    t, r = reset_day()
    rate = RateSamples(t, np.full(t.size, 1440.0))

    result = totalizer_volume(t, r, counter=M7, rate=rate, gap_tolerance_s=3600, **DEFAULTS)

    # Measured: 5,720 − 5,000 = 720 before; 715 − 5 = 710 after (the 5 itself is the new
    # start, not volume): 1,430. Lost from 12:00 to 12:10: 1,440 bbl/d × 600/86,400 = 10.
    v = result.volume
    assert v.measured == Decimal(1430)
    (part,) = v.estimates
    assert (part.start_us, part.end_us, part.method) == (
        S + 72 * TEN_MIN,
        S + 73 * TEN_MIN,
        "reset_estimate",
    )
    assert part.volume == Decimal(10)
    assert v.total == Decimal(1440)
    (event,) = result.events
    assert (event.kind, event.before_value, event.after_value) == ("reset", 5720.0, 5.0)
    assert event.volume == Decimal(10) and "rate series" in event.basis
    assert event.needs_confirmation and not event.confirmed
    # 60 × 1430/1440 + 20 + 20 − 20 (unconfirmed reset) = 79.58.
    score = result.quality.score
    assert score.score == pytest.approx(60 * 1430 / 1440 + 20)
    assert score.explain().endswith("- 0.0 rollovers (0) - 20.0 unconfirmed resets (1)")


def test_reset_without_a_rate_series_uses_the_last_good_rate_and_can_be_confirmed():
    t, r = reset_day()
    reset_at = S + 73 * TEN_MIN

    open_ = totalizer_volume(t, r, counter=M7, gap_tolerance_s=3600, **DEFAULTS)
    confirmed = totalizer_volume(
        t, r, counter=M7, gap_tolerance_s=3600, confirmed_resets={reset_at}, **DEFAULTS
    )

    # The last good interval before the reset, 11:50 → 12:00, passed 10 bbl in 600 s: the
    # 600 s around the reset are estimated at 10 × 600/600 = 10. Total 1,440.
    assert open_.volume.measured == Decimal(1430)
    assert open_.volume.estimated == Decimal(10)
    assert "good rate 1440/d" in open_.events[0].basis
    assert open_.quality.unconfirmed_resets == 1
    assert confirmed.events[0].confirmed and not confirmed.events[0].needs_confirmation
    assert confirmed.quality.unconfirmed_resets == 0 and confirmed.quality.resets == 1
    assert confirmed.quality.score.score == pytest.approx(60 * 1430 / 1440 + 40)


def test_score_is_clipped_at_zero():
    t, r = reset_day()
    result = totalizer_volume(
        t,
        r,
        counter=M7,
        gap_tolerance_s=3600,
        scoring=QualityScoring(reset_penalty=150),
        **DEFAULTS,
    )
    assert result.quality.score.score == 0.0


# --- gaps -----------------------------------------------------------------------------------


def test_14_hour_totalizer_gap_is_measured_exactly_with_its_flow_time_coverage():
    t = day_grid()
    t = t[(t <= S + 2 * HOUR) | (t >= S + 16 * HOUR)]  # outage 08:00 → 22:00
    r = linear(t, 5000.0, 24_000.0)

    result = totalizer_volume(t, r, counter=M7, gap_tolerance_s=3600, **DEFAULTS)

    # 29,000.00 − 5,000.00 = 24,000 bbl, all measured: the meter kept counting.
    assert result.volume.total == Decimal(24_000) and result.volume.estimates == ()
    assert result.volume.measured_share_pct == 100.0
    q = result.quality
    assert q.gaps == (Gap(S + 2 * HOUR, S + 16 * HOUR),)
    # Flow-time coverage 10 h of 24 h = 41.7 %.
    assert q.time_completeness_pct == pytest.approx(100 * 10 / 24)
    assert round(q.time_completeness_pct, 1) == 41.7
    # 60 (all measured) + 20 (good samples) + 20 × 10/24 (coverage) = 88.33.
    assert q.score.score == pytest.approx(80 + 20 * 10 / 24)


def test_14_hour_rate_gap_gives_a_full_day_with_its_estimated_share():
    t = day_grid()
    t = t[(t <= S + 2 * HOUR) | (t >= S + 16 * HOUR)]

    result = integrate_rate(t, np.full(t.size, 24_000.0), gap_tolerance_s=3600, **DEFAULTS)

    # Measured 24,000 × 10/24 = 10,000; the 14 h estimated on the line: 14,000; 24,000 total.
    v = result.volume
    assert float(v.measured) == pytest.approx(10_000.0, rel=1e-12)
    assert [(p.method, p.start_us, p.end_us) for p in v.estimates] == [
        ("rate_interpolation", S + 2 * HOUR, S + 16 * HOUR)
    ]
    assert float(v.estimated) == pytest.approx(14_000.0, rel=1e-12)
    assert float(v.total) == pytest.approx(24_000.0, rel=1e-12)
    assert v.measured_share_pct == pytest.approx(100 * 10 / 24)
    # 60 × 10/24 + 20 + 20 × 10/24 = 25 + 20 + 8.33 = 53.33.
    assert result.quality.score.score == pytest.approx(80 * 10 / 24 + 20)


def two_days_with_an_outage_at_the_contract_hour(
    before_per_day: float, after_per_day: float
) -> tuple[np.ndarray, np.ndarray]:
    """Readings from S − 1 day to S + 1 day every 10 min, none from 05:00 to 07:00 local."""
    t = grid_times(S - DAY - TEN_MIN, S + DAY + TEN_MIN)
    t = t[(t <= S - HOUR) | (t >= S + HOUR)]
    start = 10_000.0
    at_gap = start + before_per_day * 23 / 24  # reading at 05:00 (S − 1 h)
    ramp = (before_per_day + after_per_day) / 2 * 2 / 24  # the rate ramps across the 2 h
    r = np.where(
        t <= S - HOUR,
        start + before_per_day * (t - (S - DAY)) / DAY,
        at_gap + ramp + after_per_day * (t - (S + HOUR)) / DAY,
    )
    return t, np.round(r, 2)


def test_gap_across_the_contract_hour_is_split_by_time_and_the_days_add_up_exactly():
    t, r = two_days_with_an_outage_at_the_contract_hour(24_000.0, 24_000.0)
    common = {"counter": M7, "sampling_period_s": 600.0, **OUTAGE_TOLERANCE}

    day1 = totalizer_volume(t, r, day_start_us=S - DAY, day_end_us=S, **common)
    day2 = totalizer_volume(t, r, day_start_us=S, day_end_us=S + DAY, **common)

    # The counter reads 10,000 at 06:00 on day 1, 33,000 at 05:00 and 35,000 at 07:00: the
    # 2,000 bbl across the outage are split by time, 1,000 to each day. Day 1: 23,000 measured
    # + 1,000 estimated; day 2: 1,000 estimated + 23,000 measured (35,000 → 58,000).
    for day, window in ((day1, (S - HOUR, S)), (day2, (S, S + HOUR))):
        assert day.volume.total == Decimal(24_000)
        assert day.volume.measured == Decimal(23_000)
        (part,) = day.volume.estimates
        assert (part.start_us, part.end_us) == window
        assert (part.method, part.volume) == ("counter_difference_across_gap", Decimal(1000))
        assert "split by time" in part.detail
    counter_difference = dec(r[t == S + DAY][0]) - dec(r[t == S - DAY][0])
    assert counter_difference == Decimal(48_000)
    assert day1.volume.total + day2.volume.total == counter_difference


def test_gap_across_the_contract_hour_is_split_by_the_rate_series():
    # 14,400 bbl/d before the outage and 43,200 bbl/d after; the rate is out too, so its
    # straight line runs from 14,400 at 05:00 to 43,200 at 07:00 (28,800 at 06:00).
    t, r = two_days_with_an_outage_at_the_contract_hour(14_400.0, 43_200.0)
    rate = RateSamples(t, np.where(t <= S - HOUR, 14_400.0, 43_200.0))
    common = {"counter": M7, "rate": rate, "sampling_period_s": 600.0, **OUTAGE_TOLERANCE}

    day1 = totalizer_volume(t, r, day_start_us=S - DAY, day_end_us=S, **common)
    day2 = totalizer_volume(t, r, day_start_us=S, day_end_us=S + DAY, **common)

    # Across the outage the counter rose (14,400 + 43,200)/2 × 2/24 = 2,400 bbl. The rate's
    # integral is (14,400 + 28,800)/2 /24 = 900 before 06:00 and (28,800 + 43,200)/2 /24 =
    # 1,500 after: day 1 gets 2,400 × 900/2,400 = 900, day 2 gets 1,500.
    # Day 1: 14,400 × 23/24 = 13,800 + 900 = 14,700; day 2: 1,500 + 43,200 × 23/24 = 42,900.
    assert day1.volume.estimates[0].volume == Decimal(900)
    assert day2.volume.estimates[0].volume == Decimal(1500)
    assert "split by the rate series" in day2.volume.estimates[0].detail
    assert (day1.volume.total, day2.volume.total) == (Decimal(14_700), Decimal(42_900))
    counter_difference = dec(r[t == S + DAY][0]) - dec(r[t == S - DAY][0])
    assert day1.volume.total + day2.volume.total == counter_difference == Decimal(57_600)


def test_edge_without_a_neighbour_is_estimated_from_the_next_good_rate():
    t = grid_times(S + 30 * MINUTE, E + TEN_MIN)
    r = linear(t, 5000.0, 1440.0)  # 10 bbl per 10 min; 5,030 at 06:30

    result = totalizer_volume(t, r, counter=M7, gap_tolerance_s=900, **DEFAULTS)

    # Measured 06:30 → 06:00: 6,440 − 5,030 = 1,410; the first half hour has no reading before
    # it: the next good rate (10 per 10 min) × 30 min = 30, so 1,440 in all.
    assert result.volume.measured == Decimal(1410)
    (part,) = result.volume.estimates
    assert (part.method, part.start_us, part.end_us) == ("last_good_rate", S, S + 30 * MINUTE)
    assert part.volume == Decimal(30)
    assert result.quality.gaps == (Gap(S, S + 30 * MINUTE),)


def test_rollover_at_the_window_edge_is_interpolated_on_both_days():
    times = S - 5 * MINUTE + np.arange(146, dtype=np.int64) * TEN_MIN  # S−5 min … E+5 min
    readings = (999_995.0 + 10.0 * np.arange(146)) % 1e6  # 999,995 at S−5 min, 5 at S+5 min
    spec = CounterSpec(modulus=1e6)
    common = {"counter": spec, "gap_tolerance_s": 900, "sampling_period_s": 600}

    today = totalizer_volume(times, readings, day_start_us=S, day_end_us=E, **common)
    yesterday = totalizer_volume(times, readings, day_start_us=S - DAY, day_end_us=S, **common)

    # 1 bbl per minute: the counter at S is 999,995 + 5 = 1,000,000 (≡ 0), at E 1,001,440.
    assert today.volume.total == Decimal(1440) and today.volume.estimates == ()
    assert [e.kind for e in today.events] == ["rollover"]
    # Yesterday measures the 5 bbl from S−5 min to S and sees the same rollover; before S−5 min
    # there is no reading: the next good rate (10 per 10 min) over 1,435 min is estimated.
    assert yesterday.volume.measured == Decimal(5)
    assert yesterday.volume.estimated == Decimal(1435)
    assert [e.kind for e in yesterday.events] == ["rollover"]


def test_no_readings_at_all_is_missing_volume():
    result = totalizer_volume(
        np.zeros(0, np.int64), [], counter=M7, gap_tolerance_s=900, **DEFAULTS
    )
    assert result.volume.total == 0 and result.volume.unestimated == (Gap(S, E),)
    assert result.volume.measured_share_pct == 0.0 and result.quality.score.score == 0.0


# --- manual windows -------------------------------------------------------------------------


def test_manual_window_replaces_the_counter_difference_and_keeps_it():
    t = day_grid()
    r = linear(t, 5000.0, 24_000.0)
    window = ManualWindow(S + 10 * HOUR, S + 12 * HOUR, Decimal("1800.00"), "manual entry #4")

    result = totalizer_volume(
        t, r, counter=M7, gap_tolerance_s=3600, manual_windows=[window], **DEFAULTS
    )

    # The counter says 2,000 for 16:00 → 18:00 (1,000 bbl/h); the person says 1,800:
    # 24,000 − 2,000 + 1,800 = 23,800, and the 2,000 stays visible.
    v = result.volume
    assert v.total == Decimal(23_800) and v.measured == Decimal(22_000)
    assert [(p.method, p.volume) for p in v.estimates] == [("manual_entry", Decimal("1800.00"))]
    (replaced,) = v.replaced
    assert replaced.window == window
    assert (replaced.telemetry_measured, replaced.telemetry_estimated) == (Decimal(2000), 0)


def test_manual_window_over_a_reset_replaces_it_and_needs_no_confirmation():
    t, r = reset_day()
    window = ManualWindow(S + 11 * HOUR, S + 13 * HOUR, Decimal(100), "manual entry #5")

    result = totalizer_volume(
        t, r, counter=M7, gap_tolerance_s=3600, manual_windows=[window], **DEFAULTS
    )

    # Telemetry in 11:00 → 13:00: measured 60 (5,660 → 5,720) + 50 (5 → 55), reset estimate
    # 10. Day: 1,430 − 110 measured + 100 manual = 1,420.
    v = result.volume
    assert v.measured == Decimal(1320) and v.total == Decimal(1420)
    (replaced,) = v.replaced
    assert (replaced.telemetry_measured, replaced.telemetry_estimated) == (Decimal(110), 10)
    (event,) = result.events
    assert event.replaced and not event.needs_confirmation
    assert result.quality.unconfirmed_resets == 0


def test_bad_readings_are_not_used():
    t = day_grid()
    r = linear(t, 5000.0, 1440.0)
    quality = np.zeros(t.size, dtype=np.uint32)
    k60 = int(np.flatnonzero(t == S + 60 * TEN_MIN)[0])
    quality[k60] = 0x80000000
    r[k60] = 0.0  # a Bad reading of 0 is not a reset: it is not used at all
    result = totalizer_volume(t, r, quality, counter=M7, gap_tolerance_s=3600, **DEFAULTS)
    assert result.volume.total == Decimal(1440) and result.events == ()
    assert (result.quality.samples_good, result.quality.samples_bad) == (143, 1)


def test_readings_must_be_in_time_order():
    with pytest.raises(ValueError, match=r"times_us must be strictly increasing"):
        totalizer_volume([S + US, S], [1.0, 2.0], counter=M7, gap_tolerance_s=900, **DEFAULTS)
