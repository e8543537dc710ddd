"""The configuration log (API MPMS 21.1) of the caller's operator and fields (``config.read``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from anh_reporter.api.deps import ConnDep, require
from anh_reporter.api.params import MAX_ID64, UtcDatetime
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.storage import config_log

router = APIRouter(prefix="/config-log", tags=["config-log"])
Reader = Annotated[Principal, require(Permission.CONFIG_READ)]


class ConfigChange(BaseModel):
    """One change of a tracked attribute: who, when, from which value to which, why."""

    id: int
    changed_at: dt.datetime
    changed_by: str
    entity: str
    entity_code: str
    attribute: str
    old_value: Any
    new_value: Any
    reason: str | None


@router.get("")
async def list_config_changes(
    conn: ConnDep,
    me: Reader,
    entity: Annotated[str | None, Query(max_length=40)] = None,
    entity_code: Annotated[str | None, Query(max_length=300)] = None,
    start: UtcDatetime | None = None,
    end: UtcDatetime | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ConfigChange]:
    """Configuration changes of the caller's operator and fields, newest first."""
    rows = await config_log.list_changes(
        conn,
        operator_id=me.operator_id,
        field_ids=me.fields,
        entity=entity,
        entity_code=entity_code,
        start=start,
        end=end,
        before_id=before_id,
        limit=limit,
    )
    return [ConfigChange.model_validate(r, from_attributes=True) for r in rows]
