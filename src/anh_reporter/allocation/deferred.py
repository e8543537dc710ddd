"""Downtime with a cause code, and the production it defers: test rate × hours down / 24.

A downtime event is a stretch of time a well was down, with a cause from the field's list
(:class:`CauseCodes`; :data:`DEFAULT_CAUSE_CODES` unless the field configures its own). The
hours down of a contract day are the events clipped to the day, per cause. The deferred volume
of each fluid is the rate of the test in force times the day's hours down (every cause) over 24,
rounded half up to the volume increment **once**; that total is then split over the causes in
proportion to their hours by the largest-remainder method of the allocation
(:func:`~anh_reporter.allocation.rounding.largest_remainder`, ties to the smaller cause code),
so the causes add up to the total exactly. Rounding each cause on its own would not: 500 bbl/d
down 1 h and 4 h gives 20.83 + 83.33 = 104.16, not 500 × 5 / 24 = 104.1667 → 104.17. Without a
test nothing can be deferred: the hours are kept and a finding says so.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from anh_reporter.allocation.errors import AllocationError, require_range
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.allocation.fluids import (
    FLUIDS,
    HOURS_INCREMENT,
    HOURS_PER_DAY,
    VOLUME_INCREMENT,
    Fluid,
)
from anh_reporter.allocation.rounding import largest_remainder, scaled_integers
from anh_reporter.allocation.timeseries import Window
from anh_reporter.allocation.well_tests import WellTestInForce
from anh_reporter.domain.mpms import round_half_up
from anh_reporter.domain.timeutil import US_PER_HOUR

DEFAULT_CAUSE_CODES: tuple[str, ...] = (
    "power_failure",
    "artificial_lift_failure",
    "surface_equipment",
    "flowline",
    "facility_constraint",
    "planned_maintenance",
    "workover",
    "well_test",
    "reservoir",
    "weather",
    "community_blockade",
    "security",
    "other",
)
"""Downtime causes used unless the field configures its own list."""


@dataclass(frozen=True)
class CauseCodes:
    """The downtime cause codes a field accepts."""

    codes: tuple[str, ...] = DEFAULT_CAUSE_CODES

    def __post_init__(self) -> None:
        if not self.codes:
            raise AllocationError("the list of downtime cause codes is empty")

    def check(self, cause: str, where: str) -> str:
        """``cause`` when it is on the list, else an error naming it and the list."""
        if cause not in self.codes:
            raise AllocationError(
                f"{where}: downtime cause {cause!r} is not on the field's list {list(self.codes)}"
            )
        return cause


DEFAULT_CAUSES = CauseCodes()


@dataclass(frozen=True)
class DowntimeEvent:
    """A well down from ``start_us`` to ``end_us`` (µs since the epoch) for a cause."""

    well: str
    start_us: int
    end_us: int
    cause: str
    comment: str = ""

    def __post_init__(self) -> None:
        if self.end_us <= self.start_us:
            raise AllocationError(
                f"downtime of well {self.well!r} ends ({self.end_us} µs) before it starts "
                f"({self.start_us} µs)"
            )


def downtime_hours(
    well: str,
    events: Iterable[DowntimeEvent],
    window: Window,
    causes: CauseCodes = DEFAULT_CAUSES,
) -> dict[str, Decimal]:
    """Hours down in ``window`` per cause (0.01 h); overlapping events are an error.

    Overlaps would count the same hour twice (and defer its production twice), so they are
    refused with both events named rather than merged by a guess.
    """
    clipped: list[tuple[int, int, str]] = []
    for e in events:
        if e.well != well:
            raise AllocationError(f"downtime of well {e.well!r} given for well {well!r}")
        causes.check(e.cause, f"downtime of well {well!r}")
        start, end = max(e.start_us, window.start_us), min(e.end_us, window.end_us)
        if end > start:
            clipped.append((start, end, e.cause))
    clipped.sort()
    for (_, e0, c0), (s1, _, c1) in itertools.pairwise(clipped):
        if s1 < e0:
            raise AllocationError(
                f"downtime events of well {well!r} overlap: {c0} until {e0} µs and {c1} from "
                f"{s1} µs; split or correct them"
            )
    per_cause: dict[str, int] = {}
    for start, end, cause in clipped:
        per_cause[cause] = per_cause.get(cause, 0) + end - start
    return {
        cause: round_half_up(Decimal(us) / Decimal(US_PER_HOUR), HOURS_INCREMENT)
        for cause, us in sorted(per_cause.items())
    }


@dataclass(frozen=True)
class DeferredVolume:
    """Production a well deferred for one cause on a day (None per fluid without a test)."""

    well: str
    cause: str
    hours_down: Decimal
    oil_bbl: Decimal | None
    gas_kscf: Decimal | None
    water_bbl: Decimal | None

    def volume(self, fluid: Fluid) -> Decimal | None:
        """The deferred volume of ``fluid``."""
        return {"oil": self.oil_bbl, "gas": self.gas_kscf, "water": self.water_bbl}[fluid]


@dataclass(frozen=True)
class Deferred:
    """A well's deferred production of a day, per cause, with findings."""

    well: str
    volumes: tuple[DeferredVolume, ...]
    findings: tuple[Finding, ...] = field(default=())

    def total(self, fluid: Fluid) -> Decimal | None:
        """Deferred ``fluid`` over every cause; None when none could be computed."""
        values = [v.volume(fluid) for v in self.volumes]
        known = [v for v in values if v is not None]
        return sum(known, Decimal(0)) if known else None

    @property
    def hours_down(self) -> Decimal:
        """Hours down over every cause."""
        return sum((v.hours_down for v in self.volumes), Decimal(0))


