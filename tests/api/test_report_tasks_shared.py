"""Report tasks are shared through PostgreSQL: a task queued through one app instance (one API
replica) is polled through another that shares only the database (no Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from anh_reporter.storage.database import Database

from .conftest import REPORT_DAY, World, bearer, login, make_app


@pytest.fixture
async def replica(db: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A second app instance on the same database, with its own memory and no Redis."""
    other = make_app(db, tmp_path)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica") as c:
            yield c


@pytest.mark.usefixtures("reporting_world")
async def test_a_task_queued_on_one_replica_is_polled_on_another(
    client: httpx.AsyncClient, replica: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    auth = bearer(tokens["admin"])
    r = await client.post(
        "/api/v1/reports/generate",
        json={"field_id": world.own["field"], "day": REPORT_DAY.isoformat()},
        headers=auth,
    )
    assert r.status_code == 202, r.text
    task_id = r.json()["task_id"]
    here = (await client.get(f"/api/v1/reports/tasks/{task_id}", headers=auth)).json()
    there = await replica.get(f"/api/v1/reports/tasks/{task_id}", headers=auth)
    assert there.status_code == 200, there.text
    assert there.json()["status"] == here["status"] == "succeeded"
    for key in ("task_id", "report_id", "version", "sha256", "field_id", "day", "message"):
        assert there.json()[key] == here[key], key
    # Scoping holds on the replica too: another operator's user does not find it.
    theirs = bearer((await login(replica, "engineer@other.example"))["access_token"])
    hidden = await replica.get(f"/api/v1/reports/tasks/{task_id}", headers=theirs)
    assert hidden.status_code == 404
    assert (await replica.get("/api/v1/reports/tasks/nope", headers=auth)).status_code == 404
