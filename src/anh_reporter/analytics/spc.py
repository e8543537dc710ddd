"""Statistical process control (SPC) for one telemetry series: limits, run rules, capability.

Pure functions over numpy arrays plus one small online state object; no I/O.

Limits come from a baseline that excludes the points being judged
    :func:`control_limits` freezes a centre line and a sigma from a *baseline* window, and
    :func:`evaluate` judges *other* points against them. Judging a point against limits computed
    from a window that contains it hides the very shift the rules look for: the point drags the
    centre line and inflates sigma (a single 16 after twenty points alternating 9/11 is beyond
    3 sigma of the prior baseline, but inside the limits of a window that includes it).
    :func:`evaluate_against_prior` and :meth:`SpcMonitor.refreeze` keep the two apart.

Sigma
    ``sigma_method="moving_range"`` (the default) is the individuals-chart (I-MR) convention:
    the mean absolute difference between consecutive points divided by d2 = 1.128. It measures
    short-term, point-to-point variation, so a drift or a shift inside the baseline inflates it
    much less than the standard deviation. ``sigma_method="std"`` is the sample standard
    deviation (ddof = 1) of the baseline. Moving ranges are only taken between two consecutive
    *finite* points.

Zones
    With c the centre line and s sigma, a point is "beyond k sigma" above when x > c + k*s and
    below when x < c - k*s: strict, so a point exactly on a limit is not beyond it. "Within
    1 sigma" is c - s <= x <= c + s, the complement of "beyond 1 sigma". "Above"/"below the
    centre line" are x > c and x < c; a point exactly on the centre line is on neither side and
    breaks a same-side run. Batch and online compare the point with the same precomputed float
    thresholds, which is why they agree exactly.

When a rule fires
    A rule is judged at every point, looking back over the points that end at it; it fires at a
    point when the pattern ending there is complete, and keeps firing at each following point
    while the pattern holds (twelve points above the centre line fire NELSON2 at the 9th, 10th,
    11th and 12th). This is what an online monitor does with each new point, and the batch
    evaluation reports exactly the same (rule, point) pairs. For the "k out of n" rules (WE2, WE3,
    NELSON5, NELSON6) the judged point must itself be one of the k points beyond the zone, on the
    same side: every alert carries new evidence, and a pattern already reported is not reported
    again when a quiet point follows it. Near the start of a series (or of a segment, below)
    those windows are shorter than n: two points beyond 2 sigma as the first two points of a
    segment fire WE2.

Missing points (NaN and +/-inf)
    A non-finite value is not judged, fires nothing, and breaks every pattern: the series is cut
    into segments at non-finite points and no run, trend, alternation or "k out of n" window
    spans two segments. Ingest quarantines non-finite readings before they get here; treating
    +/-inf as missing rather than "beyond 3 sigma" keeps one rule for every gap.

Rules (Western Electric 1956 handbook; Nelson, J. Quality Technology 16(4), 1984)
    ======== ============================================================================
    WE1      1 point beyond 3 sigma
    WE2      2 of 3 consecutive points beyond 2 sigma, same side
    WE3      4 of 5 consecutive points beyond 1 sigma, same side
    WE4      8 consecutive points on the same side of the centre line
    NELSON1  1 point beyond 3 sigma
    NELSON2  9 consecutive points on the same side of the centre line
    NELSON3  6 consecutive points steadily increasing or decreasing (5 strict steps)
    NELSON4  14 consecutive points alternating up and down (13 steps, signs alternating)
    NELSON5  2 of 3 consecutive points beyond 2 sigma, same side
    NELSON6  4 of 5 consecutive points beyond 1 sigma, same side
    NELSON7  15 consecutive points within 1 sigma (either side)
    NELSON8  8 consecutive points beyond 1 sigma, either side (none within 1 sigma)
    ======== ============================================================================

Where sources differ
    * Same side run: the Western Electric handbook uses 8 points (WE4), Nelson and Minitab 9
      (NELSON2). Both are offered, under their own ids.
    * Trend: some texts count six *increases* (seven points); Nelson and Minitab count six
      points (five increases). NELSON3 is six points. Equal consecutive values break a trend and
      an alternation (neither up nor down).
    * WE1/NELSON1, WE2/NELSON5 and WE3/NELSON6 are the same tests; both ids exist so a site can
      pick one rule set. :data:`ALL_RULES` evaluates both sets; pass :data:`NELSON_RULES` or
      :data:`WESTERN_ELECTRIC_RULES` to get one.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

D2_MOVING_RANGE: Final = 1.128
"""d2 for moving ranges of two points: sigma = mean moving range / d2."""

DEFAULT_MIN_BASELINE: Final = 20
"""Finite points a baseline needs by default (the usual 20-25 points for an individuals chart)."""

DEFAULT_BASELINE_WINDOW: Final = 200
"""Points an :class:`SpcMonitor` keeps for :meth:`SpcMonitor.refreeze`."""

SigmaMethod = Literal["moving_range", "std"]
Side = Literal["above", "below", "increasing", "decreasing"]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]


class Rule(StrEnum):
    """Identifier of a run rule, as stored with an anomaly and shown to users."""

    WE1 = "WE1"
    WE2 = "WE2"
    WE3 = "WE3"
    WE4 = "WE4"
    NELSON1 = "NELSON1"
    NELSON2 = "NELSON2"
    NELSON3 = "NELSON3"
    NELSON4 = "NELSON4"
    NELSON5 = "NELSON5"
    NELSON6 = "NELSON6"
    NELSON7 = "NELSON7"
    NELSON8 = "NELSON8"


class RuleKind(Enum):
    """The shape of pattern a rule looks for; a rule is a kind plus its numbers."""

    BEYOND = "beyond"  # the judged point beyond `sigmas`
    K_OF_N_BEYOND = "k_of_n_beyond"  # `count` of the last `window` beyond `sigmas`, same side
    SAME_SIDE_RUN = "same_side_run"  # `window` in a row on one side of the centre line
    TREND = "trend"  # `window` in a row strictly increasing or strictly decreasing
    ALTERNATING = "alternating"  # `window` in a row alternating up and down
    WITHIN_RUN = "within_run"  # `window` in a row within `sigmas`
    BEYOND_RUN = "beyond_run"  # `window` in a row beyond `sigmas`, either side


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One run rule as data: its kind, window length, count and zone.

    The online monitor keeps zone flags for 1 and 2 sigma ("k of n") and 1 sigma (within and
    beyond runs), the zones the twelve standard rules use; a new rule in another zone needs a
    flag there too.
    """

    rule: Rule
    kind: RuleKind
    window: int
    count: int
    sigmas: int
    description: str


