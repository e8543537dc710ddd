"""Production for the API: a field's stored daily figures, their trend, and its forecast.

Daily figures are :func:`anh_reporter.production.daily.load_daily`; the forecast is the Arps
decline fit of :mod:`anh_reporter.analytics.forecast` over the daily rates of
:func:`anh_reporter.analytics.history.daily_rates`, per PMO (its own fluid's rate series) and
summed per field, as ``anh-reporter analytics forecast`` prints it. All functions are
synchronous (the services take a blocking connection): the routes run them in a worker thread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal
from typing import Any

import numpy as np
import psycopg
from pydantic import BaseModel

from anh_reporter.analytics import forecast as fc
from anh_reporter.analytics import history, service
from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.domain.variables import VARIABLES, VariableKind
from anh_reporter.production.contract_day import contract_day
from anh_reporter.production.daily import load_daily

Conn = psycopg.Connection[Any]
FIRST_DAY = dt.date(1970, 1, 2)
LAST_DAY = dt.date(2199, 12, 31)
MAX_TREND_DAYS = 1830


class PmoDayOut(BaseModel):
    """A PMO's stored figures for one contract day (volumes in the PMO's unit)."""

    pmo_id: int
    pmo_code: str
    pmo_name: str
    meter_type: str
    fluid: str
    method: str
    unit: str
    indicated_volume: float | None
    meter_factor: float | None
    gross_observed_volume: float | None
    ctl: float | None
    cpl: float | None
    ctpl: float | None
    gross_standard_volume: float | None
    bsw_percent: float | None
    net_standard_volume: float | None
    temperature_f: float | None
    pressure_psig: float | None
    api_gravity: float | None
    sources: dict[str, str]
    samples_expected: int
    samples_received: int
    samples_good: int
    longest_gap_s: float | None
    time_completeness_pct: float | None
    sample_completeness_pct: float | None
    quality_score: float | None
    quality_components: dict[str, Any]
    quality_explanation: str | None
    rollovers: int
    resets: int
    issues: list[dict[str, str]]
    manual_entry_ids: list[int]
    computed_at: dt.datetime
    needs_amendment: bool


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


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def daily(conn: Conn, field_id: int, day: dt.date) -> dict[str, Any]:
    """The stored figures of every PMO of the field for contract day ``day``."""
    row = conn.execute(
        "SELECT timezone, contract_day_start_hour FROM fields WHERE id = %s", (field_id,)
    ).fetchone()
    if row is None:
        raise not_found("field", field_id)
    window = contract_day(day, timezone=str(row[0]), start_hour=int(row[1]))
    pmos = [
        {k: _number(v) for k, v in dataclasses.asdict(s).items()}
        for s in load_daily(conn, field_id, day)
    ]
    return {
        "field_id": field_id,
        "day": day,
        "day_start": window.start,
        "day_end": window.end,
        "pmos": pmos,
    }


def check_days(start_day: dt.date, end_day: dt.date, limit: int) -> None:
    """422 naming the parameter unless ``start_day <= end_day`` within ``limit`` days."""
    if end_day < start_day:
        raise ApiError(
            422, "validation_error", f"end_day: {end_day} is before start_day {start_day}"
        )
    n = (end_day - start_day).days + 1
    if n > limit:
        raise ApiError(
            422, "validation_error", f"end_day: the range is {n} days; the limit is {limit}"
        )


_TREND_SQL = """
SELECT d.contract_day, d.fluid, d.unit, count(*)::int,
       sum(d.gross_observed_volume)::float8, sum(d.gross_standard_volume)::float8,
       sum(d.net_standard_volume)::float8, avg(d.quality_score)::float8,
       min(d.time_completeness_pct)::float8, bool_or(d.needs_amendment)
