"""The day's allocation table over HTTP, before signing: wells with their virtual meter.

The day is tests/production/test_virtual_days.py's (hand-worked there), loaded under operator
A: W-1 (ESP) 550.00 bbl of virtual liquid, W-2 (rod pump) 480.00; Σ virtual oil 998.40 bbl
against PMO-OIL's 980.78 measured, +1.80 %.
"""

from __future__ import annotations

import datetime as dt

import httpx

from anh_reporter.production.daily import compute_day
from anh_reporter.production.well_entries import add_downtime
from anh_reporter.site import Operator
from anh_reporter.storage.database import Database

from ..production.helpers import DAY_D, FIELD, START
from ..production.test_virtual_days import virtual_day
from .conftest import World, bearer, login

OWN = Operator(name="Petrolera Demo Llanos S.A.S.", nit="900123456-7")


async def test_the_day_allocation_shows_each_wells_virtual_meter(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    with db.connect() as conn:
        field_id = virtual_day(conn, operator=OWN)
        compute_day(conn, FIELD, DAY_D)
    token = (await login(client, "viewer@own.example"))["access_token"]
    url = f"/api/v1/production/fields/{field_id}/days/{DAY_D}/allocation"
    r = await client.get(url, headers=bearer(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["computed"] is True
    wells = {w["code"]: w for w in body["wells"]}
    assert [(c, w["production_method"], w["virtual_liquid_bbl"]) for c, w in wells.items()] == [
        ("W-1", "esp", "550.00"),
        ("W-2", "rod_pump", "480.00"),
    ]
    w2 = wells["W-2"]["virtual_meter"]
    assert (w2["test_speed"], w2["test_speed_source"], w2["oil_bbl"]) == (
        "10.0000", "manual", "470.40",
    )  # fmt: skip
    # Allocated beside it: oil tests 480 and 392 (Σ 872) share 980.78 (factor 1.12475).
    assert sum(float(w["oil_bbl"]) for w in wells.values()) == 980.78
    assert body["virtual_meter"] == [
        {"pmo": "PMO-OIL", "fluid": "oil", "measured": "980.78", "virtual_total": "998.40",
         "deviation_pct": "1.80", "band_pct": "10.0", "diverges": False,
         "wells": ["W-1", "W-2"]},
    ]  # fmt: skip
    assert {p["pmo"] for p in body["pmos"]} >= {"PMO-OIL", "PMO-GAS"}
    assert {b["fluid"] for b in body["balances"]} >= {"oil"}


async def test_a_wells_downtime_shows_its_deferred_volume_by_cause(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    """W-2 down 2 h of the day (flowline): its test's 392 bbl/d oil, 500 kscf/d gas and 8 bbl/d
    water × 2 / 24 deferred: 32.67 bbl, 41.67 kscf, 0.67 bbl, with the cause, as the signed
    report's ``deferred.causes`` carries them (what the sign-off shows before signing)."""
    with db.connect() as conn:
        field_id = virtual_day(conn, operator=OWN)
        start = START + dt.timedelta(hours=3)
        add_downtime(
            conn, field_code=FIELD, well_code="W-2", start=start,
            end=start + dt.timedelta(hours=2), cause="flowline", entered_by="test",
        )  # fmt: skip
        compute_day(conn, FIELD, DAY_D)
    token = (await login(client, "viewer@own.example"))["access_token"]
    url = f"/api/v1/production/fields/{field_id}/days/{DAY_D}/allocation"
    r = await client.get(url, headers=bearer(token))
    assert r.status_code == 200, r.text
    wells = {w["code"]: w for w in r.json()["wells"]}
    w2 = wells["W-2"]
    assert (w2["hours_down"], w2["deferred_oil_bbl"], w2["deferred_gas_kscf"]) == (
        "2.00", "32.67", "41.67",
    )  # fmt: skip
    assert w2["deferred_water_bbl"] == "0.67"
    assert w2["deferred_causes"] == [
        {"cause": "flowline", "hours_down": "2.00", "oil": "32.67", "gas": "41.67",
         "water": "0.67"},
    ]  # fmt: skip
    w1 = wells["W-1"]
    assert (w1["deferred_gas_kscf"], w1["deferred_water_bbl"], w1["deferred_causes"]) == (
        None, None, [],
    )  # fmt: skip


async def test_a_day_not_computed_is_empty_and_another_operators_field_not_found(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    auth = bearer(tokens["viewer"])
    r = await client.get(
        f"/api/v1/production/fields/{world.own['field']}/days/2026-01-05/allocation",
        headers=auth,
    )
    assert r.status_code == 200
    assert r.json()["computed"] is False and r.json()["wells"] == []
    r = await client.get(
        f"/api/v1/production/fields/{world.other['field']}/days/2026-01-05/allocation",
        headers=auth,
    )
    assert r.status_code == 404


async def test_a_well_test_carries_the_pump_speed_it_was_taken_at(
    client: httpx.AsyncClient, world: World, tokens: dict[str, str]
) -> None:
    """The example site's first well is an ESP: a speed in Hz, at most 120 Hz."""
    well = world.own["well"]
    body = {
        "tested_on": "2026-01-04", "duration_h": "12", "oil_bbl_d": "800", "gas_kscf_d": "90",
        "water_bbl_d": "20000", "tested_by": "Ing. Rojas", "pump_speed": "56.5",
    }  # fmt: skip
    auth = bearer(tokens["engineer"])
    r = await client.post(f"/api/v1/wells/{well}/tests", json=body, headers=auth)
    assert r.status_code == 201, r.text
    r = await client.get(f"/api/v1/wells/{well}/tests", headers=auth)
    assert [t["pump_speed"] for t in r.json()] == ["56.5"]
    r = await client.post(
        f"/api/v1/wells/{well}/tests", json={**body, "pump_speed": "130"}, headers=auth
    )
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "pump_speed: 130 Hz is outside (0, 120] Hz"