RULE_SPECS: Final[dict[Rule, RuleSpec]] = {
    spec.rule: spec
    for spec in (
        RuleSpec(Rule.WE1, RuleKind.BEYOND, 1, 1, 3, "1 point beyond 3 sigma"),
        RuleSpec(Rule.WE2, RuleKind.K_OF_N_BEYOND, 3, 2, 2, "2 of 3 beyond 2 sigma, same side"),
        RuleSpec(Rule.WE3, RuleKind.K_OF_N_BEYOND, 5, 4, 1, "4 of 5 beyond 1 sigma, same side"),
        RuleSpec(Rule.WE4, RuleKind.SAME_SIDE_RUN, 8, 8, 0, "8 in a row on one side"),
        RuleSpec(Rule.NELSON1, RuleKind.BEYOND, 1, 1, 3, "1 point beyond 3 sigma"),
        RuleSpec(Rule.NELSON2, RuleKind.SAME_SIDE_RUN, 9, 9, 0, "9 in a row on one side"),
        RuleSpec(Rule.NELSON3, RuleKind.TREND, 6, 6, 0, "6 in a row increasing or decreasing"),
        RuleSpec(Rule.NELSON4, RuleKind.ALTERNATING, 14, 14, 0, "14 in a row alternating"),
        RuleSpec(Rule.NELSON5, RuleKind.K_OF_N_BEYOND, 3, 2, 2, "2 of 3 beyond 2 sigma, same side"),
        RuleSpec(Rule.NELSON6, RuleKind.K_OF_N_BEYOND, 5, 4, 1, "4 of 5 beyond 1 sigma, same side"),
        RuleSpec(Rule.NELSON7, RuleKind.WITHIN_RUN, 15, 15, 1, "15 in a row within 1 sigma"),
        RuleSpec(Rule.NELSON8, RuleKind.BEYOND_RUN, 8, 8, 1, "8 in a row beyond 1 sigma"),
    )
}

WESTERN_ELECTRIC_RULES: Final[tuple[Rule, ...]] = (Rule.WE1, Rule.WE2, Rule.WE3, Rule.WE4)
NELSON_RULES: Final[tuple[Rule, ...]] = tuple(r for r in Rule if r.startswith("NELSON"))
ALL_RULES: Final[tuple[Rule, ...]] = tuple(Rule)

