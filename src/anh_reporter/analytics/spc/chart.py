"""A control chart of hourly averages: limits from the first hours, the rules on the rest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from anh_reporter.analytics.spc.batch import evaluate_against_prior
from anh_reporter.analytics.spc.limits import ControlLimits, FloatArray
from anh_reporter.analytics.spc.rules import Violation


class NotEnoughData(ValueError):
    """The points cannot give a baseline and something to judge; the message says why."""


@dataclass(frozen=True)
class Chart:
    """Points (NaN where an hour has no average), frozen limits, and the violations found."""

    time: list[dt.datetime]
    value: FloatArray
    limits: ControlLimits
    violations: list[Violation]


def hourly_chart(
    hours: Sequence[tuple[dt.datetime, float | None]], *, baseline_points: int
) -> Chart:
    """Judge ``hours[baseline_points:]`` against limits frozen from ``hours[:baseline_points]``.

    Raises :class:`NotEnoughData` when there is nothing left to judge or the baseline cannot
    give limits (too few finite points, no spread).
    """
    times = [h[0] for h in hours]
    values = np.array([np.nan if h[1] is None else h[1] for h in hours], dtype=np.float64)
    if len(values) <= baseline_points:
        raise NotEnoughData(
            f"the range holds {len(values)} hourly points; more than {baseline_points} are "
            "needed (a longer range or a smaller baseline)"
        )
    try:
        limits, violations = evaluate_against_prior(
            values, baseline_size=baseline_points, min_points=min(baseline_points, 20)
        )
    except ValueError as exc:
        raise NotEnoughData(str(exc)) from None
    return Chart(times, values, limits, violations)
