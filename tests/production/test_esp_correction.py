"""The ESP load correction end to end: site file, readings, daily compute, stored estimate.

The day of ``test_virtual_days`` (W-1 an ESP tested 2026-01-31 at 500 bbl/d liquid, 4 % water
cut, its ``pump_speed`` 50 Hz all that test day and 55 Hz on the day; W-2 the rod pump), with
W-1's virtual meter set to ``esp_correction: power`` and a ``motor_power`` series (kW) that reads
100 kW all the test day and 97.0299 kW all the day.

By hand (docs/allocation.md, section 7):

* calibration: k = 500 / 50 = 10 bbl/d per Hz, P_test = 100 kW (the running-time means of the
  test's contract day);
* the day, uncorrected: 10 × 55 = 550 bbl;
* r = (P / P_test) / (f / f_test)³ = (97.0299 / 100) / (55 / 50)³ = 0.970299 / 1.331 = 0.729;
  r^(1/3) = 0.9 (0.9³ = 0.729): the correction factor **0.9000**;
* liquid 550 × 0.9 = **495.00 bbl**; oil 495 × 0.96 = **475.20**, water **19.80**.

With ``esp_correction: current`` and a ``motor_current`` series (A) at 100 A during the test and
88.209 A on the day: r = (I / I_test) / (f / f_test)² = 0.88209 / 1.21 = 0.729, the same 0.9000
and 495.00 bbl.

Σ virtual oil 475.20 + 470.40 (W-2) = 945.60 against 980.78 measured:
(945.60 − 980.78) / 980.78 × 100 = −35.18 / 980.78 × 100 = −3.5869… → **−3.59 %**, inside ±10 %.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import psycopg
import pytest

from anh_reporter.production.daily import compute_day
from anh_reporter.site import Site
from anh_reporter.storage import well_records
from anh_reporter.storage.series_repo import list_series

from . import test_virtual_days as base
from .helpers import DAY, DAY_D, FIELD, E, S, _series, write

Conn = psycopg.Connection[Any]
_VIRTUAL_SITE = base.virtual_site


def _load_site(correction: str, variable: str, unit: str) -> Site:
    raw = _VIRTUAL_SITE().model_dump(mode="json", exclude_none=True)
    w1 = raw["fields"][0]["wells"][0]
    w1["virtual_meter"] = {"esp_correction": correction}
    w1["series"].append(_series(variable, unit, 0, 500, 600))
    return Site.model_validate(raw)


@pytest.mark.parametrize(
    ("correction", "variable", "unit", "on_the_day"),
    [("power", "motor_power", "kW", 97.0299), ("current", "motor_current", "A", 88.209)],
)
def test_esp_load_correction_by_hand(
    conn: Conn, monkeypatch: Any, correction: str, variable: str, unit: str, on_the_day: float
) -> None:
    site = _load_site(correction, variable, unit)
    monkeypatch.setattr(base, "virtual_site", lambda band_pct=None: site)
    field_id = base.virtual_day(conn)
    ids = {r.code.split(".", 1)[1]: r.id for r in list_series(conn, FIELD)}
    test_day = np.arange(S - 2 * DAY - base.STEP, S - DAY + 1, base.STEP, dtype=np.int64)
    today = np.arange(S - base.STEP, E + 1, base.STEP, dtype=np.int64)
    values = np.concatenate((np.full(test_day.size, 100.0), np.full(today.size, on_the_day)))
    write(conn, ids[f"W-1.{variable}"], np.concatenate((test_day, today)), values)
    compute_day(conn, FIELD, DAY_D)
    w1 = well_records.load_virtual_days(conn, field_id, DAY_D)["W-1"]
    assert w1["virtual_liquid_bbl"] == Decimal("495.00")
    record = w1["virtual_meter"]
    assert "note" not in record  # the correction applied, not dropped
    assert (record["bbl_d_per_unit"], record["test_speed"]) == ("10.00000", "50.0000")
    assert record["correction_factor"] == "0.9000"
    assert (record["oil_bbl"], record["water_bbl"]) == ("475.20", "19.80")
    checks = well_records.load_virtual_checks(conn, field_id, DAY_D)
    assert [(c["virtual_total"], c["deviation_pct"], c["diverges"]) for c in checks] == [
        ("945.60", "-3.59", False)
    ]
