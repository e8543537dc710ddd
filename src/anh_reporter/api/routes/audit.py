"""The audit log of the caller's operator (``audit.read``), newest first."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from anh_reporter.api.deps import ConnDep, require
from anh_reporter.api.params import MAX_ID64, UtcDatetime
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.storage import audit_log

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
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntry]:
    """Entries of the caller's operator; page with ``before_id`` (the last id seen)."""
    rows = await audit_log.list_audit(
        conn,
        operator_id=me.operator_id,
        start=start,
        end=end,
        actor=actor,
        action=action,
        before_id=before_id,
        limit=limit,
    )
    return [
        AuditEntry(
            id=r.id, at=r.at, actor=r.actor, action=r.action, target=r.target, details=r.details
        )
        for r in rows
    ]
