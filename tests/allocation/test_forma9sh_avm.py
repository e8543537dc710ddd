"""The Forma 9SH's "Código AVM": the code the signed days carry, never one they do not, unsaid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from anh_reporter.allocation.findings import Code, Severity
from anh_reporter.allocation.forma9sh import (
    WellDailyFigures,
    WellMaster,
    avm_code_of_month,
    monthly_form,
)
from anh_reporter.allocation.hours_on import WellStatus

NOW_CODE = WellMaster("W-3", "Pozo 3", "50568", "pcp", avm_code="CDL-0033")
"""W-3's master data today: CDL-0033 (it was CDL-0003 earlier in the month)."""


def day(n: int, avm: str | None) -> WellDailyFigures:
    """W-3 on 2026-02-``n``, 24 h, 10 bbl oil, carrying AVM code ``avm``."""
    return WellDailyFigures(
        "W-3", dt.date(2026, 2, n), Decimal(24), Decimal(10), Decimal(0), Decimal(0),
        WellStatus.PRODUCING, avm_code=avm,
    )  # fmt: skip


def test_the_code_of_the_signed_days_not_the_master_datas() -> None:
    """Days 2..3 signed with CDL-0003, the master data now CDL-0033: the form lists CDL-0003,
    with no note (one code all month)."""
    code, note = avm_code_of_month(NOW_CODE, [day(2, "CDL-0003"), day(3, "CDL-0003")], "2026-02")
    assert (code, note) == ("CDL-0003", None)


def test_a_code_changed_within_the_month_is_the_latest_days_and_said() -> None:
    """CDL-0003 on the 2nd, 3rd and 5th, CDL-0033 on the 6th (the latest signed day): the form
    lists CDL-0033 and a note names each code with its days (runs: 02..03, then 05)."""
    days = [day(2, "CDL-0003"), day(3, "CDL-0003"), day(5, "CDL-0003"), day(6, "CDL-0033")]
    code, note = avm_code_of_month(NOW_CODE, days, "2026-02")
    assert code == "CDL-0033"
    assert note is not None
    assert (note.code, note.severity, note.target) == (
        Code.MONTH_AVM_CODE_CHANGED, Severity.INFO, "W-3",
    )  # fmt: skip
    assert note.message == (
        "the well's AVM code changed within 2026-02 ('CDL-0003' on 2026-02-02..2026-02-03, "
        "2026-02-05; 'CDL-0033' on 2026-02-06): the form lists 'CDL-0033', the code of its "
        "latest signed day"
    )


def test_a_day_without_a_code_counts_with_the_master_datas() -> None:
    """A day that carries no code (a profile before idp-1.3, read without the database) counts
    with the master's code, else the well's own."""
    assert avm_code_of_month(NOW_CODE, [day(2, None)], "2026-02") == ("CDL-0033", None)
    plain = WellMaster("W-3", "Pozo 3", "50568", "pcp")
    assert avm_code_of_month(plain, [day(2, None)], "2026-02") == ("W-3", None)


def test_the_form_row_and_a_well_without_signed_days() -> None:
    """In the form: W-3's row lists the latest day's code and the month's note; W-4, with no
    signed day, lists its master data's code and its missing-days warning says so."""
    w4 = WellMaster("W-4", "Pozo 4", "50568", "pcp", avm_code="CDL-0004")
    form = monthly_form(
        field_code="CDL", contract="C-1", year=2026, month=2, wells=[NOW_CODE, w4],
        dailies=[day(2, "CDL-0003"), day(3, "CDL-0033")],
    )  # fmt: skip
    assert [(r.well, r.avm_code) for r in form.rows] == [("W-3", "CDL-0033"), ("W-4", "CDL-0004")]
    codes = [(f.code, f.target) for f in form.findings]
    assert (Code.MONTH_AVM_CODE_CHANGED, "W-3") in codes
    (w4_note,) = [f for f in form.findings if f.target == "W-4"]
    assert w4_note.message == (
        "0 of 28 days have signed figures in 2026-02: the month adds only those; its AVM code "
        "is its master data's ('CDL-0004'), which no signed day carries"
    )
