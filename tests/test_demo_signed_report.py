"""The demo's signed report, read back: six well rows that add up to their PMOs, CDL-003's deferred
volume, CDL-006's expired test, and the allocation the demo prints is the one it signed.

``anh-reporter demo`` tests the six wells at ``share × bias × measured × 24 / 22`` (rounded half up
to 0.01; runtime/demo_wells.py), logs 4 h of artificial-lift failure on CDL-003 (share 0.015,
biases oil 1.06, gas 1.10, water 1.00; its latest test 23 days old) with its 18 h typed by hand,
and tests CDL-006 last 97 days before the day (the validity window is 90 days). With this seed the
day measured 7,979.66 bbl of oil, 1,232.29 kscf of gas and 207,875.26 bbl of water, so CDL-003's
test rates are

* oil 7,979.66 × 0.015 × 1.06 × 24 / 22 = 138.41083 → 138.41 bbl/d, deferred 138.41 × 4 / 24
  = 23.0683 → 23.07 bbl;
* gas 1,232.29 × 0.015 × 1.10 × 24 / 22 = 22.18122 → 22.18 kscf/d, deferred 22.18 × 4 / 24
  = 3.6967 → 3.70 kscf;
* water 207,875.26 × 0.015 × 1.00 × 24 / 22 = 3,401.5952 → 3,401.60 bbl/d, deferred
  3,401.60 × 4 / 24 = 566.9333 → 566.93 bbl.

The test works the same arithmetic from the signed PMO figures, so it holds for any seed.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from rich.console import Console

from anh_reporter.config import Settings
from anh_reporter.production.config import load_field
from anh_reporter.production.wells_cli import allocation_table
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.service import demo_report
from anh_reporter.reports.verify import verify_file
from anh_reporter.site import load_site
from anh_reporter.storage import well_records
from anh_reporter.storage.database import Database

from .conftest import EXAMPLE_SITE
from .test_demo_balances import DAY, NOW, demo_day

CENT = Decimal("0.01")
WELLS = [f"CDL-00{i}" for i in range(1, 7)]
PRODUCTION = {"oil": "PMO-CRUDO-01", "gas": "PMO-GAS-01", "water": "PMO-AGUA-01"}
WELL_COLUMN = {"oil": "oil_net_bbl", "gas": "gas_kpc", "water": "water_bbl"}
PMO_COLUMN = {"oil": "oil_net_bbl", "gas": "gas_kpc", "water": "water_net_bbl"}
CDL003_BIAS = {"oil": Decimal("1.06"), "gas": Decimal("1.10"), "water": Decimal("1.00")}
DEFERRED_COLUMN = {"oil": "oil_bbl", "gas": "gas_kpc", "water": "water_bbl"}


def number(value: Any) -> Decimal:
    """A figure of the parsed document (a Decimal, or an int when written without decimals)."""
    assert isinstance(value, (Decimal, int)) and not isinstance(value, bool), value
    return Decimal(value)


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def signed_demo(db: Database, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The demo's day as ``make demo`` leaves it: what it stored before signing (its well rows and
    the allocation table it prints), then the signed document."""
    site = load_site(EXAMPLE_SITE)
    code = site.fields[0].code
    demo_day(db, site)
    with db.connect() as conn:
        field_id = load_field(conn, code).id
        stored = well_records.load_well_days(conn, field_id, DAY)
        out = Console(width=400, record=True, file=io.StringIO())
        out.print(allocation_table(conn, field_id, DAY))
    report = demo_report(db, code, settings=Settings(data_dir=tmp_path), now=NOW)
    assert report.path is not None and verify_file(report.path).ok
    doc = parse(report.path.read_bytes())
    assert isinstance(doc, dict)
    with db.connect() as conn:
        # Signing recomputed the day; nothing the demo had stored moved.
        assert well_records.load_well_days(conn, field_id, DAY) == stored
    return doc, stored, out.export_text()


