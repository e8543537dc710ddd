"""Two batteries converging on one station (real PostgreSQL): site load, history, a day.

    BAT-1: B1-T (oil, transfer) ──┐
                                  ├─> EST-1: ST-OIL (oil, production) ─> LACT (oil, sales)
    BAT-2: B2-T (oil, transfer) ──┘

Wells W-1 at BAT-1 (test 600 bbl/d), W-2 and W-3 at BAT-2 (tests 300 and 100 bbl/d), 24 h on
each. The day's NSV typed by hand: B1-T 560.00, B2-T 345.00, ST-OIL 900.00, LACT 890.00.

Field totals by role: transfer 560.00 + 345.00 = 905.00, production 900.00, sales 890.00.
Oil allocated at ST-OIL (the station's production PMO, for the wells of both batteries):
  theoretical Σ = 600 + 300 + 100 = 1,000; factor = 900.00 / 1,000 = 0.90000;
  W-1 600 × 0.9 = 540.00, W-2 300 × 0.9 = 270.00, W-3 100 × 0.9 = 90.00; Σ = 900.00 exactly.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from anh_reporter.production.daily import compute_day
from anh_reporter.production.manual import add_entry
from anh_reporter.production.well_entries import add_well_test
from anh_reporter.site import Site, SiteFileError, load_site
from anh_reporter.storage import well_records
from anh_reporter.storage.config_history import topology_in_force
from anh_reporter.storage.site_repo import load_site_into

from .helpers import DAY_D, FIELD
from .two_batteries_site import two_batteries_dict

Conn = psycopg.Connection[Any]
T = dt.datetime(2026, 3, 1, 11, tzinfo=dt.UTC)
TESTS = {"W-1": 600, "W-2": 300, "W-3": 100}


def _ids(conn: Conn) -> dict[str, int]:
    return {str(c): int(i) for i, c in conn.execute("SELECT id, code FROM measurement_points")}


def _field_id(conn: Conn) -> int:
    row = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert row is not None
    return int(row[0])


def test_the_site_file_takes_a_list_and_keeps_a_single_code(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(two_batteries_dict()), encoding="utf-8")
    pmos = {p.code: p.downstream_of for p in load_site(path).fields[0].pmos}
    assert pmos == {"B1-T": None, "B2-T": None, "ST-OIL": ("B1-T", "B2-T"), "LACT": "ST-OIL"}
    # A one-item list is the same as the code alone; an empty list is refused in one line.
    raw = two_batteries_dict()
    raw["fields"][0]["pmos"][3]["downstream_of"] = ["ST-OIL"]
    assert Site.model_validate(raw).fields[0].pmos[3].downstream_of == "ST-OIL"
    raw["fields"][0]["pmos"][3]["downstream_of"] = []
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(SiteFileError) as caught:
        load_site(path)
    message = str(caught.value)
    assert "\n" not in message
    assert "fields[0].pmos[3].downstream_of" in message
    assert "an empty list names no PMO" in message


def test_site_load_stores_and_logs_both_upstream_pmos(conn: Conn) -> None:
    summary = load_site_into(conn, Site.model_validate(two_batteries_dict()), changed_by="t")
    assert summary.notes == []
    ids = _ids(conn)
    stored = conn.execute(
        "SELECT p.code, u.code FROM measurement_point_upstreams x "
        "JOIN measurement_points p ON p.id = x.pmo_id "
        "JOIN measurement_points u ON u.id = x.upstream_id ORDER BY p.code, u.code"
    ).fetchall()
    assert stored == [("LACT", "ST-OIL"), ("ST-OIL", "B1-T"), ("ST-OIL", "B2-T")]
    logged = dict(
        conn.execute(
            "SELECT entity_code, new_value FROM config_log WHERE attribute = 'downstream_of_id'"
        ).fetchall()
    )
    # One upstream PMO is logged as its id (as before); several as the sorted list of ids.
    assert logged == {
        f"{FIELD}.B1-T": None,
        f"{FIELD}.B2-T": None,
        f"{FIELD}.ST-OIL": sorted([ids["B1-T"], ids["B2-T"]]),
        f"{FIELD}.LACT": ids["ST-OIL"],
    }
    rows = well_records.load_topology_rows(conn, _field_id(conn))
    assert {p.code: p.downstream_of for p in rows.pmos}["ST-OIL"] == ("B1-T", "B2-T")
    # Loading the same file again changes nothing.
    again = load_site_into(conn, Site.model_validate(two_batteries_dict()), changed_by="t")
    assert again.config_changes == 0


def test_a_rerouted_battery_holds_from_its_effective_instant(conn: Conn) -> None:
    """From T, BAT-2's oil goes through BAT-1's meter: B2-T → B1-T → ST-OIL."""
    load_site_into(conn, Site.model_validate(two_batteries_dict()), changed_by="t")
    raw = two_batteries_dict()
    raw["fields"][0]["pmos"][0]["downstream_of"] = "B2-T"
    raw["fields"][0]["pmos"][2]["downstream_of"] = "B1-T"
    load_site_into(conn, Site.model_validate(raw), changed_by="t", effective_from=T)
    ids = _ids(conn)
    change = conn.execute(
        "SELECT old_value, new_value FROM config_log WHERE entity_code = %s "
        "AND attribute = 'downstream_of_id' ORDER BY id DESC LIMIT 1",
        (f"{FIELD}.ST-OIL",),
    ).fetchone()
    assert change == (sorted([ids["B1-T"], ids["B2-T"]]), ids["B1-T"])

    def upstream(at: dt.datetime) -> dict[str, Any]:
        return {p.code: p.downstream_of for p in topology_in_force(conn, _field_id(conn), at).pmos}

    before = upstream(T - dt.timedelta(microseconds=1))
    assert (before["ST-OIL"], before["B1-T"]) == (("B1-T", "B2-T"), None)
    after = upstream(T)
    assert (after["ST-OIL"], after["B1-T"]) == ("B1-T", "B2-T")


def test_a_well_entering_another_facilitys_pmo_is_noted_on_load(conn: Conn) -> None:
    raw = two_batteries_dict()
    raw["fields"][0]["wells"][1]["entries"] = ["B1-T"]
    summary = load_site_into(conn, Site.model_validate(raw), changed_by="t")
    assert summary.notes == [
        f"{FIELD}: well 'W-2' flows to 'BAT-2' but enters PMO 'B1-T' at 'BAT-1': if the well "
        "flows there, set its facility to 'BAT-1'; if 'BAT-2' feeds that facility, name the "
        "PMO of 'BAT-2' in the downstream_of of the PMO it feeds and leave the well's entries out"
    ]


def test_wells_of_both_batteries_are_allocated_from_the_station(conn: Conn) -> None:
    load_site_into(conn, Site.model_validate(two_batteries_dict()), changed_by="t")
    for well, rate in TESTS.items():
        add_well_test(
            conn, field_code=FIELD, well_code=well, tested_on=dt.date(2026, 2, 1),
            duration_h="24", oil_bbl_d=rate, gas_kscf_d=0, water_bbl_d=0,
            tested_by="Ing. Pruebas", entered_by="test",
        )  # fmt: skip
        add_entry(
            conn, field_code=FIELD, day=DAY_D, kind="well_hours_on", value="24",
            well_code=well, entered_by="test", reason="daily sheet", recompute=False,
        )  # fmt: skip
    volumes = {"B1-T": "560.00", "B2-T": "345.00", "ST-OIL": "900.00", "LACT": "890.00"}
    for pmo, volume in volumes.items():
        add_entry(
            conn, field_code=FIELD, day=DAY_D, kind="oil_volume", value=volume, level="nsv",
            pmo_code=pmo, entered_by="test", reason="daily ticket", recompute=False,
        )  # fmt: skip
    result = compute_day(conn, FIELD, DAY_D)
    assert result.wells is not None
    days = well_records.load_well_days(conn, _field_id(conn), DAY_D)
    assert {w: d["oil_bbl"] for w, d in days.items()} == {
        "W-1": Decimal("540.00"),
        "W-2": Decimal("270.00"),
        "W-3": Decimal("90.00"),
    }
    assert {d["factors"]["oil"] for d in days.values()} == {"0.90000"}
    alloc = well_records.load_allocation_day(conn, _field_id(conn), DAY_D)
    assert alloc is not None
    measured = {(p["pmo"], p["fluid"]): p["measured"] for p in alloc["pmos"]}
    assert set(measured) == {("ST-OIL", "oil")}
    total = sum((d["oil_bbl"] for d in days.values()), Decimal(0))
    assert total == Decimal("900.00") == Decimal(measured[("ST-OIL", "oil")])
    assert all(f["code"] != "allocation_failed" for f in alloc["findings"])
    # Field totals count each fluid once: transfer 560.00 + 345.00 = 905.00 (not added to
    # production), production ST-OIL 900.00, sales LACT 890.00.
    by_role = {(t["role"], t["total"], tuple(t["pmos"])) for t in alloc["totals"]["by_role"]}
    assert by_role == {
        ("transfer", "905.00", ("B1-T", "B2-T")),
        ("production", "900.00", ("ST-OIL",)),
        ("sales", "890.00", ("LACT",)),
    }
