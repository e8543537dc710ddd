"""Issue 13, error bodies: what the database says about a refused value (tables, columns,
driver text) stays in the server log; the client gets a generic message and an error id."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from anh_reporter.storage.database import Database

from .conftest import PASSWORD, World, bearer

LEAKS = ("PostgreSQL", "NUL (0x00)", "psycopg", "SQLSTATE", "users", "INSERT", "/tmp")


async def test_database_error_text_is_not_in_422_bodies(
    client: httpx.AsyncClient,
    db: Database,
    world: World,
    tokens: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="anh_reporter.api")
    answers = [
        await client.post(
            "/api/v1/auth/login", json={"email": "a\u0000b@own.example", "password": PASSWORD}
        ),
        await client.post(
            "/api/v1/users",
            json={"email": "x\u0000y@own.example", "password": PASSWORD, "role": "viewer"},
            headers=bearer(tokens["admin"]),
        ),
    ]
    for r in answers:
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "invalid_value"
        assert not [word for word in LEAKS if word in r.text], r.text
        error_id = re.search(r"error id ([0-9a-f]{12})", error["message"])
        assert error_id is not None, error["message"]
        # The detail is in the log, under the same id, for whoever runs the server.
        assert any(error_id.group(1) in rec.getMessage() for rec in caplog.records)
    # A NUL in the login name does not cost the attempt its audit entry.
    assert not [rec for rec in caplog.records if "audit log write failed" in rec.getMessage()]
    with db.connect() as conn:
        row = conn.execute(
            "SELECT actor FROM audit_log WHERE action = 'POST /api/v1/auth/login' "
            "AND actor LIKE 'login:a%%b@own.example'"
        ).fetchone()
    assert row is not None


async def test_api_docs_load_nothing_from_a_cdn(client: httpx.AsyncClient) -> None:
    """No package here ships Swagger UI's assets, so the CDN-loading page is gone; the OpenAPI
    document stays, and no API answer allows a script from elsewhere."""
    docs = await client.get("/api/docs")
    assert docs.status_code == 404
    assert "cdn.jsdelivr.net" not in docs.text
    doc = await client.get("/api/openapi.json")
    assert doc.status_code == 200 and doc.json()["openapi"].startswith("3.")
    for r in (docs, doc):
        assert "cdn" not in r.headers.get("content-security-policy", "")
