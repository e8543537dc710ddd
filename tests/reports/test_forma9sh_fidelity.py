"""The Forma 9SH says what was signed: unallocated production, unknown hours and volumes.

On PostgreSQL with the wells site of test_forma9sh_signed.py (W-1 to W-4 tested 2026-02-01;
oil, gas and water PMOs typed by hand):

| day | profile | hours on (each well) | oil | gas | water |
|---|---|---|---|---|---|
| 2026-02-02 | idp-1.3 | 24 | 1,000.00 | 1,500.00 | 250.00 |
| 2026-02-03 | idp-1.3 | none entered (none known) | 1,050.00 | 1,400.00 | 260.00 |
| 2026-02-04 | idp-1.1 (no hours in the document) | 24 | 900.00 | 1,300.00 | 240.00 |

Field production signed: oil 1,000.00 + 1,050.00 + 900.00 = 2,950.00 bbl; gas 1,500.00 +
1,400.00 + 1,300.00 = 4,200.00 kscf; water 250.00 + 260.00 + 240.00 = 750.00 bbl. 2026-02-03's
volumes went to no well: the ``SIN ASIGNAR`` row holds oil 1,050.00, gas 1,400.00, water 260.00,
and TOTAL CAMPO is the field's 2,950.00 / 4,200.00 / 750.00, not the wells' 1,900.00 / 2,800.00 /
490.00. Neither 2026-02-03 (no hours known) nor 2026-02-04 (a profile without hours) gives
the wells' hours: every well's hours and days on production are empty, not 24 h / 1 day.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from anh_reporter.allocation.forma9sh import WellMaster, monthly_form
from anh_reporter.allocation.forma9sh_files import to_csv, to_xlsx
from anh_reporter.production.manual import add_entry
from anh_reporter.reports import service
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.monthly import daily_figures, field_month, unallocated_days
from anh_reporter.site import Site
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into

from ..production.helpers import FIELD, prove_meters
from ..production.wells_site import wells_site_dict
from .helpers import context
from .test_forma9sh_signed import NOW, TESTS, WELLS

D = Decimal
DAYS: dict[dt.date, tuple[str, str | None, str, str, str]] = {
    # day: (profile, hours on of each well typed by hand, oil, gas, water)
    dt.date(2026, 2, 2): ("idp-1.3", "24", "1000.00", "1500.00", "250.00"),
    dt.date(2026, 2, 3): ("idp-1.3", None, "1050.00", "1400.00", "260.00"),
    dt.date(2026, 2, 4): ("idp-1.1", "24", "900.00", "1300.00", "240.00"),
}
COLUMN = {
    "oil": "Petróleo del mes (Bls)",
    "gas": "Gas del mes (KPC)",
    "water": "Agua del mes (Bls)",
}
TOTALS = {"oil": "oil_net_bbl", "gas": "gas_kpc"}


def sign_the_days(conn: Any, tmp_path: Path) -> list[dict[str, Any]]:
    """Type and sign each day in its profile; the signed documents (as signed)."""
    from anh_reporter.production.well_entries import add_well_test

    load_site_into(conn, Site.model_validate(wells_site_dict()), changed_by="test")
    prove_meters(conn)
    for well, (oil, gas, water) in TESTS.items():
        add_well_test(
            conn, field_code=FIELD, well_code=well, tested_on=dt.date(2026, 2, 1),
            duration_h="12", oil_bbl_d=oil, gas_kscf_d=gas, water_bbl_d=water,
            tested_by="Ing. Pruebas", entered_by="test",
        )  # fmt: skip
    ctx = context(tmp_path / "reports")
    docs = []
    for day, (profile, hours, oil, gas, water) in DAYS.items():
        for well in WELLS if hours is not None else ():
            add_entry(
                conn, field_code=FIELD, day=day, kind="well_hours_on", value=hours,
                well_code=well, entered_by="test", reason="parte diario", recompute=False,
            )  # fmt: skip
        for pmo, kind, value, level in (
            ("PMO-OIL", "oil_volume", oil, "nsv"),
            ("PMO-GAS", "gas_volume", gas, "gsv"),
            ("PMO-WATER", "water_volume", water, "gsv"),
        ):
            add_entry(
                conn, field_code=FIELD, day=day, kind=kind, value=value, pmo_code=pmo,
                level=level, entered_by="test", reason="volumen del día", recompute=False,
            )  # fmt: skip
        conn.execute("UPDATE fields SET report_profile = %s WHERE code = %s", (profile, FIELD))
        signed = service.generate(
            conn, field_code=FIELD, day=day, context=ctx, created_by="t", now=NOW
        )
        assert signed.path is not None
        docs.append(parse(signed.path.read_bytes()))
    return docs


def test_the_form_counts_what_was_signed_unallocated_and_without_hours(
    db: Database, tmp_path: Path
) -> None:
    with db.connect() as conn:
        docs = sign_the_days(conn, tmp_path)
        form = field_month(conn, FIELD, "2026-02")
    # 2026-02-03 as signed: nothing on any well row, all three PMOs unallocated.
    day3 = docs[1]
    assert {(p["fluid"], D(str(p["unallocated"]))) for p in day3["allocation"]["pmos"]} == {
        ("oil", D("1050.00")), ("gas", D("1400.00")), ("water", D("260.00")),
    }  # fmt: skip
    field = {
        "oil": sum((D(str(d["totals"]["oil_net_bbl"])) for d in docs), D(0)),
        "gas": sum((D(str(d["totals"]["gas_kpc"])) for d in docs), D(0)),
        "water": sum((D(str(d["totals"]["water_net_bbl"])) for d in docs), D(0)),
    }
    assert field == {"oil": D("2950.00"), "gas": D("4200.00"), "water": D("750.00")}

    rows = list(csv.DictReader(io.StringIO(to_csv(form).decode("utf-8"))))
    by = {r["Pozo"]: r for r in rows}
    assert list(by) == [*WELLS, "SIN ASIGNAR", "TOTAL CAMPO"]
    total, left = by["TOTAL CAMPO"], by["SIN ASIGNAR"]
    assert {f: D(total[c]) for f, c in COLUMN.items()} == field
    assert {f: D(left[c]) for f, c in COLUMN.items()} == {
        "oil": D("1050.00"), "gas": D("1400.00"), "water": D("260.00"),
    }  # fmt: skip
    # Told apart from a well: "Código AVM" is empty (a well's never is), no hours, no days.
    assert (left["Código AVM"], left["Días de producción"], left["Horas de producción"]) == (
        "", "", "",
    )  # fmt: skip
    assert all(by[w]["Código AVM"] for w in WELLS)
    # Its cumulative at the volumes' increment, and no ratio (no well's): "0.00", "".
    assert left["Gas acumulado (KPC)"] == "1400.00"
    assert (left["BSW (%)"], left["RGP (PCS/Bl)"]) == ("", "")
    # The wells' rows: 2026-02-02 and 2026-02-04 (each well's share; 2026-02-03 gave 0.00).
    wells_oil = sum((D(by[w][COLUMN["oil"]]) for w in WELLS), D(0))
    assert wells_oil == D("1000.00") + D("900.00")
    # Hours: 2026-02-03 has none known, 2026-02-04 (idp-1.1) none at all: empty, not 24 h.
    for w in WELLS:
        assert (by[w]["Días de producción"], by[w]["Horas de producción"]) == ("", ""), w
        assert by[w]["Estado del pozo"] == ""  # the month's last day says no status
    assert total["Horas de producción"] == ""

    findings = {(f.code, f.target): f.message for f in form.findings}
    assert findings[("month_volume_unallocated", FIELD)] == (
        "production the signed days left to no well: oil 1050.00 bbl (2026-02-03); gas 1400.00 "
        "kscf (2026-02-03); water 260.00 bbl (2026-02-03): listed as 'SIN ASIGNAR', counted in "
        "the field total"
    )
    assert findings[("month_hours_unknown", "W-1")].startswith(
        "2026-02-03..2026-02-04 signed without the well's hours on"
    )

    # The XLSX: the same numbers as numbers, the same empty cells.
    sheet = load_workbook(io.BytesIO(to_xlsx(form))).active
    assert sheet is not None
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = [str(c) for c in cells[0]]
    for row, line in zip(rows, cells[1:], strict=True):
        for name, value in row.items():
            got = line[header.index(name)]
            if value == "":
                assert got is None, (row["Pozo"], name)
            elif isinstance(got, float | int):
                assert D(repr(got)).quantize(D("0.00001")) == D(value).quantize(D("0.00001"))


def _doc(day: str, wells: list[dict[str, Any]], *, gas_pmo: bool) -> dict[str, Any]:
    pmos = [{"code": "OIL", "kind": "oil", "oil_net_bbl": "300.00", "api_gravity": "25.0"}]
    if gas_pmo:
        pmos.append({"code": "GAS", "kind": "gas", "gas_kpc": "50.00"})
    return {"contract_day": {"date": day}, "pmos": pmos, "wells": wells,
            "allocation": {"pmos": [{"fluid": "oil", "unallocated": "0.00"}]}}  # fmt: skip


def _w(code: str, oil: str, gas: str | None, gas_pmo: bool) -> dict[str, Any]:
    pmos = {"oil": "OIL", **({"gas": "GAS"} if gas_pmo else {})}
    return {"code": code, "pmo": "OIL", "pmos": pmos, "oil_net_bbl": oil, "gas_kpc": gas,
            "gor_scf_bbl": None, "water_bbl": None, "hours_on": "24",
            "status": "producing"}  # fmt: skip


@pytest.mark.parametrize("mixed", [False, True])
def test_unknown_gas_is_empty_not_zero(mixed: bool) -> None:
    """No gas meter: every day's gas is null, as is the water (no water PMO). The form leaves
    the well's and the total's gas, cumulative gas, RGP and water empty. With a gas meter on
    one of the two days (50.00 kscf): the month is that day's 50.00, warned."""
    docs = [
        _doc("2026-03-01", [_w("A", "100.00", None, False)], gas_pmo=False),
        _doc("2026-03-02", [_w("A", "200.00", "50.00" if mixed else None, mixed)], gas_pmo=mixed),
    ]
    form = monthly_form(
        field_code="F", contract="C", year=2026, month=3,
        wells=[WellMaster("A", "Pozo A", "50568", "esp")], dailies=daily_figures(docs),
        unallocated=unallocated_days(docs),
    )  # fmt: skip
    assert form.unallocated is None  # nothing was left unallocated
    lines = list(csv.DictReader(io.StringIO(to_csv(form).decode("utf-8"))))
    a, total = lines
    assert (a["Petróleo del mes (Bls)"], total["Petróleo del mes (Bls)"]) == ("300.00", "300.00")
    assert (a["Agua del mes (Bls)"], total["Agua del mes (Bls)"], a["BSW (%)"]) == ("", "", "")
    gas = [a["Gas del mes (KPC)"], a["Gas acumulado (KPC)"], total["Gas del mes (KPC)"]]
    if mixed:
        # 50.00 kscf on 300.00 bbl: RGP 50,000 / 300 = 166.7 scf/bbl.
        assert gas == ["50.00", "50.00", "50.00"] and a["RGP (PCS/Bl)"] == "166.7"
        (note,) = [f for f in form.findings if " gas " in f.message]
        assert note.message.startswith("2026-03-01 signed without the well's gas") and (
            "sum of the other 1 signed day(s)" in note.message
        )
    else:
        assert gas == ["", "", ""] and a["RGP (PCS/Bl)"] == "" and total["RGP (PCS/Bl)"] == ""
