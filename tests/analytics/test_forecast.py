"""Arps decline fit, backtest and forecast: known curves recovered, errors computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anh_reporter.analytics.forecast import (
    ArpsKind,
    arps_rate,
    backtest,
    field_forecast,
    fit_arps,
    forecast,
    mape_pct,
)

DAYS = np.arange(180.0)


def test_arps_rate_by_hand() -> None:
    # Hyperbolic b = 0.5, Di = 0.1/day: q(10) = 1000 / (1 + 0.5 * 0.1 * 10)^2 = 1000 / 2.25.
    assert arps_rate([10.0], qi=1000.0, di=0.1, b=0.5)[0] == pytest.approx(1000.0 / 2.25)
    # Exponential: q(10) = 1000 e^-1; harmonic: q(10) = 1000 / (1 + 1).
    assert arps_rate([10.0], qi=1000.0, di=0.1, b=0.0)[0] == pytest.approx(1000.0 / math.e)
    assert arps_rate([10.0], qi=1000.0, di=0.1, b=1.0)[0] == pytest.approx(500.0)


@pytest.mark.parametrize(
    ("qi", "di", "b", "kind"),
    [
        (1000.0, 0.01, 0.5, ArpsKind.HYPERBOLIC),
        (1000.0, 0.005, 0.0, ArpsKind.EXPONENTIAL),
        (500.0, 0.02, 1.0, ArpsKind.HARMONIC),
        (185_000.0, -0.05 / 365.25, 0.0, ArpsKind.EXPONENTIAL),  # an incline (produced water)
    ],
)
def test_fit_recovers_an_exact_curve(qi: float, di: float, b: float, kind: ArpsKind) -> None:
    fit = fit_arps(DAYS, arps_rate(DAYS, qi=qi, di=di, b=b))
    # Stated tolerance on noise-free data: 1e-6 relative on qi and Di, 1e-4 on b.
    assert fit.qi == pytest.approx(qi, rel=1e-6)
    assert fit.di == pytest.approx(di, rel=1e-6)
    assert fit.b == pytest.approx(b, abs=1e-4)
    assert fit.kind is kind
    assert fit.days == DAYS.size and fit.t0 == 0.0


def test_fit_recovers_a_noisy_hyperbolic_decline() -> None:
    q = arps_rate(DAYS, qi=1000.0, di=0.01, b=0.5)
    noisy = q * (1.0 + 0.01 * np.random.default_rng(5).normal(size=DAYS.size))
    fit = fit_arps(DAYS, noisy)
    # Stated tolerance with 1 % noise on 180 days: qi within 1 %, Di within 5 %, b within 0.1.
    assert fit.qi == pytest.approx(1000.0, rel=0.01)
    assert fit.di == pytest.approx(0.01, rel=0.05)
    assert fit.b == pytest.approx(0.5, abs=0.1)
    assert fit.rmse == pytest.approx(float(np.sqrt(np.mean((noisy - fit.rate(DAYS)) ** 2))))


def test_missing_and_shut_in_days_are_left_out() -> None:
    q = arps_rate(DAYS, qi=1000.0, di=0.01, b=0.5)
    q[[3, 50]] = 0.0  # shut in
    q[[7]] = np.nan  # no data
    fit = fit_arps(DAYS, q)
    assert fit.days == DAYS.size - 3
    assert fit.qi == pytest.approx(1000.0, rel=1e-6)


def test_day_origin_does_not_matter() -> None:
    q = arps_rate(DAYS, qi=1000.0, di=0.01, b=0.5)
    fit = fit_arps(DAYS + 739_000, q)  # date ordinals
    assert fit.t0 == 739_000
    assert fit.rate([739_000 + 200])[0] == pytest.approx(
        arps_rate([200.0], qi=1000.0, di=0.01, b=0.5)[0], rel=1e-6
    )


def test_backtest_by_hand() -> None:
    # The first four days halve each day: an exact exponential, Di = ln 2 per day, so the fit
    # predicts 6.25 and 3.125 for days 4 and 5. They were 10 and 5: both 37.5 % off.
    t = np.arange(6.0)
    result = backtest(t, [100.0, 50.0, 25.0, 12.5, 10.0, 5.0], holdout_days=2)
    np.testing.assert_array_equal(result.t, [4.0, 5.0])
    np.testing.assert_allclose(result.predicted, [6.25, 3.125], rtol=1e-6)
    assert result.mape_pct == pytest.approx(37.5, rel=1e-6)


def test_mape_by_hand_skips_zero_actuals() -> None:
    # |100 - 110| / 100 = 10 %, |200 - 180| / 200 = 10 %; the zero day has no percentage.
    assert mape_pct([100.0, 200.0, 0.0], [110.0, 180.0, 5.0]) == pytest.approx(10.0)
    assert math.isnan(mape_pct([0.0], [1.0]))


def test_forecast_horizon_and_backtest() -> None:
    t = np.arange(30.0)
    q = arps_rate(t, qi=100.0, di=0.05, b=0.3)
    result = forecast(t, q, horizon_days=7, holdout_days=7)
    np.testing.assert_array_equal(result.t, np.arange(30.0, 37.0))
    np.testing.assert_allclose(
        result.rate, arps_rate(result.t, qi=100.0, di=0.05, b=0.3), rtol=1e-5
    )
    assert result.total == pytest.approx(float(result.rate.sum()))
    assert result.backtest is not None and result.backtest.mape_pct < 1e-3


def test_short_history_forecasts_without_a_backtest_and_too_short_is_refused() -> None:
    t = np.arange(6.0)
    result = forecast(t, arps_rate(t, qi=100.0, di=0.05, b=0.3), holdout_days=7)
    assert result.backtest is None
    with pytest.raises(ValueError, match="3 usable days"):
        forecast(np.arange(3.0), [3.0, 2.0, 1.0])


def test_field_forecast_adds_pmos() -> None:
    t = np.arange(30.0)
    a = forecast(t, arps_rate(t, qi=100.0, di=0.05, b=0.3))
    b = forecast(t, arps_rate(t, qi=50.0, di=0.01, b=0.0))
    field = field_forecast([a, b])
    np.testing.assert_allclose(field.rate, a.rate + b.rate)
    assert field.backtest is not None and a.backtest is not None and b.backtest is not None
    np.testing.assert_allclose(field.backtest.actual, a.backtest.actual + b.backtest.actual)
    late = forecast(t + 1, arps_rate(t, qi=50.0, di=0.01, b=0.0))
    with pytest.raises(ValueError, match="different days"):
        field_forecast([a, late])
