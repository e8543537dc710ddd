"""An injector takes no part in the production allocation (PostgreSQL, hand-worked numbers).

The wells' test site (wells_site) with three producers W-1 to W-3 and one injector INJ-1 metered
by its water_rate series; contract day 2026-02-02, readings every 10 min.

* PMO-OIL: the standard day (helpers.standard_day), 980.78 bbl NSV (worked in test_daily.py);
  PMO-GAS: 1,200.00 kscf.
* PMO-WATER (production, rate meter, factor 1.0000, no temperature: GOV): 5,000 bbl/d all day →
  5,000.00 bbl; PMO-DISP (water_disposal, same meter): 3,800 bbl/d → 3,800.00 bbl;
  INJ-1's water_rate: 1,200 bbl/d → 1,200.00 bbl injected.
* Tests (oil, gas, water bbl/d or kscf/d) and hours on: W-1 400, 600, 2,000 and 18 h (its pump
  status, off the first 6 h); W-2 500, 500, 2,500 and 24 h by hand; W-3 360, 500, 2,000 and
  12 h by hand. INJ-1 has no test, no hours entry and no on-signal.

Oil, theoretical: 400 × 18/24 = 300, 500, 360 × 12/24 = 180; Σ 980, factor 980.78 / 980 =
1.00080; exact shares 300.2387…, 500.3979…, 180.1432…, floors Σ 980.76, the 2 cents to the
largest remainders W-1 (.0088) and W-2 (.0080): 300.24, 500.40, 180.14 (as in test_well_days.py,
whose field has no injector). Gas: 450, 500, 250 = 1,200 measured, factor 1. Water: 2,000 ×
18/24 = 1,500, 2,500, 2,000 × 12/24 = 1,000; Σ 5,000 = measured, factor 1: 1,500.00, 2,500.00,
1,000.00.

Water balance: 5,000.00 − (3,800.00 disposal + 1,200.00 injection:INJ-1) = 0.00, closes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from anh_reporter.production.daily import compute_day
from anh_reporter.production.manual import add_entry
from anh_reporter.production.well_entries import add_status_change, add_well_test
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.verify import verify_file
from anh_reporter.site import Site
from anh_reporter.storage import well_records
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from ..reports.helpers import context, generate
from .helpers import (
    DAY_D,
    FIELD,
    HOUR,
    US,
    E,
    S,
    _series,
    grid,
    oil_and_gas_day,
    prove_meters,
    write,
)
from .test_injection_wells import _water_pmo
from .wells_site import wells_site_dict

Conn = psycopg.Connection[Any]
D = Decimal
INJ1 = f"{FIELD}.INJ-1.water_rate"


def site() -> Site:
    raw = wells_site_dict()
    field = raw["fields"][0]
    field["pmos"] = [p for p in field["pmos"] if p["code"] != "PMO-WATER"]
    field["pmos"] += [
        _water_pmo("PMO-WATER", "production"),
        _water_pmo("PMO-DISP", "water_disposal"),
    ]
    field["wells"] = [w for w in field["wells"] if w["code"] != "W-4"]
    field["wells"].append(
        {"code": "INJ-1", "name": "Iny 1", "production_method": "injector",
         "series": [_series("water_rate", "bbl/d", 0, 20_000, 600)], "injection_meter": INJ1}
    )  # fmt: skip
    return Site.model_validate(raw)


def the_day(conn: Conn) -> None:
    """Load the site and write the day of the module docstring."""
    load_site_into(conn, site(), changed_by="test")
    conn.commit()
    ids = {r.code.split(".", 1)[1]: r.id for r in list_series(conn, FIELD)}
    oil_and_gas_day(conn, ids)
    t = grid()
    write(conn, ids["PMO-WATER.water_rate"], t, 5000.0)
    write(conn, ids["PMO-DISP.water_rate"], t, 3800.0)
    write(conn, ids["INJ-1.water_rate"], t, 1200.0)
    write(conn, ids["W-1.pump_status"], t, lambda x: (x >= S + 6 * HOUR).astype(float))
    tests = {
        "W-1": (dt.date(2026, 2, 1), 400, 600, 2000),
        "W-2": (dt.date(2026, 1, 1), 500, 500, 2500),
        "W-3": (dt.date(2025, 10, 1), 360, 500, 2000),
    }
    for well, (day, oil, gas, water) in tests.items():
        add_well_test(
            conn, field_code=FIELD, well_code=well, tested_on=day, duration_h="12",
            oil_bbl_d=oil, gas_kscf_d=gas, water_bbl_d=water, tested_by="Ing. Pruebas",
            entered_by="test",
        )  # fmt: skip
    for well, hours in (("W-2", "24"), ("W-3", "12")):
        add_entry(
            conn, field_code=FIELD, day=DAY_D, kind="well_hours_on", value=hours,
            well_code=well, entered_by="test", reason="daily sheet", recompute=False,
        )  # fmt: skip


def computed(conn: Conn) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Compute the day; its stored well days and allocation record."""
    compute_day(conn, FIELD, DAY_D)
    field_id = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert field_id is not None
    stored = well_records.load_allocation_day(conn, field_id[0], DAY_D)
    assert stored is not None
    return well_records.load_well_days(conn, field_id[0], DAY_D), stored


