"""Issue 13, audit findings: user changes say what changed (before and after, no secrets);
logout, refresh-token reuse and the services' own entries (report signing, manual entries)
reach the operator's auditors, and never another operator's."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import PASSWORD, World, bearer, login


async def _audit(client: httpx.AsyncClient, token: str, **params: Any) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/audit", params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()
    return entries


async def test_user_changes_are_logged_with_before_and_after(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    victim = world.users["own:victim"]
    r = await client.patch(
        f"/api/v1/users/{victim}",
        json={"role": "engineer", "password": "a fresh passphrase for her"},
        headers=bearer(tokens["admin"]),
    )
    assert r.status_code == 200, r.text
    entries = await _audit(client, tokens["auditor"], action="PATCH /api/v1/users/{user_id}")
    assert len(entries) == 1
    details = entries[0]["details"]
    assert details["user_id"] == victim and details["email"] == "victim@own.example"
    assert details["changes"] == {
        "role": {"before": "viewer", "after": "engineer"},
        "password": "changed",
    }
    assert "fresh passphrase" not in str(entries) and "argon2" not in str(entries)
    r = await client.post(
        "/api/v1/users",
        json={"email": "new@own.example", "password": PASSWORD, "role": "viewer"},
        headers=bearer(tokens["admin"]),
    )
    created = (await _audit(client, tokens["auditor"], action="POST /api/v1/users"))[0]
    assert created["details"]["created"]["role"] == "viewer"
    assert PASSWORD not in str(created)


async def test_logout_and_refresh_reuse_reach_the_operators_auditors(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    session = await login(client, "viewer@own.example")
    r = await client.post("/api/v1/auth/logout", json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 204
    logouts = await _audit(client, tokens["auditor"], action="POST /api/v1/auth/logout")
    assert [e["actor"] for e in logouts] == [f"user:{world.users['own:viewer']}"]

    session = await login(client, "operator@own.example")
    old = session["refresh_token"]
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": old})
    ).status_code == 200
    reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": old})
    assert reuse.status_code == 401 and reuse.json()["error"]["code"] == "refresh_token_reused"
    refreshes = await _audit(client, tokens["auditor"], action="POST /api/v1/auth/refresh")
    flagged = [e for e in refreshes if e["details"].get("reuse_detected")]
    assert len(flagged) == 1 and flagged[0]["details"]["status"] == 401

    other_auditor = (await login(client, "auditor@other.example"))["access_token"]
    theirs = await _audit(client, other_auditor, action="POST /api/v1/auth/logout")
    assert theirs == []


async def test_report_signing_by_the_services_is_visible_to_the_operators_auditor(
    client: httpx.AsyncClient, reporting_world: World
) -> None:
    world = reporting_world
    own = (await login(client, "auditor@own.example"))["access_token"]
    signed = await _audit(client, own, action="report.sign")
    assert signed, "the report signed in the seed is not in the operator's audit log"
    assert all(e["target"].startswith("CAMPO-DEMO-LLANOS/") for e in signed)
    other = (await login(client, "auditor@other.example"))["access_token"]
    theirs = await _audit(client, other, action="report.sign")
    assert all(e["target"].startswith("AJENO-") for e in theirs)  # never A's
    assert world.own["report"] != world.other["report"]
