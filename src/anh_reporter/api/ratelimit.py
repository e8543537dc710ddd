"""Per-client rate limits (GCRA): a burst of ``limit`` requests, then ``limit`` per minute.

Auth endpoints (``/api/v1/auth/``) get their own, lower limit; other ``/api/`` paths the
general one; ``/health`` and ``/metrics`` none. With ``ANH_REDIS_URL`` the state lives in
Redis (one atomic script call per request, so every API replica shares it); otherwise in
process. When Redis cannot be reached the limiter falls back to its in-process state rather
than refusing every request. A refused request gets 429 ``rate_limited`` with Retry-After.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from anh_reporter.api.errors import error_body
from anh_reporter.api.responses import dumps

log = logging.getLogger(__name__)
AUTH_PREFIX = "/api/v1/auth/"
EXEMPT_PREFIXES = ("/health", "/metrics", "/api/docs", "/api/openapi.json", "/api/redoc")
_MAX_KEYS = 100_000

# GCRA: the theoretical arrival time (TAT) advances by one emission interval per request; a
# request is refused when it would push TAT beyond now + burst. Time from the Redis server so
# replicas with skewed clocks agree.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission
if new_tat - now > burst then
    return new_tat - now - burst
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
return 0
"""


@dataclass(frozen=True)
class Limit:
    """``per_minute`` requests per minute, all of which may come at once."""

    name: str
    per_minute: int

    @property
    def emission_ms(self) -> float:
        """Milliseconds one request uses up."""
        return 60_000.0 / self.per_minute

    @property
    def burst_ms(self) -> float:
        """How far ahead the TAT may run: the whole minute's allowance."""
        return 60_000.0


class MemoryLimiter:
    """GCRA state in a bounded dict (oldest clients forgotten first)."""

    def __init__(self, max_keys: int = _MAX_KEYS) -> None:
        self._tat: OrderedDict[str, float] = OrderedDict()
        self._max_keys = max_keys

    def hit(self, key: str, limit: Limit, now_ms: float | None = None) -> float:
        """0 when allowed, else milliseconds to wait."""
        now = time.monotonic() * 1000 if now_ms is None else now_ms
        tat = max(self._tat.get(key, now), now)
        new_tat = tat + limit.emission_ms
        if new_tat - now > limit.burst_ms:
            return new_tat - now - limit.burst_ms
        self._tat[key] = new_tat
        self._tat.move_to_end(key)
        if len(self._tat) > self._max_keys:
            self._tat.popitem(last=False)
        return 0.0


class RateLimiter:
    """Decides per request; Redis-backed when a client is given."""

    def __init__(self, auth: Limit, general: Limit, redis: Redis | None = None) -> None:
        self.auth, self.general = auth, general
        self._redis = redis
        self._memory = MemoryLimiter()
        self._script: Any = redis.register_script(_GCRA_LUA) if redis is not None else None
        self._redis_failed_at = 0.0

    def limit_for(self, path: str) -> Limit | None:
        """Which limit applies to a path (None: not limited)."""
        if path.startswith(AUTH_PREFIX):
            return self.auth
        if path.startswith("/api/") and not path.startswith(EXEMPT_PREFIXES):
            return self.general
        if path.startswith("/ws/"):
            return self.general
        return None

    async def hit(self, client: str, limit: Limit) -> float:
        """0 when the request may go on, else the milliseconds until it would be allowed."""
        key = f"anh:rl:{limit.name}:{client}"
        # After a Redis failure, stay in process for 5 s instead of paying a timeout per call.
        if self._script is not None and time.monotonic() - self._redis_failed_at > 5.0:
            try:
                wait = await self._script(keys=[key], args=[limit.emission_ms, limit.burst_ms])
                return float(wait)
            except (RedisError, OSError) as exc:
                self._redis_failed_at = time.monotonic()
                log.warning("rate limiter: Redis unavailable (%s); limiting in process", exc)
        return self._memory.hit(key, limit)


def client_address(scope: Scope, trust_forwarded_for: bool) -> str:
    """The client's IP: the peer address, or the first X-Forwarded-For hop when trusted."""
    if trust_forwarded_for:
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                first = str(value.decode("latin-1")).split(",")[0].strip()
                if first:
                    return first
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimitMiddleware:
    """ASGI middleware answering 429 with Retry-After when a client is over its limit."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, trust_forwarded_for: bool) -> None:
        self.app = app
        self.limiter = limiter
        self.trust_forwarded_for = trust_forwarded_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the limit, then pass the request on or refuse it."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        limit = self.limiter.limit_for(scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        wait_ms = await self.limiter.hit(client_address(scope, self.trust_forwarded_for), limit)
        if wait_ms <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait_ms / 1000))
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013, "reason": "rate limited"})
            return
        body = dumps(
            error_body(
                "rate_limited",
                f"too many requests: the limit is {limit.per_minute} per minute per client "
                f"for {'authentication' if limit.name == 'auth' else 'the API'}; "
                f"retry in {retry_after} s",
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
