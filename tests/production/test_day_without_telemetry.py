"""A day whose on-signal knows nothing (no reading in the day) is hours missing, not 0 h on.

The wells' day of wells_site.wells_day, but W-1's pump status has one reading only, 2 h before
the day: nothing is known of the day. W-1 then has no hours (hours_on_missing), is not
allocated, and no pump check is made on it. Its oil is carried by W-2 and W-3 (W-4 has no
test), worked by hand:

  theoretical W-2 500 × 24 / 24 = 500, W-3 360 × 12 / 24 = 180; Σ 680.
  PMO-OIL 980.78: factor 980.78 / 680 = 1.442323… → 1.44232 (outside the band: a warning).
  Exact shares 980.78 × 500 / 680 = 721.161764…, × 180 / 680 = 259.618235…; floors 721.16 +
  259.61 = 980.77; the cent left goes to the larger remainder, W-3 (0.0082 > 0.0018):
  W-2 721.16, W-3 259.62 (sum 980.78).
  Gas: W-2 500, W-3 500 × 12 / 24 = 250, Σ 750; 1,200.00 × 500 / 750 = 800.00, 400.00.

W-1's hours_on_missing of each fluid is an error (as a well without a test), so the signed
report shows it (IDP032) whether or not the factor leaves its band.

With 18 h typed by hand for W-1 the day is the standard one of test_well_days.py (W-1 300.24,
W-2 500.40, W-3 180.14), with no note comparing the hours with a telemetry that knew nothing.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import psycopg

from anh_reporter.production.daily import compute_day
from anh_reporter.production.manual import add_entry
from anh_reporter.storage import well_records

from ..reports.helpers import context, generate
from .helpers import DAY_D, FIELD, HOUR, S, prove_meters, write
from .wells_site import wells_day

Conn = psycopg.Connection[object]
D = Decimal


def _codes(row: dict) -> set[str]:
    return {f["code"] for f in row["findings"]}


def test_a_day_without_on_signal_readings_is_hours_missing(conn: Conn, tmp_path: Path) -> None:
    ids = wells_day(conn)
    pump = ids["W-1.pump_status"]
    conn.execute("DELETE FROM telemetry WHERE series_id = %s", (pump,))
    write(conn, pump, np.array([S - 2 * HOUR], dtype=np.int64), 1.0)
    compute_day(conn, FIELD, DAY_D)
    field_id = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()[0]
    days = well_records.load_well_days(conn, field_id, DAY_D)

    w1 = days["W-1"]
    assert (w1["hours_on"], w1["hours_source"], w1["oil_bbl"]) == (None, "none", None)
    assert "hours_on_missing" in _codes(w1)
    assert not _codes(w1) & {"hours_on_incomplete", "producing_with_pump_off"}
    assert {w: (d["oil_bbl"], d["gas_kscf"]) for w, d in days.items()} == {
        "W-1": (None, None),
        "W-2": (D("721.16"), D("800.00")),
        "W-3": (D("259.62"), D("400.00")),
        "W-4": (None, None),
    }
    assert days["W-2"]["factors"]["oil"] == "1.44232"
    alloc = well_records.load_allocation_day(conn, field_id, DAY_D)
    assert alloc is not None
    found = {(f["code"], f["target"]) for f in alloc["findings"]}
    assert ("allocation_factor_out_of_band", "PMO-OIL") in found
    missing = [f for f in w1["findings"] if f["code"] == "hours_on_missing"]
    # One error per fluid the others carry; no warning saying the same in other words.
    assert sorted(f["severity"] for f in missing) == ["error", "error", "error"]
    prove_meters(conn)
    signed = generate(conn, context(tmp_path))
    shown = {
        (f["code"], f["target"]) for f in signed.findings if "hours_on_missing" in f["message"]
    }
    assert shown == {("IDP032", "W-1")}

    add_entry(
        conn, field_code=FIELD, day=DAY_D, kind="well_hours_on", value="18", well_code="W-1",
        entered_by="test", reason="daily sheet",
    )  # fmt: skip
    days = well_records.load_well_days(conn, field_id, DAY_D)
    assert (days["W-1"]["hours_on"], days["W-1"]["hours_source"]) == (D("18"), "manual")
    assert [days[w]["oil_bbl"] for w in ("W-1", "W-2", "W-3")] == [
        D("300.24"), D("500.40"), D("180.14"),
    ]  # fmt: skip
    assert "hours_on_manual" not in _codes(days["W-1"])
