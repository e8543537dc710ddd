"""Fault tests with real processes: PostgreSQL killed mid-ingest, or down for 30 s.

The test runs its own PostgreSQL cluster (embedded server in a temporary directory) so that it
can kill it without disturbing anybody else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from anh_reporter.bus.base import BusUnavailable
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.collect.forwarder import SpoolingProducer
from anh_reporter.collect.spool import Spool
from anh_reporter.config import IngestSettings
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import to_us
from anh_reporter.ingest.pipeline import IngestPipeline
from anh_reporter.site import load_site
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database
from anh_reporter.storage.embedded import EmbeddedPostgres
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from ..conftest import EXAMPLE_SITE

pytestmark = pytest.mark.slow
T0 = to_us(dt.datetime(2026, 11, 20, tzinfo=dt.UTC))


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[tuple[EmbeddedPostgres, Database]]:
    """A private PostgreSQL that this test may kill."""
    server = EmbeddedPostgres(tmp_path / "pgdata")
    db = Database(server.start(), embedded=True)
    migrate.upgrade(db)
    with db.connect() as conn:
        load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
    yield server, db
    server.ensure_running()
    server.stop()


def readings(db: Database, n: int) -> Batch:
    with db.connect() as conn:
        ids = [s.id for s in list_series(conn) if s.variable == "bsw"] or [1]
    sid = np.resize(np.array(ids, dtype=np.int32), n)
    t = T0 + np.arange(n, dtype=np.int64) * 1_000  # 1 ms apart: unique (series, time)
    value = (np.arange(n) % 1000) / 10.0  # within the BSW range [0, 100]
    return Batch.of(sid, t, value, source="fault-test")


async def publish_with_backpressure(bus: MemoryBus, batch: Batch, size: int = 1_000) -> None:
    for lo in range(0, len(batch), size):
        part = batch.take(np.arange(lo, min(lo + size, len(batch))))
        while True:
            try:
                await bus.publish(part, "CAMPO-DEMO-LLANOS")
                break
            except BusUnavailable:
                await asyncio.sleep(0.01)


async def test_sigkill_postgres_mid_ingest_loses_nothing(
    own_cluster: tuple[EmbeddedPostgres, Database],
) -> None:
    server, db = own_cluster
    batch = readings(db, 1_000_000)
    bus = MemoryBus(max_pending_readings=200_000)
    pipeline = IngestPipeline(db, bus, IngestSettings(), clock=lambda: (T0 / 1e6) + 86_400)
    writer = asyncio.create_task(pipeline.run())
    producer = asyncio.create_task(publish_with_backpressure(bus, batch))
    while pipeline.stats.written < 250_000:  # noqa: ASYNC110 - progress counter polled; bounded
        await asyncio.sleep(0.01)
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    killed_at = pipeline.stats.written
    await asyncio.sleep(1.0)
    restart = threading.Thread(target=server.ensure_running)
    restart.start()
    await asyncio.to_thread(restart.join)
    await producer
    deadline = time.monotonic() + 120
    while pipeline.stats.offered < len(batch) and time.monotonic() < deadline:  # noqa: ASYNC110 - progress counter polled; bounded
        await asyncio.sleep(0.05)
    pipeline.stop()
    await writer
    assert killed_at < len(batch), "the kill must happen mid-ingest"
    assert pipeline.stats.retries > 0, "the writer must have seen the database go away"
    with db.connect() as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (series_id, time)), sum(value) FROM telemetry"
        ).fetchone()
        hourly = conn.execute("SELECT sum(count) FROM telemetry_hourly").fetchone()
    assert row is not None
    count, distinct, total = row
    assert count == distinct == len(batch)
    assert total == pytest.approx(float(batch.value.sum()), rel=1e-12)
    assert hourly == (len(batch),)


async def test_database_unreachable_for_30_s_spool_grows_then_drains_in_order(
    own_cluster: tuple[EmbeddedPostgres, Database], tmp_path: Path
) -> None:
    server, db = own_cluster
    total_batches, size = 600, 1_000  # 600k readings over ~36 s: 16.7k readings/s
    batch = readings(db, total_batches * size)
    bus = MemoryBus(max_pending_readings=20_000)
    published: list[int] = []  # first time of each batch, in the order the bus took them
    original_publish = bus.publish

    async def recording_publish(b: Batch, shard: str) -> None:
        await original_publish(b, shard)
        published.append(int(b.time_us[0]))

    bus.publish = recording_publish  # type: ignore[method-assign]
    spool = Spool(tmp_path / "spool.sqlite3", max_bytes=1 << 30)
    producer = SpoolingProducer(bus, spool, backoff_initial_s=0.1, backoff_max_s=1.0)
    producer.start()
    pipeline = IngestPipeline(db, bus, IngestSettings(), clock=lambda: (T0 / 1e6) + 86_400)
    writer = asyncio.create_task(pipeline.run())
    max_depth = 0
    start = time.monotonic()
    outage = (2.0, 32.0)
    down = False
    for k in range(total_batches):
        due = start + k * 0.06
        await asyncio.sleep(max(due - time.monotonic(), 0))
        elapsed = time.monotonic() - start
        if not down and outage[0] <= elapsed < outage[1]:
            pid = server.pid
            assert pid is not None
            os.kill(pid, signal.SIGINT)  # fast shutdown: the database is unreachable
            down = True
        elif down and elapsed >= outage[1]:
            await asyncio.to_thread(server.ensure_running)
            down = False
        await producer.submit(batch.take(np.arange(k * size, (k + 1) * size)), "CAMPO-DEMO-LLANOS")
        max_depth = max(max_depth, spool.depth_batches)
    if down:
        await asyncio.to_thread(server.ensure_running)
    assert await producer.wait_drained(120)
    deadline = time.monotonic() + 120
    while pipeline.stats.offered < len(batch) and time.monotonic() < deadline:  # noqa: ASYNC110 - progress counter polled; bounded
        await asyncio.sleep(0.05)
    pipeline.stop()
    await writer
    await producer.stop()
    spool.close()
    assert max_depth > 100, "the spool must have grown while the database was down"
    assert spool_was_replayed(producer)
    assert published == sorted(published), "batches must reach the bus in the order produced"
    assert len(published) == total_batches
    with db.connect() as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (series_id, time)), sum(value) FROM telemetry"
        ).fetchone()
    assert row is not None
    assert row[0] == row[1] == len(batch)
    assert row[2] == pytest.approx(float(batch.value.sum()), rel=1e-12)


def spool_was_replayed(producer: SpoolingProducer) -> bool:
    return producer.stats.replayed > 0 and producer.stats.spooled == producer.stats.replayed
