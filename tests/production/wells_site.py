"""The production test site with a battery: every PMO a production PMO, four wells."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from anh_reporter.production.manual import add_entry
from anh_reporter.production.well_entries import add_downtime, add_well_test
from anh_reporter.site import Site
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from .helpers import DAY_D, FIELD, HOUR, US, S, _series, grid, site_dict, standard_day, write


def wells_site_dict() -> dict[str, Any]:
    """helpers.site_dict with a battery BAT-1; W-1 an ESP with a pump status, W-4 untested."""
    raw = site_dict()
    field = raw["fields"][0]
    field["facilities"] = [{"code": "BAT-1", "name": "Batería 1"}]
    field["wells"] = [
        {"code": "W-1", "name": "Pozo 1", "production_method": "esp",
         "series": [_series("pump_status", "bool", 0, 1, 600)]},
        {"code": "W-2", "name": "Pozo 2", "production_method": "rod_pump"},
        {"code": "W-3", "name": "Pozo 3", "production_method": "pcp",
         "municipality_dane": "50001"},
        {"code": "W-4", "name": "Pozo 4", "production_method": "pcp"},
    ]  # fmt: skip
    return raw


def load_wells_site(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Load the site; the series ids by ``OWNER.variable``."""
    load_site_into(conn, Site.model_validate(wells_site_dict()), changed_by="test")
    return {r.code.split(".", 1)[1]: r.id for r in list_series(conn, FIELD)}


TYPED_HOURS = {"W-2": "24", "W-3": "12", "W-4": "24"}


def wells_day(conn: psycopg.Connection[Any], typed: dict[str, str] = TYPED_HOURS) -> dict[str, int]:
    """The standard day plus the wells' day, worked by hand in test_well_days.py.

    ``typed``: the hours on typed by hand per well (W-1's override its pump telemetry).

    * W-1: tested 2026-02-01 (1 day old) at oil 400, gas 600, water 50; the pump is off for the
      first 6 h of the day and on for the last 18 h (telemetry).
    * W-2: tested 2026-01-01 (32 days old) at 500, 500, 100; 24 h on typed by hand.
    * W-3: tested 2025-10-01 (124 days old: expired) at 360, 500, 40; 12 h on by hand; down
      for the first 12 h of the day (power failure).
    * W-4: never tested; 24 h on by hand.
    """
    ids = load_wells_site(conn)
    standard_day(conn, ids)
    t = grid()
    write(conn, ids["W-1.pump_status"], t, lambda x: (x >= S + 6 * HOUR).astype(float))
    tests = {
        "W-1": (dt.date(2026, 2, 1), 400, 600, 50),
        "W-2": (dt.date(2026, 1, 1), 500, 500, 100),
        "W-3": (dt.date(2025, 10, 1), 360, 500, 40),
    }
    for well, (day, oil, gas, water) in tests.items():
        add_well_test(
            conn, field_code=FIELD, well_code=well, tested_on=day, duration_h="12",
            oil_bbl_d=oil, gas_kscf_d=gas, water_bbl_d=water, tested_by="Ing. Pruebas",
            entered_by="test",
        )  # fmt: skip
    start = dt.datetime.fromtimestamp(S / US, dt.UTC)
    add_downtime(
        conn, field_code=FIELD, well_code="W-3", start=start, end=start + dt.timedelta(hours=12),
        cause="power_failure", entered_by="test", comment="breaker trip",
    )  # fmt: skip
    for well, hours in typed.items():
        add_entry(
            conn, field_code=FIELD, day=DAY_D, kind="well_hours_on", value=hours,
            well_code=well, entered_by="test", reason="daily sheet", recompute=False,
        )  # fmt: skip
    return ids
