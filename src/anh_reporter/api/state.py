"""What one API process holds: settings, database pools, bus, token keys, caches, limits."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from psycopg import AsyncConnection

from anh_reporter.api.cache import ResponseCache
from anh_reporter.api.lockout import LoginLockout
from anh_reporter.api.permissions import Permission, permissions_of
from anh_reporter.api.pool import ConnectionPool, SyncPool
from anh_reporter.api.ratelimit import RateLimiter
from anh_reporter.api.revocation import Revocations
from anh_reporter.api.scoping import Principal
from anh_reporter.api.security import AccessTokens, parse_api_key, same_digest, unauthenticated
from anh_reporter.api.sockets import SocketCounts
from anh_reporter.api.tasks import ReportTasks
from anh_reporter.bus.base import Bus
from anh_reporter.config import ApiSettings, Settings
from anh_reporter.storage.series_repo import CatalogCache

ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]
"""A component's readiness: (ok, one-line detail). Connectors and the scheduler provide one."""

_USER_SQL = """
SELECT u.email, u.operator_id, u.role, u.disabled,
       CASE WHEN u.all_fields
            THEN ARRAY(SELECT f.id FROM fields f WHERE f.operator_id = u.operator_id)
            ELSE ARRAY(SELECT uf.field_id FROM user_fields uf JOIN fields f ON f.id = uf.field_id
                       WHERE uf.user_id = u.id AND f.operator_id = u.operator_id)
       END,
       -- A session holds while its family has a token of this user not revoked: a family
       -- that does not exist (a forged or foreign claim) is as ended as a revoked one.
       NOT EXISTS (SELECT 1 FROM refresh_tokens r
                   WHERE r.family_id = %(family)s AND r.user_id = u.id
                   AND r.revoked_at IS NULL),
       u.totp_enabled
FROM users u WHERE u.id = %(user)s
"""

_API_KEY_SQL = """
SELECT a.id, a.name, a.operator_id, a.scopes, a.key_hash,
       a.revoked_at IS NOT NULL OR coalesce(a.expires_at <= now(), false),
       ARRAY(SELECT f.id FROM fields f WHERE f.operator_id = a.operator_id
             AND (a.field_ids IS NULL OR f.id = ANY(a.field_ids)))
FROM api_keys a WHERE a.prefix = %(prefix)s
"""

# Once a minute at most: a write per request would cost more than the request.
_API_KEY_USED_SQL = """
UPDATE api_keys SET last_used_at = now()
WHERE id = %(id)s AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
"""


