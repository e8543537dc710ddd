"""Redis bus throughput: batches per entry against one entry per reading, in the same run.

Pushes readings through the Redis Streams bus (publish, consume from the consumer group, ack =
XACK + XDEL) with batches of 1,000 and 10,000 readings per entry, producer and consumer running
concurrently in one process, and, as the baseline, the same readings as one stream entry per
reading (XADD pipelined 1,000 per round trip, XREADGROUP 1,000 at a time, XACK + XDEL), the
design ARCHITECTURE.md warns about. Prints the median readings/s of each and its ratio to the
baseline; the last line is JSON.

    python bench/bus.py [--readings 2000000] [--baseline-readings 200000] [--runs 3]

Redis: ANH_BENCH_REDIS_URL, else ANH_REDIS_URL, else redis://127.0.0.1:6379/15. Keys live
under a prefix of their own (``anhbench-<uuid>``) and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).parent))

from _common import median, report
from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.domain.batch import Batch

T0 = 1_764_547_200_000_000  # 2025-12-01T00:00:00Z
PER_READING = np.dtype([("s", "<i4"), ("t", "<i8"), ("v", "<f8"), ("q", "<u4")])
BASELINE_CHUNK = 1_000  # XADDs per pipeline round trip, entries per XREADGROUP


def make_batches(readings: int, per_batch: int) -> list[Batch]:
    """Readings of 200 series at 1 s, cut into batches of ``per_batch``."""
    rng = np.random.default_rng(1)
    sid = (np.arange(readings) % 200 + 1).astype(np.int32)
    t = T0 + (np.arange(readings, dtype=np.int64) // 200) * 1_000_000
    v = rng.normal(1000.0, 50.0, readings)
    q = np.zeros(readings, dtype=np.uint32)
    return [
        Batch(
            sid[lo : lo + per_batch],
            t[lo : lo + per_batch],
            v[lo : lo + per_batch],
            q[lo : lo + per_batch],
        )
        for lo in range(0, readings, per_batch)
    ]


async def run_batched(url: str, prefix: str, batches: list[Batch]) -> tuple[float, float]:
    """Seconds to publish, consume and ack every batch; and the sum of values received."""
    producer = RedisStreamsBus(url, prefix=prefix)
    consumer = RedisStreamsBus(url, prefix=prefix, shards=["F1"], consumer="bench")
    want = sum(len(b) for b in batches)
    received = 0.0

    async def produce() -> None:
        for b in batches:
            await producer.publish(b, "F1")

    async def consume() -> None:
        nonlocal received
        got = 0
        while got < want:
            deliveries = await consumer.consume(16, 1.0)
            for d in deliveries:
                got += len(d.batch)
                received += float(d.batch.value.sum())
            await consumer.ack(deliveries)

    await consumer.consume(1, 0.0)  # create the group before the clock starts
    start = time.perf_counter()
    await asyncio.gather(produce(), consume())
    elapsed = time.perf_counter() - start
    await producer.close()
    await consumer.close()
    return elapsed, received


async def run_per_reading(url: str, prefix: str, batches: list[Batch]) -> tuple[float, float]:
    """The same cycle with one stream entry per reading (24 packed bytes each)."""
    client = Redis.from_url(url)
    key = f"{prefix}:per-reading"
    await client.xgroup_create(key, "writers", "0", mkstream=True)
    whole = Batch.concat(batches)
    packed = np.empty(len(whole), dtype=PER_READING)
    packed["s"], packed["t"], packed["v"], packed["q"] = (
        whole.series_id,
        whole.time_us,
        whole.value,
        whole.quality,
    )
    want = len(packed)
    received = 0.0

    async def produce() -> None:
        raw = packed.tobytes()
        size = PER_READING.itemsize
        for lo in range(0, want, BASELINE_CHUNK):
            async with client.pipeline(transaction=False) as pipe:
                for i in range(lo, min(lo + BASELINE_CHUNK, want)):
                    pipe.xadd(key, {b"r": raw[i * size : (i + 1) * size]})
                await pipe.execute()

    async def consume() -> None:
        nonlocal received
        reader = Redis.from_url(url)
        got = 0
        while got < want:
            reply = await reader.xreadgroup("writers", "bench", {key: ">"}, BASELINE_CHUNK, 1000)
            if not reply:
                continue
            entries = reply[0][1]
            ids = [entry_id for entry_id, _ in entries]
            rows = np.frombuffer(b"".join(f[b"r"] for _, f in entries), dtype=PER_READING)
            received += float(rows["v"].sum())
            got += len(rows)
            async with reader.pipeline(transaction=True) as pipe:
                pipe.xack(key, "writers", *ids)
                pipe.xdel(key, *ids)
                await pipe.execute()
        await reader.aclose()

    start = time.perf_counter()
    await asyncio.gather(produce(), consume())
    elapsed = time.perf_counter() - start
    await client.delete(key)
    await client.aclose()
    return elapsed, received


async def clean(url: str, prefix: str) -> None:
    """Delete every key under ``prefix``."""
    client = Redis.from_url(url)
    keys = [k async for k in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def bench(args: argparse.Namespace, url: str) -> None:
    """Alternate the methods ``runs`` times and report medians."""
    prefix = f"anhbench-{uuid.uuid4().hex[:12]}"
    baseline = make_batches(args.baseline_readings, BASELINE_CHUNK)
    baseline_sum = float(Batch.concat(baseline).value.sum())
    sizes = (1_000, 10_000)
    batched = {n: make_batches(args.readings, n) for n in sizes}
    expected = float(Batch.concat(batched[sizes[0]]).value.sum())
    times: dict[str, list[float]] = {"per_reading": [], **{str(n): [] for n in sizes}}
    try:
        for _ in range(args.runs):
            seconds, got = await run_per_reading(url, prefix, baseline)
            assert abs(got - baseline_sum) <= 1e-6 * abs(baseline_sum), (got, baseline_sum)
            times["per_reading"].append(seconds)
            for n in sizes:
                seconds, got = await run_batched(url, prefix, batched[n])
                assert abs(got - expected) <= 1e-6 * abs(expected), (got, expected)
                times[str(n)].append(seconds)
                await clean(url, prefix)
    finally:
        await clean(url, prefix)

    base_rate = args.baseline_readings / median(times["per_reading"])
    rates = {n: args.readings / median(times[str(n)]) for n in sizes}
    rows = [
        (
            "one entry per reading (baseline)",
            f"{args.baseline_readings:,}",
            f"{median(times['per_reading']):.3f}",
            f"{base_rate:,.0f}",
            "1.00",
        )
    ]
    rows += [
        (
            f"RedisStreamsBus, {n:,} readings per entry",
            f"{args.readings:,}",
            f"{median(times[str(n)]):.3f}",
            f"{rates[n]:,.0f}",
            f"{rates[n] / base_rate:.1f}",
        )
        for n in sizes
    ]
    report(
        f"Redis bus, publish + consume + ack, median of {args.runs} runs",
        ("method", "readings", "median s", "readings/s", "ratio"),
        rows,
        {
            "bench": "bus",
            "runs": args.runs,
            "readings": args.readings,
            "baseline_readings": args.baseline_readings,
            "per_reading_readings_per_s": round(base_rate),
            **{f"batch_{n}_readings_per_s": round(rates[n]) for n in sizes},
            **{f"batch_{n}_ratio": round(rates[n] / base_rate, 2) for n in sizes},
        },
    )


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--readings", type=int, default=2_000_000)
    parser.add_argument("--baseline-readings", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = (
        os.environ.get("ANH_BENCH_REDIS_URL")
        or os.environ.get("ANH_REDIS_URL")
        or "redis://127.0.0.1:6379/15"
    )
    asyncio.run(bench(args, url))


if __name__ == "__main__":
    main()
