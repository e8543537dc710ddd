"""Anomalies for the API: the analytics store's rows, scoped to the caller's fields.

Listing, acknowledging and closing go through :mod:`anh_reporter.analytics.store`; this module
only scopes them (an anomaly of a field the caller does not see is answered as missing) and
maps the store's errors to HTTP answers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from pydantic import BaseModel

from anh_reporter.analytics import store
from anh_reporter.analytics.records import Severity
from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.api.scoping import Principal
from anh_reporter.domain.timeutil import from_us


class AnomalyOut(BaseModel):
    """One anomaly episode of a series or a PMO, with its review status."""

    id: int
    field_id: int
    series_id: int | None
    pmo_id: int | None
    window_start: dt.datetime
    window_end: dt.datetime
    score: float
    severity: Severity
    detector: str
    model_version: int | None
    explanation: dict[str, Any]
    status: store.AnomalyStatus
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    closed_by: str | None
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


def anomaly_out(stored: store.StoredAnomaly) -> dict[str, Any]:
    """A stored anomaly as the JSON the API answers (see :class:`AnomalyOut`)."""
    a = stored.anomaly
    return {
        "id": stored.id,
        "field_id": a.field_id,
        "series_id": a.series_id,
        "pmo_id": a.pmo_id,
        "window_start": from_us(a.window_start_us),
        "window_end": from_us(a.window_end_us),
        "score": a.score,
        "severity": a.severity.value,
        "detector": a.detector,
        "model_version": a.model_version,
        "explanation": a.explanation,
        "status": stored.status.value,
        "acknowledged_by": stored.acknowledged_by,
        "acknowledged_at": stored.acknowledged_at,
        "closed_by": stored.closed_by,
        "closed_at": stored.closed_at,
        "created_at": stored.created_at,
        "updated_at": stored.updated_at,
    }


def visible_anomaly(
    conn: psycopg.Connection[Any], principal: Principal, anomaly_id: int
) -> store.StoredAnomaly:
    """The anomaly, or 404 when it does not exist or belongs to a field the caller cannot see."""
    found = store.get_anomaly(conn, anomaly_id=anomaly_id)
    if found is None or not principal.sees_field(found.anomaly.field_id):
        raise not_found("anomaly", anomaly_id)
    return found


def review(
    conn: psycopg.Connection[Any], principal: Principal, anomaly_id: int, *, close: bool
) -> store.StoredAnomaly:
    """Acknowledge (or close) one of the caller's anomalies; 409 when its status forbids it."""
    visible_anomaly(conn, principal, anomaly_id)
    change = store.close if close else store.acknowledge
    try:
        return change(conn, anomaly_id=anomaly_id, by=principal.name)
    except store.AnomalyNotFound:
        raise not_found("anomaly", anomaly_id) from None
    except store.AnomalyStateError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
