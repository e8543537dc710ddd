"""Announce the (field, UTC day) pairs each commit changed, to whoever caches answers on them.

The writer does not know who caches what. :class:`ChangeNotifier`, run as the ingest pipeline's
commit hook, tells the listeners of its own process (:func:`add_listener`; the API's response
cache registers one) and, with Redis, every other process through the pub/sub channel
:data:`CHANNEL` (one message ``[field_id, "YYYY-MM-DD"]`` per pair).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

import numpy as np
import numpy.typing as npt
import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from anh_reporter.bus.base import Delivery
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import US_PER_DAY
from anh_reporter.ingest.validate import SeriesCatalog
from anh_reporter.storage.database import Database

log = logging.getLogger(__name__)
CHANNEL = "anh:data:changed"
EPOCH_DAY = dt.date(1970, 1, 1)

FieldDay = tuple[int, dt.date]
Listener = Callable[[int, dt.date], Awaitable[None]]
_listeners: list[Listener] = []


def add_listener(listener: Listener) -> None:
    """Call ``listener(field_id, day)`` after each commit in this process that touches them."""
    _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    """Stop calling ``listener`` (no error when it was not registered)."""
    if listener in _listeners:
        _listeners.remove(listener)


def field_days(
    series_field: npt.NDArray[np.int32],
    series_id: npt.NDArray[np.int32],
    time_us: npt.NDArray[np.int64],
) -> list[FieldDay]:
    """The distinct (field, UTC day) pairs of readings, given each series' field (by id)."""
    if len(series_id) == 0:
        return []
    inside = (series_id >= 0) & (series_id < len(series_field))
    fields = series_field[series_id[inside]].astype(np.int64)
    days = time_us[inside] // US_PER_DAY
    keep = fields > 0  # 0: a series the catalogue does not know (yet)
    pairs = np.unique(np.stack((fields[keep], days[keep]), axis=1), axis=0)
    return [(int(f), EPOCH_DAY + dt.timedelta(days=int(d))) for f, d in pairs]


def parse_message(data: bytes | str) -> FieldDay:
    """A (field, day) pair from a :data:`CHANNEL` message; ``ValueError`` when malformed."""
    field_id, day = orjson.loads(data)
    return int(field_id), dt.date.fromisoformat(day)


class ChangeNotifier:
    """The ingest pipeline's commit hook: announce the (field, UTC day) pairs of each commit.

    The series-to-field map is read from the database once, and again when a series it does not
    know shows up. With neither a listener in this process nor Redis there is nobody to tell.
    """

    def __init__(self, database: Database, *, redis_url: str | None) -> None:
        self.database = database
        self.redis_url = redis_url
        self._series_field = np.zeros(0, dtype=np.int32)
        self._redis: Redis | None = None

    async def __call__(self, deliveries: list[Delivery], good: Batch, committed: float) -> None:
        """Announce what ``good`` (the committed readings) touched."""
        if not len(good) or (not _listeners and not self.redis_url):
            return
        ids = good.series_id
        known = (ids >= 0) & (ids < len(self._series_field))
        if not known.all() or not (self._series_field[ids[known]] > 0).all():
            await asyncio.to_thread(self._load)
        pairs = field_days(self._series_field, ids, good.time_us)
        for field_id, day in pairs:
            for listener in list(_listeners):
                await listener(field_id, day)
        if self.redis_url and pairs:
            await self._publish(pairs)

    def _load(self) -> None:
        with self.database.connect() as conn:
            self._series_field = SeriesCatalog.load(conn).field_id

    async def _publish(self, pairs: list[FieldDay]) -> None:
        if self._redis is None:
            self._redis = Redis.from_url(str(self.redis_url))
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for field_id, day in pairs:
                    pipe.publish(CHANNEL, orjson.dumps([field_id, day.isoformat()]))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("data-changed announcement failed (%s); caches expire by TTL", exc)

    async def close(self) -> None:
        """Close the notifier's Redis client, if it opened one."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
