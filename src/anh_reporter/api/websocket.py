"""``/ws/telemetry/{field_id}``: committed readings of one field, live, in batched frames.

Authenticated by an access token or API key: browsers send it as the first message,
``{"type": "auth", "token": "..."}`` (within ``ws_auth_timeout_s``); other clients may use the
``Authorization: Bearer`` or ``X-API-Key`` header. ``?token=`` still works for older clients
but is masked in every log (:mod:`anh_reporter.api.redact`); do not use it. Authorised per
field (``telemetry.read`` and the field among the caller's). The socket is accepted first so
that a refusal carries a reason: close code 4401 (not authenticated, or the token expired, the
session ended, the user was disabled or the key revoked while the socket was open), 4403 (no
permission), 4404 (no such field, or another operator's), 4429 (more than
``ws_max_per_user`` sockets of one user or key; across processes with Redis, see
:mod:`anh_reporter.api.sockets`). An open socket re-checks its credentials every
``ws_recheck_s``, and at once when any API process logs a user out, changes or disables a
user, or revokes a key (:mod:`anh_reporter.api.revocation`). Frames come every
``ws_frame_ms`` at most, each holding every reading
committed since the last one, as columns::

    {"type": "readings", "field_id": 1, "series_id": [...], "time_us": [...],
     "value": [... null for a NaN marker ...], "quality": [... unsigned OPC UA codes ...]}

A client that cannot keep up (its backlog passes ``ws_queue_batches`` or one send takes
longer than ``ws_send_timeout_s``) is closed with 1013 and must reconnect: ingest never waits
for a WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from anh_reporter.api.errors import ApiError
from anh_reporter.api.permissions import Permission
from anh_reporter.api.responses import dumps
from anh_reporter.api.scoping import Principal
from anh_reporter.api.security import API_KEY_PREFIX
from anh_reporter.api.state import ApiState
from anh_reporter.domain.batch import Batch
from anh_reporter.observability.metrics import active_connections

log = logging.getLogger(__name__)
router = APIRouter()

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY = 4429
CLOSE_TOO_SLOW = 1013


class _TooSlow(Exception):
    pass


def _header_token(websocket: WebSocket) -> str | None:
    token = websocket.query_params.get("token")
    if token:
        return token
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return websocket.headers.get("x-api-key")


async def _first_message_token(websocket: WebSocket, timeout_s: float) -> str | None:
    """The token of a first ``{"type": "auth", "token": ...}`` message, or None."""
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout_s)
    except TimeoutError:
        return None
    if message["type"] != "websocket.receive":
        return None
    raw = message.get("text") or message.get("bytes") or b""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if isinstance(doc, dict) and doc.get("type") == "auth" and isinstance(doc.get("token"), str):
        return str(doc["token"])
    return None


async def _principal(state: ApiState, token: str) -> Principal:
    if token.startswith(API_KEY_PREFIX):
        return await state.api_key_principal(token)
    return await state.user_principal(token)


def _refusal(principal: Principal, field_id: int) -> tuple[int, str] | None:
    if not principal.can(Permission.TELEMETRY_READ):
        return CLOSE_FORBIDDEN, "needs telemetry.read"
    if not principal.sees_field(field_id):
        return CLOSE_NOT_FOUND, f"field {field_id} not found"
    return None


async def _authorise(
    websocket: WebSocket, state: ApiState, field_id: int
) -> tuple[Principal, str, str, list[dict[str, Any]]] | None:
    token = _header_token(websocket) or await _first_message_token(
        websocket, state.api.ws_auth_timeout_s
    )
    if not token:
        if websocket.client_state is not WebSocketState.CONNECTED:
            return None  # the client left before saying who it is
        await websocket.close(
            CLOSE_UNAUTHENTICATED,
            'token missing: send {"type": "auth", "token": "<access token>"} first',
        )
        return None
    try:
        principal = await _principal(state, token)
    except ApiError as exc:
        await websocket.close(CLOSE_UNAUTHENTICATED, exc.code)
        return None
    refusal = _refusal(principal, field_id)
    if refusal is not None:
        await websocket.close(*refusal)
        return None
    async with state.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT f.code, s.id, s.code, s.variable, s.unit FROM fields f "
            "LEFT JOIN series s ON s.field_id = f.id WHERE f.id = %s AND f.operator_id = %s "
            "ORDER BY s.id",
            (field_id, principal.operator_id),
        )
        rows = await cur.fetchall()
    if not rows:
        await websocket.close(CLOSE_NOT_FOUND, f"field {field_id} not found")
        return None
    series = [
        {"id": r[1], "code": r[2], "variable": r[3], "unit": r[4]} for r in rows if r[1] is not None
    ]
    return principal, token, str(rows[0][0]), series


class _Revoked(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


async def _guard(
    state: ApiState, token: str, field_id: int, lease: tuple[tuple[str, int], str]
) -> None:
    """Re-check the credentials every ``ws_recheck_s`` and on every revocation announced;
    raises :class:`_Revoked` once they no longer hold. Renews the socket's count lease."""
    wake = state.revocations.listen()
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), state.api.ws_recheck_s)
            wake.clear()
            try:
                principal = await _principal(state, token)
            except ApiError as exc:
                raise _Revoked(CLOSE_UNAUTHENTICATED, exc.code) from None
            refusal = _refusal(principal, field_id)
            if refusal is not None:
                raise _Revoked(*refusal)
            await state.sockets.renew(*lease)
    finally:
        state.revocations.unlisten(wake)


