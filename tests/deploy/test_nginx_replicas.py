"""Real nginx (deploy/nginx, rendered as in test_nginx.py) in front of two real API replicas.

Two ``anh-reporter serve`` processes share the test database and Redis (WebSocket fan-out
through pub/sub). Through nginx, over TLS, a steady stream of GET requests runs and a
WebSocket client follows a field's live readings. Then the replica holding the WebSocket is
killed (SIGKILL). What must hold:

- every request that was not in flight at the kill succeeds: nginx retries an idempotent
  request that fails on the dead replica on the other one (``proxy_next_upstream``), and the
  passive health check leaves the dead one out;
- the WebSocket client sees its connection close, reconnects through nginx, lands on the
  survivor and receives readings again;
- each replica's JSON access lines carry nginx's request id, the one the client got back.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.domain.batch import Batch
from anh_reporter.storage.database import Database
from tests.api.conftest import PASSWORD, World, seed
from tests.conftest import REDIS_URL

from .conftest import require_tool
from .replicas import Replica, replicas
from .test_nginx import Rendered, _wait_listening, render


@dataclass
class Call:
    """One GET through nginx: when it started and ended (monotonic), and how it went."""

    started: float
    ended: float
    status: int | None
    error: str = ""
    request_id: str = ""


@dataclass
class Load:
    """A steady stream of GETs from a few concurrent clients, until ``stop`` is set.

    Each client sends ``per_client_rate`` requests a second: together they stay under the
    edge's per-address limit (``anh_api``: 20 r/s), as many separate users would.
    """

    per_client_rate: float = 4.0
    calls: list[Call] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    progressed: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, client: httpx.AsyncClient, path: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        next_at = time.monotonic()
        while not self.stop.is_set():
            next_at += 1.0 / self.per_client_rate
            started = time.monotonic()
            try:
                response = await client.get(path, headers=headers)
            except httpx.HTTPError as exc:
                self.calls.append(Call(started, time.monotonic(), None, repr(exc)))
            else:
                self.calls.append(
                    Call(
                        started,
                        time.monotonic(),
                        response.status_code,
                        "" if response.status_code == 200 else response.text[:200],
                        response.headers.get("x-request-id", ""),
                    )
                )
            self.progressed.set()
            with contextlib.suppress(TimeoutError):  # the pace, or stop
                await asyncio.wait_for(self.stop.wait(), max(next_at - time.monotonic(), 0))


@contextlib.contextmanager
def nginx_in_front(folder: Path, backends: list[int]) -> Iterator[Rendered]:
    """Debian's nginx with the project's configuration, until the block ends."""
    nginx = require_tool("nginx", "nginx-light")
    rendered = render(folder, backends)
    process = subprocess.Popen(
        [nginx, "-p", str(folder), "-c", str(rendered.main), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_listening(process, rendered)
        yield rendered
    finally:
        process.terminate()
        process.wait(timeout=10)


class LiveClient:
    """A WebSocket client of one field that reconnects through nginx whenever it is dropped."""

    def __init__(self, url: str, token: str, context: ssl.SSLContext) -> None:
        self.url, self.token, self.context = url, token, context
        self.connections = 0
        self.subscribed = asyncio.Event()
        self.dropped = asyncio.Event()
        self.frames: list[tuple[int, dict[str, Any]]] = []  # (connection number, frame)
        self.received = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                async with websockets.connect(self.url, ssl=self.context, open_timeout=10) as ws:
                    await ws.send(orjson.dumps({"type": "auth", "token": self.token}).decode())
                    self.connections += 1
                    async for raw in ws:
                        message = orjson.loads(raw)
                        if message["type"] == "subscribed":
                            self.subscribed.set()
                        elif message["type"] == "readings":
                            self.frames.append((self.connections, message))
                            self.received.set()
            except (ConnectionClosed, InvalidStatus, OSError, TimeoutError):
                pass
            # The socket ended: note it, then reconnect (nginx picks a live replica), after a
            # short pause like a browser's, so as not to hammer the edge's limits.
            self.subscribed.clear()
            self.dropped.set()
            await asyncio.sleep(0.2)

    async def receive_readings(self, bus: RedisStreamsBus, shard: str, value: float) -> None:
        """Announce ``value`` on the field's live channel until this client has a frame of it.

        Announced again every 100 ms: the replica subscribes to Redis just after it says
        "subscribed", so the first announcement may come before anyone listens.
        """
        await asyncio.wait_for(self.subscribed.wait(), 30)
        batch = Batch.of([self.series_id], [int(time.time() * 1e6)], [value], source="test")
        while not any(value in f["value"] for _, f in self.frames):
            self.received.clear()
            await bus.announce(batch, shard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.received.wait(), 0.1)

    series_id = 0


def _field(db: Database, world: World) -> tuple[int, str, int]:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT f.code FROM fields f WHERE f.id = %s", (world.own["field"],)
        ).fetchone()
    assert row is not None
    return world.own["field"], str(row[0]), world.own["series"]


def _holder(replicas_: list[Replica], field_id: int) -> Replica:
    """The replica whose log shows the WebSocket of ``field_id`` accepted."""
    path = f"/ws/telemetry/{field_id}"
    holders = [
        r
        for r in replicas_
        if any(path in line["message"] and "accepted" in line["message"] for line in r.log_lines())
    ]
    assert len(holders) == 1, [r.name for r in holders]
    return holders[0]


@pytest.fixture
async def edge(
    db: Database, tmp_path: Path, prefix: str
) -> AsyncIterator[tuple[Rendered, list[Replica], World]]:
    """Two replicas on the seeded database, nginx in front of them."""
    world = seed(db)
    env = {
        "ANH_REDIS_URL": REDIS_URL,
        "ANH_REDIS_PREFIX": prefix,
        "ANH_API__TRUST_FORWARDED_FOR": "true",
        "ANH_API__RATE_PER_MINUTE": "1000000",
        "ANH_API__WS_FRAME_MS": "20",
        "ANH_TLS__FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    with (
        replicas(db, tmp_path / "api", 2, env) as started,
        nginx_in_front(tmp_path / "nginx", [r.port for r in started]) as rendered,
    ):
        yield rendered, started, world


async def test_killing_a_replica_fails_no_request_and_websockets_reconnect(
    db: Database, edge: tuple[Rendered, list[Replica], World], prefix: str
) -> None:
    rendered, started, world = edge
    field_id, code, series_id = _field(db, world)
    context = ssl.create_default_context(cafile=str(rendered.certificate))
    base = f"https://127.0.0.1:{rendered.https_port}"
    bus = RedisStreamsBus(REDIS_URL, prefix=prefix)
    async with httpx.AsyncClient(base_url=base, verify=context, timeout=30.0) as client:
        login = await client.post(
            "/api/v1/auth/login", json={"email": "viewer@own.example", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]

        live = LiveClient(
            f"wss://127.0.0.1:{rendered.https_port}/ws/telemetry/{field_id}", token, context
        )
        live.series_id = series_id
        listener = asyncio.create_task(live.run())
        load = Load()
        workers = [
            asyncio.create_task(load.run(client, f"/api/v1/fields/{field_id}", token))
            for _ in range(3)
        ]
        try:
            await asyncio.wait_for(live.receive_readings(bus, code, 1.5), 30)
            # Both replicas serve the stream before the kill.
            await _until(lambda: all(_access_lines(r) for r in started), load, 30)
            victim = _holder(started, field_id)
            survivor = next(r for r in started if r is not victim)
            live.dropped.clear()
            before = len(load.calls)

            killed_at = time.monotonic()
            victim.process.kill()
            victim.process.wait(timeout=10)
            dead_at = time.monotonic()

            await asyncio.wait_for(live.dropped.wait(), 30)
            await asyncio.wait_for(live.receive_readings(bus, code, 2.5), 30)
            # And a good number of requests after the kill, all on the survivor.
            await _until(lambda: len(load.calls) >= before + 60, load, 60)
        finally:
            load.stop.set()
            await asyncio.gather(*workers)
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await bus.close()

    in_flight = [c for c in load.calls if c.started < dead_at and c.ended > killed_at]
    others = [c for c in load.calls if c not in in_flight]
    failed = [c for c in others if c.status != 200]
    assert not failed, failed[:5]
    after = [c for c in load.calls if c.started > dead_at]
    assert len(after) >= 30
    # The WebSocket came back on a new connection, to the survivor, and receives there.
    assert live.connections >= 2
    assert any(n == live.connections and 2.5 in f["value"] for n, f in live.frames)
    assert _holder([survivor], field_id) is survivor
    print(  # the figures, for `pytest -s`
        f"calls {len(load.calls)}, in flight at the kill {len(in_flight)} "
        f"({sum(c.status != 200 for c in in_flight)} failed), after it {len(after)}, "
        f"WebSocket connections {live.connections}"
    )

    # nginx's request id reached the replica's JSON access line and came back to the client.
    served = {line["request_id"] for line in _access_lines(survivor)}
    ids = {c.request_id for c in after}
    assert ids and all(len(i) == 32 for i in ids)
    assert ids <= served


def _access_lines(replica: Replica) -> list[dict[str, Any]]:
    return [
        line
        for line in replica.log_lines()
        if line["logger"] == "uvicorn.access" and line.get("path", "").startswith("/api/v1/fields/")
    ]


async def _until(check: Any, load: Load, timeout_s: float) -> None:
    """Wait for ``check()`` to hold, re-checking each time the load makes progress."""
    async with asyncio.timeout(timeout_s):
        while not check():
            load.progressed.clear()
            await load.progressed.wait()
