"""/health, /health/ready and /metrics."""

from __future__ import annotations

from pathlib import Path

import httpx

from anh_reporter.api.app import create_app
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.config import Settings
from anh_reporter.storage.database import Database

from .conftest import api_settings, bearer


async def test_liveness_and_readiness(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert set(body["components"]) == {"database", "bus", "connectors", "scheduler"}
    assert all(c["ok"] for c in body["components"].values())


async def test_not_ready_when_the_database_or_a_component_is_down(tmp_path: Path) -> None:
    async def scheduler() -> tuple[bool, str]:
        return False, "not the leader and no leader seen for 120 s"

    app = create_app(
        Settings(data_dir=tmp_path),
        Database("postgresql://nobody@127.0.0.1:1/none"),
        MemoryBus(),
        api=api_settings(),
        checks={"scheduler": scheduler},
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/health/ready")
        assert r.status_code == 503
        components = r.json()["components"]
        assert components["database"]["ok"] is False
        # Unauthenticated: the body does not show where the database is or who connects.
        assert components["database"]["detail"].startswith("unavailable (")
        for leak in ("127.0.0.1", "nobody", "postgresql"):
            assert leak not in r.text
        assert components["scheduler"] == {
            "ok": False,
            "detail": "not the leader and no leader seen for 120 s",
        }
        # Without a database, an authenticated call is a clean 503, not a crash.
        r = await client.get("/api/v1/fields", headers=bearer("x.y.z"))
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "database_unavailable"
        assert r.headers["retry-after"] == "5"
        assert (await client.get("/health")).status_code == 200


async def test_metrics_exposes_the_design_names(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    await client.get("/api/v1/fields", headers=bearer(tokens["viewer"]))
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    for name in (
        "api_latency_seconds_bucket",
        "telemetry_processed_total",
        "anh_reports_generated_total",
        "memory_usage_bytes",
        "active_connections",
        "db_query_duration_seconds",
    ):
        assert name in text, name
    assert 'api_latency_seconds_count{endpoint="/api/v1/fields",method="GET"}' in text
