"""Shard affinity: each live consumer of a group serves its own share of the shards.

Two writers of one field contend for the same rows of the hourly rollups (every flush upserts
each series-hour it touches), so two workers sharing every shard wait on each other's row locks
instead of adding throughput. With affinity a consumer that discovers its shards serves only
its share of them:

- the group's live consumers register in the sorted set ``{prefix}:ingest:members:{group}``,
  scored with Redis's own clock (ms) at their last heartbeat; one whose heartbeat is older than
  the claim time (``claim_idle_ms``) is dead and is removed by the next heartbeat of any other;
- the shards, sorted by name, are dealt round robin to the live consumers, sorted by name.

Every consumer deals from the same two sets, so no coordinator is needed. While a set changes
(a worker starts, stops or dies) two consumers may serve one shard, or none, for the few
seconds until each has re-read it; the idempotent writer makes the first harmless and the
second only delays. A dead consumer's shards are dealt to the others once its heartbeat is
``claim_idle_ms`` old, which is when its unacknowledged entries become claimable by them.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import Redis

# Registers ARGV[1] as live now, removes members whose heartbeat is older than ARGV[2] ms, and
# returns the live members. Redis's clock, so the consumers' own clocks need not agree.
_HEARTBEAT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])))
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


def deal(shards: Iterable[str], members: Iterable[str], me: str) -> list[str]:
    """``me``'s share of ``shards``: sorted shards dealt round robin to sorted live members."""
    live = sorted({*members, me})
    turn, hands = live.index(me), len(live)
    return [shard for i, shard in enumerate(sorted(set(shards))) if i % hands == turn]


class Membership:
    """One consumer's registration in its group's set of live consumers."""

    def __init__(self, prefix: str, group: str, consumer: str, ttl_ms: int) -> None:
        self.key = f"{prefix}:ingest:members:{group}"
        self.consumer = consumer
        self.ttl_ms = ttl_ms
        self.members: list[str] = [consumer]  # as of the last heartbeat

    async def heartbeat(self, redis: Redis) -> list[str]:
        """Say this consumer is alive; the group's live consumers (this one included)."""
        names = await redis.eval(_HEARTBEAT_LUA, 1, self.key, self.consumer, self.ttl_ms)
        self.members = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
        return self.members

    def share(self, shards: Iterable[str]) -> list[str]:
        """This consumer's share of ``shards`` among the members of the last heartbeat."""
        return deal(shards, self.members, self.consumer)

    async def leave(self, redis: Redis) -> None:
        """Leave the set now, so the others take this consumer's shards at their next look."""
        await redis.zrem(self.key, self.consumer)
