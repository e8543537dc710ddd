"""Wells of the caller's fields."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from anh_reporter.api.deps import ConnDep, require
from anh_reporter.api.errors import not_found
from anh_reporter.api.params import MAX_ID32
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal

router = APIRouter(prefix="/wells", tags=["wells"])
Reader = Annotated[Principal, require(Permission.SITE_READ)]


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
