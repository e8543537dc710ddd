"""The audit log of the caller's operator (``audit.read``), newest first."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from anh_reporter.api.deps import ConnDep, require
from anh_reporter.api.params import UtcDatetime
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal

router = APIRouter(prefix="/audit", tags=["audit"])
Auditor = Annotated[Principal, require(Permission.AUDIT_READ)]


class AuditEntry(BaseModel):
    """Who did what, when, to which object, with which outcome."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]


@router.get("")
async def list_audit(
    conn: ConnDep,
    me: Auditor,
    start: UtcDatetime | None = None,
    end: UtcDatetime | None = None,
    actor: Annotated[str | None, Query(max_length=300)] = None,
    action: Annotated[str | None, Query(max_length=300)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntry]:
    """Entries of the caller's operator; page with ``before_id`` (the last id seen)."""
    cur = await conn.execute(
        "SELECT id, at, actor, action, target, details FROM audit_log "
        "WHERE operator_id = %(op)s AND (%(start)s::timestamptz IS NULL OR at >= %(start)s) "
        "AND (%(end)s::timestamptz IS NULL OR at < %(end)s) "
        "AND (%(actor)s::text IS NULL OR actor = %(actor)s) "
        "AND (%(action)s::text IS NULL OR action = %(action)s) "
        "AND (%(before)s::bigint IS NULL OR id < %(before)s) ORDER BY id DESC LIMIT %(limit)s",
        {
            "op": me.operator_id,
            "start": start,
            "end": end,
            "actor": actor,
            "action": action,
            "before": before_id,
            "limit": limit,
        },
    )
    return [
        AuditEntry(id=r[0], at=r[1], actor=r[2], action=r[3], target=r[4], details=r[5])
        for r in await cur.fetchall()
    ]