def test_the_demos_signed_report(db: Database, tmp_path: Path) -> None:
    doc, stored, table = signed_demo(db, tmp_path)
    wells = {w["code"]: w for w in doc["wells"]}
    assert len(doc["wells"]) == 6 and sorted(wells) == WELLS
    pmos = {p["code"]: p for p in doc["pmos"]}
    allocated = {a["fluid"]: a for a in doc["allocation"]["pmos"]}
    assert sorted(allocated) == ["gas", "oil", "water"]
    for fluid, pmo in PRODUCTION.items():
        figure = number(pmos[pmo][PMO_COLUMN[fluid]])
        assert figure > 0, (fluid, figure)
        assert all(w["pmos"][fluid] == pmo for w in wells.values())
        # Σ of the six rows, to the cent, is the PMO's own figure in the same document.
        total = sum((number(w[WELL_COLUMN[fluid]]) for w in wells.values()), Decimal(0))
        assert total == figure, (fluid, total, figure)
        a = allocated[fluid]
        assert a["pmo"] == pmo
        assert number(a["measured"]) == figure == number(a["allocated_total"])
        assert number(a["unallocated"]) == 0
    # Every well produced, tested, on telemetry's 22 h but CDL-003 (18 h typed by hand).
    assert {w["status"] for w in wells.values()} == {"producing"}
    hours = {c: (number(w["hours_on"]), w["hours_source"]) for c, w in wells.items()}
    assert hours.pop("CDL-003") == (Decimal(18), "manual")
    assert set(hours.values()) == {(Decimal(22), "telemetry")}
    # What the demo printed before signing is what it signed (the 18 h included).
    row = next(line for line in table.splitlines() if line.strip().startswith("CDL-003"))
    assert "18.00" in row and str(wells["CDL-003"]["oil_net_bbl"]) in row, row
    assert stored["CDL-003"]["hours_on"] == Decimal(18)
    # Signed at their increment whatever their source: typed 18 is 18.00 like telemetry's 22.00.
    assert {str(w["hours_on"]) for w in wells.values()} == {"18.00", "22.00"}
    # The typed hours are listed with who, when, why and their id, as every entry a figure
    # rests on.
    (typed,) = [e for e in doc["manual_entries"] if e["kind"] == "well_hours_on"]
    assert (typed["target"], str(typed["value"]), typed["unit"]) == ("CDL-003", "18.00", "h")
    assert typed["reason"] == "parte diario: 4 h sin variador"
    assert typed["entered_by"] and typed["entered_at"] and isinstance(typed["id"], int)
    # totals.water_net_bbl adds the oil meter's S&W water to the water meter's volume, so it is
    # more than the wells' water (docs/reports.md).
    oil_sw = number(pmos[PRODUCTION["oil"]]["water_net_bbl"])
    water = number(pmos[PRODUCTION["water"]]["water_net_bbl"])
    assert oil_sw > 0
    assert number(doc["totals"]["water_net_bbl"]) == water + oil_sw
    assert sum((number(w["water_bbl"]) for w in wells.values()), Decimal(0)) == water
    for code, w in wells.items():
        assert number(w["oil_net_bbl"]) == stored[code]["oil_bbl"]

    # CDL-003: down 4 h for an artificial-lift failure, deferred at its test rates.
    down = wells["CDL-003"]
    tested_on = str(DAY - dt.timedelta(days=23))
    assert down["test"] == {"date": tested_on, "age_days": 23, "state": "valid"}
    deferred = down["deferred"]
    assert number(deferred["hours_down"]) == 4
    (cause,) = deferred["causes"]
    assert cause["cause"] == "artificial_lift_failure" and number(cause["hours_down"]) == 4
    for fluid, pmo in PRODUCTION.items():
        measured = number(pmos[pmo][PMO_COLUMN[fluid]])
        # The test rate as the demo wrote it: measured × 0.015 × bias × 24 / 22, to the cent;
        # deferred = test rate × 4 h down / 24 h, half up (module docstring: 23.07 bbl of oil).
        rate = half_up(measured * Decimal("0.015") * CDL003_BIAS[fluid] * 24 / 22)
        expected = half_up(rate * 4 / 24)
        assert number(deferred[DEFERRED_COLUMN[fluid]]) == expected, (fluid, rate, expected)
        assert number(cause[fluid]) == expected
    for code in set(WELLS) - {"CDL-003"}:
        assert number(wells[code]["deferred"]["hours_down"]) == 0
        assert wells[code]["deferred"]["causes"] == []
    # 18 h on + 4 h down: not over the day.
    assert "hours_exceed_day" not in {f["code"] for f in doc["allocation"]["findings"]}
    # The oldest test, 97 days before the day, is past the 90-day window: used, flagged.
    old = wells["CDL-006"]
    tested_on = str(DAY - dt.timedelta(days=97))
    assert old["test"] == {"date": tested_on, "age_days": 97, "state": "expired"}
    assert [f["code"] for f in old["findings"]] == ["well_test_expired"]
    assert number(old["oil_net_bbl"]) > 0  # used for the allocation
    findings = doc["allocation"]["findings"]
    assert [f["target"] for f in findings if f["code"] == "well_test_expired"] == ["CDL-006"]
    ages = {c: w["test"]["age_days"] for c, w in wells.items()}
    assert ages == dict(zip(WELLS, (2, 9, 23, 41, 67, 97), strict=True))
    assert {w["test"]["state"] for c, w in wells.items() if c != "CDL-006"} == {"valid"}
