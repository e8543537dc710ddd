"""Error format, security headers, CORS, size limits, and the audit log of state changes."""

from __future__ import annotations

from pathlib import Path

import httpx

from anh_reporter.storage.database import Database

from .conftest import World, bearer, login, make_app


async def test_framework_errors_are_json_with_a_stable_code(
    client: httpx.AsyncClient, tokens: dict[str, str], world: World
) -> None:
    auth = bearer(tokens["viewer"])
    r = await client.get("/api/v1/nothing-here", headers=auth)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.put("/api/v1/fields", headers=auth)
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    r = await client.get(
        f"/api/v1/telemetry/{world.own['series']}/raw",
        params={"start": "2026-01-05T00:00:00Z", "end": "2026-01-05T01:00:00Z", "limit": 0},
        headers=auth,
    )
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "query.limit"
    assert error["message"].startswith("query.limit: ") and "(got '0')" in error["message"]
    r = await client.get(
        f"/api/v1/telemetry/{world.own['series']}/raw",
        params={"start": "2026-01-05T00:00:00", "end": "2026-01-05T01:00:00Z"},
        headers=auth,
    )
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "query.start"


async def test_validation_errors_name_body_fields(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    r = await client.post(
        "/api/v1/users",
        json={"email": "x@own.example", "password": "long enough password", "role": "king"},
        headers=bearer(tokens["admin"]),
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "body.role"
    r = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


async def test_security_headers(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    api = await client.get("/api/v1/fields")
    assert api.headers["cache-control"] == "no-store"
    doc = await client.get("/api/openapi.json")
    assert doc.status_code == 200 and "cdn" not in doc.headers["content-security-policy"]


async def test_cors_only_for_configured_origins(db: Database, world: World, tmp_path: Path) -> None:
    app = make_app(db, tmp_path, cors_origins=["https://ui.example"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.options(
            "/api/v1/fields",
            headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "GET"},
        )
        assert ok.headers["access-control-allow-origin"] == "https://ui.example"
        bad = await client.options(
            "/api/v1/fields",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in bad.headers


async def test_request_size_limits(db: Database, world: World, tmp_path: Path) -> None:
    app = make_app(db, tmp_path, max_request_bytes=2048, max_ingest_bytes=4096)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        big = b'{"email": "' + b"a" * 3000 + b'", "password": "x"}'
        r = await client.post(
            "/api/v1/auth/login", content=big, headers={"content-type": "application/json"}
        )
        assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
        assert "2,048 bytes" in r.json()["error"]["message"]

        async def chunks():  # no Content-Length: counted as it streams
            for _ in range(10):
                yield b"x" * 1000

        token = (await login(client, "operator@own.example"))["access_token"]
        r = await client.post(
            "/api/v1/ingest/readings",
            content=chunks(),
            headers={"content-type": "text/csv", **bearer(token)},
        )
        assert r.status_code == 413


async def test_every_state_changing_call_is_audited(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    await client.post("/api/v1/auth/login", json={"email": "admin@own.example", "password": "no"})
    admin = await login(client, "admin@own.example")
    victim = world.users["own:victim"]
    await client.patch(
        f"/api/v1/users/{victim}", json={"role": "auditor"}, headers=bearer(admin["access_token"])
    )
    await client.get("/api/v1/fields", headers=bearer(admin["access_token"]))  # not audited
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT actor, action, target, operator_id, details->>'status' FROM audit_log "
            "ORDER BY id"
        ).fetchall()
    assert [(r[1], r[4]) for r in rows] == [
        ("POST /api/v1/auth/login", "401"),
        ("POST /api/v1/auth/login", "200"),
        ("PATCH /api/v1/users/{user_id}", "200"),
    ]
    assert rows[0][0] == "login:admin@own.example"
    assert rows[2][0] == f"user:{world.users['own:admin']}:admin@own.example"
    assert rows[2][2] == f"/api/v1/users/{victim}"
    assert {r[3] for r in rows} == {world.own["operator"]}
    audit = await client.get("/api/v1/audit", headers=bearer(admin["access_token"]))
    assert [e["action"] for e in audit.json()][:1] == ["PATCH /api/v1/users/{user_id}"]
