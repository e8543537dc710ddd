"""One small interface for the bus, with an in-process and a Redis Streams implementation.

Producers ``publish`` batches to a shard (the field's code). The writer ``consume``s
deliveries, writes them, then ``ack``s them: an unacknowledged delivery is delivered again
(Redis: claimed by another consumer after ``claim_idle_ms``). After a commit the writer
``announce``s the committed batch to live subscribers of its field (WebSocket, analytics).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from anh_reporter.domain.batch import Batch
from anh_reporter.errors import AnhError


class BusUnavailable(AnhError):
    """The bus cannot take the batch now (down, or full): the producer should spool it."""


@dataclass(frozen=True)
class Delivery:
    """One batch handed to a consumer, with what is needed to acknowledge it."""

    batch: Batch
    shard: str
    token: str  # bus-specific id (Redis entry id; a counter in memory)
    published_at: float = 0.0  # when the producer published it (Unix seconds), for latency
    batch_id: str = ""  # the publisher's id for the batch (logs, traces); "" if it gave none
    trace_parent: str = ""  # W3C traceparent of the publish span, when tracing is on
    # Taken over from a consumer that died or stalled: older than what others may have written
    # of the same series since (the writer merges it into the rollups apart from the rest).
    redelivered: bool = False


class Bus(Protocol):
    """What producers, the writer and live subscribers need from a bus."""

    async def publish(self, batch: Batch, shard: str) -> None:
        """Hand a batch to the bus; raise :class:`BusUnavailable` if it cannot take it."""
        ...

    async def consume(self, max_batches: int, timeout_s: float) -> list[Delivery]:
        """Up to ``max_batches`` deliveries, waiting at most ``timeout_s`` for the first."""
        ...

    async def ack(self, deliveries: list[Delivery]) -> None:
        """Acknowledge deliveries whose batches are committed to the database."""
        ...

    async def announce(self, batch: Batch, shard: str) -> None:
        """Tell live subscribers of ``shard`` that ``batch`` is committed."""
        ...

    def subscribe(self, shard: str) -> AsyncIterator[Batch]:
        """Committed batches of ``shard`` from now on (a slow subscriber loses batches)."""
        ...

    async def close(self) -> None:
        """Release connections and wake waiting consumers."""
        ...
