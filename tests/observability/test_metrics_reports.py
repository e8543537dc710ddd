"""Report and scheduler metrics, set by the real code paths and read back from the registry.

- ``anh_report_last_day_end_timestamp_seconds{field_id, stage}``: raised by signing and by a
  successful delivery, and refreshed from the database by the scheduler leader (0 for a
  stage no report of the field has reached);
- ``anh_report_deliveries_total{field_id, status}``: every finished delivery attempt;
- ``scheduler_job_runs_total{job_id, outcome}``: every job run, a per-field job under its id
  without the field.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED  # type: ignore[import-untyped]
from apscheduler.triggers.date import DateTrigger  # type: ignore[import-untyped]

from anh_reporter.config import Settings
from anh_reporter.observability import metrics
from anh_reporter.observability.metrics import REGISTRY
from anh_reporter.reports import submission
from anh_reporter.reports.delivery import DeliveryFailed, FileDropChannel, HttpUploadChannel
from anh_reporter.scheduler import build_scheduler
from anh_reporter.scheduler.jobs import JobSpec
from anh_reporter.scheduler.report_status import refresh_report_status
from anh_reporter.storage.database import Database

from ..reports.helpers import DAY_D, FIELD, context, generate, ready_day

# Contract day 2026-02-02 of the test field runs from 06:00 America/Bogota (UTC-5), i.e.
# 11:00 UTC, for 24 h: it ends 2026-02-03 11:00 UTC.
DAY_END = dt.datetime(2026, 2, 3, 11, tzinfo=dt.UTC).timestamp()


def value(name: str, **labels: str) -> float:
    """A sample of the process's registry; 0 when the series does not exist (yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _field_id(conn: psycopg.Connection[Any], code: str) -> str:
    row = conn.execute("SELECT id FROM fields WHERE code = %s", (code,)).fetchone()
    assert row is not None
    return str(row[0])


def _answering(status: int, body: dict[str, Any]) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body))


def test_signing_and_delivery_set_the_report_metrics(
    db: Database, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    metrics.forget(metrics.report_last_day_end_timestamp)
    ready_day(conn)
    field = _field_id(conn, FIELD)
    last_end = "anh_report_last_day_end_timestamp_seconds"
    deliveries = "anh_report_deliveries_total"
    before = {s: value(deliveries, field_id=field, status=s) for s in ("rejected", "failed")}
    before["delivered"] = value(deliveries, field_id=field, status="delivered")

    generate(conn, context(tmp_path))
    assert value(last_end, field_id=field, stage="generated") == DAY_END
    assert REGISTRY.get_sample_value(last_end, {"field_id": field, "stage": "submitted"}) is None

    # The scheduler leader's refresh reads the same from the database, and 0 for "submitted".
    metrics.forget(metrics.report_last_day_end_timestamp)
    refresh_report_status(db)
    assert value(last_end, field_id=field, stage="generated") == DAY_END
    assert REGISTRY.get_sample_value(last_end, {"field_id": field, "stage": "submitted"}) == 0.0

    # The receiver refuses it (HTTP 400): one rejected delivery; nothing submitted.
    refusing = HttpUploadChannel("http://receiver/upload", transport=_answering(400, {}))
    result = submission.submit(conn, field_code=FIELD, day=DAY_D, channel=refusing, created_by="t")
    assert result.status == "rejected"
    assert value(deliveries, field_id=field, status="rejected") == before["rejected"] + 1
    # The receiver is down (HTTP 503, one attempt): one failed delivery.
    down = HttpUploadChannel(
        "http://receiver/upload", transport=_answering(503, {}), max_attempts=1
    )
    with pytest.raises(DeliveryFailed):
        submission.submit(conn, field_code=FIELD, day=DAY_D, channel=down, created_by="t")
    assert value(deliveries, field_id=field, status="failed") == before["failed"] + 1
    refresh_report_status(db)
    assert value(last_end, field_id=field, stage="submitted") == 0.0

    # Delivered to the file drop: submitted, the day's end on the "submitted" stage.
    drop = FileDropChannel(tmp_path / "drop")
    result = submission.submit(conn, field_code=FIELD, day=DAY_D, channel=drop, created_by="t")
    assert result.status == "submitted"
    assert value(deliveries, field_id=field, status="delivered") == before["delivered"] + 1
    assert value(last_end, field_id=field, stage="submitted") == DAY_END
    metrics.forget(metrics.report_last_day_end_timestamp)
    refresh_report_status(db)
    assert value(last_end, field_id=field, stage="submitted") == DAY_END
    assert value(last_end, field_id=field, stage="generated") == DAY_END


def _fine(db: Database, settings: Settings, *, field_code: str) -> None:
    """A per-field job that succeeds."""


def _broken(db: Database, settings: Settings) -> None:
    """A job that fails."""
    raise RuntimeError("this job always fails")


def test_scheduler_job_runs_are_counted_by_job_and_outcome(
    db: Database, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    ready_day(conn)  # one field: CAMPO-TEST
    now = dt.datetime.now(dt.UTC)
    jobs = [
        JobSpec("metrics-fine", _fine, lambda f, o: DateTrigger(now), True, "succeeds"),
        JobSpec("metrics-broken", _broken, lambda f, o: DateTrigger(now), False, "fails"),
    ]
    runs = "scheduler_job_runs_total"
    fine = value(runs, job_id="metrics-fine", outcome="success")
    broken = value(runs, job_id="metrics-broken", outcome="error")
    scheduler = build_scheduler(db, Settings(data_dir=tmp_path), jobs=jobs)
    # Every job's series exist before it runs (at 0), so that increase() sees its first run.
    for job_id in ("metrics-fine", "metrics-broken"):
        for outcome in ("success", "error"):
            labels = {"job_id": job_id, "outcome": outcome}
            assert REGISTRY.get_sample_value(runs, labels) is not None, labels
    finished: list[str] = []
    both = threading.Event()

    def heard(event: Any) -> None:  # runs after the counting listener (added first)
        finished.append(event.job_id)
        if len(finished) == 2:
            both.set()

    scheduler.add_listener(heard, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        assert both.wait(30), f"the jobs did not both run: {finished}"
    finally:
        scheduler.shutdown(wait=True)
    assert sorted(finished) == ["metrics-broken", f"metrics-fine:{FIELD}"]
    assert value(runs, job_id="metrics-fine", outcome="success") == fine + 1
    assert value(runs, job_id="metrics-broken", outcome="error") == broken + 1
    assert value(runs, job_id="metrics-broken", outcome="success") == 0
