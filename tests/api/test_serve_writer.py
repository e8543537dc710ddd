"""``serve`` without Redis writes what is posted to it: the ingest writer runs in its lifespan.

Without ``ANH_REDIS_URL`` the bus is in the API process and no ``worker`` can read it, so the
app built for ``serve`` (``create_app(..., writer=True)``) runs the ingest writer on it. What
must hold, against the real test PostgreSQL:

- readings posted to ``/api/v1/ingest/readings`` reach ``telemetry`` while the app runs;
- on shutdown, every reading that got a 202 is written before the process ends: the test holds
  a lock on ``telemetry`` (``LOCK TABLE telemetry IN SHARE MODE``: reads go on, the writer's
  inserts wait), so that when the shutdown starts not one posted reading is stored; it lets go
  once the shutdown has begun, and after it every one is there;
- the same through a real ``anh-reporter serve`` process stopped with SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from anh_reporter.api.app import create_app
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.config import Settings
from anh_reporter.storage.database import Database
from tests.deploy.replicas import JWT_SECRET, Replica, wait_ready

from .conftest import PASSWORD, T0, World, api_settings, bearer, free_port, login

URL = "/api/v1/ingest/readings"
# After its graceful shutdown uvicorn re-raises the signal it caught, so the process ends "killed
# by SIGTERM" (systemd counts that as a clean stop); 0 is as good.
CLEAN_EXIT = (0, -signal.SIGTERM)


@contextlib.contextmanager
def writes_held(db: Database) -> Iterator[psycopg.Connection[Any]]:
    """While inside, and until the connection yielded rolls back, inserts into ``telemetry``
    wait (reads do not). Leaving rolls back in any case."""
    with db.connect() as conn:
        conn.execute("LOCK TABLE telemetry IN SHARE MODE")
        try:
            yield conn
        finally:
            conn.rollback()


def readings(series: int, first: int, count: int) -> list[dict[str, Any]]:
    """``count`` readings of ``series`` at T0 + 5 s + 10 s * i (between the seeded ones, which
    are at T0 + 10 s * k), i = first .. first + count - 1, of value 100 + i."""
    return [
        {
            "series_id": series,
            "time": (T0 + dt.timedelta(seconds=5 + 10 * i)).isoformat(),
            "value": 100.0 + i,
        }
        for i in range(first, first + count)
    ]


def stored(db: Database, series: int) -> tuple[int, float]:
    """Count and sum of the posted readings in ``telemetry`` (the seeded ones are at whole
    multiples of 10 s; the posted ones 5 s after)."""
    with db.connect() as conn:
        row = conn.execute(
            "SELECT count(*), coalesce(sum(value), 0) FROM telemetry WHERE series_id = %s "
            "AND extract(epoch FROM time)::bigint %% 10 = 5",
            (series,),
        ).fetchone()
    assert row is not None
    return int(row[0]), float(row[1])


def app_with_writer(db: Database, tmp_path: Path) -> Any:
    """The app as ``serve`` builds it without Redis: in-process bus, writer in the lifespan."""
    settings = Settings(data_dir=tmp_path, redis_url=None)
    return create_app(settings, db, MemoryBus(), api=api_settings(), writer=True, owns_bus=True)


async def test_posted_readings_are_written_while_the_app_runs(
    db: Database, world: World, tmp_path: Path
) -> None:
    series = world.own["series"]
    app = app_with_writer(db, tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["components"]["ingest_writer"]["ok"] is True
        token = (await login(client, "operator@own.example"))["access_token"]
        r = await client.post(URL, json={"readings": readings(series, 0, 3)}, headers=bearer(token))
        assert r.status_code == 202, r.text
        assert r.json()["accepted"] == 3
        # Written by the writer (flush deadline 200 ms): polled, at most 30 s.
        end = time.monotonic() + 30
        while (got := await asyncio.to_thread(stored, db, series))[0] < 3:
            assert time.monotonic() < end, f"only {got[0]} of 3 readings stored after 30 s"
            await asyncio.sleep(0.05)
    assert got == (3, 303.0)  # 100 + 101 + 102


async def test_shutdown_writes_every_accepted_reading(
    db: Database, world: World, tmp_path: Path
) -> None:
    series = world.own["series"]
    app = app_with_writer(db, tmp_path)
    transport = httpx.ASGITransport(app=app)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    shutdown: asyncio.Task[Any] | None = None
    try:
        with writes_held(db) as lock:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                token = (await login(client, "operator@own.example"))["access_token"]
                for first in (0, 50):
                    body = {"readings": readings(series, first, 50)}
                    r = await client.post(URL, json=body, headers=bearer(token))
                    assert r.status_code == 202 and r.json()["accepted"] == 50, r.text
            # Accepted, and not one stored: the writer waits on the lock.
            assert await asyncio.to_thread(stored, db, series) == (0, 0.0)
            shutdown = asyncio.create_task(lifespan.__aexit__(None, None, None))
            await asyncio.sleep(0)  # the shutdown starts (and asks the writer to stop)
            assert not shutdown.done()  # it waits for the writer, which waits for the lock
            lock.rollback()
            await shutdown
    finally:
        if shutdown is None:
            await lifespan.__aexit__(None, None, None)
    # 100 readings of 100 + i, i = 0..99: 100 * 100 + 99 * 100 / 2 = 10,000 + 4,950.
    assert stored(db, series) == (100, 14_950.0)


def start_serve(db: Database, folder: Path, args: list[str], env: dict[str, str]) -> Replica:
    """``anh-reporter serve ARGS`` on a free port with only the given ANH_ settings (none of
    the caller's environment's: no stray ANH_REDIS_URL), JSON logs to a file."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "serve.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ANH_")}
    environment.update(
        ANH_DATABASE_URL=db.url,
        ANH_DATA_DIR=str(folder / "data"),
        ANH_API__HOST="127.0.0.1",
        ANH_API__PORT=str(port),
        ANH_API__JWT_SECRET=JWT_SECRET,
        ANH_LOG__FORMAT="json",
        **env,
    )
    with log.open("wb") as err, (folder / "serve.out").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "anh_reporter", "serve", *args],
            env=environment,
            stdout=out,
            stderr=err,
        )
    return Replica("serve", port, process, log)


