"""Anomalies over HTTP: filters, acknowledge then close, conflicts, scoping, audit."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from anh_reporter.analytics.records import Anomaly, Severity
from anh_reporter.analytics.store import save_anomalies
from anh_reporter.domain.timeutil import to_us
from anh_reporter.storage.database import Database

from .conftest import T0, World, bearer

pytestmark = pytest.mark.usefixtures("reporting_world")
HOUR = dt.timedelta(hours=1)


def _more(db: Database, world: World) -> dict[str, int]:
    """A critical anomaly of the own PMO two hours after T0, and an info one at T0 + 5 h."""
    made = [
        Anomaly(
            field_id=world.own["field"],
            series_id=None,
            pmo_id=world.own["pmo"],
            window_start_us=to_us(T0 + 2 * HOUR),
            window_end_us=to_us(T0 + 3 * HOUR),
            score=0.9,
            severity=Severity.CRITICAL,
            detector="SHIFT",
        ),
        Anomaly(
            field_id=world.own["field"],
            series_id=world.own["series"],
            pmo_id=None,
            window_start_us=to_us(T0 + 5 * HOUR),
            window_end_us=to_us(T0 + 5 * HOUR),
            score=1.0,
            severity=Severity.INFO,
            detector="SPC",
        ),
    ]
    with db.connect() as conn:
        saved = save_anomalies(conn, anomalies=made)
        conn.commit()
    return {"critical": saved[0].id, "info": saved[1].id}


async def test_list_filters_by_severity_status_and_time(
    client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str]
) -> None:
    ids = _more(db, world)
    auth = bearer(tokens["viewer"])
    everything = (await client.get("/api/v1/anomalies", headers=auth)).json()
    # Newest first; the other operator's anomaly is not among them.
    assert [a["id"] for a in everything] == [ids["info"], ids["critical"], world.own["anomaly"]]
    worse = await client.get("/api/v1/anomalies", params={"min_severity": "WARNING"}, headers=auth)
    assert [a["id"] for a in worse.json()] == [ids["critical"], world.own["anomaly"]]
    window = {"start": (T0 + HOUR).isoformat(), "end": (T0 + 4 * HOUR).isoformat()}
    between = await client.get("/api/v1/anomalies", params=window, headers=auth)
    assert [a["id"] for a in between.json()] == [ids["critical"]]
    by_pmo = await client.get(
        "/api/v1/anomalies", params={"pmo_id": world.own["pmo"]}, headers=auth
    )
    assert [a["id"] for a in by_pmo.json()] == [ids["critical"]]
    closed = await client.get("/api/v1/anomalies", params={"status": "closed"}, headers=auth)
    assert closed.json() == []
    backwards = {"start": window["end"], "end": window["start"]}
    r = await client.get("/api/v1/anomalies", params=backwards, headers=auth)
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("end:")


async def test_acknowledge_then_close_with_conflicts_and_audit(
    client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str]
) -> None:
    base = f"/api/v1/anomalies/{world.own['anomaly']}"
    operator = bearer(tokens["operator"])
    ack = await client.post(f"{base}/acknowledge", headers=operator)
    assert ack.status_code == 200, ack.text
    body = ack.json()
    assert (body["status"], body["acknowledged_by"]) == ("acknowledged", "operator@own.example")
    again = await client.post(f"{base}/acknowledge", headers=bearer(tokens["engineer"]))
    assert again.status_code == 409
    assert "acknowledged (by operator@own.example)" in again.json()["error"]["message"]
    closed = await client.post(f"{base}/close", headers=bearer(tokens["engineer"]))
    assert (closed.json()["status"], closed.json()["closed_by"]) == (
        "closed",
        "engineer@own.example",
    )
    assert (await client.post(f"{base}/close", headers=operator)).status_code == 409
    listed = await client.get("/api/v1/anomalies", params={"status": "closed"}, headers=operator)
    assert [a["id"] for a in listed.json()] == [world.own["anomaly"]]
    with db.connect() as conn:
        audited = conn.execute(
            "SELECT actor, action, details->>'anomaly_status', details->'anomaly_id', "
            "details->'status' FROM audit_log "
            "WHERE action LIKE 'POST /api/v1/anomalies/%%' ORDER BY id"
        ).fetchall()
    assert [(a[1].rsplit("/", 1)[1], a[4], a[2]) for a in audited] == [
        ("acknowledge", 200, "acknowledged"),
        ("acknowledge", 409, None),  # refused calls are recorded too
        ("close", 200, "closed"),
        ("close", 409, None),
    ]
    assert audited[0][0].endswith(":operator@own.example") and audited[0][3] == world.own["anomaly"]


async def test_another_operators_anomaly_is_not_found(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    auth = bearer(tokens["admin"])
    theirs = world.other["anomaly"]
    assert (await client.get(f"/api/v1/anomalies/{theirs}", headers=auth)).status_code == 404
    r = await client.post(f"/api/v1/anomalies/{theirs}/acknowledge", headers=auth)
    assert r.status_code == 404 and r.json()["error"]["message"] == f"anomaly {theirs} not found"
    r = await client.get(
        "/api/v1/anomalies", params={"field_id": world.other["field"]}, headers=auth
    )
    assert r.status_code == 404
