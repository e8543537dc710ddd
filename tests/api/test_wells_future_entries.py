"""Entries and a Forma 9SH dated after the field's current contract day: a 422 that says so."""

from __future__ import annotations

import datetime as dt

import httpx

from .conftest import World, bearer


async def test_future_entries_are_422_naming_field_value_and_limit(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    well = world.own["well"]
    auth = bearer(tokens["engineer"])
    later = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=400)
    body = {
        "tested_on": later.date().isoformat(), "duration_h": "12", "oil_bbl_d": "1",
        "gas_kscf_d": "1", "water_bbl_d": "1", "tested_by": "x",
    }  # fmt: skip
    r = await client.post(f"/api/v1/wells/{well}/tests", json=body, headers=auth)
    assert r.status_code == 422, r.text
    message = r.json()["error"]["message"]
    assert message.startswith(f"tested_on: {later.date()} has not come; the field's current ")

    r = await client.post(
        f"/api/v1/wells/{well}/status", json={"at": later.isoformat(), "status": "shut_in"},
        headers=auth,
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"].startswith(f"at: {later.isoformat()} has not come ")

    end = later + dt.timedelta(hours=1)
    r = await client.post(
        f"/api/v1/wells/{well}/downtime",
        json={"start": later.isoformat(), "end": end.isoformat(), "cause": "other"},
        headers=auth,
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"].startswith("start: ")
    r = await client.get(f"/api/v1/wells/{well}/tests", headers=auth)
    assert r.json() == []


async def test_forma9sh_of_a_month_not_started_is_422(
    client: httpx.AsyncClient, reporting_world: World, tokens: dict[str, str]
) -> None:
    field = reporting_world.own["field"]
    r = await client.get(
        f"/api/v1/reports/fields/{field}/forma9sh/2199-01", headers=bearer(tokens["viewer"])
    )
    assert r.status_code == 422, r.text
    message = r.json()["error"]["message"]
    assert message.startswith("month 2199-01 has not started (the field's contract day is ")
