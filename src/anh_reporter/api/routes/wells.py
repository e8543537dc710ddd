"""Wells of the caller's fields: the wells, their tests, downtime, status changes and hours on.

Reading wells needs ``site.read``, a well's test history ``production.read``; recording a
test (typed, or read from the test separator's series over a window), a downtime event, a
status change or a day's hours on production typed by hand needs ``production.write``. Each
entry is checked by the production package (a value outside its range is a 422 naming the
field, the value and the limit), written to the audit log with the caller's name, and the
stored days it touches are allocated again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from anh_reporter.api.deps import ConnDep, StateDep, require
from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.api.params import MAX_ID32, MAX_ID64, UtcDatetime
from anh_reporter.api.permissions import Permission
from anh_reporter.api.routes.production_day import ManualEntryOut
from anh_reporter.api.scoping import Principal
from anh_reporter.api.state import ApiState
from anh_reporter.production import manual, well_entries
from anh_reporter.production.separator_tests import add_separator_test
from anh_reporter.production.well_entries import WellEntryError

router = APIRouter(prefix="/wells", tags=["wells"])
Reader = Annotated[Principal, require(Permission.SITE_READ)]
ProductionReader = Annotated[Principal, require(Permission.PRODUCTION_READ)]
Writer = Annotated[Principal, require(Permission.PRODUCTION_WRITE)]
WellId = Annotated[int, Path(ge=1, le=MAX_ID32)]
Rate = Annotated[
    Decimal,
    Field(
        ge=0,
        le=well_entries.MAX_RATE,  # no max_digits: a rate too large is refused naming this
        decimal_places=well_entries.RATE_PLACES,
    ),
]


class WellOut(BaseModel):
    """A producing or injecting well."""

    id: int
    field_id: int
    pmo_id: int | None
    code: str
    name: str
    production_method: str


_SELECT = (
    "SELECT w.id, w.field_id, w.pmo_id, w.code, w.name, w.production_method FROM wells w "
    "JOIN fields f ON f.id = w.field_id "
    "WHERE f.operator_id = %(op)s AND w.field_id = ANY(%(fields)s) "
)


def _well(row: tuple[Any, ...]) -> WellOut:
    return WellOut(
        id=row[0],
        field_id=row[1],
        pmo_id=row[2],
        code=row[3],
        name=row[4],
        production_method=row[5],
    )


@router.get("")
async def list_wells(
    conn: ConnDep,
    me: Reader,
    field_id: Annotated[int | None, Query(ge=1, le=MAX_ID32)] = None,
) -> list[WellOut]:
    """Wells of the caller's fields (of one field when ``field_id`` is given)."""
    cur = await conn.execute(
        _SELECT + "AND (%(field)s::int IS NULL OR w.field_id = %(field)s) ORDER BY w.field_id, "
        "w.code",
        {"op": me.operator_id, "fields": me.fields, "field": field_id},
    )
    return [_well(r) for r in await cur.fetchall()]


@router.get("/{well_id}")
async def get_well(
    well_id: Annotated[int, Path(ge=1, le=MAX_ID32)], conn: ConnDep, me: Reader
) -> WellOut:
    """One well of the caller's fields."""
    cur = await conn.execute(
        _SELECT + "AND w.id = %(id)s", {"op": me.operator_id, "fields": me.fields, "id": well_id}
    )
    row = await cur.fetchone()
    if row is None:
        raise not_found("well", well_id)
    return _well(row)


class WellTestIn(BaseModel):
    """A well test: rates at standard conditions (oil and water bbl/d at 60 °F, gas kscf/d)."""

    model_config = ConfigDict(extra="forbid")

    tested_on: dt.date = Field(ge=dt.date(1970, 1, 2), le=dt.date(2199, 12, 31))
    duration_h: Annotated[Decimal, Field(gt=0, le=168, max_digits=7, decimal_places=2)]
    oil_bbl_d: Rate
    gas_kscf_d: Rate
    water_bbl_d: Rate
    bsw_pct: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=2)] | None = None
    tested_by: str = Field(min_length=1, max_length=200)
    source: Literal["manual", "test_separator"] = "manual"
    accepted: bool = True
    notes: str = Field("", max_length=2000)
    replaces: int | None = Field(None, ge=1, le=MAX_ID64)
    pump_speed: (
        Annotated[Decimal, Field(gt=0, le=10_000, max_digits=10, decimal_places=4)] | None
    ) = Field(
        None,
        description="Pump speed during the test (ESP Hz, rod pump spm, PCP rpm): calibrates "
        "the well's virtual meter when its speed series has no data for the test day",
    )


