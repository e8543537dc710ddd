"""Daily production, trends and forecast per field (``production.read``).

Daily figures and trends read what ``production compute`` (and the daily report) stored. The
forecast is analytics over telemetry: it is cached like the other analytics answers, and
dropped when readings of the field land for a day of its history.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, get_type_hints

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, create_model

from anh_reporter.analytics.field_forecast import NotEnoughData, field_forecast
from anh_reporter.analytics.service import AnalyticsError
from anh_reporter.api.cache import cache_key, utc_days
from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.api.params import FIRST_DAY, LAST_DAY, FieldId, UtcDatetime, check_days
from anh_reporter.api.permissions import Permission
from anh_reporter.api.responses import JsonResponse, dumps
from anh_reporter.api.scoping import Principal, require_field_visible
from anh_reporter.production import store
from anh_reporter.production.config import load_field
from anh_reporter.production.figures import DailyFigures
from anh_reporter.storage import site_reads

router = APIRouter(prefix="/production", tags=["production"])
Reader = Annotated[Principal, require(Permission.PRODUCTION_READ)]
MAX_TREND_DAYS = 1830
_RANGE = f"from {FIRST_DAY} to {LAST_DAY}"
ContractDay = Annotated[
    dt.date, Query(ge=FIRST_DAY, le=LAST_DAY, description=f"Contract day, {_RANGE}")
]


def _as_json_number(annotation: Any) -> Any:
    """A figure's type as the API writes it: exact decimals become JSON numbers."""
    if annotation is Decimal:
        return float
    if annotation == Decimal | None:
        return float | None
    return annotation


# The figures are declared once (DailyFigures); the API's row is that, plus the PMO.
_ROW_FIELDS: dict[str, Any] = {
    "pmo_id": (int, ...),
    "pmo_code": (str, ...),
    "pmo_name": (str, ...),
    "meter_type": (str, ...),
    **{
        name: (_as_json_number(annotation), ...)
        for name, annotation in get_type_hints(DailyFigures).items()
    },
    "computed_at": (dt.datetime, ...),
    "needs_amendment": (bool, ...),
}
PmoDayOut: type[BaseModel] = create_model(
    "PmoDayOut",
    __doc__="A PMO's stored figures for one contract day (volumes in the PMO's unit).",
    **_ROW_FIELDS,
)


class DailyProduction(BaseModel):
    """Every PMO of a field for one contract day (empty until the day is computed)."""

    field_id: int
    day: dt.date
    day_start: dt.datetime
    day_end: dt.datetime
    pmos: list[PmoDayOut]


class TrendRow(BaseModel):
    """One fluid of a field on one contract day: PMO figures added up."""

    day: dt.date
    fluid: str
    unit: str
    pmos: int
    gross_observed_volume: float | None
    gross_standard_volume: float | None
    net_standard_volume: float | None
    quality_score: float | None
    min_time_completeness_pct: float | None
    needs_amendment: bool


class ProductionTrend(BaseModel):
    """Daily volumes of a field over a range of contract days (days computed so far)."""

    field_id: int
    start_day: dt.date
    end_day: dt.date
    rows: list[TrendRow]


class ArpsFitOut(BaseModel):
    """The fitted decline curve: ``q(t) = qi / (1 + b·Di·t)^(1/b)`` (``b = 0``: exponential)."""

    kind: str
    qi: float
    di_per_day: float
    di_per_year: float
    b: float
    rmse: float
    days: int
    first_day: dt.date


class RateSeries(BaseModel):
    """Daily rates by contract day."""

    days: list[dt.date]
    rate: list[float | None]


class PmoForecast(BaseModel):
    """A PMO's history, fit and forecast; ``problem`` says why there is none."""

    pmo_id: int
    pmo_code: str
    series_id: int | None
    variable: str | None
    history: RateSeries
    fit: ArpsFitOut | None
    forecast: RateSeries | None
    total: float | None
    backtest_mape_pct: float | None
    problem: str | None


