"""A Tipo B field whose oil balance is worked by hand: produced 1,000.00, dispatched 980.00.

helpers.site_dict (report type B) with its oil PMO only, a battery BAT-1, one well W-1
(tested at 1,000 bbl/d of oil, 24 h on by hand) and a LACT PMO-LACT (oil, role sales,
downstream of PMO-OIL). The day's
volumes are typed at NSV (taken as they are): PMO-OIL 1,000.00 bbl, PMO-LACT 980.00 bbl. No
storage tank: Δ stock 0. The default oil tolerance is max(0.5 % × 1,000.00, 1) = 5.00 bbl.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from anh_reporter.production.manual import add_entry
from anh_reporter.production.well_entries import add_well_test
from anh_reporter.site import Site
from anh_reporter.storage.site_repo import load_site_into

from .helpers import DAY_D, FIELD, site_dict


def oil_site_dict() -> dict[str, Any]:
    """The Tipo B test site's oil PMO with a battery, a LACT and one well."""
    raw = site_dict(report_type="B")
    field = raw["fields"][0]
    field["facilities"] = [{"code": "BAT-1", "name": "Batería 1"}]
    field["pmos"] = [p for p in field["pmos"] if p["code"] == "PMO-OIL"]
    field["pmos"].append(
        {
            "code": "PMO-LACT",
            "name": "LACT de despacho",
            "kind": "oil",
            "role": "sales",
            "downstream_of": "PMO-OIL",
            "meter": {"type": "coriolis", "has_totalizer": True, "meter_factor": 1.0},
            "series": [],
        }
    )
    field["wells"] = [{"code": "W-1", "name": "Pozo 1", "production_method": "esp"}]
    return raw


def oil_day(conn: psycopg.Connection[Any]) -> None:
    """Load the site and type the day's volumes (no recompute: the caller computes)."""
    load_site_into(conn, Site.model_validate(oil_site_dict()), changed_by="test")
    add_well_test(
        conn, field_code=FIELD, well_code="W-1", tested_on=dt.date(2026, 2, 1), duration_h="24",
        oil_bbl_d=1000, gas_kscf_d=0, water_bbl_d=0, tested_by="Ing. Pruebas", entered_by="test",
    )  # fmt: skip
    for pmo, volume in (("PMO-OIL", "1000.00"), ("PMO-LACT", "980.00")):
        add_entry(
            conn, field_code=FIELD, day=DAY_D, kind="oil_volume", value=volume, level="nsv",
            pmo_code=pmo, entered_by="test", reason="daily ticket", recompute=False,
        )  # fmt: skip
    add_entry(
        conn, field_code=FIELD, day=DAY_D, kind="well_hours_on", value="24", well_code="W-1",
        entered_by="test", reason="daily sheet", recompute=False,
    )  # fmt: skip
