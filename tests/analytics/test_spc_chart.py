"""Tests for the hourly control chart: limits from the first hours, rules on the rest."""

from __future__ import annotations

import datetime as dt

import pytest

from anh_reporter.analytics.spc.chart import NotEnoughData, hourly_chart
from anh_reporter.analytics.spc.rules import Rule

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _hours(values: list[float | None]) -> list[tuple[dt.datetime, float | None]]:
    return [(T0 + dt.timedelta(hours=i), v) for i, v in enumerate(values)]


def test_a_jump_after_the_baseline_fires_beyond_3_sigma_at_its_hour() -> None:
    # Alternating 9/11: moving range 2, sigma 2/1.128, centre 10; 30 is far beyond 3 sigma.
    chart = hourly_chart(_hours([9.0, 11.0] * 10 + [None, 30.0]), baseline_points=20)
    assert chart.limits.center == pytest.approx(10.0)
    assert chart.limits.sigma == pytest.approx(2.0 / 1.128)
    assert chart.limits.baseline_points == 20
    beyond = [v for v in chart.violations if v.rule is Rule.WE1]
    assert [(v.last, v.side) for v in beyond] == [(21, "above")]
    assert chart.time[21] == T0 + dt.timedelta(hours=21)


def test_nothing_left_to_judge_says_how_many_points_there_are() -> None:
    with pytest.raises(NotEnoughData, match="holds 5 hourly points; more than 5 are needed"):
        hourly_chart(_hours([1.0, 2.0, 3.0, 4.0, 5.0]), baseline_points=5)


def test_a_constant_baseline_is_not_enough_data() -> None:
    with pytest.raises(NotEnoughData, match="constant baseline"):
        hourly_chart(_hours([4.0] * 10), baseline_points=5)
