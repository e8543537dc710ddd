"""The caller's operator (the only one it can see)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from anh_reporter.api.deps import ConnDep, require
from anh_reporter.api.errors import not_found
from anh_reporter.api.params import MAX_ID32
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.storage import site_reads

router = APIRouter(prefix="/operators", tags=["operators"])
Reader = Annotated[Principal, require(Permission.SITE_READ)]


class OperatorOut(BaseModel):
    """An operator company."""

    id: int
    nit: str
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime


async def _operator(conn: ConnDep, operator_id: int) -> OperatorOut | None:
    row = await site_reads.get_operator(conn, operator_id)
    return None if row is None else OperatorOut.model_validate(row, from_attributes=True)


@router.get("")
async def list_operators(conn: ConnDep, me: Reader) -> list[OperatorOut]:
    """The caller's operator, as a one-element list."""
    found = await _operator(conn, me.operator_id)
    return [found] if found else []


@router.get("/{operator_id}")
async def get_operator(
    operator_id: Annotated[int, Path(ge=1, le=MAX_ID32)], conn: ConnDep, me: Reader
) -> OperatorOut:
    """The caller's operator; any other id is not found."""
    found = await _operator(conn, operator_id) if operator_id == me.operator_id else None
    if found is None:
        raise not_found("operator", operator_id)
    return found
