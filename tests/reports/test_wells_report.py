"""The idp-1.2 report carries the wells, the balances and the facilities (hand-worked numbers).

The day is tests/production/wells_site.wells_day, allocated in test_well_days.py:
W-1 300.24 bbl oil / 450.00 kscf gas, W-2 500.40 / 500.00, W-3 180.14 / 250.00 with 12 h down
(power failure) deferring 180.00 bbl, 250.00 kscf, 20.00 bbl; W-4 untested (no volume).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from anh_reporter.reports.build import build_report
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.model import ReportInputs
from anh_reporter.reports.profiles import get_profile
from anh_reporter.reports.verify import verify_file
from anh_reporter.site import Site
from anh_reporter.storage.site_repo import load_site_into

from ..production.helpers import prove_meters
from ..production.wells_site import wells_day, wells_site_dict
from .helpers import context, generate

Conn = psycopg.Connection[object]
CASES = Path(__file__).parent / "cases"


def _document(path: Path) -> dict[str, Any]:
    doc = parse(path.read_bytes())
    assert isinstance(doc, dict)
    return doc


def test_signed_report_shows_the_wells(conn: Conn, tmp_path: Path) -> None:
    wells_day(conn)
    prove_meters(conn)
    # W-3 is known to the ANH by another code (the site file's avm_code, in force from before
    # the day: the code is date-effective); the others by theirs.
    site = wells_site_dict()
    site["fields"][0]["wells"][2]["avm_code"] = "CDL-0003"
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    load_site_into(conn, Site.model_validate(site), changed_by="test", effective_from=since)
    signed = generate(conn, context(tmp_path))
    assert signed.path is not None
    doc = _document(signed.path)
    assert (doc["profile"], doc["schema_version"]) == ("idp-1.4", "1.4")  # the default
    wells = {w["code"]: w for w in doc["wells"]}
    assert {c: w["avm_code"] for c, w in wells.items()} == {
        "W-1": "W-1", "W-2": "W-2", "W-3": "CDL-0003", "W-4": "W-4",
    }  # fmt: skip
    assert [(c, w["oil_net_bbl"], w["gas_kpc"]) for c, w in wells.items()] == [
        ("W-1", Decimal("300.24"), Decimal("450.00")),
        ("W-2", Decimal("500.40"), Decimal("500.00")),
        ("W-3", Decimal("180.14"), Decimal("250.00")),
        ("W-4", None, None),
    ]
    w1, w3 = wells["W-1"], wells["W-3"]
    assert w1["pmos"] == {"gas": "PMO-GAS", "oil": "PMO-OIL", "water": "PMO-WATER"}
    assert (w1["hours_on"], w1["hours_source"], w1["status"]) == (
        Decimal("18.00"), "telemetry", "producing",
    )  # fmt: skip
    assert w1["test"] == {"date": "2026-02-01", "age_days": 1, "state": "valid"}
    assert w1["factors"]["oil"] == Decimal("1.00080")
    assert w1["municipality_dane"] == "50568" and w3["municipality_dane"] == "50001"
    assert w3["deferred"]["oil_bbl"] == Decimal("180.00")
    assert [c["cause"] for c in w3["deferred"]["causes"]] == ["power_failure"]
    assert {f["code"] for f in wells["W-4"]["findings"]} == {"well_without_test"}
    pmos = {p["code"]: p for p in doc["pmos"]}
    oil = sum((w["oil_net_bbl"] or Decimal(0) for w in doc["wells"]), Decimal(0))
    water = sum((w["water_bbl"] or Decimal(0) for w in doc["wells"]), Decimal(0))
    assert oil == pmos["PMO-OIL"]["oil_net_bbl"] == Decimal("980.78")
    assert water == pmos["PMO-WATER"]["water_net_bbl"]
    assert doc["facilities"] == [{"code": "BAT-1", "name": "Batería 1", "kind": "battery"}]
    # Every PMO is a production PMO: produced, nothing disposed; the balances do not close.
    balances = {b["fluid"]: b for b in doc["balances"]}
    assert balances["oil"]["produced"] == Decimal("980.78")
    assert balances["oil"]["closes"] is False
    assert doc["allocation"]["pmos"][0]["pmo"] in pmos
    assert verify_file(signed.path).ok


def test_idp_1_3_is_idp_1_2_with_each_wells_avm_code() -> None:
    """Nothing else changes from 1.2 to 1.3: the same document, with ``avm_code`` in each well
    row (the well's own code when the site file gives none) and the version constants."""
    old, new = get_profile("idp-1.2"), get_profile("idp-1.3")
    rows = 0
    for case in sorted(p for p in CASES.iterdir() if p.is_dir()):
        inputs = ReportInputs.model_validate_json((case / "input.json").read_bytes())
        report = build_report(inputs)
        before, after = old.document(report), new.document(report)
        assert new.problems(after) == [], case.name
        assert after["profile"] == "idp-1.3" and after["schema_version"] == "1.3"
        for w in after["wells"]:
            assert w.pop("avm_code") == w["code"]
            rows += 1
        assert after | {"profile": "idp-1.2", "schema_version": "1.2"} == before, case.name
    assert rows > 0


def test_every_golden_case_maps_to_idp_1_2() -> None:
    profile = get_profile("idp-1.2")
    for case in sorted(p for p in CASES.iterdir() if p.is_dir()):
        inputs = ReportInputs.model_validate_json((case / "input.json").read_bytes())
        document = profile.document(build_report(inputs))
        assert profile.problems(document) == [], case.name


def test_wells_at_zero_hours_get_no_volume_and_the_report_says_so(
    conn: Conn, tmp_path: Path
) -> None:
    """Every well of BAT-1 typed 0 h on (shut in) while its PMOs measured: PMO-OIL 980.78 bbl.

    No well produced, so none is given a barrel (splitting by the test rates would have put
    980.78 × 400 / 1,260 = 311.36 bbl on W-1 with 0 h on); the wells' oil is 0.00 and the
    980.78 bbl stay unallocated: an error of the allocation on PMO-OIL, carried by IDP032, and
    the wells plus the unallocated volume still add up to the PMO.
    """
    wells_day(conn, typed={"W-1": "0", "W-2": "0", "W-3": "0", "W-4": "0"})
    prove_meters(conn)
    signed = generate(conn, context(tmp_path))
    assert signed.path is not None
    doc = _document(signed.path)
    wells = {w["code"]: w for w in doc["wells"]}
    assert {c: (w["hours_on"], w["oil_net_bbl"], w["gas_kpc"]) for c, w in wells.items()} == {
        c: (Decimal("0"), Decimal("0.00"), Decimal("0.00")) for c in ("W-1", "W-2", "W-3", "W-4")
    }
    allocation = {(p["pmo"], p["fluid"]): p for p in doc["allocation"]["pmos"]}
    assert Decimal(allocation[("PMO-OIL", "oil")]["unallocated"]) == Decimal("980.78")
    idp032 = [f for f in signed.findings if f["code"] == "IDP032" and f["target"] == "PMO-OIL"]
    assert [f["message"] for f in idp032] == [
        "well allocation: volume_unallocated: PMO measured 980.78 bbl of oil but no well behind "
        "it is on production with a usable test (0 h on for W-1, W-2, W-3, W-4): the 980.78 bbl "
        "stay unallocated, not put on wells that did not produce; correct the wells' hours on or "
        "the PMO's volume and compute the day again"
    ]
    assert verify_file(signed.path).ok
