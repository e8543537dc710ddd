"""Fields the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from anh_reporter.api.deps import ConnDep, require
from anh_reporter.api.errors import not_found
from anh_reporter.api.params import MAX_ID32
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.storage import site_reads

router = APIRouter(prefix="/fields", tags=["fields"])
Reader = Annotated[Principal, require(Permission.SITE_READ)]


class FieldOut(BaseModel):
    """An oil or gas field under a contract."""

    id: int
    operator_id: int
    code: str
    name: str
    contract: str
    municipality_dane: str
    timezone: str
    contract_day_start_hour: int
    report_type: str


@router.get("")
async def list_fields(conn: ConnDep, me: Reader) -> list[FieldOut]:
    """The caller's fields, by code."""
    rows = await site_reads.list_fields(conn, operator_id=me.operator_id, field_ids=me.fields)
    return [FieldOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/{field_id}")
async def get_field(
    field_id: Annotated[int, Path(ge=1, le=MAX_ID32)], conn: ConnDep, me: Reader
) -> FieldOut:
    """One of the caller's fields."""
    row = await site_reads.get_field(
        conn, operator_id=me.operator_id, field_ids=me.fields, field_id=field_id
    )
    if row is None:
        raise not_found("field", field_id)
    return FieldOut.model_validate(row, from_attributes=True)
