"""Issue 13, authorisation findings: an admin limited to some fields cannot give (itself or
others, or an API key) more fields than it sees, nor take over a user who sees more; an access
token naming a refresh family that does not exist is refused."""

from __future__ import annotations

import uuid

import httpx
import jwt
import pytest

from anh_reporter.api.security import AccessTokens
from anh_reporter.storage.database import Database

from .conftest import PASSWORD, SECRET, World, bearer, login


@pytest.fixture
def limited(db: Database, world: World) -> dict[str, int]:
    """A second field of operator A, and an admin of A who sees only the first."""
    with db.connect() as conn:
        row = conn.execute(
            "INSERT INTO fields (operator_id, code, name, contract, municipality_dane, "
            "report_type) VALUES (%s, 'CAMPO-SEGUNDO', 'Segundo', 'LLA-99', '50001', 'A') "
            "RETURNING id",
            (world.own["operator"],),
        ).fetchone()
        assert row is not None
        second = int(row[0])
        conn.execute(
            "UPDATE users SET role = 'admin', all_fields = false "
            "WHERE email = 'operator@own.example'"
        )
        conn.execute(
            "INSERT INTO user_fields (user_id, field_id) VALUES (%s, %s)",
            (world.users["own:operator"], world.own["field"]),
        )
        conn.commit()
    return {"first": world.own["field"], "second": second}


async def _limited_admin(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer((await login(client, "operator@own.example"))["access_token"])


async def test_limited_admin_cannot_mint_a_key_for_all_fields(
    client: httpx.AsyncClient, world: World, limited: dict[str, int]
) -> None:
    auth = await _limited_admin(client)
    r = await client.post(
        "/api/v1/api-keys", json={"name": "all", "scopes": ["telemetry.read"]}, headers=auth
    )
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "beyond_your_fields"
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "mine", "scopes": ["telemetry.read"], "field_ids": [limited["first"]]},
        headers=auth,
    )
    assert r.status_code == 201, r.text


async def test_limited_admin_cannot_grant_fields_it_does_not_see(
    client: httpx.AsyncClient, world: World, limited: dict[str, int]
) -> None:
    auth = await _limited_admin(client)
    me = world.users["own:operator"]
    for body in ({"all_fields": True}, {"field_ids": [limited["first"], limited["second"]]}):
        r = await client.patch(f"/api/v1/users/{me}", json=body, headers=auth)  # itself
        assert r.status_code == 403 and r.json()["error"]["code"] == "beyond_your_fields"
        r = await client.post(
            "/api/v1/users",
            json={"email": "x@own.example", "password": PASSWORD, "role": "viewer", **body},
            headers=auth,
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "beyond_your_fields"
    # Nor take over a user who sees more (a full admin) by resetting its password.
    r = await client.patch(
        f"/api/v1/users/{world.users['own:admin']}",
        json={"password": "a takeover passphrase"},
        headers=auth,
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "beyond_your_fields"
    r = await client.delete(f"/api/v1/users/{world.users['own:admin']}", headers=auth)
    assert r.status_code == 403
    # What it sees, it may give.
    r = await client.post(
        "/api/v1/users",
        json={
            "email": "x@own.example",
            "password": PASSWORD,
            "role": "viewer",
            "field_ids": [limited["first"]],
        },
        headers=auth,
    )
    assert r.status_code == 201, r.text


async def test_a_full_admin_may_still_grant_everything(
    client: httpx.AsyncClient, world: World, limited: dict[str, int]
) -> None:
    auth = bearer((await login(client, "admin@own.example"))["access_token"])
    r = await client.post(
        "/api/v1/api-keys", json={"name": "all", "scopes": ["telemetry.read"]}, headers=auth
    )
    assert r.status_code == 201
    r = await client.patch(
        f"/api/v1/users/{world.users['own:operator']}", json={"all_fields": True}, headers=auth
    )
    assert r.status_code == 200


async def test_a_refresh_family_that_does_not_exist_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    forged = AccessTokens(SECRET, 900).issue(
        user_id=world.users["own:admin"],
        operator_id=world.own["operator"],
        role="admin",
        family_id=uuid.uuid4(),
    )
    r = await client.get("/api/v1/auth/me", headers=bearer(forged))
    assert r.status_code == 401 and r.json()["error"]["code"] == "session_revoked"
    # Another user's real family does not do either.
    viewer = await login(client, "viewer@own.example")
    fam = jwt.decode(
        viewer["access_token"], SECRET, algorithms=["HS256"], audience="anh-reporter-api"
    )["fam"]
    borrowed = AccessTokens(SECRET, 900).issue(
        user_id=world.users["own:admin"],
        operator_id=world.own["operator"],
        role="admin",
        family_id=uuid.UUID(fam),
    )
    assert (await client.get("/api/v1/auth/me", headers=bearer(borrowed))).status_code == 401
