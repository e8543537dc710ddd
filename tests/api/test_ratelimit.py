"""Rate limits: GCRA arithmetic, 429 with Retry-After, separate auth bucket, Redis sharing."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from anh_reporter.api.ratelimit import Limit, MemoryLimiter
from anh_reporter.config import Settings
from anh_reporter.storage.database import Database

from ..conftest import unavailable
from .conftest import World, api_settings, bearer, login

REDIS_URL = os.environ.get("ANH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_gcra_allows_the_burst_then_one_per_emission_interval() -> None:
    limiter, limit = MemoryLimiter(), Limit("t", 60)  # one per second, 60 at once
    assert all(limiter.hit("c", limit, now_ms=0) == 0 for _ in range(60))
    assert limiter.hit("c", limit, now_ms=0) == pytest.approx(1000)
    assert limiter.hit("c", limit, now_ms=999) == pytest.approx(1)
    assert limiter.hit("c", limit, now_ms=1000) == 0
    assert limiter.hit("c", limit, now_ms=1000) > 0
    assert limiter.hit("other client", limit, now_ms=1000) == 0
    # After a quiet minute the whole burst is back.
    assert all(limiter.hit("c", limit, now_ms=61_000) == 0 for _ in range(60))


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")  # type: ignore[arg-type]


async def test_auth_endpoints_have_their_own_low_limit(
    db: Database, world: World, tmp_path: Path
) -> None:
    from .conftest import make_app

    app = make_app(db, tmp_path, auth_rate_per_minute=3, rate_per_minute=1000)
    async with app.router.lifespan_context(app), _client(app) as client:
        tokens = await login(client, "viewer@own.example")
        statuses = []
        for _ in range(3):
            r = await client.post(
                "/api/v1/auth/login", json={"email": "viewer@own.example", "password": "nope"}
            )
            statuses.append(r.status_code)
        assert statuses[:2] == [401, 401] and statuses[2] == 429
        assert int(r.headers["retry-after"]) >= 1
        assert r.json()["error"]["code"] == "rate_limited"
        assert "3 per minute" in r.json()["error"]["message"]
        # The rest of the API is not in the auth bucket.
        r = await client.get("/api/v1/fields", headers=bearer(tokens["access_token"]))
        assert r.status_code == 200
        assert (await client.get("/health")).status_code == 200


async def test_general_limit_and_exemptions(db: Database, world: World, tmp_path: Path) -> None:
    from .conftest import make_app

    app = make_app(db, tmp_path, rate_per_minute=2)
    async with app.router.lifespan_context(app), _client(app) as client:
        codes = [(await client.get("/api/v1/fields")).status_code for _ in range(3)]
        assert codes == [401, 401, 429]
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200


async def test_redis_backed_limit_is_shared_between_processes(
    db: Database, world: World, tmp_path: Path
) -> None:
    from anh_reporter.api.app import create_app
    from anh_reporter.bus.memory import MemoryBus

    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
        await redis.flushdb()
    except (RedisError, OSError) as exc:
        unavailable(f"Redis at {REDIS_URL}", str(exc))
    finally:
        await redis.aclose()
    settings = Settings(data_dir=tmp_path, redis_url=REDIS_URL)
    apps = [
        create_app(settings, db, MemoryBus(), api=api_settings(rate_per_minute=3)) for _ in range(2)
    ]
    async with (
        apps[0].router.lifespan_context(apps[0]),
        apps[1].router.lifespan_context(apps[1]),
        _client(apps[0]) as a,
        _client(apps[1]) as b,
    ):
        codes = [
            (await a.get("/api/v1/fields")).status_code,
            (await b.get("/api/v1/fields")).status_code,
            (await a.get("/api/v1/fields")).status_code,
            (await b.get("/api/v1/fields")).status_code,
        ]
    assert codes == [401, 401, 401, 429]
