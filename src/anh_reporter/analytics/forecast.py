"""Production forecast per PMO and per field: an Arps decline-curve fit, with its backtest error.

Pure numpy, no I/O, no scipy. Input: one figure per day, the day's average rate (equal to the
day's volume when the day is fully produced), at day numbers ``t`` (any origin; consecutive
days differ by 1). Days that are missing, non-finite or zero (shut-in) are left out of the fit.

Model (Arps, 1945)
    ``q(t) = qi / (1 + b·Di·t)^(1/b)`` for ``0 < b <= 1`` (``b = 1`` harmonic) and
    ``q(t) = qi·exp(-Di·t)`` for ``b = 0`` (exponential); ``t`` in days from the first day
    fitted, ``Di`` the nominal initial decline per day (negative: an incline, allowed only where
    ``1 + b·Di·t`` stays positive over the fitted and forecast days).

Least squares by variable projection
    For given ``(b, Di)`` the model is linear in ``qi``, whose best value is
    ``Σ q·f / Σ f²`` with ``f = q(t)/qi``. What is left, the residual sum of squares over
    ``(b, Di)``, is minimised by profiling: for each ``b`` of a grid over [0, 1], its best
    ``Di`` (a signed log grid, then finer and finer linear grids around the best); then finer
    grids of ``b`` around the best ``b``, each with its own best ``Di``, since the two are
    strongly correlated. No starting guess, no divergence, and the exponential and harmonic
    ends of the range are reached exactly. (scipy is installed with scikit-learn, but this
    needs nothing beyond numpy.)

Backtest
    The last ``holdout_days`` days are held out, the curve is fitted on the days before them
    and predicts them; MAPE = mean(|actual - predicted| / actual) × 100 over the held-out days
    (zero days skipped) is reported beside the forecast, which is fitted on every day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

MIN_FIT_DAYS: Final = 4
_B_COARSE: Final = np.linspace(0.0, 1.0, 101)
_DI_MAX_PER_DAY: Final = 1.0
_DI_COARSE: Final = np.concatenate(
    (-np.logspace(math.log10(_DI_MAX_PER_DAY), -7, 57), [0.0], np.logspace(-7, 0, 57))
)
_ZOOM_ROUNDS: Final = 16
_ZOOM_POINTS: Final = 11
_B_ROUNDS: Final = 9


class ArpsKind(StrEnum):
    """The three Arps decline types, by the exponent b."""

    EXPONENTIAL = "exponential"  # b = 0
    HYPERBOLIC = "hyperbolic"  # 0 < b < 1
    HARMONIC = "harmonic"  # b = 1


def arps_rate(t: npt.ArrayLike, *, qi: float, di: float, b: float) -> FloatArray:
    """Arps rate at ``t`` days after the reference day (NaN where the curve is undefined)."""
    time = np.asarray(t, dtype=np.float64)
    return np.asarray(qi * _shape(time[None, :], np.array([b]), np.array([di]))[0])


def _shape(t: FloatArray, b: FloatArray, di: FloatArray) -> FloatArray:
    """``q/qi`` for each (b, Di) pair (rows) at times ``t`` (columns, shape (1, n))."""
    b_col, di_col = b[:, None], di[:, None]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        base = 1.0 + b_col * di_col * t
        hyperbolic = np.power(
            np.where(base > 0, base, np.nan), -1.0 / np.where(b_col > 0, b_col, 1)
        )
        exponential = np.exp(-di_col * t)
    return np.where(b_col > 0, hyperbolic, exponential)


@dataclass(frozen=True)
class ArpsFit:
    """A fitted decline curve: ``qi`` at day ``t0``, ``di`` per day, exponent ``b``."""

    qi: float
    di: float
    b: float
    t0: float
    rmse: float
    days: int

    @property
    def kind(self) -> ArpsKind:
        """Exponential (b = 0), harmonic (b = 1) or hyperbolic."""
        if self.b == 0.0:
            return ArpsKind.EXPONENTIAL
        if self.b == 1.0:
            return ArpsKind.HARMONIC
        return ArpsKind.HYPERBOLIC

    @property
    def di_per_year(self) -> float:
        """The nominal initial decline per year (365.25 days)."""
        return self.di * 365.25

    def rate(self, t: npt.ArrayLike) -> FloatArray:
        """Predicted daily rate at day numbers ``t`` (same origin as the fitted days)."""
        return arps_rate(
            np.asarray(t, dtype=np.float64) - self.t0, qi=self.qi, di=self.di, b=self.b
        )


def _usable(t: npt.ArrayLike, rate: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    days = np.asarray(t, dtype=np.float64)
    q = np.asarray(rate, dtype=np.float64)
    if days.shape != q.shape or days.ndim != 1:
        raise ValueError(f"t and rate must be 1-D of one length, got {days.shape} and {q.shape}")
    keep = np.isfinite(days) & np.isfinite(q) & (q > 0)
    days, q = days[keep], q[keep]
    if days.size and np.any(np.diff(days) <= 0):
        raise ValueError("t must be strictly increasing (one figure per day)")
    return days, q


def _sse(
    t: FloatArray, q: FloatArray, b: FloatArray, di: FloatArray, valid_until: float
) -> tuple[FloatArray, FloatArray]:
    """Residual sum of squares and best qi for each (b, Di) pair; inf where not valid."""
    f = _shape(t[None, :], b, di)
    # An incline with b > 0 reaches a pole; refuse pairs whose curve breaks before valid_until.
    ok = np.isfinite(f).all(axis=1) & ((b == 0) | (1.0 + b * di * valid_until > 0))
    f = np.where(np.isfinite(f), f, 0.0)
    qf = f @ q
    ff = np.einsum("ij,ij->i", f, f)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        qi = np.where(ff > 0, qf / np.where(ff > 0, ff, 1.0), np.nan)
        # The residuals themselves, not q·q - (q·f)²/f·f, which cancels catastrophically.
        residual = q[None, :] - qi[:, None] * f
        sse = np.einsum("ij,ij->i", residual, residual)
    sse = np.where(ok & np.isfinite(qi) & (qi > 0) & np.isfinite(sse), sse, np.inf)
    return sse, qi


def _profile(
    x: FloatArray, q: FloatArray, b: FloatArray, valid_until: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For each b, the Di minimising the residual: (sse, di, qi) per b, vectorised over b.

    A coarse signed log grid of Di first, then finer and finer linear grids around each b's
    best Di (the residual is smooth in Di near its minimum).
    """
    nb = b.size
    bb = np.repeat(b, _DI_COARSE.size)
    dd = np.tile(_DI_COARSE, nb)
    sse, _ = _sse(x, q, bb, dd, valid_until)
    sse = sse.reshape(nb, -1)
    best = np.argmin(sse, axis=1)
    di = _DI_COARSE[best]
    lo = _DI_COARSE[np.maximum(best - 1, 0)]
    hi = _DI_COARSE[np.minimum(best + 1, _DI_COARSE.size - 1)]
    half = np.maximum(np.abs(hi - di), np.abs(di - lo))
    best_sse = sse[np.arange(nb), best]
    offsets = np.linspace(-1.0, 1.0, _ZOOM_POINTS)
    for _ in range(_ZOOM_ROUNDS):
        candidates = di[:, None] + half[:, None] * offsets[None, :]
        sse, _ = _sse(x, q, np.repeat(b, _ZOOM_POINTS), candidates.ravel(), valid_until)
        sse = sse.reshape(nb, -1)
        pick = np.argmin(sse, axis=1)
        better = sse[np.arange(nb), pick] <= best_sse
        di = np.where(better, candidates[np.arange(nb), pick], di)
        best_sse = np.where(better, sse[np.arange(nb), pick], best_sse)
        half = half / 4.0
    _, qi = _sse(x, q, b, di, valid_until)
    return best_sse, di, qi


