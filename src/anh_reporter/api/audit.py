"""The audit log: one ``audit_log`` row for every state-changing call, whatever its outcome.

Written after the response by :class:`AuditMiddleware` for POST, PUT, PATCH and DELETE under
``/api/``: who (the principal, or what a login named), which route, which object, the status,
the client. Bodies are never logged (they carry passwords and tokens). A route may add
details through ``request.state.audit`` (a dict) and name the actor of an unauthenticated
call through ``request.state.audit_actor`` / ``audit_operator_id``.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
import psycopg
from psycopg import AsyncConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anh_reporter.api.middleware import route_template
from anh_reporter.api.pool import ConnectionPool
from anh_reporter.api.ratelimit import client_address
from anh_reporter.api.scoping import Principal
from anh_reporter.errors import StorageError

log = logging.getLogger(__name__)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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


class AuditMiddleware:
    """Records state-changing HTTP calls once their response has been sent."""

    def __init__(self, app: ASGIApp, pool: ConnectionPool, trust_forwarded_for: bool) -> None:
        self.app = app
        self.pool = pool
        self.trust_forwarded_for = trust_forwarded_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the call on; append the audit entry afterwards."""
        if (
            scope["type"] != "http"
            or scope["method"] not in STATE_CHANGING
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            await self._record(scope, status)

    async def _record(self, scope: Scope, status: int) -> None:
        state: dict[str, Any] = scope.get("state") or {}
        principal = state.get("principal")
        operator_id: int | None
        if isinstance(principal, Principal):
            actor, operator_id = principal.actor, principal.operator_id
        else:
            actor = str(state.get("audit_actor") or "anonymous")
            raw_operator = state.get("audit_operator_id")
            operator_id = int(raw_operator) if raw_operator is not None else None
        # A route's details first: the call's own facts (its status above all) win a clash.
        details: dict[str, Any] = dict(state.get("audit") or {})
        details.update(
            status=status,
            client=client_address(scope, self.trust_forwarded_for),
            path_params=scope.get("path_params") or {},
        )
        query = scope.get("query_string", b"")
        if query:
            details["query"] = query.decode("latin-1")[:500]
        try:
            async with self.pool.connection() as conn:
                await write_audit(
                    conn,
                    actor=actor,
                    action=f"{scope['method']} {route_template(scope)}",
                    target=scope["path"],
                    operator_id=operator_id,
                    details=details,
                )
        except (psycopg.Error, StorageError) as exc:
            # The call itself is done; losing its audit entry must be loud, not fatal.
            log.error("audit log write failed for %s %s: %s", scope["method"], scope["path"], exc)
