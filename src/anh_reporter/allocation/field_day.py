"""A field's day at well level: every production PMO allocated, and one row per well.

:func:`allocate_field_day` takes the validated :class:`~anh_reporter.allocation.topology.
Topology`, each production PMO's measured volume and each well's day (hours on, test in force,
status, pump hours, downtime), allocates every production PMO of every fluid
(:func:`~anh_reporter.allocation.allocation.allocate_pmo`) and gathers each well's oil, gas and
water with its ratios, allocation factors, deferred production and findings: the per-well rows
of the daily report.

An **injecting well** takes no part in the production allocation: an injector of the topology
(:attr:`~anh_reporter.allocation.topology.Topology.injectors`) every day, and any other well on a
day it spent injecting from start to end (``WellDayInput.injecting``, a producer converted to
injection). It enters no PMO's allocation (so it needs no test and no hours on, and no other
well's share moves), and its row has no volumes, no factors, no PMOs, no deferred production and
no finding of its own but one: hours on production entered for it (> 0 h) are a
``status_conflict`` warning, since an injecting well produces nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from anh_reporter.allocation.allocation import (
    DEFAULT_SETTINGS,
    AllocationSettings,
    PmoAllocation,
    WellInput,
    allocate_pmo,
    pump_findings,
)
from anh_reporter.allocation.deferred import Deferred
from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.allocation.fluids import FLUIDS, HOURS_INCREMENT, HOURS_PER_DAY, Fluid
from anh_reporter.allocation.hours_on import WellStatus
from anh_reporter.allocation.ratios import WellRatios, well_ratios
from anh_reporter.allocation.topology import Topology
from anh_reporter.allocation.well_tests import WellTestInForce, WellTestState


@dataclass(frozen=True)
class WellDayInput:
    """What is known of one well's day before allocation."""

    well: str
    hours_on: Decimal | None
    test: WellTestInForce
    status: WellStatus = WellStatus.PRODUCING
    pump_running_h: Decimal | None = None
    """Hours with the pump running from telemetry (None: no pump signal)."""
    deferred: Deferred | None = None
    findings: tuple[Finding, ...] = ()
    """Findings already raised for the day (hours on, status...), carried to the row."""
    injecting: bool = False
    """The well injected all day (its status): it is left out of the production allocation."""


@dataclass(frozen=True)
class WellDay:
    """One well's allocated day: the report's per-well row."""

    well: str
    status: WellStatus
    hours_on: Decimal | None
    test_state: WellTestState
    test_date: dt.date | None
    test_age_days: int | None
    oil_bbl: Decimal | None
    gas_kscf: Decimal | None
    water_bbl: Decimal | None
    pmos: dict[Fluid, str]
    factors: dict[Fluid, Decimal | None]
    ratios: WellRatios
    deferred: Deferred | None
    findings: tuple[Finding, ...]

    def volume(self, fluid: Fluid) -> Decimal | None:
        """The allocated volume of ``fluid``."""
        return {"oil": self.oil_bbl, "gas": self.gas_kscf, "water": self.water_bbl}[fluid]


@dataclass(frozen=True)
class FieldDay:
    """A field's allocated day."""

    field_code: str
    pmos: tuple[PmoAllocation, ...]
    wells: tuple[WellDay, ...]
    findings: tuple[Finding, ...] = field(default=())
    """Every finding of the day (the PMOs', then the wells'), each distinct finding once."""


