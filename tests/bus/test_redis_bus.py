"""The Redis Streams bus against a real Redis: round trip, consumer groups, dead consumers,
an unreachable server, and live fan-out by field.

Uses ``ANH_TEST_REDIS_URL`` or redis://127.0.0.1:6379/15. Every test has its own key prefix
(``anhtest-<uuid>``) and deletes its keys afterwards.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
import pytest
import redis

from anh_reporter.bus import redis_streams
from anh_reporter.bus.base import BusUnavailable, Delivery
from anh_reporter.bus.factory import make_bus
from anh_reporter.bus.memory import SUBSCRIBER_QUEUE, MemoryBus
from anh_reporter.bus.redis_members import deal
from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.config import Settings
from anh_reporter.domain.batch import Batch
from tests.conftest import REDIS_URL

MakeBus = Callable[..., RedisStreamsBus]


@pytest.fixture
async def make(prefix: str) -> AsyncIterator[MakeBus]:
    """Build buses on the test's prefix; all are closed at the end."""
    made: list[RedisStreamsBus] = []

    def build(**kwargs: Any) -> RedisStreamsBus:
        bus = RedisStreamsBus(kwargs.pop("url", REDIS_URL), prefix=prefix, **kwargs)
        made.append(bus)
        return bus

    yield build
    for bus in made:
        await bus.close()


def batch(tag: int, n: int = 4, source: str = "") -> Batch:
    """``n`` readings whose values all equal ``tag``."""
    return Batch.of(
        np.arange(n) + 10 * tag, np.arange(n) + 1_000 * tag, np.full(n, float(tag)), source=source
    )


def stream_state(prefix: str, shard: str) -> tuple[int, int]:
    """(entries in the stream, entries pending in the group)."""
    client = redis.Redis.from_url(REDIS_URL)
    key = f"{prefix}:ingest:{shard}"
    pending = client.xpending(key, "writers")["pending"] if client.exists(key) else 0
    length = client.xlen(key)
    client.close()
    return length, pending


async def drain(bus: RedisStreamsBus, want: int, timeout_s: float = 20.0) -> list[Delivery]:
    """Consume and ack until ``want`` deliveries arrived (or the time is up)."""
    got: list[Delivery] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while len(got) < want and loop.time() < end:
        step = await bus.consume(8, 0.2)
        await bus.ack(step)
        got.extend(step)
    return got


async def test_batches_round_trip_bit_exact_and_leave_the_stream_when_acked(
    make: MakeBus, prefix: str
) -> None:
    special = Batch.of(
        [1, -2, 2**31 - 1, -(2**31)],
        [0, -1, 2**62, -(2**62)],
        [np.nan, -0.0, np.inf, -np.inf],
        [0, 0x40000000, 0x80310000, 2**32 - 1],
        source="OPC UA: pozo-7 señal",
    )
    rng = np.random.default_rng(3)
    big = Batch.of(
        rng.integers(1, 500, 10_000),
        rng.integers(0, 2**50, 10_000),
        rng.normal(size=10_000),
        rng.integers(0, 2**32, 10_000),
        source="bulk",
    )
    producer, consumer = make(), make(shards=["F1", "F2"], consumer="w1")
    await producer.publish(special, "F1")
    await producer.publish(big, "F2")
    await producer.publish(Batch.empty("empty"), "F1")
    got = await consumer.consume(10, 1.0)
    assert [(d.shard, len(d.batch)) for d in got] == [("F1", 4), ("F1", 0), ("F2", 10_000)]
    for sent, d in zip((special, Batch.empty("empty"), big), got, strict=False):
        assert d.batch.to_bytes() == sent.to_bytes()  # every bit, NaN payload and -0.0 included
    assert stream_state(prefix, "F1") == (2, 2)
    await consumer.ack(got)
    assert stream_state(prefix, "F1") == (0, 0)
    assert stream_state(prefix, "F2") == (0, 0)


