"""GET /api/v1/capabilities: public, never cached, the app's operation ids and real features."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from anh_reporter import __version__
from anh_reporter.api.routes import meta


async def test_lists_every_operation_of_the_openapi_document(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    r = await client.get("/api/v1/capabilities")  # no token: public
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"version", "operations", "features"}
    assert body["version"] == __version__
    ids = {
        op["operationId"]
        for item in app.openapi()["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    assert len(ids) > 70
    assert body["operations"] == sorted(ids)
    assert {"meta-get_capabilities", "reports-get_forma9sh", "auth-login"} <= ids
    # Only what this server has: no feature is announced before its code lands.
    assert body["features"] == meta.features(ids)
    for feature in body["features"]:
        assert feature in meta.DECLARED_FEATURES or feature in meta.FEATURES_BY_OPERATIONS
    again = await client.get("/api/v1/capabilities", headers={"Authorization": "Bearer junk"})
    assert again.status_code == 200 and again.json() == body  # a bad token does not matter


def test_features_follow_the_operations() -> None:
    assert meta.features([]) == sorted(meta.DECLARED_FEATURES)
    assert "auth.cookie_session" not in meta.features(["auth-refresh_session"])
    assert "auth.cookie_session" in meta.features(["auth-refresh_session", "auth-logout_session"])
