"""Official measurement points (PMOs) of the caller's fields."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from anh_reporter.api.deps import ConnDep, require
from anh_reporter.api.errors import not_found
from anh_reporter.api.params import MAX_ID32
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal

router = APIRouter(prefix="/pmos", tags=["pmos"])
Reader = Annotated[Principal, require(Permission.SITE_READ)]


class PmoOut(BaseModel):
    """A Punto de Medición Oficial: its meter and base conditions."""

    id: int
    field_id: int
    code: str
    name: str
    kind: str
    meter_type: str
    has_totalizer: bool
    meter_factor: float
    base_temperature_f: float
    base_pressure_psia: float


_SELECT = (
    "SELECT p.id, p.field_id, p.code, p.name, p.kind, p.meter_type, p.has_totalizer, "
    "p.meter_factor, p.base_temperature_f, p.base_pressure_psia FROM measurement_points p "
    "JOIN fields f ON f.id = p.field_id "
    "WHERE f.operator_id = %(op)s AND p.field_id = ANY(%(fields)s) "
)


def _pmo(row: tuple[Any, ...]) -> PmoOut:
    return PmoOut(
        id=row[0],
        field_id=row[1],
        code=row[2],
        name=row[3],
        kind=row[4],
        meter_type=row[5],
        has_totalizer=row[6],
        meter_factor=row[7],
        base_temperature_f=row[8],
        base_pressure_psia=row[9],
    )


@router.get("")
async def list_pmos(
    conn: ConnDep,
    me: Reader,
    field_id: Annotated[int | None, Query(ge=1, le=MAX_ID32)] = None,
) -> list[PmoOut]:
    """PMOs of the caller's fields (of one field when ``field_id`` is given)."""
    cur = await conn.execute(
        _SELECT + "AND (%(field)s::int IS NULL OR p.field_id = %(field)s) ORDER BY p.field_id, "
        "p.code",
        {"op": me.operator_id, "fields": me.fields, "field": field_id},
    )
    return [_pmo(r) for r in await cur.fetchall()]


@router.get("/{pmo_id}")
async def get_pmo(
    pmo_id: Annotated[int, Path(ge=1, le=MAX_ID32)], conn: ConnDep, me: Reader
) -> PmoOut:
    """One PMO of the caller's fields."""
    cur = await conn.execute(
        _SELECT + "AND p.id = %(id)s", {"op": me.operator_id, "fields": me.fields, "id": pmo_id}
    )
    row = await cur.fetchone()
    if row is None:
        raise not_found("PMO", pmo_id)
    return _pmo(row)
