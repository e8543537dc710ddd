"""The scaled-out bus: Redis Streams with consumer groups, one stream per shard (field code).

Keys (``prefix`` defaults to ``anh``):

- ``anh:ingest:{shard}`` a stream; one entry is one whole batch in :meth:`Batch.to_bytes` form
  (field ``b``), never one entry per reading (Redis stops at ~60-100K entries/s from Python),
  with the batch's id (field ``i``, 16 hex digits, for logs and traces) and, when tracing is
  on, the publish span's W3C traceparent (field ``t``).
- ``anh:ingest:shards`` a set of the shards that have been published to, kept by ``publish``;
  a consumer built with ``shards`` serves exactly those; one built without discovers them
  there (re-read every few seconds) and serves its share of them (``affinity``, the default:
  see :mod:`.redis_members`, registered in ``anh:ingest:members:{group}``) or all of them.
- ``anh:live:{shard}`` a pub/sub channel of committed batches (``announce``/``subscribe``).

Delivery is at least once. The writer acks a delivery after its database commit; ``ack`` is
XACK then XDEL, so written entries leave the stream (no MAXLEN trimming: it could drop batches
nobody has written yet). A delivery that is never acked, because its consumer died or gave up
on it, stays pending and is claimed with XAUTOCLAIM by whichever consumer calls ``consume``
once it has been idle ``claim_idle_ms``: there is no nack. The writer is idempotent on
``(series_id, time)``, so a batch delivered twice changes nothing.

A live consumer keeps what it is still working on from looking idle: :meth:`keep_alive`
re-claims to itself (XCLAIM ... JUSTID, which resets the idle time) the entries it still holds
once they have been held a third of ``claim_idle_ms`` (see :mod:`.redis_holds`), so a slow
writer is not doubled by the others while a dead (or stuck) one's entries are still claimed.
Reads are bounded: one ``consume`` reads about ``max_batches`` entries over all the shards,
never ``max_batches`` from each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any, cast
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError, ResponseError

from anh_reporter.bus.base import BusUnavailable, Delivery
from anh_reporter.bus.redis_holds import KEEP_ALIVE_FRACTION, Holds
from anh_reporter.bus.redis_live import LiveFanout
from anh_reporter.bus.redis_members import Membership
from anh_reporter.domain.batch import Batch, BatchFormatError
from anh_reporter.errors import first_line
from anh_reporter.observability import logs, tracing

log = logging.getLogger(__name__)

DEFAULT_GROUP = "writers"
DEFAULT_CLAIM_IDLE_MS = 30_000
DISCOVERY_INTERVAL_S = 2.0  # how often a consumer without fixed shards re-reads the shard set
MEMBER_TTL_MIN_MS = round(3_000 * DISCOVERY_INTERVAL_S)  # affinity: a consumer heard from
HANDOVER_CONSUMER = "handover"  # holds a retiring consumer's unacked entries, claimable at once
# Removes, atomically with respect to every read, the consumers of one stream's group that hold
# nothing and have not read for ARGV[2] ms (other than ARGV[3]); returns their names. Atomic, so
# a consumer cannot read an entry between the check and the removal (which would orphan it).
_FORGET_IDLE_LUA = """
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
local removed = {}
if not ok then return removed end
for _, c in ipairs(consumers) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['name'] ~= ARGV[3] and info['pending'] == 0 and info['idle'] >= tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    table.insert(removed, info['name'])
  end
end
return removed
"""
BATCH_FIELD = b"b"
BATCH_ID_FIELD = b"i"
TRACE_FIELD = b"t"
# Connection errors and timeouts: the link is down, not the request wrong.
_LINK_ERRORS = (RedisError, OSError, TimeoutError)


def display_url(url: str) -> str:
    """A Redis URL without its password, fit for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{user}:***@{host}{port}").geturl()


