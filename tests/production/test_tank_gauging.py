"""A tank gauging as a PMO's day: API MPMS 12.1.1 from two gauges, no meter factor applied."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
import pytest

from anh_reporter.production.daily import compute_day
from anh_reporter.production.manual import ManualEntryError, add_entry, add_tank_gauging
from anh_reporter.production.tank_gauging import Gauge, TankGaugingError
from anh_reporter.site import Site
from anh_reporter.storage.site_repo import load_site_into

from .helpers import DAY_D, FIELD, site_dict, standard_day

Conn = psycopg.Connection[Any]
D = Decimal

TANK = {
    "code": "TK-1",
    "name": "Tanque 1",
    "pmo": "PMO-OIL",
    "level_unit": "ft",
    # 100 bbl per foot: 0 ft → 0 bbl, 20 ft → 2,000 bbl.
    "strapping": [[0, 0], [10, 1000], [20, 2000]],
    "shell": {"insulated": True},
}


def _site(conn: Conn) -> dict[str, int]:
    from anh_reporter.storage.series_repo import list_series

    data = site_dict()
    data["fields"][0]["tanks"] = [TANK]
    load_site_into(conn, Site.model_validate(data), changed_by="t")
    conn.commit()
    return {r.code.split(".", 1)[1]: r.id for r in list_series(conn)}


def test_a_tank_gauging_by_hand(conn: Conn) -> None:
    ids = _site(conn)
    standard_day(conn, ids)  # the oil meter says 1,000.00 bbl
    added = add_tank_gauging(
        conn, field_code=FIELD, day=DAY_D, pmo_code="PMO-OIL", tank="TK-1",
        opening=Gauge(D("5.00"), D("60.0")), closing=Gauge(D("12.50"), D("100.0")),
        api60="30.0", bsw_percent="0.5", entered_by="ana", reason="meter out for proving",
    )  # fmt: skip
    # Opening 5.00 ft at 60.0 °F: TOV 500.00, CTSh 1.00000 (insulated, TSh = 60 °F), GOV
    # 500.00, CTL 1.00000, GSV 500.00, CSW 0.99500, NSV 497.50.
    # Closing 12.50 ft at 100.0 °F: TOV 1,250.00; TSh 100 °F, CTSh = 1 + 2·6.2e-6·40 +
    # (6.2e-6·40)² = 1.00049606 → 1.00050; GOV 1,250.00 × 1.00050 = 1,250.625 → 1,250.63;
    # CTL(API 30.0, 100.0 °F) = 0.98210; GSV 1,250.63 × 0.98210 = 1,228.24; NSV × 0.99500 =
    # 1,222.10. Received: NSV 1,222.10 − 497.50 = 724.60; GSV 728.24; GOV 750.63.
    assert added.entry.value == D("724.60")
    figures = {f.code: f for f in compute_day(conn, FIELD, DAY_D).figures}
    oil = figures["PMO-OIL"]
    assert (oil.method, oil.level) == ("tank_gauging", "tank")
    assert (oil.gross_observed_volume, oil.gross_standard_volume, oil.net_standard_volume) == (
        D("750.63"), D("728.24"), D("724.60"),
    )  # fmt: skip
    assert oil.meter_factor is None and oil.ccf is None  # no meter factor on a tank
    # The meter's figure it replaced stays visible.
    assert [(r.manual_volume, r.telemetry_volume) for r in oil.replaced] == [
        (D("724.60"), D("1000.00"))
    ]


def test_a_tank_gauging_is_entered_with_its_gauges(conn: Conn) -> None:
    _site(conn)
    with pytest.raises(ManualEntryError, match="entered with its gauges"):
        add_entry(
            conn, field_code=FIELD, day=DAY_D, kind="tank_gauging", value="700",
            pmo_code="PMO-OIL", entered_by="ana", reason="aforo",
        )  # fmt: skip
    with pytest.raises(TankGaugingError, match=r"level 25\.00 ft is outside .* \[0\.0, 20\.0\] ft"):
        add_tank_gauging(
            conn, field_code=FIELD, day=DAY_D, pmo_code="PMO-OIL", tank="TK-1",
            opening=Gauge(D("5.00"), D("60.0")), closing=Gauge(D("25.00"), D("60.0")),
            api60="30.0", bsw_percent="0.5", entered_by="ana", reason="aforo",
        )  # fmt: skip
    with pytest.raises(ManualEntryError, match=r"delivered 497\.50 bbl NSV"):
        add_tank_gauging(
            conn, field_code=FIELD, day=DAY_D, pmo_code="PMO-OIL", tank="TK-1",
            opening=Gauge(D("10.00"), D("60.0")), closing=Gauge(D("5.00"), D("60.0")),
            api60="30.0", bsw_percent="0.5", entered_by="ana", reason="aforo",
        )  # fmt: skip
