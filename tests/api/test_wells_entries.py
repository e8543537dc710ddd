"""Well tests, downtime and status changes over HTTP: stored, scoped, and clear 422s."""

from __future__ import annotations

import httpx

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
