"""Online rule evaluation: one :class:`SpcMonitor` per series, O(1) work per new point."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from typing import Final

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

DEFAULT_BASELINE_WINDOW: Final = 200
"""Points an :class:`SpcMonitor` keeps for :meth:`SpcMonitor.refreeze`."""

_MAX_K_OF_N_WINDOW: Final = max(
    s.window for s in RULE_SPECS.values() if s.kind is RuleKind.K_OF_N_BEYOND
)
_HISTORY_MASK: Final = (1 << _MAX_K_OF_N_WINDOW) - 1


class SpcMonitor:
    """Online rule evaluation for one series: O(1) work and memory per new point.

    Feed points in order with :meth:`update`; it returns the violations the point triggers,
    exactly those :func:`evaluate` reports at that point for the same limits and rules. State
    is a handful of run counters and, for the "k out of n" rules, the last few zone flags as
    bits of an int (a ring buffer of bits). A non-finite point, :meth:`set_limits` and
    :meth:`refreeze` start a new segment: no pattern spans them, as in :func:`evaluate` run on
    the points that follow.

    The monitor also keeps the last ``baseline_window`` raw points (a bounded deque, O(1) per
    point); :meth:`refreeze` recomputes the limits from them. It is called between points, so
    the baseline holds only points already judged, never the next one.
    """

    __slots__ = (
        "_above_run",
        "_alternating_run",
        "_baseline",
        "_below_run",
        "_beyond_1_run",
        "_center",
        "_falling_run",
        "_limits",
        "_lower_1",
        "_lower_2",
        "_lower_3",
        "_lower_history",
        "_next_index",
        "_previous",
        "_previous_step",
        "_rising_run",
        "_segment_start",
        "_specs",
        "_upper_1",
        "_upper_2",
        "_upper_3",
        "_upper_history",
        "_within_1_run",
    )

    _limits: ControlLimits
    _specs: tuple[RuleSpec, ...]
    _baseline: deque[float]
    _next_index: int
    _segment_start: int
    _center: float
    _upper_1: float
    _upper_2: float
    _upper_3: float
    _lower_1: float
    _lower_2: float
    _lower_3: float
    _previous: float | None
    _previous_step: int
    _above_run: int
    _below_run: int
    _rising_run: int
    _falling_run: int
    _alternating_run: int
    _within_1_run: int
    _beyond_1_run: int
    _upper_history: list[int]
    _lower_history: list[int]

    def __init__(
        self,
        limits: ControlLimits,
        *,
        rules: Iterable[Rule | str] = ALL_RULES,
        baseline_window: int = DEFAULT_BASELINE_WINDOW,
        start_index: int = 0,
    ) -> None:
        if baseline_window < 2:
            raise ValueError(f"baseline_window must be >= 2, got {baseline_window}")
        self._specs = tuple(RULE_SPECS[rule] for rule in select_rules(rules))
        self._baseline = deque(maxlen=baseline_window)
        self._next_index = start_index
        self._install(limits)

    @classmethod
    def from_baseline(
        cls,
        baseline: npt.ArrayLike,
        *,
        sigma_method: SigmaMethod = "moving_range",
        min_points: int = DEFAULT_MIN_BASELINE,
        rules: Iterable[Rule | str] = ALL_RULES,
        baseline_window: int = DEFAULT_BASELINE_WINDOW,
        start_index: int | None = None,
    ) -> SpcMonitor:
        """A monitor with limits frozen from ``baseline``, judging the points that follow it.

        Its rolling baseline starts with the last ``baseline_window`` baseline points; indices
        continue after the baseline unless ``start_index`` says otherwise.
        """
        series = as_series(baseline, name="baseline")
        limits = control_limits(series, sigma_method=sigma_method, min_points=min_points)
        monitor = cls(
            limits,
            rules=rules,
            baseline_window=baseline_window,
            start_index=series.size if start_index is None else start_index,
        )
        monitor._baseline.extend(float(v) for v in series[-baseline_window:])
        return monitor

    @property
    def limits(self) -> ControlLimits:
        """The frozen limits the next point is judged against."""
        return self._limits

    @property
    def next_index(self) -> int:
        """The index the next point will get."""
        return self._next_index

    def baseline(self) -> FloatArray:
        """A copy of the rolling baseline (the last ``baseline_window`` points seen)."""
        return np.fromiter(self._baseline, dtype=np.float64, count=len(self._baseline))

    def set_limits(self, limits: ControlLimits) -> None:
        """Judge the following points against ``limits``; starts a new segment."""
        self._install(limits)

    def refreeze(
        self,
        *,
        sigma_method: SigmaMethod | None = None,
        min_points: int = DEFAULT_MIN_BASELINE,
    ) -> ControlLimits:
        """Recompute the limits from the rolling baseline, which excludes the next point.

        The rolling baseline keeps non-finite points too, so they split moving ranges exactly
        as in :func:`control_limits`. Costs O(baseline_window) numpy work, once per call; it is
        not on the per-point path. ``sigma_method`` defaults to the current limits' method
        (moving range for hand-made limits). Starts a new segment; on error (baseline too
        short, constant) the monitor is unchanged.
        """
        if sigma_method is None:
            current = self._limits.sigma_method
            sigma_method = "std" if current == "std" else "moving_range"
        limits = control_limits(self.baseline(), sigma_method=sigma_method, min_points=min_points)
        self._install(limits)
        return limits

    def _install(self, limits: ControlLimits) -> None:
        self._limits = limits
        # Cached as plain floats: the per-point path then costs no attribute chain.
        self._center = limits.center
        self._upper_1, self._upper_2, self._upper_3 = (
            limits.upper_1sigma,
            limits.upper_2sigma,
            limits.upper_3sigma,
        )
        self._lower_1, self._lower_2, self._lower_3 = (
            limits.lower_1sigma,
            limits.lower_2sigma,
            limits.lower_3sigma,
        )
        self._start_segment(self._next_index)

    def _start_segment(self, start: int) -> None:
        self._segment_start = start
        self._previous = None
        self._previous_step = 0
        self._above_run = self._below_run = 0
        self._rising_run = self._falling_run = self._alternating_run = 0
        self._within_1_run = self._beyond_1_run = 0
        # Indexed by sigma level (1 or 2; 0 unused). Bit j is set when the point j places back
        # was beyond that level: a ring buffer of the last few flags, counted with bit_count().
        # Zeroed here, so a "k of n" window never reaches back past the segment start.
        self._upper_history = [0, 0, 0]
        self._lower_history = [0, 0, 0]

    def update(self, value: float) -> tuple[Violation, ...]:
        """Judge one new point; return the violations it triggers (usually none)."""
        index = self._next_index
        self._next_index = index + 1
        self._baseline.append(value)
        if not math.isfinite(value):
            self._start_segment(index + 1)
            return ()

        if value > self._center:
            self._above_run += 1
            self._below_run = 0
        elif value < self._center:
            self._below_run += 1
            self._above_run = 0
        else:
            self._above_run = self._below_run = 0

        if self._lower_1 <= value <= self._upper_1:
            self._within_1_run += 1
            self._beyond_1_run = 0
        else:
            self._within_1_run = 0
            self._beyond_1_run += 1

        upper, lower = self._upper_history, self._lower_history
        upper[1] = ((upper[1] << 1) | (value > self._upper_1)) & _HISTORY_MASK
        upper[2] = ((upper[2] << 1) | (value > self._upper_2)) & _HISTORY_MASK
        lower[1] = ((lower[1] << 1) | (value < self._lower_1)) & _HISTORY_MASK
        lower[2] = ((lower[2] << 1) | (value < self._lower_2)) & _HISTORY_MASK

        previous = self._previous
        step = 0
        if previous is not None:
            if value > previous:
                step = 1
            elif value < previous:
                step = -1
        if step > 0:
            self._rising_run += 1
            self._falling_run = 0
        elif step < 0:
            self._falling_run += 1
            self._rising_run = 0
        else:
            self._rising_run = self._falling_run = 0
        if step * self._previous_step < 0:
            self._alternating_run += 1
        else:
            self._alternating_run = 0
        self._previous = value
        self._previous_step = step

        found: list[Violation] | None = None
        for spec in self._specs:
            fired = self._check(spec, index, value)
            if fired is not None:
                if found is None:
                    found = []
                found.append(fired)
        return () if found is None else tuple(found)

    def _check(self, spec: RuleSpec, index: int, value: float) -> Violation | None:
        kind, window = spec.kind, spec.window
        side: Side | None
        if kind is RuleKind.BEYOND:
            if value > self._upper_3:
                side = "above"
            elif value < self._lower_3:
                side = "below"
            else:
                return None
            return Violation(spec.rule, index, index, (index,), side, self._limits)
        if kind is RuleKind.K_OF_N_BEYOND:
            window_bits = (1 << window) - 1
            history = self._upper_history[spec.sigmas]
            side = "above"
            if not history & 1:
                history = self._lower_history[spec.sigmas]
                side = "below"
                if not history & 1:
                    return None
            history &= window_bits
            if history.bit_count() < spec.count:
                return None
            first = max(index - window + 1, self._segment_start)
            points = tuple(
                index - back for back in range(index - first, -1, -1) if history >> back & 1
            )
            return Violation(spec.rule, first, index, points, side, self._limits)
        if kind is RuleKind.SAME_SIDE_RUN:
            if self._above_run >= window:
                side = "above"
            elif self._below_run >= window:
                side = "below"
            else:
                return None
        elif kind is RuleKind.TREND:
            if self._rising_run >= window - 1:
                side = "increasing"
            elif self._falling_run >= window - 1:
                side = "decreasing"
            else:
                return None
        elif kind is RuleKind.ALTERNATING:
            if self._alternating_run < window - 2:
                return None
            side = None
        elif kind is RuleKind.WITHIN_RUN:
            if self._within_1_run < window:
                return None
            side = None
        else:
            if self._beyond_1_run < window:
                return None
            side = None
        first = index - window + 1
        return Violation(
            spec.rule, first, index, tuple(range(first, index + 1)), side, self._limits
        )
