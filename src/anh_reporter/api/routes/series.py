"""Series (one variable of one PMO or well) of the caller's fields."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from anh_reporter.api.deps import ConnDep, require
from anh_reporter.api.errors import not_found
from anh_reporter.api.params import MAX_ID32
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.storage.series_repo import OwnedSeriesRow, get_owned_series, list_owned_series

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


def _series(row: OwnedSeriesRow) -> SeriesOut:
    return SeriesOut.model_validate(row, from_attributes=True)


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
    rows = await list_owned_series(
        conn,
        operator_id=me.operator_id,
        field_ids=me.fields,
        field_id=field_id,
        pmo_id=pmo_id,
        well_id=well_id,
        variable=variable,
    )
    return [_series(r) for r in rows]


@router.get("/{series_id}")
async def get_series(
    series_id: Annotated[int, Path(ge=1, le=MAX_ID32)], conn: ConnDep, me: Reader
) -> SeriesOut:
    """One series of the caller's fields."""
    row = await get_owned_series(
        conn, operator_id=me.operator_id, field_ids=me.fields, series_id=series_id
    )
    if row is None:
        raise not_found("series", series_id)
    return _series(row)
