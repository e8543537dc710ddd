"""The store-and-forward spool and the producer that replays it: order, cap, alarm, nothing lost."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from anh_reporter.bus.memory import MemoryBus
from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.collect.forwarder import SpoolingProducer
from anh_reporter.collect.spool import Spool, SpoolError, SpoolFullError
from anh_reporter.config import IngestSettings, Settings
from anh_reporter.domain.batch import Batch
from anh_reporter.observability.metrics import REGISTRY
from tests.conftest import unavailable

N = 10  # readings per test batch


def batch(tag: int, n: int = N) -> Batch:
    """``n`` readings whose values all equal ``tag``, with distinct (series, time) keys."""
    return Batch.of(np.arange(n), np.full(n, 1_000 * tag), np.full(n, float(tag)), source="t")


BATCH_BYTES = len(batch(0).to_bytes())


def tags(batches: list[Batch]) -> list[int]:
    return [int(b.value[0]) for b in batches]


def gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


def test_order_and_contents_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path, max_bytes=1 << 20)
    exact = Batch.of([1, 2], [-5, 2**62], [np.nan, -0.0], [0x80310000, 0], source="señal")
    seqs = [spool.append(exact, "F1")] + [spool.append(batch(t), "F2") for t in range(1, 5)]
    assert seqs == sorted(seqs)
    spool.close()

    spool = Spool(path, max_bytes=1 << 20)
    assert (spool.depth_batches, spool.depth_bytes) == (5, len(exact.to_bytes()) + 4 * BATCH_BYTES)
    later = [spool.append(batch(t), "F1") for t in range(5, 8)]
    assert later[0] > seqs[-1]
    waiting = spool.peek(100)
    assert [w.seq for w in waiting] == seqs + later
    assert waiting[0].batch.to_bytes() == exact.to_bytes() and waiting[0].shard == "F1"
    assert tags([w.batch for w in waiting[1:]]) == list(range(1, 8))
    spool.remove([w.seq for w in waiting[:3]])
    assert spool.peek(1)[0].seq == seqs[3]  # peek does not remove
    spool.close()

    spool = Spool(path, max_bytes=1 << 20)
    assert tags([w.batch for w in spool.peek(100)]) == [3, 4, 5, 6, 7]
    assert (spool.depth_batches, spool.depth_bytes) == (5, 5 * BATCH_BYTES)
    spool.remove([w.seq for w in spool.peek(100)])
    spool.close()

    spool = Spool(path, max_bytes=1 << 20)
    assert spool.append(batch(8), "F1") > later[-1]  # sequence numbers are never reused
    spool.close()


def test_one_process_owns_a_spool_file(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path, max_bytes=1 << 20)
    with pytest.raises(SpoolError, match="another process"):
        Spool(path, max_bytes=1 << 20)
    spool.close()


def test_appending_past_the_cap_is_refused_and_nothing_is_dropped(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite3", max_bytes=3 * BATCH_BYTES + 10)
    for t in range(3):
        spool.append(batch(t), "F1")
    with pytest.raises(SpoolFullError) as caught:
        spool.append(batch(3), "F1")
    message = str(caught.value)
    assert f"holds {3 * BATCH_BYTES:,} bytes" in message
    assert f"a batch of {BATCH_BYTES:,} bytes" in message
    assert f"cap of {3 * BATCH_BYTES + 10:,} bytes" in message
    assert "ANH_INGEST__SPOOL_MAX_BYTES" in message
    assert tags([w.batch for w in spool.peek(10)]) == [0, 1, 2]
    spool.remove([spool.peek(1)[0].seq])
    spool.append(batch(3), "F1")
    assert tags([w.batch for w in spool.peek(10)]) == [1, 2, 3]
    spool.close()


def test_alarm_is_raised_once_per_crossing_and_published_as_gauges(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="anh_reporter.collect.spool")
    spool = Spool(tmp_path / "s.sqlite3", max_bytes=10 * BATCH_BYTES, alarm_ratio=0.5)
    assert not spool.alarm and gauge("ingest_spool_alarm") == 0
    for t in range(4):
        spool.append(batch(t), "F1")
    assert not spool.alarm and spool.fill_ratio == pytest.approx(0.4)
    for t in range(4, 8):  # crosses 50 % at the fifth batch
        spool.append(batch(t), "F1")
    assert spool.alarm and gauge("ingest_spool_alarm") == 1
    assert gauge("ingest_spool_depth_batches") == 8
    assert gauge("ingest_spool_depth_bytes") == 8 * BATCH_BYTES

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]

    assert len(warnings()) == 1 and "50% full" in warnings()[0]
    spool.remove([w.seq for w in spool.peek(4)])  # 40 %: below the alarm ratio
    assert not spool.alarm and gauge("ingest_spool_alarm") == 0
    assert gauge("ingest_spool_depth_batches") == 4
    spool.append(batch(8), "F1")
    assert spool.alarm and len(warnings()) == 2  # a second crossing, a second warning
    spool.close()


def test_spool_from_settings_lives_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        ingest=IngestSettings(spool_max_bytes=2 << 20, spool_alarm_ratio=0.9),
    )
    spool = Spool.from_settings(settings)
    assert spool.path == tmp_path / "spool" / "spool.sqlite3"
    assert (spool.max_bytes, spool.alarm_ratio) == (2 << 20, 0.9)
    spool.close()


async def test_producer_spools_while_the_bus_refuses_and_drains_in_order(tmp_path: Path) -> None:
    bus = MemoryBus(max_pending_readings=3 * N)  # the "database" is down: nothing is acked
    spool = Spool(tmp_path / "s.sqlite3", max_bytes=1 << 20)
    producer = SpoolingProducer(bus, spool, backoff_initial_s=0.01, backoff_max_s=0.05)
    producer.start()
    total = 40
    for t in range(total):
        await producer.submit(batch(t), "F1")
    assert (producer.stats.published, producer.stats.spooled) == (3, total - 3)
    assert spool.depth_batches == total - 3
    await asyncio.sleep(0.1)  # the replay loop retries, the bus keeps refusing
    assert spool.depth_batches == total - 3 and producer.stats.replayed == 0

    received: list[int] = []

    async def writer() -> None:  # the database is back: the writer consumes and acks
        while len(received) < total:
            got = await bus.consume(4, 0.05)
            received.extend(tags([d.batch for d in got]))
            await bus.ack(got)

    await asyncio.wait_for(writer(), 20)
    assert await producer.wait_drained(5)
    assert received == list(range(total))  # nothing lost, nothing twice, in order
    assert producer.stats.replayed == total - 3
    assert spool.depth_batches == 0 and spool.depth_bytes == 0
    await producer.submit(batch(total), "F1")  # the spool is empty again: straight to the bus
    assert producer.stats.published == 4
    await producer.stop()
    spool.close()


async def test_a_restarted_producer_replays_what_the_last_one_left_first(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    spool = Spool(path, max_bytes=1 << 20)
    for t in range(3):
        spool.append(batch(t), "F1")
    spool.close()

    spool = Spool(path, max_bytes=1 << 20)
    bus = MemoryBus()
    producer = SpoolingProducer(bus, spool, backoff_initial_s=0.01)
    await producer.submit(batch(3), "F1")  # the spool is not empty: this waits its turn
    assert producer.stats.spooled == 1 and producer.stats.published == 0
    producer.start()
    assert await producer.wait_drained(10)
    got = await bus.consume(10, 0.1)
    assert tags([d.batch for d in got]) == [0, 1, 2, 3]
    await producer.stop()
    spool.close()


async def test_a_full_spool_refuses_the_batch_to_the_caller(tmp_path: Path) -> None:
    bus = MemoryBus(max_pending_readings=N)
    spool = Spool(tmp_path / "s.sqlite3", max_bytes=2 * BATCH_BYTES)
    producer = SpoolingProducer(bus, spool)
    await producer.submit(batch(0), "F1")
    await producer.submit(batch(1), "F1")
    await producer.submit(batch(2), "F1")
    with pytest.raises(SpoolFullError):
        await producer.submit(batch(3), "F1")
    assert (producer.stats.published, producer.stats.spooled, producer.stats.refused) == (1, 2, 1)
    spool.close()


# -- a real Redis server that the test stops and starts ------------------------------------


class RedisServer:
    """A private redis-server on a free port, without persistence, that can go away."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server", "the binary is not on PATH")
        self.binary = str(binary)
        self.workdir = workdir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        options = {"port": str(self.port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        args = [self.binary, "--dir", str(self.workdir)]
        for name, value in options.items():
            args += [f"--{name}", value]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        for _ in range(500):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.01)
        raise RuntimeError(f"redis-server did not listen on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()


async def test_producer_rides_out_a_redis_outage(tmp_path: Path, redis_server: RedisServer) -> None:
    producer_bus = RedisStreamsBus(redis_server.url, connect_timeout_s=0.5, socket_timeout_s=1)
    spool = Spool(tmp_path / "s.sqlite3", max_bytes=1 << 20)
    producer = SpoolingProducer(producer_bus, spool, backoff_initial_s=0.02, backoff_max_s=0.2)
    producer.start()
    for t in range(10):  # Redis is not running yet
        await producer.submit(batch(t), "F1")
    assert (producer.stats.published, producer.stats.spooled) == (0, 10)

    redis_server.start()
    assert await producer.wait_drained(20)
    writer = RedisStreamsBus(redis_server.url, shards=["F1"], consumer="w")
    received: list[int] = []
    while len(received) < 10:
        got = await writer.consume(4, 1.0)
        received.extend(tags([d.batch for d in got]))
        await writer.ack(got)
    for t in range(10, 15):  # Redis is back: straight through
        await producer.submit(batch(t), "F1")
    assert producer.stats.published == 5
    while len(received) < 15:
        got = await writer.consume(4, 1.0)
        received.extend(tags([d.batch for d in got]))
        await writer.ack(got)
    await writer.close()

    redis_server.stop()  # down again, having lost nothing: every entry was acked
    for t in range(15, 25):
        await producer.submit(batch(t), "F1")
    assert spool.depth_batches == 10
    redis_server.start()
    assert await producer.wait_drained(20)
    writer = RedisStreamsBus(redis_server.url, shards=["F1"], consumer="w2")
    while len(received) < 25:
        got = await writer.consume(4, 1.0)
        received.extend(tags([d.batch for d in got]))
        await writer.ack(got)
    await writer.close()
    assert received == list(range(25))
    assert (producer.stats.published, producer.stats.replayed) == (5, 20)
    await producer.stop()
    await producer_bus.close()
    spool.close()
