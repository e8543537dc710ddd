"""Weekly range partitions of ``telemetry``: made ahead, made on demand, dropped when expired.

Partitions are aligned to Monday 00:00 UTC and named ``telemetry_pYYYYMMDD`` after their first
day. Where TimescaleDB made ``telemetry`` a hypertable, chunks and retention are its job and
these functions do nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg

from anh_reporter.domain.timeutil import from_us, to_us

UTC = dt.UTC
WEEK = dt.timedelta(days=7)
WEEK_US = 7 * 86_400 * 1_000_000
MONDAY_US = 4 * 86_400 * 1_000_000  # 1970-01-05 was a Monday
_NAME = re.compile(r"^telemetry_p(\d{8})$")
LOCK_KEY = 0x414E4801  # advisory lock serialising partition DDL


@dataclass(frozen=True)
class Partition:
    """One weekly partition and its approximate size."""

    name: str
    start: dt.datetime
    end: dt.datetime
    rows_estimate: int
    bytes: int


if TYPE_CHECKING:  # numpy only for the annotation: `db` commands start without it
    import numpy as np
    import numpy.typing as npt

    _Us = TypeVar("_Us", int, npt.NDArray[np.int64])


def week_start_us(time_us: _Us) -> _Us:
    """Start (µs since the Unix epoch) of the partition week holding ``time_us`` (one instant,
    or an array of them)."""
    return (time_us - MONDAY_US) // WEEK_US * WEEK_US + MONDAY_US


def week_start(when: dt.datetime) -> dt.datetime:
    """Start of the partition week holding ``when`` (an aware datetime)."""
    return from_us(week_start_us(to_us(when)))


def partition_name(start: dt.datetime) -> str:
    """The name of the partition that starts at ``start``."""
    return f"telemetry_p{start.astimezone(UTC):%Y%m%d}"


def is_native(conn: psycopg.Connection[Any]) -> bool:
    """True when ``telemetry`` is a natively partitioned table (not a hypertable)."""
    row = conn.execute(
        "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = 'telemetry' AND n.nspname = current_schema()"
    ).fetchone()
    return row is not None and row[0] == "p"


def ensure_weeks(conn: psycopg.Connection[Any], week_starts_us: Iterable[int]) -> list[str]:
    """Create the partitions for these week starts if missing; return the names created.

    Runs in its own transaction (or the caller's), serialised by an advisory lock so that
    concurrent writers do not race on the same partition.
    """
    wanted = sorted({week_start_us(int(w)) for w in week_starts_us})
    if not wanted:
        return []
    created: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        existing = {p.name for p in list_partitions(conn)}
        archived = archived_names(conn)
        owner = _owns_telemetry(conn)
        for start_us in wanted:
            start = from_us(start_us)
            name = partition_name(start)
            if name in existing:
                continue
            if name in archived:
                raise ArchivedWeekError(name, archived[name])
            if owner:
                conn.execute(
                    f"CREATE TABLE {name} PARTITION OF telemetry "
                    f"FOR VALUES FROM ({_lit(start)}) TO ({_lit(start + WEEK)})"
                )
            else:  # the application role: through the owner's function (storage.roles)
                conn.execute(
                    "SELECT anh_make_telemetry_partition(%s, %s, %s)",
                    (name, start, start + WEEK),
                )
            created.append(name)
    return created


class ArchivedWeekError(ValueError):
    """Readings for a week already archived to cold storage (its rollups would go wrong)."""

    def __init__(self, name: str, path: str) -> None:
        super().__init__(
            f"week {name} is archived to {path}: readings for it are not accepted "
            "(cold storage holds whole weeks)"
        )
        self.name = name
        self.path = path


def archived_names(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """Partitions archived to cold storage (name -> file), empty before the catalog exists."""
    row = conn.execute("SELECT to_regclass('cold_partitions') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return {}
    return dict(conn.execute("SELECT name, path FROM cold_partitions").fetchall())


def _owns_telemetry(conn: psycopg.Connection[Any]) -> bool:
    """True when the connected role may create partitions of ``telemetry`` itself."""
    row = conn.execute(
        "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = 'telemetry'::regclass"
    ).fetchone()
    return bool(row and row[0])


def ensure_range(conn: psycopg.Connection[Any], start: dt.datetime, end: dt.datetime) -> list[str]:
    """Create the partitions covering [start, end]."""
    first, last = week_start_us(to_us(start)), week_start_us(to_us(end))
    return ensure_weeks(conn, range(first, last + 1, WEEK_US))


def premake(conn: psycopg.Connection[Any], now: dt.datetime, weeks_ahead: int) -> list[str]:
    """Create this week's partition and ``weeks_ahead`` more."""
    if not is_native(conn):
        return []
    return ensure_range(conn, now, now + weeks_ahead * WEEK)


def list_partitions(conn: psycopg.Connection[Any]) -> list[Partition]:
    """The telemetry partitions, oldest first."""
    rows = conn.execute(
        """
        SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE p.relname = 'telemetry' AND n.nspname = current_schema()
        """
    ).fetchall()
    out = []
    for name, tuples, size in rows:
        match = _NAME.match(name)
        if not match:
            continue
        start = dt.datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC)
        out.append(Partition(name, start, start + WEEK, max(int(tuples), 0), int(size)))
    return sorted(out, key=lambda p: p.start)


def retention_cutoff(now: dt.datetime, years: int) -> dt.datetime:
    """``now`` minus ``years`` calendar years (29 February becomes 28 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def drop_expired(conn: psycopg.Connection[Any], now: dt.datetime, years: int) -> list[str]:
    """Drop whole partitions that end at or before the retention cutoff, and archived weeks
    (their files too); return their names."""
    if not is_native(conn):
        return []
    cutoff = retention_cutoff(now, years)
    dropped: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        for part in list_partitions(conn):
            if part.end <= cutoff:
                conn.execute(f"DROP TABLE {part.name}")
                conn.execute(
                    "DELETE FROM telemetry_hourly WHERE hour >= %s AND hour < %s",
                    (part.start, part.end),
                )
                dropped.append(part.name)
        expired_files = _drop_expired_cold(conn, cutoff)
    for name, path in expired_files:  # after the commit: a crash leaves a stray file, no hole
        Path(path).unlink(missing_ok=True)
        dropped.append(name)
    return dropped


def _drop_expired_cold(conn: psycopg.Connection[Any], cutoff: dt.datetime) -> list[tuple[str, str]]:
    """Forget archived weeks that end at or before ``cutoff`` (and their rollups)."""
    if not archived_names(conn):
        return []
    expired = conn.execute(
        "DELETE FROM cold_partitions WHERE range_end <= %s RETURNING name, path, range_start, "
        "range_end",
        (cutoff,),
    ).fetchall()
    for _name, _path, start, end in expired:
        conn.execute("DELETE FROM telemetry_hourly WHERE hour >= %s AND hour < %s", (start, end))
    return [(name, path) for name, path, _start, _end in expired]


def _lit(when: dt.datetime) -> str:
    return "'" + when.astimezone(UTC).isoformat() + "'"
