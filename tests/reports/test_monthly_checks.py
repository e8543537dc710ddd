"""The Forma 9SH refuses a month written otherwise than YYYY-MM, and a month not yet started.

The test field's contract day runs 06:00 to 06:00 America/Bogota (11:00 to 11:00 UTC): at
2026-02-01T10:59 UTC (05:59 local) the contract day is still 2026-01-31, so February has not
started; at 11:00 UTC it is 2026-02-01 and February is a month in progress.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import psycopg
import pytest

from anh_reporter import cli
from anh_reporter.reports.errors import ReportError
from anh_reporter.reports.monthly import NoSignedReport, field_month, parse_month
from anh_reporter.storage.database import Database

from ..production.helpers import FIELD, load_test_site

Conn = psycopg.Connection[object]


@pytest.mark.parametrize(
    "text", ["2026-1", "2026-001", "26-01", "2026-01-01", "+2026-01", "２０２６-01"]
)
def test_a_month_is_exactly_yyyy_mm(text: str) -> None:
    with pytest.raises(
        ReportError, match=rf"^month '{re.escape(text)}' is not YYYY-MM \(e\.g\. 2026-11\)$"
    ):
        parse_month(text)
    assert parse_month("2026-01") == (2026, 1)


def test_a_month_that_has_not_started_is_refused(conn: Conn) -> None:
    load_test_site(conn)
    before = dt.datetime(2026, 2, 1, 10, 59, tzinfo=dt.UTC)
    with pytest.raises(
        ReportError,
        match=r"^month 2026-02 has not started \(the field's contract day is 2026-01-31\)$",
    ):
        field_month(conn, FIELD, "2026-02", now=before)
    # Started, but nothing signed in it: refused too, not written as a form of zeros.
    with pytest.raises(NoSignedReport, match=r"^no signed daily report for CAMPO-TEST in 2026-02$"):
        field_month(conn, FIELD, "2026-02", now=before + dt.timedelta(minutes=1))


def test_cli_refuses_in_one_line_and_writes_nothing(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with cli_db.connect() as conn:
        load_test_site(conn)
        conn.commit()
    later = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=62)
    month = f"{later.year:04d}-{later.month:02d}"
    out = tmp_path / "f.csv"
    for text, message in (
        ("2026-1", "month '2026-1' is not YYYY-MM"),
        (month, f"month {month} has not started (the field's contract day is "),
        ("1999-02", f"no signed daily report for {FIELD} in 1999-02"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["report", "monthly", "--field", FIELD, "--month", text, "--out", str(out)])
        assert exit_info.value.code == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
