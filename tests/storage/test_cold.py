"""Cold storage on the real database: exact round trip, failure at every step, reads across hot
and cold, the catalog, and the daily compute of an archived day."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from anh_reporter.analytics.history import read_samples
from anh_reporter.domain.timeutil import to_us
from anh_reporter.storage import cold, cold_read, partitions
from anh_reporter.storage.cold_format import decimal_scale
from anh_reporter.storage.database import Database
from anh_reporter.storage.readings import (
    buckets,
    copy_csv,
    count_capped,
    plan_buckets,
    raw_readings,
)
from anh_reporter.storage.telemetry import TelemetryWriter
from tests.production.helpers import load_test_site

UTC = dt.UTC
OLD_WEEK = dt.datetime(2026, 1, 26, tzinfo=UTC)  # Monday: partition telemetry_p20260126
HOT_WEEK = dt.datetime(2026, 2, 2, tzinfo=UTC)
NOW = dt.datetime(2026, 2, 20, tzinfo=UTC)  # OLD_WEEK ended 18 days before, HOT_WEEK 11
US = 1_000_000
BAD_NO_VALUE = np.uint32(0x808A0000)  # BadNoCommunication, stored negative
UNCERTAIN = np.uint32(0x40000000)
Conn = psycopg.Connection[Any]


def test_decimal_scale_is_exact_or_nothing() -> None:
    assert decimal_scale(np.array([1.25, 2.5, 3.0])) == 2  # 125/100, 250/100, 300/100
    assert decimal_scale(np.array([7.0, -3.0])) == 0
    assert decimal_scale(np.array([0.1 + 0.2])) is None  # 0.30000000000000004: 17 digits
    assert decimal_scale(np.array([-0.0])) is None  # would come back as +0.0
    assert decimal_scale(np.array([math.inf])) is None
    assert decimal_scale(np.array([1e300])) is None  # beyond 2^53 once scaled


def write_weeks(conn: Conn) -> None:
    """Series 1: 1-minute full-precision floats; 2: 2-decimal values every 10 min, with a Bad
    marker without value and an Uncertain one; 3: only in the old week. Both weeks."""
    writer = TelemetryWriter(conn)
    for week in (OLD_WEEK, HOT_WEEK):
        t1 = np.arange(to_us(week), to_us(week) + 2 * 86_400 * US, 60 * US, dtype=np.int64)
        v1 = np.sin(np.arange(t1.size) / 7.0) * 1000.0 + 1.0 / 3.0
        writer.write(np.full(t1.size, 1, np.int32), t1, v1, np.zeros(t1.size, np.uint32))
        t2 = t1[::10]
        v2 = np.round(np.cos(np.arange(t2.size)) * 500.0, 2)
        q2 = np.zeros(t2.size, np.uint32)
        v2[5], q2[5] = np.nan, BAD_NO_VALUE
        q2[6] = UNCERTAIN
        writer.write(np.full(t2.size, 2, np.int32), t2, v2, q2)
    writer.write(
        np.array([3, 3], np.int32),
        np.array([to_us(OLD_WEEK) + 5 * US, to_us(OLD_WEEK) + 6 * US]),
        np.array([-0.0, 42.0]),
        np.zeros(2, np.uint32),
    )
    conn.commit()


def all_rows(conn: Conn, where: str = "") -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT series_id, time, value, quality FROM telemetry " + where + " ORDER BY 1, 2"  # noqa: S608 - test literals
    ).fetchall()


def archive_old(conn: Conn, cold_dir: Path, **kwargs: Any) -> cold.Archived:
    (part,) = cold.due(conn, NOW, 14)
    assert part.name == "telemetry_p20260126"
    return cold.archive_partition(conn, part, cold_dir, **kwargs)


def same(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    """Row lists equal, float values compared bit for bit (-0.0 is not 0.0)."""

    def key(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [(s, t, None if v is None else float(v).hex(), q) for s, t, v, q in rows]

    return key(a) == key(b)


def test_round_trip_is_exact_and_catalogued(conn: Conn, tmp_path: Path) -> None:
    write_weeks(conn)
    old = all_rows(conn, f"WHERE time < '{HOT_WEEK.isoformat()}'")
    hot = all_rows(conn, f"WHERE time >= '{HOT_WEEK.isoformat()}'")
    hours = conn.execute("SELECT count(*), sum(count) FROM telemetry_hourly").fetchone()

    archived = archive_old(conn, tmp_path)

    # 2 days of 1-min (2,880) + of 10-min (288) readings, and 2 of series 3.
    assert archived.rows == len(old) == 2880 + 288 + 2
    assert [p.name for p in partitions.list_partitions(conn)] == ["telemetry_p20260202"]
    assert same(all_rows(conn), hot)  # PostgreSQL keeps only the hot week
    assert conn.execute("SELECT count(*), sum(count) FROM telemetry_hourly").fetchone() == hours
    (row,) = conn.execute(
        "SELECT name, rows, null_values, series_ids, path, file_bytes FROM cold_partitions"
    ).fetchall()
    assert row == ("telemetry_p20260126", len(old), 1, [1, 2, 3], str(archived.path),
                   archived.path.stat().st_size)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["telemetry_p20260126.parquet"]

    rows = cold_read.read_cold(cold_read.cold_files(conn), [1, 2, 3], 0, to_us(NOW))
    back = [
        (int(s), dt.datetime.fromtimestamp(int(t) / US, UTC), None if n else float(v), int(q))
        for s, t, v, n, q in zip(
            rows.series_id, rows.time_us, rows.value, rows.null, rows.quality, strict=True
        )
    ]
    assert [r[1] for r in back] == [r[1] for r in old]  # µs times survive exactly
    assert same(back, old)


@pytest.mark.parametrize(
    "step", ["exported", "verified", "renamed", "catalogued", "detached", "dropped"]
)
def test_a_failure_at_any_step_keeps_every_reading(conn: Conn, tmp_path: Path, step: str) -> None:
    write_weeks(conn)
    before = all_rows(conn)

    def crash(name: str) -> None:
        if name == step:
            raise RuntimeError(f"crash at {name}")

    with pytest.raises(RuntimeError, match=f"crash at {step}"):
        archive_old(conn, tmp_path, on_step=crash)

    assert same(all_rows(conn), before)
    assert conn.execute("SELECT count(*) FROM cold_partitions").fetchone() == (0,)
    assert list(tmp_path.iterdir()) == []  # neither the temporary file nor a stray archive
    archive_old(conn, tmp_path)  # and the next run archives it
    assert conn.execute("SELECT count(*) FROM cold_partitions").fetchone() == (1,)


async def test_history_reads_across_hot_and_cold(db: Database, tmp_path: Path) -> None:
    with db.connect() as conn:
        ids = load_test_site(conn)  # the CSV export names each reading's series
        assert {1, 2, 3} <= set(ids.values())
        write_weeks(conn)
        start, end = OLD_WEEK, HOT_WEEK + dt.timedelta(days=1)
        before_samples = read_samples(conn, series_id=2, start_us=to_us(start), end_us=to_us(end))
        async with await psycopg.AsyncConnection.connect(db.url, autocommit=True) as aconn:
            before_raw = await raw_readings(aconn, series_id=2, start=start, end=end, limit=10_000)
            before_other = await other_reads(aconn, start, end)
            archive_old(conn, tmp_path)
            after_raw = await raw_readings(aconn, series_id=2, start=start, end=end, limit=10_000)
            after_other = await other_reads(aconn, start, end)
            first = await raw_readings(aconn, series_id=2, start=start, end=end, limit=3)
        after_samples = read_samples(conn, series_id=2, start_us=to_us(start), end_us=to_us(end))

    # 2 days of 10-minute readings in the old week, 1 in the hot one: 288 + 144.
    assert len(after_raw) == 432
    assert after_raw == before_raw
    assert after_raw[5][1:] == (None, 0x808A0000)  # the Bad marker: NULL, unsigned code
    assert after_raw[6][2] == 0x40000000
    assert first == before_raw[:3]
    assert after_other == before_other
    assert before_other[1] == 2880 + 1440 + 288 + 144 + 2  # every reading counted
    assert before_other[2].count(b"\n") == 1 + before_other[1]  # header + one line a reading
    for a, b in zip(before_samples, after_samples, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


async def other_reads(
    aconn: psycopg.AsyncConnection[Any], start: dt.datetime, end: dt.datetime
) -> tuple[Any, ...]:
    """20-minute buckets (from raw rows), a capped count and the CSV export of every series."""
    plan = plan_buckets(start, end, 1200)
    assert not plan.from_hourly
    series = [await buckets(aconn, series_id=sid, plan=plan) for sid in (1, 2, 3)]
    count = await count_capped(aconn, series_ids=[1, 2, 3], start=start, end=end, cap=100_000)
    csv = b"".join([c async for c in copy_csv(aconn, series_ids=[1, 2, 3], start=start, end=end)])
    return series, count, csv


def test_writes_to_an_archived_week_are_refused_and_the_rest_written(
    conn: Conn, tmp_path: Path
) -> None:
    write_weeks(conn)
    writer = TelemetryWriter(conn)  # knows both weeks: the old one is archived behind its back
    writer.write(*one_reading(HOT_WEEK + dt.timedelta(days=3), 5.0))
    archived = archive_old(conn, tmp_path)
    with pytest.raises(partitions.ArchivedWeekError, match="telemetry_p20260126") as info:
        partitions.ensure_weeks(conn, [to_us(OLD_WEEK)])
    assert str(archived.path) in str(info.value)
    hot_before = all_rows(conn, f"WHERE time >= '{HOT_WEEK.isoformat()}'")

    for fresh in (writer, TelemetryWriter(conn)):
        times = np.array([to_us(OLD_WEEK) + 30 * US, to_us(HOT_WEEK) + 31 * US, to_us(OLD_WEEK)])
        result = fresh.write(
            np.array([1, 1, 3], np.int32), times, np.array([1.0, 2.0, 3.0]), np.zeros(3, np.uint32)
        )
        ((why, rows),) = result.archived.items()
        assert rows.tolist() == [0, 2]
        assert "telemetry_p20260126" in why and str(archived.path) in why
        replay = fresh is not writer  # the second time, the hot reading is stored already
        assert (result.offered, result.inserted, result.duplicates) == (3, 1 - replay, replay)
    hot_after = all_rows(conn, f"WHERE time >= '{HOT_WEEK.isoformat()}'")
    assert len(hot_after) == len(hot_before) + 1
    assert all_rows(conn, f"WHERE time < '{HOT_WEEK.isoformat()}'") == []


def one_reading(at: dt.datetime, value: float) -> tuple[np.ndarray, ...]:
    return (
        np.array([1], np.int32),
        np.array([to_us(at)]),
        np.array([value]),
        np.zeros(1, np.uint32),
    )


async def test_the_pipeline_quarantines_readings_of_an_archived_week(
    db: Database, tmp_path: Path
) -> None:
    from anh_reporter.bus.memory import MemoryBus
    from anh_reporter.config import IngestSettings
    from anh_reporter.domain.batch import Batch
    from anh_reporter.ingest.pipeline import IngestPipeline

    with db.connect() as conn:
        ids = load_test_site(conn)
        write_weeks(conn)
        archived = archive_old(conn, tmp_path)
        conn.commit()
    sid = next(iter(ids.values()))
    bus = MemoryBus()
    settings = IngestSettings(flush_rows=10, flush_deadline_ms=20, future_tolerance_s=1e9)
    pipeline = IngestPipeline(db, bus, settings, clock=NOW.timestamp)
    times = [to_us(OLD_WEEK) + 7 * US, to_us(HOT_WEEK) + 7 * US]
    await bus.publish(Batch.of([sid, sid], times, [1.5, 2.5], source="late"), "F")
    task = asyncio.create_task(pipeline.run())
    for _ in range(500):
        await asyncio.sleep(0.02)
        if pipeline.stats.flushes:
            break
    pipeline.stop()
    await task
    assert pipeline.stats.written == 1 and pipeline.stats.duplicates == 0
    assert pipeline.stats.rejected == {"archived_week": 1}
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT reason, series_id, value, source, message FROM quarantine"
        ).fetchall()
        stored = conn.execute(
            "SELECT value FROM telemetry WHERE series_id = %s AND time = %s",
            (sid, HOT_WEEK + dt.timedelta(seconds=7)),
        ).fetchall()
    ((reason, series_id, value, source, message),) = rows
    assert (reason, series_id, value, source) == ("archived_week", sid, 1.5, "late")
    assert "telemetry_p20260126" in message and str(archived.path) in message
    assert stored == [(2.5,)]


def test_a_missing_archive_is_an_error_not_an_empty_answer(conn: Conn, tmp_path: Path) -> None:
    write_weeks(conn)
    archived = archive_old(conn, tmp_path)
    archived.path.unlink()
    with pytest.raises(cold.ColdStorageError, match="telemetry_p20260126 is missing"):
        read_samples(conn, series_id=1, start_us=to_us(OLD_WEEK), end_us=to_us(NOW))


def test_an_archived_day_computes_the_same_figures(conn: Conn, tmp_path: Path) -> None:
    from anh_reporter.production.daily import compute_day
    from tests.production.helpers import DAY_D, FIELD, load_test_site, standard_day

    ids = load_test_site(conn)
    standard_day(conn, ids)  # contract day 2026-02-02 11:00 UTC to 02-03 11:00 (week 02-02)
    hot = compute_day(conn, FIELD, DAY_D)
    conn.commit()
    (part,) = [p for p in cold.due(conn, dt.datetime(2026, 3, 1, tzinfo=UTC), 14)]
    cold.archive_partition(conn, part, tmp_path)
    assert conn.execute("SELECT count(*) FROM telemetry").fetchone() == (0,)

    archived = compute_day(conn, FIELD, DAY_D)
    assert archived.figures == hot.figures
    assert archived.changed == ()


def test_retention_drops_archived_weeks_and_their_files(conn: Conn, tmp_path: Path) -> None:
    write_weeks(conn)
    archived = archive_old(conn, tmp_path)
    # Five years after 2026-02-20, the week of 2026-01-26 has expired; the hot one too.
    dropped = partitions.drop_expired(conn, dt.datetime(2031, 2, 20, tzinfo=UTC), years=5)
    assert dropped == ["telemetry_p20260202", "telemetry_p20260126"]
    assert conn.execute("SELECT count(*) FROM cold_partitions").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM telemetry_hourly").fetchone() == (0,)
    assert not archived.path.exists()


def test_db_archive_and_status_commands(db: Database, tmp_path: Path) -> None:
    from tests.test_demo import clean_env, run_cli

    with db.connect() as conn:
        write_weeks(conn)  # weeks of 2026-01-26 and 2026-02-02: both long over
    env = clean_env(ANH_DATABASE_URL=db.url, ANH_STORAGE__COLD_DIR=str(tmp_path / "cold"))

    no_age = run_cli("db", "archive", env=env)
    assert no_age.returncode != 0
    assert "give --older-than DAYS or set ANH_STORAGE__COLD_AFTER_DAYS" in no_age.stderr

    dry = run_cli("db", "archive", "--older-than", "30", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "would archive telemetry_p20260126" in dry.stdout
    assert "2 partition(s) ended more than 30 days ago" in dry.stdout
    assert not (tmp_path / "cold").exists()

    done = run_cli("db", "archive", "--older-than", "30", env=env)
    assert done.returncode == 0, done.stderr
    # 2,880 + 288 + 2 readings in the old week, 1,440 × 2 + 288 in the other (2 days each).
    assert "telemetry_p20260126: 3,170 readings" in done.stdout
    assert "telemetry_p20260202: 3,168 readings" in done.stdout
    status = run_cli("db", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert "cold storage: 2 archived week(s) 2026-01-26 to 2026-02-09, 6,338 readings" in (
        status.stdout
    )


def test_the_partitions_job_archives_when_an_age_is_set(db: Database, tmp_path: Path) -> None:
    from anh_reporter.config import Settings, StorageSettings
    from anh_reporter.scheduler.jobs import maintain_partitions

    with db.connect() as conn:
        write_weeks(conn)
    off = Settings(database_url=db.url, data_dir=tmp_path)
    maintain_partitions(db, off)  # no age set: nothing archived
    on = Settings(
        database_url=db.url, data_dir=tmp_path, storage=StorageSettings(cold_after_days=30)
    )
    maintain_partitions(db, on)
    with db.connect() as conn:
        names = conn.execute("SELECT name FROM cold_partitions ORDER BY name").fetchall()
    assert names == [("telemetry_p20260126",), ("telemetry_p20260202",)]
    assert sorted(p.name for p in (tmp_path / "cold").iterdir()) == [
        "telemetry_p20260126.parquet",
        "telemetry_p20260202.parquet",
    ]


def test_a_day_whose_neighbours_were_archived_computes_the_same(conn: Conn, tmp_path: Path) -> None:
    from anh_reporter.production.daily import compute_day
    from tests.production.helpers import DAY_D, FIELD, S, load_test_site, standard_day, write

    ids = load_test_site(conn)
    standard_day(conn, ids)
    # The totalizer also read the previous Sunday (week of 2026-01-26), every 10 minutes from
    # 20:00 to 23:50 UTC, on the same 1,000 bbl/d line: the counter's lookback reaches there.
    sunday = np.arange(to_us(dt.datetime(2026, 2, 1, 20, tzinfo=UTC)), to_us(HOT_WEEK), 600 * US)
    write(conn, ids["PMO-OIL.oil_total"], sunday, 5000.0 + 1000.0 * (sunday - S) / (86_400 * US))
    hot = compute_day(conn, FIELD, DAY_D)
    conn.commit()
    old = [p for p in cold.due(conn, NOW, 14) if p.name == "telemetry_p20260126"]
    cold.archive_partition(conn, old[0], tmp_path)

    assert compute_day(conn, FIELD, DAY_D).figures == hot.figures