def frame(field_id: int, batch: Batch) -> bytes:
    """One ``readings`` frame (JSON bytes) for the readings of ``batch``."""
    value = batch.value.astype(object)
    value[np.isnan(batch.value)] = None
    return dumps(
        {
            "type": "readings",
            "field_id": field_id,
            "series_id": batch.series_id,
            "time_us": batch.time_us,
            "value": value.tolist(),
            "quality": batch.quality,
        }
    )


@router.websocket("/ws/telemetry/{field_id}")
async def telemetry_socket(websocket: WebSocket, field_id: int) -> None:
    """Stream the field's committed readings until the client leaves, falls behind or its
    credentials stop holding."""
    state: ApiState = websocket.app.state.api
    await websocket.accept()
    granted = await _authorise(websocket, state, field_id)
    if granted is None:
        return
    principal, token, shard, series = granted
    owner = (principal.kind, principal.id)
    ticket = await state.sockets.open(owner, state.api.ws_max_per_user)
    if ticket is None:
        await websocket.close(
            CLOSE_TOO_MANY,
            f"too many WebSockets: at most {state.api.ws_max_per_user} per user or API key",
        )
        return
    try:
        await _stream(websocket, state, field_id, token, shard, series, (owner, ticket))
    finally:
        await state.sockets.close(owner, ticket)


async def _stream(
    websocket: WebSocket,
    state: ApiState,
    field_id: int,
    token: str,
    shard: str,
    series: list[dict[str, Any]],
    lease: tuple[tuple[str, int], str],
) -> None:
    allowed = np.array(sorted(s["id"] for s in series), dtype=np.int32)
    queue: asyncio.Queue[Batch] = asyncio.Queue(state.api.ws_queue_batches)
    subscription = state.bus.subscribe(shard)
    gauge = active_connections.labels("websocket")
    gauge.inc()
    reader = asyncio.create_task(_follow(subscription, queue), name=f"ws-follow-{field_id}")
    listener = asyncio.create_task(_until_disconnect(websocket), name=f"ws-listen-{field_id}")
    guard = asyncio.create_task(_guard(state, token, field_id, lease), name=f"ws-guard-{field_id}")
    await asyncio.sleep(0)  # let the subscription register before the client is told it is on
    try:
        await websocket.send_text(
            dumps({"type": "subscribed", "field_id": field_id, "series": series}).decode()
        )
        sender = asyncio.create_task(
            _send_frames(websocket, state, field_id, queue, allowed), name=f"ws-send-{field_id}"
        )
        tasks = (reader, listener, sender, guard)
        done, _ = await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
        failures = [t.exception() for t in done if not t.cancelled()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        revoked = next((e for e in failures if isinstance(e, _Revoked)), None)
        slow = any(isinstance(e, _TooSlow | TimeoutError) for e in failures)
        if websocket.client_state is WebSocketState.CONNECTED and (revoked or slow):
            code, reason = (
                (revoked.code, revoked.reason)
                if revoked
                else (CLOSE_TOO_SLOW, "client too slow; reconnect")
            )
            log.info("websocket for field %s closed: %s", field_id, reason)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(code, reason), 1.0)
    except WebSocketDisconnect:
        pass
    finally:
        for task in (reader, listener, guard):
            task.cancel()
        gauge.dec()
        close = getattr(subscription, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


async def _follow(subscription: AsyncIterator[Batch], queue: asyncio.Queue[Batch]) -> None:
    async for batch in subscription:
        try:
            queue.put_nowait(batch)
        except asyncio.QueueFull:
            raise _TooSlow from None


async def _until_disconnect(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


async def _send_frames(
    websocket: WebSocket,
    state: ApiState,
    field_id: int,
    queue: asyncio.Queue[Batch],
    allowed: Any,
) -> None:
    interval = state.api.ws_frame_ms / 1000
    timeout = state.api.ws_send_timeout_s
    while True:
        batches = [await queue.get()]
        await asyncio.sleep(interval)  # gather what else arrives: one frame per interval
        while not queue.empty():
            batches.append(queue.get_nowait())
        batch = Batch.concat(batches)
        batch = batch.take(np.isin(batch.series_id, allowed))
        if len(batch):
            await asyncio.wait_for(websocket.send_text(frame(field_id, batch).decode()), timeout)
