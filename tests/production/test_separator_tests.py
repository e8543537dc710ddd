"""Well tests read from a test separator's series over a window, on the real database.

The site: battery BAT-1, W-1 an ESP whose site entry carries the test separator's rate series
(``oil_rate``, ``gas_rate``, ``water_rate``, every 600 s) beside its ``pump_speed`` (Hz) and a
virtual meter; W-2 a rod pump with an ``oil_rate`` series only.

The test runs 2026-02-01 15:00 to 19:00 at Bogotá (-05:00), i.e. 20:00Z to 00:00Z: inside the
contract day 2026-02-01 (11:00Z to 11:00Z), so that is its date. Readings every 10 min from
10 min before the window to 10 min after it (t in minutes from the start):

* oil: 400 bbl/d up to t = 50, 600 from t = 60. Trapezoid: 400 × 50 + (400 + 600) / 2 × 10
  + 600 × 180 = 20 000 + 5 000 + 108 000 = 133 000 bbl/d·min over 240 min = 554.1666… →
  **554.17** (the plain mean of the 25 samples in the window would be (6 × 400 + 19 × 600) /
  25 = 552);
* gas: 96 kscf/d throughout → **96.00**;
* water: a straight line from 100 bbl/d at t = 0 to 140 at t = 240 → its mean **120.00**.

Each series covers the 4 h window fully (tolerance 6 × 600 s = 1 h): coverage 100.0 %.
Duration 4.00 h.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from typer.testing import CliRunner

from anh_reporter.production.cli import CliInputError
from anh_reporter.production.daily import compute_day
from anh_reporter.production.separator_tests import add_separator_test
from anh_reporter.production.well_entries import WellEntryError, add_well_test
from anh_reporter.production.wells_cli import wells_app
from anh_reporter.site import Site
from anh_reporter.storage import well_records
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from .helpers import DAY, DAY_D, FIELD, HOUR, US, E, S, _series, site_dict, standard_day, write

Conn = psycopg.Connection[Any]
D = Decimal
STEP = 600 * US
BOGOTA = dt.timezone(dt.timedelta(hours=-5))
START = dt.datetime(2026, 2, 1, 15, tzinfo=BOGOTA)  # 20:00Z
END = dt.datetime(2026, 2, 1, 19, tzinfo=BOGOTA)  # 00:00Z on 2026-02-02
TS = S - DAY + 9 * HOUR  # the window's start in µs: 11:00Z + 9 h
TEST_DAY = dt.date(2026, 2, 1)


def separator_site() -> Site:
    raw = site_dict()
    field = raw["fields"][0]
    field["facilities"] = [{"code": "BAT-1", "name": "Batería 1"}]
    field["wells"] = [
        {"code": "W-1", "name": "Pozo 1", "production_method": "esp", "fluids": ["oil", "gas"],
         "series": [_series("pump_speed", "Hz", 0, 70, 600),
                    _series("oil_rate", "bbl/d", 0, 5000, 600),
                    _series("gas_rate", "kscf/d", 0, 5000, 600),
                    _series("water_rate", "bbl/d", 0, 5000, 600)],
         "virtual_meter": {}},
        {"code": "W-2", "name": "Pozo 2", "production_method": "rod_pump",
         "fluids": ["oil", "gas"], "series": [_series("oil_rate", "bbl/d", 0, 5000, 600)]},
    ]  # fmt: skip
    return Site.model_validate(raw)


def load(conn: Conn) -> dict[str, int]:
    """Load the site and write the separator's readings of the module docstring."""
    load_site_into(conn, separator_site(), changed_by="test")
    ids = {r.code.split(".", 1)[1]: r.id for r in list_series(conn, FIELD)}
    t = np.arange(TS - STEP, TS + 4 * HOUR + STEP + 1, STEP, dtype=np.int64)
    minutes = (t - TS) / (60 * US)
    write(conn, ids["W-1.oil_rate"], t, np.where(minutes < 60, 400.0, 600.0))
    write(conn, ids["W-1.gas_rate"], t, 96.0)
    write(conn, ids["W-1.water_rate"], t, 100.0 + 40.0 * minutes / 240.0)
    return ids


def field_id(conn: Conn) -> int:
    row = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert row is not None
    return int(row[0])


