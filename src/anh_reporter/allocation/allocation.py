"""Allocation of one production PMO's measured volume of one fluid to the wells behind it.

Per well *i* with a usable test (API MPMS Chapter 20.1, proportional allocation by well test)::

    theoretical_i = test_rate_i × hours_on_i / 24
    factor        = measured / Σ theoretical_i
    allocated_i   = theoretical_i × factor       (= measured × theoretical_i / Σ theoretical)

then rounded to the volume increment by the largest-remainder method (ties by well code,
:mod:`~anh_reporter.allocation.rounding`), so the wells add up to the PMO **exactly**. The
arithmetic is integer throughout; ``factor`` is reported rounded to 5 decimals but never used
rounded.

Which wells take part, and what happens at the edges (each case is tested):

* **hours on 0** (shut in, down all day): allocated 0; it needs no test and raises no finding.
* **no test at all**, hours on > 0: not allocated (``allocated`` is None) and an error finding
  says its production is carried by the other wells of the PMO, which are allocated the whole
  measured volume (or, when no other well can take it, that it stays unallocated with the rest
  of the PMO's volume); nothing else changes for them.
* **expired test** (older than the validity window): by default the last valid test is used and
  a warning flags it; with ``expired_tests="exclude"`` the well is treated as having no test.
* **no hours on** (None: no telemetry and no entry): not allocated, and an error finding says
  its production is carried by the other wells of the PMO, as for a well without a test.
* **measured 0**: every well is allocated 0; the factor is 0, outside the band, so it warns when
  wells were expected to produce.
* **Σ theoretical 0 but measured > 0**: a well at 0 h on is never given volume, whatever the PMO
  measured.

  - Some wells are on (hours > 0, a usable test) but every one of their tests has a 0 rate of
    this fluid (a water-only test behind an oil PMO): the volume is split over **those wells**
    in proportion to their hours on (they were producing; the tests no longer describe them),
    with a warning on the PMO and one on each well that receives volume (take a new test).
  - No well is on (every well at 0 h on, or without hours, or on without a usable test): the
    volume stays **unallocated** and an error finding on the PMO names the volume and the wells
    (0 h on, no hours, no test), so that nobody signs barrels on closed wells: a person corrects
    the hours on (or the PMO's volume) and the day is computed again.

  ``allocated + unallocated`` always equals ``measured``.
* allocation factor outside the band (default 0.85–1.15): a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from typing import Literal

from anh_reporter.allocation.errors import (
    AllocationError,
    require_code,
    require_multiple,
    require_non_negative,
    require_range,
)
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.allocation.fluids import (
    HOURS_PER_DAY,
    VOLUME_INCREMENT,
    VOLUME_UNIT,
    Fluid,
    check_fluid,
)
from anh_reporter.allocation.hours_on import NOT_PRODUCING, WellStatus
from anh_reporter.allocation.rounding import largest_remainder, scaled_integers
from anh_reporter.allocation.well_tests import WellTestInForce, WellTestState

FACTOR_QUANTUM = Decimal("0.00001")

ExpiredTests = Literal["use_flagged", "exclude"]


@dataclass(frozen=True)
class AllocationSettings:
    """Settings of the allocation (per field)."""

    increment: Decimal = VOLUME_INCREMENT
    """Volumes are allocated in whole steps of this (0.01 bbl / 0.01 kscf)."""
    factor_band: tuple[Decimal, Decimal] = (Decimal("0.85"), Decimal("1.15"))
    """An allocation factor outside this band warns."""
    expired_tests: ExpiredTests = "use_flagged"
    """A well whose test is older than the validity window: use it, flagged, or leave it out."""

    def __post_init__(self) -> None:
        if self.increment <= 0:
            raise AllocationError(f"volume increment {self.increment} must be > 0")
        low, high = self.factor_band
        if not Decimal(0) <= low < high:
            raise AllocationError(
                f"allocation factor band [{low}, {high}] must have 0 <= low < high"
            )


DEFAULT_SETTINGS = AllocationSettings()


@dataclass(frozen=True)
class WellInput:
    """One well's day as one PMO's allocation needs it."""

    well: str
    hours_on: Decimal | None
    """Hours on production of the day (0–24); None when unknown."""
    test: WellTestInForce
    status: WellStatus = WellStatus.PRODUCING


class Basis(StrEnum):
    """How a well's allocated volume was obtained."""

    THEORETICAL = "theoretical"
    """In proportion to test rate × hours on (the rule)."""
    HOURS_ON = "hours_on"
    """In proportion to hours on alone: the PMO measured the fluid, every well on tests 0 of it."""
    NOT_ON = "not_on"
    """0 hours on: allocated 0."""
    NOT_ALLOCATED = "not_allocated"
    """No usable test or no hours: no volume (see the findings)."""