def allocate_field_day(
    topology: Topology,
    measured: Mapping[str, Decimal],
    wells: Sequence[WellDayInput],
    settings: AllocationSettings = DEFAULT_SETTINGS,
) -> FieldDay:
    """Allocate each production PMO of ``topology`` and build the per-well rows.

    ``measured`` holds the day's volume of each production PMO (by code; other PMOs' volumes are
    ignored here, the balances use them). A production PMO without a volume is not allocated:
    an error finding says so and its wells' volume of that fluid is None.
    """
    inputs = {w.well: w for w in wells}
    if len(inputs) != len(wells):
        raise AllocationError(f"a well is given twice for field {topology.field_code!r}")
    known = {w.code for w in topology.wells}
    extra = sorted(set(inputs) - known)
    missing = sorted(known - set(inputs))
    if extra or missing:
        raise AllocationError(
            f"wells of field {topology.field_code!r} do not match its topology: "
            f"missing {missing}, not in the topology {extra}"
        )
    injecting = topology.injectors | {w.well for w in wells if w.injecting}
    pmo_rows: list[PmoAllocation] = []
    findings: list[Finding] = []
    for pmo in topology.production_pmos():
        volume = measured.get(pmo.code)
        if volume is None:
            findings.append(
                Finding(
                    Code.NO_MEASURED_VOLUME,
                    Severity.ERROR,
                    f"no {pmo.fluid} volume for the day: its wells are not allocated",
                    pmo.code,
                )
            )
            continue
        group = [
            WellInput(w, inputs[w].hours_on, inputs[w].test, inputs[w].status)
            for w in topology.wells_at(pmo.code)
            if w not in injecting
        ]
        allocation = allocate_pmo(pmo.code, pmo.fluid, volume, group, settings)
        pmo_rows.append(allocation)
        findings.extend(allocation.findings)
    lookup: _Lookup = {
        (a.pmo, a.fluid): (a.factor, {r.well: r.allocated for r in a.wells}) for a in pmo_rows
    }
    rows = tuple(
        _injecting_day(inputs[code])
        if code in injecting
        else _well_day(topology, inputs[code], lookup)
        for code in sorted(inputs)
    )
    for row in rows:
        findings.extend(row.findings)
    # One expired test is flagged by each fluid's allocation in the same words: say it once.
    unique = tuple(dict.fromkeys(findings))
    return FieldDay(topology.field_code, tuple(pmo_rows), rows, unique)


_Lookup = dict[tuple[str, Fluid], tuple[Decimal | None, dict[str, Decimal | None]]]
"""Per (PMO, fluid): the allocation factor and each well's allocated volume."""


def _injecting_day(w: WellDayInput) -> WellDay:
    """The row of a well that injected all day: 0 h on production (hours typed for it are not
    used, and said so), no volumes, nothing allocated or deferred."""
    findings = list(w.findings)
    if w.hours_on:
        findings.append(
            Finding(
                Code.STATUS_CONFLICT,
                Severity.WARNING,
                f"an injecting well with {w.hours_on} h on production typed: they are not used "
                "(0 h on production) and it is not allocated; check the status log or the hours",
                w.well,
            )
        )
    off = replace(w, hours_on=Decimal(0) * HOURS_INCREMENT)
    return _row(off, dict.fromkeys(FLUIDS), {}, {}, findings, deferred=None)


def _well_day(topology: Topology, w: WellDayInput, lookup: _Lookup) -> WellDay:
    volumes: dict[Fluid, Decimal | None] = {}
    factors: dict[Fluid, Decimal | None] = {}
    pmos: dict[Fluid, str] = {}
    for fluid in FLUIDS:
        pmo = topology.production_pmo(w.well, fluid)
        found = lookup.get((pmo, fluid)) if pmo is not None else None
        volumes[fluid] = None
        if pmo is not None:
            pmos[fluid] = pmo
        if found is not None:
            factors[fluid], shares = found
            volumes[fluid] = shares[w.well]
    # Hours missing are a warning in themselves; behind a production PMO the allocation says it,
    # as an error, for each fluid the others carry: the row does not repeat it as a warning.
    findings = [f for f in w.findings if not (f.code is Code.HOURS_MISSING and pmos)]
    findings.extend(pump_findings(w.well, w.pump_running_h, list(volumes.values())))
    if w.deferred is not None:
        findings.extend(w.deferred.findings)
        down = w.deferred.hours_down
        if w.hours_on is not None and w.hours_on + down > HOURS_PER_DAY:
            findings.append(
                Finding(
                    Code.HOURS_EXCEED_DAY,
                    Severity.WARNING,
                    f"{w.hours_on} h on plus {down} h down exceed a day of {HOURS_PER_DAY} h",
                    w.well,
                )
            )
    return _row(w, volumes, pmos, factors, findings, deferred=w.deferred)


def _row(
    w: WellDayInput,
    volumes: dict[Fluid, Decimal | None],
    pmos: dict[Fluid, str],
    factors: dict[Fluid, Decimal | None],
    findings: list[Finding],
    *,
    deferred: Deferred | None,
) -> WellDay:
    """The well's row: its day's status, hours and test, with the volumes it was allocated."""
    test = w.test.test
    return WellDay(
        well=w.well,
        status=w.status,
        hours_on=w.hours_on,
        test_state=w.test.state,
        test_date=None if test is None else test.tested_on,
        test_age_days=w.test.age_days,
        oil_bbl=volumes["oil"],
        gas_kscf=volumes["gas"],
        water_bbl=volumes["water"],
        pmos=pmos,
        factors=factors,
        ratios=well_ratios(volumes["oil"], volumes["gas"], volumes["water"]),
        deferred=deferred,
        findings=tuple(findings),
    )
