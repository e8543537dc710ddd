"""Issue 13, TOTP step-up: signing, amending and user administration need a current code from
a user with TOTP on (401 ``totp_required`` without, 422 ``invalid_totp`` wrong or replayed);
roles may be required to use TOTP; ``/auth/me`` says whether TOTP is on."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from anh_reporter.api import security
from anh_reporter.storage.database import Database

from .conftest import T0, World, bearer, login, make_app
from .test_security_totp import enable_totp


def code(secret: str, offset: int) -> str:
    """The code ``offset`` steps from now (-1, 0, +1 are accepted: three step-ups a window)."""
    return security.totp(security.totp_key(secret), time.time() + 30 * offset)


@pytest.fixture(autouse=True)
def _not_at_a_step_edge() -> None:
    if time.time() % 30 > 27:
        time.sleep(4)


async def test_signing_and_amending_need_a_current_code(
    client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str]
) -> None:
    secret = enable_totp(db, "engineer@own.example")
    auth = bearer(tokens["engineer"])
    me = (await client.get("/api/v1/auth/me", headers=auth)).json()
    assert me["totp_enabled"] is True and me["totp_required"] is False
    body = {"field_id": world.own["field"], "day": T0.date().isoformat()}
    r = await client.post("/api/v1/reports/generate", json=body, headers=auth)
    assert r.status_code == 401 and r.json()["error"]["code"] == "totp_required", r.text
    wrong = "000000" if code(secret, 0) != "000000" else "111111"
    r = await client.post("/api/v1/reports/generate", json={**body, "totp": wrong}, headers=auth)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_totp"
    current = code(secret, -1)
    r = await client.post("/api/v1/reports/generate", json={**body, "totp": current}, headers=auth)
    assert r.status_code == 202, r.text
    r = await client.post("/api/v1/reports/generate", json={**body, "totp": current}, headers=auth)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_totp"  # replayed
    amend = {"reason_code": "meter_factor", "reason": "meter factor was wrong"}
    r = await client.post("/api/v1/reports/1/amend", json=amend, headers=auth)
    assert r.status_code == 401 and r.json()["error"]["code"] == "totp_required", r.text
    r = await client.post("/api/v1/reports/1/amendment/approve", headers=auth)
    assert r.status_code == 401 and r.json()["error"]["code"] == "totp_required"
    # Without TOTP on, nothing changes for a user.
    other = bearer(tokens["admin"])
    r = await client.post("/api/v1/reports/generate", json=body, headers=other)
    assert r.status_code == 202


async def test_user_administration_needs_a_current_code(
    client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str]
) -> None:
    secret = enable_totp(db, "admin@own.example")
    auth = bearer(tokens["admin"])
    victim = world.users["own:victim"]
    r = await client.patch(f"/api/v1/users/{victim}", json={"role": "engineer"}, headers=auth)
    assert r.status_code == 401 and r.json()["error"]["code"] == "totp_required"
    r = await client.delete(f"/api/v1/users/{victim}", headers=auth)
    assert r.status_code == 401
    r = await client.post(
        "/api/v1/api-keys", json={"name": "k", "scopes": ["telemetry.read"]}, headers=auth
    )
    assert r.status_code == 401
    r = await client.patch(
        f"/api/v1/users/{victim}",
        json={"role": "engineer", "totp": code(secret, -1)},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    r = await client.delete(f"/api/v1/users/{victim}", headers={**auth, "X-TOTP": code(secret, 0)})
    assert r.status_code == 204, r.text
    entries = (
        await client.get(
            "/api/v1/audit",
            params={"action": "DELETE /api/v1/users/{user_id}"},
            headers=bearer(tokens["auditor"]),
        )
    ).json()
    assert entries[0]["details"]["totp_checked"] is True


@pytest.fixture
async def strict_client(
    db: Database, world: World, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(db, tmp_path, totp_required_roles=["viewer"])
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        yield client


async def test_a_role_can_be_required_to_use_totp(strict_client: httpx.AsyncClient) -> None:
    client = strict_client
    auth = bearer((await login(client, "viewer@own.example"))["access_token"])
    r = await client.get("/api/v1/fields", headers=auth)
    assert r.status_code == 403 and r.json()["error"]["code"] == "totp_enrolment_required"
    me = (await client.get("/api/v1/auth/me", headers=auth)).json()
    assert me["totp_required"] is True and me["totp_enabled"] is False
    secret = (await client.post("/api/v1/auth/totp/setup", headers=auth)).json()["secret"]
    r = await client.post("/api/v1/auth/totp/enable", json={"code": code(secret, 0)}, headers=auth)
    assert r.status_code == 204
    assert (await client.get("/api/v1/fields", headers=auth)).status_code == 200
    # Other roles are not affected.
    other = bearer((await login(client, "auditor@own.example"))["access_token"])
    assert (await client.get("/api/v1/fields", headers=other)).status_code == 200


async def test_guessing_step_up_codes_with_a_stolen_session_locks_the_account(
    db: Database, world: World, tmp_path: Path
) -> None:
    app = make_app(db, tmp_path, login_lockout_after=3)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        auth = bearer((await login(client, "admin@own.example"))["access_token"])
        secret = enable_totp(db, "admin@own.example")
        victim = world.users["own:victim"]
        wrong = [c for c in ("000000", "111111", "222222", "333333") if c != code(secret, 0)]
        for guess in wrong[:3]:
            r = await client.delete(f"/api/v1/users/{victim}", headers={**auth, "X-TOTP": guess})
            assert r.status_code == 422, r.text
        r = await client.delete(
            f"/api/v1/users/{victim}", headers={**auth, "X-TOTP": code(secret, 0)}
        )
        assert r.status_code == 429 and r.json()["error"]["code"] == "account_locked"
        r = await client.post(
            "/api/v1/auth/password",
            json={"current_password": "not the password", "new_password": "whatever it is now"},
            headers=auth,
        )
        assert r.status_code == 429