async def test_a_consumer_without_shards_serves_every_published_shard(
    make: MakeBus, prefix: str
) -> None:
    producer, consumer = make(), make(consumer="anywhere")
    for tag, shard in enumerate(["LLANOS-34", "CASTILLA", "RUBIALES"]):
        await producer.publish(batch(tag), shard)
    got = await drain(consumer, 3)
    assert sorted((d.shard, int(d.batch.value[0])) for d in got) == [
        ("CASTILLA", 1),
        ("LLANOS-34", 0),
        ("RUBIALES", 2),
    ]
    client = redis.Redis.from_url(REDIS_URL)
    assert client.smembers(f"{prefix}:ingest:shards") == {b"LLANOS-34", b"CASTILLA", b"RUBIALES"}
    client.close()
    with pytest.raises(ValueError, match="shard 'a:b' cannot name a Redis stream"):
        await producer.publish(batch(0), "a:b")


async def test_one_consume_reads_about_max_batches_over_all_shards_not_from_each(
    make: MakeBus, prefix: str
) -> None:
    producer = make()
    shards = ["F1", "F2", "F3"]
    for tag in range(10):
        for shard in shards:
            await producer.publish(batch(tag), shard)
    consumer = make(shards=shards, consumer="c")
    got = await consumer.consume(4, 1.0)
    assert len(got) == 4
    client = redis.Redis.from_url(REDIS_URL)
    held = [client.xpending(f"{prefix}:ingest:{s}", "writers")["pending"] for s in shards]
    client.close()
    assert held == [2, 2, 2]  # COUNT 2 per stream (4 over 3 streams), the 2 beyond buffered
    await consumer.ack(got)
    rest = await drain(consumer, 26)
    tokens = [(d.shard, d.token) for d in got + rest]
    assert len(tokens) == len(set(tokens)) == 30


async def keep_alive_until(bus: RedisStreamsBus, held: list[Delivery], want: int) -> None:
    """Call keep_alive until it resets ``want`` entries (it does once they are held long enough)."""
    for _ in range(500):
        kept = await bus.keep_alive(held)
        if kept:
            assert kept == want
            return
        await asyncio.sleep(0.01)
    pytest.fail("keep_alive never reset the held entries")


async def test_keep_alive_keeps_held_entries_from_others_but_never_takes_one_back(
    make: MakeBus, prefix: str
) -> None:
    producer = make()
    for tag in range(3):
        await producer.publish(batch(tag), "F1")
    holder = make(shards=["F1"], consumer="holder", claim_idle_ms=300)
    held = await holder.consume(3, 1.0)
    assert len(held) == 3
    await keep_alive_until(holder, held, 3)
    key = f"{prefix}:ingest:F1"
    client = redis.Redis.from_url(REDIS_URL)
    rows = client.xpending_range(key, "writers", "-", "+", 10, "holder")
    assert [r["times_delivered"] for r in rows] == [1, 1, 1]  # JUSTID: no new delivery
    # Another consumer takes one over (as it would after claim_idle_ms): it stays the other's.
    client.xclaim(key, "writers", "thief", 0, [held[0].token], justid=True)
    await keep_alive_until(holder, held, 2)
    owners = {
        r["message_id"].decode(): r["consumer"].decode()
        for r in client.xpending_range(key, "writers", "-", "+", 10)
    }
    assert owners == {held[0].token: "thief", held[1].token: "holder", held[2].token: "holder"}
    await holder.ack(held)
    assert await holder.keep_alive(held) == 0  # acknowledged: nothing held
    assert client.xpending(key, "writers")["pending"] == 0
    client.close()


async def test_two_consumers_share_the_work_and_nothing_is_delivered_twice(
    make: MakeBus, prefix: str
) -> None:
    producer = make()
    total = 200
    for tag in range(total):
        await producer.publish(batch(tag), "F1" if tag % 3 else "F2")
    a = make(shards=["F1", "F2"], consumer="a")
    b = make(shards=["F1", "F2"], consumer="b")
    seen: dict[str, list[int]] = {"a": [], "b": []}

    async def work(name: str, bus: RedisStreamsBus) -> None:
        while sum(len(v) for v in seen.values()) < total:
            got = await bus.consume(5, 0.05)
            seen[name].extend(int(d.batch.value[0]) for d in got)
            await bus.ack(got)
            await asyncio.sleep(0)  # let the other consumer have its turn

    await asyncio.wait_for(asyncio.gather(work("a", a), work("b", b)), 30)
    assert seen["a"] and seen["b"]
    assert sorted(seen["a"] + seen["b"]) == list(range(total))
    assert stream_state(prefix, "F1") == (0, 0)
    assert stream_state(prefix, "F2") == (0, 0)


