"""The value in force at an instant, read back from the configuration log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from anh_reporter.storage.config_history import values_in_force

Conn = psycopg.Connection[Any]
T = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
KEY = ("measurement_point", "F.P", "meter_factor")


def _log(conn: Conn, old: float | None, new: float, changed: dt.datetime,
         effective: dt.datetime | None = None) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO config_log (changed_at, changed_by, entity, entity_code, attribute, "
        "old_value, new_value, effective_from) VALUES (%s, 't', %s, %s, %s, %s, %s, %s)",
        (changed, *KEY, None if old is None else Jsonb(old), Jsonb(new), effective),
    )


def test_newest_effective_entry_else_the_value_at_creation(conn: Conn) -> None:
    created = T + dt.timedelta(days=30)  # the site was loaded after the history it describes
    _log(conn, None, 1.0008, created)
    # A proving logged later, back-dated to 10 Mar; a correction effective 20 Mar.
    _log(conn, 1.0008, 1.0030, created + dt.timedelta(days=1), T + dt.timedelta(days=9))
    _log(conn, 1.0030, 1.0025, created + dt.timedelta(days=2), T + dt.timedelta(days=19))

    def at(day: int) -> float:
        return float(values_in_force(conn, [KEY[:2]], T + dt.timedelta(days=day))[KEY])

    assert at(0) == 1.0008  # before any entry takes effect: the value at creation
    assert at(9) == 1.0030 and at(18) == 1.0030
    assert at(19) == 1.0025 and at(60) == 1.0025
    # Two entries effective at the same instant: the one logged last.
    _log(conn, 1.0025, 1.0020, created + dt.timedelta(days=3), T + dt.timedelta(days=19))
    assert at(19) == 1.0020


def test_a_back_dated_change_holds_over_a_later_dated_one_logged_before_it(conn: Conn) -> None:
    """A change to 1.0030 effective 10 Mar is logged; then a site file saying 1.0020 is loaded
    back-dated to 5 Mar (the 10 Mar change was a mistake). The file is the configuration from
    5 Mar on, as stored now: 1.0020 from 5 Mar, also after 10 Mar (it was not before 5 Mar)."""
    created = T + dt.timedelta(days=30)
    _log(conn, None, 1.0008, created)
    _log(conn, 1.0008, 1.0030, created + dt.timedelta(days=1), T + dt.timedelta(days=9))
    _log(conn, 1.0030, 1.0020, created + dt.timedelta(days=2), T + dt.timedelta(days=4))

    def at(day: int) -> float:
        return float(values_in_force(conn, [KEY[:2]], T + dt.timedelta(days=day))[KEY])

    assert [at(d) for d in (0, 3, 4, 9, 20, 60)] == [1.0008, 1.0008, 1.0020, 1.0020, 1.0020, 1.0020]
    # Loading the 10 Mar change again (it was right after all) takes effect from 10 Mar again.
    _log(conn, 1.0020, 1.0030, created + dt.timedelta(days=3), T + dt.timedelta(days=9))
    assert [at(d) for d in (4, 8, 9, 60)] == [1.0020, 1.0020, 1.0030, 1.0030]
