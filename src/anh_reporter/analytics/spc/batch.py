"""Batch evaluation: every point of a series judged against frozen limits, vectorised.

Run lengths and window counts come from cumulative sums; Python loops only over the violations
found. :func:`evaluate` equals, point for point, an :class:`~.monitor.SpcMonitor` fed the same
points with the same limits.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from anh_reporter.analytics.spc.limits import (
    DEFAULT_MIN_BASELINE,
    ControlLimits,
    FloatArray,
    SigmaMethod,
    as_series,
    control_limits,
)
from anh_reporter.analytics.spc.rules import (
    ALL_RULES,
    RULE_SPECS,
    Rule,
    RuleKind,
    RuleSpec,
    Side,
    Violation,
    select_rules,
)

BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]


def _run_lengths(flags: BoolArray) -> IndexArray:
    """Length of the run of True ending at each index (0 where False), without a loop."""
    index = np.arange(flags.size)
    last_false = np.maximum.accumulate(np.where(flags, -1, index))
    return index - last_false


class _BatchZones:
    """Zone flags, segment starts and window counts of a whole series, all vectorised."""

    def __init__(self, values: FloatArray, limits: ControlLimits) -> None:
        self.limits = limits
        finite = np.isfinite(values)
        x = np.where(finite, values, np.nan)  # comparisons with NaN are False: gaps fire nothing
        self.index = np.arange(x.size)
        # First index of the finite segment each point belongs to.
        self.segment_start = np.maximum.accumulate(np.where(finite, 0, self.index + 1))
        self.above = x > limits.center
        self.below = x < limits.center
        self.upper = {k: x > limits.upper(k) for k in (1, 2, 3)}
        self.lower = {k: x < limits.lower(k) for k in (1, 2, 3)}
        self.within_1 = (x >= limits.lower_1sigma) & (x <= limits.upper_1sigma)
        rising = np.zeros(x.size, dtype=np.bool_)
        falling = np.zeros(x.size, dtype=np.bool_)
        rising[1:] = x[1:] > x[:-1]
        falling[1:] = x[1:] < x[:-1]
        self.rising, self.falling = rising, falling
        step = rising.astype(np.int8) - falling.astype(np.int8)
        alternating = np.zeros(x.size, dtype=np.bool_)
        alternating[1:] = (step[1:] * step[:-1]) < 0
        self.alternating = alternating

    def window_start(self, window: int) -> IndexArray:
        """First index of the ``window`` points ending at each index, clipped to its segment."""
        return np.maximum(self.index - window + 1, self.segment_start)

    def window_count(self, flags: BoolArray, window: int) -> IndexArray:
        """How many of the points in each point's window are flagged (cumulative sums)."""
        cumulative = np.concatenate(([0], np.cumsum(flags, dtype=np.intp)))
        return cumulative[self.index + 1] - cumulative[self.window_start(window)]

    def firing(self, spec: RuleSpec) -> list[tuple[Side | None, BoolArray]]:
        """For one rule, a boolean array per side: True at each point where the rule fires."""
        kind, window = spec.kind, spec.window
        if kind is RuleKind.BEYOND:
            return [("above", self.upper[spec.sigmas]), ("below", self.lower[spec.sigmas])]
        if kind is RuleKind.K_OF_N_BEYOND:
            above, below = self.upper[spec.sigmas], self.lower[spec.sigmas]
            # The judged point must be one of the `count` flagged points (see module docstring).
            return [
                ("above", above & (self.window_count(above, window) >= spec.count)),
                ("below", below & (self.window_count(below, window) >= spec.count)),
            ]
        if kind is RuleKind.SAME_SIDE_RUN:
            return [
                ("above", _run_lengths(self.above) >= window),
                ("below", _run_lengths(self.below) >= window),
            ]
        if kind is RuleKind.TREND:
            return [
                ("increasing", _run_lengths(self.rising) >= window - 1),
                ("decreasing", _run_lengths(self.falling) >= window - 1),
            ]
        if kind is RuleKind.ALTERNATING:
            return [(None, _run_lengths(self.alternating) >= window - 2)]
        if kind is RuleKind.WITHIN_RUN:
            return [(None, _run_lengths(self.within_1) >= window)]
        beyond_1 = self.upper[spec.sigmas] | self.lower[spec.sigmas]
        return [(None, _run_lengths(beyond_1) >= window)]

    def points(self, spec: RuleSpec, side: Side | None, last: int) -> tuple[int, int, list[int]]:
        """(first, last, points) of one firing, in this series' own indices."""
        if spec.kind is RuleKind.K_OF_N_BEYOND:
            flags = self.upper[spec.sigmas] if side == "above" else self.lower[spec.sigmas]
            first = max(last - spec.window + 1, int(self.segment_start[last]))
            hits = np.flatnonzero(flags[first : last + 1]) + first
            return first, last, [int(i) for i in hits]
        first = last - spec.window + 1
        return first, last, list(range(first, last + 1))


