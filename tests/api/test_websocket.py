"""The live WebSocket over a real uvicorn server: authentication, field scoping, frames, drops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
import websockets
from websockets.exceptions import ConnectionClosed

from anh_reporter.bus.memory import MemoryBus
from anh_reporter.domain.batch import Batch
from anh_reporter.storage.database import Database

from .conftest import World, free_port, login, make_app

FIELD_CODE = "CAMPO-DEMO-LLANOS"


@contextlib.asynccontextmanager
async def serve(db: Database, tmp_path: Path, bus: MemoryBus, **api: Any) -> AsyncIterator[str]:
    port = free_port()
    app = make_app(db, tmp_path, bus, **api)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def _token(base: str, email: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://{base}") as client:
        return str((await login(client, email))["access_token"])


async def _close_code(url: str) -> int | None:
    async with websockets.connect(url) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_authentication_and_field_scoping(db: Database, world: World, tmp_path: Path) -> None:
    async with serve(db, tmp_path, MemoryBus()) as base:
        token = await _token(base, "viewer@own.example")
        own, other = world.own["field"], world.other["field"]
        assert await _close_code(f"ws://{base}/ws/telemetry/{own}") == 4401
        assert await _close_code(f"ws://{base}/ws/telemetry/{own}?token=garbage") == 4401
        assert await _close_code(f"ws://{base}/ws/telemetry/{other}?token={token}") == 4404
        assert await _close_code(f"ws://{base}/ws/telemetry/999999?token={token}") == 4404


async def test_streams_committed_readings_of_the_field_only(
    db: Database, world: World, tmp_path: Path
) -> None:
    bus = MemoryBus()
    async with serve(db, tmp_path, bus) as base:
        token = await _token(base, "viewer@own.example")
        url = f"ws://{base}/ws/telemetry/{world.own['field']}"
        async with websockets.connect(
            url, additional_headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            hello = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            assert hello["type"] == "subscribed"
            assert world.own["series"] in {s["id"] for s in hello["series"]}
            own_sid, other_sid = world.own["series"], world.other["series"]
            batch = Batch.of(
                [own_sid, other_sid, own_sid],
                [1_000_000, 1_000_000, 2_000_000],
                [14_000.5, 9_000.0, float("nan")],
                [0, 0, 0x80310000],
            )
            await bus.announce(batch, FIELD_CODE)
            await bus.announce(Batch.of([own_sid], [3_000_000], [14_001.0]), FIELD_CODE)
            frames = []
            while sum(len(f["series_id"]) for f in frames) < 3:
                frames.append(orjson.loads(await asyncio.wait_for(ws.recv(), 5)))
    assert {f["type"] for f in frames} == {"readings"}
    series = [s for f in frames for s in f["series_id"]]
    values = [v for f in frames for v in f["value"]]
    assert series == [own_sid, own_sid, own_sid]  # another field's series is filtered out
    assert values == [14_000.5, None, 14_001.0]
    assert [q for f in frames for q in f["quality"]] == [0, 0x80310000, 0]


async def test_a_slow_client_is_dropped_not_waited_for(
    db: Database, world: World, tmp_path: Path
) -> None:
    bus = MemoryBus()
    # One batch of backlog and a 10 s frame interval: the third batch finds the queue full.
    async with serve(db, tmp_path, bus, ws_queue_batches=1, ws_frame_ms=10_000) as base:
        token = await _token(base, "viewer@own.example")
        url = f"ws://{base}/ws/telemetry/{world.own['field']}?token={token}"
        async with websockets.connect(url) as ws:
            await asyncio.wait_for(ws.recv(), 5)
            sid = world.own["series"]
            for i in range(3):
                await bus.announce(Batch.of([sid], [i], [1.0]), FIELD_CODE)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        for _ in range(100):  # the server unsubscribes once the socket is gone
            if not bus._subscribers.get(FIELD_CODE):
                break
            await asyncio.sleep(0.02)
        assert not bus._subscribers.get(FIELD_CODE)
