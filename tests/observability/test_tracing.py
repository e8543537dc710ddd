"""Traces with the SDK's in-memory exporter, on the real Redis bus and the real database.

One batch published to Redis Streams and written by the ingest writer is one trace:
``ingest.publish`` (the collector's side; its traceparent travels in the stream entry) →
``ingest.flush`` (the worker) → ``ingest.commit`` → the commit's queries. An API request is
one trace too: FastAPI's server span with the request's queries below it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from anh_reporter.bus.base import Delivery
from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.config import IngestSettings
from anh_reporter.domain.batch import Batch
from anh_reporter.ingest.pipeline import IngestPipeline
from anh_reporter.observability import logs
from anh_reporter.site import load_site
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into
from tests.api.conftest import World, bearer, login, make_app, seed
from tests.conftest import EXAMPLE_SITE, REDIS_URL

SHARD = "CAMPO-DEMO-LLANOS"


def _parent(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def _one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


async def test_a_batch_is_one_trace_from_publish_through_redis_to_the_commit(
    db: Database, prefix: str, spans: InMemorySpanExporter
) -> None:
    with db.connect() as conn:
        load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
        sid = next(r.id for r in list_series(conn) if r.range_lo <= 0 and r.range_hi >= 100)
        conn.commit()
    t0 = (int(time.time()) // 3600 * 3600 - 86_400) * 1_000_000
    batch = Batch.of([sid] * 3, [t0, t0 + 1_000_000, t0 + 2_000_000], [1.0, 2.0, 3.0], source="t")

    producer = RedisStreamsBus(REDIS_URL, prefix=prefix)
    await producer.publish(batch, SHARD)
    await producer.close()
    client = redis.Redis.from_url(REDIS_URL)
    [(_, entry)] = client.xrange(f"{prefix}:ingest:{SHARD}")
    client.close()
    batch_id, carried = entry[b"i"].decode(), entry[b"t"].decode()

    committed = asyncio.Event()
    ids_in_flush: list[str | None] = []

    def on_commit(deliveries: list[Delivery], good: Batch, at: float) -> None:
        ids_in_flush.append(logs.batch_id.get())  # what a log line of the flush carries
        committed.set()

    consumer = RedisStreamsBus(REDIS_URL, shards=[SHARD], consumer="w1", prefix=prefix)
    settings = IngestSettings(flush_deadline_ms=10, future_tolerance_s=1e9)
    pipeline = IngestPipeline(db, consumer, settings, on_commit=[on_commit], drain_on_stop=False)
    writer = asyncio.create_task(pipeline.run())
    try:
        await asyncio.wait_for(committed.wait(), 30)
    finally:
        pipeline.stop()
        await writer
        await consumer.close()
    assert pipeline.stats.written == 3
    assert ids_in_flush == [batch_id]

    finished = list(spans.get_finished_spans())
    publish = _one(finished, "ingest.publish")
    flush = _one(finished, "ingest.flush")
    commit = _one(finished, "ingest.commit")
    ctx = publish.get_span_context()
    assert publish.kind == SpanKind.PRODUCER and publish.parent is None
    assert publish.attributes is not None and publish.attributes["anh.batch_id"] == batch_id
    # The stream entry carries the publish span's context: W3C traceparent, sampled.
    assert carried == f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"
    assert ctx.trace_flags.sampled
    assert flush.kind == SpanKind.CONSUMER and _parent(flush) == ctx.span_id
    assert flush.attributes is not None and list(flush.attributes["anh.batch_ids"]) == [batch_id]
    assert _parent(commit) == flush.get_span_context().span_id
    queries = [s for s in finished if s.kind == SpanKind.CLIENT]
    assert queries, "the commit's statements are spans"
    assert {_parent(q) for q in queries} == {commit.get_span_context().span_id}
    assert all(q.attributes and q.attributes.get("db.system") == "postgresql" for q in queries)
    # One trace and nothing else: the writer's catalogue query outside any trace is dropped.
    assert {s.get_span_context().trace_id for s in finished} == {ctx.trace_id}


@pytest.fixture
async def api(db: Database, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, World]]:
    """The app in process on the seeded database, and a client."""
    world = seed(db)
    app = make_app(db, tmp_path)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, world


async def test_an_api_request_is_one_trace_with_its_queries(
    api: tuple[httpx.AsyncClient, World], spans: InMemorySpanExporter
) -> None:
    client, world = api
    token = (await login(client, "viewer@own.example"))["access_token"]
    spans.clear()
    response = await client.get(
        f"/api/v1/fields/{world.own['field']}",
        headers={**bearer(token), "X-Request-ID": "req-trace-1"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "req-trace-1"

    finished = list(spans.get_finished_spans())
    servers = [s for s in finished if s.kind == SpanKind.SERVER]
    assert len(servers) == 1, [s.name for s in finished]
    server = servers[0]
    attributes: dict[str, Any] = dict(server.attributes or {})
    assert attributes["http.route"] == "/api/v1/fields/{field_id}"
    assert attributes["anh.request_id"] == "req-trace-1"
    trace_id = server.get_span_context().trace_id
    by_id = {s.get_span_context().span_id: s for s in finished}
    queries = [s for s in finished if s.kind == SpanKind.CLIENT]
    assert queries, "the request's queries are spans"
    for query in queries:
        assert query.get_span_context().trace_id == trace_id
        # Each query hangs below the request's server span.
        ancestor = query
        while ancestor.parent is not None and ancestor.parent.span_id in by_id:
            ancestor = by_id[ancestor.parent.span_id]
        assert ancestor is server, query.name
    assert any(
        str((q.attributes or {}).get("db.statement", "")).startswith("SELECT") for q in queries
    )
    assert {s.get_span_context().trace_id for s in finished} == {trace_id}
