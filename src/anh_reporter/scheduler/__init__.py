"""The scheduler: APScheduler 3.11 running :data:`~anh_reporter.scheduler.jobs.JOBS`, one leader.

Several processes may run the scheduler; only the one holding a PostgreSQL session advisory
lock (the *leader*) runs jobs. The others poll for the lock every ``poll_s`` and take over when
the leader's connection goes away (the server releases a session lock when its session ends).
The lock's session asks the server for TCP keepalives (a leader whose host dies without closing
its connection loses the lock after about :data:`DEAD_PEER_S`), and the client side has its own,
so a leader cut off from the server notices at its next poll and stops its jobs.

A new leader schedules each cron job from its newest fire time within ``misfire_grace_s``: a
run that fell in the failover gap is made at once instead of being skipped until the next day
(jobs are idempotent, so a run the old leader had already made changes nothing). Jobs coalesce
missed runs into one and run late within ``misfire_grace_s``; one instance of a job at a time.

Metrics: ``scheduler_leader``; ``scheduler_job_runs_total{job_id, outcome}`` for every run;
and the leader refreshes ``anh_report_last_day_end_timestamp_seconds`` from the database
every :data:`~anh_reporter.scheduler.report_status.REFRESH_S` (:mod:`.report_status`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from typing import Any

import psycopg
from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    JobExecutionEvent,
)
from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
    BackgroundScheduler,
)

from anh_reporter.config import Settings
from anh_reporter.errors import AnhError
from anh_reporter.observability.metrics import scheduler_job_runs, scheduler_leader
from anh_reporter.scheduler.jobs import BOGOTA, JOBS, FieldSchedule, JobSpec, options_of
from anh_reporter.scheduler.report_status import REFRESH_S, refresh_report_status
from anh_reporter.storage.database import Database

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = 0x414E4853  # "ANHS"
POLL_S = 5.0  # a standby tries the lock this often; the leader checks its session as often
# Server side: probe an idle leader session after 5 s, every 2 s, give up after 3 (~11 s).
_SERVER_KEEPALIVES = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2}
_SERVER_KEEPALIVE_COUNT = 3
DEAD_PEER_S = 5 + 2 * _SERVER_KEEPALIVE_COUNT
# Client side (libpq): the same probes, and a bound on unacknowledged writes.
_CLIENT_KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
    "connect_timeout": 5,
}


class LeaderLock:
    """A PostgreSQL session advisory lock held on a connection of its own.

    It needs a direct connection: through PgBouncer in transaction mode the lock would stay on
    a server connection that other clients then use (and take it again, since a session may
    take its own lock twice), so a pooled ``db`` is refused.
    """

    def __init__(self, db: Database, key: int = LEADER_LOCK_KEY) -> None:
        if db.pooled:
            raise AnhError(
                "the scheduler's leader lock cannot go through PgBouncer in transaction mode: "
                "set ANH_DATABASE_DIRECT_URL to PostgreSQL itself"
            )
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
        conn = self.db.connect(autocommit=True, **_CLIENT_KEEPALIVES)
        for name, value in _SERVER_KEEPALIVES.items():
            conn.execute(f"SET {name} = {int(value)}")
        conn.execute(f"SET tcp_keepalives_count = {_SERVER_KEEPALIVE_COUNT}")
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


def build_scheduler(
    db: Database,
    settings: Settings,
    *,
    jobs: list[JobSpec] | None = None,
    now: dt.datetime | None = None,
) -> BackgroundScheduler:
    """A scheduler (not started) with every job of ``jobs`` (:data:`JOBS`), per field if needed.

    Each job's first run is its newest fire time within ``misfire_grace_s`` before ``now`` when
    there is one (a run the failover gap would otherwise skip), else its next fire time.
    """
    options = options_of(settings)
    # Missed runs coalesce into one, run late within the grace, one instance at a time.
    policy = {
        "coalesce": True,
        "misfire_grace_time": options.misfire_grace_s,
        "max_instances": 1,
    }
    scheduler = BackgroundScheduler(timezone=BOGOTA, job_defaults=policy)
    scheduler.add_listener(_count_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    fields = field_schedules(db)
    since = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(seconds=options.misfire_grace_s)
    for spec in JOBS if jobs is None else jobs:
        for outcome in ("success", "error"):  # at 0 from the start: increase() sees a first run
            scheduler_job_runs.labels(spec.id, outcome)
        if spec.per_field:
            for field in fields:
                trigger = spec.trigger(field, options)
                scheduler.add_job(
                    spec.func,
                    trigger=trigger,
                    next_run_time=_first_run(trigger, since),
                    args=(db, settings),
                    kwargs={"field_code": field.code},
                    id=f"{spec.id}:{field.code}",
                    name=f"{spec.description} ({field.code})",
                    replace_existing=True,
                    **policy,
                )
        else:
            trigger = spec.trigger(None, options)
            scheduler.add_job(
                spec.func,
                trigger=trigger,
                next_run_time=_first_run(trigger, since),
                args=(db, settings),
                id=spec.id,
                name=spec.description,
                replace_existing=True,
                **policy,
            )
    return scheduler


def _count_run(event: JobExecutionEvent) -> None:
    """``scheduler_job_runs_total{job_id, outcome}``; a per-field job's id without its field."""
    job_id = str(event.job_id).split(":", 1)[0]
    scheduler_job_runs.labels(job_id, "error" if event.exception else "success").inc()


def _first_run(trigger: Any, since: dt.datetime) -> dt.datetime | None:
    """The trigger's first fire time at or after ``since`` (in the past when one was missed)."""
    first: dt.datetime | None = trigger.get_next_fire_time(None, since)
    return first


def run_scheduler(
    db: Database,
    settings: Settings,
    stop: threading.Event,
    *,
    poll_s: float = POLL_S,
    jobs: list[JobSpec] | None = None,
    lock_key: int = LEADER_LOCK_KEY,
    lock_db: Database | None = None,
) -> None:
    """Run until ``stop`` is set: wait to become the leader, then run the jobs while leading.

    ``lock_db``: where the leader lock is held (a direct connection, when ``db`` goes through
    PgBouncer); the jobs run on ``db``.
    """
    lock = LeaderLock(lock_db or db, key=lock_key)
    scheduler: BackgroundScheduler | None = None
    scheduler_leader.set(0)
    status_due = 0.0  # the leader refreshes the report status metric from the database
    try:
        while not stop.is_set():
            try:
                acquired = scheduler is None and lock.try_acquire()
            except (psycopg.Error, AnhError) as exc:
                log.warning("scheduler: cannot reach the database (%s); retrying", exc)
                acquired = False
            if acquired:
                log.warning("scheduler: this process is the leader")
                scheduler = build_scheduler(db, settings, jobs=jobs)
                scheduler.start()
                scheduler_leader.set(1)
                status_due = 0.0
            elif scheduler is not None and not lock.held:
                log.warning("scheduler: leadership lost; stopping jobs")
                scheduler.shutdown(wait=False)
                scheduler = None
                scheduler_leader.set(0)
            if scheduler is not None and time.monotonic() >= status_due:
                refresh_report_status(db)
                status_due = time.monotonic() + REFRESH_S
            stop.wait(poll_s)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        lock.release()
        scheduler_leader.set(0)


__all__ = ["LeaderLock", "build_scheduler", "field_schedules", "run_scheduler"]
