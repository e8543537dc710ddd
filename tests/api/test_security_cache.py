"""Issue 13, analytics cache finding: junk query parameters must not make new entries (in
process or in Redis), and the in-process cache is capped by bytes, not only entries."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from anh_reporter.api.app import create_app
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.config import Settings
from anh_reporter.storage.database import Database

from ..conftest import unavailable
from .conftest import T0, World, api_settings, bearer, login

REDIS_URL = os.environ.get("ANH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DAY = T0.date().isoformat()


async def _redis() -> Redis:
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
        await redis.flushdb()
    except (RedisError, OSError) as exc:
        await redis.aclose()
        unavailable("Redis", str(exc))
    return redis


async def test_junk_parameters_share_one_entry_here_and_in_redis(
    db: Database, world: World, tmp_path: Path
) -> None:
    redis = await _redis()
    app = create_app(
        Settings(data_dir=tmp_path, redis_url=REDIS_URL), db, MemoryBus(), api=api_settings()
    )
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as client,
        ):
            auth = bearer((await login(client, "viewer@own.example"))["access_token"])
            url = f"/api/v1/analytics/fields/{world.own['field']}/daily-quality"
            series_url = f"/api/v1/analytics/series/{world.own['series']}/spc"
            for i in range(30):
                r = await client.get(
                    f"{url}?end_day={DAY}&start_day={DAY}&junk={i}&pad={'x' * i}", headers=auth
                )
                assert r.status_code == 200, r.text
                r = await client.get(
                    series_url,
                    params={
                        "start": "2026-01-05T00:00:00Z",
                        "end": f"2026-01-05T{10 + i % 2}:00:00+00:00",
                        "junk": str(i),
                    },
                    headers=auth,
                )
                assert r.status_code in (200, 422), r.text
            state = app.state.api
            assert len(state.cache._l1) <= 3, list(state.cache._l1)
            keys = [k async for k in redis.scan_iter("anh:cache:v1:*")]
            assert len(keys) <= 3, keys
    finally:
        await redis.flushdb()
        await redis.aclose()


async def test_in_process_cache_is_capped_by_bytes(
    db: Database, world: World, tmp_path: Path
) -> None:
    limit = 50_000  # about four answers
    app = create_app(
        Settings(data_dir=tmp_path, redis_url=None),
        db,
        MemoryBus(),
        api=api_settings(cache_max_bytes=limit, cache_max_entries=10_000),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        auth = bearer((await login(client, "viewer@own.example"))["access_token"])
        url = f"/api/v1/analytics/fields/{world.own['field']}/daily-quality"
        sizes = []
        for d in range(1, 28):
            day = f"2026-01-{d:02d}"
            r = await client.get(url, params={"start_day": day, "end_day": day}, headers=auth)
            assert r.status_code == 200
            sizes.append(len(r.content))
        cache = app.state.api.cache
        assert sum(sizes) > limit, sizes  # the answers would not all fit
        assert 0 < cache.bytes <= limit, sizes
        assert cache.bytes == sum(len(e.body) for e in cache._l1.values())


async def test_reordered_and_extra_parameters_are_the_same_entry(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    url = f"/api/v1/analytics/fields/{world.own['field']}/daily-quality"
    auth = bearer(tokens["viewer"])
    r = await client.get(f"{url}?start_day=2026-01-05&end_day=2026-01-05", headers=auth)
    assert r.status_code == 200
    r = await client.get(f"{url}?end_day=2026-01-05&start_day=2026-01-05&x=1", headers=auth)
    assert r.status_code == 200
    state = client._transport.app.state.api  # type: ignore[attr-defined]
    assert len(state.cache._l1) == 1
