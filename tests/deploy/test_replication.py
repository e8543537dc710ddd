"""PostgreSQL high availability: a streaming replica serves the reads; a failover drill.

Both clusters are the test's own (tests/deploy/clusters.py): a primary and a standby made from
it with pg_basebackup, on free ports, stopped and removed afterwards.

* The API sends history, analytics and exports to ``ANH_DATABASE_READ_URL``: with the
  standby's replay paused, the API answers from the standby (it misses what the primary wrote
  since), and once replay resumes it sees everything. Checked on one route of each kind: raw
  history (``/telemetry/{id}/raw``), analytics (``/analytics/fields/{id}/daily-quality``, from
  the hourly rollups) and the CSV export (``/telemetry/export``), with the response cache off.
* The failover drill: the ingest writer (the worker's commit path) and the API reach the
  database through one libpq URL naming both hosts with ``target_session_attrs=read-write``.
  With synchronous replication (``synchronous_standby_names = '*'``, ``synchronous_commit =
  on``) the primary is killed half-way (``pg_ctl stop -m immediate``), the standby promoted;
  the writer reconnects to the new primary by itself and every batch it acknowledged is there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from anh_reporter.api.app import create_app
from anh_reporter.bus.base import Delivery
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.config import IngestSettings, Settings
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import to_us
from anh_reporter.ingest.pipeline import IngestPipeline
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database
from anh_reporter.storage.telemetry import TelemetryWriter
from tests.api.conftest import HOURS, T0, api_settings, login, seed

from .clusters import Cluster, Clusters, wait_for, wait_replayed

SYNCHRONOUS = {"synchronous_standby_names": "*", "synchronous_commit": "on"}


def primary_with_standby(clusters: Clusters, **settings: str) -> tuple[Cluster, Cluster, Database]:
    """A migrated primary with database ``anh``, and a streaming standby of it; ``settings``
    are made (ALTER SYSTEM, reload) once the standby streams: synchronous commit set before
    would wait for a standby that does not exist yet."""
    primary = clusters.new("primary")
    primary.initdb()
    primary.start()
    primary.query("CREATE DATABASE anh")
    db = Database(primary.url("anh"))
    migrate.upgrade(db)
    standby = clusters.new("standby")
    standby.replicate_from(primary)
    standby.start()
    wait_for(
        "the standby to stream",
        lambda: primary.query("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"),
    )
    for name, value in settings.items():
        primary.query(f"ALTER SYSTEM SET {name} = '{value}'")
    primary.query("SELECT pg_reload_conf()")
    return primary, standby, db


def both_hosts(primary: Cluster, standby: Cluster) -> str:
    """libpq's failover URL: the first of the hosts that accepts writes."""
    return (
        f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/anh"
        "?target_session_attrs=read-write&connect_timeout=2"
    )


async def _read_counts(
    client: httpx.AsyncClient, token: str, series_id: int, field_id: int
) -> tuple[int, int, int]:
    """The series' readings as three read-only routes count them: raw history, the analytics
    daily quality of T0's day (received samples), and the CSV export's rows."""
    headers = {"Authorization": f"Bearer {token}"}
    day = T0.date().isoformat()
    quality = await client.get(
        f"/api/v1/analytics/fields/{field_id}/daily-quality",
        params={"start_day": day, "end_day": day},
        headers=headers,
    )
    assert quality.status_code == 200, quality.text
    (received,) = [r["count"] for r in quality.json()["rows"] if r["series_id"] == series_id]
    end = T0 + dt.timedelta(hours=HOURS)
    export = await client.get(
        "/api/v1/telemetry/export",
        params={"series_id": series_id, "start": T0.isoformat(), "end": end.isoformat()},
        headers=headers,
    )
    assert export.status_code == 200, export.text
    rows = len(export.text.splitlines()) - 1  # less the header line
    return await _raw_count(client, token, series_id), int(received), rows


