"""Two writers on one Redis stream under slow writes, and redelivered batches, on the real
Redis and PostgreSQL.

- A live writer stuck in a slow write keeps the entries it holds (at most ``max_rows_held``
  readings) from being claimed by the other writer, however long it takes; entries a consumer
  stopped keeping alive (it died) are still claimed. Every reading is written once: no
  duplicates in either writer's totals.
- A batch delivered again (whole, or overlapping what is stored, before or after it) writes
  each reading once and leaves the hourly rollups exactly those of one write, without
  recomputing the series-hours of a batch that was stored already.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import redis

from anh_reporter.bus.base import Delivery
from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.config import IngestSettings
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import US_PER_SECOND
from anh_reporter.ingest.pipeline import IngestPipeline
from anh_reporter.ingest.quarantine import QuarantineRow
from anh_reporter.site import load_site
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from ..conftest import EXAMPLE_SITE, REDIS_URL

SHARD = "CAMPO-DEMO-LLANOS"
CLAIM_IDLE_MS = 1_000
PER_BATCH = 500


def series_ids(db: Database, n: int) -> list[int]:
    """``n`` series of the example site whose range holds 0..1000."""
    with db.connect() as conn:
        load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
        fits = [r.id for r in list_series(conn) if r.range_lo <= 0 and r.range_hi >= 1000]
    assert len(fits) >= n
    return fits[:n]


def hour_start_us(days_ago: int) -> int:
    """The start of an hour ``days_ago`` days back (µs): no future, one week partition."""
    return (int(time.time()) // 3600 * 3600 - days_ago * 86_400) * US_PER_SECOND


async def until(what: str, check: Callable[[], Any], timeout_s: float = 60.0) -> None:
    """Wait for ``check()`` to hold; fail naming ``what`` after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not check():
        if loop.time() > end:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.02)