def test_shards_are_dealt_round_robin_in_name_order_and_every_shard_has_one_consumer() -> None:
    shards = ["F3", "F1", "F5", "F2", "F4"]
    assert deal(shards, ["b", "a"], "a") == ["F1", "F3", "F5"]
    assert deal(shards, ["b", "a"], "b") == ["F2", "F4"]
    assert deal(shards, [], "a") == sorted(shards)  # alone (or not registered yet): all
    hands = [deal(shards, ["x", "y", "z"], me) for me in ("x", "y", "z")]
    assert sorted(s for hand in hands for s in hand) == sorted(shards)  # each dealt once
    assert deal(["F1"], ["a", "b"], "b") == []  # more consumers than shards: a standby


async def test_with_affinity_each_consumer_serves_its_share_until_the_other_leaves(
    make: MakeBus, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_streams, "DISCOVERY_INTERVAL_S", 0.0)  # re-deal on every consume
    producer, a, b = make(), make(consumer="a"), make(consumer="b")
    assert await a.consume(1, 0) == []  # both register before anything is published
    assert await b.consume(1, 0) == []
    for tag, shard in enumerate(["F1", "F2", "F3", "F4"]):
        await producer.publish(batch(tag), shard)
    shards_of: dict[str, set[str]] = {"a": set(), "b": set()}
    for name, bus in (("a", a), ("b", b)):
        got = await drain(bus, 2)
        shards_of[name] = {d.shard for d in got}
    assert shards_of == {"a": {"F1", "F3"}, "b": {"F2", "F4"}}

    for tag, shard in enumerate(["F1", "F2", "F3", "F4"], start=10):
        await producer.publish(batch(tag), shard)
    await b.retire()  # leaves the members: a takes every shard at its next look
    got = await drain(a, 4)
    assert sorted(int(d.batch.value[0]) for d in got) == [10, 11, 12, 13]
    client = redis.Redis.from_url(REDIS_URL)
    assert client.zrange(f"{prefix}:ingest:members:writers", 0, -1) == [b"a"]
    client.close()


async def test_without_affinity_every_consumer_reads_every_shard(
    make: MakeBus, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_streams, "DISCOVERY_INTERVAL_S", 0.0)
    producer = make()
    await producer.publish(batch(0), "F1")
    a, b = make(consumer="a", affinity=False), make(consumer="b", affinity=False)
    await b.nack(await b.consume(1, 0))  # b is in the group, and gives back what it read
    await producer.publish(batch(1), "F2")
    got = await drain(a, 2)
    assert {d.shard for d in got} == {"F1", "F2"}
    client = redis.Redis.from_url(REDIS_URL)
    assert not client.exists(f"{prefix}:ingest:members:writers")
    client.close()


VICTIM = textwrap.dedent(
    """
    import asyncio, sys
    from anh_reporter.bus.redis_streams import RedisStreamsBus

    async def main(url, prefix, shard, hold):
        bus = RedisStreamsBus(url, prefix=prefix, shards=[shard], consumer="victim")
        held = []
        while len(held) < hold:
            held += await bus.consume(4, 1.0)  # never acked: this consumer is about to die
        print(len(held), flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
    """
)