class WellTestOut(BaseModel):
    """A stored well test."""

    id: int
    well: str
    tested_on: dt.date
    duration_h: Decimal
    oil_bbl_d: Decimal
    gas_kscf_d: Decimal
    water_bbl_d: Decimal
    bsw_pct: Decimal | None
    source: str
    accepted: bool
    tested_by: str
    entered_by: str
    entered_at: dt.datetime
    notes: str
    superseded_by: int | None
    pump_speed: Decimal | None = None
    window_start: dt.datetime | None = None
    """When the test ran (a separator test; none for a test typed by hand)."""
    window_end: dt.datetime | None = None
    separator: dict[str, Any] | None = None
    """A separator test's rate series (codes) and their coverage of the window, %."""


SeriesCode = Annotated[str, Field(min_length=1, max_length=120)]


class SeparatorTestIn(BaseModel):
    """A well test read from the test separator's rate series over ``[start, end)``."""

    model_config = ConfigDict(extra="forbid")

    start: UtcDatetime
    end: UtcDatetime
    tested_by: str = Field(min_length=1, max_length=200)
    oil_series: SeriesCode | None = Field(
        None, description="Oil rate series code (default: the well's only oil_rate series)"
    )
    gas_series: SeriesCode | None = Field(
        None, description="Gas rate series code (default: the well's only gas_rate series)"
    )
    water_series: SeriesCode | None = Field(
        None, description="Water rate series code (default: the well's only water_rate series)"
    )
    bsw_pct: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=2)] | None = None
    accepted: bool = True
    notes: str = Field("", max_length=2000)
    replaces: int | None = Field(None, ge=1, le=MAX_ID64)


class SeparatorTestOut(BaseModel):
    """A stored separator test: the rates computed, the series and their coverage."""

    id: int
    tested_on: dt.date
    duration_h: Decimal
    oil_bbl_d: Decimal
    gas_kscf_d: Decimal
    water_bbl_d: Decimal
    series: dict[str, str]
    coverage_pct: dict[str, float]
    reallocated: list[dt.date]
    needs_amendment: list[dt.date]


class DowntimeIn(BaseModel):
    """A well down from ``start`` to ``end`` for a cause code of the field's list."""

    model_config = ConfigDict(extra="forbid")

    start: UtcDatetime
    end: UtcDatetime
    cause: str = Field(min_length=1, max_length=60)
    comment: str = Field("", max_length=2000)
    replaces: int | None = Field(None, ge=1, le=MAX_ID64)


class StatusChangeIn(BaseModel):
    """A change of a well's status at ``at``."""

    model_config = ConfigDict(extra="forbid")

    at: UtcDatetime
    status: Literal["producing", "shut_in", "workover", "suspended", "abandoned", "injecting"]
    reason: str = Field("", max_length=2000)


class WellHoursIn(BaseModel):
    """A well's hours on production for a contract day, typed by hand (they replace telemetry)."""

    model_config = ConfigDict(extra="forbid")

    day: dt.date = Field(ge=dt.date(1970, 1, 2), le=dt.date(2199, 12, 31))
    hours_on: Annotated[Decimal, Field(ge=0, le=24, decimal_places=2)]
    reason: str = Field(min_length=3, max_length=2000, description="Why they are typed by hand")
    replaces: int | None = Field(None, ge=1, le=MAX_ID64)


class WellEntryOut(BaseModel):
    """A stored entry and the stored contract days it made allocate again."""

    id: int
    reallocated: list[dt.date]
    needs_amendment: list[dt.date]


def _owner(conn: Any, me: Principal, well_id: int) -> tuple[str, str]:
    """(field code, well code) of a well the caller may see; else 404."""
    row = conn.execute(
        "SELECT f.code, w.code, f.id, f.operator_id FROM wells w "
        "JOIN fields f ON f.id = w.field_id WHERE w.id = %s",
        (well_id,),
    ).fetchone()
    if row is None or row[2] not in me.field_ids or row[3] != me.operator_id:
        raise not_found("well", well_id)
    return str(row[0]), str(row[1])


def _refused(exc: WellEntryError) -> ApiError:
    return ApiError(422, "validation_error", str(exc))


def _entry(result: well_entries.WellEntryResult) -> WellEntryOut:
    return WellEntryOut(
        id=result.id,
        reallocated=list(result.reallocated),
        needs_amendment=list(result.needs_amendment),
    )


async def _record(
    state: ApiState,
    me: Principal,
    well_id: int,
    add: Callable[[Any, str, str], well_entries.WellEntryResult],
) -> WellEntryOut:
    """Run one well-record entry for a well the caller may see: ``add(conn, field, well)``."""

    def run(conn: Any) -> WellEntryOut:
        field_code, well_code = _owner(conn, me, well_id)
        try:
            return _entry(add(conn, field_code, well_code))
        except WellEntryError as exc:
            raise _refused(exc) from None

    result: WellEntryOut = await state.sync.run(run)
    return result


@router.get("/{well_id}/tests")
async def list_well_tests(
    well_id: WellId,
    state: StateDep,
    me: ProductionReader,
    include_superseded: bool = False,
) -> list[WellTestOut]:
    """A well's test history, oldest first (replaced tests only when asked for)."""

    def run(conn: Any) -> list[WellTestOut]:
        field_code, well_code = _owner(conn, me, well_id)
        rows = well_entries.well_test_history(
            conn, field_code=field_code, well_code=well_code,
            include_superseded=include_superseded,
        )  # fmt: skip
        return [WellTestOut(**r.__dict__) for r in rows]

    result: list[WellTestOut] = await state.sync.run(run)
    return result


