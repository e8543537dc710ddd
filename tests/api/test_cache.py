"""Analytics answers are cached and dropped when new data for their field and day lands."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path

import httpx
import numpy as np
import orjson
from fastapi import FastAPI
from redis.asyncio import Redis
from redis.exceptions import RedisError

from anh_reporter.api.app import create_app
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.config import IngestSettings, Settings
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import to_us
from anh_reporter.ingest import changes
from anh_reporter.ingest.pipeline import IngestPipeline
from anh_reporter.storage.database import Database
from anh_reporter.storage.telemetry import TelemetryWriter

from ..conftest import unavailable
from .conftest import T0, World, api_settings, bearer, login

REDIS_URL = os.environ.get("ANH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DAY = T0.date()


def _add_reading(db: Database, series_id: int, when: dt.datetime) -> None:
    with db.connect() as conn:
        TelemetryWriter(conn).write(
            np.array([series_id], dtype=np.int32),
            np.array([to_us(when)], dtype=np.int64),
            np.array([14_000.0]),
            np.array([0], dtype=np.uint32),
        )


def _count(body: dict, series_id: int) -> int:  # type: ignore[type-arg]
    return next(int(r["count"]) for r in body["rows"] if r["series_id"] == series_id)


async def test_hit_then_invalidated_by_field_and_day(
    app: FastAPI, client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str]
) -> None:
    url = f"/api/v1/analytics/fields/{world.own['field']}/daily-quality"
    params = {"start_day": DAY.isoformat(), "end_day": DAY.isoformat()}
    auth = bearer(tokens["viewer"])
    first = (await client.get(url, params=params, headers=auth)).json()
    sid = world.own["series"]
    assert _count(first, sid) == 24 * 360
    state = app.state.api
    hits = state.cache.hits
    _add_reading(db, sid, T0 + dt.timedelta(seconds=5))
    cached = (await client.get(url, params=params, headers=auth)).json()
    assert state.cache.hits == hits + 1 and _count(cached, sid) == 24 * 360  # stale, cached
    await state.cache.invalidate(world.other["field"], DAY)  # another field: no effect
    await state.cache.invalidate(world.own["field"], DAY + dt.timedelta(days=1))  # another day
    assert _count((await client.get(url, params=params, headers=auth)).json(), sid) == 24 * 360
    await state.cache.invalidate(world.own["field"], DAY)
    fresh = (await client.get(url, params=params, headers=auth)).json()
    assert _count(fresh, sid) == 24 * 360 + 1


async def test_a_cached_answer_is_still_authorised(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    url = f"/api/v1/analytics/fields/{world.own['field']}/daily-quality"
    params = {"start_day": DAY.isoformat(), "end_day": DAY.isoformat()}
    assert (
        await client.get(url, params=params, headers=bearer(tokens["viewer"]))
    ).status_code == 200
    assert (await client.get(url, params=params)).status_code == 401
    other = await login(client, "viewer@other.example")
    r = await client.get(url, params=params, headers=bearer(other["access_token"]))
    assert r.status_code == 404


async def test_redis_l2_is_shared_and_invalidated_everywhere(
    db: Database, world: World, tmp_path: Path
) -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
        await redis.flushdb()
    except (RedisError, OSError) as exc:
        unavailable(f"Redis at {REDIS_URL}", str(exc))
    finally:
        await redis.aclose()
    settings = Settings(data_dir=tmp_path, redis_url=REDIS_URL)
    a, b = (create_app(settings, db, MemoryBus(), api=api_settings()) for _ in range(2))
    url = f"/api/v1/analytics/fields/{world.own['field']}/daily-quality"
    params = {"start_day": DAY.isoformat(), "end_day": DAY.isoformat()}
    async with a.router.lifespan_context(a), b.router.lifespan_context(b):
        ca = httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://a")
        cb = httpx.AsyncClient(transport=httpx.ASGITransport(app=b), base_url="http://b")
        async with ca, cb:
            auth = bearer((await login(ca, "viewer@own.example"))["access_token"])
            await ca.get(url, params=params, headers=auth)
            await cb.get(url, params=params, headers=auth)
            assert b.state.api.cache.hits == 1  # served from Redis (L2)
            _add_reading(db, world.own["series"], T0 + dt.timedelta(seconds=5))
            # An ingest worker (no API in its process) announces the change through Redis.
            message = orjson.dumps([world.own["field"], DAY.isoformat()])
            await b.state.api.redis.publish(changes.CHANNEL, message)
            for _ in range(100):
                if not a.state.api.cache._l1 and not b.state.api.cache._l1:
                    break
                await asyncio.sleep(0.02)
            for client in (ca, cb):
                body = (await client.get(url, params=params, headers=auth)).json()
                assert _count(body, world.own["series"]) == 24 * 360 + 1


async def test_the_ingest_commit_hook_drops_what_the_batch_touched(
    app: FastAPI, client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str]
) -> None:
    url = f"/api/v1/analytics/fields/{world.own['field']}/daily-quality"
    params = {"start_day": DAY.isoformat(), "end_day": DAY.isoformat()}
    auth = bearer(tokens["viewer"])
    sid = world.own["series"]
    assert _count((await client.get(url, params=params, headers=auth)).json(), sid) == 24 * 360
    hook = changes.ChangeNotifier(db, redis_url=None)
    state = app.state.api
    # Readings of another field, and of this field on another day, leave the entry alone.
    elsewhere = Batch.of(
        [world.other["series"], sid], [to_us(T0), to_us(T0 + dt.timedelta(days=3))], [1.0, 1.0]
    )
    await hook([], elsewhere, 0.0)
    hits = state.cache.hits
    await client.get(url, params=params, headers=auth)
    assert state.cache.hits == hits + 1

    # Through the real pipeline: the reading is written, then the hook drops the entry.
    bus = MemoryBus()
    pipeline = IngestPipeline(db, bus, IngestSettings(flush_deadline_ms=20), on_commit=[hook])
    task = asyncio.create_task(pipeline.run())
    await bus.publish(Batch.of([sid], [to_us(T0 + dt.timedelta(seconds=5))], [14_000.0]), "F")
    for _ in range(250):
        await asyncio.sleep(0.02)
        if pipeline.stats.flushes:
            break
    pipeline.stop()
    await task
    assert pipeline.stats.written == 1
    fresh = (await client.get(url, params=params, headers=auth)).json()
    assert _count(fresh, sid) == 24 * 360 + 1 and state.cache.hits == hits + 1