@dataclass(frozen=True)
class WellAllocation:
    """One well's share of one PMO's fluid for the day."""

    well: str
    hours_on: Decimal | None
    test_state: WellTestState
    test_age_days: int | None
    test_rate: Decimal | None
    theoretical: Decimal | None
    """test rate × hours on / 24, rounded half up to the increment (shown, not used rounded)."""
    allocated: Decimal | None
    basis: Basis


@dataclass(frozen=True)
class PmoAllocation:
    """A production PMO's fluid for the day, split over its wells."""

    pmo: str
    fluid: Fluid
    measured: Decimal
    theoretical_total: Decimal
    factor: Decimal | None
    """measured / Σ theoretical to 5 decimals; None when Σ theoretical is 0."""
    wells: tuple[WellAllocation, ...]
    unallocated: Decimal
    findings: tuple[Finding, ...] = field(default=())

    @property
    def allocated_total(self) -> Decimal:
        """Σ allocated over the wells; with ``unallocated`` it equals ``measured`` exactly."""
        return sum((w.allocated for w in self.wells if w.allocated is not None), Decimal(0))

    def well(self, code: str) -> WellAllocation:
        """The allocation of well ``code``."""
        for w in self.wells:
            if w.well == code:
                return w
        raise AllocationError(f"well {code!r} is not among the wells of PMO {self.pmo!r}")


def allocate_pmo(
    pmo: str,
    fluid: Fluid,
    measured: Decimal,
    wells: Sequence[WellInput],
    settings: AllocationSettings = DEFAULT_SETTINGS,
) -> PmoAllocation:
    """Split ``measured`` (the PMO's volume of ``fluid``) over ``wells`` (module docstring)."""
    require_code("PMO code", pmo)
    check_fluid(f"fluid of PMO {pmo!r}", fluid)
    unit = VOLUME_UNIT[fluid]
    require_non_negative(f"measured {fluid} volume of PMO {pmo!r}", measured, unit)
    require_multiple(f"measured {fluid} volume of PMO {pmo!r}", measured, settings.increment, unit)
    ordered = sorted(wells, key=lambda w: w.well)
    _check_wells(pmo, ordered)

    findings: list[Finding] = []
    usable: dict[str, Decimal] = {}  # well -> test rate, for wells with a usable test
    for w in ordered:
        rate = _usable_rate(pmo, fluid, w, settings, findings)
        if rate is not None:
            usable[w.well] = rate
    on = [w for w in ordered if w.well in usable and w.hours_on]
    # Integer weights rate × hours, exact whatever the digits (a Decimal product may round).
    rates = scaled_integers([usable[w.well] for w in on])
    weights = [r * h for r, h in zip(rates, scaled_integers([_hours(w) for w in on]), strict=True)]
    products = sum((_EXACT.multiply(usable[w.well], _hours(w)) for w in on), Decimal(0))
    theoretical_total = _theoretical(products, settings.increment)

    shares: dict[str, Decimal] = {}
    basis = Basis.THEORETICAL
    factor: Decimal | None = None
    unallocated = Decimal(0) * settings.increment
    if sum(weights) > 0:
        shares = dict(
            zip(
                (w.well for w in on),
                largest_remainder(measured, weights, [w.well for w in on], settings.increment),
                strict=True,
            )
        )
        factor = _factor(measured, products)
        _check_factor(pmo, fluid, factor, settings, findings)
    elif measured > 0 and on:
        # Every well on has a 0 test rate of the fluid: by hours on, among those wells only.
        basis = Basis.HOURS_ON
        codes = [w.well for w in on]
        split = largest_remainder(
            measured, scaled_integers([_hours(w) for w in on]), codes, settings.increment
        )
        shares = dict(zip(codes, split, strict=True))
        findings.append(_theoretical_zero(pmo, fluid, measured, unit, on))
        findings.extend(_by_hours_on(pmo, fluid, w, shares[w.well], unit) for w in on)
    elif measured > 0:
        unallocated = measured
        findings.append(_unallocated(pmo, fluid, measured, unit, ordered, usable))
    # What happened to the volume of a well left out: the others carry it, unless none could.
    where = (
        f"stays unallocated at PMO {pmo} with the rest of its volume"
        if unallocated > 0
        else f"is carried by the other wells of PMO {pmo}"
    )
    findings = [replace(f, message=f.message.replace(_CARRIED, where)) for f in findings]

    zero = Decimal(0) * settings.increment
    rows = tuple(_row(w, fluid, usable, shares, basis, settings.increment, zero) for w in ordered)
    result = PmoAllocation(
        pmo=pmo,
        fluid=fluid,
        measured=measured,
        theoretical_total=theoretical_total,
        factor=factor,
        wells=rows,
        unallocated=unallocated,
        findings=tuple(findings),
    )
    if result.allocated_total + result.unallocated != measured:  # pragma: no cover - invariant
        raise AssertionError(f"allocation of {pmo} {fluid} does not add up to {measured}")
    return result


