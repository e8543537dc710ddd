"""The scheduler: explicit jobs and triggers, idempotent daily report, one leader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from anh_reporter.config import Settings
from anh_reporter.scheduler import LeaderLock, build_scheduler
from anh_reporter.scheduler.jobs import JOBS, daily_report
from anh_reporter.storage.database import Database

from ..production.helpers import FIELD, US, S, grid, load_test_site, standard_day, write

# 06:45 in Bogota on 3 Feb 2026: the contract day of 2 Feb (06:00-06:00) is over.
NOW = dt.datetime(2026, 2, 3, 11, 45, tzinfo=dt.UTC)


def test_daily_report_job_twice_makes_one_version(db: Database, tmp_path: Path) -> None:
    with db.connect() as conn:
        standard_day(conn, load_test_site(conn))
    settings = Settings(data_dir=tmp_path)

    first = daily_report(db, settings, field_code=FIELD, now=NOW)
    second = daily_report(db, settings, field_code=FIELD, now=NOW + dt.timedelta(minutes=1))

    assert first is not None and second is not None
    assert first.contract_day == dt.date(2026, 2, 2)
    assert (first.created, second.created) == (True, False)
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM report_versions").fetchone() == (1,)


def test_jobs_and_triggers(db: Database, tmp_path: Path) -> None:
    with db.connect() as conn:
        load_test_site(conn)
    scheduler = build_scheduler(db, Settings(data_dir=tmp_path))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        f"daily-report:{FIELD}",
        "recompute-late-data",
        "partitions",
        "train-anomaly-models",
        "score-anomalies",
    }
    assert {spec.id for spec in JOBS} == {
        "daily-report",
        "recompute-late-data",
        "partitions",
        "train-anomaly-models",
        "score-anomalies",
    }
    for job in jobs.values():
        assert str(job.trigger.timezone) == "America/Bogota"
        assert job.coalesce is True and job.misfire_grace_time == 3600 and job.max_instances == 1
    # Start hour 6 + the default 30-minute delay: 06:30 Bogota = 11:30 UTC.
    trigger = jobs[f"daily-report:{FIELD}"].trigger
    fire = trigger.get_next_fire_time(None, dt.datetime(2026, 2, 3, 11, 0, tzinfo=dt.UTC))
    assert fire.astimezone(dt.UTC) == dt.datetime(2026, 2, 3, 11, 30, tzinfo=dt.UTC)


def test_only_one_leader(db: Database) -> None:
    first, second = LeaderLock(db, key=4242), LeaderLock(db, key=4242)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.held
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()


def test_run_scheduler_leads_then_stops(db: Database, tmp_path: Path) -> None:
    import threading

    from anh_reporter.scheduler import run_scheduler

    with db.connect() as conn:
        load_test_site(conn)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_scheduler, args=(db, Settings(data_dir=tmp_path), stop), kwargs={"poll_s": 0.05}
    )
    thread.start()
    try:
        other = LeaderLock(db)
        # The running scheduler holds the leader lock: nobody else can take it.
        for _ in range(200):
            if not other.try_acquire():
                break
            other.release()
            stop.wait(0.05)
        assert not other.try_acquire()
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert other.try_acquire()  # released on the way out
    other.release()


def test_every_other_job_run_twice_changes_nothing_the_second_time(
    db: Database, tmp_path: Path
) -> None:
    """A job a dying leader was running may be run again by the standby: the second run of
    each job (late-data recompute, partitions, anomaly scoring) leaves every table as the first
    left it (the daily report's case is the test above)."""
    from anh_reporter.scheduler.jobs import (
        maintain_partitions,
        recompute_late_data,
        score_anomalies,
    )

    with db.connect() as conn:
        ids = load_test_site(conn)
        standard_day(conn, ids)
    settings = Settings(data_dir=tmp_path)
    daily_report(db, settings, field_code=FIELD, now=NOW)
    with db.connect() as conn:  # water arrives late for the signed day: the recompute has work
        t = grid()
        late = t[(t - S) // (600 * US) >= 120] + 300 * US  # between the stored samples
        write(conn, ids["PMO-WATER.water_rate"], late, 1500.0)
    tables = ("daily_production", "report_versions", "anomalies", "well_days", "allocation_days")

    def snapshot() -> dict[str, object]:
        with db.connect() as conn:
            counts = {
                t: conn.execute(f"SELECT count(*), max(xmin::text::bigint) FROM {t}").fetchone()  # noqa: S608
                for t in tables
            }
            counts["partitions"] = conn.execute(
                "SELECT array_agg(inhrelid::regclass::text ORDER BY 1) FROM pg_inherits "
                "WHERE inhparent = 'telemetry'::regclass"
            ).fetchone()
        return counts

    assert recompute_late_data(db, settings) == 1
    assert recompute_late_data(db, settings) == 0
    for job in (recompute_late_data, maintain_partitions, score_anomalies):
        job(db, settings)
        before = snapshot()
        job(db, settings)
        assert snapshot() == before, job.__name__