def default_consumer_name() -> str:
    """``host-pid``: unique per live process, readable in XINFO CONSUMERS."""
    return f"{socket.gethostname()}-{os.getpid()}"


class RedisStreamsBus:
    """The :class:`~anh_reporter.bus.base.Bus` on Redis Streams, for several processes.

    ``shards``: the shards this consumer serves; ``None`` discovers them from the shard set
    (producers need not pass any) and, with ``affinity``, serves only this consumer's share
    of them among the group's live consumers (so two never write one field's rollups at once),
    else all of them. ``consumer``: this consumer's name in the group (default
    ``host-pid``). ``claim_idle_ms``: how long a delivery may stay unacknowledged, without
    :meth:`keep_alive`, before another consume (of any consumer, this one included) takes it
    over. One task consumes from an instance at a time; producers may share one instance.
    """

    def __init__(
        self,
        url: str,
        *,
        shards: Iterable[str] | None = None,
        group: str = DEFAULT_GROUP,
        consumer: str | None = None,
        claim_idle_ms: int = DEFAULT_CLAIM_IDLE_MS,
        prefix: str = "anh",
        affinity: bool = True,
        socket_timeout_s: float = 5.0,
        connect_timeout_s: float = 2.0,
    ) -> None:
        if claim_idle_ms < 1:
            raise ValueError(f"claim_idle_ms is {claim_idle_ms}; it must be at least 1")
        self.url = url
        self.display_url = display_url(url)
        self.group = group
        self.consumer = consumer or default_consumer_name()
        self.claim_idle_ms = claim_idle_ms
        self.prefix = prefix
        self.socket_timeout_s = socket_timeout_s
        self._fixed_shards = None if shards is None else list(dict.fromkeys(shards))
        for shard in self._fixed_shards or ():
            self._check_shard(shard)
        self._shards_key = f"{prefix}:ingest:shards"
        # One quick retry only: a producer must learn fast that Redis is gone, so it spools.
        options: dict[str, Any] = {
            "socket_connect_timeout": connect_timeout_s,
            "protocol": 2,  # the reply shapes parsed below
            "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1),
        }
        self._redis: Redis = Redis.from_url(url, socket_timeout=socket_timeout_s, **options)
        # XREADGROUP BLOCK holds its connection for the whole wait: its own client, without a
        # socket timeout (``consume`` bounds the wait itself).
        self._blocking: Redis = Redis.from_url(url, socket_timeout=None, **options)
        self._closed = False
        self._discovered: list[str] = []
        self._discovered_at = -float("inf")
        self._groups_ready: set[str] = set()
        self._claim_cursor: dict[str, bytes] = {}
        self._next_claim_at = 0.0
        self._buffer: deque[Delivery] = deque()  # read beyond max_batches, handed out next
        self._holds = Holds(claim_idle_ms)  # delivered and not acked yet (keep_alive)
        self._members = (
            # Alive while heard from within the claim time (and a few discovery rounds).
            Membership(prefix, group, self.consumer, max(claim_idle_ms, MEMBER_TTL_MIN_MS))
            if affinity and shards is None
            else None
        )
        self._blocked_read: asyncio.Future[Any] | None = None
        self._live = LiveFanout(self._redis, prefix, self.display_url, self._unavailable)

    # -- keys -----------------------------------------------------------------------------

    def _check_shard(self, shard: str) -> None:
        if not shard or shard == "shards" or ":" in shard:
            raise ValueError(
                f"shard {shard!r} cannot name a Redis stream: use a field code without ':' "
                "other than 'shards'"
            )

    def stream_key(self, shard: str) -> str:
        """The stream of ``shard``'s batches."""
        return f"{self.prefix}:ingest:{shard}"

    def _unavailable(self, doing: str, exc: BaseException) -> BusUnavailable:
        return BusUnavailable(f"Redis at {self.display_url} cannot {doing}: {first_line(exc)}")

    # -- producer -------------------------------------------------------------------------

    async def publish(self, batch: Batch, shard: str) -> None:
        """Append ``batch`` to its shard's stream as one entry; BusUnavailable if Redis cannot."""
        if self._closed:
            raise BusUnavailable(f"the Redis bus for {self.display_url} is closed")
        self._check_shard(shard)
        batch_id = secrets.token_hex(8)
        entry: dict[Any, Any] = {BATCH_FIELD: batch.to_bytes(), BATCH_ID_FIELD: batch_id}
        attributes = {"anh.batch_id": batch_id, "anh.shard": shard, "anh.readings": len(batch)}
        try:
            with tracing.span("ingest.publish", kind="producer", attributes=attributes):
                if tracing.enabled():
                    entry[TRACE_FIELD] = tracing.traceparent() or ""
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.xadd(self.stream_key(shard), entry)
                    pipe.sadd(self._shards_key, shard)
                    await pipe.execute()
        except _LINK_ERRORS as exc:
            # Any refusal (down, timeout, OOM, read-only replica) means "spool it and retry".
            raise self._unavailable(f"take a batch for shard {shard!r}", exc) from None

    # -- consumer -------------------------------------------------------------------------

    async def consume(self, max_batches: int, timeout_s: float) -> list[Delivery]:
        """Up to ``max_batches`` deliveries: idle pending ones claimed first, then new ones.

        Waits at most ``timeout_s`` for the first; raises BusUnavailable when Redis is
        unreachable, returns ``[]`` once the bus is closed.
        """
        out: list[Delivery] = []
        while self._buffer and len(out) < max_batches:
            out.append(self._buffer.popleft())
        if self._closed or len(out) >= max_batches:
            return out
        try:
            shards = await self._served_shards()
            if not shards:
                await asyncio.sleep(min(timeout_s, DISCOVERY_INTERVAL_S))
                return out
            await self._ensure_groups(shards)
            if time.monotonic() >= self._next_claim_at:
                out.extend(await self._claim_idle(shards, max_batches - len(out)))
            if len(out) < max_batches:
                out.extend(await self._read_new(shards, max_batches - len(out), out, timeout_s))
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise self._unavailable("deliver batches", exc) from None
            # The stream or group vanished (Redis restarted empty, FLUSHDB): make them again.
            self._groups_ready.clear()
        except _LINK_ERRORS as exc:
            if self._closed or out:
                return out  # what we hold is ours (pending under our name) until acked
            raise self._unavailable("deliver batches", exc) from None
        while len(out) > max_batches:
            self._buffer.appendleft(out.pop())
        return out

    async def _served_shards(self) -> list[str]:
        if self._fixed_shards is not None:
            return self._fixed_shards
        now = time.monotonic()
        if now - self._discovered_at >= DISCOVERY_INTERVAL_S:
            found = [_text(m) for m in await self._redis.smembers(self._shards_key)]
            if self._members is not None:
                await self._members.heartbeat(self._redis)
                found = self._members.share(found)
            self._discovered = sorted(found)
            self._discovered_at = now
        return self._discovered

    async def _ensure_groups(self, shards: list[str]) -> None:
        for shard in shards:
            if shard in self._groups_ready:
                continue
            try:
                # From id 0: batches published before any consumer existed are delivered too.
                await self._redis.xgroup_create(self.stream_key(shard), self.group, "0", True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._groups_ready.add(shard)

    async def _claim_idle(self, shards: list[str], count: int) -> list[Delivery]:
        count = _per_stream(count, len(shards))
        async with self._redis.pipeline(transaction=False) as pipe:
            for shard in shards:
                pipe.xautoclaim(
                    self.stream_key(shard),
                    self.group,
                    self.consumer,
                    self.claim_idle_ms,
                    self._claim_cursor.get(shard, b"0-0"),
                    count=count,
                )
            replies = await pipe.execute()
        claimed: list[Delivery] = []
        sweep_done = True
        for shard, reply in zip(shards, replies, strict=True):
            cursor, entries = reply[0], reply[1]
            self._claim_cursor[shard] = cursor
            sweep_done &= cursor in (b"0-0", "0-0")
            got = await self._deliveries(shard, entries, redelivered=True)
            if got:
                with logs.batch_scope(d.batch_id for d in got):
                    log.warning(
                        "claimed %d batches of shard %s left unacknowledged for more than %d ms "
                        "(a consumer died or gave up on them)",
                        len(got),
                        shard,
                        self.claim_idle_ms,
                    )
            claimed.extend(got)
        # Nothing becomes claimable faster than claim_idle_ms: sweep a few times per period,
        # and right away again while the sweep has not reached the end of the pending list.
        self._next_claim_at = time.monotonic() + (self.claim_idle_ms / 4000 if sweep_done else 0.0)
        return claimed

    async def _read_new(
        self, shards: list[str], count: int, have: list[Delivery], timeout_s: float
    ) -> list[Delivery]:
        streams: dict[Any, Any] = {self.stream_key(s): ">" for s in shards}
        count = _per_stream(count, len(shards))  # XREADGROUP's COUNT is per stream
        if have or timeout_s <= 0:
            # Something to hand out already: take what is there, do not wait.
            reply = await self._redis.xreadgroup(self.group, self.consumer, streams, count)
        else:
            block_ms = max(1, round(timeout_s * 1000))
            # A task that close() can cancel: closing the client does not wake a blocked read.
            self._blocked_read = asyncio.ensure_future(
                asyncio.wait_for(
                    self._blocking.xreadgroup(self.group, self.consumer, streams, count, block_ms),
                    timeout_s + self.socket_timeout_s,
                )
            )
            try:
                reply = await self._blocked_read
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if self._closed and not (task and task.cancelling()):
                    return []  # woken by close(); anything read stays pending, is reclaimed
                raise
            finally:
                self._blocked_read = None
        if not reply:
            return []
        key_to_shard = {self.stream_key(s).encode(): s for s in shards}
        new: list[Delivery] = []
        for key, entries in cast(list[Any], reply):  # RESP2: [[key, [(id, fields), ...]], ...]
            new.extend(await self._deliveries(key_to_shard[key], entries))
        return new

    async def _deliveries(
        self, shard: str, entries: Any, *, redelivered: bool = False
    ) -> list[Delivery]:
        out: list[Delivery] = []
        poison: list[bytes] = []
        now = time.monotonic()
        for entry_id, fields in entries:
            if entry_id is None or fields is None:
                continue  # deleted while pending (already written and acked)
            token = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            try:
                batch = Batch.from_bytes(fields[BATCH_FIELD])
            except (KeyError, BatchFormatError) as exc:
                log.error(
                    "stream %s entry %s is not a batch (%s); acknowledged and left in the "
                    "stream for inspection",
                    self.stream_key(shard),
                    token,
                    first_line(exc),
                )
                poison.append(entry_id)
                continue
            # An entry id is "<ms since epoch>-<seq>": Redis's own publication time.
            published_at = int(token.split("-", 1)[0]) / 1000.0
            out.append(
                Delivery(
                    batch,
                    shard,
                    token,
                    published_at,
                    _text(fields.get(BATCH_ID_FIELD)),
                    _text(fields.get(TRACE_FIELD)),
                    redelivered,
                )
            )
            self._holds.delivered(shard, token, now)
        if poison:
            # Acked so it is not redelivered forever, not deleted so it can be examined.
            await self._redis.xack(self.stream_key(shard), self.group, *poison)
        return out

    async def ack(self, deliveries: list[Delivery]) -> None:
        """XACK then XDEL committed deliveries; BusUnavailable if Redis cannot be reached.

        If it fails the entries stay pending and are delivered again after ``claim_idle_ms``;
        the idempotent writer then writes nothing twice.
        """
        if not deliveries:
            return
        by_shard: dict[str, list[str]] = {}
        for d in deliveries:
            by_shard.setdefault(d.shard, []).append(d.token)
            self._holds.release(d.shard, d.token)  # if the ack fails: claimable again
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for shard, ids in by_shard.items():
                    pipe.xack(self.stream_key(shard), self.group, *ids)
                    pipe.xdel(self.stream_key(shard), *ids)
                await pipe.execute()
        except _LINK_ERRORS as exc:
            raise self._unavailable(f"acknowledge {len(deliveries)} batches", exc) from None

    async def nack(self, deliveries: list[Delivery]) -> None:
        """Optional: make unwritten deliveries claimable now instead of after ``claim_idle_ms``.

        Not needed for correctness (an unacked delivery comes back by itself); it shortens the
        wait when the writer knows it will not write them (e.g. the database is down).
        """
        by_shard: dict[str, list[Any]] = {}
        for d in deliveries:
            by_shard.setdefault(d.shard, []).append(d.token)
            self._holds.release(d.shard, d.token)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for shard, ids in by_shard.items():
                    pipe.xclaim(
                        self.stream_key(shard),
                        self.group,
                        self.consumer,
                        0,
                        ids,
                        idle=self.claim_idle_ms,
                        justid=True,
                    )
                await pipe.execute()
        except _LINK_ERRORS as exc:
            raise self._unavailable(f"release {len(deliveries)} batches", exc) from None
        self._next_claim_at = 0.0

    @property
    def keep_alive_every_s(self) -> float:
        """How often a consumer holding deliveries should call :meth:`keep_alive`."""
        return self.claim_idle_ms / 1000 / (2 * KEEP_ALIVE_FRACTION)

    async def keep_alive(self, deliveries: list[Delivery]) -> int:
        """Keep ``deliveries`` (and this instance's read-ahead) from being claimed by others.

        The holder of unacknowledged deliveries calls this every :attr:`keep_alive_every_s`
        while it works on them (the writer: those waiting for a flush and those being written);
        see :mod:`.redis_holds`. Returns how many entries had their idle time reset; raises
        BusUnavailable if Redis cannot be reached.
        """
        now = time.monotonic()
        if self._members is not None:  # alive while writing, too: not only while reading
            try:
                await self._members.heartbeat(self._redis)
            except _LINK_ERRORS as exc:
                raise self._unavailable("say this consumer is alive", exc) from None
        due = self._holds.due(((d.shard, d.token) for d in (*deliveries, *self._buffer)), now)
        if not due:
            return 0
        keys = {shard: self.stream_key(shard) for shard in due}
        try:
            kept, lost = await self._holds.refresh(
                self._redis, keys, self.group, self.consumer, due, now
            )
        except _LINK_ERRORS as exc:
            raise self._unavailable("keep held batches", exc) from None
        if lost:
            log.warning(
                "%d batches this consumer still holds were claimed by another one (held longer "
                "than %d ms); both write them, the writer skips what is stored",
                lost,
                self.claim_idle_ms,
            )
        return kept

    # -- consumer names -------------------------------------------------------------------

    async def retire(self) -> int:
        """Leave the group cleanly: hand over what this consumer still holds, then DELCONSUMER.

        Call it after the last ack. Entries still pending under this name (read ahead, or an
        ack that failed) are XCLAIMed by :data:`HANDOVER_CONSUMER` with their idle time set to
        ``claim_idle_ms``, so the next XAUTOCLAIM of any live consumer takes them at once; only
        then is the name deleted (XGROUP DELCONSUMER drops a consumer's pending entries, which
        would orphan them). Returns how many entries were handed over.
        """
        self._buffer.clear()  # pending under our name: handed over below
        self._holds.clear()
        if self._members is not None:
            await self._members.leave(self._redis)  # the others take our shards at once
        handed = 0
        for shard in sorted(self._groups_ready):
            key = self.stream_key(shard)
            while True:
                rows = await self._redis.xpending_range(
                    key, self.group, "-", "+", 1000, consumername=self.consumer
                )
                if not rows:
                    break
                ids: list[Any] = [r["message_id"] for r in rows]
                await self._redis.xclaim(
                    key,
                    self.group,
                    HANDOVER_CONSUMER,
                    0,
                    ids,
                    idle=self.claim_idle_ms,
                    justid=True,
                )
                handed += len(ids)
            await self._redis.xgroup_delconsumer(key, self.group, self.consumer)
        if handed:
            log.warning("handed over %d unacknowledged batches on leaving the group", handed)
        return handed

    async def forget_idle_consumers(self, idle_ms: int) -> list[str]:
        """Delete the group's consumers that hold nothing and have been idle ``idle_ms``.

        A worker killed without :meth:`retire` leaves its name behind; once the others have
        claimed its entries it holds nothing and is forgotten here. A live consumer removed
        while stalled is recreated by its next read, losing nothing. Returns the names removed.
        """
        removed: list[str] = []
        for shard in await self._served_shards():
            names = await self._redis.eval(
                _FORGET_IDLE_LUA, 1, self.stream_key(shard), self.group, idle_ms, self.consumer
            )
            removed.extend(n.decode() if isinstance(n, bytes) else str(n) for n in names)
        if removed:
            log.info("forgot idle consumers without pending entries: %s", ", ".join(removed))
        return removed

    async def group_backlog(self) -> dict[str, tuple[int, int]]:
        """Per known shard: (entries pending in the group, entries not yet delivered to it).

        Read-only, one pipeline of XINFO GROUPS and XLEN. Where Redis gives no ``lag`` (before
        7.0, or when it cannot tell) it is XLEN - pending: acked entries are deleted, so the
        stream holds the pending ones and the undelivered ones (and rare poison entries).
        """
        known = {_text(m) for m in await self._redis.smembers(self._shards_key)}
        shards = sorted(known | set(self._fixed_shards or ()))
        async with self._redis.pipeline(transaction=False) as pipe:
            for shard in shards:
                pipe.xinfo_groups(self.stream_key(shard))
                pipe.xlen(self.stream_key(shard))
            replies = await pipe.execute(raise_on_error=False)
        out: dict[str, tuple[int, int]] = {}
        for shard, groups, length in zip(shards, replies[::2], replies[1::2], strict=True):
            mine = [] if isinstance(groups, Exception) else groups
            for g in mine:
                if _text(g.get("name")) == self.group:
                    pending, lag = int(g.get("pending") or 0), g.get("lag")
                    out[shard] = (pending, max(int(length) - pending, 0) if lag is None else lag)
        return out

    # -- live fan-out ---------------------------------------------------------------------

    def channel(self, shard: str) -> str:
        """The pub/sub channel of ``shard``'s committed batches."""
        return self._live.channel(shard)

    async def announce(self, batch: Batch, shard: str) -> None:
        """PUBLISH a committed batch on ``anh:live:{shard}``; best effort, never raises."""
        await self._live.announce(batch, shard)

    def subscribe(self, shard: str) -> AsyncIterator[Batch]:
        """Committed batches of ``shard`` from now on; a slow reader loses the oldest."""
        return self._live.subscribe(shard)

    # -- lifetime -------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connections: a consumer waiting in ``consume`` returns, subscribers end."""
        self._closed = True
        if self._blocked_read is not None:
            self._blocked_read.cancel()
        self._live.close()
        for client in (self._blocking, self._redis):
            with contextlib.suppress(*_LINK_ERRORS):
                await client.aclose()


def _per_stream(count: int, streams: int) -> int:
    """COUNT for each of ``streams`` streams so that one read takes about ``count`` in all."""
    return max(1, -(-count // max(streams, 1)))


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")
