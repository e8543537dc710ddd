"""Fields the caller may see."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel

from anh_reporter.api.deps import ConnDep, require
from anh_reporter.api.errors import not_found
from anh_reporter.api.params import MAX_ID32
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal

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


_SELECT = (
    "SELECT id, operator_id, code, name, contract, municipality_dane, timezone, "
    "contract_day_start_hour, report_type FROM fields "
    "WHERE operator_id = %(op)s AND id = ANY(%(fields)s) "
)


def _field(row: tuple[Any, ...]) -> FieldOut:
    return FieldOut(
        id=row[0],
        operator_id=row[1],
        code=row[2],
        name=row[3],
        contract=row[4],
        municipality_dane=row[5],
        timezone=row[6],
        contract_day_start_hour=row[7],
        report_type=row[8],
    )


@router.get("")
async def list_fields(conn: ConnDep, me: Reader) -> list[FieldOut]:
    """The caller's fields, by code."""
    cur = await conn.execute(_SELECT + "ORDER BY code", {"op": me.operator_id, "fields": me.fields})
    return [_field(r) for r in await cur.fetchall()]


@router.get("/{field_id}")
async def get_field(
    field_id: Annotated[int, Path(ge=1, le=MAX_ID32)], conn: ConnDep, me: Reader
) -> FieldOut:
    """One of the caller's fields."""
    cur = await conn.execute(
        _SELECT + "AND id = %(id)s", {"op": me.operator_id, "fields": me.fields, "id": field_id}
    )
    row = await cur.fetchone()
    if row is None:
        raise not_found("field", field_id)
    return _field(row)