def volumes(days: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, Any, Any]]:
    return {w: (d["oil_bbl"], d["gas_kscf"], d["water_bbl"]) for w, d in days.items()}


def test_the_injector_leaves_the_producers_as_they_were(conn: Conn) -> None:
    the_day(conn)
    days, stored = computed(conn)
    assert volumes(days) == {
        "W-1": (D("300.24"), D("450.00"), D("1500.00")),
        "W-2": (D("500.40"), D("500.00"), D("2500.00")),
        "W-3": (D("180.14"), D("250.00"), D("1000.00")),
        "INJ-1": (None, None, None),
    }
    factors = {p["pmo"]: p["factor"] for p in stored["pmos"]}
    assert factors == {"PMO-OIL": "1.00080", "PMO-GAS": "1.00000", "PMO-WATER": "1.00000"}
    inj = days["INJ-1"]
    assert (inj["status"], inj["hours_on"], inj["hours_source"]) == ("injecting", D("0"), "status")
    assert (inj["pmos"], inj["factors"], inj["findings"]) == ({}, {}, [])
    assert (inj["test_state"], inj["theoretical_oil_bbl"], inj["deferred_oil_bbl"]) == (
        "none", None, None,
    )  # fmt: skip
    # No finding of the day is about the injector (no hours_on_missing, no well_without_test).
    assert [f for f in stored["findings"] if f["target"] == "INJ-1"] == []
    water = next(b for b in stored["totals"]["balances"] if b["fluid"] == "water")
    assert [(t["name"], D(t["volume"])) for t in water["terms"]] == [
        ("disposal", D("3800.00")),
        ("injection:INJ-1", D("1200.00")),
    ]
    assert (D(water["produced"]), D(water["residual"]), water["closes"]) == (
        D("5000.00"), D("0.00"), True,
    )  # fmt: skip


def test_a_producer_converted_after_the_day_keeps_the_day(conn: Conn) -> None:
    """W-3 is logged injecting from the day's end: the day is allocated as before."""
    the_day(conn)
    at = dt.datetime.fromtimestamp(E / US, dt.UTC)
    add_status_change(
        conn, field_code=FIELD, well_code="W-3", at=at, status="injecting", changed_by="test"
    )
    days, _ = computed(conn)
    assert volumes(days)["W-3"] == (D("180.14"), D("250.00"), D("1000.00"))
    assert days["W-3"]["status"] == "producing"


def test_a_producer_injecting_all_day_is_left_out(conn: Conn) -> None:
    """W-3 is logged injecting an hour before the day starts: W-1 and W-2 take the PMOs.
    Oil 980.78 over 300 + 500 = 800: 367.7925 and 612.9875, floors 367.79 + 612.98 = 980.77,
    the cent to W-2 (.75 > .25): 367.79, 612.99. Gas 1,200 over 450 + 500 = 950: 568.4210…
    and 631.5789…, floors Σ 1,199.99, the cent to W-2 (.89 > .10): 568.42, 631.58. Water 5,000
    over 1,500 + 2,500 = 4,000: 1,875.00 and 3,125.00. The 12 h typed for W-3 are not used:
    a status_conflict warning says so."""
    the_day(conn)
    at = dt.datetime.fromtimestamp((S - HOUR) / US, dt.UTC)
    add_status_change(
        conn, field_code=FIELD, well_code="W-3", at=at, status="injecting", changed_by="test"
    )
    days, stored = computed(conn)
    assert volumes(days) == {
        "W-1": (D("367.79"), D("568.42"), D("1875.00")),
        "W-2": (D("612.99"), D("631.58"), D("3125.00")),
        "W-3": (None, None, None),
        "INJ-1": (None, None, None),
    }
    w3 = days["W-3"]
    assert (w3["status"], w3["pmos"], w3["deferred_oil_bbl"]) == ("injecting", {}, None)
    # Not signed as 12 production hours (the Forma 9SH would count a day on): 0 h by its status.
    assert (Decimal(w3["hours_on"]), w3["hours_source"]) == (D("0"), "status")
    assert [(f["code"], f["severity"]) for f in w3["findings"]] == [("status_conflict", "warning")]
    assert not [
        f for f in stored["findings"] if f["code"] in ("hours_on_missing", "well_without_test")
    ]


