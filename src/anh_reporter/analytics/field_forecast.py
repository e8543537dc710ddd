"""A field's production forecast: Arps decline fits per PMO over its daily rates, and their sum.

Per PMO, its own fluid's rate series (:func:`anh_reporter.analytics.history.daily_rates`) is
fitted by :func:`anh_reporter.analytics.forecast.forecast`, with a backtest on the last days
held out; the field's total adds the PMOs' forecasts that start on the same day. The answer is
plain data (dates, floats; ``None`` where a number is not finite), as the API serves it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

import numpy as np
import psycopg

from anh_reporter.analytics import forecast as fc
from anh_reporter.analytics import history, service
from anh_reporter.analytics.service import AnalyticsError
from anh_reporter.domain.variables import VARIABLES, VariableKind

Conn = psycopg.Connection[Any]


class NotEnoughData(AnalyticsError):
    """No PMO of the field has enough whole days of rates to fit a decline curve."""


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

    :class:`NotEnoughData` when no PMO has enough whole days to fit a curve.
    """
    code = conn.execute("SELECT code FROM fields WHERE id = %s", (field_id,)).fetchone()
    if code is None:
        raise AnalyticsError(f"field {field_id} not found")
    since = until - dt.timedelta(days=history_days)
    try:
        groups = service.pmo_groups(conn, field_code=str(code[0]))
    except AnalyticsError as exc:
        raise NotEnoughData(str(exc)) from None
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
        raise NotEnoughData(
            f"history_days: no PMO of field {field_id} can be forecast from the {history_days} "
            f"days before {until.isoformat()} ({first})"
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
