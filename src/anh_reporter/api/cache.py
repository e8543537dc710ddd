"""Response cache for analytics GETs: in-process L1, Redis L2, invalidated by (field, day).

An entry is tagged with the field and the UTC days its answer depends on. When readings of a
field land for a day, the writer's :class:`~anh_reporter.ingest.changes.ChangeNotifier`
announces the pair, in this process and through Redis to every other one; the cache drops the
entries tagged with it, here and in Redis. Keys are built after the caller's authorisation,
from the path and the validated parameters only (:func:`cache_key`: parameters a route does not
take, or the same ones in another order or spelling, make no new entry), so two users allowed
to see a field share entries and nobody reaches one without passing the same checks. L1 is
capped by the bytes of its bodies as well as by entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from fastapi import Request
from redis.asyncio import Redis
from redis.exceptions import RedisError

from anh_reporter.ingest import changes

log = logging.getLogger(__name__)
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

    def __init__(
        self,
        *,
        ttl_s: float,
        max_entries: int,
        max_bytes: int = 64 << 20,
        redis: Redis | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.redis = redis
        self.bytes = 0  # bodies held in L1
        self._l1: OrderedDict[str, _Entry] = OrderedDict()
        self._by_tag: dict[Tag, set[str]] = {}
        self._listener: asyncio.Task[None] | None = None
        self.hits = self.misses = 0

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
        if len(body) > self.max_bytes:
            return  # bigger than the whole cache: Redis only
        self._l1[key] = _Entry(body, now + self.ttl_s, tags)
        self.bytes += len(body)
        for tag in tags:
            self._by_tag.setdefault(tag, set()).add(key)
        while len(self._l1) > self.max_entries or self.bytes > self.max_bytes:
            self._drop(next(iter(self._l1)))

    def _drop(self, key: str) -> None:
        entry = self._l1.pop(key, None)
        if entry is None:
            return
        self.bytes -= len(entry.body)
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
        """Drop entries for (field, day) here and in Redis (other processes hear the change too)."""
        self.drop_local(field_id, day)
        if self.redis is not None:
            await _drop_redis(self.redis, field_id, day)

    def clear(self) -> None:
        """Forget every L1 entry."""
        self._l1.clear()
        self._by_tag.clear()
        self.bytes = 0

    def start_listener(self) -> None:
        """Follow data changes: this process's commits, and (with Redis) every other's."""
        changes.add_listener(self.invalidate)
        if self.redis is not None and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="cache-invalidations")

    async def _listen(self) -> None:
        assert self.redis is not None  # noqa: S101 - narrows for mypy: started only with Redis
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(changes.CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        await self.invalidate(*changes.parse_message(message["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ValueError) as exc:
                # Without the channel, entries may outlive their data: empty L1 and retry.
                log.warning("response cache: invalidation channel lost (%s); retrying", exc)
                self.clear()
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        """Stop listening and forget entries."""
        changes.remove_listener(self.invalidate)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self.clear()


async def _drop_redis(redis: Redis, field_id: int, day: dt.date) -> None:
    tag = _tag_key(field_id, day)
    try:
        keys = await redis.smembers(tag)
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.delete(_KEY + (key.decode() if isinstance(key, bytes) else str(key)))
            pipe.delete(tag)
            await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("response cache: Redis invalidation of %s failed (%s)", tag, exc)


def cache_key(request: Request, **params: object) -> str:
    """The path and the route's validated ``params``, in a canonical form.

    Only what the route took: junk parameters, a repeated or reordered parameter, another
    spelling of the same date all give the same key, so a caller cannot fill the cache (here
    and in Redis) with copies of one answer.
    """
    canonical = "&".join(f"{name}={_canonical(value)}" for name, value in sorted(params.items()))
    return f"{request.scope['path']}?{canonical}"


def _canonical(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def utc_days(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    """The UTC days from ``start`` to ``end`` (what a cached answer is tagged with)."""
    first, last = start.astimezone(dt.UTC).date(), end.astimezone(dt.UTC).date()
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