def converted_site() -> Site:
    """The site with W-3 an injector (its hours entry and tests stay in the database)."""
    raw = site().model_dump(mode="json", exclude_none=True)
    w3 = next(w for w in raw["fields"][0]["wells"] if w["code"] == "W-3")
    w3["production_method"] = "injector"
    w3.pop("fluids", None)
    w3.pop("entries", None)
    return Site.model_validate(raw)


def test_a_site_file_conversion_counts_from_its_effective_instant(conn: Conn) -> None:
    """W-3 becomes an injector in the site file, effective at the day's end: the day is
    allocated as before (W-3 180.14 bbl). The method is logged (config_log)."""
    the_day(conn)
    at = dt.datetime.fromtimestamp(E / US, dt.UTC)
    load_site_into(conn, converted_site(), changed_by="test", effective_from=at)
    days, _ = computed(conn)
    assert volumes(days)["W-3"] == (D("180.14"), D("250.00"), D("1000.00"))
    logged = conn.execute(
        "SELECT old_value, new_value, effective_from FROM config_log "
        "WHERE attribute = 'production_method' AND entity_code = %s ORDER BY id",
        (f"{FIELD}.W-3",),
    ).fetchall()
    assert logged == [(None, "pcp", None), ("pcp", "injector", at)]


def test_a_site_file_conversion_before_the_day_leaves_it_out(conn: Conn) -> None:
    """Effective an hour before the day: W-3 is an injector all day, out of the allocation;
    W-1 and W-2 take the PMOs as in test_a_producer_injecting_all_day_is_left_out (367.79 and
    612.99 bbl of oil, 568.42 and 631.58 kscf, 1,875.00 and 3,125.00 bbl of water)."""
    the_day(conn)
    at = dt.datetime.fromtimestamp((S - HOUR) / US, dt.UTC)
    load_site_into(conn, converted_site(), changed_by="test", effective_from=at)
    days, _ = computed(conn)
    assert volumes(days) == {
        "W-1": (D("367.79"), D("568.42"), D("1875.00")),
        "W-2": (D("612.99"), D("631.58"), D("3125.00")),
        "W-3": (None, None, None),
        "INJ-1": (None, None, None),
    }
    assert days["W-3"]["status"] == "injecting"


def test_the_signed_report_shows_the_injector_without_an_allocation_error(
    conn: Conn, tmp_path: Path
) -> None:
    """The day of the module docstring signed: INJ-1's row is injecting, 0 h, no volume, no
    PMO, no finding; no IDP032 (allocation error) anywhere; the wells' oil adds up to the PMO's
    980.78 bbl and the water balance counts INJ-1's 1,200.00 bbl."""
    the_day(conn)
    prove_meters(conn)
    signed = generate(conn, context(tmp_path))
    assert signed.path is not None
    doc = parse(signed.path.read_bytes())
    assert isinstance(doc, dict)
    inj = next(w for w in doc["wells"] if w["code"] == "INJ-1")
    assert (inj["status"], inj["hours_on"], inj["production_method"]) == (
        "injecting", D("0"), "injector",
    )  # fmt: skip
    assert (inj["oil_net_bbl"], inj["gas_kpc"], inj["water_bbl"]) == (None, None, None)
    assert (inj["pmos"], inj["findings"]) == ({}, [])
    assert [f for f in signed.findings if f["code"] == "IDP032"] == []
    assert [f["code"] for f in signed.findings if f["target"] == "INJ-1"] == []
    oil = sum((w["oil_net_bbl"] or D(0) for w in doc["wells"]), D(0))
    assert oil == D("980.78")
    water = next(b for b in doc["balances"] if b["fluid"] == "water")
    assert [(t["name"], t["volume"]) for t in water["terms"]] == [
        ("disposal", D("3800.00")),
        ("injection:INJ-1", D("1200.00")),
    ]
    assert verify_file(signed.path).ok