def _check_wells(pmo: str, wells: Sequence[WellInput]) -> None:
    seen: set[str] = set()
    for w in wells:
        if w.well in seen:
            raise AllocationError(f"well {w.well!r} is given twice for PMO {pmo!r}")
        seen.add(w.well)
        if w.test.well != w.well:
            raise AllocationError(
                f"well {w.well!r} at PMO {pmo!r} carries the test of well {w.test.well!r}"
            )
        hours = w.hours_on
        # The cheap test first: messages are built only for a well that fails it.
        if hours is not None and not (type(hours) is Decimal and 0 <= hours <= HOURS_PER_DAY):
            require_range(f"hours on of well {w.well!r}", hours, Decimal(0), HOURS_PER_DAY, "h")
        if not w.well or w.well != w.well.strip():
            require_code(f"well code at PMO {pmo!r}", w.well)


def _hours(w: WellInput) -> Decimal:
    return w.hours_on if w.hours_on is not None else Decimal(0)


_CARRIED = "\x00carried\x00"
"""Where a left-out well's volume went, filled in once the PMO's split is known."""


def _usable_rate(
    pmo: str,
    fluid: Fluid,
    w: WellInput,
    settings: AllocationSettings,
    findings: list[Finding],
) -> Decimal | None:
    """The test rate the well is allocated by, or None; adds the well's findings."""
    on = w.hours_on is None or w.hours_on > 0
    if w.status in NOT_PRODUCING and w.hours_on:
        findings.append(
            Finding(
                Code.STATUS_CONFLICT,
                Severity.WARNING,
                f"status {w.status} but {w.hours_on} h on production: check the status log or "
                "the hours",
                w.well,
            )
        )
    test = w.test
    if test.test is None or test.state is WellTestState.NONE:
        if on:
            findings.append(
                Finding(
                    Code.NO_TEST,
                    Severity.ERROR,
                    f"no well test: the well's {fluid} is not allocated and {_CARRIED}; enter "
                    "a test",
                    w.well,
                )
            )
        return None
    if test.state is WellTestState.EXPIRED and on:
        used = settings.expired_tests == "use_flagged"
        findings.append(
            Finding(
                Code.TEST_EXPIRED,
                Severity.WARNING if used else Severity.ERROR,
                f"last valid test of {test.test.tested_on} is {test.age_days} days old, beyond "
                "the validity window: "
                + (
                    "used for the allocation, flagged"
                    if used
                    else f"the well's {fluid} is not allocated and {_CARRIED}"
                ),
                w.well,
            )
        )
        if not used:
            return None
    if w.hours_on is None:
        findings.append(
            Finding(
                Code.HOURS_MISSING,
                Severity.ERROR,
                f"no hours on for the day: the well's {fluid} is not allocated and "
                f"{_CARRIED}; enter its hours on",
                w.well,
            )
        )
    return test.test.rate(fluid)


_EXACT = Context(prec=80)
"""Products of rates and hours without rounding at 28 digits."""
_SHOWN = Context(prec=40)
"""Quotients that are only shown (theoretical volumes, the factor): 40 digits before rounding."""


def _theoretical(product: Decimal, increment: Decimal) -> Decimal:
    return _SHOWN.divide(product, HOURS_PER_DAY).quantize(increment, ROUND_HALF_UP, _SHOWN)


def _factor(measured: Decimal, products: Decimal) -> Decimal:
    quotient = _SHOWN.divide(_EXACT.multiply(measured, HOURS_PER_DAY), products)
    return quotient.quantize(FACTOR_QUANTUM, ROUND_HALF_UP, _SHOWN)


def _check_factor(
    pmo: str,
    fluid: Fluid,
    factor: Decimal,
    settings: AllocationSettings,
    findings: list[Finding],
) -> None:
    low, high = settings.factor_band
    if not low <= factor <= high:
        findings.append(
            Finding(
                Code.FACTOR_OUT_OF_BAND,
                Severity.WARNING,
                f"{fluid} allocation factor {factor} is outside the band [{low}, {high}]: the "
                "well tests or hours on no longer describe what the PMO measures",
                pmo,
            )
        )


