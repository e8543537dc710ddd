"""Per-account login lockout with exponential back-off, shared through Redis.

Failed logins are counted per email (whether or not the account exists, so the answers do
not tell which emails have accounts). From the ``login_lockout_after``-th failure on, the
account is locked for ``login_lockout_base_s`` doubled for each further failure, at most
``login_lockout_max_s``; a login while locked answers 429 ``account_locked`` with Retry-After
and is not even checked. A successful login clears the count; an admin clears it with
``POST /api/v1/users/{id}/unlock`` or ``anh-reporter users unlock <email>``. Without Redis
(or while it is down) the state is kept in process.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from typing import Any

from redis.exceptions import RedisError

from anh_reporter.api.errors import ApiError

log = logging.getLogger(__name__)
_PREFIX = "anh:login:fail:"
_MAX_KEYS = 100_000

# KEYS[1]: the account's key. ARGV: now (s), after, base_s, max_s, keep_s. Returns the count
# and the lock's end (0: not locked). One round trip, atomic across API replicas.
_FAIL_LUA = """
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local after = tonumber(ARGV[2])
local until_ = 0
if n >= after then
    local wait = math.min(tonumber(ARGV[3]) * 2 ^ (n - after), tonumber(ARGV[4]))
    until_ = tonumber(ARGV[1]) + wait
    redis.call('HSET', KEYS[1], 'until', tostring(until_))
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return {n, tostring(until_)}
"""


def account_key(email: str) -> str:
    """The Redis key of an account's failures."""
    return _PREFIX + email.strip().lower()


class LoginLockout:
    """Counts failures per account; says whether an account is locked and for how long."""

    def __init__(
        self, *, after: int, base_s: float, max_s: float, redis: Any | None = None
    ) -> None:
        self.after, self.base_s, self.max_s = after, base_s, max_s
        self._redis = redis
        self._script: Any = redis.register_script(_FAIL_LUA) if redis is not None else None
        self._memory: OrderedDict[str, tuple[int, float]] = OrderedDict()

    @property
    def _keep_s(self) -> int:
        return int(self.max_s * 4) + 60

    async def check(self, email: str) -> None:
        """429 ``account_locked`` (with Retry-After) while the account is locked."""
        until = await self._locked_until(account_key(email))
        wait = until - time.time()
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise ApiError(
                429,
                "account_locked",
                f"too many failed logins for this account: it is locked for {retry} s more "
                "(each further failure doubles the wait); an admin can unlock it",
                headers={"Retry-After": str(retry)},
            )

    async def failed(self, email: str) -> None:
        """One more failed login of the account."""
        key, now = account_key(email), time.time()
        if self._script is not None:
            try:
                await self._script(
                    keys=[key], args=[now, self.after, self.base_s, self.max_s, self._keep_s]
                )
                return
            except (RedisError, OSError) as exc:
                log.warning("login lockout: Redis unavailable (%s); counting in process", exc)
        count = self._memory.get(key, (0, 0.0))[0] + 1
        until = 0.0
        if count >= self.after:
            until = now + min(self.base_s * 2 ** (count - self.after), self.max_s)
        self._memory[key] = (count, until)
        self._memory.move_to_end(key)
        if len(self._memory) > _MAX_KEYS:
            self._memory.popitem(last=False)

    async def clear(self, email: str) -> None:
        """Forget the account's failures (a successful login, an admin's unlock)."""
        key = account_key(email)
        self._memory.pop(key, None)
        if self._redis is not None:
            try:
                await self._redis.delete(key)
            except (RedisError, OSError) as exc:
                log.warning("login lockout: Redis unavailable (%s)", exc)

    async def _locked_until(self, key: str) -> float:
        if self._redis is not None:
            try:
                raw = await self._redis.hget(key, "until")
                if raw is not None:
                    return float(raw)
            except (RedisError, OSError, ValueError) as exc:
                log.warning("login lockout: Redis unavailable (%s)", exc)
        return self._memory.get(key, (0, 0.0))[1]


def unlock_sync(redis_url: str | None, email: str) -> bool:
    """Clear an account's failures in Redis (the CLI); False without Redis (then the lock
    lives in the API process and ends with it or with the back-off)."""
    if not redis_url:
        return False
    from redis import Redis

    client = Redis.from_url(redis_url)
    try:
        client.delete(account_key(email))
    finally:
        client.close()
    return True
