"""The audit log (``audit_log``): append an entry, read an operator's entries newest first.

The table refuses updates and deletes; what is written is who, which action, which object,
which operator, and details as JSON. The API's middleware writes one entry per state-changing
call (:class:`anh_reporter.api.middleware.AuditMiddleware`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson
from psycopg import AsyncConnection, Connection


async def write_audit(
    conn: AsyncConnection[Any],
    *,
    actor: str,
    action: str,
    target: str | None,
    operator_id: int | None,
    details: dict[str, Any],
) -> None:
    """Append one entry (the table refuses updates and deletes)."""
    await conn.execute(
        "INSERT INTO audit_log (actor, action, target, operator_id, details) "
        "VALUES (%s, %s, %s, %s, %s::jsonb)",
        (actor, action, target, operator_id, orjson.dumps(details, default=str).decode()),
    )


def record(
    conn: Connection[Any],
    *,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any],
    field_code: str | None = None,
    pmo_id: int | None = None,
) -> None:
    """Append an entry from a service (production, reports), under the operator that owns the
    field (by its code) or the PMO, so that operator's auditors see it."""
    conn.execute(
        "INSERT INTO audit_log (actor, action, target, operator_id, details) VALUES "
        "(%s, %s, %s, coalesce((SELECT operator_id FROM fields WHERE code = %s), "
        "(SELECT f.operator_id FROM measurement_points p JOIN fields f ON f.id = p.field_id "
        "WHERE p.id = %s)), %s::jsonb)",
        (actor, action, target, field_code, pmo_id, orjson.dumps(details, default=str).decode()),
    )


@dataclass(frozen=True)
class AuditRow:
    """One entry as stored."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]


async def list_audit(
    conn: AsyncConnection[Any],
    *,
    operator_id: int,
    start: dt.datetime | None,
    end: dt.datetime | None,
    actor: str | None,
    action: str | None,
    before_id: int | None,
    limit: int,
) -> list[AuditRow]:
    """Entries of the operator, newest first; each filter given narrows, ``before_id`` pages.

    An entry without an operator belongs to the operator whose field code starts its target
    (``<field code>/<day>/...``).
    """
    cur = await conn.execute(
        "SELECT id, at, actor, action, target, details FROM audit_log "
        "WHERE (operator_id = %(op)s OR (operator_id IS NULL AND "
        # Entries the services write without an operator (report signing and acceptance,
        # manual entries: their CLI paths) name the field code first in their target; field
        # codes are unique, so the entry is this operator's when the field is.
        "split_part(target, '/', 1) IN (SELECT code FROM fields WHERE operator_id = %(op)s))) "
        "AND (%(start)s::timestamptz IS NULL OR at >= %(start)s) "
        "AND (%(end)s::timestamptz IS NULL OR at < %(end)s) "
        "AND (%(actor)s::text IS NULL OR actor = %(actor)s) "
        "AND (%(action)s::text IS NULL OR action = %(action)s) "
        "AND (%(before)s::bigint IS NULL OR id < %(before)s) ORDER BY id DESC LIMIT %(limit)s",
        {
            "op": operator_id,
            "start": start,
            "end": end,
            "actor": actor,
            "action": action,
            "before": before_id,
            "limit": limit,
        },
    )
    return [AuditRow(*row) for row in await cur.fetchall()]
