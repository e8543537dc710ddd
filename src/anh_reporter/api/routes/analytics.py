"""Cached analytics: daily data quality of a field, SPC chart of a series.

Answers are cached (L1 in process, L2 Redis) after authorisation and dropped when new data
for the field and day lands (:class:`anh_reporter.ingest.changes.ChangeNotifier`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from anh_reporter.analytics.spc.chart import NotEnoughData, hourly_chart
from anh_reporter.api.cache import cache_key, utc_days
from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.errors import ApiError
from anh_reporter.api.params import MAX_ID32, UtcDatetime, check_days
from anh_reporter.api.permissions import Permission
from anh_reporter.api.responses import JsonResponse, dumps
from anh_reporter.api.scoping import Principal, require_field_visible, visible_series
from anh_reporter.storage import readings

router = APIRouter(prefix="/analytics", tags=["analytics"])
Reader = Annotated[Principal, require(Permission.ANALYTICS_READ)]
Id = Annotated[int, Path(ge=1, le=MAX_ID32)]
MAX_DAYS = 92


class SeriesDayQuality(BaseModel):
    """One series on one UTC day: samples against the configured period, and statistics."""

    series_id: int
    series_code: str
    variable: str
    day: dt.date
    expected: int
    count: int
    good_count: int
    completeness_pct: float
    avg: float | None
    min: float | None
    max: float | None


class DailyQuality(BaseModel):
    """Data quality of a field's series per UTC day."""

    field_id: int
    start_day: dt.date
    end_day: dt.date
    rows: list[SeriesDayQuality]


class SpcLimits(BaseModel):
    """Frozen centre line and sigma, with the 3-sigma control limits."""

    center: float
    sigma: float
    ucl: float
    lcl: float
    baseline_points: int


class SpcViolation(BaseModel):
    """One rule firing at one hour."""

    rule: str
    index: int
    time: dt.datetime
    side: str | None


class SpcChart(BaseModel):
    """Hourly averages of a series judged by SPC rules against a prior baseline."""

    series_id: int
    start: dt.datetime
    end: dt.datetime
    time: list[dt.datetime]
    value: list[float | None]
    limits: SpcLimits
    violations: list[SpcViolation]


def _quality_row(c: readings.SeriesDayCounts) -> dict[str, Any]:
    return {
        "series_id": c.series_id,
        "series_code": c.series_code,
        "variable": c.variable,
        "day": c.day,
        "expected": c.expected,
        "count": c.count,
        "good_count": c.good_count,
        "completeness_pct": round(min(100.0, 100.0 * c.good_count / c.expected), 2)
        if c.expected
        else 0.0,
        "avg": c.avg,
        "min": c.min,
        "max": c.max,
    }


@router.get("/fields/{field_id}/daily-quality", response_model=DailyQuality)
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
    days = check_days(start_day, end_day, MAX_DAYS)
    key = cache_key(request, start_day=start_day, end_day=end_day)
    cached = await state.cache.get(key)
    if cached is not None:
        return JsonResponse(cached)
    async with state.reads.connection() as conn:
        counts = await readings.daily_counts(
            conn, field_id=field_id, start_day=start_day, end_day=end_day
        )
    result = {
        "field_id": field_id,
        "start_day": start_day,
        "end_day": end_day,
        "rows": [_quality_row(c) for c in counts],
    }
    body = dumps(result)
    await state.cache.set(key, body, [(field_id, d) for d in days])
    return JsonResponse(body)


@router.get("/series/{series_id}/spc", response_model=SpcChart)
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
    if end > start and (end - start) > dt.timedelta(days=MAX_DAYS):
        check_days(start.date(), end.date(), MAX_DAYS)  # raises with the limit named
    async with state.reads.connection() as conn:
        series = await visible_series(conn, me, series_id)
        key = cache_key(request, start=start, end=end, baseline_points=baseline_points)
        cached = await state.cache.get(key)
        if cached is not None:
            return JsonResponse(cached)
        if end <= start:
            raise ApiError(422, "validation_error", "end: must be after start")
        hours = await readings.hourly_averages(conn, series_id=series.id, start=start, end=end)
    try:
        chart = hourly_chart(hours, baseline_points=baseline_points)
    except NotEnoughData as exc:
        raise ApiError(422, "not_enough_data", f"baseline_points: {exc}") from None
    limits = chart.limits
    result = {
        "series_id": series.id,
        "start": start,
        "end": end,
        "time": chart.time,
        "value": [None if np.isnan(v) else float(v) for v in chart.value],
        "limits": {
            "center": limits.center,
            "sigma": limits.sigma,
            "ucl": limits.ucl,
            "lcl": limits.lcl,
            "baseline_points": limits.baseline_points,
        },
        "violations": [
            {"rule": v.rule.value, "index": v.last, "time": chart.time[v.last], "side": v.side}
            for v in chart.violations
        ],
    }
    body = dumps(result)
    await state.cache.set(key, body, [(series.field_id, d) for d in utc_days(start, end)])
    return JsonResponse(body)
