"""Ingest and bus metrics, set by the real code paths (real PostgreSQL and Redis).

- ``ingest_newest_reading_timestamp_seconds{field_id}``: the writer, after each commit; a
  replay of older readings does not lower it;
- ``bus_pending_entries{shard}`` / ``bus_stream_lag_entries{shard}``: the worker's sampler,
  from XINFO GROUPS; and the same from a real ``anh-reporter worker`` process's
  ``/metrics`` on ``ANH_METRICS__PORT``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from anh_reporter.bus.memory import MemoryBus
from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.config import IngestSettings
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import to_us
from anh_reporter.ingest.pipeline import IngestPipeline
from anh_reporter.observability import metrics
from anh_reporter.observability.metrics import REGISTRY
from anh_reporter.runtime.worker import sample_backlog
from anh_reporter.site import load_site
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from ..conftest import EXAMPLE_SITE, REDIS_URL

FIELD = "CAMPO-DEMO-LLANOS"
RATE = f"{FIELD}.PMO-LACT-01.oil_rate"
NOW = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 11, 27, 11, tzinfo=dt.UTC)
# 100 readings 0.1 s apart from 11:00:00: the newest is at 11:00:09.9.
NEWEST = dt.datetime(2026, 11, 27, 11, 0, 9, 900_000, tzinfo=dt.UTC).timestamp()


def _loaded(db: Database) -> tuple[int, str]:
    """The example site; the oil rate series' id and its field's id (as a label)."""
    with db.connect() as conn:
        load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
        row = next(r for r in list_series(conn) if r.code == RATE)
        field = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert field is not None
    return row.id, str(field[0])


def _readings(series: int, start: dt.datetime, n: int = 100) -> Batch:
    t = to_us(start) + np.arange(n, dtype=np.int64) * 100_000
    return Batch.of(np.full(n, series), t, np.full(n, 12_000.0), source="test")


async def _write(db: Database, batch: Batch) -> IngestPipeline:
    bus = MemoryBus()
    settings = IngestSettings(flush_deadline_ms=20, future_tolerance_s=1e9)
    pipeline = IngestPipeline(db, bus, settings, clock=lambda: NOW.timestamp())
    await bus.publish(batch, FIELD)
    task = asyncio.create_task(pipeline.run())
    pipeline.stop()  # takes what the bus holds, writes it, returns
    await task
    return pipeline


async def test_a_commit_sets_the_newest_reading_timestamp_of_its_field(db: Database) -> None:
    metrics.forget(metrics.ingest_newest_reading_timestamp)
    series, field = _loaded(db)
    name = "ingest_newest_reading_timestamp_seconds"

    written = await _write(db, _readings(series, T0))
    assert written.stats.written == 100
    assert REGISTRY.get_sample_value(name, {"field_id": field}) == NEWEST

    # Older readings (a drained spool, a redelivery) do not make the newest look older.
    older = await _write(db, _readings(series, T0 - dt.timedelta(hours=1)))
    assert older.stats.written == 100
    assert REGISTRY.get_sample_value(name, {"field_id": field}) == NEWEST


async def test_the_sampler_sets_pending_and_lag_per_shard(prefix: str) -> None:
    producer = RedisStreamsBus(REDIS_URL, prefix=prefix)
    consumer = RedisStreamsBus(REDIS_URL, prefix=prefix, shards=["S-A"], consumer="c1")
    try:
        for i in range(3):
            await producer.publish(Batch.of([1], [i], [1.0], source="t"), "S-A")
        await producer.publish(Batch.of([1], [0], [1.0], source="t"), "S-B")
        taken = await consumer.consume(1, 1.0)
        assert len(taken) == 1

        await sample_backlog(consumer)
        # S-A: 3 published, 1 delivered and not acked -> pending 1, not delivered 2.
        assert _gauges("S-A") == (1.0, 2.0)
        # S-B has no group yet (no consumer of it has read): no series rather than a guess.
        assert _gauges("S-B") == (None, None)

        await consumer.ack(taken)
        await sample_backlog(consumer)
        assert _gauges("S-A") == (0.0, 2.0)  # acked and deleted; 2 still waiting
    finally:
        await consumer.close()
        await producer.close()


def _gauges(shard: str) -> tuple[float | None, float | None]:
    labels = {"shard": shard}
    return (
        REGISTRY.get_sample_value("bus_pending_entries", labels),
        REGISTRY.get_sample_value("bus_stream_lag_entries", labels),
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _publish(prefix: str, batch: Batch, shard: str) -> None:
    producer = RedisStreamsBus(REDIS_URL, prefix=prefix)
    try:
        await producer.publish(batch, shard)
    finally:
        await producer.close()


def test_a_worker_process_serves_the_bus_and_ingest_metrics(db: Database, prefix: str) -> None:
    series, field = _loaded(db)
    asyncio.run(_publish(prefix, _readings(series, T0), FIELD))
    port = _free_port()
    env = {
        **os.environ,
        "ANH_DATABASE_URL": db.url,
        "ANH_REDIS_URL": REDIS_URL,
        "ANH_REDIS_PREFIX": prefix,
        "ANH_METRICS__PORT": str(port),
        "ANH_METRICS__HOST": "127.0.0.1",
        "ANH_WORKER__CLAIM_IDLE_MS": "1000",  # the sampler runs every 0.5 s
        "ANH_INGEST__FLUSH_DEADLINE_MS": "50",
        "ANH_INGEST__FUTURE_TOLERANCE_S": "1e9",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "anh_reporter", "worker", "--consumer", "metrics-w"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    shard = (("shard", FIELD),)
    want = {
        ("ingest_newest_reading_timestamp_seconds", (("field_id", field),)): NEWEST,
        ("bus_pending_entries", shard): 0.0,  # written and acknowledged
        ("bus_stream_lag_entries", shard): 0.0,  # nothing left to deliver
    }
    seen: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    try:
        deadline = time.monotonic() + 180  # a guard against hanging (process start-up)
        while {k: seen.get(k) for k in want} != want:
            if worker.poll() is not None or time.monotonic() > deadline:
                output = worker.stdout.read() if worker.stdout else ""
                pytest.fail(f"worker metrics never reached {want}; last {seen}\n{output}")
            time.sleep(0.2)  # polls the scrape, like Prometheus would; asserts no timing
            try:
                seen = _scrape(port)
            except OSError:  # not listening yet
                continue
    finally:
        worker.terminate()
        worker.communicate(timeout=60)
    assert worker.returncode == 0
