"""``anh-reporter worker`` as real processes on the real Redis and PostgreSQL.

Two workers share two streams (shards), one each (shard affinity); one is killed (SIGKILL)
while it holds entries it has not acknowledged; the other takes over its shard, claims those
entries and reads the new ones. Every reading lands exactly once (count and sum), the streams
end empty, and the group's consumer names do not pile up: the killed worker's name is
forgotten, the survivor's is deleted when it stops cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import redis

from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.domain.batch import Batch
from anh_reporter.site import load_site
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into
from tests.conftest import EXAMPLE_SITE, REDIS_URL

# Dealt in name order: "survivor" < "victim" takes the first shard, the victim the second.
SHARDS = ("CAMPO-DEMO-LLANOS", "CAMPO-DEMO-LLANOS-B")
GROUP = "writers"


STARTUP_S = 180
MAX_BACKLOG = 100  # batches waiting in the stream while the workers start


def wait_for(what: str, check: Callable[[], Any], timeout_s: float, every_s: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after the timeout."""
    end = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(every_s)


def start_worker(
    db: Database, prefix: str, name: str, *, flush_deadline_ms: int = 100
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "ANH_DATABASE_URL": db.url,
        "ANH_REDIS_URL": REDIS_URL,
        "ANH_REDIS_PREFIX": prefix,
        "ANH_WORKER__CLAIM_IDLE_MS": "1000",
        "ANH_WORKER__FORGET_IDLE_MS": "1500",
        "ANH_INGEST__FLUSH_DEADLINE_MS": str(flush_deadline_ms),
        "ANH_INGEST__FLUSH_ROWS": "1000000",
        "ANH_INGEST__FUTURE_TOLERANCE_S": "1e9",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "anh_reporter", "worker", "--consumer", name],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def idle_ms(client: redis.Redis, key: str, name: str) -> float:
    """How long ``name`` has not read ``key`` (inf when it never did)."""
    try:
        rows = client.xinfo_consumers(key, GROUP)
    except redis.ResponseError:
        return float("inf")
    return next((float(r["idle"]) for r in rows if r["name"].decode() == name), float("inf"))


def consumers(client: redis.Redis, key: str) -> dict[str, int]:
    """Consumer name -> pending entries, in the group of ``key``."""
    try:
        rows = client.xinfo_consumers(key, GROUP)
    except redis.ResponseError:
        return {}
    return {r["name"].decode(): int(r["pending"]) for r in rows}


def alive(*procs: subprocess.Popen[str]) -> bool:
    """True while every process runs; fails with the output of one that exited."""
    for proc in procs:
        if proc.poll() is not None:
            out, _ = proc.communicate()
            pytest.fail(f"a worker exited with {proc.returncode}: {out[-2000:]}")
    return True


def totals(db: Database) -> tuple[int, float]:
    with db.connect() as conn:
        row = conn.execute("SELECT count(*), coalesce(sum(value), 0) FROM telemetry").fetchone()
    assert row is not None
    return int(row[0]), float(row[1])


def test_two_workers_serve_a_shard_each_and_the_survivor_takes_over_a_killed_ones(
    db: Database, prefix: str
) -> None:
    with db.connect() as conn:
        load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
        fits = [r.id for r in list_series(conn) if r.range_lo <= 0 and r.range_hi >= 100]
        sids = np.array(fits[:8], dtype=np.int64)
    assert len(sids) == 8
    per_batch, tail = 200, 40
    rng = np.random.default_rng(5)
    t0 = (int(time.time()) // 3600 * 3600 - 3 * 86_400) * 1_000_000
    keys = [f"{prefix}:ingest:{shard}" for shard in SHARDS]
    key = keys[1]  # the victim's
    members = f"{prefix}:ingest:members:{GROUP}"
    client = redis.Redis.from_url(REDIS_URL)

    # The victim commits only every 3 s, so it holds unacknowledged entries most of the time.
    victim = start_worker(db, prefix, "victim", flush_deadline_ms=3000)
    survivor = start_worker(db, prefix, "survivor")
    killed = threading.Event()
    published = threading.Event()
    sent: list[np.ndarray] = []

    def produce() -> None:
        """Publish until the victim has been killed, then ``tail`` batches more: however the
        workers' start-up and reads interleave, the victim gets entries to hold (with a fixed
        number of batches, the survivor could take them all before the victim first reads)."""
        import asyncio

        async def run() -> None:
            bus = RedisStreamsBus(REDIS_URL, prefix=prefix)
            backlog = redis.Redis.from_url(REDIS_URL)
            i, left = 0, tail
            while left > 0:
                if sum(map(backlog.xlen, keys)) >= MAX_BACKLOG:  # the workers are starting
                    await asyncio.sleep(0.05)
                    continue
                values = np.round(rng.uniform(0.0, 100.0, per_batch), 3)
                rows = np.arange(i * per_batch, (i + 1) * per_batch)
                batch = Batch.of(sids[rows % len(sids)], t0 + (rows // len(sids)) * 1_000_000,
                                 values, source="test")  # fmt: skip
                await bus.publish(batch, SHARDS[i % 2])
                sent.append(values)
                i += 1
                if killed.is_set():
                    left -= 1
                await asyncio.sleep(0.01)
            await bus.close()
            backlog.close()

        asyncio.run(run())
        published.set()

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        # Bounds, not sleeps: two Python processes importing the app can take a minute or
        # more to start on a loaded 2-core machine.
        wait_for(
            "both workers to join the group",
            lambda: (
                alive(victim, survivor)
                and {b"victim", b"survivor"} <= set(client.zrange(members, 0, -1))
            ),
            STARTUP_S,
        )
        # Affinity in force: the survivor has stopped reading the victim's shard (it may have
        # read it while it was alone) and the victim holds entries there.
        held = wait_for(
            "the victim to hold entries of its shard, which the survivor no longer reads",
            lambda: (
                idle_ms(client, key, "survivor") > 3_000 and consumers(client, key).get("victim", 0)
            ),
            STARTUP_S,
        )
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed.set()
        held = consumers(client, key).get("victim", 0)
        assert held > 0, "the victim acknowledged everything before it died"
        producer.join(60)
        assert published.is_set()

        values = np.concatenate(sent)
        total = len(values)
        wait_for("every reading in the database", lambda: totals(db)[0] >= total, 60, 0.2)
        count, value_sum = totals(db)
        assert count == total
        assert value_sum == pytest.approx(float(values.sum()), rel=1e-9)
        wait_for("the streams to empty", lambda: sum(map(client.xlen, keys)) == 0, 30)
        # The killed worker's name goes once it holds nothing and has been idle long enough.
        wait_for(
            "the killed worker's name to be forgotten",
            lambda: all("victim" not in consumers(client, k) for k in keys),
            30,
        )
        wait_for(
            "the killed worker to leave the members",
            lambda: client.zrange(members, 0, -1) == [b"survivor"],
            30,
        )
        assert sum(sum(consumers(client, k).values()) for k in keys) == 0
    finally:
        killed.set()  # the producer ends after its tail, whatever happened
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        producer.join(60)
    out, _ = survivor.communicate(timeout=30)
    assert survivor.returncode == 0, out
    assert all("survivor" not in consumers(client, k) for k in keys), out  # on SIGTERM
    assert client.zrange(members, 0, -1) == [], out  # left the members' set
    assert totals(db) == (count, value_sum)  # nothing written twice or after
    client.close()
