"""Issue 13, TOTP findings: one code logs in once however many requests race with it, and a code
in another script's digits is refused (never a 500)."""

from __future__ import annotations

import asyncio
import time

import httpx

from anh_reporter.api import security
from anh_reporter.storage.database import Database

from .conftest import PASSWORD, World, bearer, login

EMAIL = "viewer@own.example"


def enable_totp(db: Database, email: str) -> str:
    """Switch TOTP on for ``email`` straight in the database; its secret."""
    secret = security.new_totp_secret()
    with db.connect() as conn:
        conn.execute(
            "UPDATE users SET totp_secret = %s, totp_enabled = true, totp_last_step = NULL "
            "WHERE email = %s",
            (secret, email),
        )
        conn.commit()
    return secret


def current_code(secret: str) -> str:
    """The code of the current step, not about to change (waits out a step's last second)."""
    if time.time() % 30 > 28.5:
        time.sleep(2)
    return security.totp(security.totp_key(secret), time.time())


async def test_parallel_logins_with_one_code_succeed_once(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    code = current_code(enable_totp(db, EMAIL))
    body = {"email": EMAIL, "password": PASSWORD, "totp": code}
    answers = await asyncio.gather(
        *(client.post("/api/v1/auth/login", json=body) for _ in range(5))
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200, 401, 401, 401, 401], [r.text for r in answers]
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 401} == {"invalid_totp"}


async def test_non_ascii_digits_are_refused_not_a_500(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    secret = enable_totp(db, EMAIL)
    arabic = "".join(chr(0x0660 + int(d)) for d in current_code(secret))  # ٠..٩
    for code in (arabic, "１２３４５６"):
        r = await client.post(
            "/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD, "totp": code}
        )
        assert r.status_code in (401, 422), r.text
    assert security.verify_totp(secret, arabic, unix_time=time.time()) is None


async def test_enrolment_refuses_non_ascii_digits(client: httpx.AsyncClient, world: World) -> None:
    auth = bearer((await login(client, "engineer@own.example"))["access_token"])
    secret = (await client.post("/api/v1/auth/totp/setup", headers=auth)).json()["secret"]
    arabic = "".join(chr(0x0660 + int(d)) for d in current_code(secret))
    r = await client.post("/api/v1/auth/totp/enable", json={"code": arabic}, headers=auth)
    assert r.status_code == 422, r.text