def _theoretical_zero(
    pmo: str, fluid: Fluid, measured: Decimal, unit: str, on: Sequence[WellInput]
) -> Finding:
    return Finding(
        Code.THEORETICAL_ZERO,
        Severity.WARNING,
        f"PMO measured {measured} {unit} of {fluid} but the test of every well on production "
        f"({', '.join(w.well for w in on)}) gives 0 {unit}/d of {fluid}: split over those wells "
        "by hours on; take new well tests",
        pmo,
    )


def _by_hours_on(pmo: str, fluid: Fluid, w: WellInput, share: Decimal, unit: str) -> Finding:
    return Finding(
        Code.THEORETICAL_ZERO,
        Severity.WARNING,
        f"allocated {share} {unit} of {fluid} of PMO {pmo} by its {w.hours_on} h on, although its "
        f"test gives 0 {unit}/d of {fluid} (as does every well on): take a new well test",
        w.well,
    )


def _unallocated(
    pmo: str,
    fluid: Fluid,
    measured: Decimal,
    unit: str,
    wells: Sequence[WellInput],
    usable: dict[str, Decimal],
) -> Finding:
    """No well behind the PMO is on with a usable test: say which wells are off, and why."""
    off = [w.well for w in wells if w.hours_on == 0]
    unknown = [w.well for w in wells if w.hours_on is None]
    untested = [w.well for w in wells if w.hours_on and w.well not in usable]
    why = [
        *([f"0 h on for {', '.join(off)}"] if off else []),
        *([f"no hours on for {', '.join(unknown)}: enter them"] if unknown else []),
        *([f"no usable well test for {', '.join(untested)}"] if untested else []),
    ]
    return Finding(
        Code.UNALLOCATED,
        Severity.ERROR,
        f"PMO measured {measured} {unit} of {fluid} but "
        + (
            f"no well behind it is on production with a usable test ({'; '.join(why)})"
            if why
            else "no well is behind it"
        )
        + f": the {measured} {unit} stay unallocated, not put on wells that did not produce; "
        "correct the wells' hours on or the PMO's volume and compute the day again",
        pmo,
    )


def _row(
    w: WellInput,
    fluid: Fluid,
    usable: dict[str, Decimal],
    shares: dict[str, Decimal],
    basis: Basis,
    increment: Decimal,
    zero: Decimal,
) -> WellAllocation:
    rate = usable.get(w.well)
    theoretical = None
    if rate is not None and w.hours_on is not None:
        theoretical = _EXACT.multiply(rate, w.hours_on)
    if w.well in shares:
        allocated: Decimal | None = shares[w.well]
        how = basis
    elif w.hours_on == 0:
        allocated, how = zero, Basis.NOT_ON
    elif rate is not None and w.hours_on is not None:
        # A usable test and hours, yet no share: its rate is 0, or the PMO measured nothing.
        allocated, how = zero, basis
    else:
        allocated, how = None, Basis.NOT_ALLOCATED
    return WellAllocation(
        well=w.well,
        hours_on=w.hours_on,
        test_state=w.test.state,
        test_age_days=w.test.age_days,
        test_rate=w.test.rate(fluid),
        theoretical=None if theoretical is None else _theoretical(theoretical, increment),
        allocated=allocated,
        basis=how,
    )


def pump_findings(
    well: str, pump_running_h: Decimal | None, allocated: Sequence[Decimal | None]
) -> tuple[Finding, ...]:
    """Warnings when the pump telemetry and a well's allocated volumes disagree.

    ``pump_running_h`` is the day's hours with the pump running from telemetry (None without a
    pump signal); ``allocated`` the well's allocated volumes (one per fluid). Producing with the
    pump off: some volume allocated while the pump never ran. Pumping with zero allocation: the
    pump ran but every allocated volume is 0 (wells left unallocated have their own finding).
    """
    if pump_running_h is None:
        return ()
    known = [a for a in allocated if a is not None]
    if pump_running_h == 0 and any(a > 0 for a in known):
        return (
            Finding(
                Code.PRODUCING_PUMP_OFF,
                Severity.WARNING,
                "volume allocated but the pump did not run during the day: check the hours on "
                "and the pump status signal",
                well,
            ),
        )
    if pump_running_h > 0 and known and all(a == 0 for a in known):
        return (
            Finding(
                Code.PUMPING_ZERO_ALLOCATION,
                Severity.WARNING,
                f"the pump ran {pump_running_h} h but the well is allocated nothing: check its "
                "test rates, hours on and routing",
                well,
            ),
        )
    return ()