_MAX_K_OF_N_WINDOW: Final = max(
    s.window for s in RULE_SPECS.values() if s.kind is RuleKind.K_OF_N_BEYOND
)
_HISTORY_MASK: Final = (1 << _MAX_K_OF_N_WINDOW) - 1


@dataclass(frozen=True, slots=True)
class ControlLimits:
    """Frozen centre line and sigma, with the +/-1, 2 and 3 sigma lines derived from them."""

    center: float
    sigma: float
    sigma_method: str = "given"
    baseline_points: int = 0
    upper_1sigma: float = field(init=False)
    upper_2sigma: float = field(init=False)
    upper_3sigma: float = field(init=False)
    lower_1sigma: float = field(init=False)
    lower_2sigma: float = field(init=False)
    lower_3sigma: float = field(init=False)

    def __post_init__(self) -> None:
        center, sigma = float(self.center), float(self.sigma)
        if not math.isfinite(center):
            raise ValueError(f"center must be a finite number, got {center}")
        if not (math.isfinite(sigma) and sigma > 0.0):
            raise ValueError(f"sigma must be a finite number > 0, got {sigma}")
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "sigma", sigma)
        for k in (1, 2, 3):
            upper, lower = center + k * sigma, center - k * sigma
            if not (math.isfinite(upper) and math.isfinite(lower)):
                raise ValueError(
                    f"center +/- {k}*sigma must be finite, got {lower} .. {upper} "
                    f"(center={center}, sigma={sigma})"
                )
            object.__setattr__(self, f"upper_{k}sigma", upper)
            object.__setattr__(self, f"lower_{k}sigma", lower)

    @property
    def ucl(self) -> float:
        """Upper control limit, centre + 3 sigma."""
        return self.upper_3sigma

    @property
    def lcl(self) -> float:
        """Lower control limit, centre - 3 sigma."""
        return self.lower_3sigma

    def upper(self, sigmas: int) -> float:
        """The line ``sigmas`` (1, 2 or 3) sigma above the centre line."""
        return _pick(sigmas, self.upper_1sigma, self.upper_2sigma, self.upper_3sigma)

    def lower(self, sigmas: int) -> float:
        """The line ``sigmas`` (1, 2 or 3) sigma below the centre line."""
        return _pick(sigmas, self.lower_1sigma, self.lower_2sigma, self.lower_3sigma)


def _pick(sigmas: int, one: float, two: float, three: float) -> float:
    if sigmas == 1:
        return one
    if sigmas == 2:
        return two
    if sigmas == 3:
        return three
    raise ValueError(f"sigmas must be 1, 2 or 3, got {sigmas}")


@dataclass(frozen=True, slots=True)
class Violation:
    """One firing of one rule at one point.

    ``last`` is the judged point, where the pattern is complete; ``first`` .. ``last`` is the
    window the rule looked at (shorter than the rule's window only for "k of n" rules at the
    start of a segment); ``points`` are the points that make the pattern: every point of the
    window for runs, the points beyond the zone for "k of n" rules. ``side`` is "above" or
    "below" for one-sided rules, "increasing" or "decreasing" for NELSON3, None otherwise.
    """

    rule: Rule
    first: int
    last: int
    points: tuple[int, ...]
    side: Side | None
    limits: ControlLimits


@dataclass(frozen=True, slots=True)
class Capability:
    """Process capability against specification limits; one-sided when a limit is absent.

    ``cp`` needs both limits and is None otherwise; ``cpu``/``cpl`` are None when their limit
    is absent; ``cpk`` is the smaller of the ones present.
    """

    cp: float | None
    cpk: float
    cpu: float | None
    cpl: float | None


# --------------------------------------------------------------------------------------------
# Limits and capability