@router.post("/{well_id}/tests", status_code=201)
async def create_well_test(
    well_id: WellId, body: WellTestIn, state: StateDep, me: Writer
) -> WellEntryOut:
    """Record a well test; the stored days from its date on are allocated again."""
    return await _record(
        state, me, well_id,
        lambda conn, field_code, well_code: well_entries.add_well_test(
            conn, field_code=field_code, well_code=well_code, tested_on=body.tested_on,
            duration_h=body.duration_h, oil_bbl_d=body.oil_bbl_d, gas_kscf_d=body.gas_kscf_d,
            water_bbl_d=body.water_bbl_d, tested_by=body.tested_by, entered_by=me.actor,
            bsw_pct=body.bsw_pct, source=body.source, accepted=body.accepted,
            notes=body.notes, replaces=body.replaces, pump_speed=body.pump_speed,
        ),
    )  # fmt: skip


@router.post("/{well_id}/separator-tests", status_code=201)
async def create_separator_test(
    well_id: WellId, body: SeparatorTestIn, state: StateDep, me: Writer
) -> SeparatorTestOut:
    """Record a test from the test separator's rate series over a window (stored telemetry).

    Each rate is the series' time-weighted mean over the window (at most 168 h); a series
    that is not a rate series of the well, or covers less than 95 % of the window, is a 422.
    The stored days from the test's date (the contract day the window ends in) on are
    allocated again.
    """

    def run(conn: Any) -> SeparatorTestOut:
        field_code, well_code = _owner(conn, me, well_id)
        try:
            added = add_separator_test(
                conn, field_code=field_code, well_code=well_code, start=body.start,
                end=body.end, tested_by=body.tested_by, entered_by=me.actor,
                oil_series=body.oil_series, gas_series=body.gas_series,
                water_series=body.water_series, bsw_pct=body.bsw_pct,
                accepted=body.accepted, notes=body.notes, replaces=body.replaces,
            )  # fmt: skip
        except WellEntryError as exc:
            raise _refused(exc) from None
        t = added.test
        return SeparatorTestOut(
            id=added.entry.id, tested_on=t.tested_on, duration_h=t.duration_h,
            oil_bbl_d=t.oil_bbl_d, gas_kscf_d=t.gas_kscf_d, water_bbl_d=t.water_bbl_d,
            series=dict(added.series), coverage_pct=dict(added.coverage_pct),
            reallocated=list(added.entry.reallocated),
            needs_amendment=list(added.entry.needs_amendment),
        )  # fmt: skip

    result: SeparatorTestOut = await state.sync.run(run)
    return result


@router.post("/{well_id}/downtime", status_code=201)
async def create_downtime(
    well_id: WellId, body: DowntimeIn, state: StateDep, me: Writer
) -> WellEntryOut:
    """Record a well down over a window for a cause; the days it overlaps are allocated again."""
    return await _record(
        state, me, well_id,
        lambda conn, field_code, well_code: well_entries.add_downtime(
            conn, field_code=field_code, well_code=well_code, start=body.start,
            end=body.end, cause=body.cause, entered_by=me.actor, comment=body.comment,
            replaces=body.replaces,
        ),
    )  # fmt: skip


@router.post("/{well_id}/status", status_code=201)
async def create_status_change(
    well_id: WellId, body: StatusChangeIn, state: StateDep, me: Writer
) -> WellEntryOut:
    """Log a change of a well's status; the stored days from then on are allocated again."""
    return await _record(
        state, me, well_id,
        lambda conn, field_code, well_code: well_entries.add_status_change(
            conn, field_code=field_code, well_code=well_code, at=body.at,
            status=body.status, changed_by=me.actor, reason=body.reason,
        ),
    )  # fmt: skip


@router.post("/{well_id}/hours", status_code=201, response_model=ManualEntryOut)
async def create_hours_on(
    well_id: WellId, body: WellHoursIn, state: StateDep, me: Writer
) -> ManualEntryOut:
    """Type a well's hours on production for a day (as ``wells hours`` does); the day is
    allocated again (a signed day is flagged for amendment)."""

    def run(conn: Any) -> manual.ManualEntry:
        field_code, well_code = _owner(conn, me, well_id)
        try:
            added = manual.add_entry(
                conn, field_code=field_code, day=body.day, kind="well_hours_on",
                value=body.hours_on, well_code=well_code, entered_by=me.actor,
                reason=body.reason, replaces=body.replaces,
            )  # fmt: skip
        except manual.ManualEntryError as exc:
            raise ApiError(422, "validation_error", str(exc)) from None
        return added.entry

    return ManualEntryOut.model_validate(await state.sync.run(run))