def deferred_production(
    well: str,
    hours_by_cause: dict[str, Decimal],
    test: WellTestInForce,
    *,
    increment: Decimal = VOLUME_INCREMENT,
    causes: CauseCodes = DEFAULT_CAUSES,
) -> Deferred:
    """Deferred volume per cause (module docstring).

    Per fluid the total is ``rate × Σ hours down / 24`` rounded half up to ``increment`` once,
    and the causes share it in proportion to their hours (largest remainder, ties to the smaller
    cause code): the causes add up to the total exactly.
    """
    ordered = sorted(hours_by_cause.items())
    for cause, hours in ordered:
        causes.check(cause, f"downtime of well {well!r}")
        require_range(
            f"hours down of well {well!r} for {cause}", hours, Decimal(0), HOURS_PER_DAY, "h"
        )
    total_down = sum(hours_by_cause.values(), Decimal(0))
    if total_down > HOURS_PER_DAY:
        raise AllocationError(
            f"hours down of well {well!r} add up to {total_down} h, more than a day of 24 h"
        )
    codes = [cause for cause, _ in ordered]
    weights = scaled_integers([hours for _, hours in ordered])
    split: dict[Fluid, list[Decimal] | None] = {}
    for fluid in FLUIDS:
        rate = test.rate(fluid)
        if rate is None:
            split[fluid] = None
            continue
        total = deferred_total(rate, total_down, increment)
        if sum(weights) > 0:
            split[fluid] = largest_remainder(total, weights, codes, increment)
        else:  # every cause rounds to 0.00 h: nothing deferred
            split[fluid] = [total] * len(codes)
    rows = tuple(
        DeferredVolume(
            well,
            cause,
            hours,
            *(None if (parts := split[f]) is None else parts[i] for f in FLUIDS),
        )
        for i, (cause, hours) in enumerate(ordered)
    )
    findings: list[Finding] = []
    if rows and test.test is None:
        findings.append(
            Finding(
                Code.DEFERRED_WITHOUT_TEST,
                Severity.WARNING,
                f"{total_down} h down but no well test: the deferred volume cannot be estimated",
                well,
            )
        )
    return Deferred(well, rows, tuple(findings))


def deferred_total(
    rate: Decimal, hours_down: Decimal, increment: Decimal = VOLUME_INCREMENT
) -> Decimal:
    """``rate × hours_down / 24`` rounded half up to ``increment``, exactly (no digit limit)."""
    units = Fraction(rate) * Fraction(hours_down) / (Fraction(HOURS_PER_DAY) * Fraction(increment))
    return increment * math.floor(units + Fraction(1, 2))


def deferred_for_events(
    well: str,
    events: Sequence[DowntimeEvent],
    window: Window,
    test: WellTestInForce,
    *,
    increment: Decimal = VOLUME_INCREMENT,
    causes: CauseCodes = DEFAULT_CAUSES,
) -> Deferred:
    """:func:`deferred_production` of the events clipped to ``window``."""
    hours = downtime_hours(well, events, window, causes)
    return deferred_production(well, hours, test, increment=increment, causes=causes)
