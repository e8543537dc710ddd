"""Report generation as background tasks whose status any API replica can poll.

A task's record is written when the task is queued, when it starts and when it ends: in this
process, in PostgreSQL (table ``report_tasks``, kept a day) when the app has a pool for it, and
in Redis for a day when configured. A poll reads this process first (it runs its own tasks, so
that copy is current), then Redis, then PostgreSQL: a poll that lands on another replica
finds the task either way. While a task runs, its process stamps the record every
``HEARTBEAT_S``; a queued or running task whose stamp is older than ``STALE_S`` (its replica
died or was restarted) is answered as failed, saying to generate again. The work itself is
:mod:`anh_reporter.reports.service` (generate, amend) and :mod:`~anh_reporter.reports.submission`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any, Literal

import orjson
import psycopg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.api.pool import ConnectionPool
from anh_reporter.api.scoping import Principal
from anh_reporter.config import Settings
from anh_reporter.errors import AnhError
from anh_reporter.reports import amendments, service, submission
from anh_reporter.reports.delivery import DeliveryFailed
from anh_reporter.reports.errors import ReportBlocked, ReportError
from anh_reporter.reports.records import ReportRef

log = logging.getLogger(__name__)
Conn = psycopg.Connection[Any]
TASK_TTL_S = 86_400
MAX_LOCAL_TASKS = 10_000
_TASK_KEY = "anh:report-task:"
HEARTBEAT_S = 10.0
STALE_S = 60.0
_UNFINISHED = ("queued", "running")


class ReportTasks:
    """What report routes share: the workflow's context (built once) and the task records.

    Tasks live in this process, in PostgreSQL when ``pool`` is given and in Redis when
    configured (every API replica sees them); see the module's description.
    """

    def __init__(
        self, settings: Settings, redis: Redis | None = None, pool: ConnectionPool | None = None
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.pool = pool
        self._context: service.Context | None = None
        self._context_lock = threading.Lock()
        self._tasks: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.heartbeat_s, self.stale_s = HEARTBEAT_S, STALE_S

    def context(self) -> service.Context:
        """Keys, directories and profile of the report service (built on first use)."""
        with self._context_lock:
            if self._context is None:
                self._context = service.Context.from_settings(self.settings)
            return self._context

    def new_task(
        self,
        *,
        kind: Literal["generate", "amend", "approve_amendment"],
        principal: Principal,
        field_id: int,
        day: dt.date,
        reason: str | None = None,
        reason_code: str | None = None,
    ) -> dict[str, Any]:
        """A queued task record (not stored yet)."""
        return {
            "task_id": secrets.token_urlsafe(12),
            "kind": kind,
            "status": "queued",
            "operator_id": principal.operator_id,
            "field_id": field_id,
            "day": day,
            "reason": reason,
            "reason_code": reason_code,
            "report_id": None,
            "version": None,
            "created": None,
            "sha256": None,
            "message": None,
            "findings": [],
            "created_by": principal.actor,  # the signer: user id and name, not the OS user
            "created_at": dt.datetime.now(dt.UTC),
            "finished_at": None,
            "heartbeat_at": dt.datetime.now(dt.UTC),
        }

    @contextlib.asynccontextmanager
    async def alive(self, task: dict[str, Any]) -> AsyncIterator[None]:
        """Stamp ``task`` every ``HEARTBEAT_S`` while the block runs (other replicas read the
        stamp to tell a running task from one whose process is gone)."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.heartbeat_s)
                task["heartbeat_at"] = dt.datetime.now(dt.UTC)
                await self.save(task)

        beating = asyncio.create_task(beat())
        try:
            yield
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating

    async def save(self, task: dict[str, Any]) -> None:
        """Keep the task's record (here, and in Redis when configured)."""
        self._tasks[task["task_id"]] = task
        self._tasks.move_to_end(task["task_id"])
        while len(self._tasks) > MAX_LOCAL_TASKS:
            self._tasks.popitem(last=False)
        if self.redis is not None:
            try:
                await self.redis.set(_TASK_KEY + task["task_id"], orjson.dumps(task), ex=TASK_TTL_S)
            except (RedisError, OSError) as exc:
                log.warning("report tasks: Redis write failed (%s); kept in this process", exc)
        if self.pool is not None:
            try:
                await self._store(task)
            except (psycopg.Error, AnhError) as exc:
                log.warning("report tasks: database write failed (%s); kept elsewhere", exc)

    async def _store(self, task: dict[str, Any]) -> None:
        assert self.pool is not None  # noqa: S101 - checked by the caller
        async with self.pool.connection() as conn:
            if task["status"] == "queued":
                await conn.execute(
                    "DELETE FROM report_tasks WHERE updated_at < now() - make_interval(secs => %s)",
                    (TASK_TTL_S,),
                )
            await conn.execute(
                "INSERT INTO report_tasks (task_id, operator_id, field_id, record) "
                "VALUES (%s, %s, %s, %s::jsonb) ON CONFLICT (task_id) DO UPDATE "
                "SET record = EXCLUDED.record, updated_at = now()",
                (
                    task["task_id"],
                    task["operator_id"],
                    task["field_id"],
                    orjson.dumps(task).decode(),
                ),
            )

    async def _load(self, task_id: str) -> dict[str, Any] | None:
        if self.pool is None:
            return None
        try:
            async with self.pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT record FROM report_tasks WHERE task_id = %s "
                    "AND updated_at >= now() - make_interval(secs => %s)",
                    (task_id, TASK_TTL_S),
                )
                row = await cur.fetchone()
        except (psycopg.Error, AnhError) as exc:
            log.warning("report tasks: database read failed (%s)", exc)
            return None
        return dict(row[0]) if row else None

    async def task(self, principal: Principal, task_id: str) -> dict[str, Any]:
        """A task of the caller's operator and fields, or 404 (without its internal stamp)."""
        found = self._tasks.get(task_id)
        if found is None:
            found = await self._elsewhere(task_id)
        if (
            found is None
            or found["operator_id"] != principal.operator_id
            or not principal.sees_field(int(found["field_id"]))
        ):
            raise not_found("report task", task_id)
        return public(found)

    async def _elsewhere(self, task_id: str) -> dict[str, Any] | None:
        """Another replica's task record (Redis, then PostgreSQL), failed if its process died."""
        found: dict[str, Any] | None = None
        if self.redis is not None:
            try:
                raw = await self.redis.get(_TASK_KEY + task_id)
            except (RedisError, OSError) as exc:
                log.warning("report tasks: Redis read failed (%s)", exc)
                raw = None
            found = orjson.loads(raw) if raw else None
        if found is None:
            found = await self._load(task_id)
        if found is None or found["status"] not in _UNFINISHED:
            return found
        stamp = found.get("heartbeat_at") or found.get("created_at")
        silent = (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(str(stamp))).total_seconds()
        if silent <= self.stale_s:
            return found
        return {
            **found,
            "status": "failed",
            "message": f"the API process running this task stopped before it ended (no sign of "
            f"life for {silent:.0f} s); generate again: a day already signed answers its signed "
            "version",
        }

    def run(self, conn: Conn, task: dict[str, Any]) -> dict[str, Any]:
        """Generate, amend or approve an amendment of the task's report; its outcome.

        Rule errors are an outcome (``blocked``, with the findings), and so is a material
        amendment that waits for a second person (``awaiting_approval``); other failures raise.
        """
        row = conn.execute("SELECT code FROM fields WHERE id = %s", (task["field_id"],)).fetchone()
        if row is None:
            raise not_found("field", task["field_id"])
        code, day, by = str(row[0]), task["day"], task["created_by"]
        context = self.context()
        outcome: dict[str, Any]
        try:
            if task["kind"] == "generate":
                result = service.generate(
                    conn, field_code=code, day=day, context=context, created_by=by
                )
            else:
                if task["kind"] == "amend":
                    done = amendments.request(
                        conn, field_code=code, day=day, reason_code=task["reason_code"],
                        reason=task["reason"], requested_by=by, context=context,
                    )  # fmt: skip
                else:
                    done = amendments.approve(
                        conn, field_code=code, day=day, approved_by=by, context=context
                    )
                if done.signed is None:
                    return self._awaiting(conn, task, done.id, len(done.changes))
                result = done.signed
        except ReportBlocked as exc:
            outcome = {
                "status": "blocked",
                "message": str(exc),
                "findings": [f.as_dict() for f in exc.findings],
            }
        else:
            outcome = {
                "status": "succeeded",
                "version": result.version,
                "created": result.created,
                "sha256": result.sha256,
                "findings": result.findings,
                "message": f"{result.report_id} v{result.version} "
                + ("signed" if result.created else f"already signed ({result.status})"),
            }
        found = conn.execute(
            "SELECT id FROM reports WHERE field_id = %s AND contract_day = %s",
            (task["field_id"], day),
        ).fetchone()
        outcome["report_id"] = int(found[0]) if found else None
        return outcome

    def _awaiting(
        self, conn: Conn, task: dict[str, Any], request_id: int, changes: int
    ) -> dict[str, Any]:
        found = conn.execute(
            "SELECT id FROM reports WHERE field_id = %s AND contract_day = %s",
            (task["field_id"], task["day"]),
        ).fetchone()
        return {
            "status": "awaiting_approval",
            "report_id": int(found[0]) if found else None,
            "message": f"material amendment #{request_id} ({changes} figure(s) change) waits "
            "for a second person's approval",
        }

    def submit(
        self, conn: Conn, report: ReportRef, version: int | None, created_by: str
    ) -> dict[str, Any]:
        """Deliver a signed version through the configured channel (409 / 502 / 503 if not)."""
        try:
            channel = submission.channel_from_settings(
                self.settings.reports, self.settings.drop_dir
            )
        except ReportError as exc:
            raise ApiError(503, "delivery_unconfigured", str(exc)) from None
        try:
            sent = submission.submit(
                conn,
                field_code=report.field_code,
                day=report.contract_day,
                channel=channel,
                created_by=created_by,
                version=version,
            )
        except ReportError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        except DeliveryFailed as exc:
            raise ApiError(502, "delivery_failed", str(exc)) from None
        return {
            "report_id": report.id,
            "version": sent.version,
            "channel": sent.channel,
            "target": sent.target,
            "status": sent.status,
            "message": sent.message,
            "receipt": sent.receipt,
        }


def public(task: dict[str, Any]) -> dict[str, Any]:
    """A task's record as the API answers it (without the internal heartbeat stamp)."""
    return {k: v for k, v in task.items() if k != "heartbeat_at"}
