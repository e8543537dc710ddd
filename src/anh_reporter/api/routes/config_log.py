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


# Entries carry codes, not ids: an entry is the caller's when its code is the operator's NIT,
# one of its fields' codes, "<field code>.<owner>" for PMOs and wells, or one of its series.
_SQL = """
SELECT c.id, c.changed_at, c.changed_by, c.entity, c.entity_code, c.attribute, c.old_value,
       c.new_value, c.reason
FROM config_log c
WHERE (
    (c.entity = 'operator' AND c.entity_code = (SELECT nit FROM operators WHERE id = %(op)s))
    OR (c.entity = 'field' AND c.entity_code IN
        (SELECT code FROM fields WHERE operator_id = %(op)s AND id = ANY(%(fields)s)))
    OR (c.entity IN ('measurement_point', 'well') AND EXISTS
        (SELECT 1 FROM fields f WHERE f.operator_id = %(op)s AND f.id = ANY(%(fields)s)
         AND left(c.entity_code, length(f.code) + 1) = f.code || '.'))
    OR (c.entity = 'series' AND c.entity_code IN
        (SELECT s.code FROM series s JOIN fields f ON f.id = s.field_id
         WHERE f.operator_id = %(op)s AND s.field_id = ANY(%(fields)s)))
)
AND (%(entity)s::text IS NULL OR c.entity = %(entity)s)
AND (%(code)s::text IS NULL OR c.entity_code = %(code)s)
AND (%(start)s::timestamptz IS NULL OR c.changed_at >= %(start)s)
AND (%(end)s::timestamptz IS NULL OR c.changed_at < %(end)s)
AND (%(before)s::bigint IS NULL OR c.id < %(before)s)
ORDER BY c.id DESC LIMIT %(limit)s
"""


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
    cur = await conn.execute(
        _SQL,
        {
            "op": me.operator_id,
            "fields": me.fields,
            "entity": entity,
            "code": entity_code,
            "start": start,
            "end": end,
            "before": before_id,
            "limit": limit,
        },
    )
    return [
        ConfigChange(
            id=r[0],
            changed_at=r[1],
            changed_by=r[2],
            entity=r[3],
            entity_code=r[4],
            attribute=r[5],
            old_value=r[6],
            new_value=r[7],
            reason=r[8],
        )
        for r in await cur.fetchall()
    ]
