"""Forma 9SH: monthly per-well rows whose totals equal the sum of the daily figures exactly."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.findings import Code
from anh_reporter.allocation.forma9sh import (
    Cumulative,
    Forma9sh,
    WellDailyFigures,
    WellMaster,
    monthly_form,
)
from anh_reporter.allocation.forma9sh_files import COLUMNS, to_csv, to_xlsx
from anh_reporter.allocation.hours_on import WellStatus

from .helpers import D

MASTERS = (
    WellMaster("W-1", "Caño Dulce 1", "50568", "esp"),
    WellMaster("W-2", "Caño Dulce 2", "50568", "rod_pump"),
)


def w1_days() -> list[WellDailyFigures]:
    """W-1 produces every day of November 2026 with awkward cents."""
    return [
        WellDailyFigures(
            "W-1",
            dt.date(2026, 11, day),
            hours_on=D(24),
            oil_bbl=Decimal(123_457 + 731 * day) / 100,
            gas_kscf=Decimal(18_503 + 97 * day) / 100,
            water_bbl=Decimal(411_119 + 1_003 * day) / 100,
            status=WellStatus.PRODUCING,
            api_gravity=D("15.2"),
        )
        for day in range(1, 31)
    ]


def w2_days() -> list[WellDailyFigures]:
    """Three days of W-2 (the hand-worked row)."""
    return [
        WellDailyFigures(
            "W-2",
            dt.date(2026, 11, 1),
            D(24),
            D("100.00"),
            D("15.00"),
            D("25.00"),
            WellStatus.PRODUCING,
            D("20.0"),
            D("110.00"),
        ),
        WellDailyFigures(
            "W-2",
            dt.date(2026, 11, 2),
            D(12),
            D("40.00"),
            D("6.00"),
            D("10.00"),
            WellStatus.PRODUCING,
            D("22.0"),
            D("40.00"),
        ),
        WellDailyFigures(
            "W-2",
            dt.date(2026, 11, 3),
            D(0),
            D("0.00"),
            D("0.00"),
            D("0.00"),
            WellStatus.SHUT_IN,
            None,
            D("0.00"),
        ),
    ]


def form() -> Forma9sh:
    return monthly_form(
        field_code="CAMPO-DEMO",
        contract="LLA-DEMO-2019",
        year=2026,
        month=11,
        wells=MASTERS,
        dailies=[*w2_days(), *w1_days()],
        opening={"W-2": Cumulative(D("10000.00"), D("1500.00"), D("2500.00"))},
    )


def test_hand_worked_row() -> None:
    """W-2: oil 100 + 40 + 0 = 140.00, gas 21.00, water 35.00; BSW 35 / 175 = 20.00 %;
    GOR 21 000 / 140 = 150.0 scf/bbl; API (20.0 × 100 + 22.0 × 40) / 140 = 20.57 → 20.6;
    2 days on (36 h); shut in at the month's end; cumulative oil 10 000 + 140 = 10 140.00;
    correction factor 140 / (110 + 40 + 0) = 0.93333."""
    row = form().rows[1]
    assert row.well == "W-2"
    assert (row.oil_bbl, row.gas_kscf, row.water_bbl) == (D("140.00"), D("21.00"), D("35.00"))
    assert (row.bsw_pct, row.gor_scf_bbl, row.api_gravity) == (D("20.00"), D("150.0"), D("20.6"))
    assert (row.days_on, row.hours_on, row.status) == (2, D(36), "shut_in")
    assert row.oil_cumulative_bbl == D("10140.00")
    assert row.water_cumulative_bbl == D("2535.00")
    assert row.correction_factor == D("0.93333")
    assert row.days_reported == 3


def test_totals_equal_the_sum_of_the_dailies_exactly() -> None:
    days = [*w1_days(), *w2_days()]
    got = form()
    assert got.total.oil_bbl == sum((d.oil_bbl for d in days), Decimal(0))
    assert got.total.gas_kscf == sum((d.gas_kscf for d in days), Decimal(0))
    assert got.total.water_bbl == sum((d.water_bbl for d in days), Decimal(0))
    w1 = got.rows[0]
    assert w1.oil_bbl == sum((d.oil_bbl for d in w1_days()), Decimal(0))
    assert w1.days_on == 30 and w1.correction_factor is None
    assert w1.oil_cumulative_bbl == w1.oil_bbl  # no opening cumulative: starts at 0
    assert got.cumulative()["W-2"].oil_bbl == D("10140.00")


def test_missing_days_are_flagged() -> None:
    (finding,) = form().findings
    assert finding.code is Code.MONTH_DAYS_MISSING and finding.target == "W-2"
    assert "3 of 30 days" in finding.message


@pytest.mark.parametrize(
    ("daily", "message"),
    [
        (
            WellDailyFigures(
                "W-9", dt.date(2026, 11, 1), D(1), D(1), D(1), D(1), WellStatus.PRODUCING
            ),
            "well 'W-9' on 2026-11-01, which is not among",
        ),
        (
            WellDailyFigures(
                "W-1", dt.date(2026, 12, 1), D(1), D(1), D(1), D(1), WellStatus.PRODUCING
            ),
            "fall outside 2026-11",
        ),
        (w1_days()[0], "are given twice"),
    ],
)
def test_bad_dailies(daily: WellDailyFigures, message: str) -> None:
    with pytest.raises(AllocationError, match=message):
        monthly_form(
            field_code="F",
            contract="C",
            year=2026,
            month=11,
            wells=MASTERS,
            dailies=[*w1_days(), daily],
        )


def test_csv_has_the_spanish_headers_and_the_total_row() -> None:
    got = form()
    rows = list(csv.reader(io.StringIO(to_csv(got).decode("utf-8"))))
    assert rows[0] == [header for _, header in COLUMNS]
    assert rows[0][:4] == ["Mes", "Contrato", "Campo", "Pozo"]
    assert "Petróleo del mes (Bls)" in rows[0] and "RGP (PCS/Bl)" in rows[0]
    w2 = dict(zip(rows[0], rows[2], strict=True))
    assert w2["Pozo"] == "W-2"
    assert w2["Método de producción"] == "Bombeo mecánico"
    assert w2["Estado del pozo"] == "Cerrado"
    assert w2["Petróleo del mes (Bls)"] == "140.00"
    # Hours signed as 24, 12, 0 (before the report gave every figure its increment) are
    # written at 0.01 h: 24 + 12 + 0 = 36.00; W-1's 30 days of 24 h are 720.00.
    assert w2["Horas de producción"] == "36.00"
    assert dict(zip(rows[0], rows[1], strict=True))["Horas de producción"] == "720.00"
    assert dict(zip(rows[0], rows[-1], strict=True))["Horas de producción"] == "756.00"
    assert w2["Municipio (código DANE)"] == "50568"
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert total["Pozo"] == "TOTAL CAMPO"
    assert Decimal(total["Petróleo del mes (Bls)"]) == got.total.oil_bbl
    assert total["Días de producción"] == ""


def test_csv_headers_can_follow_another_layout() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(form(), headers={"well": "POZO"}).decode())))
    assert rows[0][3] == "POZO"
    with pytest.raises(AllocationError, match=r"unknown columns \['nope'\]"):
        to_csv(form(), headers={"nope": "x"})


def test_xlsx_round_trip() -> None:
    got = form()
    book = load_workbook(io.BytesIO(to_xlsx(got)))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "Forma 9SH 2026-11"
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == [header for _, header in COLUMNS]
    oil = [header for _, header in COLUMNS].index("Petróleo del mes (Bls)")
    assert values[-1][3] == "TOTAL CAMPO"
    assert Decimal(str(values[-1][oil])) == got.total.oil_bbl
    assert Decimal(str(values[2][oil])) == D("140.00")
    assert sheet.cell(row=2, column=oil + 1).number_format == "0.00"


def test_the_production_method_is_the_one_the_signed_days_carry() -> None:
    """W-2 is a rod pump in the master data today; its November days were signed as a PCP
    (converted since): the form shows what the signed days say, the latest one's."""
    import dataclasses

    days = [dataclasses.replace(d, production_method="pcp") for d in w2_days()]
    got = monthly_form(
        field_code="CAMPO-DEMO", contract="LLA-DEMO-2019", year=2026, month=11, wells=MASTERS,
        dailies=[*days, *w1_days()],
    )  # fmt: skip
    assert [(r.well, r.production_method) for r in got.rows[:2]] == [("W-1", "esp"), ("W-2", "pcp")]
