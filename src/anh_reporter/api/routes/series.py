"""Series (one variable of one PMO or well) of the caller's fields."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from anh_reporter.api.deps import ConnDep, require
from anh_reporter.api.errors import not_found
from anh_reporter.api.params import MAX_ID32
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal

router = APIRouter(prefix="/series", tags=["series"])
Reader = Annotated[Principal, require(Permission.SITE_READ)]
Id = Annotated[int | None, Query(ge=1, le=MAX_ID32)]


class SeriesOut(BaseModel):
    """A series and its engineering range."""

    id: int
    code: str
    field_id: int
    pmo_id: int | None
    well_id: int | None
    variable: str
    unit: str
    range_lo: float
    range_hi: float
    sampling_period_s: float
    commissioned_at: dt.datetime
    rollover: float | None


_SELECT = (
    "SELECT s.id, s.code, s.field_id, s.pmo_id, s.well_id, s.variable, s.unit, s.range_lo, "
    "s.range_hi, s.sampling_period_s, s.commissioned_at, s.rollover FROM series s "
    "JOIN fields f ON f.id = s.field_id "
    "WHERE f.operator_id = %(op)s AND s.field_id = ANY(%(fields)s) "
)


def _series(row: tuple[Any, ...]) -> SeriesOut:
    return SeriesOut(
        id=row[0],
        code=row[1],
        field_id=row[2],
        pmo_id=row[3],
        well_id=row[4],
        variable=row[5],
        unit=row[6],
        range_lo=row[7],
        range_hi=row[8],
        sampling_period_s=row[9],
        commissioned_at=row[10],
        rollover=row[11],
    )


@router.get("")
async def list_series(
    conn: ConnDep,
    me: Reader,
    field_id: Id = None,
    pmo_id: Id = None,
    well_id: Id = None,
    variable: Annotated[str | None, Query(max_length=60)] = None,
) -> list[SeriesOut]:
    """Series of the caller's fields, filtered by field, PMO, well or variable."""
    cur = await conn.execute(
        _SELECT + "AND (%(field)s::int IS NULL OR s.field_id = %(field)s) "
        "AND (%(pmo)s::int IS NULL OR s.pmo_id = %(pmo)s) "
        "AND (%(well)s::int IS NULL OR s.well_id = %(well)s) "
        "AND (%(var)s::text IS NULL OR s.variable = %(var)s) ORDER BY s.id",
        {
            "op": me.operator_id,
            "fields": me.fields,
            "field": field_id,
            "pmo": pmo_id,
            "well": well_id,
            "var": variable,
        },
    )
    return [_series(r) for r in await cur.fetchall()]


@router.get("/{series_id}")
async def get_series(
    series_id: Annotated[int, Path(ge=1, le=MAX_ID32)], conn: ConnDep, me: Reader
) -> SeriesOut:
    """One series of the caller's fields."""
    cur = await conn.execute(
        _SELECT + "AND s.id = %(id)s", {"op": me.operator_id, "fields": me.fields, "id": series_id}
    )
    row = await cur.fetchone()
    if row is None:
        raise not_found("series", series_id)
    return _series(row)
