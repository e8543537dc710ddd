"""``/ws/telemetry/{field_id}``: committed readings of one field, live, in batched frames.

Authenticated by an access token or API key (``?token=`` or ``Authorization: Bearer``),
authorised per field (``telemetry.read`` and the field among the caller's). The socket is
accepted first so that a refusal carries a reason: close code 4401 (not authenticated), 4403
(no permission), 4404 (no such field, or another operator's). Frames come every
``ws_frame_ms`` at most, each holding every reading committed since the last one, as columns::

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
CLOSE_TOO_SLOW = 1013


class _TooSlow(Exception):
    pass


def _token(websocket: WebSocket) -> str | None:
    token = websocket.query_params.get("token")
    if token:
        return token
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return websocket.headers.get("x-api-key")


async def _authorise(
    websocket: WebSocket, state: ApiState, field_id: int
) -> tuple[Principal, str, list[dict[str, Any]]] | None:
    token = _token(websocket)
    if not token:
        await websocket.close(CLOSE_UNAUTHENTICATED, "token missing: add ?token=<access token>")
        return None
    try:
        if token.startswith(API_KEY_PREFIX):
            principal = await state.api_key_principal(token)
        else:
            principal = await state.user_principal(token)
    except ApiError as exc:
        await websocket.close(CLOSE_UNAUTHENTICATED, exc.code)
        return None
    if not principal.can(Permission.TELEMETRY_READ):
        await websocket.close(CLOSE_FORBIDDEN, "needs telemetry.read")
        return None
    if not principal.sees_field(field_id):
        await websocket.close(CLOSE_NOT_FOUND, f"field {field_id} not found")
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
    return principal, str(rows[0][0]), series


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
    """Stream the field's committed readings until the client leaves or falls behind."""
    state: ApiState = websocket.app.state.api
    await websocket.accept()
    granted = await _authorise(websocket, state, field_id)
    if granted is None:
        return
    _, shard, series = granted
    allowed = np.array(sorted(s["id"] for s in series), dtype=np.int32)
    queue: asyncio.Queue[Batch] = asyncio.Queue(state.api.ws_queue_batches)
    subscription = state.bus.subscribe(shard)
    gauge = active_connections.labels("websocket")
    gauge.inc()
    reader = asyncio.create_task(_follow(subscription, queue), name=f"ws-follow-{field_id}")
    listener = asyncio.create_task(_until_disconnect(websocket), name=f"ws-listen-{field_id}")
    await asyncio.sleep(0)  # let the subscription register before the client is told it is on
    try:
        await websocket.send_text(
            dumps({"type": "subscribed", "field_id": field_id, "series": series}).decode()
        )
        sender = asyncio.create_task(
            _send_frames(websocket, state, field_id, queue, allowed), name=f"ws-send-{field_id}"
        )
        done, _ = await asyncio.wait(
            {reader, listener, sender}, return_when=asyncio.FIRST_COMPLETED
        )
        slow = any(
            t.done() and not t.cancelled() and isinstance(t.exception(), _TooSlow | TimeoutError)
            for t in done
        )
        for task in (reader, listener, sender):
            task.cancel()
        for task in (reader, listener, sender):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if slow and websocket.client_state is WebSocketState.CONNECTED:
            log.info("websocket for field %s dropped: client too slow", field_id)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    websocket.close(CLOSE_TOO_SLOW, "client too slow; reconnect"), 1.0
                )
    except WebSocketDisconnect:
        pass
    finally:
        for task in (reader, listener):
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
