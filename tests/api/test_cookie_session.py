"""Cookie sessions for the browser, over real HTTP (uvicorn) on the real PostgreSQL and Redis:
login with ``"session": "cookie"``, the cookie's flags and path, rotation and reuse detection
exactly like ``/auth/refresh``, logout, and the CSRF refusals."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from anh_reporter.api.app import create_app
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.config import Settings
from anh_reporter.storage.database import Database

from .conftest import PASSWORD, World, api_settings, bearer, free_port
from .test_security_accounts import REDIS_URL, _flushed_redis

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/session/refresh"
LOGOUT = "/api/v1/auth/session/logout"
ME = "/api/v1/auth/me"
CSRF = {"X-ANH-CSRF": "1"}
TTL_S = 7200


@pytest.fixture
async def base(db: Database, world: World, tmp_path: Path) -> AsyncIterator[str]:
    """The app served by uvicorn on a free port, its limits and lockouts in the real Redis."""
    await _flushed_redis()
    app = create_app(
        Settings(data_dir=tmp_path, redis_url=REDIS_URL),
        db,
        MemoryBus(),
        api=api_settings(refresh_token_ttl_s=TTL_S),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers no event for "listening"
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        await _flushed_redis()


@contextlib.asynccontextmanager
async def http(base: str) -> AsyncIterator[httpx.AsyncClient]:
    # Cookies are sent by hand: an http:// client would (rightly) not return a Secure cookie.
    async with httpx.AsyncClient(base_url=base) as client:
        yield client


def set_cookie(response: httpx.Response) -> dict[str, Any]:
    """The one ``anh_refresh`` cookie a response sets, with its attributes."""
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    jar: SimpleCookie = SimpleCookie()
    jar.load(headers[0])
    morsel = jar["anh_refresh"]
    flags = {part.strip().lower() for part in headers[0].split(";")}
    return {
        "value": morsel.value,
        "max_age": int(morsel["max-age"]),
        "path": morsel["path"],
        "httponly": "httponly" in flags,
        "secure": "secure" in flags,
        "samesite": morsel["samesite"],
    }


def cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"anh_refresh={value}"}


async def cookie_login(client: httpx.AsyncClient, email: str) -> tuple[str, str]:
    """(access token, refresh cookie) of a new cookie session."""
    r = await client.post(
        LOGIN, json={"email": email, "password": PASSWORD, "session": "cookie"}, headers=CSRF
    )
    assert r.status_code == 200, r.text
    assert r.json()["refresh_token"] is None  # never in a body the page's scripts can read
    return r.json()["access_token"], set_cookie(r)["value"]


async def test_login_sets_a_narrow_httponly_secure_strict_cookie(base: str) -> None:
    async with http(base) as client:
        r = await client.post(
            LOGIN,
            json={"email": "engineer@own.example", "password": PASSWORD, "session": "cookie"},
            headers={**CSRF, "Origin": base},  # the page's own origin is fine
        )
        assert r.status_code == 200, r.text
        assert set_cookie(r) | {"value": "?"} == {
            "value": "?",
            "max_age": TTL_S,
            "path": "/api/v1/auth/session",
            "httponly": True,
            "secure": True,
            "samesite": "Strict",
        }
        assert set_cookie(r)["value"].startswith("rt_")
        assert (await client.get(ME, headers=bearer(r.json()["access_token"]))).status_code == 200
        # The default stays a token session: refresh token in the body, no cookie.
        plain = await client.post(LOGIN, json={"email": "viewer@own.example", "password": PASSWORD})
        assert plain.status_code == 200 and plain.json()["refresh_token"].startswith("rt_")
        assert "set-cookie" not in plain.headers
        caps = (await client.get("/api/v1/capabilities")).json()
        assert "auth.cookie_session" in caps["features"]


async def test_refresh_rotates_and_reuse_revokes_the_family(base: str) -> None:
    async with http(base) as client:
        access, first = await cookie_login(client, "operator@own.example")
        r = await client.post(REFRESH, headers={**CSRF, **cookie(first)})
        assert r.status_code == 200, r.text
        assert r.json()["refresh_token"] is None
        second = set_cookie(r)
        assert second["value"] != first and second["max_age"] == TTL_S
        assert second["path"] == "/api/v1/auth/session" and second["httponly"]
        new_access = r.json()["access_token"]
        assert (await client.get(ME, headers=bearer(new_access))).status_code == 200

        # The spent cookie again (a stolen copy): the whole session ends, the cookie is cleared.
        reuse = await client.post(REFRESH, headers={**CSRF, **cookie(first)})
        assert reuse.status_code == 401
        assert reuse.json()["error"]["code"] == "refresh_token_reused"
        cleared = set_cookie(reuse)
        assert (cleared["value"], cleared["max_age"], cleared["path"]) == (
            "",
            0,
            "/api/v1/auth/session",
        )
        after = await client.post(REFRESH, headers={**CSRF, **cookie(second["value"])})
        assert after.status_code == 401
        assert after.json()["error"]["code"] == "refresh_token_revoked"
        for token in (access, new_access):
            me = await client.get(ME, headers=bearer(token))
            assert me.status_code == 401 and me.json()["error"]["code"] == "session_revoked"

        none = await client.post(REFRESH, headers=CSRF)
        assert none.status_code == 401 and none.json()["error"]["code"] == "no_session"
        assert set_cookie(none)["max_age"] == 0


async def test_logout_revokes_the_session_and_clears_the_cookie(base: str) -> None:
    async with http(base) as client:
        access, value = await cookie_login(client, "auditor@own.example")
        r = await client.post(LOGOUT, headers={**CSRF, **cookie(value)})
        assert r.status_code == 204
        assert set_cookie(r)["max_age"] == 0 and set_cookie(r)["value"] == ""
        assert (await client.get(ME, headers=bearer(access))).status_code == 401
        again = await client.post(REFRESH, headers={**CSRF, **cookie(value)})
        assert again.status_code == 401
        assert again.json()["error"]["code"] == "refresh_token_revoked"
        # Without a cookie there is nothing to end: still 204, still cleared.
        r = await client.post(LOGOUT, headers=CSRF)
        assert r.status_code == 204 and set_cookie(r)["max_age"] == 0


async def test_cookie_calls_without_the_csrf_header_or_from_another_origin_are_refused(
    base: str,
) -> None:
    async with http(base) as client:
        body = {"email": "viewer@own.example", "password": PASSWORD, "session": "cookie"}
        r = await client.post(LOGIN, json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_required"
        assert "X-ANH-CSRF" in r.json()["error"]["message"]
        assert "set-cookie" not in r.headers
        r = await client.post(LOGIN, json=body, headers={**CSRF, "Origin": "https://evil.example"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "bad_origin"
        assert "evil.example" in r.json()["error"]["message"]

        access, value = await cookie_login(client, "viewer@own.example")
        for headers in (
            cookie(value),  # a cross-site form post: no custom header
            {"X-ANH-CSRF": "yes", **cookie(value)},
            {**CSRF, "Origin": "null", **cookie(value)},
            {**CSRF, "Origin": "http://[", **cookie(value)},  # not even a URL
            {**CSRF, "Origin": "http://127.0.0.1:1", **cookie(value)},  # same site, other port
        ):
            for path in (REFRESH, LOGOUT):
                r = await client.post(path, headers=headers)
                assert r.status_code == 403, (path, headers, r.text)
                assert r.json()["error"]["code"] in {"csrf_required", "bad_origin"}
        # The refusals spent nothing and ended nothing: the cookie still renews the session.
        assert (await client.get(ME, headers=bearer(access))).status_code == 200
        r = await client.post(REFRESH, headers={**CSRF, "Origin": base, **cookie(value)})
        assert r.status_code == 200, r.text
