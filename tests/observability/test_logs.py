"""JSON log lines: one object per line, with the request id (API) and batch ids (ingest).

The request id's way through nginx into real ``serve`` processes is checked by
tests/deploy/test_nginx_replicas.py; here the middleware and the formatter, and a real ingest
line on the real Redis bus.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import redis
from starlette.types import Receive, Scope, Send

from anh_reporter.api.middleware import RequestIdMiddleware
from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.domain.batch import Batch
from anh_reporter.observability import logs
from tests.conftest import REDIS_URL


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger writing JSON lines into a buffer (INFO and up) for the test."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    logs.setup_logging(json_lines=True, stream=stream)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line written, parsed (each must be one JSON object)."""
    out = [orjson.loads(raw) for raw in stream.getvalue().splitlines()]
    assert all(isinstance(line, dict) for line in out)
    return out


def test_a_line_is_one_json_object_with_the_context_ids(captured: io.StringIO) -> None:
    log = logging.getLogger("anh_reporter.test")
    token = logs.request_id.set("req-1")
    try:
        with logs.batch_scope(["aa11", "", "bb22"]):
            log.warning("flush of %d batches", 2)
        try:
            raise ValueError("line one\nline two")
        except ValueError:
            log.exception("it broke")
    finally:
        logs.request_id.reset(token)
    log.warning("outside")
    first, second, third = lines(captured)
    assert first["message"] == "flush of 2 batches"
    assert first["level"] == "WARNING" and first["logger"] == "anh_reporter.test"
    assert first["request_id"] == "req-1" and first["batch_id"] == "aa11,bb22"
    assert first["time"].endswith("Z")
    assert second["request_id"] == "req-1" and "batch_id" not in second
    assert "ValueError: line one\nline two" in second["exception"]
    assert "request_id" not in third and "batch_id" not in third


def test_text_lines_stay_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANH_LOG__FORMAT", raising=False)
    assert not logs.json_requested()
    monkeypatch.setenv("ANH_LOG__FORMAT", "JSON")
    assert logs.json_requested()
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        logs.setup_logging(json_lines=False, stream=stream)
        logging.getLogger("anh_reporter.x").warning("plain")
    finally:
        root.handlers[:] = saved
    assert stream.getvalue() == "WARNING anh_reporter.x: plain\n"


async def _logging_app(scope: Scope, receive: Receive, send: Send) -> None:
    logging.getLogger("anh_reporter.api.test").warning("handling %s", scope["path"])
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def test_the_request_id_is_taken_or_made_and_echoed(captured: io.StringIO) -> None:
    app = RequestIdMiddleware(_logging_app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        given = await client.get("/a", headers={"X-Request-ID": "9f0c-nginx.id:1"})
        made = await client.get("/b")
        refused = await client.get("/c", headers={"X-Request-ID": "two words"})
        too_long = await client.get("/d", headers={"X-Request-ID": "x" * 129})
    assert given.headers["x-request-id"] == "9f0c-nginx.id:1"
    for response in (made, refused, too_long):
        rid = response.headers["x-request-id"]
        assert len(rid) == 32 and int(rid, 16) >= 0  # a fresh uuid4, hex
    assert len({made.headers["x-request-id"], refused.headers["x-request-id"]}) == 2
    by_path = {
        line["message"].split()[-1]: line["request_id"]
        for line in lines(captured)
        if line["logger"] == "anh_reporter.api.test"
    }
    assert by_path == {
        "/a": "9f0c-nginx.id:1",
        "/b": made.headers["x-request-id"],
        "/c": refused.headers["x-request-id"],
        "/d": too_long.headers["x-request-id"],
    }


async def test_a_worker_line_about_batches_carries_their_ids(
    captured: io.StringIO, prefix: str
) -> None:
    shard = "CAMPO1"
    producer = RedisStreamsBus(REDIS_URL, prefix=prefix)
    for value in (1.0, 2.0):
        await producer.publish(Batch.of([1], [0], [value], source="t"), shard)
    client = redis.Redis.from_url(REDIS_URL)
    published = [e[b"i"].decode() for _, e in client.xrange(f"{prefix}:ingest:{shard}")]
    client.close()
    assert len(published) == 2 and all(len(i) == 16 for i in published)
    # A worker takes both and dies without acknowledging; another claims them.
    dead = RedisStreamsBus(REDIS_URL, shards=[shard], consumer="dead", prefix=prefix)
    taken = await dead.consume(10, 1.0)
    assert [d.batch_id for d in taken] == published
    await dead.close()
    claimer = RedisStreamsBus(
        REDIS_URL, shards=[shard], consumer="alive", claim_idle_ms=1, prefix=prefix
    )
    claimed: list[Any] = []
    while len(claimed) < 2:  # each consume claims what has been idle 1 ms by then
        claimed += await claimer.consume(10, 0.1)
    await claimer.close()
    await producer.close()
    claims = [x for x in lines(captured) if x["message"].startswith("claimed")]
    assert claims and all(x["level"] == "WARNING" for x in claims)
    assert sorted(i for x in claims for i in x["batch_id"].split(",")) == sorted(published)
