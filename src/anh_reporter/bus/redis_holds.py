"""What a Redis Streams consumer holds unacknowledged, and keeping it from looking idle.

An entry read by a consumer stays in the group's pending list, under its name, until it is
acknowledged; once it has been idle ``claim_idle_ms`` any consumer's XAUTOCLAIM takes it over,
as it must when its holder died. A live holder that is still working on it (a slow write)
re-claims it to itself now and then (XCLAIM ... JUSTID resets the idle time without counting
a delivery), so the others do not write it too. Only entries still pending under its own name
are re-claimed (atomically, in a script), and each for at most :data:`MAX_HOLD_CLAIMS` claim
periods in all: a holder stuck for good lets the others take over.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis

log = logging.getLogger(__name__)

KEEP_ALIVE_FRACTION = 3  # an entry held this fraction of claim_idle_ms has its idle time reset
MAX_HOLD_CLAIMS = 10  # ... but only while held fewer than this many claim_idle_ms in all
_CHUNK = 500  # entry ids per script call
# Resets the idle time of the given entries of one stream (KEYS[1]) that are still pending under
# the consumer ARGV[2] of the group ARGV[1]; returns those ids. An entry another consumer has
# claimed meanwhile is not taken back (both would write it).
_KEEP_ALIVE_LUA = """
local mine = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then table.insert(mine, ARGV[i]) end
end
if #mine > 0 then
  local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0'}
  for _, id in ipairs(mine) do table.insert(args, id) end
  table.insert(args, 'JUSTID')
  redis.call(unpack(args))
end
return mine
"""


class Holds:
    """The (shard, entry id) a consumer was delivered and has not acknowledged, with times."""

    def __init__(self, claim_idle_ms: int) -> None:
        self.claim_s = claim_idle_ms / 1000
        # (shard, token) -> (delivered, idle last reset), monotonic seconds
        self._held: dict[tuple[str, str], tuple[float, float]] = {}

    def __len__(self) -> int:
        return len(self._held)

    def delivered(self, shard: str, token: str, now: float) -> None:
        """Delivered (read or claimed) to this consumer at ``now``."""
        self._held[(shard, token)] = (now, now)

    def release(self, shard: str, token: str) -> None:
        """Acknowledged or given back: no longer kept alive."""
        self._held.pop((shard, token), None)

    def clear(self) -> None:
        """Forget everything (the consumer leaves the group)."""
        self._held.clear()

    def due(self, held: Iterable[tuple[str, str]], now: float) -> dict[str, list[str]]:
        """Of ``held`` (shard, token), the ones to keep alive now, per shard.

        Forgets, with a warning, every entry held longer than :data:`MAX_HOLD_CLAIMS` claim
        periods: it is left to the others.
        """
        give_up = now - self.claim_s * MAX_HOLD_CLAIMS
        expired = [k for k, (delivered, _) in self._held.items() if delivered < give_up]
        for k in expired:
            del self._held[k]
        if expired:
            log.warning(
                "held %d batches for more than %.0f s without acknowledging them: no longer "
                "kept from the other consumers",
                len(expired),
                self.claim_s * MAX_HOLD_CLAIMS,
            )
        stale = now - self.claim_s / KEEP_ALIVE_FRACTION
        out: dict[str, list[str]] = {}
        for shard, token in dict.fromkeys(held):
            times = self._held.get((shard, token))
            if times is not None and times[1] <= stale:
                out.setdefault(shard, []).append(token)
        return out

    async def refresh(
        self,
        redis: Redis,
        keys: dict[str, str],
        group: str,
        consumer: str,
        due: dict[str, list[str]],
        now: float,
    ) -> tuple[int, int]:
        """Re-claim ``due`` (per shard; ``keys``: shard -> stream key) to ``consumer``.

        Returns (entries kept alive, entries found claimed by another consumer); the latter are
        forgotten. Redis errors propagate.
        """
        kept = lost = 0
        for shard, tokens in due.items():
            for lo in range(0, len(tokens), _CHUNK):
                chunk = tokens[lo : lo + _CHUNK]
                reply: Any = await redis.eval(
                    _KEEP_ALIVE_LUA, 1, keys[shard], group, consumer, *chunk
                )
                mine = {t.decode() if isinstance(t, bytes) else str(t) for t in reply}
                for token in chunk:
                    times = self._held.get((shard, token))
                    if token not in mine:
                        self._held.pop((shard, token), None)
                        lost += 1
                    elif times is not None:
                        self._held[(shard, token)] = (times[0], now)
                        kept += 1
        return kept, lost
