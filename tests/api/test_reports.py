"""Reports over HTTP: generation tasks, download and an independent signature check, verify,
amend, diff, submit, blocked drafts, scoping; and the JSON diff itself."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from anh_reporter.reports.diff import json_changes
from anh_reporter.storage.database import Database

from .conftest import REPORT_DAY, World, bearer, login

DAY = REPORT_DAY.isoformat()


async def _finished(client: httpx.AsyncClient, r: httpx.Response, auth: dict[str, str]) -> Any:
    """The task a 202 answered, once it ended (the test transport runs it before answering)."""
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    assert r.headers["location"].endswith(f"/reports/tasks/{r.json()['task_id']}")
    task = (await client.get(f"/api/v1/reports/tasks/{r.json()['task_id']}", headers=auth)).json()
    assert task["status"] not in ("queued", "running")
    return task


@pytest.mark.usefixtures("reporting_world")
async def test_generate_is_idempotent_and_the_download_verifies_on_its_own(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    auth = bearer(tokens["engineer"])
    body = {"field_id": world.own["field"], "day": DAY}
    task = await _finished(
        client, await client.post("/api/v1/reports/generate", json=body, headers=auth), auth
    )
    # The day was signed already (by the seed): the same version 1, no second one.
    assert (task["status"], task["version"], task["created"]) == ("succeeded", 1, False)
    assert task["report_id"] == world.own["report"]
    base = f"/api/v1/reports/{world.own['report']}"
    document = await client.get(f"{base}/download", headers=auth)
    signature = (await client.get(f"{base}/signature", headers=auth)).json()
    assert document.headers["content-disposition"] == (
        'attachment; filename="IDP-CAMPO-DEMO-LLANOS-20260105-v1.json"'
    )
    data = document.content
    # Checked with nothing of the project: SHA-256 and the Ed25519 signature over the bytes.
    assert hashlib.sha256(data).hexdigest() == signature["sha256"] == task["sha256"]
    assert document.headers["x-report-sha256"] == signature["sha256"]
    public = base64.b64decode(signature["public_key"])
    assert hashlib.sha256(public).hexdigest() == signature["key_id"]
    Ed25519PublicKey.from_public_bytes(public).verify(
        base64.b64decode(signature["signature"]), data
    )
    assert json.loads(data)["report"]["id"] == "IDP-CAMPO-DEMO-LLANOS-20260105"
    verified = (await client.get(f"{base}/verify", headers=auth)).json()
    assert verified["ok"] is True
    assert [c["name"] for c in verified["checks"]] == [
        "hash",
        "key",
        "signature",
        "canonical",
        "schema",
        "chain record",
        "chain link",
        "audit anchor",
    ] or {c["name"] for c in verified["checks"]} >= {"hash", "signature", "chain record"}


@pytest.mark.usefixtures("reporting_world")
async def test_verify_finds_a_record_changed_behind_the_trigger(
    client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str]
) -> None:
    with db.connect() as conn:
        conn.execute("ALTER TABLE report_versions DISABLE TRIGGER report_versions_immutable")
        conn.execute(
            "UPDATE report_versions SET canonical = canonical || convert_to(' ', 'UTF8') "
            "WHERE report_id = %s",
            (world.own["report"],),
        )
        conn.execute("ALTER TABLE report_versions ENABLE TRIGGER report_versions_immutable")
        conn.commit()
    r = await client.get(
        f"/api/v1/reports/{world.own['report']}/verify", headers=bearer(tokens["auditor"])
    )
    assert r.status_code == 200
    body = r.json()
    failed = {c["name"] for c in body["checks"] if not c["ok"]}
    assert body["ok"] is False and "hash" in failed and "signature" in failed
    assert "chain record" not in failed  # the header (with the stored hash) is intact


@pytest.mark.usefixtures("reporting_world")
async def test_amend_diff_and_submit(
    client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str], tmp_path: Path
) -> None:
    auth = bearer(tokens["engineer"])
    base = f"/api/v1/reports/{world.own['report']}"
    amend = {"reason": "lab BSW re-test", "reason_code": "lab_result"}
    # Nothing changed since v1: there is nothing to amend, and no empty version is signed.
    task = await _finished(client, await client.post(f"{base}/amend", json=amend, headers=auth),
                           auth)  # fmt: skip
    assert task["status"] == "failed" and "nothing to amend" in task["message"], task
    with db.connect() as conn:
        (pmo_id,) = conn.execute(
            "SELECT id FROM measurement_points WHERE field_id = %s AND code = 'PMO-LACT-01'",
            (world.own["field"],),
        ).fetchone() or (None,)
    # A ticket 3.95 bbl under the LACT's 9,223.95 (0.04 %: not material) is typed in.
    entry = {"pmo_id": pmo_id, "day": DAY, "level": "nsv", "volume": "9220.00",
             "reason": "custody ticket"}  # fmt: skip
    r = await client.post("/api/v1/production/manual-entries", json=entry, headers=auth)
    assert r.status_code == 201, r.text
    r = await client.post(f"{base}/amend", json=amend, headers=auth)
    task = await _finished(client, r, auth)
    assert (task["status"], task["version"], task["created"]) == ("succeeded", 2, True)
    report = (await client.get(base, headers=auth)).json()
    assert [
        (v["version"], v["status"], v["reason"], v["amends_version"]) for v in report["versions"]
    ] == [
        (1, "signed", None, None),
        (2, "signed", "lab BSW re-test", 1),
    ]
    assert report["current_version"] == 2 and report["latest_status"] == "signed"

    changes = {
        c["path"]: c for c in (await client.get(f"{base}/diff", headers=auth)).json()["changes"]
    }
    assert (changes["/report/version"]["old"], changes["/report/version"]["new"]) == (1, 2)
    assert changes["/report/amends"]["new"]["reason"] == "lab BSW re-test"
    # The signer is the authenticated person: user id and name, as the audit log names them.
    assert (
        changes["/report/generated_by"]["new"]
        == f"user:{world.users['own:engineer']}:engineer@own.example"
    )
    same = (
        await client.get(f"{base}/diff", params={"from_version": 2, "to_version": 2}, headers=auth)
    ).json()
    assert same["changes"] == []
    missing = await client.get(f"{base}/diff", params={"to_version": 9}, headers=auth)
    assert missing.status_code == 404

    sent = await client.post(f"{base}/submit", headers=auth)
    assert sent.status_code == 200, sent.text
    assert (sent.json()["version"], sent.json()["status"]) == (2, "submitted")
    assert (tmp_path / "outbox" / "IDP-CAMPO-DEMO-LLANOS-20260105-v2.json").exists()
    first = await client.post(f"{base}/submit", json={"version": 1}, headers=auth)
    assert first.json()["version"] == 1
    deliveries = (await client.get(base, headers=auth)).json()["deliveries"]
    assert [(d["version"], d["status"], d["created_by"]) for d in deliveries] == [
        (2, "delivered", "engineer@own.example"),
        (1, "delivered", "engineer@own.example"),
    ]
    with db.connect() as conn:
        audited = conn.execute(
            "SELECT action, details->>'status', details->>'version' FROM audit_log "
            "WHERE action LIKE 'report.amend%%' OR action LIKE 'POST /api/v1/reports/%%' "
            "ORDER BY id"
        ).fetchall()
    # The task runs before the call that queued it is over, so its entry comes first.
    assert audited == [
        ("report.amend.task", "failed", None),
        ("POST /api/v1/reports/{report_id}/amend", "202", None),
        ("report.amend.task", "succeeded", "2"),
        ("POST /api/v1/reports/{report_id}/amend", "202", None),
        ("POST /api/v1/reports/{report_id}/submit", "200", "2"),
        ("POST /api/v1/reports/{report_id}/submit", "200", "1"),
    ]


@pytest.mark.usefixtures("reporting_world")
async def test_a_material_amendment_waits_for_a_second_person(
    client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str]
) -> None:
    engineer, admin = bearer(tokens["engineer"]), bearer(tokens["admin"])
    base = f"/api/v1/reports/{world.own['report']}"
    with db.connect() as conn:
        (pmo_id,) = conn.execute(
            "SELECT id FROM measurement_points WHERE field_id = %s AND code = 'PMO-LACT-01'",
            (world.own["field"],),
        ).fetchone() or (None,)
    # A ticket typed in at NSV replaces the LACT's day: a change far beyond the materiality.
    entry = {"pmo_id": pmo_id, "day": DAY, "level": "nsv", "volume": 1000,
             "reason": "custody ticket replaces the meter"}  # fmt: skip
    r = await client.post("/api/v1/production/manual-entries", json=entry, headers=engineer)
    assert r.status_code == 201, r.text
    body = {"reason": "meter failed, custody ticket", "reason_code": "manual_correction"}
    task = await _finished(
        client, await client.post(f"{base}/amend", json=body, headers=engineer), engineer
    )
    assert task["status"] == "awaiting_approval", task
    report = (await client.get(base, headers=engineer)).json()
    assert [v["version"] for v in report["versions"]] == [1]  # nothing signed yet
    pending = report["pending_amendment"]
    assert (pending["reason_code"], pending["material"], pending["requested_by"]) == (
        "manual_correction", True, f"user:{world.users['own:engineer']}:engineer@own.example",
    )  # fmt: skip
    changed = {(c["target"], c["figure"]): (c["old"], c["new"]) for c in pending["changes"]}
    assert changed[("PMO-LACT-01", "net_standard_volume")] == (9223.95, 1000.0)
    assert changed[("PMO-LACT-01", "method")] == ("totalizer", "manual")
    # The one who asked cannot approve; a second person can, and then it is signed.
    same = await client.post(f"{base}/amendment/approve", headers=engineer)
    refused = await _finished(client, same, engineer)
    assert refused["status"] == "failed" and "four eyes" in refused["message"], refused
    done = await _finished(
        client, await client.post(f"{base}/amendment/approve", headers=admin), admin
    )
    assert (done["status"], done["version"]) == ("succeeded", 2), done
    report = (await client.get(base, headers=engineer)).json()
    assert report["pending_amendment"] is None
    assert [(v["version"], v["status"]) for v in report["versions"]] == [
        (1, "signed"),
        (2, "signed"),
    ]


@pytest.mark.usefixtures("reporting_world")
async def test_a_blocked_day_keeps_a_draft_that_cannot_be_downloaded_or_amended(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    auth = bearer(tokens["engineer"])
    day = (REPORT_DAY + dt.timedelta(days=1)).isoformat()  # only its first hour has data
    r = await client.post(
        "/api/v1/reports/generate", json={"field_id": world.own["field"], "day": day}, headers=auth
    )
    task = await _finished(client, r, auth)
    assert task["status"] == "blocked" and task["version"] is None
    assert any(f["severity"] == "error" for f in task["findings"]), task["findings"]
    listed = (await client.get("/api/v1/reports", params={"start_day": day}, headers=auth)).json()
    assert [(x["contract_day"], x["latest_status"], x["current_version"]) for x in listed] == [
        (day, "draft", None)
    ]
    draft = f"/api/v1/reports/{listed[0]['id']}"
    assert listed[0]["id"] == task["report_id"]
    download = await client.get(f"{draft}/download", headers=auth)
    assert download.status_code == 409 and download.json()["error"]["code"] == "not_signed"
    amend = await client.post(
        f"{draft}/amend", json={"reason": "try again", "reason_code": "other"}, headers=auth
    )
    assert amend.status_code == 409
    future = await client.post(
        "/api/v1/reports/generate",
        json={"field_id": world.own["field"], "day": "2300-01-01"},
        headers=auth,
    )
    assert future.status_code == 422 and "body.day" in future.json()["error"]["message"]


@pytest.mark.usefixtures("reporting_world")
async def test_another_operators_tasks_and_reports_are_not_found(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    theirs = bearer((await login(client, "engineer@other.example"))["access_token"])
    r = await client.post(
        "/api/v1/reports/generate",
        json={"field_id": world.other["field"], "day": DAY},
        headers=theirs,
    )
    task_id = r.json()["task_id"]
    ours = bearer(tokens["admin"])
    assert (await client.get(f"/api/v1/reports/tasks/{task_id}", headers=ours)).status_code == 404
    assert (await client.get(f"/api/v1/reports/tasks/{task_id}", headers=theirs)).status_code == 200
    listed = (await client.get("/api/v1/reports", headers=ours)).json()
    assert [x["id"] for x in listed] == [world.own["report"]]
    r = await client.post(f"/api/v1/reports/{world.other['report']}/submit", headers=ours)
    assert r.status_code == 404


def test_json_changes_by_pointer() -> None:
    old = {"a/b": 1, "m~n": [1, 2, 3], "same": {"x": Decimal("1.50")}, "gone": True, "t": 1}
    new = {"a/b": 2, "m~n": [1, 5], "same": {"x": Decimal("1.50")}, "added": None, "t": True}
    assert json_changes(old, new) == [
        {"path": "/a~1b", "op": "changed", "old": 1, "new": 2},
        {"path": "/added", "op": "added", "old": None, "new": None},
        {"path": "/gone", "op": "removed", "old": True, "new": None},
        {"path": "/m~0n/1", "op": "changed", "old": 2, "new": 5},
        {"path": "/m~0n/2", "op": "removed", "old": 3, "new": None},
        {"path": "/t", "op": "changed", "old": 1, "new": True},  # 1 == True in Python, not here
    ]
    assert json_changes([1], [1, {"k": "v"}]) == [
        {"path": "/1", "op": "added", "old": None, "new": {"k": "v"}}
    ]