def wait_exit(replica: Replica, timeout_s: float = 60.0) -> int:
    """Its exit code (SIGKILL and fail if it does not exit in time)."""
    try:
        return replica.process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        replica.process.kill()
        replica.process.wait(timeout=10)
        pytest.fail(f"serve did not exit within {timeout_s:g} s of SIGTERM")


def test_a_serve_process_writes_what_it_accepted_before_it_exits(
    db: Database, world: World, tmp_path: Path
) -> None:
    series = world.own["series"]
    replica = start_serve(db, tmp_path, [], {})
    try:
        wait_ready(replica)
        base = f"http://127.0.0.1:{replica.port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            ready = client.get("/health/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["components"]["ingest_writer"]["ok"] is True
            r = client.post(
                "/api/v1/auth/login",
                json={"email": "operator@own.example", "password": PASSWORD},
            )
            assert r.status_code == 200, r.text
            token = r.json()["access_token"]
            with writes_held(db) as lock:
                body = {"readings": readings(series, 0, 50)}
                r = client.post(URL, json=body, headers=bearer(token))
                assert r.status_code == 202 and r.json()["accepted"] == 50, r.text
                assert stored(db, series) == (0, 0.0)  # the writer waits on the lock
                replica.process.send_signal(signal.SIGTERM)
                lock.rollback()
        assert wait_exit(replica) in CLEAN_EXIT, replica.log.read_text()[-2000:]
        assert "Application shutdown complete." in replica.log.read_text()
    finally:
        replica.stop()
    # 50 readings of 100 + i, i = 0..49: 5,000 + 49 * 50 / 2 = 5,000 + 1,225.
    assert stored(db, series) == (50, 6_225.0)