class HeldPipeline(IngestPipeline):
    """A writer whose database writes wait for ``gate``: a write that takes as long as we like."""

    def __init__(self, *args: Any, gate: threading.Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = gate
        self.writing = threading.Event()

    def _write_sync(self, good: Batch, qrows: list[QuarantineRow], *rest: Any) -> int:
        self.writing.set()
        if not self.gate.wait(120):
            raise AssertionError("the test never released the held write")
        return super()._write_sync(good, qrows, *rest)


def totals(db: Database) -> tuple[int, float]:
    with db.connect() as conn:
        row = conn.execute("SELECT count(*), coalesce(sum(value), 0) FROM telemetry").fetchone()
    assert row is not None
    return int(row[0]), float(row[1])


async def test_a_slow_live_writer_keeps_its_entries_and_a_dead_ones_are_claimed(
    db: Database, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = series_ids(db, 1)[0]
    t0 = hour_start_us(3)
    batches = 2 + 12  # 2 for a consumer that dies, then 12 for the two writers
    n = batches * PER_BATCH
    times = t0 + np.arange(n, dtype=np.int64) * US_PER_SECOND // 10
    values = (np.arange(n) % 1000).astype(np.float64)  # integers: the sum is exact
    settings = IngestSettings(flush_rows=1_000, flush_deadline_ms=50, future_tolerance_s=0)

    def bus(consumer: str | None = None) -> RedisStreamsBus:
        return RedisStreamsBus(
            REDIS_URL,
            prefix=prefix,
            shards=[SHARD] if consumer else None,
            consumer=consumer,
            claim_idle_ms=CLAIM_IDLE_MS,
        )

    async def publish(producer: RedisStreamsBus, first: int, last: int) -> None:
        for i in range(first, last):
            part = slice(i * PER_BATCH, (i + 1) * PER_BATCH)
            await producer.publish(
                Batch.of(np.full(PER_BATCH, sid), times[part], values[part]), SHARD
            )

    producer, slow_bus, other_bus, dead_bus = bus(), bus("slow"), bus("other"), bus("dead")
    client = redis.Redis.from_url(REDIS_URL)
    key = f"{prefix}:ingest:{SHARD}"
    rounds = 0
    keep_alive = slow_bus.keep_alive

    async def counted(deliveries: list[Delivery]) -> int:
        nonlocal rounds
        kept = await keep_alive(deliveries)
        rounds += kept > 0
        return kept

    monkeypatch.setattr(slow_bus, "keep_alive", counted)
    gate = threading.Event()
    slow = HeldPipeline(db, slow_bus, settings, drain_on_stop=False, gate=gate)
    other = IngestPipeline(db, other_bus, settings, drain_on_stop=False)
    assert slow.max_rows_held == 2_000  # 2 x flush_rows by default
    tasks: list[asyncio.Task[None]] = []
    try:
        # A consumer that takes two batches and dies (no keep-alive, no ack).
        await publish(producer, 0, 2)
        taken = await dead_bus.consume(2, 5.0)
        assert len(taken) == 2
        await dead_bus.close()
        await publish(producer, 2, batches)
        tasks.append(asyncio.create_task(slow.run()))
        await asyncio.to_thread(slow.writing.wait, 60)
        assert slow.writing.is_set()
        tasks.append(asyncio.create_task(other.run()))

        def held_by(name: str) -> list[tuple[Any, int]]:
            rows = client.xpending_range(key, "writers", "-", "+", 1_000, name)
            return [(r["message_id"], r["times_delivered"]) for r in rows]

        # The slow writer holds at most max_rows_held readings; the other writes the rest,
        # the dead consumer's batches included once they have been idle CLAIM_IDLE_MS.
        held = held_by("slow")
        assert 0 < len(held) * PER_BATCH <= slow.max_rows_held
        rest = n - len(held) * PER_BATCH
        await until("the other writer to write the rest", lambda: other.stats.written >= rest)
        assert not held_by("dead")
        # Held longer than the claim time, several times over: kept alive, never claimed.
        await until("four keep-alive rounds of the slow writer", lambda: rounds >= 4)
        assert held_by("slow") == held  # same entries, delivered no more often
        assert other.stats.written == rest and other.stats.duplicates == 0

        gate.set()  # the slow write completes: written and acknowledged once
        await until("the slow writer's flushes", lambda: not held_by("slow"), 120)
    finally:
        gate.set()
        slow.stop()
        other.stop()
        await asyncio.gather(*tasks)
        for b in (producer, slow_bus, other_bus, dead_bus):
            await b.close()
    assert slow.stats.written == len(held) * PER_BATCH
    assert slow.stats.duplicates == other.stats.duplicates == 0
    assert totals(db) == (n, float(values.sum()))
    assert client.xlen(key) == 0
    assert client.xpending(key, "writers")["pending"] == 0
    client.close()


HOURLY_SQL = (
    "SELECT series_id, count, good_count, avg, min, max, integral, first_time, first_value, "
    "last_time, last_value FROM telemetry_hourly ORDER BY series_id"
)


async def test_redelivered_batches_are_written_once_and_rollups_equal_one_write(
    db: Database, prefix: str
) -> None:
    a, b = series_ids(db, 2)
    hour = hour_start_us(2)
    k = np.arange(360)
    at = hour + k * 10 * US_PER_SECOND  # one reading every 10 s over the whole hour

    def part(sid: int, scale: float, lo: int, hi: int) -> Batch:
        return Batch.of(np.full(hi - lo, sid), at[lo:hi], scale * k[lo:hi].astype(np.float64))

    # Series a: readings 0..199, then 100..359 (the new ones after the stored ones);
    # series b: readings 100..359, then 0..199 (the new ones before the stored ones).
    deliveries = [
        [part(a, 1.0, 0, 200), part(b, 2.0, 100, 360)],
        [part(a, 1.0, 100, 360), part(b, 2.0, 0, 200)],
        [part(a, 1.0, 0, 360), part(b, 2.0, 0, 360)],  # everything again: all stored
    ]
    producer = RedisStreamsBus(REDIS_URL, prefix=prefix)
    consumer = RedisStreamsBus(REDIS_URL, prefix=prefix, shards=[SHARD], consumer="w")
    commits: asyncio.Queue[int] = asyncio.Queue()
    pipeline = IngestPipeline(
        db,
        consumer,
        IngestSettings(flush_rows=100_000, flush_deadline_ms=50),
        on_commit=[lambda ds, good, at: commits.put_nowait(len(good))],
        drain_on_stop=False,
    )
    task = asyncio.create_task(pipeline.run())
    stamps: list[list[dt.datetime]] = []
    try:
        for batches in deliveries:
            offered = 0
            for batch in batches:
                await producer.publish(batch, SHARD)
                offered += len(batch)
            while offered:
                offered -= await asyncio.wait_for(commits.get(), 60)
            assert offered == 0  # each delivery flushed on its own
            with db.connect() as conn:
                rows = conn.execute(
                    "SELECT updated_at FROM telemetry_hourly ORDER BY series_id"
                ).fetchall()
            stamps.append([r[0] for r in rows])
    finally:
        pipeline.stop()
        await task
        await producer.close()
        await consumer.close()
    assert pipeline.stats.written == 2 * 360
    assert pipeline.stats.duplicates == (100 + 100) + 2 * 360
    # A batch stored already changes no rollup row (no recomputation of its series-hours).
    assert stamps[2] == stamps[1]
    with db.connect() as conn:
        count, total = conn.execute("SELECT count(*), sum(value) FROM telemetry").fetchone() or ()
        hourly = conn.execute(HOURLY_SQL).fetchall()
    sum_k = 359 * 360 // 2  # 64,620
    assert (count, total) == (720, 3.0 * sum_k)
    first = dt.datetime.fromtimestamp(hour / US_PER_SECOND, dt.UTC)
    last = first + dt.timedelta(seconds=3590)
    integral = 10 * 359**2 / 2  # trapezoids of 10 s between k and k + 1: 5 x (2k + 1)
    assert hourly == [
        (a, 360, 360, 179.5, 0.0, 359.0, integral, first, 0.0, last, 359.0),
        (b, 360, 360, 359.0, 0.0, 718.0, 2 * integral, first, 0.0, last, 718.0),
    ]


async def test_a_dead_writers_older_batches_flushed_with_new_ones_merge_without_recomputing(
    db: Database, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live writer wrote readings 200..299 (k every 10 s, value k); a dead writer took
    0..99 and never wrote them. The live writer's next flush holds both the claimed 0..99 and
    the new 300..359: written apart (the claimed first), each merges into the hourly rollup
    exactly (0..99 fills the gap before 200, 300..359 follows 299), and no hour is recomputed
    from the raw rows. Rollup by hand: 260 readings; integral 5 x 99^2 = 49,005 (0..99),
    + 149.5 x 1010 s = 150,995 (99 -> 200), + 5 x (359^2 - 200^2) = 444,405 (200..359):
    644,405; sum 4,950 + 44,720 = 49,670, avg 49,670 / 260."""
    from anh_reporter.storage import rollups

    recomputed: list[int] = []
    real = rollups.recompute
    monkeypatch.setattr(
        rollups, "recompute", lambda c, s, h: (recomputed.append(len(s)), real(c, s, h))[1]
    )
    (a,) = series_ids(db, 1)
    hour = hour_start_us(2)

    def part(lo: int, hi: int) -> Batch:
        k = np.arange(lo, hi)
        return Batch.of(np.full(hi - lo, a), hour + k * 10 * US_PER_SECOND, k.astype(np.float64))

    async def write(parts: list[Batch], claimed: int = 0) -> list[list[Delivery]]:
        """Publish ``parts``, run a live writer until they and ``claimed`` readings more are
        committed: its flushes."""
        live = RedisStreamsBus(
            REDIS_URL, prefix=prefix, shards=[SHARD], consumer="live", claim_idle_ms=300
        )
        commits: asyncio.Queue[list[Delivery]] = asyncio.Queue()
        pipeline = IngestPipeline(
            db,
            live,
            IngestSettings(flush_rows=100_000, flush_deadline_ms=3_000),
            on_commit=[lambda ds, good, at: commits.put_nowait(ds)],
            drain_on_stop=False,
        )
        task = asyncio.create_task(pipeline.run())
        flushes: list[list[Delivery]] = []
        try:
            for batch in parts:
                await producer.publish(batch, SHARD)
            while sum(len(d.batch) for ds in flushes for d in ds) < sum(map(len, parts)) + claimed:
                flushes.append(await asyncio.wait_for(commits.get(), 60))
        finally:
            pipeline.stop()
            await task
            await live.close()
        return flushes

    producer = RedisStreamsBus(REDIS_URL, prefix=prefix)
    dead = RedisStreamsBus(REDIS_URL, prefix=prefix, shards=[SHARD], consumer="dead")
    try:
        await write([part(200, 300)])
        await producer.publish(part(0, 100), SHARD)
        assert len(await dead.consume(1, 1.0)) == 1  # taken, never acknowledged
        client = redis.Redis.from_url(REDIS_URL)
        key = f"{prefix}:ingest:{SHARD}"
        await until(  # claimable: the live writer's first read claims it and reads 300..359
            "the dead writer's entry to be idle 300 ms",
            lambda: (
                client.xpending_range(key, "writers", "-", "+", 1)[0]["time_since_delivered"] >= 300
            ),
        )
        client.close()
        flushes = await write([part(300, 360)], claimed=100)
    finally:
        await producer.close()
        await dead.close()
    assert [sorted((len(d.batch), d.redelivered) for d in ds) for ds in flushes] == [
        [(60, False), (100, True)]
    ]  # one flush, both kinds
    assert recomputed == []
    with db.connect() as conn:
        hourly = conn.execute(HOURLY_SQL).fetchall()
    first = dt.datetime.fromtimestamp(hour / US_PER_SECOND, dt.UTC)
    last = first + dt.timedelta(seconds=3590)
    assert hourly == [
        (a, 260, 260, pytest.approx(49_670 / 260, rel=1e-15), 0.0, 359.0,
         pytest.approx(644_405.0, rel=1e-15), first, 0.0, last, 359.0),
    ]  # fmt: skip
