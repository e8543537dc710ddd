"""Telemetry of the caller's series: raw readings, rollups, downsampled views, CSV export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import Field

from anh_reporter.api import telemetry
from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.params import UtcDatetime
from anh_reporter.api.permissions import Permission
from anh_reporter.api.responses import JsonResponse
from anh_reporter.api.scoping import (
    Principal,
    SeriesRef,
    catalog_series,
    visible_series,
    visible_series_many,
)
from anh_reporter.api.state import ApiState

router = APIRouter(prefix="/telemetry", tags=["telemetry"])
Reader = Annotated[Principal, require(Permission.TELEMETRY_READ)]
SeriesId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Series id")]
Start = Annotated[UtcDatetime, Query(description="From (inclusive), with a time zone")]
End = Annotated[UtcDatetime, Query(description="To (exclusive), with a time zone")]


async def _series(state: ApiState, me: Principal, series_id: int) -> SeriesRef:
    """The caller's series, from the in-memory catalogue (a round trip less per request)."""
    found = catalog_series(me, await state.catalog.series(series_id), series_id)
    if found is None:
        async with state.pool.connection() as conn:
            found = await visible_series(conn, me, series_id)
    return found


@router.get("/{series_id}/raw", response_model=telemetry.RawReadings)
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
    async with state.pool.connection() as conn:
        return JsonResponse(await telemetry.raw(conn, series, start, end, limit))


@router.get("/{series_id}/rollup", response_model=telemetry.Buckets)
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
    plan = telemetry.plan_buckets(start, end, interval_s)
    async with state.pool.connection() as conn:
        return JsonResponse(await telemetry.buckets(conn, series, plan))


@router.get("/{series_id}/downsampled", response_model=telemetry.Buckets)
async def get_downsampled(
    series_id: SeriesId,
    start: Start,
    end: End,
    state: StateDep,
    me: Reader,
    points: Annotated[int, Query(ge=2, le=telemetry.MAX_BUCKETS)] = 1000,
) -> JsonResponse:
    """At most ``points`` buckets over the range (for charts), with min and max kept."""
    series = await _series(state, me, series_id)
    interval = telemetry.downsample_interval(start, end, points)
    plan = telemetry.plan_buckets(start, end, interval)
    async with state.pool.connection() as conn:
        return JsonResponse(await telemetry.buckets(conn, series, plan))


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, one reading a row"}},
)
async def export_csv(
    series_id: Annotated[
        list[Annotated[int, Field(ge=1, le=2**31 - 1)]], Query(min_length=1, max_length=200)
    ],
    start: Start,
    end: End,
    state: StateDep,
    me: Reader,
) -> StreamingResponse:
    """Readings of one or more series as CSV: ``time,series_id,series_code,value,quality``."""
    telemetry.check_range(start, end)
    # No ConnDep here: the stream takes its own connection, and must not wait on this one.
    async with state.pool.connection() as conn:
        series = await visible_series_many(conn, me, list(dict.fromkeys(series_id)))
    name = f"telemetry_{start:%Y%m%dT%H%M}_{end:%Y%m%dT%H%M}.csv"
    return StreamingResponse(
        telemetry.export_csv(state.pool, series, start, end),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
