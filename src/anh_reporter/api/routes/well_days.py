"""A field's day at well level before it is signed: the allocation table, as computed.

``GET /production/fields/{field_id}/days/{day}/allocation`` (``production.read``) returns what
the daily compute stored for the day: one row per well (hours on, test, allocated oil, gas and
water, factors, ratios, deferred volume per fluid and by cause, findings) with its **virtual
meter** (the liquid its pump speed gives, calibrated on its test; docs/allocation.md), each
production PMO's allocation, Σ virtual against each PMO's measured volume, the balances and the
day's allocation findings. A day not computed yet (or a field not allocated per well) answers
``computed: false`` with empty lists.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, field_validator

from anh_reporter.allocation.fluids import HOURS_INCREMENT
from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.params import FIRST_DAY, LAST_DAY, FieldId
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal, require_field_visible
from anh_reporter.storage import well_records

router = APIRouter(prefix="/production", tags=["production"])
Reader = Annotated[Principal, require(Permission.PRODUCTION_READ)]
Day = Annotated[dt.date, Path(ge=FIRST_DAY, le=LAST_DAY, description="Contract day")]


class AllocationFindingOut(BaseModel):
    """A finding of the day's allocation."""

    code: str
    severity: str
    target: str
    message: str


class VirtualMeterOut(BaseModel):
    """How a well's virtual liquid was obtained (or why there is none: ``note``)."""

    method: str
    test_date: dt.date | None = None
    test_state: str | None = None
    test_speed: Decimal | None = None
    """Pump speed during the test: ESP Hz, rod pump spm, PCP rpm."""
    test_speed_source: str | None = None
    """``telemetry`` (mean while running over the test's day) or ``manual`` (typed)."""
    bbl_d_per_unit: Decimal | None = None
    efficiency: Decimal | None = None
    coverage_pct: Decimal | None = None
    correction_factor: Decimal | None = None
    water_cut_pct: Decimal | None = None
    oil_bbl: Decimal | None = None
    water_bbl: Decimal | None = None
    note: str | None = None


def _hours(value: Decimal | None) -> Decimal | None:
    """Hours at their increment, 0.01 h (a day stored from hours typed as ``24`` reads 24.00)."""
    return None if value is None else Decimal(value).quantize(HOURS_INCREMENT)


class DeferredCauseOut(BaseModel):
    """Part of a well's downtime with its cause and the volume it deferred (test rate × hours)."""

    cause: str
    hours_down: Decimal | None = None
    oil: Decimal | None = None
    gas: Decimal | None = None
    water: Decimal | None = None

    at_increment = field_validator("hours_down")(_hours)


class WellDayOut(BaseModel):
    """One well's row of the allocation table, with its virtual meter."""

    code: str
    name: str
    production_method: str
    status: str
    hours_on: Decimal | None
    hours_source: str
    test_date: dt.date | None
    test_age_days: int | None
    test_state: str
    oil_bbl: Decimal | None
    gas_kscf: Decimal | None
    water_bbl: Decimal | None
    factors: dict[str, Decimal | None]
    bsw_pct: Decimal | None
    gor_scf_bbl: Decimal | None
    hours_down: Decimal
    deferred_oil_bbl: Decimal | None
    deferred_gas_kscf: Decimal | None = None
    deferred_water_bbl: Decimal | None = None
    deferred_causes: list[DeferredCauseOut] = []
    """The downtime by cause (what the signed report's ``deferred.causes`` holds)."""
    findings: list[AllocationFindingOut]
    virtual_liquid_bbl: Decimal | None
    """Oil + water from the well's pump speed (None: no virtual meter, or no estimate)."""
    virtual_meter: VirtualMeterOut | None

    at_increment = field_validator("hours_on", "hours_down")(_hours)


class PmoAllocationOut(BaseModel):
    """A production PMO's fluid: measured, Σ theoretical, factor, allocated."""

    pmo: str
    fluid: str
    measured: Decimal
    theoretical_total: Decimal
    factor: Decimal | None
    allocated_total: Decimal
    unallocated: Decimal


class VirtualCheckOut(BaseModel):
    """Σ of a production PMO's wells' virtual oil (or water) against what it measured."""

    pmo: str
    fluid: str
    measured: Decimal
    virtual_total: Decimal | None
    """None: not compared (a producing well without an estimate, too little data)."""
    deviation_pct: Decimal | None
    band_pct: Decimal
    diverges: bool
    wells: list[str]


class BalanceTermOut(BaseModel):
    """Where part of a fluid went."""

    name: str
    volume: Decimal


class BalanceOut(BaseModel):
    """A fluid's balance: produced = Σ terms + residual, within its tolerance or not."""

    fluid: str
    produced: Decimal
    terms: list[BalanceTermOut]
    residual: Decimal
    tolerance: Decimal
    closes: bool


class DayAllocationOut(BaseModel):
    """A field's allocated day as computed (before it is signed)."""

    field_id: int
    day: dt.date
    computed: bool
    wells: list[WellDayOut]
    pmos: list[PmoAllocationOut]
    virtual_meter: list[VirtualCheckOut]
    balances: list[BalanceOut]
    findings: list[AllocationFindingOut]


def day_allocation(conn: Any, field_id: int, day: dt.date) -> DayAllocationOut:
    """The stored allocation of a field's day (empty, ``computed`` false, when none)."""
    stored = well_records.load_allocation_day(conn, field_id, day)
    if stored is None:
        return DayAllocationOut(
            field_id=field_id, day=day, computed=False, wells=[], pmos=[], virtual_meter=[],
            balances=[], findings=[],
        )  # fmt: skip
    names = {
        w.code: (w.name, w.production_method)
        for w in well_records.load_topology_rows(conn, field_id).wells
    }
    virtual = well_records.load_virtual_days(conn, field_id, day)
    wells = []
    for code, row in well_records.load_well_days(conn, field_id, day).items():
        name, method = names.get(code, (code, ""))
        v = virtual.get(code, {})
        wells.append(
            WellDayOut.model_validate(
                {
                    **row,
                    "code": code,
                    "name": name,
                    "production_method": method,
                    "virtual_liquid_bbl": v.get("virtual_liquid_bbl"),
                    "virtual_meter": v.get("virtual_meter"),
                }
            )
        )
    return DayAllocationOut(
        field_id=field_id,
        day=day,
        computed=True,
        wells=wells,
        pmos=[PmoAllocationOut.model_validate(p) for p in stored["pmos"]],
        virtual_meter=[
            VirtualCheckOut.model_validate(c)
            for c in well_records.load_virtual_checks(conn, field_id, day)
        ],
        balances=[BalanceOut.model_validate(b) for b in stored["totals"].get("balances", [])],
        findings=[AllocationFindingOut.model_validate(f) for f in stored["findings"]],
    )


@router.get("/fields/{field_id}/days/{day}/allocation")
async def get_day_allocation(
    field_id: FieldId, day: Day, state: StateDep, me: Reader
) -> DayAllocationOut:
    """The day's allocation table before signing: wells with their virtual meter, PMOs, balances."""
    require_field_visible(me, field_id)
    result: DayAllocationOut = await state.sync.run(lambda c: day_allocation(c, field_id, day))
    return result
