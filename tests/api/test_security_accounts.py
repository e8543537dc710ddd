"""Issue 13, accounts: per-account lockout with exponential back-off and an admin unlock,
login limits per account (not one budget per address), and the NIST password policy."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from redis.exceptions import RedisError

from anh_reporter.api.app import create_app
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.config import Settings
from anh_reporter.storage.database import Database

from ..conftest import unavailable
from .conftest import PASSWORD, World, api_settings, bearer, login

REDIS_URL = os.environ.get("ANH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LOGIN = "/api/v1/auth/login"


async def _flushed_redis() -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
        await redis.flushdb()
    except (RedisError, OSError) as exc:
        unavailable("Redis", str(exc))
    finally:
        await redis.aclose()


@pytest.fixture
async def redis_app(db: Database, world: World, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """An app sharing its limits and lockouts through the real Redis."""
    await _flushed_redis()
    app = create_app(
        Settings(data_dir=tmp_path, redis_url=REDIS_URL),
        db,
        MemoryBus(),
        api=api_settings(login_lockout_after=5, login_lockout_base_s=1.0),
    )
    async with app.router.lifespan_context(app):
        yield app
    await _flushed_redis()


def _client(app: FastAPI, **kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", **kw
    )


async def _attempt(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


async def test_lockout_backs_off_exponentially_and_an_admin_unlocks(
    redis_app: FastAPI, world: World
) -> None:
    email = "viewer@own.example"
    async with _client(redis_app) as client:
        for _ in range(5):
            assert (await _attempt(client, email, "wrong password!!")).status_code == 401
        locked = await _attempt(client, email, PASSWORD)  # even the right password
        assert locked.status_code == 429, locked.text
        assert locked.json()["error"]["code"] == "account_locked"
        assert locked.headers["Retry-After"] == "1"
        await asyncio.sleep(1.1)
        assert (await _attempt(client, email, "wrong password!!")).status_code == 401
        again = await _attempt(client, email, PASSWORD)
        assert again.status_code == 429 and again.headers["Retry-After"] == "2"  # doubled
        # Another replica (another app on the same Redis) sees the same lock.
        other = create_app(
            Settings(data_dir=Path(redis_app.state.api.settings.data_dir), redis_url=REDIS_URL),
            redis_app.state.api.pool.database,
            MemoryBus(),
            api=api_settings(login_lockout_after=5, login_lockout_base_s=1.0),
        )
        async with other.router.lifespan_context(other), _client(other) as elsewhere:
            assert (await _attempt(elsewhere, email, PASSWORD)).status_code == 429
        admin = await login(client, "admin@own.example")
        r = await client.post(
            f"/api/v1/users/{world.users['own:viewer']}/unlock",
            headers=bearer(admin["access_token"]),
        )
        assert r.status_code == 204
        assert (await _attempt(client, email, PASSWORD)).status_code == 200


async def test_unknown_accounts_lock_the_same_way(redis_app: FastAPI, world: World) -> None:
    async with _client(redis_app) as client:
        answers = [
            await _attempt(client, "nobody@own.example", "wrong password!!") for _ in range(6)
        ]
    assert [r.status_code for r in answers] == [401] * 5 + [429]
    assert answers[-1].json()["error"]["code"] == "account_locked"


async def test_many_accounts_from_one_address_each_get_their_own_budget(
    db: Database, world: World, tmp_path: Path
) -> None:
    """A short login load by many accounts from one address (a proxy): each account gets 429
    after its own attempts, the others go on; nobody is refused for someone else's."""
    await _flushed_redis()
    app = create_app(
        Settings(data_dir=tmp_path, redis_url=REDIS_URL),
        db,
        MemoryBus(),
        api=api_settings(auth_rate_per_minute=1000, auth_account_rate_per_minute=3),
    )
    emails = [f"{role}@own.example" for role in ("admin", "engineer", "operator", "viewer")]
    emails += [f"ghost{i}@own.example" for i in range(4)]
    try:
        async with app.router.lifespan_context(app), _client(app) as client:
            seen: dict[str, list[int]] = {e: [] for e in emails}
            for _ in range(5):
                for email in emails:
                    seen[email].append(
                        (await _attempt(client, email, "wrong password!!")).status_code
                    )
            assert all(codes == [401, 401, 401, 429, 429] for codes in seen.values()), seen
            # A user whose account was not hammered logs in from the same address.
            assert (await _attempt(client, "auditor@own.example", PASSWORD)).status_code == 200
    finally:
        await _flushed_redis()


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("password1234", "commonly used"),
        (" " * 12, "only spaces"),
        ("Password1234!", "commonly used"),
        ("aaaaaaaaaaaaaaaa", "repeats"),
        ("qwertyuiop12", "commonly used"),
        ("short pass", "at least 12"),
    ],
)
async def test_password_policy_refuses_common_and_trivial_passwords(
    client: httpx.AsyncClient, tokens: dict[str, str], password: str, says: str
) -> None:
    r = await client.post(
        "/api/v1/users",
        json={"email": "new@own.example", "password": password, "role": "viewer"},
        headers=bearer(tokens["admin"]),
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "weak_password" and says in r.json()["error"]["message"]
    r = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": password},
        headers=bearer(tokens["viewer"]),
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "weak_password"


async def test_password_policy_takes_a_passphrase_without_composition_rules(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    r = await client.post(
        "/api/v1/users",
        json={
            "email": "new@own.example",
            "password": "río magdalena al amanecer",
            "role": "viewer",
        },
        headers=bearer(tokens["admin"]),
    )
    assert r.status_code == 201, r.text


async def test_the_unlock_command_ends_a_lockout(redis_app: FastAPI, world: World) -> None:
    from typer.testing import CliRunner

    from anh_reporter.api.cli import users_app
    from anh_reporter.config import get_settings

    email = "engineer@own.example"
    async with _client(redis_app) as client:
        for _ in range(5):
            await _attempt(client, email, "wrong password!!")
        assert (await _attempt(client, email, PASSWORD)).status_code == 429
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(
                users_app, ["unlock", email.upper()], env={"ANH_REDIS_URL": REDIS_URL}
            )
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        assert "unlocked" in result.output
        assert (await _attempt(client, email, PASSWORD)).status_code == 200