FROM daily_production d JOIN measurement_points p ON p.id = d.pmo_id
WHERE p.field_id = %s AND d.contract_day >= %s AND d.contract_day <= %s
GROUP BY d.contract_day, d.fluid, d.unit
ORDER BY d.contract_day, d.fluid
"""


def trend(conn: Conn, field_id: int, start_day: dt.date, end_day: dt.date) -> dict[str, Any]:
    """Per contract day and fluid: the field's volumes, mean quality, worst completeness."""
    check_days(start_day, end_day, MAX_TREND_DAYS)
    names = (
        "day", "fluid", "unit", "pmos", "gross_observed_volume", "gross_standard_volume",
        "net_standard_volume", "quality_score", "min_time_completeness_pct", "needs_amendment",
    )  # fmt: skip
    rows = conn.execute(_TREND_SQL, (field_id, start_day, end_day)).fetchall()
    return {
        "field_id": field_id,
        "start_day": start_day,
        "end_day": end_day,
        "rows": [dict(zip(names, r, strict=True)) for r in rows],
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _rates(days: np.ndarray, rate: np.ndarray) -> dict[str, Any]:
    return {
        "days": [dt.date.fromordinal(int(d)) for d in days],
        "rate": [_finite(float(r)) for r in rate],
    }


def _mape(result: fc.Forecast) -> float | None:
    return _finite(result.backtest.mape_pct) if result.backtest is not None else None


def field_forecast(
    conn: Conn,
    field_id: int,
    *,
    until: dt.datetime,
    history_days: int,
    horizon_days: int,
    holdout_days: int,
) -> dict[str, Any]:
    """Fit each PMO's daily rates over ``history_days`` before ``until``; forecast ahead.

    422 ``not_enough_data`` when no PMO has enough whole days to fit a curve.
    """
    code = conn.execute("SELECT code FROM fields WHERE id = %s", (field_id,)).fetchone()
    if code is None:
        raise not_found("field", field_id)
    since = until - dt.timedelta(days=history_days)
    try:
        groups = service.pmo_groups(conn, field_code=str(code[0]))
    except service.AnalyticsError as exc:
        raise ApiError(422, "not_enough_data", str(exc)) from None
    pmos: list[dict[str, Any]] = []
    per_variable: dict[str, list[fc.Forecast]] = defaultdict(list)
    for pmo_id, series in groups.items():
        rate = next(
            (
                s
                for s in series
                if VARIABLES[s.info.variable].kind is VariableKind.RATE
                and VARIABLES[s.info.variable].fluid == s.pmo_kind
            ),
            None,
        )
        out: dict[str, Any] = {
            "pmo_id": pmo_id,
            "pmo_code": series[0].pmo_code,
            "series_id": rate.info.series_id if rate else None,
            "variable": rate.info.variable if rate else None,
            "history": {"days": [], "rate": []},
            "fit": None,
            "forecast": None,
            "total": None,
            "backtest_mape_pct": None,
            "problem": None,
        }
        pmos.append(out)
        if rate is None:
            out["problem"] = f"no {series[0].pmo_kind} rate series"
            continue
        rates = history.daily_rates(conn, series_id=rate.info.series_id, since=since, until=until)
        out["history"] = _rates(rates.day, rates.rate)
        try:
            result = fc.forecast(
                rates.day, rates.rate, horizon_days=horizon_days, holdout_days=holdout_days
            )
        except ValueError as exc:
            out["problem"] = str(exc)
            continue
        per_variable[rate.info.variable].append(result)
        fit = result.fit
        assert fit is not None  # noqa: S101 - narrows for mypy: results without a fit were skipped
        out["fit"] = {
            "kind": fit.kind.value,
            "qi": fit.qi,
            "di_per_day": fit.di,
            "di_per_year": fit.di_per_year,
            "b": fit.b,
            "rmse": fit.rmse,
            "days": fit.days,
            "first_day": dt.date.fromordinal(int(fit.t0)),
        }
        out["forecast"] = _rates(result.t, result.rate)
        out["total"] = _finite(result.total)
        out["backtest_mape_pct"] = _mape(result)
    if not per_variable:
        first = next((p["problem"] for p in pmos if p["problem"]), "no PMO")
        raise ApiError(
            422,
            "not_enough_data",
            f"history_days: no PMO of field {field_id} can be forecast from the {history_days} "
            f"days before {until.isoformat()} ({first})",
        )
    totals = []
    for variable, results in per_variable.items():
        # Forecasts start the day after each PMO's last day: add up only those that agree.
        try:
            total = fc.field_forecast(results)
        except ValueError:
            continue
        totals.append(
            {
                "variable": variable,
                "forecast": _rates(total.t, total.rate),
                "total": _finite(total.total) or 0.0,
                "backtest_mape_pct": _mape(total),
            }
        )
    return {
        "field_id": field_id,
        "history_start": since,
        "history_end": until,
        "horizon_days": horizon_days,
        "holdout_days": holdout_days,
        "pmos": pmos,
        "totals": totals,
    }
