"""Response cache for analytics GETs: in-process L1, Redis L2, invalidated by (field, day).

An entry is tagged with the field and the UTC days its answer depends on. When readings of a
field land for a day, the ingest writer calls :func:`invalidate` (``field_id``, ``day``), or
runs :class:`CacheInvalidationHook` as its commit hook: the entries tagged with that pair are
dropped from this process, from Redis, and (through a Redis pub/sub message) from every other
API process. Keys are built after the caller's
authorisation, from the path and query only, so two users allowed to see a field share
entries and nobody reaches one without passing the same checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from anh_reporter.bus.base import Delivery
from anh_reporter.config import Settings
from anh_reporter.domain.timeutil import US_PER_DAY
from anh_reporter.ingest.batch import Batch
from anh_reporter.ingest.validate import SeriesCatalog
from anh_reporter.storage.database import Database

log = logging.getLogger(__name__)
CHANNEL = "anh:cache:invalidate"
_KEY = "anh:cache:v1:"
_TAG = "anh:cache:tag:"

Tag = tuple[int, dt.date]


def _tag_key(field_id: int, day: dt.date) -> str:
    return f"{_TAG}{field_id}:{day.isoformat()}"


@dataclass
class _Entry:
    body: bytes
    expires: float
    tags: tuple[Tag, ...]


class ResponseCache:
    """Bounded LRU in process (L1) in front of Redis (L2, optional)."""

    def __init__(self, *, ttl_s: float, max_entries: int, redis: Redis | None = None) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.redis = redis
        self._l1: OrderedDict[str, _Entry] = OrderedDict()
        self._by_tag: dict[Tag, set[str]] = {}
        self._listener: asyncio.Task[None] | None = None
        self.hits = self.misses = 0
        _caches.add(self)

    @property
    def enabled(self) -> bool:
        """False when configured with a zero lifetime or size."""
        return self.ttl_s > 0 and self.max_entries > 0

    async def get(self, key: str) -> bytes | None:
        """The cached body, from L1 or else L2 (then kept in L1 too)."""
        if not self.enabled:
            return None
        entry = self._l1.get(key)
        now = time.monotonic()
        if entry is not None:
            if entry.expires > now:
                self._l1.move_to_end(key)
                self.hits += 1
                return entry.body
            self._drop(key)
        if self.redis is not None:
            try:
                raw = await self.redis.get(_KEY + key)
            except (RedisError, OSError) as exc:
                log.warning("response cache: Redis get failed (%s)", exc)
                raw = None
            if raw is not None:
                data = raw if isinstance(raw, bytes) else str(raw).encode()
                tags_raw, _, body = data.partition(b"\n")
                tags = tuple((int(f), dt.date.fromisoformat(d)) for f, d in orjson.loads(tags_raw))
                self._put_l1(key, body, tags, now)
                self.hits += 1
                return body
        self.misses += 1
        return None

    async def set(self, key: str, body: bytes, tags: Iterable[Tag]) -> None:
        """Keep ``body`` under ``key``, tagged with the (field, day) pairs it depends on."""
        if not self.enabled:
            return
        tag_tuple = tuple(sorted(set(tags)))
        self._put_l1(key, body, tag_tuple, time.monotonic())
        if self.redis is not None:
            header = orjson.dumps([[f, d.isoformat()] for f, d in tag_tuple])
            ttl_ms = max(1, int(self.ttl_s * 1000))
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.set(_KEY + key, header + b"\n" + body, px=ttl_ms)
                    for field_id, day in tag_tuple:
                        pipe.sadd(_tag_key(field_id, day), key)
                        pipe.pexpire(_tag_key(field_id, day), ttl_ms * 2)
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                log.warning("response cache: Redis set failed (%s)", exc)

    def _put_l1(self, key: str, body: bytes, tags: tuple[Tag, ...], now: float) -> None:
        if key in self._l1:
            self._drop(key)
        self._l1[key] = _Entry(body, now + self.ttl_s, tags)
        for tag in tags:
            self._by_tag.setdefault(tag, set()).add(key)
        while len(self._l1) > self.max_entries:
            self._drop(next(iter(self._l1)))

    def _drop(self, key: str) -> None:
        entry = self._l1.pop(key, None)
        if entry is None:
            return
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]

    def drop_local(self, field_id: int, day: dt.date) -> int:
        """Drop this process's entries tagged (field, day); returns how many."""
        keys = self._by_tag.pop((field_id, day), set())
        for key in list(keys):
            self._drop(key)
        return len(keys)

    async def invalidate(self, field_id: int, day: dt.date) -> None:
        """Drop entries for (field, day) here, in Redis, and in every other API process."""
        self.drop_local(field_id, day)
        if self.redis is not None:
            await _invalidate_redis(self.redis, field_id, day)

    def clear(self) -> None:
        """Forget every L1 entry."""
        self._l1.clear()
        self._by_tag.clear()

    def start_listener(self) -> None:
        """Follow other processes' invalidations (Redis pub/sub); no-op without Redis."""
        if self.redis is not None and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="cache-invalidations")

    async def _listen(self) -> None:
        assert self.redis is not None
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        field_id, day = orjson.loads(message["data"])
                        self.drop_local(int(field_id), dt.date.fromisoformat(day))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ValueError) as exc:
                # Without the channel, entries may outlive their data: empty L1 and retry.
                log.warning("response cache: invalidation channel lost (%s); retrying", exc)
                self.clear()
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        """Stop listening and forget entries."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self.clear()
        _caches.discard(self)


async def _invalidate_redis(redis: Redis, field_id: int, day: dt.date) -> None:
    tag = _tag_key(field_id, day)
    try:
        keys = await redis.smembers(tag)
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.delete(_KEY + (key.decode() if isinstance(key, bytes) else str(key)))
            pipe.delete(tag)
            pipe.publish(CHANNEL, orjson.dumps([field_id, day.isoformat()]))
            await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("response cache: Redis invalidation of %s failed (%s)", tag, exc)


_caches: weakref.WeakSet[ResponseCache] = weakref.WeakSet()


async def invalidate(field_id: int, day: dt.date, *, redis_url: str | None = None) -> None:
    """New data for ``field_id`` on UTC ``day`` landed: drop cached answers that used it.

    Call it after the commit. In a process that serves the API this reaches its caches (and
    through Redis every other API process); a process without an API (an ingest worker) passes
    ``redis_url`` to reach the API processes through Redis.
    """
    caches = list(_caches)
    for cache in caches:
        await cache.invalidate(field_id, day)
    if not caches and redis_url:
        redis = Redis.from_url(redis_url)
        try:
            await _invalidate_redis(redis, field_id, day)
        finally:
            await redis.aclose()


def days_touched(time_us: npt.NDArray[np.int64]) -> list[dt.date]:
    """The distinct UTC days of a batch's readings (what to pass to :func:`invalidate`)."""
    if len(time_us) == 0:
        return []
    days = np.unique(time_us // US_PER_DAY)
    epoch = dt.date(1970, 1, 1)
    return [epoch + dt.timedelta(days=int(d)) for d in days]


def field_days(
    series_field: npt.NDArray[np.int32],
    series_id: npt.NDArray[np.int32],
    time_us: npt.NDArray[np.int64],
) -> list[Tag]:
    """The distinct (field, UTC day) pairs of readings, given each series' field (by id)."""
    if len(series_id) == 0:
        return []
    inside = (series_id >= 0) & (series_id < len(series_field))
    fields = series_field[series_id[inside]].astype(np.int64)
    days = time_us[inside] // US_PER_DAY
    keep = fields > 0  # 0: a series the catalogue does not know (yet)
    pairs = np.unique(np.stack((fields[keep], days[keep]), axis=1), axis=0)
    epoch = dt.date(1970, 1, 1)
    return [(int(f), epoch + dt.timedelta(days=int(d))) for f, d in pairs]


class CacheInvalidationHook:
    """The ingest pipeline's commit hook (``IngestPipeline(..., on_commit=[hook])``): after
    each commit, drop the cached analytics answers of the (field, UTC day) pairs it wrote.

    In a process that also serves the API the caches are dropped directly (and, with Redis,
    everywhere else too); an ingest worker on its own reaches the API processes through Redis
    (``settings.redis_url``); with neither, there is nothing to drop. The series-to-field map is
    read from the database once, and again when a series it does not know shows up.
    """

    def __init__(self, settings: Settings, database: Database) -> None:
        self.database = database
        self.redis_url = settings.redis_url
        self._series_field = np.zeros(0, dtype=np.int32)
        self._redis: Redis | None = None

    async def __call__(self, deliveries: list[Delivery], good: Batch, committed: float) -> None:
        """Invalidate what ``good`` (the committed readings) touched."""
        if not len(good) or (not _caches and not self.redis_url):
            return
        ids = good.series_id
        known = (ids >= 0) & (ids < len(self._series_field))
        if not known.all() or not (self._series_field[ids[known]] > 0).all():
            await asyncio.to_thread(self._load)
        for field_id, day in field_days(self._series_field, ids, good.time_us):
            await self._invalidate(field_id, day)

    def _load(self) -> None:
        with self.database.connect() as conn:
            self._series_field = SeriesCatalog.load(conn).field_id

    async def _invalidate(self, field_id: int, day: dt.date) -> None:
        caches = list(_caches)
        for cache in caches:
            await cache.invalidate(field_id, day)
        if not caches and self.redis_url:
            if self._redis is None:
                self._redis = Redis.from_url(self.redis_url)
            await _invalidate_redis(self._redis, field_id, day)

    async def close(self) -> None:
        """Close the hook's Redis client, if it opened one."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
