"""The scheduler: APScheduler 3.11 running :data:`~anh_reporter.scheduler.jobs.JOBS`, one leader.

Several processes may run the scheduler; only the one holding a PostgreSQL session advisory
lock (the *leader*) runs jobs. The others poll for the lock and take over when the leader's
connection goes away (the server releases a session lock when its session ends). Jobs coalesce
missed runs into one and run late within ``misfire_grace_s``; one instance of a job at a time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

import psycopg
from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
    BackgroundScheduler,
)

from anh_reporter.config import Settings
from anh_reporter.scheduler.jobs import BOGOTA, JOBS, FieldSchedule, options_of
from anh_reporter.storage.database import Database

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = 0x414E4853  # "ANHS"


class LeaderLock:
    """A PostgreSQL session advisory lock held on a connection of its own."""

    def __init__(self, db: Database, key: int = LEADER_LOCK_KEY) -> None:
        self.db = db
        self.key = key
        self._conn: psycopg.Connection[Any] | None = None

    @property
    def held(self) -> bool:
        """True while this process is the leader (checks that the session is alive)."""
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            self._drop()
            return False
        return True

    def try_acquire(self) -> bool:
        """Become the leader if nobody is; never waits."""
        if self._conn is not None:
            return self.held
        conn = self.db.connect(autocommit=True)
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if row is not None and row[0]:
            self._conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        """Stop being the leader."""
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def field_schedules(db: Database) -> list[FieldSchedule]:
    """The fields the per-field jobs run for."""
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT code, timezone, contract_day_start_hour FROM fields ORDER BY code"
        ).fetchall()
    return [FieldSchedule(code, zone, int(hour)) for code, zone, hour in rows]


def build_scheduler(db: Database, settings: Settings) -> BackgroundScheduler:
    """A scheduler (not started) with every job of :data:`JOBS`, per field where needed."""
    options = options_of(settings)
    # Missed runs coalesce into one, run late within the grace, one instance at a time.
    policy = {
        "coalesce": True,
        "misfire_grace_time": options.misfire_grace_s,
        "max_instances": 1,
    }
    scheduler = BackgroundScheduler(timezone=BOGOTA, job_defaults=policy)
    fields = field_schedules(db)
    for spec in JOBS:
        if spec.per_field:
            for field in fields:
                scheduler.add_job(
                    spec.func,
                    trigger=spec.trigger(field, options),
                    args=(db, settings),
                    kwargs={"field_code": field.code},
                    id=f"{spec.id}:{field.code}",
                    name=f"{spec.description} ({field.code})",
                    replace_existing=True,
                    **policy,
                )
        else:
            scheduler.add_job(
                spec.func,
                trigger=spec.trigger(None, options),
                args=(db, settings),
                id=spec.id,
                name=spec.description,
                replace_existing=True,
                **policy,
            )
    return scheduler


def run_scheduler(
    db: Database, settings: Settings, stop: threading.Event, *, poll_s: float = 10.0
) -> None:
    """Run until ``stop`` is set: wait to become the leader, then run the jobs while leading."""
    lock = LeaderLock(db)
    scheduler: BackgroundScheduler | None = None
    try:
        while not stop.is_set():
            if scheduler is None and lock.try_acquire():
                log.info("scheduler: this process is the leader")
                scheduler = build_scheduler(db, settings)
                scheduler.start()
            elif scheduler is not None and not lock.held:
                log.warning("scheduler: leadership lost; stopping jobs")
                scheduler.shutdown(wait=False)
                scheduler = None
            stop.wait(poll_s)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        lock.release()


__all__ = ["LeaderLock", "build_scheduler", "field_schedules", "run_scheduler"]
