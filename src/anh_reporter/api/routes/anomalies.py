"""Anomalies of the caller's fields: list (by field, severity, status, time), get, review.

Acknowledging and closing need ``anomalies.ack``; each call is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from anh_reporter.analytics import store
from anh_reporter.analytics.records import Severity
from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.api.params import MAX_ID32, MAX_ID64, UtcDatetime
from anh_reporter.api.permissions import Permission
from anh_reporter.api.responses import JsonResponse
from anh_reporter.api.scoping import Principal, require_field_visible
from anh_reporter.domain.timeutil import from_us

router = APIRouter(prefix="/anomalies", tags=["anomalies"])
Reader = Annotated[Principal, require(Permission.ANOMALIES_READ)]
Reviewer = Annotated[Principal, require(Permission.ANOMALIES_ACK)]
AnomalyId = Annotated[int, Path(ge=1, le=MAX_ID64)]
Id32 = Annotated[int | None, Query(ge=1, le=MAX_ID32)]


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


@router.get("", response_model=list[AnomalyOut])
async def list_anomalies(
    state: StateDep,
    me: Reader,
    field_id: Id32 = None,
    series_id: Id32 = None,
    pmo_id: Id32 = None,
    status: store.AnomalyStatus | None = None,
    min_severity: Annotated[
        Severity, Query(description="This severity or worse (INFO lists all)")
    ] = Severity.INFO,
    start: Annotated[
        UtcDatetime | None, Query(description="Episodes still running at or after this time")
    ] = None,
    end: Annotated[UtcDatetime | None, Query(description="Episodes begun before this time")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JsonResponse:
    """Anomalies of the caller's fields (or one of them), newest first."""
    if field_id is not None:
        require_field_visible(me, field_id)
    if start is not None and end is not None and end <= start:
        raise ApiError(422, "validation_error", "end: must be after start")
    fields = [field_id] if field_id is not None else me.fields

    def query(conn: Any) -> list[dict[str, Any]]:
        found = store.list_anomalies(
            conn,
            field_ids=fields,
            series_id=series_id,
            pmo_id=pmo_id,
            status=status,
            min_severity=min_severity,
            since=start,
            until=end,
            limit=limit,
        )
        return [anomaly_out(a) for a in found]

    return JsonResponse(await state.sync.run(query))


@router.get("/{anomaly_id}", response_model=AnomalyOut)
async def get_anomaly(anomaly_id: AnomalyId, state: StateDep, me: Reader) -> JsonResponse:
    """One anomaly of the caller's fields."""
    found = await state.sync.run(lambda conn: visible_anomaly(conn, me, anomaly_id))
    return JsonResponse(anomaly_out(found))


async def _review(
    request: Request, state: StateDep, me: Principal, anomaly_id: int, *, close: bool
) -> JsonResponse:
    changed = await state.sync.run(lambda conn: review(conn, me, anomaly_id, close=close))
    request.state.audit = {"anomaly_id": anomaly_id, "anomaly_status": changed.status.value}
    return JsonResponse(anomaly_out(changed))


@router.post("/{anomaly_id}/acknowledge", response_model=AnomalyOut)
async def acknowledge_anomaly(
    anomaly_id: AnomalyId, request: Request, state: StateDep, me: Reviewer
) -> JsonResponse:
    """Acknowledge an open anomaly (someone is looking at it); 409 if it is not open."""
    return await _review(request, state, me, anomaly_id, close=False)


@router.post("/{anomaly_id}/close", response_model=AnomalyOut)
async def close_anomaly(
    anomaly_id: AnomalyId, request: Request, state: StateDep, me: Reviewer
) -> JsonResponse:
    """Close an open or acknowledged anomaly; 409 if it is already closed."""
    return await _review(request, state, me, anomaly_id, close=True)
