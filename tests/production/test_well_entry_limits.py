"""Well entries refuse what cannot be true yet, and test rates beyond the API's limits.

The field's contract day runs 06:00 to 06:00 America/Bogota (11:00 to 11:00 UTC). At ``NOW``,
2026-02-03T10:59 UTC (05:59 local), the current contract day is 2026-02-02; it ends at
2026-02-03T11:00 UTC (06:00-05:00). A test dated 2026-02-03, a status change at 11:00 UTC
that day, or a downtime event ending after it is refused; up to that end is accepted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest

from anh_reporter import cli
from anh_reporter.production.well_entries import (
    WellEntryError,
    add_downtime,
    add_status_change,
    add_well_test,
)
from anh_reporter.storage.database import Database

from .helpers import FIELD
from .wells_site import load_wells_site

Conn = psycopg.Connection[object]
NOW = dt.datetime(2026, 2, 3, 10, 59, tzinfo=dt.UTC)
DAY_END = dt.datetime(2026, 2, 3, 11, tzinfo=dt.UTC)
WELL = {"field_code": FIELD, "well_code": "W-1"}
RATES = {"duration_h": "12", "oil_bbl_d": "1", "gas_kscf_d": "1", "water_bbl_d": "1"}


def _test(conn: Conn, **kw: Any) -> None:
    args: dict[str, Any] = {
        "tested_on": dt.date(2026, 2, 2),
        **RATES,
        "tested_by": "x",
        "entered_by": "t",
    }
    add_well_test(conn, **WELL, **(args | kw), now=NOW)


def test_a_well_test_after_the_current_contract_day_is_refused(conn: Conn) -> None:
    load_wells_site(conn)
    _test(conn)  # the current contract day itself
    with pytest.raises(
        WellEntryError,
        match=r"^tested_on: 2026-02-03 has not come; the field's current contract day is "
        r"2026-02-02$",
    ):
        _test(conn, tested_on=dt.date(2026, 2, 3))


def test_a_status_change_later_than_now_is_refused(conn: Conn) -> None:
    """At 10:59 UTC a change at 10:59 is accepted, one at 10:59:01 has not come (even though
    the contract day runs to 11:00)."""
    load_wells_site(conn)
    kw: dict[str, Any] = {**WELL, "status": "shut_in", "changed_by": "t", "now": NOW}
    add_status_change(conn, at=NOW, **kw)
    with pytest.raises(
        WellEntryError,
        match=r"^at: 2026-02-03T10:59:01\+00:00 has not come \(it is 2026-02-03T10:59:00\+00:00 "
        r"now\): enter what happened, once it has$",
    ):
        add_status_change(conn, at=NOW + dt.timedelta(seconds=1), **kw)


def test_downtime_must_have_ended_by_now(conn: Conn) -> None:
    load_wells_site(conn)
    kw: dict[str, Any] = {**WELL, "cause": "flowline", "entered_by": "t", "now": NOW}
    hour = dt.timedelta(hours=1)
    add_downtime(conn, start=NOW - hour, end=NOW, **kw)
    with pytest.raises(WellEntryError, match=r"^end: 2026-02-03T11:00:00\+00:00 has not come"):
        add_downtime(conn, start=NOW - 3 * hour, end=DAY_END, **kw)
    future = dt.datetime(2027, 3, 1, 13, tzinfo=dt.UTC)
    with pytest.raises(WellEntryError, match=r"^start: 2027-03-01T13:00:00\+00:00 has not come"):
        add_downtime(conn, start=future, end=future + hour, **kw)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"oil_bbl_d": "1e400"}, "oil_bbl_d: 1E+400 bbl/d is above the limit 10000000 bbl/d"),
        (
            {"gas_kscf_d": "10000000.0001"},
            "gas_kscf_d: 10000000.0001 kscf/d is above the limit 10000000 kscf/d",
        ),
        ({"water_bbl_d": "0.00001"}, "water_bbl_d: 0.00001 bbl/d has more than 4 decimals"),
        ({"oil_bbl_d": "inf"}, "oil_bbl_d: 'inf' is not a finite number"),
        ({"oil_bbl_d": "nan"}, "oil_bbl_d: 'nan' is not a finite number"),
    ],
)
def test_test_rates_have_the_api_limits(conn: Conn, kw: dict[str, str], message: str) -> None:
    load_wells_site(conn)
    with pytest.raises(WellEntryError, match="^" + message.replace("+", r"\+") + "$"):
        _test(conn, **kw)


def test_the_highest_rate_is_accepted(conn: Conn) -> None:
    """10,000,000 bbl/d, 4 decimals of gas, trailing zeros of water: at the limits, stored."""
    load_wells_site(conn)
    _test(conn, oil_bbl_d="10000000", gas_kscf_d="0.0001", water_bbl_d="12.500000")
    row = conn.execute("SELECT oil_bbl_d, gas_kscf_d, water_bbl_d FROM well_tests").fetchone()
    assert row is not None
    assert (str(row[0]), str(row[1]), str(row[2])) == ("10000000", "0.0001", "12.500000")


def test_cli_refuses_in_one_line(cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line gets the same checks: one line, no traceback (the clock is now)."""
    with cli_db.connect() as conn:
        load_wells_site(conn)
        conn.commit()
    later = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=400)
    base = ["wells", "test", "--field", FIELD, "--well", "W-2", "--duration", "12"]
    rest = ["--gas", "1", "--water", "1", "--tested-by", "x", "--by", "t"]
    cases = [
        (["--day", "2026-02-01", "--oil", "1e400"], "oil_bbl_d: 1E+400 bbl/d is above the limit"),
        (["--day", later.isoformat(), "--oil", "1"], f"tested_on: {later} has not come"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            cli.main([*base, *args, *rest])
        assert exit_info.value.code == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
