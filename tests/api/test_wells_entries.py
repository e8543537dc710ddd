"""Well tests, downtime and status changes over HTTP: stored, scoped, and clear 422s."""

from __future__ import annotations

import datetime as dt

import httpx
import numpy as np
import yaml

from anh_reporter.domain.timeutil import to_us
from anh_reporter.site import Site
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter

from ..conftest import EXAMPLE_SITE
from .conftest import T0, World, bearer


async def test_well_test_round_trip(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    well = world.own["well"]
    body = {
        "tested_on": T0.date().isoformat(), "duration_h": "12", "oil_bbl_d": "812.5",
        "gas_kscf_d": "95", "water_bbl_d": "20310", "bsw_pct": "96.15",
        "tested_by": "Ing. Rojas",
    }  # fmt: skip
    r = await client.post(
        f"/api/v1/wells/{well}/tests", json=body, headers=bearer(tokens["engineer"])
    )
    assert r.status_code == 201, r.text
    created = r.json()["id"]
    r = await client.get(f"/api/v1/wells/{well}/tests", headers=bearer(tokens["viewer"]))
    assert r.status_code == 200
    [test] = r.json()
    assert (test["id"], test["oil_bbl_d"], test["bsw_pct"], test["tested_by"]) == (
        created, "812.5", "96.15", "Ing. Rojas",
    )  # fmt: skip
    assert test["entered_by"].startswith("user:") and test["entered_by"].endswith(
        ":engineer@own.example"
    )


async def test_bad_values_are_422_naming_field_value_and_limit(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    well = world.own["well"]
    auth = bearer(tokens["engineer"])
    body = {
        "tested_on": T0.date().isoformat(), "duration_h": "200", "oil_bbl_d": "1",
        "gas_kscf_d": "1", "water_bbl_d": "1", "tested_by": "x",
    }  # fmt: skip
    r = await client.post(f"/api/v1/wells/{well}/tests", json=body, headers=auth)
    assert r.status_code == 422
    detail = r.json()["error"]
    assert "duration_h" in str(detail) and "168" in str(detail)

    r = await client.post(
        f"/api/v1/wells/{well}/downtime",
        json={"start": T0.isoformat(), "end": T0.replace(hour=2).isoformat(), "cause": "ufo"},
        headers=auth,
    )
    assert r.status_code == 422
    message = r.json()["error"]["message"]
    assert message.startswith("cause: 'ufo' is not on the field's list ['power_failure'")

    r = await client.post(
        f"/api/v1/wells/{well}/downtime",
        json={"start": T0.replace(hour=3).isoformat(), "end": T0.isoformat(), "cause": "other"},
        headers=auth,
    )
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("end: 2026-")


async def test_another_operators_well_is_not_found(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    r = await client.post(
        f"/api/v1/wells/{world.other['well']}/status",
        json={"at": T0.isoformat(), "status": "shut_in"},
        headers=bearer(tokens["engineer"]),
    )
    assert r.status_code == 404


async def test_forma9sh_route_serves_csv_and_xlsx(
    client: httpx.AsyncClient, reporting_world: World, tokens: dict[str, str]
) -> None:
    field = reporting_world.own["field"]
    auth = bearer(tokens["viewer"])
    r = await client.get(f"/api/v1/reports/fields/{field}/forma9sh/2026-01", headers=auth)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0].startswith("Mes,Contrato,Campo,Pozo") and "TOTAL CAMPO" in lines[-1]
    r = await client.get(
        f"/api/v1/reports/fields/{field}/forma9sh/2026-01", params={"format": "xlsx"},
        headers=auth,
    )  # fmt: skip
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = await client.get(f"/api/v1/reports/fields/{field}/forma9sh/2026-13", headers=auth)
    assert r.status_code == 422
    r = await client.get(f"/api/v1/reports/fields/{field}/forma9sh/2025-06", headers=auth)
    assert r.status_code == 404
    assert "no signed daily report for" in r.text and "2025-06" in r.text


def _with_separator_series(db: Database, well_id: int) -> tuple[str, str]:
    """The example site with the test separator's rate series on well ``well_id``, and a test
    from 2026-01-05 08:00 to 12:00 at Bogotá (13:00Z to 17:00Z) written every 10 min from
    10 min before to 10 min after (t: minutes from the start):

    * oil 300 bbl/d before t = 120, 500 from t = 120: 300 × 110 + (300 + 500) / 2 × 10 +
      500 × 120 = 33 000 + 4 000 + 60 000 = 97 000 bbl/d·min / 240 min = 404.1666… → 404.17;
    * gas 50 kscf/d → 50.00; water a straight line 1000 → 1200 bbl/d → its mean 1100.00.
    """
    raw = yaml.safe_load(EXAMPLE_SITE.read_text(encoding="utf-8"))
    with db.connect() as conn:
        row = conn.execute("SELECT code, field_id FROM wells WHERE id = %s", (well_id,)).fetchone()
        assert row is not None
        code, field = str(row[0]), int(row[1])
        [well] = [w for f in raw["fields"] for w in f["wells"] if w["code"] == code]
        for variable, unit in (("oil_rate", "bbl/d"), ("gas_rate", "kscf/d"),
                               ("water_rate", "bbl/d")):  # fmt: skip
            well["series"].append(
                {"variable": variable, "unit": unit, "range": [0, 20000],
                 "sampling_period_s": 600, "commissioned": "2025-01-01"}
            )  # fmt: skip
        load_site_into(conn, Site.model_validate(raw), changed_by="test")
        rows = [r for r in list_series(conn) if r.field_id == field]
        ids = {r.variable: r.id for r in rows if r.owner_code == code}
        [lact] = [
            r.code for r in rows if r.owner_code == "PMO-LACT-01" and r.variable == "oil_rate"
        ]
        start = to_us(SEP_START)
        t = np.arange(start - 600 * US, start + 4 * 3600 * US + 600 * US + 1, 600 * US)
        minutes = (t - start) / (60 * US)
        writer = TelemetryWriter(conn)
        for variable, values in (
            ("oil_rate", np.where(minutes < 120, 300.0, 500.0)),
            ("gas_rate", np.full(t.size, 50.0)),
            ("water_rate", 1000.0 + 200.0 * minutes / 240.0),
        ):
            writer.write(
                np.full(t.size, ids[variable], dtype=np.int32), t.astype(np.int64), values,
                np.zeros(t.size, dtype=np.uint32),
            )  # fmt: skip
        conn.commit()
    return code, lact


US = 1_000_000
SEP_START = dt.datetime(2026, 1, 5, 13, tzinfo=dt.UTC)


async def test_separator_test_from_stored_telemetry(
    client: httpx.AsyncClient, world: World, db: Database, tokens: dict[str, str]
) -> None:
    well = world.own["well"]
    code, _ = _with_separator_series(db, well)
    auth = bearer(tokens["engineer"])
    body = {"start": "2026-01-05T08:00:00-05:00", "end": "2026-01-05T12:00:00-05:00",
            "tested_by": "Separador de prueba"}  # fmt: skip
    r = await client.post(f"/api/v1/wells/{well}/separator-tests", json=body, headers=auth)
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["tested_on"], out["duration_h"]) == ("2026-01-05", "4.00")
    assert (out["oil_bbl_d"], out["gas_kscf_d"], out["water_bbl_d"]) == (
        "404.17", "50.00", "1100.00",
    )  # fmt: skip
    assert out["coverage_pct"] == {"oil": 100.0, "gas": 100.0, "water": 100.0}
    assert out["series"]["oil"].endswith(f"{code}.oil_rate")
    r = await client.get(f"/api/v1/wells/{well}/tests", headers=bearer(tokens["viewer"]))
    [test] = r.json()
    assert (test["id"], test["source"], test["oil_bbl_d"]) == (
        out["id"], "test_separator", "404.17",
    )  # fmt: skip
    assert (test["window_start"], test["window_end"]) == (
        "2026-01-05T13:00:00Z", "2026-01-05T17:00:00Z",
    )  # fmt: skip
    assert test["entered_by"].endswith(":engineer@own.example")


async def test_separator_test_refusals_are_422_naming_field_value_and_limit(
    client: httpx.AsyncClient, world: World, db: Database, tokens: dict[str, str]
) -> None:
    well = world.own["well"]
    _, oil_meter = _with_separator_series(db, well)
    auth = bearer(tokens["engineer"])
    url = f"/api/v1/wells/{well}/separator-tests"
    base = {"start": "2026-01-05T08:00:00-05:00", "tested_by": "Separador"}
    cases = [
        ({"end": "2026-01-12T10:00:00-05:00"},
         "end: the test lasts 170.00 h (2026-01-05T13:00:00+00:00 to "
         "2026-01-12T15:00:00+00:00), more than 168 h"),
        ({"end": "2026-01-05T07:00:00-05:00"},
         "end: 2026-01-05T12:00:00+00:00 must be after start 2026-01-05T13:00:00+00:00"),
        ({"end": "2026-01-05T16:00:00-05:00"},
         "good samples cover 52.1 % of the test window, below the minimum 95 %"),
        ({"end": "2026-01-05T12:00:00-05:00", "oil_series": oil_meter},
         f"oil_series: '{oil_meter}' is a series of PMO PMO-LACT-01, not of well"),
    ]  # fmt: skip
    for extra, message in cases:
        r = await client.post(url, json={**base, **extra}, headers=auth)
        assert r.status_code == 422, r.text
        assert message in r.json()["error"]["message"]
    r = await client.get(f"/api/v1/wells/{well}/tests", headers=auth)
    assert r.json() == []


async def test_hours_on_typed_by_hand_over_http(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    """The API's `wells hours`: stored as the well's manual entry of the day; a value out of
    range, finer than 0.01 h or with no reason is a 422 naming the field and the limit."""
    well = world.own["well"]
    auth = bearer(tokens["engineer"])
    day = T0.date().isoformat()
    url = f"/api/v1/wells/{well}/hours"
    r = await client.post(url, json={"day": day, "hours_on": "18.5", "reason": "parte diario"},
                          headers=auth)  # fmt: skip
    assert r.status_code == 201, r.text
    entry = r.json()
    assert (entry["kind"], entry["owner"], entry["value"], entry["contract_day"]) == (
        "well_hours_on", "well", 18.5, day,
    )  # fmt: skip
    for bad, words in (
        ({"hours_on": "24.5"}, ("hours_on", "24")),
        ({"hours_on": "-1"}, ("hours_on", "0")),
        ({"hours_on": "1.005"}, ("hours_on", "2 decimal")),
        ({"reason": "x"}, ("reason", "3 characters")),
    ):
        body = {"day": day, "hours_on": "10", "reason": "parte diario"} | bad
        r = await client.post(url, json=body, headers=auth)
        assert r.status_code == 422, (bad, r.text)
        assert all(w in r.text for w in words), (bad, r.text)
    r = await client.post(url, json={"day": day, "hours_on": "12", "reason": "corrige",
                                     "replaces": entry["id"]}, headers=auth)  # fmt: skip
    assert r.status_code == 201, r.text


async def test_a_rate_too_large_names_its_limit(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    body = {
        "tested_on": T0.date().isoformat(), "duration_h": "12", "oil_bbl_d": 1e12,
        "gas_kscf_d": "1", "water_bbl_d": "1", "tested_by": "x",
    }  # fmt: skip
    r = await client.post(
        f"/api/v1/wells/{world.own['well']}/tests", json=body, headers=bearer(tokens["engineer"])
    )
    assert r.status_code == 422
    assert "oil_bbl_d" in r.text and "10000000" in r.text, r.text