def fit_arps(t: npt.ArrayLike, rate: npt.ArrayLike, *, horizon_days: float = 0.0) -> ArpsFit:
    """Least-squares Arps fit of daily rates (see module docstring).

    ``horizon_days``: how far past the last day the curve must stay defined (an incline with
    b > 0 is refused if it would blow up within the forecast).
    """
    days, q = _usable(t, rate)
    if days.size < MIN_FIT_DAYS:
        raise ValueError(
            f"{days.size} usable days (finite, > 0) to fit a decline curve; at least "
            f"{MIN_FIT_DAYS} are needed"
        )
    t0 = float(days[0])
    x = days - t0
    valid_until = float(x[-1]) + horizon_days
    # The exponent b: a grid over [0, 1], then finer grids around the best b, each b with its
    # own best Di (a profile), so that b and Di, strongly correlated, move together.
    b_axis = _B_COARSE
    sse, di, qi = _profile(x, q, b_axis, valid_until)
    i = int(np.argmin(sse))
    best = (float(sse[i]), float(b_axis[i]), float(di[i]), float(qi[i]))
    step = float(_B_COARSE[1] - _B_COARSE[0])
    for _ in range(_B_ROUNDS):
        b_axis = np.unique(np.clip(best[1] + step * np.linspace(-1.0, 1.0, _ZOOM_POINTS), 0, 1))
        sse, di, qi = _profile(x, q, b_axis, valid_until)
        i = int(np.argmin(sse))
        if sse[i] <= best[0]:
            best = (float(sse[i]), float(b_axis[i]), float(di[i]), float(qi[i]))
        step /= 5.0
    best_sse, b_best, di_best, qi_best = best
    return ArpsFit(
        qi=qi_best,
        di=di_best,
        b=b_best,
        t0=t0,
        rmse=math.sqrt(best_sse / days.size),
        days=int(days.size),
    )


