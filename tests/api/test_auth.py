"""Login, access-token expiry, refresh rotation and reuse detection, logout, API keys."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
from fastapi import FastAPI

from anh_reporter.api.errors import ApiError
from anh_reporter.api.security import AccessTokens
from anh_reporter.storage.database import Database

from .conftest import PASSWORD, SECRET, World, bearer, login

ME = "/api/v1/auth/me"


async def test_login_and_me(client: httpx.AsyncClient, world: World) -> None:
    tokens = await login(client, "Engineer@Own.Example")
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0
    me = await client.get(ME, headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    body = me.json()
    assert body["role"] == "engineer" and "reports.sign" in body["permissions"]
    assert body["field_ids"] == [world.own["field"]]


async def test_wrong_password_unknown_user_and_disabled_user_look_the_same(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    with db.connect() as conn:
        conn.execute("UPDATE users SET disabled = true WHERE email = 'viewer@own.example'")
        conn.commit()
    for email, password in (
        ("admin@own.example", "wrong password!"),
        ("nobody@own.example", PASSWORD),
        ("viewer@own.example", PASSWORD),
    ):
        r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 401
        assert r.json()["error"] == {
            "code": "invalid_credentials",
            "message": "wrong email or password",
            "details": [],
        }
        assert r.headers["www-authenticate"] == "Bearer"


async def test_missing_tampered_and_expired_tokens(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.get(ME)).json()["error"]["code"] == "unauthenticated"
    tokens = await login(client, "viewer@own.example")
    tampered = tokens["access_token"][:-2] + ("AA" if tokens["access_token"][-2:] != "AA" else "BB")
    r = await client.get(ME, headers=bearer(tampered))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    forged = AccessTokens("another-secret-" + "y" * 40, 900).issue(
        user_id=world.users["own:admin"], operator_id=world.own["operator"], role="admin",
        family_id=uuid.uuid4(),
    )  # fmt: skip
    assert (await client.get(ME, headers=bearer(forged))).status_code == 401
    expired = AccessTokens(SECRET, 900).issue(
        user_id=world.users["own:viewer"],
        operator_id=world.own["operator"],
        role="viewer",
        family_id=uuid.uuid4(),
        now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    r = await client.get(ME, headers=bearer(expired))
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"


async def test_a_token_claiming_another_operator_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    tokens = await login(client, "admin@own.example")
    me = (await client.get(ME, headers=bearer(tokens["access_token"]))).json()
    assert me["operator_id"] == world.own["operator"]
    # A valid signature with a wrong operator claim (e.g. an old token after a move): refused.
    wrong = AccessTokens(SECRET, 900).issue(
        user_id=world.users["own:admin"],
        operator_id=world.other["operator"],
        role="admin",
        family_id=uuid.uuid4(),
    )
    assert (await client.get(ME, headers=bearer(wrong))).status_code == 401


async def test_refresh_rotates_and_reuse_revokes_the_family(client: httpx.AsyncClient) -> None:
    first = await login(client, "operator@own.example")
    second = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert (await client.get(ME, headers=bearer(rotated["access_token"]))).status_code == 200

    # The old token again: a reuse. Everything of the session dies, the new pair included.
    reuse = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "refresh_token_reused"
    after = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert after.status_code == 401 and after.json()["error"]["code"] == "refresh_token_revoked"
    for token in (first["access_token"], rotated["access_token"]):
        r = await client.get(ME, headers=bearer(token))
        assert r.status_code == 401 and r.json()["error"]["code"] == "session_revoked"

    # Another session of the same user is untouched.
    other = await login(client, "operator@own.example")
    assert (await client.get(ME, headers=bearer(other["access_token"]))).status_code == 200


async def test_expired_and_garbage_refresh_tokens(client: httpx.AsyncClient, db: Database) -> None:
    tokens = await login(client, "viewer@own.example")
    with db.connect() as conn:
        conn.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
        conn.commit()
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "refresh_token_expired"
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": "rt_nothing"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_refresh_token"


async def test_logout_and_logout_everywhere(client: httpx.AsyncClient) -> None:
    a = await login(client, "auditor@own.example")
    b = await login(client, "auditor@own.example")
    r = await client.post("/api/v1/auth/logout", json={"refresh_token": a["refresh_token"]})
    assert r.status_code == 204
    assert (await client.get(ME, headers=bearer(a["access_token"]))).status_code == 401
    assert (await client.get(ME, headers=bearer(b["access_token"]))).status_code == 200
    r = await client.post("/api/v1/auth/logout-all", headers=bearer(b["access_token"]))
    assert r.status_code == 204
    assert (await client.get(ME, headers=bearer(b["access_token"]))).status_code == 401
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": b["refresh_token"]})
    assert refresh.status_code == 401


async def test_password_change_ends_other_sessions(client: httpx.AsyncClient) -> None:
    a = await login(client, "engineer@own.example")
    b = await login(client, "engineer@own.example")
    wrong = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": "a brand new password"},
        headers=bearer(a["access_token"]),
    )
    assert wrong.status_code == 403
    short = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=bearer(a["access_token"]),
    )
    assert short.status_code == 422 and "at least 12" in short.json()["error"]["message"]
    ok = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new password"},
        headers=bearer(a["access_token"]),
    )
    assert ok.status_code == 204
    assert (await client.get(ME, headers=bearer(a["access_token"]))).status_code == 200
    assert (await client.get(ME, headers=bearer(b["access_token"]))).status_code == 401


async def test_api_keys_are_scoped_and_revocable(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    admin = bearer((await login(client, "admin@own.example"))["access_token"])
    refused = await client.post(
        "/api/v1/api-keys", json={"name": "x", "scopes": ["users.manage"]}, headers=admin
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_scope"
    created = await client.post(
        "/api/v1/api-keys",
        json={"name": "scada-gw", "scopes": ["telemetry.write"], "field_ids": [world.own["field"]]},
        headers=admin,
    )
    assert created.status_code == 201
    key = created.json()["key"]
    with db.connect() as conn:
        stored = conn.execute("SELECT key_hash FROM api_keys WHERE name = 'scada-gw'").fetchone()
    assert stored is not None and key.encode() not in bytes(stored[0])  # only a digest at rest

    reading = {"readings": [{"series_id": world.own["series"], "time": "2026-01-06T10:00:00Z",
                             "value": 13_000}]}  # fmt: skip
    r = await client.post("/api/v1/ingest/readings", json=reading, headers={"X-API-Key": key})
    assert r.status_code == 202 and r.json()["accepted"] == 1
    # The key may write but not read, and cannot act as a user.
    assert (await client.get("/api/v1/fields", headers={"X-API-Key": key})).status_code == 403
    assert (await client.get(ME, headers=bearer(key))).status_code == 200
    r = await client.post("/api/v1/auth/logout-all", headers={"X-API-Key": key})
    assert r.status_code == 403

    key_id = created.json()["id"]
    assert (await client.delete(f"/api/v1/api-keys/{key_id}", headers=admin)).status_code == 204
    r = await client.post("/api/v1/ingest/readings", json=reading, headers={"X-API-Key": key})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    bogus = "anh_" + "0" * 12 + "_nope"
    assert (await client.get(ME, headers={"X-API-Key": bogus})).status_code == 401


async def test_admin_cannot_lock_themselves_out(client: httpx.AsyncClient, world: World) -> None:
    admin = bearer((await login(client, "admin@own.example"))["access_token"])
    me = world.users["own:admin"]
    r = await client.patch(f"/api/v1/users/{me}", json={"role": "viewer"}, headers=admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "self_lockout"
    assert (await client.delete(f"/api/v1/users/{me}", headers=admin)).status_code == 409


async def test_disabling_a_user_ends_its_sessions(client: httpx.AsyncClient, world: World) -> None:
    admin = bearer((await login(client, "admin@own.example"))["access_token"])
    viewer = await login(client, "viewer@own.example")
    uid = world.users["own:viewer"]
    assert (await client.delete(f"/api/v1/users/{uid}", headers=admin)).status_code == 204
    assert (await client.get(ME, headers=bearer(viewer["access_token"]))).status_code == 401
    r = await client.post("/api/v1/auth/login", json={"email": "viewer@own.example",
                                                      "password": PASSWORD})  # fmt: skip
    assert r.status_code == 401


async def test_restricted_user_sees_only_assigned_fields(
    client: httpx.AsyncClient, app: FastAPI, world: World
) -> None:
    admin = bearer((await login(client, "admin@own.example"))["access_token"])
    created = await client.post(
        "/api/v1/users",
        json={"email": "nofields@own.example", "password": PASSWORD, "role": "viewer"},
        headers=admin,
    )
    assert created.status_code == 201 and created.json()["field_ids"] == []
    user = bearer((await login(client, "nofields@own.example"))["access_token"])
    assert (await client.get("/api/v1/fields", headers=user)).json() == []
    r = await client.get(f"/api/v1/fields/{world.own['field']}", headers=user)
    assert r.status_code == 404
    r = await client.get(f"/api/v1/series/{world.own['series']}", headers=user)
    assert r.status_code == 404
    uid = created.json()["id"]
    r = await client.patch(
        f"/api/v1/users/{uid}", json={"field_ids": [world.own["field"]]}, headers=admin
    )
    assert r.status_code == 200
    assert len((await client.get("/api/v1/fields", headers=user)).json()) == 1


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = AccessTokens(SECRET, 900)
    now = dt.datetime.now(dt.UTC)
    token = tokens.issue(user_id=1, operator_id=1, role="viewer", family_id=uuid.uuid4(), now=now)
    assert tokens.decode(token).user_id == 1  # verified, then remembered
    assert tokens.decode(token).user_id == 1  # from memory
    later = now.timestamp() + 901
    monkeypatch.setattr("anh_reporter.api.security.time.time", lambda: later)
    with pytest.raises(ApiError) as refused:
        tokens.decode(token)
    assert refused.value.code == "token_expired"
