"""The day's evidence and the people's word on it, over HTTP on the real database.

A field with two PMOs and one fault each on contract day 2026-03-02 (06:00 Bogota = 11:00 UTC):

* PMO-LACT (oil totalizer, 8,000 bbl/d, a reading every 10 min): at 23:00 UTC the counter
  drops from 1,004,000.00 to 0 and counts on: a meter reset nobody has confirmed yet.
* PMO-AGUA (water rate, 24,000 bbl/d): no samples from 13:00 to 03:00 UTC, 14 h. The rate line
  across the gap is flat, so the estimate is 24,000 × 14/24 = 14,000 bbl, 58.3 % of the day:
  above the 5 % that needs an approval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml

from anh_reporter.api.security import hash_password
from anh_reporter.domain.timeutil import to_us
from anh_reporter.production.daily import compute_day
from anh_reporter.site import Site
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter

from .conftest import PASSWORD, bearer, login, make_app

DAY = dt.date(2026, 3, 2)
START = dt.datetime(2026, 3, 2, 11, tzinfo=dt.UTC)
RESET_AT = dt.datetime(2026, 3, 2, 23, tzinfo=dt.UTC)
GAP = (dt.datetime(2026, 3, 2, 13, tzinfo=dt.UTC), dt.datetime(2026, 3, 3, 3, tzinfo=dt.UTC))
SERIES = "sampling_period_s: 600, commissioned: 2025-01-01"
SITE = f"""
operator: {{name: Operadora Evidencia, nit: "900000010-1"}}
fields:
  - code: CAMPO-EV
    name: Campo evidencia
    contract: EV-1
    municipality_dane: "50568"
    pmos:
      - code: PMO-LACT
        name: LACT
        kind: oil
        meter: {{type: coriolis, meter_factor: 1.0}}
        series:
          - {{variable: oil_total, unit: bbl, range: [0, 9999999.99], {SERIES},
             rollover: 10000000, resolution: 0.01}}
          - {{variable: meter_temperature, unit: degF, range: [0, 300], {SERIES}}}
          - {{variable: meter_pressure, unit: psig, range: [0, 1500], {SERIES}}}
          - {{variable: bsw, unit: "%", range: [0, 100], {SERIES}}}
          - {{variable: api_gravity, unit: degAPI, range: [5, 60], {SERIES}, basis: base}}
      - code: PMO-AGUA
        name: Agua
        kind: water
        meter: {{type: turbine, has_totalizer: false, meter_factor: 1.0}}
        series:
          - {{variable: water_rate, unit: bbl/d, range: [0, 100000], {SERIES}}}
          - {{variable: meter_temperature, unit: degF, range: [0, 300], {SERIES}}}