def _as_series(values: npt.ArrayLike, *, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def control_limits(
    baseline: npt.ArrayLike,
    *,
    sigma_method: SigmaMethod = "moving_range",
    min_points: int = DEFAULT_MIN_BASELINE,
) -> ControlLimits:
    """Freeze limits from a baseline: centre = mean of its finite points, sigma per method.

    Non-finite baseline points are ignored; moving ranges are taken only between consecutive
    finite points. Raises ValueError when the baseline has fewer than ``min_points`` finite
    points, no moving range, or zero spread.
    """
    if min_points < 2:
        raise ValueError(f"min_points must be >= 2 (a sigma needs two points), got {min_points}")
    if sigma_method not in ("moving_range", "std"):
        raise ValueError(f"sigma_method must be 'moving_range' or 'std', got {sigma_method!r}")
    values = _as_series(baseline, name="baseline")
    if values.size == 0:
        raise ValueError(
            f"baseline is empty (0 points); at least min_points={min_points} finite points "
            "are needed"
        )
    finite = np.isfinite(values)
    n_finite = int(np.count_nonzero(finite))
    if n_finite < min_points:
        raise ValueError(
            f"baseline has {n_finite} finite points (of {values.size}); at least "
            f"min_points={min_points} are needed"
        )
    kept = values[finite]
    center = float(kept.mean())
    if sigma_method == "moving_range":
        ranges = np.abs(np.diff(np.where(finite, values, np.nan)))
        ranges = ranges[np.isfinite(ranges)]
        if ranges.size == 0:
            raise ValueError(
                "baseline has 0 moving ranges (no two consecutive finite points); at least 1 "
                "is needed for sigma_method='moving_range'"
            )
        sigma = float(ranges.mean()) / D2_MOVING_RANGE
    else:
        sigma = float(kept.std(ddof=1))
    if not sigma > 0.0:
        raise ValueError(
            f"baseline sigma is {sigma} (sigma_method={sigma_method!r}, {n_finite} points): "
            "sigma must be > 0; a constant baseline gives no control limits"
        )
    return ControlLimits(center, sigma, sigma_method, n_finite)


def process_capability(
    *, center: float, sigma: float, lsl: float | None = None, usl: float | None = None
) -> Capability:
    """Cp, Cpk (and CPU, CPL) of a process with this centre and sigma against spec limits.

    Cp = (USL - LSL) / 6 sigma; CPU = (USL - centre) / 3 sigma; CPL = (centre - LSL) / 3 sigma;
    Cpk = min(CPU, CPL) over the limits present. Pass the short-term (moving range) sigma for
    Cp/Cpk; the overall standard deviation gives Pp/Ppk.
    """
    if not (math.isfinite(sigma) and sigma > 0.0):
        raise ValueError(
            f"sigma must be a finite number > 0 for Cp/Cpk, got {sigma} "
            "(a process with no variation has no defined capability)"
        )
    if not math.isfinite(center):
        raise ValueError(f"center must be a finite number, got {center}")
    if lsl is None and usl is None:
        raise ValueError("lsl and usl are both None; at least one specification limit is needed")
    for name, limit in (("lsl", lsl), ("usl", usl)):
        if limit is not None and not math.isfinite(limit):
            raise ValueError(f"{name} must be a finite number or None, got {limit}")
    if lsl is not None and usl is not None and not lsl < usl:
        raise ValueError(f"lsl must be below usl, got lsl={lsl} >= usl={usl}")
    cpu = None if usl is None else (usl - center) / (3.0 * sigma)
    cpl = None if lsl is None else (center - lsl) / (3.0 * sigma)
    cp = None if lsl is None or usl is None else (usl - lsl) / (6.0 * sigma)
    cpk = min(c for c in (cpu, cpl) if c is not None)
    return Capability(cp=cp, cpk=cpk, cpu=cpu, cpl=cpl)


# --------------------------------------------------------------------------------------------
# Batch evaluation


def _select_rules(rules: Iterable[Rule | str]) -> tuple[Rule, ...]:
    wanted: set[Rule] = set()
    for rule in rules:
        try:
            wanted.add(Rule(rule))
        except ValueError:
            known = ", ".join(r.value for r in Rule)
            raise ValueError(
                f"rules contains unknown rule {rule!r}; known rules: {known}"
            ) from None
    return tuple(r for r in Rule if r in wanted)  # canonical order: batch and online agree


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
    zones = _BatchZones(_as_series(values, name="values"), limits)
    masks: dict[Rule, BoolArray] = {}
    for rule in _select_rules(rules):
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
    zones = _BatchZones(_as_series(values, name="values"), limits)
    found: list[tuple[int, int, RuleSpec, Side | None]] = []
    for position, rule in enumerate(_select_rules(rules)):
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
    series = _as_series(values, name="values")
    if not 0 < baseline_size <= series.size:
        raise ValueError(
            f"baseline_size must be between 1 and len(values)={series.size}, got {baseline_size}"
        )
    limits = control_limits(
        series[:baseline_size], sigma_method=sigma_method, min_points=min_points
    )
    judged = evaluate(series[baseline_size:], limits, rules=rules, index_offset=baseline_size)
    return limits, judged


# --------------------------------------------------------------------------------------------
# Online evaluation


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
        self._specs = tuple(RULE_SPECS[rule] for rule in _select_rules(rules))
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
        series = _as_series(baseline, name="baseline")
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
