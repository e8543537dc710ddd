"""A storage tank's stock from its level transmitter, from stored readings to the oil balance.

The wells' test site (wells_site.wells_day) produces 980.78 bbl NSV of oil at PMO-OIL, with no
dispatch PMO: every barrel must be in the tank. TK-1 (insulated, liquid at a fixed 60.0 °F)
has the strapping table 0 ft → 0 bbl, 10 ft → 1,000 bbl, 20 ft → 2,100 bbl (100 bbl/ft, then
110 bbl/ft) and takes the API (30.0 at 60 °F) and S&W (2.00 %) of PMO-OIL's day.

Its level rises linearly from 2.5 ft at the day's start to 12.28 ft at its end, read every
10 min at 5 min past the boundaries, so each boundary's level is interpolated between the
readings 5 min either side of it:

* opening 2.5000 ft: TOV 100 × 2.5 = 250.00 bbl; CTSh 1.00000 (insulated at 60 °F), CTL
  1.00000 (60 °F), GSV 250.00; CSW 1 − 2.00/100 = 0.98000; NSV 250.00 × 0.98 = 245.00;
* closing 12.2800 ft: TOV 1,000 + 110 × 2.28 = 1,250.80; NSV 1,250.80 × 0.98 = 1,225.784 →
  1,225.78;
* Δ stock 1,225.78 − 245.00 = 980.78: the oil balance closes with a residual of 0.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import psycopg
import pytest

from anh_reporter.production.daily import compute_day
from anh_reporter.production.tank_gauging import Gauge, TankGaugingError
from anh_reporter.production.tank_stock import add_tank_stock
from anh_reporter.site import Site
from anh_reporter.storage import well_records
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from .helpers import DAY, DAY_D, FIELD, HOUR, US, E, S, _series, write
from .wells_site import wells_day, wells_site_dict

Conn = psycopg.Connection[Any]
D = Decimal
LEVEL = f"{FIELD}.TK-1.tank_level"
TANK = {
    "code": "TK-1",
    "name": "Tanque 1",
    "level_unit": "ft",
    "strapping": [[0, 0], [10, 1000], [20, 2100]],
    "shell": {"insulated": True},
    "level_telemetry": {"level_series": LEVEL, "temperature_f": 60.0, "oil_from": "PMO-OIL"},
}


def tank_site(conn: Conn) -> int:
    """The wells' day, then TK-1 and its level series (on PMO-OIL's panel); the series id."""
    wells_day(conn)
    raw = wells_site_dict()
    field = raw["fields"][0]
    oil = next(p for p in field["pmos"] if p["code"] == "PMO-OIL")
    oil["series"].append(_series("tank_level", "ft", 0, 20, 600, code=LEVEL))
    field["tanks"] = [TANK]
    load_site_into(conn, Site.model_validate(raw), changed_by="test")
    conn.commit()
    return next(r.id for r in list_series(conn, FIELD) if r.code == LEVEL)


def oil_balance(conn: Conn) -> tuple[dict[str, Any], list[dict[str, str]], dict[str, Any]]:
    """The stored oil balance, the day's findings and its tank stock details."""
    compute_day(conn, FIELD, DAY_D)
    field_id = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert field_id is not None
    stored = well_records.load_allocation_day(conn, field_id[0], DAY_D)
    assert stored is not None
    balance = next(b for b in stored["totals"]["balances"] if b["fluid"] == "oil")
    (tank,) = stored["totals"]["tank_stocks"]
    return balance, stored["findings"], tank


def terms(balance: dict[str, Any]) -> dict[str, Decimal]:
    return {t["name"]: D(str(t["volume"])) for t in balance["terms"]}


def about_tank(findings: list[dict[str, str]]) -> list[str]:
    return [f["code"] for f in findings if f["target"] == "TK-1"]


def oil_open(findings: list[dict[str, str]]) -> list[str]:
    return [
        f["message"]
        for f in findings
        if f["code"] == "balance_not_closed" and f["message"].startswith("oil balance")
    ]


