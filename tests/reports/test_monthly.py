"""Forma 9SH from the signed daily reports: its totals are the sums of the signed figures."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from anh_reporter.allocation.forma9sh import monthly_form
from anh_reporter.allocation.forma9sh_files import to_csv
from anh_reporter.config import get_settings
from anh_reporter.reports.cli import app as report_app
from anh_reporter.reports.errors import ReportError
from anh_reporter.reports.monthly import daily_figures, field_month, parse_month
from anh_reporter.storage.database import Database

from ..production.helpers import FIELD, prove_meters
from ..production.wells_site import wells_day
from .helpers import context, generate

Conn = psycopg.Connection[object]
D = Decimal


def _doc(day: str, wells: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "contract_day": {"date": day},
        "pmos": [{"code": "OIL", "api_gravity": D("20.0")}],
        "wells": wells,
    }


def _w(code: str, oil: str, gas: str, water: str, hours: str) -> dict[str, Any]:
    return {
        "code": code, "pmo": "OIL", "pmos": {"oil": "OIL"}, "oil_net_bbl": D(oil),
        "gas_kpc": D(gas), "water_bbl": D(water), "hours_on": D(hours), "status": "producing",
    }  # fmt: skip


def test_month_totals_are_the_sums_of_the_signed_days_by_hand() -> None:
    from anh_reporter.allocation.forma9sh import WellMaster

    docs = [
        _doc("2026-11-01", [_w("A", "100.01", "50.00", "10.00", "24"),
                            _w("B", "0.00", "0", "0", "0")]),
        _doc("2026-11-02", [_w("A", "99.99", "49.50", "10.50", "23.5"),
                            _w("B", "10.33", "1.11", "0.01", "12")]),
    ]  # fmt: skip
    form = monthly_form(
        field_code="F", contract="C", year=2026, month=11,
        wells=[WellMaster("A", "Pozo A", "50568", "esp"),
               WellMaster("B", "Pozo B", "50568", "pcp")],
        dailies=daily_figures(docs),
    )  # fmt: skip
    a, b = form.rows
    # A: 100.01 + 99.99 = 200.00 bbl; 50.00 + 49.50 = 99.50 kscf; 10.00 + 10.50 = 20.50 bbl.
    assert (a.oil_bbl, a.gas_kscf, a.water_bbl, a.days_on, a.hours_on) == (
        D("200.00"), D("99.50"), D("20.50"), 2, D("47.5"),
    )  # fmt: skip
    # B produced one day of the two: 10.33 bbl.
    assert (b.oil_bbl, b.days_on) == (D("10.33"), 1)
    # Field: 200.00 + 10.33 = 210.33 bbl, exactly the four signed oil figures' sum.
    assert form.total.oil_bbl == D("210.33")
    assert form.total.water_bbl == D("20.51")
    text = to_csv(form).decode()
    assert "210.33" in text.splitlines()[-1]


def test_parse_month() -> None:
    assert parse_month("2026-11") == (2026, 11)
    with pytest.raises(ReportError, match="month '2026-13' is not YYYY-MM"):
        parse_month("2026-13")
    with pytest.raises(ReportError, match=r"year 1 is outside \[1970, 2199\]"):
        parse_month("0001-01")


def test_forma9sh_of_a_signed_month(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.connect() as conn:
        wells_day(conn)
        prove_meters(conn)
        signed = generate(conn, context(tmp_path))
        form = field_month(conn, FIELD, "2026-02")
    assert signed.path is not None
    rows = {r.well: r for r in form.rows}
    # One signed day (2026-02-02): the month is that day; the others are missing (warned).
    assert (rows["W-1"].oil_bbl, rows["W-1"].gas_kscf, rows["W-1"].days_on) == (
        D("300.24"), D("450.00"), 1,
    )  # fmt: skip
    # W-4 was on 24 h (typed by hand) but has no test: a day on production, no volume.
    assert (rows["W-4"].oil_bbl, rows["W-4"].days_on) == (D(0), 1)
    assert form.total.oil_bbl == D("980.78")
    assert rows["W-3"].municipality_dane == "50001"
    assert any(f.code == "month_days_missing" for f in form.findings)

    monkeypatch.setenv("ANH_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        for fmt in ("csv", "xlsx"):
            out = tmp_path / f"f.{fmt}"
            args = ["monthly", "--field", FIELD, "--month", "2026-02", "--format", fmt]
            result = runner.invoke(report_app, [*args, "--out", str(out)])
            assert result.exit_code == 0, result.output
    finally:
        get_settings.cache_clear()
    table = list(csv.reader(io.StringIO((tmp_path / "f.csv").read_text(encoding="utf-8"))))
    assert table[0][:4] == ["Mes", "Contrato", "Campo", "Pozo"]
    assert "TOTAL CAMPO" in table[-1] and "980.78" in table[-1]
    sheet = load_workbook(tmp_path / "f.xlsx").active
    assert sheet is not None and sheet.max_row == 6  # header, four wells, total
