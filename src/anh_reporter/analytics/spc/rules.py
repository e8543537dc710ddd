"""The run rules as data (Western Electric, Nelson), the rule sets, and one rule's firing.

See the package docstring for when a rule fires and where the sources differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Final, Literal

from anh_reporter.analytics.spc.limits import ControlLimits

Side = Literal["above", "below", "increasing", "decreasing"]


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


def select_rules(rules: Iterable[Rule | str]) -> tuple[Rule, ...]:
    """The rules named, in canonical order; ValueError naming an unknown rule."""
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