def test_stored_rates_are_the_windows_time_weighted_means(conn: Conn) -> None:
    load(conn)
    added = add_separator_test(
        conn, field_code=FIELD, well_code="W-1", start=START, end=END,
        tested_by="Separador de prueba BAT-1", entered_by="ana",
    )  # fmt: skip
    assert added.coverage_pct == {"oil": 100.0, "gas": 100.0, "water": 100.0}
    [row] = well_records.well_tests_of_field(conn, field_id(conn), well="W-1")
    assert row.id == added.entry.id
    assert (row.tested_on, row.duration_h, row.source, row.entered_by) == (
        TEST_DAY, D("4.00"), "test_separator", "ana",
    )  # fmt: skip
    assert (row.oil_bbl_d, row.gas_kscf_d, row.water_bbl_d) == (
        D("554.17"), D("96.00"), D("120.00"),
    )  # fmt: skip
    assert (row.window_start, row.window_end) == (START, END)
    assert row.separator == {
        "series": {
            "oil": f"{FIELD}.W-1.oil_rate",
            "gas": f"{FIELD}.W-1.gas_rate",
            "water": f"{FIELD}.W-1.water_rate",
        },
        "coverage_pct": {"oil": 100.0, "gas": 100.0, "water": 100.0},
    }
    [(action, details)] = conn.execute(
        "SELECT action, details FROM audit_log WHERE target = %s", (f"{FIELD}/W-1",)
    ).fetchall()
    assert action == "well_test.add"
    assert (details["source"], details["oil_bbl_d"], details["window_start"]) == (
        "test_separator", "554.17", "2026-02-01T15:00:00-05:00",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"end": START - dt.timedelta(hours=1)},
            "end: 2026-02-01T14:00:00-05:00 must be after start 2026-02-01T15:00:00-05:00",
        ),
        (
            {"end": START + dt.timedelta(hours=170)},
            r"end: the test lasts 170.00 h \(2026-02-01T15:00:00-05:00 to "
            r"2026-02-08T17:00:00-05:00\), more than 168 h",
        ),
        ({"start": START.replace(tzinfo=None)}, "start: 2026-02-01T15:00:00 has no time zone"),
        (
            {"oil_series": f"{FIELD}.W-1.pump_speed"},
            f"oil_series: '{FIELD}.W-1.pump_speed' is a pump_speed series, not a rate",
        ),
        (
            {"oil_series": f"{FIELD}.W-1.water_rate"},
            f"oil_series: '{FIELD}.W-1.water_rate' is a water_rate series; expected the well's "
            "oil_rate series",
        ),
        (
            {"oil_series": f"{FIELD}.W-2.oil_rate"},
            f"oil_series: '{FIELD}.W-2.oil_rate' is a series of well W-2, not of well W-1",
        ),
        (
            {"oil_series": f"{FIELD}.PMO-OIL.oil_rate"},
            f"oil_series: '{FIELD}.PMO-OIL.oil_rate' is a series of PMO PMO-OIL, not of well W-1",
        ),
        ({"gas_series": "NO.SUCH"}, f"gas_series: 'NO.SUCH' is not a series of field {FIELD}"),
        ({"well_code": "W-2"}, "gas_series: well W-2 has no gas_rate series"),
        # The readings stop at 19:10: a window 15:00-23:00 (8 h) has 250 of its 480 min
        # covered (the stretch from 19:10 to 23:00 is longer than the 1 h tolerance):
        # 250 / 480 = 52.08 % → 52.1 %.
        (
            {"end": START + dt.timedelta(hours=8)},
            f"oil_series '{FIELD}.W-1.oil_rate': good samples cover 52.1 % of the test window, "
            "below the minimum 95 %",
        ),
        ({"tested_by": " "}, "tested_by: empty"),
    ],
)
def test_refusals_name_the_field_the_value_and_the_limit(
    conn: Conn, kw: dict[str, Any], message: str
) -> None:
    load(conn)
    args: dict[str, Any] = {
        "field_code": FIELD, "well_code": "W-1", "start": START, "end": END,
        "tested_by": "Separador", "entered_by": "ana", **kw,
    }  # fmt: skip
    with pytest.raises(WellEntryError, match=message) as caught:
        add_separator_test(conn, **args)
    assert "\n" not in str(caught.value)
    assert well_records.well_tests_of_field(conn, field_id(conn)) == []


def test_a_test_for_a_signed_day_reallocates_it_and_flags_the_report(
    conn: Conn, tmp_path: Path
) -> None:
    """The day after the test (2026-02-02) is stored and its report issued; the test (dated
    2026-02-01) changes W-1's figures that day: allocated again, report flagged."""
    from anh_reporter.config import Settings
    from anh_reporter.reports import service

    ids = load(conn)
    standard_day(conn, ids)
    compute_day(conn, FIELD, DAY_D)
    context = service.Context.from_settings(Settings(data_dir=tmp_path))
    service.generate(
        conn, field_code=FIELD, day=DAY_D, context=context, created_by="t",
        now=dt.datetime(2026, 2, 4, tzinfo=dt.UTC),
    )  # fmt: skip
    added = add_separator_test(
        conn, field_code=FIELD, well_code="W-1", start=START, end=END,
        tested_by="Separador", entered_by="ana",
    )  # fmt: skip
    assert added.entry.reallocated == (DAY_D,)
    assert added.entry.needs_amendment == (DAY_D,)
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (True,)
    day = well_records.load_well_days(conn, field_id(conn), DAY_D)["W-1"]
    assert (day["test_id"], day["test_date"]) == (added.entry.id, TEST_DAY)