async def _raw_count(client: httpx.AsyncClient, token: str, series_id: int) -> int:
    end = T0 + dt.timedelta(hours=HOURS)
    answer = await client.get(
        f"/api/v1/telemetry/{series_id}/raw",
        params={"start": T0.isoformat(), "end": end.isoformat(), "limit": 100_000},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    count: int = answer.json()["count"]
    return count


def test_the_replica_serves_history_while_the_primary_takes_writes(
    clusters: Clusters, tmp_path: Path
) -> None:
    primary, standby, db = primary_with_standby(clusters)
    world = seed(db)  # HOURS hours of one oil rate at 10 s: HOURS * 360 readings
    series = world.own["series"]
    wait_replayed(primary, standby)
    standby.query("SELECT pg_wal_replay_pause()")
    wait_for(
        "the standby's replay to pause",
        lambda: standby.query("SELECT pg_get_wal_replay_pause_state() = 'paused'"),
    )
    # 100 more readings on the primary, between the seeded ones (at 10 s + 5 s).
    extra = 100
    with db.connect() as conn:
        t = to_us(T0) + 5_000_000 + np.arange(extra, dtype=np.int64) * 10_000_000
        TelemetryWriter(conn).write(
            np.full(extra, series, dtype=np.int32),
            t,
            np.full(extra, 1.0),
            np.zeros(extra, dtype=np.uint32),
        )
        conn.commit()
        on_primary = conn.execute(
            "SELECT count(*) FROM telemetry WHERE series_id = %s", (series,)
        ).fetchone()
    assert on_primary == (HOURS * 360 + extra,)

    settings = Settings(data_dir=tmp_path, redis_url=None, database_read_url=standby.url("anh"))
    # No response cache: the second answer of the analytics route must be read again.
    app = create_app(settings, db, MemoryBus(), api=api_settings(cache_ttl_s=0))
    field = world.own["field"]

    async def drive() -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        ):
            token = (await login(client, "viewer@own.example"))["access_token"]
            paused = await _read_counts(client, token, series, field)
            await asyncio.to_thread(standby.query, "SELECT pg_wal_replay_resume()")
            await asyncio.to_thread(wait_replayed, primary, standby)
            return paused, await _read_counts(client, token, series, field)

    paused, resumed = asyncio.run(drive())
    # Paused: the API read the standby, which has not replayed the 100 new readings. Seeded:
    # HOURS = 30 h at 10 s = 10,800 readings, of which T0's day holds 24 h * 360 = 8,640; the
    # 100 new ones are all within T0's day (T0 + 5 s .. T0 + 995 s).
    assert paused == (HOURS * 360, 24 * 360, HOURS * 360)
    assert resumed == (HOURS * 360 + extra, 24 * 360 + extra, HOURS * 360 + extra)


def test_failover_drill_loses_no_acknowledged_reading(clusters: Clusters, tmp_path: Path) -> None:
    primary, standby, db = primary_with_standby(clusters, **SYNCHRONOUS)
    wait_for(
        "the standby to be synchronous",
        lambda: primary.query("SELECT sync_state = 'sync' FROM pg_stat_replication"),
    )
    world = seed(db)
    series = world.own["series"]
    failover = Database(both_hosts(primary, standby))
    batches, size = 40, 500
    start_us = to_us(T0) - 86_400_000_000  # the day before the seeded hours
    acknowledged: list[Batch] = []

    def on_commit(deliveries: list[Delivery], _good: Batch, _at: float) -> None:
        acknowledged.extend(d.batch for d in deliveries)

    def batch(i: int) -> Batch:
        t = start_us + (i * size + np.arange(size, dtype=np.int64)) * 1_000_000
        return Batch.of(np.full(size, series), t, np.full(size, float(i + 1)), source="drill")

    settings = Settings(data_dir=tmp_path, redis_url=None)
    app = create_app(settings, failover, MemoryBus(), api=api_settings())

    async def drill() -> int:
        bus = MemoryBus()
        ingest = IngestSettings(flush_rows=size, flush_deadline_ms=10, future_tolerance_s=1e9)
        pipeline = IngestPipeline(failover, bus, ingest, on_commit=[on_commit])
        writer = asyncio.create_task(pipeline.run())
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        ):
            token = (await login(client, "viewer@own.example"))["access_token"]
            assert await _raw_count(client, token, series) == HOURS * 360
            for i in range(batches // 2):
                await bus.publish(batch(i), "CAMPO-DEMO-LLANOS")
            await _until(lambda: len(acknowledged) >= batches // 2, "the first half's acks")
            # The primary dies (no shutdown checkpoint, connections cut); the standby is promoted.
            await asyncio.to_thread(primary.stop, "immediate")
            for i in range(batches // 2, batches):
                await bus.publish(batch(i), "CAMPO-DEMO-LLANOS")
            await asyncio.to_thread(standby.promote)
            await _until(lambda: len(acknowledged) >= batches, "every batch's ack")
            pipeline.stop()
            await writer
            # The API's connections to the dead primary are dropped; it reconnects by itself
            # (a request that was in flight at the switch may fail; none is here).
            return await _until_answer(lambda: _raw_count(client, token, series))

    seeded_after = asyncio.run(drill())
    assert seeded_after == HOURS * 360
    assert standby.query("SELECT pg_is_in_recovery()", dbname="anh") is False
    assert each_batch_once(acknowledged)
    # Every acknowledged reading is on the new primary: count and sum of the drill's readings.
    # Batch i holds 500 readings of value i + 1: sum = 500 * (1 + ... + 40) = 500 * 820 = 410,000.
    row = standby.query(
        "SELECT array[count(*), sum(value)] FROM telemetry WHERE series_id = %s AND time < %s",
        (series, T0),
        dbname="anh",
    )
    assert [int(x) for x in row] == [batches * size, 410_000]


def each_batch_once(acknowledged: list[Batch]) -> bool:
    """Every batch was acknowledged exactly once (redelivery would show twice)."""
    return len(acknowledged) == len({int(b.value[0]) for b in acknowledged})


async def _until(check: Any, what: str, timeout_s: float = 45.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not check():
        assert loop.time() < end, f"timed out after {timeout_s:g} s waiting for {what}"
        await asyncio.sleep(0.02)


async def _until_answer(ask: Any, timeout_s: float = 30.0) -> int:
    """The first answer of ``ask()`` that is not a failure (the pool reconnects meanwhile)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while True:
        try:
            answer: int = await ask()
            return answer
        except AssertionError:
            if loop.time() > end:
                raise
            await asyncio.sleep(0.05)
