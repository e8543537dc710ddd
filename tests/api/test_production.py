"""Daily production, trends and the decline forecast over HTTP, on the real database."""

from __future__ import annotations

import datetime as dt
import math

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from anh_reporter.domain.timeutil import to_us
from anh_reporter.storage.database import Database
from anh_reporter.storage.telemetry import TelemetryWriter

from .conftest import REPORT_DAY, World, bearer

pytestmark = pytest.mark.usefixtures("reporting_world")


async def test_daily_figures_are_the_stored_ones_and_the_trend_adds_them_up(
    client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str]
) -> None:
    url = f"/api/v1/production/fields/{world.own['field']}/daily"
    r = await client.get(
        url, params={"day": REPORT_DAY.isoformat()}, headers=bearer(tokens["viewer"])
    )
    assert r.status_code == 200, r.text
    body = r.json()
    # Contract day 2026-01-05 at 06:00 in Bogota (UTC-5, no DST): 11:00 UTC to 11:00 UTC.
    assert (body["day_start"], body["day_end"]) == ("2026-01-05T11:00:00Z", "2026-01-06T11:00:00Z")
    with db.connect() as conn:
        stored = dict(
            conn.execute(
                "SELECT p.code, d.net_standard_volume FROM daily_production d "
                "JOIN measurement_points p ON p.id = d.pmo_id "
                "WHERE p.field_id = %s AND d.contract_day = %s",
                (world.own["field"], REPORT_DAY),
            ).fetchall()
        )
    assert {p["pmo_code"]: p["net_standard_volume"] for p in body["pmos"]} == {
        code: float(v) for code, v in stored.items()
    }
    assert sorted(stored) == [
        "PMO-AGUA-01", "PMO-AGUA-DISP-01", "PMO-CRUDO-01", "PMO-GAS-01", "PMO-GAS-COMB-01",
        "PMO-GAS-TEA-01", "PMO-LACT-01",
    ]  # fmt: skip
    empty = await client.get(url, params={"day": "2025-01-01"}, headers=bearer(tokens["viewer"]))
    assert empty.status_code == 200 and empty.json()["pmos"] == []

    # The trend adds up the production PMOs of each fluid, per day (not the LACT, fuel, flare
    # and disposal meters downstream of them: the same fluid again).
    production = {"PMO-CRUDO-01", "PMO-GAS-01", "PMO-AGUA-01"}
    auth = bearer(tokens["viewer"])
    day = REPORT_DAY.isoformat()
    url = f"/api/v1/production/fields/{world.own['field']}/trend"
    r = await client.get(
        url, params={"start_day": "2026-01-01", "end_day": "2026-01-10"}, headers=auth
    )
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert {row["day"] for row in rows} == {day}  # the only day computed
    for row in rows:
        pmos = [
            p for p in body["pmos"] if p["fluid"] == row["fluid"] and p["pmo_code"] in production
        ]
        assert row["pmos"] == len(pmos)
        assert math.isclose(row["net_standard_volume"], sum(p["net_standard_volume"] for p in pmos))
    backwards = await client.get(
        url, params={"start_day": day, "end_day": "2026-01-01"}, headers=auth
    )
    assert backwards.status_code == 422 and "end_day" in backwards.json()["error"]["message"]
    too_long = await client.get(
        url, params={"start_day": "2020-01-01", "end_day": day}, headers=auth
    )
    assert too_long.status_code == 422 and "1830" in too_long.json()["error"]["message"]


def _exponential_history(db: Database, series_id: int, first: dt.date, days: int) -> None:
    """One reading a minute, the whole contract day at 1000·exp(-0.02·k) bbl/d on day k."""
    start = to_us(dt.datetime.combine(first, dt.time(11), dt.UTC))  # 06:00 in Bogota
    t = start + np.arange(days * 24 * 60, dtype=np.int64) * 60_000_000
    k = (t - start) // (86_400 * 1_000_000)
    with db.connect() as conn:
        TelemetryWriter(conn).write(
            np.full(len(t), series_id, dtype=np.int32),
            t,
            1000.0 * np.exp(-0.02 * k),
            np.zeros(len(t), dtype=np.uint32),
        )


async def test_forecast_recovers_an_exponential_decline_and_is_cached(
    app: FastAPI, client: httpx.AsyncClient, db: Database, world: World, tokens: dict[str, str]
) -> None:
    first = dt.date(2025, 6, 1)
    _exponential_history(db, world.own["series"], first, 15)
    url = f"/api/v1/production/fields/{world.own['field']}/forecast"
    params = {"until": "2025-06-16T11:00:00Z", "history_days": 20, "horizon_days": 3}
    r = await client.get(url, params=params, headers=bearer(tokens["viewer"]))
    assert r.status_code == 200, r.text
    body = r.json()
    oil = next(p for p in body["pmos"] if p["series_id"] == world.own["series"])
    assert oil["history"]["days"][0] == "2025-06-01" and len(oil["history"]["days"]) == 15
    fit = oil["fit"]
    assert fit["kind"] == "exponential" and fit["b"] == 0.0
    assert math.isclose(fit["di_per_day"], 0.02, rel_tol=1e-3)
    assert math.isclose(fit["qi"], 1000.0, rel_tol=1e-4)
    # Days 15, 16, 17 of the decline: 1000·e^-0.30, e^-0.32, e^-0.34.
    assert oil["forecast"]["days"] == ["2025-06-16", "2025-06-17", "2025-06-18"]
    for got, want in zip(oil["forecast"]["rate"], (740.818, 726.149, 711.770), strict=True):
        assert math.isclose(got, want, rel_tol=1e-4)
    assert oil["backtest_mape_pct"] < 0.01  # the curve is exact: the backtest too
    assert [t["variable"] for t in body["totals"]] == ["oil_rate"]
    others = [p for p in body["pmos"] if p["series_id"] != world.own["series"]]
    assert others and all(p["fit"] is None and p["problem"] for p in others)

    state = app.state.api
    hits = state.cache.hits
    again = await client.get(url, params=params, headers=bearer(tokens["engineer"]))
    assert again.json() == body and state.cache.hits == hits + 1
    await state.cache.invalidate(world.own["field"], dt.date(2025, 6, 10))  # a day of history
    await client.get(url, params=params, headers=bearer(tokens["viewer"]))
    assert state.cache.hits == hits + 1

    # Years before any reading: nothing to fit.
    url = f"/api/v1/production/fields/{world.own['field']}/forecast"
    params = {"until": "2024-03-01T00:00:00Z", "history_days": 30}
    r = await client.get(url, params=params, headers=bearer(tokens["viewer"]))
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "not_enough_data" and "history_days" in error["message"]
    other = await client.get(
        f"/api/v1/production/fields/{world.other['field']}/forecast",
        params=params,
        headers=bearer(tokens["viewer"]),
    )
    assert other.status_code == 404
