"""The writer loop on a real database: flushes, quarantine, idempotent replays, live fan-out."""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np

from anh_reporter.bus.memory import MemoryBus
from anh_reporter.config import IngestSettings
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import to_us
from anh_reporter.ingest.pipeline import IngestPipeline
from anh_reporter.site import load_site
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from ..conftest import EXAMPLE_SITE

NOW = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)


def loaded(db: Database) -> dict[str, int]:
    with db.connect() as conn:
        load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
        return {r.code: r.id for r in list_series(conn)}


async def run_until_idle(pipeline: IngestPipeline, bus: MemoryBus) -> None:
    task = asyncio.create_task(pipeline.run())
    for _ in range(500):
        await asyncio.sleep(0.02)
        if bus.pending_readings == 0:
            break
    pipeline.stop()
    await task


async def test_writes_quarantines_and_replays(db: Database) -> None:
    ids = loaded(db)
    bsw = ids["CAMPO-DEMO-LLANOS.PMO-LACT-01.bsw"]
    rate = ids["CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate"]
    t0 = to_us(NOW) - 3_600_000_000
    n = 10_000
    t = t0 + np.arange(n, dtype=np.int64) * 100_000
    values = np.full(n, 12_000.0)
    values[17] = -5.0  # below the range [0, 25000]
    bus = MemoryBus()
    settings = IngestSettings(flush_rows=3_000, flush_deadline_ms=50)
    pipeline = IngestPipeline(
        db, bus, settings, clock=lambda: NOW.timestamp(), max_batches_per_take=2
    )
    live = bus.subscribe("CAMPO-DEMO-LLANOS")
    first_live = asyncio.ensure_future(anext(live))
    await asyncio.sleep(0)
    batch = Batch.of(np.full(n, rate), t, values, source="test")
    for part in np.array_split(np.arange(n), 10):
        await bus.publish(batch.take(part), "CAMPO-DEMO-LLANOS")
    await bus.publish(
        Batch.of([bsw, 99999], [t0, t0], [0.4, 1.0], source="test"), "CAMPO-DEMO-LLANOS"
    )
    await run_until_idle(pipeline, bus)
    assert pipeline.stats.written == n - 1 + 1
    assert pipeline.stats.rejected == {"out_of_range": 1, "unknown_series": 1}
    assert pipeline.stats.flushes >= 2  # 10,002 readings do not fit one 3,000-row flush
    received = await asyncio.wait_for(first_live, 5)
    assert len(received) > 0
    with db.connect() as conn:
        count = conn.execute("SELECT count(*), sum(value) FROM telemetry").fetchone()
        quarantine = conn.execute(
            "SELECT reason, series_id, value, message FROM quarantine ORDER BY reason"
        ).fetchall()
    assert count == (n, 12_000.0 * (n - 1) + 0.4)
    assert quarantine[0][:3] == ("out_of_range", rate, -5.0)
    assert "outside the engineering range [0, 25000]" in quarantine[0][3]
    assert quarantine[1][:2] == ("unknown_series", 99999)

    # A replay of everything changes nothing and raises nothing.
    replay = IngestPipeline(db, bus, settings, clock=lambda: NOW.timestamp())
    await bus.publish(batch, "CAMPO-DEMO-LLANOS")
    await run_until_idle(replay, bus)
    assert replay.stats.written == 0 and replay.stats.duplicates == n - 1
    with db.connect() as conn:
        again = conn.execute("SELECT count(*), sum(value) FROM telemetry").fetchone()
    assert again == count


async def test_light_traffic_is_flushed_on_the_deadline(db: Database) -> None:
    ids = loaded(db)
    rate = ids["CAMPO-DEMO-LLANOS.PMO-GAS-01.gas_rate"]
    bus = MemoryBus()
    settings = IngestSettings(flush_rows=100_000, flush_deadline_ms=100)
    pipeline = IngestPipeline(db, bus, settings, clock=lambda: NOW.timestamp())
    task = asyncio.create_task(pipeline.run())
    await bus.publish(Batch.of([rate], [to_us(NOW) - 1], [1500.0]), "F")
    for _ in range(200):  # far below flush_rows: only the deadline can flush it
        await asyncio.sleep(0.02)
        if pipeline.stats.flushes:
            break
    assert pipeline.stats.written == 1
    pipeline.stop()
    await task
