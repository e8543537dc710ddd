"""Readings over HTTP for machines (API key with ``telemetry.write``) and manual uploads."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.errors import ApiError
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.bus.base import BusUnavailable
from anh_reporter.ingest import posted

router = APIRouter(prefix="/ingest", tags=["ingest"])
Writer = Annotated[Principal, require(Permission.TELEMETRY_WRITE)]


class RejectOut(BaseModel):
    """A reading or record that was quarantined, and why."""

    index: int | None
    reason: str
    message: str


class IngestResult(BaseModel):
    """What happened to the readings posted."""

    received: int
    accepted: int
    rejected: int
    rejects: list[RejectOut]
    rejects_truncated: bool


_READING = {
    "type": "object",
    "properties": {
        "series": {"type": "string", "description": "Series code"},
        "series_id": {"type": "integer"},
        "time": {"type": "string", "format": "date-time"},
        "time_us": {"type": "integer", "description": "µs since 1970-01-01T00:00:00Z"},
        "value": {"type": ["number", "null"]},
        "quality": {
            "description": "OPC UA status code, or good / uncertain / bad (default good)",
            "oneOf": [{"type": "integer"}, {"type": "string"}],
        },
    },
}
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["readings"],
                    "properties": {"readings": {"type": "array", "items": _READING}},
                }
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One reading object per line"}
            },
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": "Header time,series,value[,quality] or "
                    "time,pmo,variable,value[,quality]",
                }
            },
        },
    }
}


@router.post("/readings", status_code=202, openapi_extra=_BODY)
async def post_readings(
    request: Request,
    state: StateDep,
    me: Writer,
    source: Annotated[str | None, Query(max_length=100)] = None,
) -> IngestResult:
    """Validate readings now (rejects are quarantined and listed), then queue the rest."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    rows = await state.catalog.rows()
    catalog = posted.catalog_for(me.field_ids, rows)
    label = f"api:{me.kind}:{me.id}" + (f":{source}" if source else "")
    try:
        # Parsed in a worker thread: a body of megabytes must not stall the event loop (and
        # with it /health and every other request of this process).
        if kind == "application/json":
            parsed = await anyio.to_thread.run_sync(posted.parse_json, body, catalog, label)
        elif kind in ("application/x-ndjson", "application/jsonl", "application/ndjson"):
            parsed = await anyio.to_thread.run_sync(posted.parse_ndjson, body, catalog, label)
        elif kind == "text/csv":
            parsed = await posted.parse_csv(body, catalog, label)
        else:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"Content-Type {kind or '(none)'!r} is not accepted; use application/json, "
                "application/x-ndjson or text/csv",
            )
    except posted.PostedBodyError as exc:
        raise ApiError(400 if exc.unreadable else 422, exc.code, exc.message) from None
    try:
        result = await posted.ingest_posted(
            parsed=parsed,
            catalog=catalog,
            rows=rows,
            database=state.pool.database,
            bus=state.bus,
            settings=state.settings.ingest,
        )
    except BusUnavailable as exc:
        raise ApiError(
            503,
            "bus_unavailable",
            f"readings validated but not accepted: {exc}; retry later",
            headers={"Retry-After": "5"},
        ) from None
    request.state.audit = {"accepted": result.accepted, "rejected": result.rejected}
    return IngestResult(
        received=result.received,
        accepted=result.accepted,
        rejected=result.rejected,
        rejects=[
            RejectOut(index=r.index, reason=r.reason, message=r.message) for r in result.rejects
        ],
        rejects_truncated=result.rejects_truncated,
    )