@dataclass(frozen=True)
class Backtest:
    """Held-out days, what they were and what the curve fitted before them predicted."""

    t: FloatArray
    actual: FloatArray
    predicted: FloatArray

    @property
    def mape_pct(self) -> float:
        """MAPE over held-out days with a non-zero actual, in % (NaN if there is none)."""
        return mape_pct(self.actual, self.predicted)


def mape_pct(actual: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """mean(|actual - predicted| / |actual|) × 100 over the pairs with a finite non-zero actual."""
    a = np.asarray(actual, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    keep = np.isfinite(a) & (a != 0) & np.isfinite(p)
    if not keep.any():
        return math.nan
    return float(np.mean(np.abs(a[keep] - p[keep]) / np.abs(a[keep])) * 100.0)


def backtest(t: npt.ArrayLike, rate: npt.ArrayLike, *, holdout_days: int = 7) -> Backtest:
    """Fit on all but the last ``holdout_days`` usable days; predict those days."""
    if holdout_days < 1:
        raise ValueError(f"holdout_days must be >= 1, got {holdout_days}")
    days, q = _usable(t, rate)
    if days.size < MIN_FIT_DAYS + holdout_days:
        raise ValueError(
            f"{days.size} usable days for a backtest holding out {holdout_days}; at least "
            f"{MIN_FIT_DAYS + holdout_days} are needed"
        )
    split = days.size - holdout_days
    fit = fit_arps(days[:split], q[:split], horizon_days=float(days[-1] - days[split - 1]))
    return Backtest(days[split:], q[split:], fit.rate(days[split:]))


@dataclass(frozen=True)
class Forecast:
    """A forecast of one PMO (or a field): day numbers, daily rates, and its backtest."""

    t: FloatArray
    rate: FloatArray
    fit: ArpsFit | None
    backtest: Backtest | None

    @property
    def total(self) -> float:
        """The forecast volume over the horizon (sum of daily rates × 1 day)."""
        return float(self.rate.sum())


def forecast(
    t: npt.ArrayLike, rate: npt.ArrayLike, *, horizon_days: int = 7, holdout_days: int = 7
) -> Forecast:
    """Fit every usable day, predict the ``horizon_days`` after the last; backtest beside it.

    The backtest is None when the history is too short to hold ``holdout_days`` out.
    """
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be >= 1, got {horizon_days}")
    days, q = _usable(t, rate)
    fit = fit_arps(days, q, horizon_days=float(horizon_days))
    ahead = days[-1] + np.arange(1, horizon_days + 1, dtype=np.float64)
    test = (
        backtest(days, q, holdout_days=holdout_days)
        if days.size >= MIN_FIT_DAYS + holdout_days
        else None
    )
    return Forecast(ahead, fit.rate(ahead), fit, test)


def field_forecast(pmos: Sequence[Forecast]) -> Forecast:
    """The field's forecast: the PMOs' daily rates summed (same fluid, same days).

    Its backtest sums the PMOs' held-out actuals and predictions on the days all of them hold
    out; it is None when a PMO has none.
    """
    if not pmos:
        raise ValueError("no PMO forecast to add up")
    t = pmos[0].t
    for p in pmos[1:]:
        if not np.array_equal(p.t, t):
            raise ValueError("PMO forecasts cover different days; forecast them from the same day")
    rate = np.sum([p.rate for p in pmos], axis=0)
    tests = [p.backtest for p in pmos]
    combined: Backtest | None = None
    if tests and all(b is not None for b in tests):
        present = [b for b in tests if b is not None]
        common = present[0].t
        for b in present[1:]:
            common = np.intersect1d(common, b.t)
        if common.size:
            actual = np.sum([b.actual[np.isin(b.t, common)] for b in present], axis=0)
            predicted = np.sum([b.predicted[np.isin(b.t, common)] for b in present], axis=0)
            combined = Backtest(common, actual, predicted)
    return Forecast(t, rate, None, combined)