async def test_entries_of_a_killed_consumer_are_claimed_by_another(
    make: MakeBus, prefix: str
) -> None:
    shard, batches, per_batch = "F1", 40, 1_000
    rng = np.random.default_rng(11)
    values = rng.normal(500.0, 80.0, batches * per_batch)
    producer = make()
    for i in range(batches):
        lo = i * per_batch
        await producer.publish(
            Batch.of(
                np.full(per_batch, 7), np.arange(lo, lo + per_batch), values[lo : lo + per_batch]
            ),
            shard,
        )
    victim = subprocess.Popen(  # noqa: ASYNC220 - a victim process killed by the test
        [sys.executable, "-c", VICTIM, REDIS_URL, prefix, shard, "15"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert victim.stdout is not None
        held = int(victim.stdout.readline())
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    assert 15 <= held < batches
    client = redis.Redis.from_url(REDIS_URL)
    victims = client.xpending_range(f"{prefix}:ingest:{shard}", "writers", "-", "+", 100, "victim")
    client.close()
    assert len(victims) == held  # the dead consumer's entries, pending under its name

    rescuer = make(shards=[shard], consumer="rescuer", claim_idle_ms=300)
    got = await drain(rescuer, batches)
    tokens = [d.token for d in got]
    assert len(tokens) == len(set(tokens)) == batches  # each batch once
    assert {v["message_id"].decode() for v in victims} <= set(tokens)
    everything = Batch.concat([d.batch for d in got])
    assert len(everything) == batches * per_batch
    assert np.array_equal(np.sort(everything.time_us), np.arange(batches * per_batch))
    assert everything.value.sum() == pytest.approx(values.sum(), rel=1e-12)
    assert stream_state(prefix, shard) == (0, 0)


async def test_an_unacked_delivery_comes_back_after_the_idle_time_or_at_once_after_nack(
    make: MakeBus,
) -> None:
    producer, consumer = make(), make(shards=["F1"], consumer="w", claim_idle_ms=200)
    await producer.publish(batch(1), "F1")
    await producer.publish(batch(2), "F1")
    first = await consumer.consume(10, 1.0)
    assert [int(d.batch.value[0]) for d in first] == [1, 2]
    await consumer.ack(first[:1])
    again = await drain(consumer, 1, timeout_s=10)  # not acked: redelivered after 200 ms
    assert [(d.token, int(d.batch.value[0])) for d in again] == [(first[1].token, 2)]

    patient = make(shards=["F1"], consumer="p", claim_idle_ms=600_000)
    await producer.publish(batch(3), "F1")
    held = await patient.consume(10, 1.0)
    await patient.nack(held)  # released now, not after ten minutes
    back = await patient.consume(10, 1.0)
    assert [d.token for d in back] == [d.token for d in held]
    await patient.ack(back)


async def test_publish_to_an_unreachable_redis_raises_bus_unavailable_without_password() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nobody listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bus = RedisStreamsBus(f"redis://writer:s3cret@127.0.0.1:{port}/0", shards=["F1"])
    try:
        with pytest.raises(BusUnavailable) as caught:
            await bus.publish(batch(1), "F1")
        message = str(caught.value)
        assert f"redis://writer:***@127.0.0.1:{port}/0" in message
        assert "s3cret" not in message
        with pytest.raises(BusUnavailable):
            await bus.consume(1, 0.1)
        await bus.announce(batch(1), "F1")  # live fan-out is best effort: no error
    finally:
        await bus.close()


async def test_close_wakes_a_consumer_waiting_for_batches(make: MakeBus) -> None:
    consumer = make(shards=["F1"])
    waiting = asyncio.create_task(consumer.consume(10, 60.0))
    await asyncio.sleep(0.2)
    await consumer.close()
    assert await asyncio.wait_for(waiting, 5) == []


async def wait_subscribed(channel: str, count: int = 1) -> None:
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        for _ in range(500):
            ((_, n),) = await client.pubsub_numsub(channel)
            if n >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"nobody subscribed to {channel}")
    finally:
        await client.aclose()


async def test_live_subscribers_get_committed_batches_of_their_field_only(
    make: MakeBus, prefix: str
) -> None:
    bus = make()
    f1, f2 = bus.subscribe("F1"), bus.subscribe("F2")
    first1, first2 = asyncio.create_task(anext(f1)), asyncio.create_task(anext(f2))
    await wait_subscribed(f"{prefix}:live:F1")
    await wait_subscribed(f"{prefix}:live:F2")
    sent = batch(5, n=1_000, source="live")
    await bus.announce(sent, "F1")
    await bus.announce(batch(6), "F2")
    await bus.announce(batch(7), "F1")
    assert (await asyncio.wait_for(first1, 5)).to_bytes() == sent.to_bytes()
    assert int((await asyncio.wait_for(first2, 5)).value[0]) == 6
    assert int((await asyncio.wait_for(anext(f1), 5)).value[0]) == 7
    await f1.aclose()
    await f2.aclose()


async def test_a_slow_subscriber_loses_the_oldest_batches_and_never_holds_back_announce(
    make: MakeBus, prefix: str
) -> None:
    bus = make()
    live = bus.subscribe("F1")
    first = asyncio.create_task(anext(live))
    await wait_subscribed(f"{prefix}:live:F1")
    await bus.announce(batch(0), "F1")
    assert int((await asyncio.wait_for(first, 5)).value[0]) == 0
    announced = 10 * SUBSCRIBER_QUEUE
    for tag in range(1, announced + 1):  # nobody reads meanwhile
        await bus.announce(batch(tag), "F1")
    await asyncio.sleep(0.3)  # the background reader keeps draining Redis into its queue
    seen: list[int] = []
    while not seen or seen[-1] != announced:
        seen.append(int((await asyncio.wait_for(anext(live), 5)).value[0]))
    assert len(seen) < announced  # the oldest were dropped
    assert seen == sorted(seen)  # what is left comes in order, up to the newest
    await live.aclose()


async def test_close_ends_live_subscriptions(make: MakeBus, prefix: str) -> None:
    bus = make()
    live = bus.subscribe("F1")
    waiting = asyncio.create_task(anext(live))
    await wait_subscribed(f"{prefix}:live:F1")
    await bus.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 5)


