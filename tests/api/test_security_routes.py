"""Security evidence over HTTP: the report chain's head (auditors, admins)."""

from __future__ import annotations

import time

import httpx
import pytest

from anh_reporter import secretbox
from anh_reporter.api import security
from anh_reporter.reports.chain import GENESIS
from anh_reporter.secretbox import SecretBox
from anh_reporter.storage.database import Database

from .conftest import PASSWORD, World, bearer, login


async def test_chain_head_before_anything_is_signed(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    r = await client.get("/api/v1/security/chain-head", headers=bearer(tokens["auditor"]))
    assert r.status_code == 200, r.text
    assert r.json()["seq"] == 0 and r.json()["chain_hash"] == GENESIS
    refused = await client.get("/api/v1/security/chain-head", headers=bearer(tokens["viewer"]))
    assert refused.status_code == 403


@pytest.mark.usefixtures("reporting_world")
async def test_chain_head_is_the_last_signed_version(
    client: httpx.AsyncClient, db: Database, tokens: dict[str, str]
) -> None:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT chain_seq, chain_hash FROM report_versions WHERE chain_seq IS NOT NULL "
            "ORDER BY chain_seq DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    head = (await client.get("/api/v1/security/chain-head", headers=bearer(tokens["admin"]))).json()
    assert (head["seq"], head["chain_hash"]) == (row[0], row[1])
    assert "field" not in head  # one chain for all operators: the head names no report


async def test_totp_secret_is_sealed_at_rest_and_still_works(
    client: httpx.AsyncClient, db: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = SecretBox(["k" * 40])
    monkeypatch.setattr(secretbox, "default_box", lambda: box)
    email = "viewer@own.example"
    auth = bearer((await login(client, email))["access_token"])
    secret = (await client.post("/api/v1/auth/totp/setup", headers=auth)).json()["secret"]
    with db.connect() as conn:
        row = conn.execute("SELECT totp_secret FROM users WHERE email = %s", (email,)).fetchone()
    assert row is not None and secretbox.is_sealed(row[0]) and secret not in row[0]
    code = security.totp(security.totp_key(secret), time.time() - 30)
    enabled = await client.post("/api/v1/auth/totp/enable", json={"code": code}, headers=auth)
    assert enabled.status_code == 204
    code = security.totp(security.totp_key(secret), time.time())
    ok = await client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD, "totp": code}
    )
    assert ok.status_code == 200, ok.text


async def test_assessment_and_signing_keys(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    r = await client.get("/api/v1/security/assessment", headers=bearer(tokens["auditor"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["standard"] == "IEC 62443-3-3" and body["frs"][0]["fr"] == "FR1"
    assert "api-tls" in body["gaps"] and "mfa-admin" in body["gaps"]  # the test app's defaults
    assert (
        await client.get("/api/v1/security/assessment", headers=bearer(tokens["engineer"]))
    ).status_code == 403
    keys = await client.get("/api/v1/security/signing-keys", headers=bearer(tokens["viewer"]))
    assert keys.status_code == 200 and isinstance(keys.json(), list)
