"""Two scheduler processes on one database: one leads, the standby takes over after SIGKILL.

Each process runs :func:`run_scheduler` (the code behind ``anh-reporter scheduler``) with the
default poll interval and one job, ``tick``, every 0.5 s, which records its process id and time
in a table. The leader is killed with SIGKILL; the standby must take over within 30 s, and no
tick may come from the two processes interleaved (no job run by both).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

import pytest

from anh_reporter.scheduler import POLL_S
from anh_reporter.storage.database import Database

LOCK_KEY = (
    0x5445_5354  # not the production key: a scheduler left running elsewhere is no leader here
)

PROCESS = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    from apscheduler.triggers.interval import IntervalTrigger
    from anh_reporter.config import Settings
    from anh_reporter.scheduler import run_scheduler
    from anh_reporter.scheduler.jobs import JobSpec
    from anh_reporter.storage.database import Database

    def tick(db, settings):
        with db.connect() as conn:
            conn.execute("INSERT INTO ticks (pid) VALUES (%s)", (os.getpid(),))
            conn.commit()

    db = Database(sys.argv[1])
    job = JobSpec("tick", tick, lambda f, o: IntervalTrigger(seconds=0.5), False, "tick")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    settings = Settings(database_url=sys.argv[1])
    run_scheduler(db, settings, stop, jobs=[job], lock_key=int(sys.argv[2]))
    """
)


def wait_for(what: str, check: Callable[[], Any], timeout_s: float, every_s: float = 0.1) -> Any:
    end = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(every_s)


def ticks(db: Database) -> list[tuple[int, float]]:
    with db.connect() as conn:
        rows = conn.execute("SELECT pid, extract(epoch FROM at) FROM ticks ORDER BY at").fetchall()
    return [(int(pid), float(at)) for pid, at in rows]


def test_the_standby_takes_over_within_30_s_of_the_leaders_death_and_no_tick_is_doubled(
    db: Database,
) -> None:
    with db.connect() as conn:
        conn.execute(
            "CREATE TABLE ticks (pid int NOT NULL, at timestamptz DEFAULT clock_timestamp())"
        )
        conn.commit()

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", PROCESS, db.url, str(LOCK_KEY)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    first = start()
    procs = {first.pid: first}
    try:
        wait_for("a leader's first tick", lambda: ticks(db), 120)  # process start-up under load
        second = start()
        procs[second.pid] = second
        # The second is the standby: the first keeps ticking alone for a few polls.
        leader_pid = ticks(db)[0][0]
        assert leader_pid == first.pid
        started = time.monotonic()
        wait_for(
            "the leader to tick on while the standby polls",
            lambda: (
                time.monotonic() - started > 1.5 * POLL_S
                and sum(1 for _, at in ticks(db) if at > time.time() - POLL_S) >= 4
            ),
            60,
        )
        killed_at = time.time()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        taken = wait_for(
            "the standby's first tick",
            lambda: [at for pid, at in ticks(db) if pid == second.pid],
            40,
        )
        failover_s = taken[0] - killed_at
        print(f"failover: the standby ticked {failover_s:.2f} s after the leader's SIGKILL")
        assert failover_s <= 30
        rows = ticks(db)
        pids = [pid for pid, _ in rows]
        switch = pids.index(second.pid)
        assert set(pids[:switch]) == {first.pid}  # only the leader before,
        assert set(pids[switch:]) == {second.pid}  # only the new leader after
        assert all(at <= killed_at + 0.05 for pid, at in rows if pid == first.pid)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            out, _ = proc.communicate(timeout=30)
            if proc is not first:
                assert proc.returncode == 0, out


def test_a_new_leader_makes_a_run_the_failover_gap_skipped(db: Database) -> None:
    import datetime as dt

    from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

    from anh_reporter.config import Settings
    from anh_reporter.scheduler import build_scheduler
    from anh_reporter.scheduler.jobs import JobSpec

    at_six = JobSpec(
        "six", lambda db, s: None, lambda f, o: CronTrigger(hour=6, timezone="UTC"), False, "six"
    )
    settings = Settings(database_url=db.url)
    late = dt.datetime(2026, 12, 7, 6, 0, 10, tzinfo=dt.UTC)  # the old leader died at 05:59:55
    job = build_scheduler(db, settings, jobs=[at_six], now=late).get_job("six")
    assert job.next_run_time == dt.datetime(2026, 12, 7, 6, tzinfo=dt.UTC)  # made at once
    grace = settings.reports.misfire_grace_s
    long_after = late + dt.timedelta(seconds=grace + 60)
    job = build_scheduler(db, settings, jobs=[at_six], now=long_after).get_job("six")
    assert job.next_run_time == dt.datetime(2026, 12, 8, 6, tzinfo=dt.UTC)  # too late: tomorrow