def test_virtual_meter_calibrates_over_the_test_window_not_the_whole_day(conn: Conn) -> None:
    """W-1's pump ran at 60 Hz on 2026-02-01 until 20:00Z, then at 50 Hz (readings every
    10 min: the 10 min before 20:00Z ramp from 60 to 50), and at 50 Hz all of 2026-02-02.

    The separator test's window (20:00Z to 00:00Z) saw 50 Hz only: k = (554.17 + 120.00) / 50
    = 674.17 / 50 = 13.4834 bbl/d per Hz; 2026-02-02 at 50 Hz: 13.4834 × 50 = **674.17 bbl**,
    the test's own liquid, as it should be at the test's speed.

    The same rates typed by hand for 2026-02-01 (no window) read the whole contract day
    (11:00Z to 11:00Z): 60 Hz for 530 min, the ramp's mean 55 Hz for 10 min, 50 Hz for 900
    min: (60 × 530 + 55 × 10 + 50 × 900) / 1440 = 77 350 / 1440 = 53.7153 Hz; k = 674.17 /
    53.7153 = 12.5508; the day: 674.17 × 50 / 53.7153 = **627.54 bbl**, 7 % low only because
    the calibration mixed in the hours at 60 Hz before the test.
    """
    ids = load(conn)
    standard_day(conn, ids)
    t = np.arange(S - DAY - STEP, E + 1, STEP, dtype=np.int64)
    write(conn, ids["W-1.pump_speed"], t, np.where(t < TS, 60.0, 50.0))
    added = add_separator_test(
        conn, field_code=FIELD, well_code="W-1", start=START, end=END,
        tested_by="Separador", entered_by="ana",
    )  # fmt: skip
    compute_day(conn, FIELD, DAY_D)
    w1 = well_records.load_virtual_days(conn, field_id(conn), DAY_D)["W-1"]
    meter = w1["virtual_meter"]
    assert (meter["test_id"], meter["test_speed"], meter["test_speed_over"]) == (
        added.entry.id, "50.0000", "test_window",
    )  # fmt: skip
    assert (meter["bbl_d_per_unit"], w1["virtual_liquid_bbl"]) == ("13.48340", D("674.17"))

    add_well_test(
        conn, field_code=FIELD, well_code="W-1", tested_on=TEST_DAY, duration_h="4",
        oil_bbl_d="554.17", gas_kscf_d="96.00", water_bbl_d="120.00", tested_by="Ing. Pruebas",
        entered_by="ana", replaces=added.entry.id,
    )  # fmt: skip
    w1 = well_records.load_virtual_days(conn, field_id(conn), DAY_D)["W-1"]
    meter = w1["virtual_meter"]
    assert (meter["test_speed"], meter["test_speed_over"]) == ("53.7153", "contract_day")
    assert (meter["bbl_d_per_unit"], w1["virtual_liquid_bbl"]) == ("12.55081", D("627.54"))


def test_cli_enters_a_separator_test_and_refuses_in_one_line(cli_db: Database) -> None:
    with cli_db.connect() as conn:
        load(conn)
        conn.commit()
    runner = CliRunner()
    base = ["separator-test", "--field", FIELD, "--well", "W-1", "--tested-by", "Separador"]
    window = ["--from", "2026-02-01T15:00-05:00", "--to", "2026-02-01T19:00-05:00"]
    result = runner.invoke(wells_app, [*base, *window, "--by", "ana"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert out.startswith(
        "separator test of W-1 on 2026-02-01 (4.00 h: oil 554.17 bbl/d, gas 96.00 kscf/d, "
        "water 120.00 bbl/d; coverage 100.0/100.0/100.0 %) #"
    ), out
    with cli_db.connect() as conn:
        [row] = well_records.well_tests_of_field(conn, field_id(conn), well="W-1")
    assert (row.source, row.oil_bbl_d, row.water_bbl_d, row.entered_by) == (
        "test_separator", D("554.17"), D("120.00"), "ana",
    )  # fmt: skip
    assert (row.window_start, row.window_end) == (START, END)
    listed = runner.invoke(wells_app, ["tests", "--field", FIELD, "--well", "W-1"])
    assert listed.exit_code == 0, listed.output
    assert "554.17" in listed.output

    long = ["--from", "2026-02-01T15:00-05:00", "--to", "2026-02-08T17:00-05:00"]
    result = runner.invoke(wells_app, [*base, *long])
    assert isinstance(result.exception, WellEntryError)
    assert str(result.exception) == (
        "end: the test lasts 170.00 h (2026-02-01T15:00:00-05:00 to "
        "2026-02-08T17:00:00-05:00), more than 168 h"
    )
    naive = ["--from", "2026-02-01T15:00", "--to", "2026-02-01T19:00-05:00"]
    result = runner.invoke(wells_app, [*base, *naive])
    assert isinstance(result.exception, CliInputError)
    assert str(result.exception) == (
        "--from '2026-02-01T15:00': no UTC offset; give one, e.g. 2026-02-01T15:00-05:00 or "
        "2026-02-01T15:00Z"
    )
