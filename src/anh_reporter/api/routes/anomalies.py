"""Anomalies of the caller's fields: list (by field, severity, status, time), get, review.

Acknowledging and closing need ``anomalies.ack``; each call is written to the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from anh_reporter.analytics import store
from anh_reporter.analytics.records import Severity
from anh_reporter.api import anomalies
from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.errors import ApiError
from anh_reporter.api.params import UtcDatetime
from anh_reporter.api.permissions import Permission
from anh_reporter.api.responses import JsonResponse
from anh_reporter.api.scoping import Principal, require_field_visible

router = APIRouter(prefix="/anomalies", tags=["anomalies"])
Reader = Annotated[Principal, require(Permission.ANOMALIES_READ)]
Reviewer = Annotated[Principal, require(Permission.ANOMALIES_ACK)]
AnomalyId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Id32 = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@router.get("", response_model=list[anomalies.AnomalyOut])
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
        return [anomalies.anomaly_out(a) for a in found]

    return JsonResponse(await state.sync.run(query))


@router.get("/{anomaly_id}", response_model=anomalies.AnomalyOut)
async def get_anomaly(anomaly_id: AnomalyId, state: StateDep, me: Reader) -> JsonResponse:
    """One anomaly of the caller's fields."""
    found = await state.sync.run(lambda conn: anomalies.visible_anomaly(conn, me, anomaly_id))
    return JsonResponse(anomalies.anomaly_out(found))


async def _review(
    request: Request, state: StateDep, me: Principal, anomaly_id: int, *, close: bool
) -> JsonResponse:
    changed = await state.sync.run(lambda conn: anomalies.review(conn, me, anomaly_id, close=close))
    request.state.audit = {"anomaly_id": anomaly_id, "anomaly_status": changed.status.value}
    return JsonResponse(anomalies.anomaly_out(changed))


@router.post("/{anomaly_id}/acknowledge", response_model=anomalies.AnomalyOut)
async def acknowledge_anomaly(
    anomaly_id: AnomalyId, request: Request, state: StateDep, me: Reviewer
) -> JsonResponse:
    """Acknowledge an open anomaly (someone is looking at it); 409 if it is not open."""
    return await _review(request, state, me, anomaly_id, close=False)


@router.post("/{anomaly_id}/close", response_model=anomalies.AnomalyOut)
async def close_anomaly(
    anomaly_id: AnomalyId, request: Request, state: StateDep, me: Reviewer
) -> JsonResponse:
    """Close an open or acknowledged anomaly; 409 if it is already closed."""
    return await _review(request, state, me, anomaly_id, close=True)
