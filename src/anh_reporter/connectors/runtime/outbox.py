"""The one way from a connector to its sink: a bounded, ordered outbox that never drops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass

from anh_reporter.connectors.base import BatchSink
from anh_reporter.connectors.runtime.backoff import Backoff
from anh_reporter.connectors.runtime.settings import LinkSettings
from anh_reporter.domain.batch import Batch

log = logging.getLogger(__name__)

SINK_RETRY_INITIAL_S = 0.1
SINK_RETRY_MAX_S = 5.0
"""Backoff between two tries of a failing sink (the bus or the spool: usually back soon)."""


def outbox_for(
    sink: BatchSink,
    settings: LinkSettings,
    *,
    name: str,
    max_batch: int = 100_000,
    linger_s: float = 0.0,
) -> Outbox:
    """The outbox of a connector, sized by its ``outbox_max_readings``."""
    return Outbox(
        sink,
        name=name,
        capacity=settings.outbox_max_readings,
        backoff=Backoff(SINK_RETRY_INITIAL_S, SINK_RETRY_MAX_S),
        max_batch=max_batch,
        linger_s=linger_s,
    )


@dataclass
class OutboxCounters:
    """What an outbox has done (readings unless said otherwise)."""

    accepted: int = 0
    delivered: int = 0
    batches: int = 0
    sink_failures: int = 0
    full_waits: int = 0
    """Times a producer had to wait for room: the connector stopped taking data meanwhile."""


class Outbox:
    """A bounded, ordered queue of batches to one sink, delivered by its own task.

    A batch leaves the queue only once the sink took it: a failing sink is retried with
    :class:`Backoff` (same batch, same order), nothing is dropped. At most ``capacity``
    readings are held; :meth:`put` waits for room when full (a batch larger than the whole
    capacity is taken when the queue is empty). Queued batches are sent together, up to
    ``max_batch`` readings per sink call, after waiting ``linger_s`` for more to arrive.
    """

    def __init__(
        self,
        sink: BatchSink,
        *,
        name: str,
        capacity: int,
        backoff: Backoff,
        max_batch: int = 100_000,
        linger_s: float = 0.0,
    ) -> None:
        self.name = name
        self.capacity = capacity
        self.max_batch = max_batch
        self.linger_s = linger_s
        self.counters = OutboxCounters()
        self.last_error: str | None = None
        self._sink = sink
        self._backoff = backoff
        self._queue: deque[Batch] = deque()
        self._pending = 0
        self._cond = asyncio.Condition()
        self._sending = asyncio.Lock()
        """Held while a batch is with the sink: one delivery at a time, in queue order."""
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._waiters = 0
        """Callers waiting for room or for a flush: woken after each delivery."""

    @property
    def pending(self) -> int:
        """Readings accepted and not yet delivered."""
        return self._pending

    def start(self) -> None:
        """Start delivering (again, after :meth:`close`: what was left is sent first)."""
        if self._task is None or self._task.done():
            self._closing = False
            self._task = asyncio.create_task(self._pump(), name=f"{self.name} outbox")

    async def put(self, batch: Batch) -> None:
        """Queue a batch; wait while the outbox is full."""
        n = len(batch)
        if n == 0:
            return
        # One event loop, no await between reading and changing the queue: the condition's
        # lock is taken only to wait or to wake someone.
        if not self._has_room(n):
            self.counters.full_waits += 1
            log.warning(
                "%s: outbox full (%d readings; the sink is slow or failing): "
                "waiting for room before taking more data",
                self.name,
                self._pending,
            )
            async with self._cond:
                self._waiters += 1
                try:
                    await self._cond.wait_for(lambda: self._has_room(n))
                finally:
                    self._waiters -= 1
        self._queue.append(batch)
        self._pending += n
        self.counters.accepted += n
        # Without lingering, the caller delivers the queue's head itself while nobody else is
        # sending (no task switch per batch). The batch leaves the queue only once delivered,
        # so a cancelled caller loses nothing; a failure leaves it to the pump's retries.
        inline = (
            self.linger_s == 0
            and not self._closing
            and not self._sending.locked()
            and self._task is not None
            and not self._task.done()
        )
        if inline and not await self._send_head(retry=False):
            log.warning(
                "%s: %s; %d readings kept for the retries",
                self.name,
                self.last_error,
                self._pending,
            )
            inline = False
        if not inline:
            async with self._cond:
                self._cond.notify_all()

    async def flush(self) -> None:
        """Return once everything accepted so far has been delivered."""
        target = self.counters.accepted
        async with self._cond:
            self._waiters += 1
            try:
                await self._cond.wait_for(lambda: self.counters.delivered >= target)
            finally:
                self._waiters -= 1

    async def close(self, timeout_s: float = 10.0) -> int:
        """Deliver what is queued (up to ``timeout_s``), stop; return the readings left over.

        Left-over readings stay queued (a later :meth:`start` sends them) and are logged.
        """
        self._closing = True
        async with self._cond:
            self._cond.notify_all()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), timeout_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._pending:
            log.error(
                "%s: stopped with %d readings not delivered (%s); they stay queued",
                self.name,
                self._pending,
                self.last_error,
            )
        return self._pending

    def _has_room(self, n: int) -> bool:
        return self._pending == 0 or self._pending + n <= self.capacity

    async def _pump(self) -> None:
        while True:
            async with self._cond:
                await self._cond.wait_for(lambda: bool(self._queue))
                if self.linger_s > 0 and not self._closing:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._cond.wait_for(
                                lambda: self._pending >= self.max_batch or self._closing
                            ),
                            self.linger_s,
                        )
            await self._send_head(retry=True)

    async def _send_head(self, *, retry: bool) -> bool:
        """Deliver the batches at the head of the queue; False if the sink refused them (and
        ``retry`` is off: they stay queued)."""
        async with self._sending:
            if not self._queue:
                return True
            parts = self._head()
            batch = Batch.concat(parts, parts[0].source)
            if retry:
                await self._deliver(batch)
            elif not await self._try(batch):
                return False
            for _ in parts:
                self._queue.popleft()
            self._pending -= len(batch)
            self.counters.delivered += len(batch)
            self.counters.batches += 1
        if self._waiters:
            async with self._cond:
                self._cond.notify_all()
        return True

    async def _try(self, batch: Batch) -> bool:
        try:
            await self._sink(batch)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.counters.sink_failures += 1
            self.last_error = f"sink failed: {type(exc).__name__}: {exc}"
            return False
        self._backoff.reset()
        self.last_error = None
        return True

    def _head(self) -> list[Batch]:
        """Whole batches from the head of the queue, up to ``max_batch`` readings (at least one)."""
        parts = [self._queue[0]]
        total = len(parts[0])
        for batch in list(self._queue)[1:]:
            if total + len(batch) > self.max_batch or batch.source != parts[0].source:
                break
            parts.append(batch)
            total += len(batch)
        return parts

    async def _deliver(self, batch: Batch) -> None:
        """Offer ``batch`` until the sink takes it, with a jittered backoff between tries."""
        while not await self._try(batch):
            delay = self._backoff.next_delay()
            log.warning(
                "%s: %s; %d readings kept, retrying in %.2f s",
                self.name,
                self.last_error,
                self._pending,
                delay,
            )
            await asyncio.sleep(delay)
