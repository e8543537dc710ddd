"""Telemetry of the caller's series: raw readings, rollups, downsampled views, CSV export."""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
from collections.abc import AsyncIterator
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.errors import ApiError
from anh_reporter.api.params import MAX_ID32, UtcDatetime
from anh_reporter.api.permissions import Permission
from anh_reporter.api.pool import ConnectionPool
from anh_reporter.api.responses import JsonResponse
from anh_reporter.api.scoping import (
    Principal,
    catalog_series,
    visible_series,
    visible_series_many,
)
from anh_reporter.api.state import ApiState
from anh_reporter.storage import readings
from anh_reporter.storage.readings import HOUR_S, BucketPlan
from anh_reporter.storage.series_repo import SeriesRef

log = logging.getLogger(__name__)
router = APIRouter(prefix="/telemetry", tags=["telemetry"])
Reader = Annotated[Principal, require(Permission.TELEMETRY_READ)]
SeriesId = Annotated[int, Path(ge=1, le=MAX_ID32, description="Series id")]
Start = Annotated[UtcDatetime, Query(description="From (inclusive), with a time zone")]
End = Annotated[UtcDatetime, Query(description="To (exclusive), with a time zone")]
MAX_BUCKETS = 10_000


class RawReadings(BaseModel):
    """Readings of one series in ``[start, end)``, as columns; ``next_start`` pages on."""

    series_id: int
    start: dt.datetime
    end: dt.datetime
    count: int
    truncated: bool
    next_start: dt.datetime | None
    time: list[dt.datetime]
    value: list[float | None]
    quality: list[int]


class Buckets(BaseModel):
    """Time buckets of one series: each list has one entry per bucket."""

    series_id: int
    start: dt.datetime
    end: dt.datetime
    interval_s: int
    source: str
    bucket: list[dt.datetime]
    count: list[int]
    good_count: list[int]
    avg: list[float | None]
    min: list[float | None]
    max: list[float | None]
    integral: list[float | None]
    first: list[float | None]
    last: list[float | None]


def check_range(start: dt.datetime, end: dt.datetime) -> None:
    """422 naming the parameters unless ``start < end``."""
    if end <= start:
        raise ApiError(
            422,
            "validation_error",
            f"end: must be after start (start={start.isoformat()}, end={end.isoformat()})",
        )


def plan_buckets(start: dt.datetime, end: dt.datetime, interval_s: int) -> BucketPlan:
    """The buckets to read; 422 naming the limit when there would be too many."""
    check_range(start, end)
    n = math.ceil((end - start).total_seconds() / interval_s)
    if n > MAX_BUCKETS:
        raise ApiError(
            422,
            "validation_error",
            f"interval_s: {interval_s} s over this range makes {n:,} buckets; the limit is "
            f"{MAX_BUCKETS:,} (use a larger interval_s or a shorter range)",
        )
    return readings.plan_buckets(start, end, interval_s)


def downsample_interval(start: dt.datetime, end: dt.datetime, points: int) -> int:
    """The bucket size giving at most ``points`` buckets; whole hours from an hour up."""
    check_range(start, end)
    seconds = max(1, math.ceil((end - start).total_seconds() / points))
    if seconds >= HOUR_S:
        seconds = math.ceil(seconds / HOUR_S) * HOUR_S
    return seconds


async def _series(state: ApiState, me: Principal, series_id: int) -> SeriesRef:
    """The caller's series, from the in-memory catalogue (a round trip less per request)."""
    found = catalog_series(me, await state.catalog.series(series_id), series_id)
    if found is None:
        async with state.pool.connection() as conn:
            found = await visible_series(conn, me, series_id)
    return found


async def _buckets(state: ApiState, series: SeriesRef, plan: BucketPlan) -> dict[str, Any]:
    async with state.reads.connection() as conn:
        columns = await readings.buckets(conn, series_id=series.id, plan=plan)
    return {
        "series_id": series.id,
        "start": plan.start,
        "end": plan.end,
        "interval_s": plan.interval_s,
        "source": plan.source,
        **columns,
    }


