"""Tests for the SPC module: limits, every run rule, NaN gaps, online == batch, Cp/Cpk."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anh_reporter.analytics.spc.batch import evaluate, evaluate_against_prior, rule_masks
from anh_reporter.analytics.spc.limits import (
    D2_MOVING_RANGE,
    ControlLimits,
    control_limits,
    process_capability,
)
from anh_reporter.analytics.spc.monitor import SpcMonitor
from anh_reporter.analytics.spc.rules import (
    ALL_RULES,
    NELSON_RULES,
    WESTERN_ELECTRIC_RULES,
    Rule,
    Violation,
)

NAN = math.nan
# Centre 0, sigma 1: the zone lines sit at +/-1, +/-2 and +/-3, so the series below read as z.
UNIT = ControlLimits(center=0.0, sigma=1.0)


def fired(values: list[float], limits: ControlLimits = UNIT) -> set[tuple[str, int]]:
    """Every (rule, judged point) pair, after checking that the online path agrees."""
    batch = evaluate(values, limits)
    monitor = SpcMonitor(limits)
    online = [v for value in values for v in monitor.update(value)]
    assert online == batch
    return {(v.rule.value, v.last) for v in batch}


def only(values: list[float], rule: str) -> list[Violation]:
    return [v for v in evaluate(values, UNIT) if v.rule == rule]


# ------------------------------------------------------------------------------------------
# Rule 1: one point beyond 3 sigma (WE1 = NELSON1)


def test_beyond_three_sigma_fires_on_each_side_and_not_on_the_line() -> None:
    # Exactly +/-3.0 is on the limit, not beyond it (strict comparison).
    values = [0.0, 3.5, 0.0, -3.2, 0.0, 3.0, 0.0, -3.0]
    assert fired(values) == {("WE1", 1), ("NELSON1", 1), ("WE1", 3), ("NELSON1", 3)}
    above, below = only(values, "WE1")
    assert (above.first, above.last, above.points, above.side) == (1, 1, (1,), "above")
    assert (below.points, below.side) == ((3,), "below")
    assert above.limits is UNIT


# ------------------------------------------------------------------------------------------
# 2 of 3 beyond 2 sigma, same side (WE2 = NELSON5)


def test_two_of_three_beyond_two_sigma() -> None:
    values = [0.0, 2.5, 0.5, 2.5, 0.0, 0.0, -2.5, -2.1, 0.0, 2.5, 0.0, 0.0, 2.5]
    # idx 3: window 1..3 holds 2.5, 0.5, 2.5 -> two above. idx 7: window 5..7 -> two below.
    # idx 9 and idx 12 are single points beyond 2 sigma in their windows: no firing.
    assert fired(values) == {("WE2", 3), ("NELSON5", 3), ("WE2", 7), ("NELSON5", 7)}
    up, down = only(values, "NELSON5")
    assert (up.first, up.last, up.points, up.side) == (1, 3, (1, 3), "above")
    assert (down.first, down.last, down.points, down.side) == (5, 7, (6, 7), "below")


def test_two_of_three_opposite_sides_does_not_fire() -> None:
    assert fired([0.0, 2.5, 0.0, -2.5, 0.0]) == set()


def test_two_of_three_needs_the_judged_point_beyond_and_may_use_a_short_window() -> None:
    # idx 1: the first two points of a segment are both beyond 2 sigma (window 0..1).
    # idx 2 and 3: the window still holds two points beyond, but the judged point is quiet.
    values = [2.5, 2.5, 0.0, 0.0]
    assert fired(values) == {("WE2", 1), ("NELSON5", 1)}
    (violation,) = only(values, "WE2")
    assert (violation.first, violation.last, violation.points) == (0, 1, (0, 1))


# ------------------------------------------------------------------------------------------
# 4 of 5 beyond 1 sigma, same side (WE3 = NELSON6)


def test_four_of_five_beyond_one_sigma() -> None:
    values = [0.0, 1.5, 1.5, 0.0, 1.5, 1.5, 0.0, 0.0, -1.5, -1.5, -1.5, 0.5, -1.5]
    # idx 5: window 1..5 has 1, 2, 4, 5 above 1 sigma. idx 12: window 8..12 has 8, 9, 10, 12
    # below. idx 4 (window 0..4) and idx 10 (window 6..10) have only three.
    assert fired(values) == {("WE3", 5), ("NELSON6", 5), ("WE3", 12), ("NELSON6", 12)}
    up, down = only(values, "WE3")
    assert (up.first, up.points, up.side) == (1, (1, 2, 4, 5), "above")
    assert (down.first, down.points, down.side) == (8, (8, 9, 10, 12), "below")


def test_three_of_five_beyond_one_sigma_does_not_fire() -> None:
    assert fired([1.5, 0.0, 1.5, 0.0, 1.5, 0.0]) == set()


# ------------------------------------------------------------------------------------------
# Same side runs: WE4 is 8 in a row, NELSON2 is 9


def test_eight_in_a_row_fires_we4_but_not_nelson2() -> None:
    values = [-0.5] + [0.5] * 8 + [-0.5]
    assert fired(values) == {("WE4", 8)}
    (violation,) = only(values, "WE4")
    assert (violation.first, violation.last, violation.side) == (1, 8, "above")
    assert violation.points == tuple(range(1, 9))


def test_nine_in_a_row_fires_nelson2_and_we4_keeps_firing() -> None:
    values = [-0.5] + [0.5] * 9 + [-0.5]
    assert fired(values) == {("WE4", 8), ("WE4", 9), ("NELSON2", 9)}
    (violation,) = only(values, "NELSON2")
    assert (violation.first, violation.last, violation.side) == (1, 9, "above")


def test_nine_in_a_row_below() -> None:
    values = [0.5] + [-0.5] * 9
    assert fired(values) == {("WE4", 8), ("WE4", 9), ("NELSON2", 9)}
    assert {v.side for v in evaluate(values, UNIT)} == {"below"}


def test_point_on_the_centre_line_breaks_a_same_side_run() -> None:
    assert fired([0.5] * 4 + [0.0] + [0.5] * 4) == set()


# ------------------------------------------------------------------------------------------
# NELSON3: six in a row steadily increasing or decreasing


def test_six_increasing_fires_nelson3() -> None:
    values = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert fired(values) == {("NELSON3", 5)}
    (violation,) = only(values, "NELSON3")
    assert (violation.first, violation.side, violation.points) == (0, "increasing", tuple(range(6)))


def test_five_increasing_does_not_fire_nelson3() -> None:
    assert fired([0.0, 0.1, 0.2, 0.3, 0.4]) == set()


def test_equal_values_break_a_trend() -> None:
    assert fired([0.0, 0.1, 0.2, 0.2, 0.3, 0.4, 0.5]) == set()


def test_seven_decreasing_fires_nelson3_twice() -> None:
    values = [0.5, 0.4, 0.3, 0.2, 0.1, 0.0, -0.1]
    assert fired(values) == {("NELSON3", 5), ("NELSON3", 6)}
    assert {v.side for v in only(values, "NELSON3")} == {"decreasing"}


# ------------------------------------------------------------------------------------------
# NELSON4: fourteen in a row alternating up and down


def test_fourteen_alternating_fires_nelson4() -> None:
    values = [0.5, -0.5] * 7
    assert fired(values) == {("NELSON4", 13)}
    (violation,) = only(values, "NELSON4")
    assert (violation.first, violation.last, violation.side) == (0, 13, None)


def test_thirteen_alternating_does_not_fire_nelson4() -> None:
    assert fired([0.5, -0.5] * 6 + [0.5]) == set()


# ------------------------------------------------------------------------------------------
# NELSON7: fifteen in a row within 1 sigma


def test_fifteen_within_one_sigma_fires_nelson7() -> None:
    # Blocks of (0.5, 0.6, -0.5, -0.6): no same-side run over 2, no trend, no alternation.
    values = ([0.5, 0.6, -0.5, -0.6] * 4)[:15]
    assert fired(values) == {("NELSON7", 14)}
    (violation,) = only(values, "NELSON7")
    assert (violation.first, violation.last, violation.side) == (0, 14, None)


def test_fourteen_within_one_sigma_does_not_fire_nelson7() -> None:
    assert fired(([0.5, 0.6, -0.5, -0.6] * 4)[:14]) == set()


def test_points_on_the_one_sigma_lines_count_as_within() -> None:
    # +/-1.0 exactly: within 1 sigma (NELSON7 fires), never beyond it (NELSON8 silent). They
    # also alternate, so NELSON4 fires at 13 and 14.
    values = [1.0, -1.0] * 7 + [1.0]
    assert fired(values) == {("NELSON4", 13), ("NELSON4", 14), ("NELSON7", 14)}


# ------------------------------------------------------------------------------------------
# NELSON8: eight in a row beyond 1 sigma, either side


def test_eight_beyond_one_sigma_either_side_fires_nelson8() -> None:
    values = [1.5, -1.5] * 4
    assert fired(values) == {("NELSON8", 7)}
    (violation,) = only(values, "NELSON8")
    assert (violation.first, violation.last, violation.side) == (0, 7, None)


def test_seven_beyond_one_sigma_does_not_fire_nelson8() -> None:
    assert fired([1.5, -1.5] * 3 + [1.5]) == set()


# ------------------------------------------------------------------------------------------
# Missing points


def test_nan_breaks_runs_and_windows() -> None:
    assert fired([0.5] * 4 + [NAN] + [0.5] * 4) == set()  # 8 above, split by a gap
    assert fired([2.5, NAN, 2.5]) == set()  # 2 of 3 beyond 2 sigma, across a gap
    assert fired([0.0, 0.1, 0.2, NAN, 0.3, 0.4, 0.5]) == set()  # trend across a gap
    assert fired([1.5, -1.5] * 2 + [NAN] + [1.5, -1.5] * 2) == set()  # NELSON8 across a gap


def test_nan_is_skipped_but_keeps_its_index() -> None:
    assert fired([NAN, 3.5]) == {("WE1", 1), ("NELSON1", 1)}
    assert fired([NAN, NAN, NAN]) == set()


def test_infinity_is_treated_as_missing() -> None:
    assert fired([math.inf]) == set()
    assert fired([0.5] * 4 + [-math.inf] + [0.5] * 4) == set()


def test_a_run_restarts_after_a_gap() -> None:
    values = [NAN] + [0.5] * 8
    assert fired(values) == {("WE4", 8)}
    assert only(values, "WE4")[0].first == 1


# ------------------------------------------------------------------------------------------
# Limits come from a baseline that excludes the judged points

ALTERNATING_BASELINE = [9.0, 11.0] * 10  # centre 10, every moving range 2
WITH_SPIKE = [*ALTERNATING_BASELINE, 16.0]  # a spike 6 above the centre at index 20


def test_limits_from_the_baseline() -> None:
    limits = control_limits(ALTERNATING_BASELINE)
    assert limits.center == 10.0
    assert limits.sigma == pytest.approx(2.0 / D2_MOVING_RANGE)
    assert limits.ucl == pytest.approx(10.0 + 3 * 2.0 / 1.128)
    assert limits.lower(2) == limits.lower_2sigma == pytest.approx(10.0 - 2 * 2.0 / 1.128)
    assert (limits.sigma_method, limits.baseline_points) == ("moving_range", 20)


def test_spike_is_caught_against_the_prior_baseline_but_hidden_by_an_inclusive_window() -> None:
    limits, violations = evaluate_against_prior(WITH_SPIKE, baseline_size=20)
    assert limits == control_limits(ALTERNATING_BASELINE)
    assert {(v.rule.value, v.last) for v in violations} == {("WE1", 20), ("NELSON1", 20)}
    # The old design: limits over a window containing the spike. Mean 216/21 = 10.286, mean
    # moving range (19 * 2 + 5) / 20 = 2.15, sigma 1.906, UCL 16.004: the spike is inside.
    inclusive = control_limits(WITH_SPIKE)
    assert inclusive.ucl > 16.0
    assert evaluate([16.0], inclusive) == []


def test_step_shift_is_detected_against_the_prior_baseline() -> None:
    # 12.0 is (12 - 10) / 1.773 = 1.13 sigma above the prior centre: beyond 1 sigma, below 2.
    # Judged points 20..29 form their own segment (windows do not reach into the baseline).
    values = ALTERNATING_BASELINE + [12.0] * 10
    _, violations = evaluate_against_prior(values, baseline_size=20)
    expected = (
        {(rule, i) for rule in ("WE3", "NELSON6") for i in range(23, 30)}
        | {("WE4", i) for i in range(27, 30)}
        | {("NELSON2", i) for i in range(28, 30)}
        | {("NELSON8", i) for i in range(27, 30)}
    )
    assert {(v.rule.value, v.last) for v in violations} == expected
    assert all(v.side == "above" for v in violations if v.rule != "NELSON8")
    first_we3 = next(v for v in violations if v.rule == "WE3")
    assert (first_we3.first, first_we3.points) == (20, (20, 21, 22, 23))


def test_monitor_judges_against_prior_points_and_refreezes_after() -> None:
    monitor = SpcMonitor.from_baseline(ALTERNATING_BASELINE, baseline_window=21)
    assert monitor.next_index == 20
    assert {v.rule.value for v in monitor.update(16.0)} == {"WE1", "NELSON1"}
    # Only now, after it was judged, does the spike enter the rolling baseline.
    refrozen = monitor.refreeze()
    assert refrozen == control_limits(WITH_SPIKE)
    assert monitor.limits is refrozen
    assert monitor.baseline().size == 21


def test_refreeze_uses_the_rolling_window_only() -> None:
    monitor = SpcMonitor(UNIT, baseline_window=20)
    for value in [100.0, 101.0] * 5 + ALTERNATING_BASELINE:
        monitor.update(value)
    assert monitor.refreeze() == control_limits(ALTERNATING_BASELINE)


# ------------------------------------------------------------------------------------------
# Sigma estimators


def test_sigma_from_moving_range_and_from_standard_deviation() -> None:
    baseline = [1.0, 3.0, 2.0, 4.0]
    # Moving ranges 2, 1, 2 -> mean 5/3 -> sigma = 5/3 / 1.128 = 1.4775.
    by_range = control_limits(baseline, min_points=4)
    assert by_range.center == 2.5
    assert by_range.sigma == pytest.approx((5.0 / 3.0) / 1.128)
    # Deviations -1.5, 0.5, -0.5, 1.5 -> squares sum 5 -> 5 / (4 - 1) -> sigma = 1.2910.
    by_std = control_limits(baseline, sigma_method="std", min_points=4)
    assert by_std.sigma == pytest.approx(math.sqrt(5.0 / 3.0))


def test_baseline_nan_is_ignored_and_breaks_moving_ranges() -> None:
    # Finite 1, 3, 2, 4 (centre 2.5); moving ranges only 3-1 and 4-2 -> mean 2.
    limits = control_limits([1.0, 3.0, NAN, 2.0, 4.0], min_points=4)
    assert (limits.center, limits.baseline_points) == (2.5, 4)
    assert limits.sigma == pytest.approx(2.0 / 1.128)


# ------------------------------------------------------------------------------------------
# Online == batch


def random_series_with_every_pattern(seed: int = 20240607) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 1.0, 4000)
    values[100:112] += 2.0  # shift
    values[300:310] = np.linspace(-1.0, 2.0, 10)  # trend
    values[500:516] = np.tile([0.8, -0.8], 8)  # alternation
    values[700:720] = rng.normal(0.0, 0.2, 20)  # stratification
    values[900:910] = np.tile([1.6, -1.6], 5)  # mixture
    values[1100] = 4.5  # spike
    values[1200:1204] = 0.0  # ties on the centre line
    values[[50, 305, 1500, 1501, 2500]] = NAN
    values[2000] = math.inf
    return values


def test_online_equals_batch_on_a_random_series() -> None:
    values = random_series_with_every_pattern()
    limits = control_limits(np.random.default_rng(7).normal(0.0, 1.0, 200))
    batch = evaluate(values, limits, index_offset=200)
    assert {v.rule for v in batch} == set(ALL_RULES)  # every rule is exercised

    monitor = SpcMonitor(limits, start_index=200)
    online = [v for value in values.tolist() for v in monitor.update(value)]
    assert online == batch
    assert monitor.next_index == 200 + values.size

    masks = rule_masks(values, limits)
    for rule in ALL_RULES:
        assert np.flatnonzero(masks[rule]).tolist() == [
            v.last - 200 for v in batch if v.rule == rule
        ]


def test_online_equals_batch_per_segment_across_a_refreeze() -> None:
    values = random_series_with_every_pattern(seed=11)
    limits = control_limits(values[:100])
    monitor = SpcMonitor(limits, baseline_window=300, start_index=100)
    first = [v for value in values[100:2000].tolist() for v in monitor.update(value)]
    assert first == evaluate(values[100:2000], limits, index_offset=100)

    refrozen = monitor.refreeze()
    assert refrozen == control_limits(values[1700:2000])
    second = [v for value in values[2000:].tolist() for v in monitor.update(value)]
    assert second == evaluate(values[2000:], refrozen, index_offset=2000)
    assert all(v.limits is refrozen for v in second)


def test_monitor_skips_nan_and_counts_it() -> None:
    monitor = SpcMonitor(UNIT)
    assert monitor.update(NAN) == ()
    assert monitor.next_index == 1
    (violation, _) = monitor.update(3.5)
    assert (violation.rule, violation.last) == (Rule.WE1, 1)


def test_rule_selection() -> None:
    values = [0.0, 3.5] + [0.5] * 9
    assert {v.rule.value for v in evaluate(values, UNIT, rules=NELSON_RULES)} == {
        "NELSON1",
        "NELSON2",
    }
    assert {v.rule.value for v in evaluate(values, UNIT, rules=WESTERN_ELECTRIC_RULES)} == {
        "WE1",
        "WE4",
    }
    assert [v.rule for v in evaluate(values, UNIT, rules=["WE1"])] == [Rule.WE1]
    monitor = SpcMonitor(UNIT, rules=["NELSON1"])
    assert [v.rule for v in monitor.update(3.5)] == [Rule.NELSON1]


# ------------------------------------------------------------------------------------------
# Capability


def test_cp_and_cpk_two_sided() -> None:
    # centre 10, sigma 0.5, LSL 8, USL 13:
    # Cp  = (13 - 8) / (6 * 0.5) = 5 / 3 = 1.6667
    # CPU = (13 - 10) / (3 * 0.5) = 3 / 1.5 = 2.0
    # CPL = (10 - 8) / (3 * 0.5) = 2 / 1.5 = 1.3333
    # Cpk = min(2.0, 1.3333) = 1.3333
    capability = process_capability(center=10.0, sigma=0.5, lsl=8.0, usl=13.0)
    assert capability.cp == pytest.approx(5.0 / 3.0)
    assert capability.cpu == pytest.approx(2.0)
    assert capability.cpl == pytest.approx(4.0 / 3.0)
    assert capability.cpk == pytest.approx(4.0 / 3.0)


def test_cpk_one_sided() -> None:
    # Upper only: Cpk = CPU = (13 - 10) / (3 * 0.5) = 2.0; no Cp without both limits.
    upper = process_capability(center=10.0, sigma=0.5, usl=13.0)
    assert (upper.cp, upper.cpl) == (None, None)
    assert upper.cpk == pytest.approx(2.0)
    # Lower only: Cpk = CPL = (10 - 9.1) / (3 * 0.5) = 0.9 / 1.5 = 0.6.
    lower = process_capability(center=10.0, sigma=0.5, lsl=9.1)
    assert (lower.cp, lower.cpu) == (None, None)
    assert lower.cpk == pytest.approx(0.6)


def test_cpk_is_negative_when_the_centre_is_outside_the_specification() -> None:
    # CPU = (13 - 14) / (3 * 0.5) = -0.6667; CPL = (14 - 8) / 1.5 = 4.0 -> Cpk = -0.6667.
    capability = process_capability(center=14.0, sigma=0.5, lsl=8.0, usl=13.0)
    assert capability.cpk == pytest.approx(-2.0 / 3.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sigma": 0.0, "lsl": 8.0, "usl": 13.0}, r"sigma must be a finite number > 0.*got 0\.0"),
        ({"sigma": 0.5}, r"lsl and usl are both None"),
        ({"sigma": 0.5, "lsl": 13.0, "usl": 8.0}, r"lsl must be below usl.*lsl=13\.0"),
        ({"sigma": 0.5, "usl": math.nan}, r"usl must be a finite number or None, got nan"),
    ],
)
def test_capability_errors(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        process_capability(center=10.0, **kwargs)


# ------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("baseline", "kwargs", "message"),
    [
        ([], {}, r"baseline is empty \(0 points\); at least min_points=20"),
        ([1.0, 2.0, 3.0, NAN], {}, r"baseline has 3 finite points \(of 4\).*min_points=20"),
        ([1.0, NAN, 2.0, NAN, 3.0], {"min_points": 3}, r"baseline has 0 moving ranges"),
        ([5.0] * 30, {}, r"baseline sigma is 0\.0 .*sigma must be > 0"),
        ([5.0] * 30, {"sigma_method": "std"}, r"baseline sigma is 0\.0 \(sigma_method='std'"),
        ([1.0, 2.0], {"min_points": 1}, r"min_points must be >= 2.*got 1"),
        ([1.0, 2.0], {"sigma_method": "range"}, r"sigma_method must be .*got 'range'"),
        ([[1.0, 2.0], [3.0, 4.0]], {}, r"baseline must be one-dimensional, got shape \(2, 2\)"),
    ],
)
def test_control_limits_errors(baseline: object, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        control_limits(baseline, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("center", "sigma", "message"),
    [
        (NAN, 1.0, r"center must be a finite number, got nan"),
        (0.0, math.inf, r"sigma must be a finite number > 0, got inf"),
        (0.0, 0.0, r"sigma must be a finite number > 0, got 0\.0"),
        (0.0, -1.0, r"sigma must be a finite number > 0, got -1\.0"),
        (1e308, 1e308, r"center \+/- 1\*sigma must be finite.*center=1e\+308"),
    ],
)
def test_non_finite_limits_are_refused(center: float, sigma: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ControlLimits(center=center, sigma=sigma)


def test_other_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"baseline_size must be between 1 and len\(values\)=3"):
        evaluate_against_prior([1.0, 2.0, 3.0], baseline_size=0)
    with pytest.raises(ValueError, match=r"baseline has 5 finite points \(of 5\)"):
        evaluate_against_prior([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], baseline_size=5)
    with pytest.raises(ValueError, match=r"rules contains unknown rule 'WE9'"):
        evaluate([0.0], UNIT, rules=["WE9"])
    with pytest.raises(ValueError, match=r"values must be one-dimensional"):
        evaluate([[0.0]], UNIT)
    with pytest.raises(ValueError, match=r"baseline_window must be >= 2, got 1"):
        SpcMonitor(UNIT, baseline_window=1)
    with pytest.raises(ValueError, match=r"sigmas must be 1, 2 or 3, got 4"):
        UNIT.upper(4)
    monitor = SpcMonitor(UNIT)
    monitor.update(1.0)
    with pytest.raises(ValueError, match=r"baseline has 1 finite points"):
        monitor.refreeze()
    assert monitor.limits is UNIT  # unchanged after a failed refreeze
