"""Cached analytics: daily data quality of a field, SPC chart of a series.

Answers are cached (L1 in process, L2 Redis) after authorisation and dropped when new data
for the field and day lands (:class:`anh_reporter.ingest.changes.ChangeNotifier`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from anh_reporter.api import analytics
from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.params import UtcDatetime
from anh_reporter.api.permissions import Permission
from anh_reporter.api.responses import JsonResponse, dumps
from anh_reporter.api.scoping import Principal, require_field_visible, visible_series

router = APIRouter(prefix="/analytics", tags=["analytics"])
Reader = Annotated[Principal, require(Permission.ANALYTICS_READ)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def cache_key(request: Request) -> str:
    """Path and query as sent: equal requests share an entry whoever asks.

    The raw query, not a normalised one: parsing and sorting it cost a fifth of a cache hit,
    and a client asks the same question the same way.
    """
    return f"{request.scope['path']}?{request.scope['query_string'].decode('latin-1')}"


def utc_days(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    """The UTC days from ``start`` to ``end`` (what a cached answer is tagged with)."""
    first, last = start.astimezone(dt.UTC).date(), end.astimezone(dt.UTC).date()
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


@router.get("/fields/{field_id}/daily-quality", response_model=analytics.DailyQuality)
async def get_daily_quality(
    field_id: Id,
    start_day: dt.date,
    end_day: dt.date,
    request: Request,
    state: StateDep,
    me: Reader,
) -> JsonResponse:
    """Per series and UTC day: samples expected, received and Good, completeness, stats."""
    require_field_visible(me, field_id)  # in memory: a cache hit needs no database
    days = analytics.day_range(start_day, end_day)
    key = cache_key(request)
    cached = await state.cache.get(key)
    if cached is not None:
        return JsonResponse(cached)
    async with state.pool.connection() as conn:
        result = await analytics.daily_quality(conn, field_id, start_day, end_day)
    body = dumps(result)
    await state.cache.set(key, body, [(field_id, d) for d in days])
    return JsonResponse(body)


@router.get("/series/{series_id}/spc", response_model=analytics.SpcChart)
async def get_spc(
    series_id: Id,
    start: UtcDatetime,
    end: UtcDatetime,
    request: Request,
    state: StateDep,
    me: Reader,
    baseline_points: Annotated[int, Query(ge=2, le=5000)] = 24,
) -> JsonResponse:
    """Hourly averages judged by SPC rules against limits from the first hours."""
    if end > start and (end - start) > dt.timedelta(days=analytics.MAX_DAYS):
        analytics.day_range(start.date(), end.date())  # raises with the limit named
    async with state.pool.connection() as conn:
        series = await visible_series(conn, me, series_id)
        key = cache_key(request)
        cached = await state.cache.get(key)
        if cached is not None:
            return JsonResponse(cached)
        result = await analytics.spc_chart(conn, series, start, end, baseline_points)
    body = dumps(result)
    await state.cache.set(key, body, [(series.field_id, d) for d in utc_days(start, end)])
    return JsonResponse(body)