class FieldForecastTotal(BaseModel):
    """The field's forecast of one rate variable: its PMOs' forecasts added up."""

    variable: str
    forecast: RateSeries
    total: float
    backtest_mape_pct: float | None


class ProductionForecast(BaseModel):
    """Decline-curve forecast of a field, per PMO and in total, with backtest errors."""

    field_id: int
    history_start: dt.datetime
    history_end: dt.datetime
    horizon_days: int
    holdout_days: int
    pmos: list[PmoForecast]
    totals: list[FieldForecastTotal]


def _row(day: store.StoredDay) -> dict[str, Any]:
    figures = dataclasses.asdict(day.figures)
    return {
        "pmo_id": day.pmo.id,
        "pmo_code": day.pmo.code,
        "pmo_name": day.pmo.name,
        "meter_type": day.pmo.meter_type,
        **figures,
        "computed_at": day.computed_at,
        "needs_amendment": day.needs_amendment,
    }


def _daily(conn: Any, field_id: int, day: dt.date) -> dict[str, Any]:
    clock = site_reads.field_clock(conn, field_id)
    if clock is None:
        raise not_found("field", field_id)
    # The window as in force on that day (a contract-hour change moves it), as computed.
    window = load_field(conn, clock.code, day=day).day(day)
    return {
        "field_id": field_id,
        "day": day,
        "day_start": window.start,
        "day_end": window.end,
        "pmos": [_row(s) for s in store.load_day(conn, field_id, day)],
    }


@router.get("/fields/{field_id}/daily", response_model=DailyProduction)
async def get_daily_production(
    field_id: FieldId, day: ContractDay, state: StateDep, me: Reader
) -> JsonResponse:
    """Stored figures of every PMO of a field for one contract day (empty until computed)."""
    require_field_visible(me, field_id)
    return JsonResponse(await state.sync.run(lambda c: _daily(c, field_id, day)))


@router.get("/fields/{field_id}/trend", response_model=ProductionTrend)
async def get_production_trend(
    field_id: FieldId, start_day: ContractDay, end_day: ContractDay, state: StateDep, me: Reader
) -> JsonResponse:
    """Daily volumes of a field per fluid over a range of contract days (up to 1830)."""
    require_field_visible(me, field_id)
    check_days(start_day, end_day, MAX_TREND_DAYS)

    def run(conn: Any) -> dict[str, Any]:
        rows = store.daily_trend(conn, field_id, start_day, end_day)
        return {
            "field_id": field_id,
            "start_day": start_day,
            "end_day": end_day,
            "rows": [dataclasses.asdict(r) for r in rows],
        }

    return JsonResponse(await state.sync.run(run))


@router.get("/fields/{field_id}/forecast", response_model=ProductionForecast)
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
    key = cache_key(
        request,
        horizon_days=horizon_days,
        history_days=history_days,
        holdout_days=holdout_days,
        until=until,
    )
    cached = await state.cache.get(key)
    if cached is not None:
        return JsonResponse(cached)
    end = (until or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    if not FIRST_DAY.year <= end.year <= LAST_DAY.year:
        raise ApiError(422, "validation_error", f"until: {end.isoformat()} is not {_RANGE}")

    def run(conn: Any) -> dict[str, Any]:
        try:
            return field_forecast(
                conn,
                field_id,
                until=end,
                history_days=history_days,
                horizon_days=horizon_days,
                holdout_days=holdout_days,
            )
        except NotEnoughData as exc:
            raise ApiError(422, "not_enough_data", str(exc)) from None
        except AnalyticsError as exc:
            raise not_found("field", field_id) from exc

    body = dumps(await state.sync.run(run))
    start = end - dt.timedelta(days=history_days)
    await state.cache.set(key, body, [(field_id, d) for d in utc_days(start, end)])
    return JsonResponse(body)
