"""The in-process bus (embedded default): an asyncio queue with bounded backlog."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator

from anh_reporter.bus.base import BusUnavailable, Delivery
from anh_reporter.domain.batch import Batch

SUBSCRIBER_QUEUE = 64  # batches; beyond this a slow live subscriber loses the oldest


class MemoryBus:
    """Batches wait in memory until the writer takes them; unacked ones are redelivered.

    ``max_pending_readings`` bounds the backlog: when the writer cannot keep up (e.g. the
    database is down) ``publish`` raises :class:`BusUnavailable` and producers spool.
    """

    def __init__(self, max_pending_readings: int = 2_000_000) -> None:
        self.max_pending_readings = max_pending_readings
        self._queue: deque[Delivery] = deque()
        self._in_flight: dict[str, Delivery] = {}
        self._pending_readings = 0
        self._ids = itertools.count(1)
        self._ready = asyncio.Event()
        self._closed = False
        self._subscribers: dict[str, set[asyncio.Queue[Batch]]] = defaultdict(set)

    @property
    def pending_readings(self) -> int:
        """Readings published and not yet acknowledged."""
        return self._pending_readings

    async def publish(self, batch: Batch, shard: str) -> None:
        """Queue a batch, or refuse it when the backlog is full."""
        if self._closed:
            raise BusUnavailable("the in-process bus is closed")
        if self._pending_readings + len(batch) > self.max_pending_readings and self._queue:
            raise BusUnavailable(
                f"in-process bus backlog is {self._pending_readings:,} readings; the limit is "
                f"{self.max_pending_readings:,} (is the database reachable?)"
            )
        self._queue.append(Delivery(batch, shard, str(next(self._ids)), time.time()))
        self._pending_readings += len(batch)
        self._ready.set()

    async def consume(self, max_batches: int, timeout_s: float) -> list[Delivery]:
        """Take up to ``max_batches`` queued deliveries, waiting up to ``timeout_s``."""
        if not self._queue and not self._closed:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout_s)
            except TimeoutError:
                return []
        out: list[Delivery] = []
        while self._queue and len(out) < max_batches:
            delivery = self._queue.popleft()
            self._in_flight[delivery.token] = delivery
            out.append(delivery)
        return out

    async def ack(self, deliveries: list[Delivery]) -> None:
        """Forget acknowledged deliveries."""
        for d in deliveries:
            if self._in_flight.pop(d.token, None) is not None:
                self._pending_readings -= len(d.batch)

    async def nack(self, deliveries: list[Delivery]) -> None:
        """Put unwritten deliveries back at the head of the queue, in their order."""
        for d in reversed(deliveries):
            if self._in_flight.pop(d.token, None) is not None:
                self._queue.appendleft(d)
        if self._queue:
            self._ready.set()

    async def announce(self, batch: Batch, shard: str) -> None:
        """Fan a committed batch out to the shard's subscribers, dropping for slow ones."""
        for queue in self._subscribers.get(shard, ()):
            if queue.full():
                queue.get_nowait()  # the subscriber is slow: it loses the oldest batch
            queue.put_nowait(batch)

    async def subscribe(self, shard: str) -> AsyncIterator[Batch]:
        """Committed batches of ``shard`` from now on."""
        queue: asyncio.Queue[Batch] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self._subscribers[shard].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[shard].discard(queue)

    async def close(self) -> None:
        """Stop accepting batches and wake a waiting consumer."""
        self._closed = True
        self._ready.set()
