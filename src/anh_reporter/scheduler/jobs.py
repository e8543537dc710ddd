"""The scheduled jobs: one explicit list, :data:`JOBS`; nothing registers itself on import.

* ``daily-report`` (one per field): at the field's contract-day start hour plus
  ``report_delay_minutes`` in the field's timezone (America/Bogota by default), compute and
  generate + sign the report of the contract day that just ended. Generating is idempotent: a
  second run for the same day returns the signed version, so a double fire, a restart or a
  coalesced misfire creates no second version.
* ``recompute-late-data``: every 15 minutes, recompute the days whose telemetry changed after
  they were computed; a signed day whose figures changed is marked as needing an amendment.
* ``partitions``: daily, create the telemetry partitions ahead and drop the expired ones;
  archive those older than ``ANH_STORAGE__COLD_AFTER_DAYS`` to Parquet when it is set.
* ``train-anomaly-models``: daily, a new IsolationForest version per PMO on the last 14 days.
* ``score-anomalies``: hourly, score the last 6 hours of each PMO with its newest model.

Every trigger gets its timezone explicitly (APScheduler would otherwise use the machine's).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from anh_reporter.config import ReportSettings, Settings
from anh_reporter.domain.timeutil import US_PER_HOUR
from anh_reporter.production.config import load_field
from anh_reporter.production.contract_day import last_complete_day
from anh_reporter.production.daily import recompute_stale
from anh_reporter.reports import service
from anh_reporter.reports.errors import ReportBlocked
from anh_reporter.storage import partitions
from anh_reporter.storage.database import Database

log = logging.getLogger(__name__)

BOGOTA = ZoneInfo("America/Bogota")


@dataclass(frozen=True)
class FieldSchedule:
    """What a per-field trigger needs to know about its field."""

    code: str
    timezone: str
    start_hour: int


def daily_report(
    db: Database, settings: Settings, *, field_code: str, now: dt.datetime | None = None
) -> service.GeneratedReport | None:
    """Generate and sign the last complete contract day's report of a field (idempotent)."""
    now = now or dt.datetime.now(dt.UTC)
    context = service.Context.from_settings(settings)
    with db.connect() as conn:
        config = load_field(conn, field_code)
        day = last_complete_day(now, timezone=config.timezone, start_hour=config.start_hour)
        try:
            result = service.generate(
                conn,
                field_code=field_code,
                day=day.day,
                context=context,
                created_by="scheduler",
                now=now,
            )
        except ReportBlocked as exc:
            # Left as a draft with its findings; people see it in `report list`.
            log.warning("daily report %s %s blocked: %s", field_code, day.day, exc)
            return None
    log.info("daily report: %s", result.summary())
    return result


def recompute_late_data(db: Database, settings: Settings) -> int:
    """Recompute the days whose telemetry arrived after they were computed."""
    with db.connect() as conn:
        results = recompute_stale(conn)
    for r in results:
        if r.needs_amendment:
            log.warning("%s %s changed after signing: amend the report", r.field_code, r.day.day)
    return len(results)


def maintain_partitions(db: Database, settings: Settings) -> list[str]:
    """Create partitions ahead, drop expired ones; the names dropped."""
    now = dt.datetime.now(dt.UTC)
    # Dropping a partition needs the owner: use its URL when the deployment separates roles.
    if settings.database_owner_url:
        db = Database(settings.database_owner_url.replace("postgresql+psycopg://", "postgresql://"))
    with db.connect() as conn:
        if not partitions.is_native(conn):
            return []
        partitions.premake(conn, now, settings.storage.partitions_ahead)
        dropped = partitions.drop_expired(conn, now, settings.storage.retention_years)
        if settings.storage.cold_after_days is not None:
            from anh_reporter.storage import cold  # pyarrow: loaded here

            for part in cold.due(conn, now, settings.storage.cold_after_days):
                archived = cold.archive_partition(conn, part, settings.cold_dir)
                log.info("archived %s: %d readings to %s", part.name, archived.rows, archived.path)
        return dropped


def train_anomaly_models(db: Database, settings: Settings) -> int:
    """Retrain the anomaly model of every PMO on its last 14 days; how many were trained."""
    from anh_reporter.analytics import service as analytics  # scikit-learn: loaded here

    with db.connect() as conn:
        groups = analytics.pmo_groups(conn)
        trained = analytics.train_models(
            conn, groups=groups, end_us=analytics.window_end(None, US_PER_HOUR), days=14
        )
    return len(trained)


def score_anomalies(db: Database, settings: Settings) -> int:
    """Score the last 6 hours of every PMO with its newest model; new anomalies found."""
    from anh_reporter.analytics import service as analytics

    with db.connect() as conn:
        scored = analytics.score_models(
            conn, groups=analytics.pmo_groups(conn), until=None, hours=6
        )
    return sum(len(s.new) for s in scored)


def daily_report_trigger(field: FieldSchedule, options: ReportSettings) -> BaseTrigger:
    """Cron at the field's start hour + the report delay, in the field's timezone."""
    minutes = field.start_hour * 60 + options.report_delay_minutes
    return CronTrigger(
        hour=(minutes // 60) % 24, minute=minutes % 60, timezone=ZoneInfo(field.timezone)
    )


@dataclass(frozen=True)
class JobSpec:
    """A job: its id, what it runs, and its trigger (per field, or once)."""

    id: str
    func: Callable[..., Any]
    trigger: Callable[[FieldSchedule | None, ReportSettings], BaseTrigger]
    per_field: bool
    description: str


JOBS: list[JobSpec] = [
    JobSpec(
        id="daily-report",
        func=daily_report,
        trigger=lambda field, options: daily_report_trigger(_need(field), options),
        per_field=True,
        description="generate and sign the day's report at the contract-day hour",
    ),
    JobSpec(
        id="recompute-late-data",
        func=recompute_late_data,
        trigger=lambda field, options: IntervalTrigger(minutes=15, timezone=BOGOTA),
        per_field=False,
        description="recompute days that received late data; flag amendments",
    ),
    JobSpec(
        id="partitions",
        func=maintain_partitions,
        trigger=lambda field, options: CronTrigger(hour=2, minute=15, timezone=BOGOTA),
        per_field=False,
        description="create telemetry partitions ahead, drop expired ones, archive old ones",
    ),
    JobSpec(
        id="train-anomaly-models",
        func=train_anomaly_models,
        trigger=lambda field, options: CronTrigger(hour=3, minute=0, timezone=BOGOTA),
        per_field=False,
        description="retrain the anomaly model of every PMO on its last 14 days",
    ),
    JobSpec(
        id="score-anomalies",
        func=score_anomalies,
        trigger=lambda field, options: CronTrigger(minute=5, timezone=BOGOTA),
        per_field=False,
        description="score the last 6 hours of every PMO; store and count anomalies",
    ),
]
"""Every scheduled job."""


def _need(field: FieldSchedule | None) -> FieldSchedule:
    if field is None:
        raise ValueError("a per-field job needs its field")
    return field


def options_of(settings: Settings) -> ReportSettings:
    """The report settings the triggers use."""
    return settings.reports
