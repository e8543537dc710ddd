"""The in-process bus: order, bounded backlog, redelivery after nack, lossy live fan-out."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from anh_reporter.bus.base import BusUnavailable
from anh_reporter.bus.memory import SUBSCRIBER_QUEUE, MemoryBus
from anh_reporter.domain.batch import Batch


def batch(tag: int, n: int = 3) -> Batch:
    """``n`` readings whose values all equal ``tag``, so a batch is recognisable."""
    return Batch.of(np.arange(n), np.arange(n) + 1_000 * tag, np.full(n, float(tag)))


def tags(batches: list[Batch]) -> list[int]:
    return [int(b.value[0]) for b in batches]


async def test_batches_come_out_in_publish_order() -> None:
    bus = MemoryBus()
    for tag in range(10):
        await bus.publish(batch(tag), "F1" if tag % 2 else "F2")
    first = await bus.consume(4, 0.1)
    rest = await bus.consume(100, 0.1)
    assert tags([d.batch for d in first + rest]) == list(range(10))
    assert [d.shard for d in first] == ["F2", "F1", "F2", "F1"]
    assert await bus.consume(10, 0.01) == []


async def test_full_backlog_refuses_while_batches_are_queued() -> None:
    bus = MemoryBus(max_pending_readings=6)
    await bus.publish(batch(1), "F1")
    await bus.publish(batch(2), "F1")
    with pytest.raises(BusUnavailable, match="backlog is 6 readings; the limit is 6"):
        await bus.publish(batch(3), "F1")
    got = await bus.consume(10, 0.1)
    # Nothing queued any more: one batch is taken even over the limit, so that a batch larger
    # than the limit is never refused for ever; the next one is refused until the ack.
    await bus.publish(batch(3), "F1")
    with pytest.raises(BusUnavailable, match="backlog is 9 readings"):
        await bus.publish(batch(4), "F1")
    await bus.ack(got)
    assert bus.pending_readings == 3
    await bus.publish(batch(4), "F1")
    assert tags([d.batch for d in await bus.consume(10, 0.1)]) == [3, 4]


async def test_nacked_deliveries_come_back_first_in_their_order() -> None:
    bus = MemoryBus()
    for tag in range(5):
        await bus.publish(batch(tag), "F1")
    got = await bus.consume(3, 0.1)
    await bus.ack(got[:1])
    await bus.nack(got[1:])
    again = await bus.consume(10, 0.1)
    assert tags([d.batch for d in again]) == [1, 2, 3, 4]
    await bus.ack(again)
    assert bus.pending_readings == 0


async def test_consume_waits_for_a_publish_and_close_wakes_it() -> None:
    bus = MemoryBus()
    waiting = asyncio.create_task(bus.consume(10, 5.0))
    await asyncio.sleep(0)
    await bus.publish(batch(7), "F1")
    assert tags([d.batch for d in await waiting]) == [7]
    waiting = asyncio.create_task(bus.consume(10, 30.0))
    await asyncio.sleep(0)
    await bus.close()
    assert await waiting == []
    with pytest.raises(BusUnavailable):
        await bus.publish(batch(8), "F1")


async def test_slow_subscriber_loses_the_oldest_and_does_not_block_announce() -> None:
    bus = MemoryBus()
    live = bus.subscribe("F1")
    first = asyncio.create_task(anext(live))  # starts the subscription
    await asyncio.sleep(0)
    await bus.announce(batch(0), "F1")
    assert tags([await first]) == [0]
    extra = 10
    for tag in range(1, SUBSCRIBER_QUEUE + extra + 1):  # the reader is not reading now
        await bus.announce(batch(tag), "F1")
    await bus.announce(batch(999), "F2")  # another field: not for this subscriber
    seen = [int((await anext(live)).value[0]) for _ in range(SUBSCRIBER_QUEUE)]
    assert seen == list(range(extra + 1, SUBSCRIBER_QUEUE + extra + 1))
    await live.aclose()