@dataclass
class ApiState:
    """Shared by every request of one app."""

    settings: Settings
    api: ApiSettings
    pool: ConnectionPool
    auth_pool: ConnectionPool  # its own: a request holding a pooled connection may need one
    sync: SyncPool  # blocking connections for the production, anomaly and report services
    bus: Bus
    tokens: AccessTokens
    cache: ResponseCache
    limiter: RateLimiter
    catalog: CatalogCache
    reports: ReportTasks
    checks: Mapping[str, ReadinessCheck] = field(default_factory=dict)
    redis: Any = None
    lockout: LoginLockout = field(
        default_factory=lambda: LoginLockout(after=5, base_s=30.0, max_s=3600.0)
    )
    revocations: Revocations = field(default_factory=Revocations)
    sockets: SocketCounts = field(default_factory=SocketCounts)
    # Read-only queries (history, analytics, exports) on a streaming replica, when configured.
    read_pool: ConnectionPool | None = None
    _principals: dict[tuple[str, object], tuple[float, Principal | None]] = field(
        default_factory=dict
    )

    @property
    def reads(self) -> ConnectionPool:
        """The pool for read-only queries: the replica's (ANH_DATABASE_READ_URL) or ``pool``."""
        return self.read_pool or self.pool

    def forget_user(self, user_id: int) -> None:
        """Drop cached grants of a user (after logout, a role or field change, disabling), here
        and (through Redis) in every other API process; open WebSockets re-check."""
        self._drop_user(user_id)
        self.revocations.announce(f"user:{user_id}")

    def forget_all(self) -> None:
        """Drop every cached grant (after an API key or user change), here and elsewhere."""
        self._principals.clear()
        self.revocations.announce("all")

    def on_remote_revocation(self, what: str) -> None:
        """Another process revoked something: drop what this one cached of it."""
        if what.startswith("user:") and what[5:].isdigit():
            self._drop_user(int(what[5:]))
        else:
            self._principals.clear()

    def _drop_user(self, user_id: int) -> None:
        for key in [k for k in self._principals if k[0] == "user" and k[1] == user_id]:
            del self._principals[key]
        for key in [k for k in self._principals if k[0] == "session"]:
            cached = self._principals[key][1]
            if cached is None or cached.id == user_id:
                del self._principals[key]

    def _cached(self, key: tuple[str, object]) -> tuple[bool, Principal | None]:
        hit = self._principals.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def _remember(self, key: tuple[str, object], principal: Principal | None) -> None:
        if self.api.principal_cache_s <= 0:
            return
        if len(self._principals) > 50_000:
            self._principals.clear()
        self._principals[key] = (time.monotonic() + self.api.principal_cache_s, principal)

    async def user_principal(self, token: str) -> Principal:
        """The principal of an access token, or 401."""
        claims = self.tokens.decode(token)
        key = ("session", (claims.user_id, claims.family_id))
        found, principal = self._cached(key)
        if not found:
            async with self.auth_pool.connection() as conn:
                principal = await _load_user(conn, claims.user_id, claims.family_id)
            self._remember(key, principal)
        if principal is None or principal.operator_id != claims.operator_id:
            raise unauthenticated("session_revoked", "this session has ended; log in again")
        return principal

    async def api_key_principal(self, key: str) -> Principal:
        """The principal of an API key, or 401."""
        parsed = parse_api_key(key)
        invalid = unauthenticated("invalid_api_key", "the API key is not valid")
        if parsed is None:
            raise invalid
        prefix, digest = parsed
        cache_key = ("key", digest)
        found, principal = self._cached(cache_key)
        if not found:
            async with self.auth_pool.connection() as conn:
                principal = await _load_api_key(conn, prefix, digest)
            self._remember(cache_key, principal)
        if principal is None:
            raise invalid
        return principal


async def _load_user(
    conn: AsyncConnection[Any], user_id: int, family_id: uuid.UUID
) -> Principal | None:
    cur = await conn.execute(_USER_SQL, {"user": user_id, "family": family_id})
    row = await cur.fetchone()
    if row is None:
        return None
    email, operator_id, role, disabled, field_ids, revoked, totp_enabled = row
    if disabled or revoked:
        return None
    return Principal(
        kind="user",
        id=user_id,
        name=str(email),
        operator_id=int(operator_id),
        role=str(role),
        permissions=permissions_of(role),
        field_ids=frozenset(int(f) for f in field_ids),
        family_id=family_id,
        totp_enabled=bool(totp_enabled),
    )


async def _load_api_key(conn: AsyncConnection[Any], prefix: str, digest: bytes) -> Principal | None:
    cur = await conn.execute(_API_KEY_SQL, {"prefix": prefix})
    row = await cur.fetchone()
    if row is None:
        return None
    key_id, name, operator_id, scopes, stored, dead, field_ids = row
    if dead or not same_digest(bytes(stored), digest):
        return None
    await conn.execute(_API_KEY_USED_SQL, {"id": key_id})
    known = {p.value for p in Permission}
    return Principal(
        kind="api_key",
        id=int(key_id),
        name=str(name),
        operator_id=int(operator_id),
        role="api_key",
        permissions=frozenset(Permission(s) for s in scopes if s in known),
        field_ids=frozenset(int(f) for f in field_ids),
    )


def api_state(request: Request) -> ApiState:
    """The app's :class:`ApiState`."""
    state = request.app.state.api
    assert isinstance(state, ApiState)  # noqa: S101 - narrows for mypy: create_app sets it
    return state