def rule_masks(
    values: npt.ArrayLike, limits: ControlLimits, *, rules: Iterable[Rule | str] = ALL_RULES
) -> dict[Rule, BoolArray]:
    """For each selected rule, a boolean array over ``values``: True where the rule fires."""
    zones = _BatchZones(as_series(values, name="values"), limits)
    masks: dict[Rule, BoolArray] = {}
    for rule in select_rules(rules):
        sides = zones.firing(RULE_SPECS[rule])
        fired = sides[0][1]
        for _, mask in sides[1:]:
            fired = fired | mask
        masks[rule] = fired
    return masks


def evaluate(
    values: npt.ArrayLike,
    limits: ControlLimits,
    *,
    rules: Iterable[Rule | str] = ALL_RULES,
    index_offset: int = 0,
) -> list[Violation]:
    """Judge every point of ``values`` against frozen ``limits``; violations by point, rule.

    The detection is vectorised (run lengths and window counts by cumulative sums); Python
    only loops over the violations found, to build them. Indices are positions in ``values``
    plus ``index_offset``. Equal, point for point, to feeding ``values`` to an
    :class:`SpcMonitor` holding the same limits.
    """
    zones = _BatchZones(as_series(values, name="values"), limits)
    found: list[tuple[int, int, RuleSpec, Side | None]] = []
    for position, rule in enumerate(select_rules(rules)):
        spec = RULE_SPECS[rule]
        for side, mask in zones.firing(spec):
            found.extend((int(last), position, spec, side) for last in np.flatnonzero(mask))
    found.sort(key=lambda item: (item[0], item[1]))
    violations = []
    for last, _, spec, side in found:
        first, _, points = zones.points(spec, side, last)
        violations.append(
            Violation(
                rule=spec.rule,
                first=first + index_offset,
                last=last + index_offset,
                points=tuple(p + index_offset for p in points),
                side=side,
                limits=limits,
            )
        )
    return violations


def evaluate_against_prior(
    values: npt.ArrayLike,
    *,
    baseline_size: int,
    sigma_method: SigmaMethod = "moving_range",
    min_points: int = DEFAULT_MIN_BASELINE,
    rules: Iterable[Rule | str] = ALL_RULES,
) -> tuple[ControlLimits, list[Violation]]:
    """Freeze limits from ``values[:baseline_size]`` and judge only ``values[baseline_size:]``.

    The judged points never enter their own limits. Indices are positions in ``values``.
    """
    series = as_series(values, name="values")
    if not 0 < baseline_size <= series.size:
        raise ValueError(
            f"baseline_size must be between 1 and len(values)={series.size}, got {baseline_size}"
        )
    limits = control_limits(
        series[:baseline_size], sigma_method=sigma_method, min_points=min_points
    )
    judged = evaluate(series[baseline_size:], limits, rules=rules, index_offset=baseline_size)
    return limits, judged
