"""Daily production, trends and forecast per field (``production.read``).

Daily figures and trends read what ``production compute`` (and the daily report) stored. The
forecast is analytics over telemetry: it is cached like the other analytics answers, and
dropped when readings of the field land for a day of its history.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from anh_reporter.api import production
from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.errors import ApiError
from anh_reporter.api.params import UtcDatetime
from anh_reporter.api.permissions import Permission
from anh_reporter.api.responses import JsonResponse, dumps
from anh_reporter.api.routes.analytics import cache_key, utc_days
from anh_reporter.api.scoping import Principal, require_field_visible

router = APIRouter(prefix="/production", tags=["production"])
Reader = Annotated[Principal, require(Permission.PRODUCTION_READ)]
FieldId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_RANGE = f"from {production.FIRST_DAY} to {production.LAST_DAY}"
ContractDay = Annotated[
    dt.date,
    Query(ge=production.FIRST_DAY, le=production.LAST_DAY, description=f"Contract day, {_RANGE}"),
]


@router.get("/fields/{field_id}/daily", response_model=production.DailyProduction)
async def get_daily_production(
    field_id: FieldId, day: ContractDay, state: StateDep, me: Reader
) -> JsonResponse:
    """Stored figures of every PMO of a field for one contract day (empty until computed)."""
    require_field_visible(me, field_id)
    return JsonResponse(await state.sync.run(lambda c: production.daily(c, field_id, day)))


@router.get("/fields/{field_id}/trend", response_model=production.ProductionTrend)
async def get_production_trend(
    field_id: FieldId, start_day: ContractDay, end_day: ContractDay, state: StateDep, me: Reader
) -> JsonResponse:
    """Daily volumes of a field per fluid over a range of contract days (up to 1830)."""
    require_field_visible(me, field_id)
    production.check_days(start_day, end_day, production.MAX_TREND_DAYS)
    return JsonResponse(
        await state.sync.run(lambda c: production.trend(c, field_id, start_day, end_day))
    )


@router.get("/fields/{field_id}/forecast", response_model=production.ProductionForecast)
async def get_production_forecast(
    field_id: FieldId,
    request: Request,
    state: StateDep,
    me: Reader,
    horizon_days: Annotated[int, Query(ge=1, le=365, description="Days to forecast")] = 30,
    history_days: Annotated[
        int, Query(ge=8, le=3650, description="Days of history to fit before `until`")
    ] = 90,
    holdout_days: Annotated[
        int, Query(ge=1, le=60, description="Last days held out for the backtest")
    ] = 7,
    until: Annotated[
        UtcDatetime | None, Query(description="End of the history (default: now)")
    ] = None,
) -> JsonResponse:
    """Arps decline forecast per PMO and for the field, with each fit's backtest MAPE."""
    require_field_visible(me, field_id)  # in memory: a cache hit needs no database
    key = cache_key(request)
    cached = await state.cache.get(key)
    if cached is not None:
        return JsonResponse(cached)
    end = (until or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    if not production.FIRST_DAY.year <= end.year <= production.LAST_DAY.year:
        raise ApiError(422, "validation_error", f"until: {end.isoformat()} is not {_RANGE}")

    def run(conn: Any) -> dict[str, Any]:
        return production.field_forecast(
            conn,
            field_id,
            until=end,
            history_days=history_days,
            horizon_days=horizon_days,
            holdout_days=holdout_days,
        )

    body = dumps(await state.sync.run(run))
    start = end - dt.timedelta(days=history_days)
    await state.cache.set(key, body, [(field_id, d) for d in utc_days(start, end)])
    return JsonResponse(body)
