"""Open WebSockets per user or API key, capped across every API process.

With Redis, each owner has a sorted set ``anh:ws:<kind>:<id>`` of its open sockets, each
scored with the time its lease ends; a socket renews its lease whenever it re-checks its
credentials, so the sockets of a process that died stop counting once their leases run out.
Opening a socket past ``ws_max_per_user`` is refused (close 4429). Without Redis (or while it
is down) the count is this process's own.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)
_PREFIX = "anh:ws:"

# KEYS[1] the owner's set; ARGV: now, lease end, limit, member, ttl. 1 when admitted.
_OPEN_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return 1
"""

Owner = tuple[str, int]


class SocketCounts:
    """Admits, renews and releases sockets of an owner (``(kind, id)``)."""

    def __init__(self, redis: Any | None = None, *, lease_s: float = 30.0) -> None:
        self._redis = redis
        self._script: Any = redis.register_script(_OPEN_LUA) if redis is not None else None
        self.lease_s = lease_s
        self._open: dict[Owner, set[str]] = {}

    @staticmethod
    def _key(owner: Owner) -> str:
        return f"{_PREFIX}{owner[0]}:{owner[1]}"

    async def open(self, owner: Owner, limit: int) -> str | None:
        """A ticket for one more socket of ``owner``, or None past ``limit``."""
        ticket = secrets.token_hex(8)
        if self._script is not None:
            now = time.time()
            try:
                admitted = await self._script(
                    keys=[self._key(owner)],
                    args=[now, now + self.lease_s, limit, ticket, int(self.lease_s * 2) + 1],
                )
            except (RedisError, OSError) as exc:
                log.warning("websocket count: Redis unavailable (%s); counting in process", exc)
            else:
                if not admitted:
                    return None
                self._open.setdefault(owner, set()).add(ticket)
                return ticket
        tickets = self._open.setdefault(owner, set())
        if len(tickets) >= limit:
            return None
        tickets.add(ticket)
        return ticket

    async def renew(self, owner: Owner, ticket: str) -> None:
        """The socket is still open: extend its lease."""
        if self._redis is None:
            return
        try:
            await self._redis.zadd(self._key(owner), {ticket: time.time() + self.lease_s}, xx=True)
        except (RedisError, OSError) as exc:
            log.warning("websocket count: lease not renewed (%s)", exc)

    async def close(self, owner: Owner, ticket: str) -> None:
        """The socket closed."""
        tickets = self._open.get(owner)
        if tickets is not None:
            tickets.discard(ticket)
            if not tickets:
                del self._open[owner]
        if self._redis is not None:
            try:
                await self._redis.zrem(self._key(owner), ticket)
            except (RedisError, OSError) as exc:
                log.warning("websocket count: not released (%s); its lease will run out", exc)
