"""Official measurement points (PMOs) of the caller's fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from anh_reporter.api.deps import ConnDep, require
from anh_reporter.api.errors import not_found
from anh_reporter.api.params import MAX_ID32
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.storage import site_reads

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


@router.get("")
async def list_pmos(
    conn: ConnDep,
    me: Reader,
    field_id: Annotated[int | None, Query(ge=1, le=MAX_ID32)] = None,
) -> list[PmoOut]:
    """PMOs of the caller's fields (of one field when ``field_id`` is given)."""
    rows = await site_reads.list_pmos(
        conn, operator_id=me.operator_id, field_ids=me.fields, field_id=field_id
    )
    return [PmoOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/{pmo_id}")
async def get_pmo(
    pmo_id: Annotated[int, Path(ge=1, le=MAX_ID32)], conn: ConnDep, me: Reader
) -> PmoOut:
    """One PMO of the caller's fields."""
    row = await site_reads.get_pmo(
        conn, operator_id=me.operator_id, field_ids=me.fields, pmo_id=pmo_id
    )
    if row is None:
        raise not_found("PMO", pmo_id)
    return PmoOut.model_validate(row, from_attributes=True)