"""


def _seed(db: Database) -> dict[str, int]:
    site = Site.model_validate(yaml.safe_load(SITE))
    times = [START + k * dt.timedelta(minutes=10) for k in range(-1, 146)]
    with db.connect() as conn:
        load_site_into(conn, site, changed_by="test")
        ids = dict(
            conn.execute(
                "SELECT p.code || '.' || s.variable, s.id FROM series s "
                "JOIN measurement_points p ON p.id = s.pmo_id"
            ).fetchall()
        )
        rows: list[tuple[int, dt.datetime, float]] = []
        for t in times:
            days = (t - START).total_seconds() / 86_400
            counter = (
                1_000_000 + 8_000 * days
                if t < RESET_AT
                else 8_000 * (t - RESET_AT) / (dt.timedelta(days=1))
            )
            rows.append((ids["PMO-LACT.oil_total"], t, round(counter, 2)))
            for variable, value in (
                ("meter_temperature", 60.0),
                ("meter_pressure", 0.0),
                ("bsw", 0.0),
                ("api_gravity", 30.0),
            ):
                rows.append((ids[f"PMO-LACT.{variable}"], t, value))
            if not GAP[0] < t < GAP[1]:
                rows.append((ids["PMO-AGUA.water_rate"], t, 24_000.0))
            rows.append((ids["PMO-AGUA.meter_temperature"], t, 60.0))
        TelemetryWriter(conn).write(
            np.array([r[0] for r in rows], dtype=np.int32),
            np.array([to_us(r[1]) for r in rows], dtype=np.int64),
            np.array([r[2] for r in rows], dtype=np.float64),
            np.zeros(len(rows), dtype=np.uint32),
        )
        operator = conn.execute("SELECT id FROM operators").fetchone()
        assert operator is not None
        for role in ("engineer", "operator", "viewer"):
            conn.execute(
                "INSERT INTO users (email, password_hash, operator_id, role, all_fields) "
                "VALUES (%s, %s, %s, %s, true)",
                (f"{role}@ev.example", hash_password(PASSWORD), operator[0], role),
            )
        conn.commit()
        compute_day(conn, "CAMPO-EV", DAY)
        out = dict(conn.execute("SELECT code, id FROM measurement_points").fetchall())
        field = conn.execute("SELECT id FROM fields").fetchone()
        assert field is not None
        out["field"] = field[0]
    return out


@pytest.fixture
async def setup(db: Database, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    ids = _seed(db)
    app = make_app(db, tmp_path)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            tokens = {
                role: bearer((await login(c, f"{role}@ev.example"))["access_token"])
                for role in ("engineer", "operator", "viewer")
            }
            yield c, (ids, tokens)


def _pmo(evidence: dict[str, Any], pmo_id: int) -> dict[str, Any]:
    return next(p for p in evidence["pmos"] if p["pmo_id"] == pmo_id)


async def test_evidence_confirm_approve_and_enter(
    setup: tuple[httpx.AsyncClient, Any],
) -> None:
    client, (ids, auth) = setup
    base = f"/api/v1/production/fields/{ids['field']}/days/{DAY}"
    r = await client.get(f"{base}/evidence", headers=auth["viewer"])
    assert r.status_code == 200, r.text
    evidence = r.json()
    assert (evidence["day_start"], evidence["day_end"]) == (
        "2026-03-02T11:00:00Z",
        "2026-03-03T11:00:00Z",
    )
    lact, agua = _pmo(evidence, ids["PMO-LACT"]), _pmo(evidence, ids["PMO-AGUA"])
    [reset] = [e for e in lact["events"] if e["kind"] == "reset"]
    assert reset["status"] == "needs_confirmation"
    assert reset["end"] == "2026-03-02T23:00:00Z"
    assert (reset["before_value"], reset["after_value"]) == (1_003_944.44, 0.0)
    # 14 h of 24,000 bbl/d on a flat line: 14,000 bbl, 58.3 % of 24,000.
    assert agua["estimated_volume"] == 14_000.0 and agua["measured_volume"] == 10_000.0
    assert round(agua["estimated_share_pct"], 1) == 58.3
    assert agua["estimate_approval"]["status"] == "pending"
    [gap] = agua["estimates"]
    assert (gap["window_start"], gap["window_end"], gap["volume"]) == (
        "2026-03-02T13:00:00Z",
        "2026-03-03T03:00:00Z",
        14_000.0,
    )

    # Confirming needs production.approve: a viewer and an operator are refused.
    confirm = f"{base}/pmos/{ids['PMO-LACT']}/confirm-reset"
    body = {"reason": "meter head replaced by the technician"}
    for role in ("viewer", "operator"):
        r = await client.post(confirm, json=body, headers=auth[role])
        assert r.status_code == 403, r.text
    r = await client.post(confirm, json={"reason": "x"}, headers=auth["engineer"])
    assert r.status_code == 422 and "reason" in r.json()["error"]["message"]
    r = await client.post(confirm, json=body, headers=auth["engineer"])
    assert r.status_code == 200, r.text
    [reset] = [e for e in r.json()["events"] if e["kind"] == "reset"]
    assert reset["status"] == "confirmed" and "engineer@ev.example" in reset["confirmed_by"]
    assert reset["reason"] == body["reason"]
    again = await client.post(confirm, json=body, headers=auth["engineer"])
    assert again.status_code == 409 and "already confirmed" in again.json()["error"]["message"]

    approve = f"{base}/pmos/{ids['PMO-AGUA']}/approve-estimate"
    r = await client.post(approve, json={"reason": "pump stopped"}, headers=auth["engineer"])
    assert r.status_code == 200, r.text
    assert r.json()["estimate_approval"]["status"] == "approved"
    assert r.json()["estimate_approval"]["reason"] == "pump stopped"

    # An operator may enter the gap's volume by hand; an overlapping window is refused.
    entry = {
        "pmo_id": ids["PMO-AGUA"],
        "day": DAY.isoformat(),
        "window_start": "2026-03-02T13:00:00Z",
        "window_end": "2026-03-03T03:00:00Z",
        "volume": 13_500,
        "reason": "tank gauge difference of the disposal tank",
    }
    r = await client.post("/api/v1/production/manual-entries", json=entry, headers=auth["operator"])
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["kind"], first["level"], first["value"]) == ("water_volume", "indicated", 13500)
    overlap = {
        **entry,
        "window_start": "2026-03-02T20:00:00Z",
        "window_end": "2026-03-03T05:00:00Z",
    }
    r = await client.post(
        "/api/v1/production/manual-entries", json=overlap, headers=auth["operator"]
    )
    assert r.status_code == 422 and f"overlaps manual entry #{first['id']}" in r.text
    r = await client.get(f"{base}/evidence", headers=auth["viewer"])
    agua = _pmo(r.json(), ids["PMO-AGUA"])
    [manual] = [e for e in agua["events"] if e["kind"] == "manual_entry"]
    assert manual["volume"] == 13_500.0
    listed = await client.get(
        f"/api/v1/production/fields/{ids['field']}/manual-entries",
        params={"day": DAY.isoformat()},
        headers=auth["viewer"],
    )
    assert [e["id"] for e in listed.json()] == [first["id"]]

    # A lab result: one entry per value given; none given is a clear 422.
    lab = {
        "pmo_id": ids["PMO-LACT"],
        "day": DAY.isoformat(),
        "sampled_at": "2026-03-02T18:00:00Z",
        "bsw_percent": 0.5,
        "api_gravity": 29.8,
        "lab_reference": "LAB-0302",
        "reason": "daily composite",
    }
    r = await client.post("/api/v1/production/lab-results", json=lab, headers=auth["operator"])
    assert r.status_code == 201, r.text
    assert sorted(e["kind"] for e in r.json()) == ["api_gravity", "bsw"]
    empty = {**lab, "bsw_percent": None, "api_gravity": None}
    r = await client.post("/api/v1/production/lab-results", json=empty, headers=auth["operator"])
    assert r.status_code == 422 and "at least one" in r.text
    on_water = {**lab, "pmo_id": ids["PMO-AGUA"], "api_gravity": None}
    r = await client.post("/api/v1/production/lab-results", json=on_water, headers=auth["operator"])
    assert r.status_code == 422 and "PMO-AGUA measures water" in r.text


async def test_a_proving_recomputes_the_days_it_reaches(
    setup: tuple[httpx.AsyncClient, Any],
) -> None:
    client, (ids, auth) = setup
    proving = {
        "pmo_id": ids["PMO-LACT"],
        "meter_factor": 1.002,
        "proved_at": "2026-03-02T11:00:00Z",
        "run_reference": "PROVE-2026-03-02",
        "proved_by": "Metrología SAS",
    }
    r = await client.post("/api/v1/production/provings", json=proving, headers=auth["operator"])
    assert r.status_code == 403
    r = await client.post("/api/v1/production/provings", json=proving, headers=auth["engineer"])
    assert r.status_code == 201, r.text
    result = r.json()
    assert result["recomputed_days"] == [DAY.isoformat()] and result["amendments"] == []
    assert result["first_day"] == DAY.isoformat()  # effective at 06:00 local: that very day
    # From 1.0 to 1.002: +0.2 %.
    assert result["proving"]["previous_factor"] == 1.0
    assert round(result["proving"]["change_pct"], 6) == 0.2
    bad = {**proving, "meter_factor": 1.9}
    r = await client.post("/api/v1/production/provings", json=bad, headers=auth["engineer"])
    assert r.status_code == 422 and "meter_factor 1.9" in r.text
    listed = await client.get(
        f"/api/v1/production/fields/{ids['field']}/provings", headers=auth["viewer"]
    )
    assert [p["run_reference"] for p in listed.json()] == ["PROVE-2026-03-02"]
    daily = await client.get(
        f"/api/v1/production/fields/{ids['field']}/daily",
        params={"day": DAY.isoformat()},
        headers=auth["viewer"],
    )
    lact = next(p for p in daily.json()["pmos"] if p["pmo_code"] == "PMO-LACT")
    assert lact["meter_factor"] == 1.002
    # Proved at 10:00 local, during the day: the day keeps its factor, the next day takes it.
    later = {**proving, "meter_factor": 1.003, "proved_at": "2026-03-02T15:00:00Z",
             "run_reference": "PROVE-2026-03-02-B"}  # fmt: skip
    r = await client.post("/api/v1/production/provings", json=later, headers=auth["engineer"])
    assert r.status_code == 201, r.text
    assert r.json()["first_day"] == (DAY + dt.timedelta(days=1)).isoformat()
    daily = await client.get(
        f"/api/v1/production/fields/{ids['field']}/daily",
        params={"day": DAY.isoformat()},
        headers=auth["viewer"],
    )
    lact = next(p for p in daily.json()["pmos"] if p["pmo_code"] == "PMO-LACT")
    assert lact["meter_factor"] == 1.002


async def test_a_later_contract_hour_does_not_move_a_past_days_window(
    setup: tuple[httpx.AsyncClient, Any], db: Database
) -> None:
    client, (ids, auth) = setup
    site = Site.model_validate(yaml.safe_load(SITE))
    data = site.model_dump()
    data["fields"][0]["contract_day_start_hour"] = 0
    with db.connect() as conn:
        # From 3 Mar, 00:00 Bogota the day starts at midnight: 2 Mar ends there (18 h).
        load_site_into(
            conn, Site.model_validate(data), changed_by="test", reason="new contract hour",
            effective_from=dt.datetime(2026, 3, 3, 5, tzinfo=dt.UTC),
        )  # fmt: skip
        conn.commit()
        # Seven days later the hour changes again; 2 Mar keeps the window in force on it.
        data["fields"][0]["contract_day_start_hour"] = 8
        load_site_into(
            conn, Site.model_validate(data), changed_by="test", reason="and again",
            effective_from=dt.datetime(2026, 3, 10, 13, tzinfo=dt.UTC),
        )  # fmt: skip
        conn.commit()
    base = f"/api/v1/production/fields/{ids['field']}"
    evidence = (await client.get(f"{base}/days/{DAY}/evidence", headers=auth["viewer"])).json()
    daily = (
        await client.get(f"{base}/daily", params={"day": str(DAY)}, headers=auth["viewer"])
    ).json()
    expected = ("2026-03-02T11:00:00Z", "2026-03-03T05:00:00Z")
    assert (evidence["day_start"], evidence["day_end"]) == expected
    assert (daily["day_start"], daily["day_end"]) == expected