async def test_make_bus_picks_redis_when_a_url_is_set() -> None:
    memory = make_bus(Settings(redis_url=None))
    assert isinstance(memory, MemoryBus)
    remote = make_bus(Settings(redis_url=REDIS_URL), consumer="c", claim_idle_ms=1234)
    assert isinstance(remote, RedisStreamsBus)
    assert (remote.consumer, remote.claim_idle_ms) == ("c", 1234)
    await remote.close()


async def test_retire_hands_over_unacked_entries_and_deletes_the_name(
    make: MakeBus, prefix: str
) -> None:
    producer = make()
    for tag in range(4):
        await producer.publish(batch(tag), "F1")
    leaving = make(shards=["F1"], consumer="leaving", claim_idle_ms=60_000)
    got = await leaving.consume(4, 1.0)
    assert len(got) == 4
    await leaving.ack(got[:1])
    assert await leaving.retire() == 3
    client = redis.Redis.from_url(REDIS_URL)
    names = {r["name"].decode() for r in client.xinfo_consumers(f"{prefix}:ingest:F1", "writers")}
    client.close()
    assert "leaving" not in names
    # Handed over with their idle time at the claim interval: the next consumer takes them now.
    staying = make(shards=["F1"], consumer="staying", claim_idle_ms=60_000)
    again = await staying.consume(8, 0.2)
    assert sorted(d.token for d in again) == sorted(d.token for d in got[1:])
    await staying.ack(again)
    assert stream_state(prefix, "F1") == (0, 0)


async def test_forget_idle_consumers_removes_only_idle_names_holding_nothing(
    make: MakeBus, prefix: str
) -> None:
    producer = make()
    await producer.publish(batch(1), "F1")
    await producer.publish(batch(2), "F1")
    holder = make(shards=["F1"], consumer="holder")
    assert len(await holder.consume(1, 1.0)) == 1  # keeps it pending
    idle = make(shards=["F1"], consumer="idle")
    await idle.ack(await idle.consume(1, 1.0))  # holds nothing
    janitor = make(shards=["F1"], consumer="janitor")
    assert await janitor.forget_idle_consumers(60_000) == []  # nobody idle that long
    await asyncio.sleep(0.3)
    assert await janitor.forget_idle_consumers(200) == ["idle"]  # holder has an entry
