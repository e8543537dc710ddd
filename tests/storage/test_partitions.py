"""Weekly partitions: made ahead, made on demand for late data, dropped past retention."""

from __future__ import annotations

import datetime as dt

import numpy as np
import psycopg

from anh_reporter.domain.timeutil import to_us
from anh_reporter.storage import partitions
from anh_reporter.storage.telemetry import TelemetryWriter

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 27, 15, 30, tzinfo=UTC)  # a Friday


def names(conn: psycopg.Connection[object]) -> list[str]:
    return [p.name for p in partitions.list_partitions(conn)]


def test_week_alignment() -> None:
    start = partitions.week_start(NOW)
    assert start == dt.datetime(2026, 11, 23, tzinfo=UTC)  # Monday
    assert start.weekday() == 0
    assert partitions.week_start(start) == start
    assert partitions.week_start(start - dt.timedelta(microseconds=1)) == dt.datetime(
        2026, 11, 16, tzinfo=UTC
    )
    assert partitions.partition_name(start) == "telemetry_p20261123"


def test_premake_creates_this_week_and_ahead(conn: psycopg.Connection[object]) -> None:
    made = partitions.premake(conn, NOW, weeks_ahead=3)
    assert made == [
        "telemetry_p20261123",
        "telemetry_p20261130",
        "telemetry_p20261207",
        "telemetry_p20261214",
    ]
    assert partitions.premake(conn, NOW, weeks_ahead=3) == []  # idempotent
    assert names(conn) == made


def test_late_data_gets_its_partition_on_demand(conn: psycopg.Connection[object]) -> None:
    writer = TelemetryWriter(conn)
    late = to_us(dt.datetime(2021, 3, 3, 12, tzinfo=UTC))
    times = np.array([late, late + 1_000_000], dtype=np.int64)
    result = writer.write(
        np.array([1, 1], dtype=np.int32),
        times,
        np.array([1.0, 2.0]),
        np.zeros(2, dtype=np.uint32),
    )
    assert result.inserted == 2
    assert names(conn) == ["telemetry_p20210301"]
    count = conn.execute("SELECT count(*) FROM telemetry_p20210301").fetchone()
    assert count == (2,)


def test_retention_drops_whole_old_partitions_only(conn: psycopg.Connection[object]) -> None:
    writer = TelemetryWriter(conn)
    old = dt.datetime(2021, 11, 10, tzinfo=UTC)  # ends 2021-11-15, before the cutoff
    edge = dt.datetime(2021, 11, 24, tzinfo=UTC)  # week 2021-11-22..29 straddles 2021-11-27
    recent = dt.datetime(2026, 11, 20, tzinfo=UTC)
    for when in (old, edge, recent):
        writer.write(
            np.array([7], dtype=np.int32),
            np.array([to_us(when)], dtype=np.int64),
            np.array([3.0]),
            np.zeros(1, dtype=np.uint32),
        )
    assert partitions.retention_cutoff(NOW, 5) == dt.datetime(2021, 11, 27, 15, 30, tzinfo=UTC)
    dropped = partitions.drop_expired(conn, NOW, years=5)
    assert dropped == ["telemetry_p20211108"]
    assert names(conn) == ["telemetry_p20211122", "telemetry_p20261116"]
    hours = conn.execute("SELECT count(*) FROM telemetry_hourly").fetchone()
    assert hours == (2,)  # the rollup of the dropped week went with it
    assert conn.execute("SELECT count(*) FROM telemetry").fetchone() == (2,)


def test_leap_day_cutoff() -> None:
    leap = dt.datetime(2028, 2, 29, tzinfo=UTC)
    assert partitions.retention_cutoff(leap, 5) == dt.datetime(2023, 2, 28, tzinfo=UTC)