@router.get("/{series_id}/raw", response_model=RawReadings)
async def get_raw(
    series_id: SeriesId,
    start: Start,
    end: End,
    state: StateDep,
    me: Reader,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> JsonResponse:
    """Readings in ``[start, end)``; when ``truncated``, ask again from ``next_start``."""
    series = await _series(state, me, series_id)
    check_range(start, end)
    async with state.reads.connection() as conn:
        rows = await readings.raw_readings(
            conn, series_id=series.id, start=start, end=end, limit=limit + 1
        )
    truncated = len(rows) > limit
    rows = rows[:limit]
    return JsonResponse(
        {
            "series_id": series.id,
            "start": start,
            "end": end,
            "count": len(rows),
            "truncated": truncated,
            "next_start": (rows[-1][0] + dt.timedelta(microseconds=1)) if truncated else None,
            "time": [r[0] for r in rows],
            "value": [r[1] for r in rows],
            "quality": [r[2] for r in rows],
        }
    )


@router.get("/{series_id}/rollup", response_model=Buckets)
async def get_rollup(
    series_id: SeriesId,
    start: Start,
    end: End,
    state: StateDep,
    me: Reader,
    interval_s: Annotated[int, Query(ge=1, le=366 * 86_400)] = 3600,
) -> JsonResponse:
    """Aggregates per bucket of ``interval_s`` seconds (whole hours: from the hourly rollup)."""
    series = await _series(state, me, series_id)
    plan = plan_buckets(start, end, interval_s)
    return JsonResponse(await _buckets(state, series, plan))


@router.get("/{series_id}/downsampled", response_model=Buckets)
async def get_downsampled(
    series_id: SeriesId,
    start: Start,
    end: End,
    state: StateDep,
    me: Reader,
    points: Annotated[int, Query(ge=2, le=MAX_BUCKETS)] = 1000,
) -> JsonResponse:
    """At most ``points`` buckets over the range (for charts), with min and max kept."""
    series = await _series(state, me, series_id)
    interval = downsample_interval(start, end, points)
    plan = plan_buckets(start, end, interval)
    return JsonResponse(await _buckets(state, series, plan))


EXPORT_INTERRUPTED = b"# ERROR export interrupted: "


async def _stream_csv(
    pool: ConnectionPool, series: list[SeriesRef], start: dt.datetime, end: dt.datetime
) -> AsyncIterator[bytes]:
    """Takes its own pooled connection: a streaming response outlives the request's dependencies.

    The status (200) is sent before the rows: when the query fails half-way (a statement
    timeout, the database going away) the stream ends with a ``# ERROR export interrupted``
    line and the connection is then broken off (no clean end of the chunked body), so neither
    a person nor a program can take the rows above for the whole export.
    """
    async with pool.connection() as conn:
        try:
            async for chunk in readings.copy_csv(
                conn, series_ids=[s.id for s in series], start=start, end=end
            ):
                yield chunk
        except psycopg.Error as exc:
            error_id = secrets.token_hex(6)
            log.error("CSV export interrupted (error id %s): %s", error_id, exc)
            timeout = isinstance(exc, psycopg.errors.QueryCanceled)
            why = "the query ran past the statement timeout" if timeout else "a database error"
            yield (
                b"\n"
                + EXPORT_INTERRUPTED
                + f"{why}; the rows above are incomplete; ask for a shorter range "
                f"(error id {error_id})\n".encode()
            )
            raise


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, one reading a row"}},
)
async def export_csv(
    series_id: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_ID32)]], Query(min_length=1, max_length=200)
    ],
    start: Start,
    end: End,
    state: StateDep,
    me: Reader,
) -> StreamingResponse:
    """Readings of one or more series as CSV: ``time,series_id,series_code,value,quality``."""
    check_range(start, end)
    # No ConnDep here: the stream takes its own connection, and must not wait on this one.
    cap = state.api.export_max_rows
    async with state.reads.connection() as conn:
        series = await visible_series_many(conn, me, list(dict.fromkeys(series_id)))
        # Counted first, so that an export over the cap is a 422, not a 200 cut short.
        count = await readings.count_capped(
            conn, series_ids=[s.id for s in series], start=start, end=end, cap=cap
        )
    if count > cap:
        raise ApiError(
            422,
            "export_too_large",
            f"the export would hold more than {cap:,} rows (the limit, "
            "ANH_API__EXPORT_MAX_ROWS); ask for a shorter range or fewer series",
        )
    name = f"telemetry_{start:%Y%m%dT%H%M}_{end:%Y%m%dT%H%M}.csv"
    return StreamingResponse(
        _stream_csv(state.reads, series, start, end),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
