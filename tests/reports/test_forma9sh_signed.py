"""Forma 9SH end to end: three signed days (one amended) on PostgreSQL, then `report monthly`.

The wells site (tests/production/wells_site.py: battery BAT-1, its oil, gas and water PMOs all
production points, wells W-1 to W-4) gets each day's volumes typed by hand (taken as they are),
every well tested on 2026-02-01 and on 24 h a day (typed):

| day | oil bbl NSV | gas kscf | water bbl |
|---|---|---|---|
| 2026-02-02 | 1,000.00 | 1,500.00 | 250.00 |
| 2026-02-03 | 1,050.00, amended to 1,100.00 | 1,400.00 | 260.00 |
| 2026-02-04 | 900.00 | 1,300.00 | 240.00 |

Each day is signed; then 2026-02-03's oil entry is corrected and the day amended (version 2).
The month's form counts the amended version: field oil 1,000.00 + 1,100.00 + 900.00 = 3,000.00
bbl (2,950.00 had version 1 been counted), gas 1,500.00 + 1,400.00 + 1,300.00 = 4,200.00 kscf,
water 250.00 + 260.00 + 240.00 = 750.00 bbl. Each well's month is the sum of its rows in the
three signed files (the latest version of each day), to the cent, in the CSV and in the XLSX
that `report monthly` writes; the API route (`GET /reports/fields/{id}/forma9sh/2026-02`) serves
the same CSV bytes and the same XLSX figures, to a viewer of the field's operator.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from anh_reporter.api.security import hash_password
from anh_reporter.config import get_settings
from anh_reporter.production.manual import add_entry
from anh_reporter.production.well_entries import add_well_test
from anh_reporter.reports import service
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.cli import app as report_app
from anh_reporter.reports.verify import verify_file
from anh_reporter.site import Site
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into

from ..api.conftest import PASSWORD, bearer, login, make_app
from ..production.helpers import FIELD, prove_meters
from ..production.wells_site import wells_site_dict
from .helpers import context

D = Decimal
DAYS = (dt.date(2026, 2, 2), dt.date(2026, 2, 3), dt.date(2026, 2, 4))
NOW = dt.datetime(2026, 2, 6, tzinfo=dt.UTC)  # every day is over
VOLUMES = {  # (oil, gas, water) of each day, as typed
    DAYS[0]: ("1000.00", "1500.00", "250.00"),
    DAYS[1]: ("1050.00", "1400.00", "260.00"),
    DAYS[2]: ("900.00", "1300.00", "240.00"),
}
AMENDED_OIL = "1100.00"
TESTS = {  # oil bbl/d, gas kscf/d, water bbl/d, tested on 2026-02-01
    "W-1": ("400", "600", "50"),
    "W-2": ("500", "500", "100"),
    "W-3": ("360", "500", "40"),
    "W-4": ("240", "300", "60"),
}
WELLS = sorted(TESTS)
ROW = {"oil": "oil_net_bbl", "gas": "gas_kpc", "water": "water_bbl"}
CSV_COLUMN = {
    "oil": "Petróleo del mes (Bls)", "gas": "Gas del mes (KPC)", "water": "Agua del mes (Bls)",
}  # fmt: skip


def type_the_days(conn: Any) -> int:
    """Load the site (W-3 known to the ANH as CDL-0003), test the wells, type each day's hours
    and volumes; the day-2 oil entry."""
    site = wells_site_dict()
    site["fields"][0]["wells"][2]["avm_code"] = "CDL-0003"
    load_site_into(conn, Site.model_validate(site), changed_by="test")
    prove_meters(conn)
    for well, (oil, gas, water) in TESTS.items():
        add_well_test(
            conn, field_code=FIELD, well_code=well, tested_on=dt.date(2026, 2, 1),
            duration_h="12", oil_bbl_d=oil, gas_kscf_d=gas, water_bbl_d=water,
            tested_by="Ing. Pruebas", entered_by="test",
        )  # fmt: skip
    day2_oil = 0
    for day, (oil, gas, water) in VOLUMES.items():
        for well in WELLS:
            add_entry(
                conn, field_code=FIELD, day=day, kind="well_hours_on", value="24",
                well_code=well, entered_by="test", reason="parte diario", recompute=False,
            )  # fmt: skip
        for pmo, kind, value, level in (
            ("PMO-OIL", "oil_volume", oil, "nsv"),
            ("PMO-GAS", "gas_volume", gas, "gsv"),
            ("PMO-WATER", "water_volume", water, "gsv"),
        ):
            added = add_entry(
                conn, field_code=FIELD, day=day, kind=kind, value=value, pmo_code=pmo,
                level=level, entered_by="test", reason="volumen del día", recompute=False,
            )  # fmt: skip
            if day == DAYS[1] and pmo == "PMO-OIL":
                day2_oil = added.entry.id
    return day2_oil


SPANISH = {"wells": "pozos", "code": "codigo", "oil_net_bbl": "crudo_neto_bls",
           "gas_kpc": "gas_kpc", "water_bbl": "agua_bls"}  # fmt: skip
"""The keys read here as the anh-es-1.0 profile names them (docs/reports.md's mapping)."""


def figures(path: Path, profile: str) -> dict[str, dict[str, D]]:
    """Each well's oil, gas and water as the signed file says (verified first), read with the
    key names of the profile it was signed in."""
    assert verify_file(path).ok, path
    doc = parse(path.read_bytes())
    assert isinstance(doc, dict) and doc["profile"] == profile
    key = (lambda k: SPANISH[k]) if profile == "anh-es-1.0" else (lambda k: k)
    return {
        w[key("code")]: {f: D(w[key(name)]) for f, name in ROW.items()} for w in doc[key("wells")]
    }


def run_monthly(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`report monthly` writes the month's CSV and XLSX, as an operator would run it."""
    monkeypatch.setenv("ANH_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        for fmt in ("csv", "xlsx"):
            args = ["monthly", "--field", FIELD, "--month", "2026-02", "--format", fmt]
            result = runner.invoke(report_app, [*args, "--out", str(tmp_path / f"9sh.{fmt}")])
            assert result.exit_code == 0, result.output
    finally:
        get_settings.cache_clear()


async def api_forma9sh(db: Database, tmp_path: Path) -> dict[str, bytes]:
    """The month's CSV and XLSX as the API serves them to a viewer of the field's operator."""
    email = "visor@wells.example"
    with db.connect() as conn:
        sql = "SELECT id, operator_id FROM fields WHERE code = %s"
        row = conn.execute(sql, (FIELD,)).fetchone()
        assert row is not None
        field_id, operator = int(row[0]), int(row[1])
        conn.execute(
            "INSERT INTO users (email, password_hash, operator_id, role, all_fields) "
            "VALUES (%s, %s, %s, 'viewer', true)",
            (email, hash_password(PASSWORD), operator),
        )
        conn.commit()
    app = make_app(db, tmp_path / "api")
    out: dict[str, bytes] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            auth = bearer((await login(client, email))["access_token"])
            for fmt in ("csv", "xlsx"):
                r = await client.get(
                    f"/api/v1/reports/fields/{field_id}/forma9sh/2026-02",
                    params={"format": fmt}, headers=auth,
                )  # fmt: skip
                assert r.status_code == 200, r.text
                out[fmt] = r.content
    return out


def xlsx_figures(data: bytes) -> dict[str, dict[str, D]]:
    """Each row's (wells, then TOTAL CAMPO) oil, gas and water in a Forma 9SH workbook."""
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = [str(c) for c in cells[0]]
    column = {f: header.index(CSV_COLUMN[f]) for f in ROW}
    well_at = header.index("Pozo")
    # XLSX stores numbers as doubles: a figure to 0.01 below 10^13 reads back exactly.
    return {
        str(r[well_at]): {f: D(repr(r[column[f]])).quantize(D("0.01")) for f in ROW}
        for r in cells[1:]
    }


@pytest.mark.parametrize("profile", ["idp-1.2", "anh-es-1.0"])
async def test_forma9sh_adds_up_three_signed_days_counting_the_amended_version(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    ctx = context(tmp_path / "reports")
    with db.connect() as conn:
        day2_oil = type_the_days(conn)
        conn.execute("UPDATE fields SET report_profile = %s WHERE code = %s", (profile, FIELD))
        signed = {
            day: service.generate(
                conn, field_code=FIELD, day=day, context=ctx, created_by="t", now=NOW
            )
            for day in DAYS
        }
        # Day 2's oil was 1,050.00 as typed: corrected to 1,100.00, the day amended.
        add_entry(
            conn, field_code=FIELD, day=DAYS[1], kind="oil_volume", value=AMENDED_OIL,
            pmo_code="PMO-OIL", level="nsv", entered_by="test", reason="ticket corregido",
            replaces=day2_oil,
        )  # fmt: skip
        amended = service.amend(
            conn, field_code=FIELD, day=DAYS[1], reason="volumen de crudo corregido",
            context=ctx, created_by="t", now=NOW,
        )  # fmt: skip
    assert [signed[d].version for d in DAYS] == [1, 1, 1] and amended.version == 2
    # The latest signed version of each day: day 2's amendment, days 1 and 3 as first signed.
    paths = [signed[DAYS[0]].path, amended.path, signed[DAYS[2]].path, signed[DAYS[1]].path]
    latest_1, latest_2, latest_3, day2_v1 = (figures(p, profile) for p in paths if p is not None)
    files = dict(zip(DAYS, (latest_1, latest_2, latest_3), strict=True))
    # Day 2's versions: the four wells share 1,050.00 bbl in version 1, 1,100.00 in version 2.
    assert sum((w["oil"] for w in day2_v1.values()), D(0)) == D("1050.00")
    assert sum((w["oil"] for w in files[DAYS[1]].values()), D(0)) == D(AMENDED_OIL)

    expected = {
        well: {f: sum((files[d][well][f] for d in DAYS), D(0)) for f in ROW} for well in WELLS
    }
    # The field: the typed volumes, the amended oil counted (module docstring).
    field = {f: sum((expected[w][f] for w in WELLS), D(0)) for f in ROW}
    assert field == {"oil": D("3000.00"), "gas": D("4200.00"), "water": D("750.00")}

    run_monthly(db, tmp_path, monkeypatch)
    text = (tmp_path / "9sh.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    by_well = {r["Pozo"]: r for r in rows}
    assert list(by_well) == [*WELLS, "TOTAL CAMPO"]  # the wells, then the total row
    # The ANH's code of each well: the site file's avm_code (W-3's), else the well's code.
    assert {w: by_well[w]["Código AVM"] for w in WELLS} == {
        "W-1": "W-1", "W-2": "W-2", "W-3": "CDL-0003", "W-4": "W-4",
    }  # fmt: skip
    for well in WELLS:
        got = {f: D(by_well[well][CSV_COLUMN[f]]) for f in ROW}
        assert got == expected[well], well
        assert by_well[well]["Días de producción"] == "3"
        assert D(by_well[well]["Horas de producción"]) == 72
        # Nothing signed before the month: the cumulative is the month.
        assert D(by_well[well]["Petróleo acumulado (Bls)"]) == expected[well]["oil"]
    total = by_well["TOTAL CAMPO"]
    assert {f: D(total[CSV_COLUMN[f]]) for f in ROW} == field

    book = xlsx_figures((tmp_path / "9sh.xlsx").read_bytes())
    assert list(book) == [*WELLS, "TOTAL CAMPO"]
    for well in [*WELLS, "TOTAL CAMPO"]:
        assert book[well] == (field if well == "TOTAL CAMPO" else expected[well]), well

    # The API route: the same CSV, byte for byte, and the same figures in its workbook.
    served = await api_forma9sh(db, tmp_path)
    assert served["csv"] == (tmp_path / "9sh.csv").read_bytes()
    assert xlsx_figures(served["xlsx"]) == book
