"""Pick the bus from the settings: Redis Streams when ``ANH_REDIS_URL`` is set, else in-process."""

from __future__ import annotations

from collections.abc import Iterable

from anh_reporter.bus.base import Bus
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.bus.redis_streams import DEFAULT_CLAIM_IDLE_MS, RedisStreamsBus
from anh_reporter.config import Settings


def make_bus(
    settings: Settings,
    *,
    consumer: str | None = None,
    shards: Iterable[str] | None = None,
    claim_idle_ms: int = DEFAULT_CLAIM_IDLE_MS,
) -> Bus:
    """The configured bus; ``consumer``, ``shards`` and ``claim_idle_ms`` matter only to Redis.

    ``shards=None`` makes a Redis consumer serve every shard producers have published to.
    """
    if settings.redis_url:
        return RedisStreamsBus(
            settings.redis_url,
            shards=shards,
            consumer=consumer,
            claim_idle_ms=claim_idle_ms,
            prefix=settings.redis_prefix,
        )
    return MemoryBus()