def test_stock_from_level_telemetry_closes_the_oil_balance_and_a_stale_level_opens_it(
    conn: Conn,
) -> None:
    level_id = tank_site(conn)
    times = np.arange(S - 900 * US, E + 301 * US, 600 * US, dtype=np.int64)
    rising = 2.5 + 9.78 * (times - S) / DAY
    # The transmitter stops 2 h before the day ends: no good level within 30 min of the closing.
    cut = times < E - 2 * HOUR
    write(conn, level_id, times[cut], rising[cut])
    balance, findings, tank = oil_balance(conn)
    assert about_tank(findings) == ["tank_level_stale", "tank_stock_unknown"]
    assert balance["incomplete_terms"] == ["stock_change"]  # stored, and signed in idp-1.4
    stale = next(f for f in findings if f["code"] == "tank_level_stale")["message"]
    assert stale.startswith(
        f"level of tank TK-1 ({LEVEL}): no good reading within 1800 s before "
        "2026-02-03T11:00:00Z (the last is "
    )
    assert not balance["closes"]
    assert terms(balance)["stock_change"] == 0  # no tank counted, and the balance says why:
    assert oil_open(findings) == [
        "oil balance cannot close: the stock of tank(s) TK-1 is unknown (see tank_level_stale / "
        "tank_stock_unknown); residual without them 980.78 bbl"
    ]
    assert tank["unknown"] == "no closing level or temperature"

    # The readings of the last 2 h arrive: the stock comes from the level (worked above).
    write(conn, level_id, times[~cut], rising[~cut])
    balance, findings, tank = oil_balance(conn)
    assert balance["closes"] and D(balance["residual"]) == D("0.00")
    assert terms(balance)["stock_change"] == D("980.78")
    assert (tank["opening"]["level"], tank["closing"]["level"]) == ("2.5000", "12.2800")
    assert tank["opening"]["level_how"].startswith("interpolated between ")
    assert tank["api_mpms_12_1_1"]["opening"]["net_standard_volume"] == "245.00"
    assert tank["api_mpms_12_1_1"]["closing"]["net_standard_volume"] == "1225.78"
    assert about_tank(findings) == ["tank_stock_source"]
    assert oil_open(findings) == []
    source = next(f for f in findings if f["code"] == "tank_stock_source")["message"]
    assert source.startswith(
        "stock from level_telemetry: opening 245.00 bbl, closing 1225.78 bbl NSV, change 980.78 "
        "bbl (level 2.5000 → 12.2800 ft"
    )

    # Gauges of a day that has not come are refused (at 2026-02-03 10:59 UTC the field's day is
    # still 2026-02-02).
    with pytest.raises(TankGaugingError, match="2026-02-03 has not come"):
        add_tank_stock(
            conn, field_code=FIELD, day=DAY_D + dt.timedelta(days=1), tank="TK-1",
            opening=Gauge(D("2.50"), D("60.0")), closing=Gauge(D("11.37"), D("60.0")),
            api60=D("30.0"), bsw_percent=D("2.00"), entered_by="aforador", reason="aforo",
            now=dt.datetime(2026, 2, 3, 10, 59, tzinfo=dt.UTC),
        )  # fmt: skip
    # A hand gauging of the day wins over telemetry (here one that missed 100 bbl: 1 ft less).
    add_tank_stock(
        conn, field_code=FIELD, day=DAY_D, tank="TK-1", opening=Gauge(D("2.50"), D("60.0")),
        closing=Gauge(D("11.37"), D("60.0")), api60=D("30.0"), bsw_percent=D("2.00"),
        entered_by="aforador", reason="aforo diario", recompute=False,
    )  # fmt: skip
    balance, findings, tank = oil_balance(conn)
    assert (tank["opening_source"], tank["closing_source"]) == ("gauging", "gauging")
    # Closing 11.37 ft: TOV 1,000 + 110 × 1.37 = 1,150.70, NSV × 0.98 = 1,127.686 → 1,127.69;
    # Δ 1,127.69 − 245.00 = 882.69; residual 980.78 − 882.69 = 98.09 bbl: the balance opens.
    assert terms(balance)["stock_change"] == D("882.69")
    assert D(balance["residual"]) == D("98.09") and not balance["closes"]
    source = next(f for f in findings if f["code"] == "tank_stock_source")["message"]
    assert source.startswith("stock from gauging: opening 245.00 bbl, closing 1127.69 bbl NSV")
    assert len(oil_open(findings)) == 1


def test_a_level_beyond_the_strapping_table_names_the_level_and_the_limits(conn: Conn) -> None:
    level_id = tank_site(conn)
    times = np.arange(S - 900 * US, E + 301 * US, 600 * US, dtype=np.int64)
    write(conn, level_id, times, 2.5 + 18.0 * (times - S) / DAY)  # 20.5 ft at the closing
    balance, findings, tank = oil_balance(conn)
    unknown = next(f for f in findings if f["code"] == "tank_stock_unknown")["message"]
    assert unknown == (
        "the stock of tank TK-1 from level telemetry is unknown: tank TK-1: level 20.5000 ft is "
        "outside the strapping table of tank TK-1 range [0.0, 20.0] ft"
    )
    assert not balance["closes"] and tank["closing"]["level"] == "20.5000"


def test_a_hand_gauge_without_ambient_takes_the_tanks_site_ambient() -> None:
    """An uninsulated tank whose site entry gives level_telemetry.ambient_f 86: gauges typed
    without --ambient are corrected exactly as with 86 °F typed (CTSh uses it), and without
    either the gauge is refused as before."""
    from anh_reporter.production.tank_gauging import TankGaugingError, transfer

    tank = TANK | {
        "shell": {"insulated": False},
        "level_telemetry": TANK["level_telemetry"] | {"ambient_f": 86.0},  # type: ignore[operator]
    }
    oil = {"api60": D("30.0"), "bsw_percent": D("2.00")}
    typed = transfer(
        "TK-1", tank, Gauge(D("2.50"), D("95.0"), D("86")), Gauge(D("11.37"), D("95.0"), D("86")),
        **oil,
    )  # fmt: skip
    default = transfer(
        "TK-1", tank, Gauge(D("2.50"), D("95.0")), Gauge(D("11.37"), D("95.0")), **oil
    )
    assert default == typed
    bare = TANK | {"shell": {"insulated": False}}
    with pytest.raises(TankGaugingError, match="ambient"):
        transfer("TK-1", bare, Gauge(D("2.50"), D("95.0")), Gauge(D("11.37"), D("95.0")), **oil)
