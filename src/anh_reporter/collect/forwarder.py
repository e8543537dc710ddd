"""Store-and-forward for producers: publish to the bus, or spool and replay in order.

Connectors and file ingest call :meth:`SpoolingProducer.submit`. While the spool is empty a
batch goes straight to the bus; when the bus refuses it (:class:`BusUnavailable`), or while
older batches still wait in the spool, it is appended to the spool instead, so batches reach
the bus in the order they were submitted. A background task replays the spool oldest first,
backing off exponentially while the bus keeps refusing, and removes a batch only after the
bus has taken it (at least once: a crash between the two replays it, the writer is idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from anh_reporter.bus.base import Bus, BusUnavailable
from anh_reporter.collect.spool import Spool
from anh_reporter.domain.batch import Batch

log = logging.getLogger(__name__)

REPLAY_CHUNK = 32  # batches read from the spool and removed per transaction


@dataclass
class ForwarderStats:
    """Counters for the CLI's live statistics line (batches and readings since start)."""

    published: int = 0  # batches that went straight to the bus
    spooled: int = 0  # batches appended to the spool
    replayed: int = 0  # spooled batches the bus has since taken
    refused: int = 0  # batches refused because the spool was full (the caller got the error)
    published_readings: int = 0
    spooled_readings: int = 0
    replayed_readings: int = 0


class SpoolingProducer:
    """What producers submit batches to: the bus when it takes them, the spool otherwise.

    ``backoff_initial_s`` doubles after each refused replay up to ``backoff_max_s``. The
    spool's lifetime is the caller's (``stop`` does not close it).
    """

    def __init__(
        self,
        bus: Bus,
        spool: Spool,
        *,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 10.0,
    ) -> None:
        if not 0 < backoff_initial_s <= backoff_max_s:
            raise ValueError(
                f"backoff_initial_s is {backoff_initial_s} and backoff_max_s {backoff_max_s}; "
                "need 0 < initial <= max"
            )
        self.bus = bus
        self.spool = spool
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.stats = ForwarderStats()
        # Submitters take turns: "is the spool empty?" and the publish or append that follows
        # must not interleave with another submit, or a later batch could overtake.
        self._submit_lock = asyncio.Lock()
        self._spooled = asyncio.Event()
        self._drained = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._bus_down = False
        if spool.depth_batches == 0:
            self._drained.set()
        else:
            self._spooled.set()  # left over from the last run: replay it first

    async def submit(self, batch: Batch, shard: str) -> None:
        """Hand ``batch`` to the bus, or to the spool; raises SpoolFullError if both refuse."""
        async with self._submit_lock:
            if self.spool.depth_batches == 0:
                try:
                    await self.bus.publish(batch, shard)
                except BusUnavailable as exc:
                    self._note_bus_down(exc)
                else:
                    self.stats.published += 1
                    self.stats.published_readings += len(batch)
                    return
            try:
                await asyncio.to_thread(self.spool.append, batch, shard)
            except Exception:
                self.stats.refused += 1
                raise
            self.stats.spooled += 1
            self.stats.spooled_readings += len(batch)
            self._drained.clear()
            self._spooled.set()

    async def run(self) -> None:
        """Replay the spool for ever: oldest first, backing off while the bus refuses."""
        backoff = self.backoff_initial_s
        while True:
            await self._spooled.wait()
            waiting = await asyncio.to_thread(self.spool.peek, REPLAY_CHUNK)
            if not waiting:
                self._spooled.clear()
                if self.spool.depth_batches == 0:  # nothing was appended since the peek
                    self._drained.set()
                else:
                    self._spooled.set()
                continue
            taken: list[int] = []
            try:
                for item in waiting:
                    await self.bus.publish(item.batch, item.shard)
                    taken.append(item.seq)
                    self.stats.replayed += 1
                    self.stats.replayed_readings += len(item.batch)
            except BusUnavailable as exc:
                self._note_bus_down(exc)
            except Exception:
                # Keep the loop alive: the batch stays spooled, the spool alarm will tell.
                log.exception("replaying spooled batch %d failed", waiting[len(taken)].seq)
            finally:
                # Only what the bus has taken leaves the spool (also when cancelled midway).
                await asyncio.shield(asyncio.to_thread(self.spool.remove, taken))
            if len(taken) < len(waiting):
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.backoff_max_s)
                continue
            backoff = self.backoff_initial_s
            if self._bus_down:
                self._bus_down = False
                log.info("the bus takes batches again; %d still spooled", self.spool.depth_batches)

    def start(self) -> None:
        """Run the replay loop in the background."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="spool-replay")
            self._task.add_done_callback(_report_crash)

    async def stop(self) -> None:
        """Stop the replay loop; what is still spooled stays for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_drained(self, timeout_s: float | None = None) -> bool:
        """Wait until the spool is empty (needs the replay loop running); False on timeout."""
        try:
            await asyncio.wait_for(self._drained.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def _note_bus_down(self, exc: BusUnavailable) -> None:
        if not self._bus_down:
            log.warning("the bus refuses batches, spooling them: %s", exc)
        self._bus_down = True


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the spool replay loop stopped", exc_info=task.exception())
