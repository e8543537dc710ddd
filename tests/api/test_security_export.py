"""Issue 13, CSV export findings: a row cap (422 naming the limit, before any row is sent),
and a query that fails half-way never looks like a complete 200."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from anh_reporter.storage import readings
from anh_reporter.storage.database import Database

from .conftest import T0, World, bearer, login
from .test_security_websocket import serve

URL = "/api/v1/telemetry/export"


def _params(world: World) -> dict[str, str]:
    return {
        "series_id": str(world.own["series"]),
        "start": T0.isoformat(),
        "end": T0.replace(hour=6).isoformat(),
    }


async def test_an_export_over_the_row_cap_is_a_422_naming_the_limit(
    db: Database, world: World, tmp_path: Path
) -> None:
    async with (
        serve(db, tmp_path, export_max_rows=100) as (base, _),
        httpx.AsyncClient(base_url=f"http://{base}") as client,
    ):
        token = (await login(client, "viewer@own.example"))["access_token"]
        r = await client.get(URL, params=_params(world), headers=bearer(token))
        assert r.status_code == 422, r.text[:200]
        assert r.json()["error"]["code"] == "export_too_large"
        assert "100 rows" in r.json()["error"]["message"]
        small = {**_params(world), "end": T0.replace(minute=10).isoformat()}  # 60 rows
        r = await client.get(URL, params=small, headers=bearer(token))
        assert r.status_code == 200 and len(r.text.splitlines()) == 61


async def test_a_query_failing_mid_stream_ends_with_an_error_not_a_clean_200(
    db: Database, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = readings.copy_csv

    async def times_out(conn: Any, **kw: Any) -> AsyncIterator[bytes]:
        # The real COPY's first chunk, then what PostgreSQL raises on a statement timeout.
        async for chunk in real(conn, **kw):
            yield chunk
            break
        raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")

    monkeypatch.setattr(readings, "copy_csv", times_out)
    async with (
        serve(db, tmp_path) as (base, _),
        httpx.AsyncClient(base_url=f"http://{base}") as client,
    ):
        token = (await login(client, "viewer@own.example"))["access_token"]
        received = b""
        with pytest.raises(httpx.RemoteProtocolError):  # the body does not end cleanly
            async with client.stream("GET", URL, params=_params(world), headers=bearer(token)) as r:
                assert r.status_code == 200
                async for chunk in r.aiter_bytes():
                    received += chunk
    assert received.startswith(b"time,series_id,series_code,value,quality")
    last = received.rstrip(b"\n").splitlines()[-1]
    assert last.startswith(b"# ERROR export interrupted: the query ran past the statement timeout")
    assert b"incomplete" in last
