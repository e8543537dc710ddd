"""Virtual meters of a field's day on the real database (hand-worked numbers).

The day is the standard day (helpers.standard_day): PMO-OIL measures 1000 bbl/d × meter factor
1.0008 × (1 − 2 % BSW) = 980.784 → 980.78 bbl NSV. Two wells flow to battery BAT-1 (oil and
gas only, so the water PMO has no wells and no virtual-meter check):

* W-1, ESP. Tested 2026-01-31 (its contract day: 2026-01-31 11:00 UTC to 2026-02-01 11:00 UTC)
  at oil 480 + water 20 = 500 bbl/d liquid, gas 600; its ``pump_speed`` series read 50 Hz all
  that day, so the test speed is 50 Hz (from telemetry) and k = 500 / 50 = 10 bbl/d per Hz.
  The day runs at 55 Hz: liquid 10 × 55 = 550.00 bbl; water cut 20 / 500 = 4.00 %:
  oil 550 × 0.96 = 528.00, water 22.00.
* W-2, rod pump, stroke 100 in, plunger 2 in. Tested 2026-01-20 at oil 392 + water 8 = 400
  bbl/d, gas 500, with 10 spm typed with the test (its series has no data that day).
  PD(10) = 0.116571 × 100 × 10 × 2² = 466.28 bbl/d → E_v = 400 / 466.28 = 0.8578, i.e.
  400 / 10 = 40 bbl/d per spm. The day runs at 12 spm: liquid 40 × 12 = 480.00 bbl; water cut
  8 / 400 = 2.00 %: oil 480 × 0.98 = 470.40, water 9.60.

Σ virtual oil = 528.00 + 470.40 = 998.40 bbl against 980.78 measured:
(998.40 − 980.78) / 980.78 × 100 = 17.62 / 980.78 × 100 = 1.7965… → +1.80 %, inside ±10 %.

With the oil meter reading 15 % low (850 bbl/d at the totalizer): 850 × 1.0008 × 0.98 =
833.6664 → 833.67 bbl; (998.40 − 833.67) / 833.67 × 100 = 164.73 / 833.67 × 100 = 19.7596… →
+19.76 %: beyond ±10 %, a ``virtual_meter_diverges`` warning on PMO-OIL, and the report's
IDP035. A field band of 25 % keeps the same day quiet.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from rich.console import Console

from anh_reporter.production.daily import compute_day
from anh_reporter.production.well_entries import add_well_test
from anh_reporter.production.wells_cli import allocation_table
from anh_reporter.site import Operator, Site
from anh_reporter.storage import well_records
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from .helpers import DAY, DAY_D, FIELD, US, E, S, _series, site_dict, standard_day, write

Conn = psycopg.Connection[Any]
D = Decimal
STEP = 600 * US


def virtual_site(band_pct: float | None = None) -> Site:
    """helpers.site_dict with battery BAT-1 and the two wells of the module docstring."""
    raw = site_dict()
    field = raw["fields"][0]
    field["facilities"] = [{"code": "BAT-1", "name": "Batería 1"}]
    if band_pct is not None:
        field["allocation"] = {"virtual_meter_band_pct": band_pct}
    field["wells"] = [
        {"code": "W-1", "name": "Pozo 1", "production_method": "esp", "fluids": ["oil", "gas"],
         "series": [_series("pump_speed", "Hz", 0, 70, 600)], "virtual_meter": {}},
        {"code": "W-2", "name": "Pozo 2", "production_method": "rod_pump",
         "fluids": ["oil", "gas"],
         "series": [_series("strokes_per_minute", "spm", 0, 15, 600)],
         "virtual_meter": {"stroke_in": 100, "plunger_diameter_in": 2}},
    ]  # fmt: skip
    return Site.model_validate(raw)


def virtual_day(
    conn: Conn,
    *,
    oil_bbl_d: float = 1000.0,
    band_pct: float | None = None,
    operator: Operator | None = None,
) -> int:
    """Load the site (under ``operator``), write the day and the wells' speeds, enter the
    tests; the field id."""
    site = virtual_site(band_pct)
    if operator is not None:
        site = site.model_copy(update={"operator": operator})
    load_site_into(conn, site, changed_by="test")
    ids = {r.code.split(".", 1)[1]: r.id for r in list_series(conn, FIELD)}
    standard_day(conn, ids, oil_bbl_d=oil_bbl_d)
    # W-1: 50 Hz over the test's contract day (its last sample at the day's end), 55 Hz today.
    test_day = np.arange(S - 2 * DAY - STEP, S - DAY + 1, STEP, dtype=np.int64)
    today = np.arange(S - STEP, E + 1, STEP, dtype=np.int64)
    write(conn, ids["W-1.pump_speed"], np.concatenate((test_day, today)),
          np.concatenate((np.full(test_day.size, 50.0), np.full(today.size, 55.0))))  # fmt: skip
    write(conn, ids["W-2.strokes_per_minute"], today, 12.0)
    tests = {
        "W-1": (dt.date(2026, 1, 31), 480, 600, 20, None),
        "W-2": (dt.date(2026, 1, 20), 392, 500, 8, "10"),
    }
    for well, (day, oil, gas, water, speed) in tests.items():
        add_well_test(
            conn, field_code=FIELD, well_code=well, tested_on=day, duration_h="12",
            oil_bbl_d=oil, gas_kscf_d=gas, water_bbl_d=water, tested_by="Ing. Pruebas",
            entered_by="test", pump_speed=speed,
        )  # fmt: skip
    row = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert row is not None
    return int(row[0])


def test_virtual_meters_of_two_wells_by_hand(conn: Conn) -> None:
    field_id = virtual_day(conn)
    compute_day(conn, FIELD, DAY_D)
    virtual = well_records.load_virtual_days(conn, field_id, DAY_D)
    w1, w2 = virtual["W-1"], virtual["W-2"]
    assert (w1["virtual_liquid_bbl"], w2["virtual_liquid_bbl"]) == (D("550.00"), D("480.00"))
    m1, m2 = w1["virtual_meter"], w2["virtual_meter"]
    assert (m1["test_speed"], m1["test_speed_source"], m1["bbl_d_per_unit"]) == (
        "50.0000", "telemetry", "10.00000",
    )  # fmt: skip
    assert (m2["test_speed"], m2["test_speed_source"], m2["bbl_d_per_unit"]) == (
        "10.0000", "manual", "40.00000",
    )  # fmt: skip
    assert m2["efficiency"] == "0.8578"
    assert (m1["oil_bbl"], m1["water_bbl"], m2["oil_bbl"], m2["water_bbl"]) == (
        "528.00", "22.00", "470.40", "9.60",
    )  # fmt: skip
    assert m1["coverage_pct"] == m2["coverage_pct"] == "100.0"
    checks = well_records.load_virtual_checks(conn, field_id, DAY_D)
    assert checks == [
        {"pmo": "PMO-OIL", "fluid": "oil", "measured": "980.78", "virtual_total": "998.40",
         "deviation_pct": "1.80", "band_pct": "10.0", "diverges": False,
         "wells": ["W-1", "W-2"]},
    ]  # fmt: skip
    alloc = well_records.load_allocation_day(conn, field_id, DAY_D)
    assert alloc is not None
    assert not [f for f in alloc["findings"] if f["code"].startswith("virtual_meter")]
    # The report's well rows are not touched: the virtual figures live beside them.
    assert "virtual_liquid_bbl" not in well_records.load_well_days(conn, field_id, DAY_D)["W-1"]
    # `wells day` shows them next to the allocation, and the PMO's comparison under the table.
    wide = Console(width=300, record=True)
    wide.print(allocation_table(conn, field_id, DAY_D))
    table = " ".join(wide.export_text().replace("│", " ").split())
    assert "550.00 528.00" in table and "480.00 470.40" in table
    assert (
        "virtual meter PMO-OIL (oil): Σ virtual 998.40 bbl vs measured 980.78 bbl (1.80 %), "
        "within ±10.0 %"
    ) in table


def test_an_oil_meter_reading_15_pct_low_raises_the_finding(conn: Conn, tmp_path: Path) -> None:
    from ..reports.helpers import context, generate
    from .helpers import prove_meters

    field_id = virtual_day(conn, oil_bbl_d=850.0)
    prove_meters(conn)
    compute_day(conn, FIELD, DAY_D)
    checks = well_records.load_virtual_checks(conn, field_id, DAY_D)
    assert [(c["measured"], c["virtual_total"], c["deviation_pct"], c["diverges"])
            for c in checks] == [("833.67", "998.40", "19.76", True)]  # fmt: skip
    alloc = well_records.load_allocation_day(conn, field_id, DAY_D)
    assert alloc is not None
    found = [f for f in alloc["findings"] if f["code"] == "virtual_meter_diverges"]
    assert [(f["severity"], f["target"]) for f in found] == [("warning", "PMO-OIL")]
    assert "998.40 bbl of oil" in found[0]["message"] and "+19.76 %" in found[0]["message"]
    # The pre-submission rule carries it into the report's findings (IDP035, a warning).
    report = generate(conn, context(tmp_path))
    assert [(f["code"], f["severity"], f["target"]) for f in report.findings
            if f["code"] == "IDP035"] == [("IDP035", "warning", "PMO-OIL")]  # fmt: skip


def test_a_wider_band_keeps_the_same_day_quiet(conn: Conn) -> None:
    field_id = virtual_day(conn, oil_bbl_d=850.0, band_pct=25)
    compute_day(conn, FIELD, DAY_D)
    checks = well_records.load_virtual_checks(conn, field_id, DAY_D)
    assert [(c["deviation_pct"], c["band_pct"], c["diverges"]) for c in checks] == [
        ("19.76", "25.0", False)
    ]


def test_a_well_without_a_test_speed_makes_the_check_incomplete(conn: Conn) -> None:
    """W-2's test typed without a speed, its series empty on the test day: no estimate, the
    PMO's comparison is incomplete (info), not a divergence."""
    load_site_into(conn, virtual_site(), changed_by="test")
    ids = {r.code.split(".", 1)[1]: r.id for r in list_series(conn, FIELD)}
    standard_day(conn, ids)
    today = np.arange(S - STEP, E + 1, STEP, dtype=np.int64)
    write(conn, ids["W-1.pump_speed"], today, 55.0)
    write(conn, ids["W-2.strokes_per_minute"], today, 12.0)
    for well, speed in (("W-1", "50"), ("W-2", None)):
        add_well_test(
            conn, field_code=FIELD, well_code=well, tested_on=dt.date(2026, 1, 20),
            duration_h="12", oil_bbl_d=400, gas_kscf_d=500, water_bbl_d=0,
            tested_by="Ing. Pruebas", entered_by="test", pump_speed=speed,
        )  # fmt: skip
    compute_day(conn, FIELD, DAY_D)
    field_id = int(conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()[0])
    virtual = well_records.load_virtual_days(conn, field_id, DAY_D)
    assert virtual["W-1"]["virtual_liquid_bbl"] == D("440.00")  # 400 / 50 × 55
    assert virtual["W-2"]["virtual_liquid_bbl"] is None
    assert "no pump_speed typed" in virtual["W-2"]["virtual_meter"]["note"]
    alloc = well_records.load_allocation_day(conn, field_id, DAY_D)
    assert alloc is not None
    notes = [f for f in alloc["findings"] if f["code"].startswith("virtual_meter")]
    assert [(f["code"], f["severity"], f["target"]) for f in notes] == [
        ("virtual_meter_incomplete", "info", "PMO-OIL")
    ]
    assert "W-2 (no speed during the test of 2026-01-20" in notes[0]["message"]
