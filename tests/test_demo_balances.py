"""The demo field's dispositions: its balances close, and a broken meter opens one.

The example site's battery sends its oil to a LACT (sales), its gas to fuel and flare meters and
its water to a disposal meter, simulated with the production meters' decline and conditions. A
day of it (backfilled, tested and allocated as ``anh-reporter demo`` does) closes all three
balances; the same day with the disposal meter reading 10 % low (its simulated rate 10 % below
the water produced) leaves a water residual of about 10 % of the production, far above the
0.5 % tolerance, and the balance raises ``balance_not_closed``. The battery's storage tank
TK-101 (200 bbl per ft) has a level transmitter: without a hand gauging its stock change comes
from level telemetry (steady, its noise only). Gauged by hand at the same level at both ends of
the day, the gauging wins and leaves the oil balance closed; its closing gauge misread one foot
high adds the stock change of 1 ft to the dispositions, and the oil balance opens by it. A level
transmitter silent for the last 2 h of the day leaves the closing stock unknown: never a zero
change, the oil balance does not close and the signed report carries IDP034.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from anh_reporter.config import Settings
from anh_reporter.production.config import load_field
from anh_reporter.production.daily import compute_day
from anh_reporter.production.tank_gauging import Gauge
from anh_reporter.production.tank_stock import add_tank_stock
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.service import demo_report
from anh_reporter.reports.verify import verify_file
from anh_reporter.runtime.demo_wells import seed_wells
from anh_reporter.simulator.backfill import backfill
from anh_reporter.site import Site, load_site
from anh_reporter.storage import well_records
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into

from .conftest import EXAMPLE_SITE

NOW = dt.datetime(2026, 11, 21, 14, 0, tzinfo=dt.UTC)  # 09:00 in Bogotá: 2026-11-20 is complete
DAY = dt.date(2026, 11, 20)


def site_code(path: Path) -> str:
    return load_site(path).fields[0].code


def demo_day(db: Database, site: Site) -> dict[str, Any]:
    """Backfill two days up to NOW, test the wells as the demo does; the stored allocation."""
    with db.connect() as conn:
        load_site_into(conn, site, changed_by="t", reason="demo field")
        backfill(conn, site, end=NOW, days=2, seed=42)
    assert seed_wells(db, site.fields[0], now=NOW) == DAY
    with db.connect() as conn:
        config = load_field(conn, site.fields[0].code)
        stored = well_records.load_allocation_day(conn, config.id, DAY)
    assert stored is not None
    return dict(stored)


def test_the_demo_field_balances_close(db: Database, tmp_path: Path) -> None:
    site = load_site(EXAMPLE_SITE)
    stored = demo_day(db, site)
    balances = {b["fluid"]: b for b in stored["totals"]["balances"]}
    assert set(balances) == {"oil", "gas", "water"}
    assert all(b["closes"] for b in balances.values()), balances
    terms = {
        f: {t["name"]: Decimal(str(t["volume"])) for t in b["terms"]} for f, b in balances.items()
    }
    assert terms["oil"]["dispatched"] > 0  # the LACT
    assert terms["gas"]["fuel"] > 0 and terms["gas"]["flare"] > terms["gas"]["fuel"]
    assert terms["water"]["disposal"] > 0
    assert not [f for f in stored["findings"] if f["code"] == "balance_not_closed"]
    # TK-101 is not gauged by hand: its stock change comes from its level transmitter.
    sources = [f for f in stored["findings"] if f["code"] == "tank_stock_source"]
    assert [f["target"] for f in sources] == ["TK-101"], sources
    assert sources[0]["message"].startswith("stock from level_telemetry")
    (tank,) = stored["totals"]["tank_stocks"]
    assert (tank["opening_source"], tank["closing_source"]) == ("level_telemetry",) * 2
    # The signed report: its totals are the production PMOs' (the LACT, fuel, flare and disposal
    # meters measure the same fluids again); every meter has a proving on record (no IDP022).
    report = demo_report(db, site.fields[0].code, settings=Settings(data_dir=tmp_path), now=NOW)
    assert report.path is not None and verify_file(report.path).ok
    doc = parse(report.path.read_bytes())
    assert isinstance(doc, dict)
    pmos = {p["code"]: p for p in doc["pmos"]}
    assert doc["totals"]["oil_net_bbl"] == pmos["PMO-CRUDO-01"]["oil_net_bbl"]
    assert doc["totals"]["gas_kpc"] == pmos["PMO-GAS-01"]["gas_kpc"]
    water = pmos["PMO-AGUA-01"]["water_net_bbl"] + pmos["PMO-CRUDO-01"]["water_net_bbl"]  # + S&W
    assert doc["totals"]["water_net_bbl"] == water
    assert [b["closes"] for b in doc["balances"]] == [True, True, True]
    said = [f["message"] for f in doc["allocation"]["findings"] if f["code"] == "tank_stock_source"]
    assert said == [sources[0]["message"]]  # the signed report says where the stock came from
    assert "IDP022" not in {f["code"] for f in report.findings}, report.findings
    # The wells' tests share the production PMOs' volumes (not the dispositions too): every
    # allocation factor is within the band.
    assert "IDP033" not in {f["code"] for f in report.findings}, report.findings


def test_a_disposal_meter_reading_low_opens_the_water_balance(db: Database, tmp_path: Path) -> None:
    text = EXAMPLE_SITE.read_text(encoding="utf-8")
    disposal = text.index("code: PMO-AGUA-DISP-01")
    head, tail = text[:disposal], text[disposal:]
    assert tail.count("qi: 185000") >= 1
    broken = tmp_path / "site.yaml"
    broken.write_text(head + tail.replace("qi: 185000", "qi: 166500", 1), encoding="utf-8")
    stored = demo_day(db, load_site(broken))
    water = next(b for b in stored["totals"]["balances"] if b["fluid"] == "water")
    produced, residual = Decimal(str(water["produced"])), Decimal(str(water["residual"]))
    assert not water["closes"]
    assert Decimal("0.09") < residual / produced < Decimal("0.11")  # the 10 % the meter lost
    findings = [f for f in stored["findings"] if f["code"] == "balance_not_closed"]
    assert len(findings) == 1 and findings[0]["message"].startswith("water balance does not close")
    # The pre-submission rule carries it into the signed report as a warning (IDP034).
    report = demo_report(db, site_code(broken), settings=Settings(data_dir=tmp_path), now=NOW)
    assert [f["target"] for f in report.findings if f["code"] == "IDP034"] == [site_code(broken)]


def oil_balance(db: Database, code: str) -> dict[str, Any]:
    with db.connect() as conn:
        stored = well_records.load_allocation_day(conn, load_field(conn, code).id, DAY)
    assert stored is not None
    return next(b for b in stored["totals"]["balances"] if b["fluid"] == "oil")


def test_a_misread_tank_gauge_opens_the_oil_balance(db: Database, tmp_path: Path) -> None:
    site = load_site(EXAMPLE_SITE)
    code = site.fields[0].code
    demo_day(db, site)
    before = oil_balance(db, code)
    level = Gauge(level=Decimal("12.000"), temperature_f=Decimal("95.0"), ambient_f=Decimal("86.0"))
    kw: dict[str, Any] = {
        "field_code": code, "day": DAY, "tank": "TK-101", "api60": Decimal("15.2"),
        "bsw_percent": Decimal("0.35"), "entered_by": "aforador",
    }  # fmt: skip
    with db.connect() as conn:
        add_tank_stock(conn, opening=level, closing=level, reason="aforo diario", **kw)
    steady = oil_balance(db, code)
    # Before the gauging TK-101's stock change came from its level (steady within its noise);
    # the hand gauging wins: no stock change, the residual takes the telemetry's change back.
    telemetry = Decimal({t["name"]: t["volume"] for t in before["terms"]}["stock_change"])
    assert abs(telemetry) < Decimal("5")  # 200 bbl/ft x a few thousandths of a foot of noise
    expected = Decimal(str(before["residual"])) + telemetry
    assert steady["closes"] and Decimal(str(steady["residual"])) == expected
    assert Decimal({t["name"]: t["volume"] for t in steady["terms"]}["stock_change"]) == 0
    misread = Gauge(
        level=Decimal("13.000"), temperature_f=Decimal("95.0"), ambient_f=Decimal("86.0")
    )
    with db.connect() as conn:
        add_tank_stock(conn, opening=level, closing=misread, reason="aforo corregido", **kw)
        (details,) = conn.execute(
            "SELECT details FROM tank_stocks WHERE superseded_by IS NULL"
        ).fetchone() or (None,)
    broken = oil_balance(db, code)
    stock = Decimal(str({t["name"]: t["volume"] for t in broken["terms"]}["stock_change"]))
    # One foot is 200 bbl observed; at 95 °F its NSV is less (CTL, CSW): what 12.1.1 gave.
    assert stock == Decimal(details["net_standard_volume"])
    assert Decimal("190") < stock < Decimal("200")
    assert Decimal(str(broken["residual"])) == expected - stock
    assert not broken["closes"]
    report = demo_report(db, code, settings=Settings(data_dir=tmp_path), now=NOW)
    assert [f["code"] for f in report.findings if f["code"] == "IDP034"] == ["IDP034"]


def test_a_stale_tank_level_opens_the_oil_balance(db: Database, tmp_path: Path) -> None:
    site = load_site(EXAMPLE_SITE)
    code = site.fields[0].code
    demo_day(db, site)
    # TK-101's transmitter falls silent 2 h before the day ends (06:00 Bogotá, 11:00 UTC).
    end = dt.datetime(2026, 11, 21, 11, tzinfo=dt.UTC)
    with db.connect() as conn:
        conn.execute(
            "DELETE FROM telemetry WHERE series_id = (SELECT id FROM series WHERE code = %s) "
            "AND time >= %s",
            (f"{code}.TK-101.tank_level", end - dt.timedelta(hours=2)),
        )
        conn.commit()
        compute_day(conn, code, DAY)
    balance = oil_balance(db, code)
    assert not balance["closes"]
    with db.connect() as conn:
        stored = well_records.load_allocation_day(conn, load_field(conn, code).id, DAY)
    assert stored is not None
    tank = [f["code"] for f in stored["findings"] if f["target"] == "TK-101"]
    assert tank == ["tank_level_stale", "tank_stock_unknown"]
    # A stale level is never a zero change of stock: the report carries the open balance.
    report = demo_report(db, code, settings=Settings(data_dir=tmp_path), now=NOW)
    idp034 = [f["message"] for f in report.findings if f["code"] == "IDP034"]
    assert len(idp034) == 1 and "the stock of tank(s) TK-101 is unknown" in idp034[0]
