"""Live fan-out over Redis pub/sub: committed batches on ``{prefix}:live:{shard}``.

Best effort by design: the batches are in the database already, so when Redis cannot take one
it is dropped (a warning once per outage), and a slow subscriber loses the oldest rather than
backing up Redis or the writer that announces.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from anh_reporter.bus.base import BusUnavailable
from anh_reporter.bus.memory import SUBSCRIBER_QUEUE
from anh_reporter.domain.batch import Batch, BatchFormatError
from anh_reporter.errors import first_line

log = logging.getLogger(__name__)

_LINK_ERRORS = (RedisError, OSError, TimeoutError)


class LiveFanout:
    """Announce committed batches per shard and follow them (the bus's live half)."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        display_url: str,
        unavailable: Callable[[str, BaseException], BusUnavailable],
    ) -> None:
        self._redis = redis
        self.prefix = prefix
        self.display_url = display_url
        self._unavailable = unavailable
        self._pumps: set[asyncio.Task[None]] = set()
        self._failing = False
        self._closed = False

    def channel(self, shard: str) -> str:
        """The pub/sub channel of ``shard``'s committed batches."""
        return f"{self.prefix}:live:{shard}"

    async def announce(self, batch: Batch, shard: str) -> None:
        """PUBLISH a committed batch on its shard's channel; never raises."""
        try:
            await self._redis.publish(self.channel(shard), batch.to_bytes())
        except _LINK_ERRORS as exc:
            if not self._failing:
                log.warning(
                    "live fan-out to Redis at %s is failing (%s); subscribers miss batches",
                    self.display_url,
                    first_line(exc),
                )
            self._failing = True
            return
        self._failing = False

    async def subscribe(self, shard: str) -> AsyncIterator[Batch]:
        """Committed batches of ``shard`` from now on; a slow reader loses the oldest.

        A background task drains the Redis connection into a bounded local queue at once, so
        a slow reader neither backs up Redis nor slows the writer that announces. The iterator
        ends on :meth:`close`.
        """
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel(shard))
        except _LINK_ERRORS as exc:
            await pubsub.aclose()
            raise self._unavailable(f"subscribe to shard {shard!r}", exc) from None
        queue: asyncio.Queue[Batch | None] = asyncio.Queue(SUBSCRIBER_QUEUE)
        pump = asyncio.create_task(self._pump(pubsub, queue, shard))
        self._pumps.add(pump)
        pump.add_done_callback(self._pumps.discard)
        try:
            while (batch := await queue.get()) is not None:
                yield batch
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            with contextlib.suppress(*_LINK_ERRORS):
                await pubsub.aclose()

    async def _pump(self, pubsub: PubSub, queue: asyncio.Queue[Batch | None], shard: str) -> None:
        backoff = 0.1
        try:
            while not self._closed:
                try:
                    message = await pubsub.get_message(timeout=1.0)
                except _LINK_ERRORS as exc:
                    # redis-py reconnects and re-subscribes on the next read; wait a little.
                    log.warning("live subscription to %s lost: %s", shard, first_line(exc))
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.1
                if message is None or message.get("type") != "message":
                    continue
                try:
                    batch = Batch.from_bytes(message["data"])
                except BatchFormatError as exc:
                    log.error("live message on %s is not a batch: %s", shard, exc)
                    continue
                _put_dropping_oldest(queue, batch)
        finally:
            _put_dropping_oldest(queue, None)  # tells the iterator the stream ended

    def close(self) -> None:
        """End every subscription (their iterators return)."""
        self._closed = True
        for pump in list(self._pumps):
            pump.cancel()


def _put_dropping_oldest(queue: asyncio.Queue[Batch | None], item: Batch | None) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)
