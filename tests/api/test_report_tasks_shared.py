"""Report tasks are shared through PostgreSQL: a task queued through one app instance (one API
replica) is polled through another that shares only the database (no Redis)."""

from __future__ import annotations

import asyncio
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


@pytest.mark.usefixtures("reporting_world")
async def test_a_task_whose_replica_died_is_answered_as_failed(
    client: httpx.AsyncClient,
    replica: httpx.AsyncClient,
    world: World,
    tokens: dict[str, str],
    db: Database,
) -> None:
    """A replica that dies mid-task leaves a "running" record: once its heartbeat is older than
    STALE_S, the others answer it as failed, saying to generate again; a live one stays."""
    auth = bearer(tokens["admin"])
    r = await client.post(
        "/api/v1/reports/generate",
        json={"field_id": world.own["field"], "day": REPORT_DAY.isoformat()},
        headers=auth,
    )
    task_id = r.json()["task_id"]
    assert "heartbeat_at" not in r.json()

    def set_record(status: str, beat_s_ago: int) -> None:
        with db.connect() as conn:
            conn.execute(
                "UPDATE report_tasks SET record = record || jsonb_build_object('status', %s::text, "
                "'finished_at', NULL, 'heartbeat_at', to_jsonb(now() - make_interval(secs => %s))) "
                "WHERE task_id = %s",
                (status, beat_s_ago, task_id),
            )

    async def poll() -> dict[str, str]:
        there = await replica.get(f"/api/v1/reports/tasks/{task_id}", headers=auth)
        assert there.status_code == 200, there.text
        assert "heartbeat_at" not in there.json()
        return there.json()

    set_record("running", 5)
    assert (await poll())["status"] == "running"
    set_record("running", 61)  # STALE_S = 60
    dead = await poll()
    assert dead["status"] == "failed"
    assert "stopped before it ended (no sign of life for 61 s); generate again" in dead["message"]
    set_record("queued", 3600)
    assert (await poll())["status"] == "failed"
    set_record("succeeded", 3600)  # a finished task keeps its outcome however old
    assert (await poll())["status"] == "succeeded"


async def test_a_running_task_stamps_its_heartbeat() -> None:
    from anh_reporter.api.tasks import ReportTasks
    from anh_reporter.config import Settings

    tasks = ReportTasks(Settings())
    tasks.heartbeat_s = 0.01
    task = {"task_id": "t", "heartbeat_at": None}
    async with tasks.alive(task):
        for _ in range(500):
            await asyncio.sleep(0.01)
            if task["heartbeat_at"] is not None:
                break
    assert task["heartbeat_at"] is not None
    stamped = task["heartbeat_at"]
    await asyncio.sleep(0.05)
    assert task["heartbeat_at"] == stamped  # stopped with the block
