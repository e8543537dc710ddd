"""Windows of features per PMO, from raw samples or hourly rollups: pure numpy, no I/O.

A PMO's series (oil rate, meter pressure and temperature, BSW...) are cut into the same fixed
windows. Each window of each series is summarised like an hourly rollup row (count, good count,
mean, min, max of the Good samples), so raw samples and stored rollups give the same figures,
and each summary becomes four features named ``<name>.<feature>``:

========= =====================================================================================
level     the window's mean minus the median of the means of the ``context`` windows before it
range     max - min of the Good samples: 0 when the value is stuck, large on a spike
delta     mean minus the previous window's mean
good      Good samples / samples received (0 when nothing was received)
========= =====================================================================================

Why a level relative to the preceding windows (by default the preceding day) rather than the
mean itself: production declines and properties wander over weeks (BSW, API gravity), so a
model trained on absolute levels calls the normal decline an anomaly a few days after training.
Relative to the last day, a meter factor change or a drift stands out for hours, the slow
decline does not, and the daily cycle is part of what the model learns.

A window with no Good sample has NaN level, range and delta, and so do the windows whose
context has fewer than half its windows with data; rows with a NaN are left out of training and
scoring (:attr:`FeatureMatrix.complete`): a data gap is the business of the status and
completeness rules, not of the model.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from anh_reporter.domain.quality import good_mask
from anh_reporter.domain.variables import PUMP_DRIVEN, VARIABLES, VariableKind

FloatArray = npt.NDArray[np.float64]
Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

FEATURES: Final = ("level", "range", "delta", "good")
"""The features of each series in a window, in column order."""


def is_analysed(variable: str) -> bool:
    """Whether analytics watches a variable: rates and properties, not totalizers or states.

    Pump-driven properties (speed, current, power, strokes) are left out: they drop to zero
    whenever the pump stops, which only the pump status can explain.
    """
    known = VARIABLES.get(variable)
    if known is None:
        return False
    return known.kind in (VariableKind.RATE, VariableKind.PROPERTY) and variable not in PUMP_DRIVEN


def _as_codes(quality: npt.ArrayLike | None, n: int) -> npt.NDArray[np.uint32]:
    """Status codes as unsigned; the database's signed int4 form is read as its bit pattern."""
    if quality is None:
        return np.zeros(n, dtype=np.uint32)
    codes = np.asarray(quality)
    if codes.dtype == np.int32:
        return codes.view(np.uint32)
    return codes.astype(np.uint32)


@dataclass(frozen=True)
class WindowStats:
    """One series summarised on a grid of windows ``[start, start + window_us)``.

    ``mean``, ``min`` and ``max`` are over the Good, finite samples (NaN when there is none);
    ``count`` counts every sample received, ``good_count`` the Good finite ones.
    """

    start_us: Int64Array
    window_us: int
    count: Int64Array
    good_count: Int64Array
    mean: FloatArray
    min: FloatArray
    max: FloatArray


def window_grid(start_us: int, end_us: int, window_us: int) -> Int64Array:
    """Window starts ``start_us, start_us + window_us, ...`` covering ``[start_us, end_us)``."""
    if window_us <= 0:
        raise ValueError(f"window_us must be > 0, got {window_us}")
    if end_us <= start_us:
        raise ValueError(f"end_us must be after start_us, got {start_us} .. {end_us}")
    return np.arange(start_us, end_us, window_us, dtype=np.int64)


def window_stats(
    times_us: npt.ArrayLike,
    values: npt.ArrayLike,
    quality: npt.ArrayLike | None = None,
    *,
    start_us: int,
    end_us: int,
    window_us: int,
) -> WindowStats:
    """Summarise raw samples on the window grid of ``[start_us, end_us)``, vectorised.

    Samples outside the range are ignored; their order does not matter.
    """
    starts = window_grid(start_us, end_us, window_us)
    t = np.asarray(times_us, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    if t.shape != v.shape or t.ndim != 1:
        raise ValueError(f"times_us and values must be 1-D of one length, got {t.shape} {v.shape}")
    codes = _as_codes(quality, t.size)
    inside = (t >= start_us) & (t < end_us)
    index = (t[inside] - start_us) // window_us
    good = good_mask(codes[inside]) & np.isfinite(v[inside])
    n = starts.size
    count = np.bincount(index, minlength=n).astype(np.int64)
    good_index, good_values = index[good], v[inside][good]
    good_count = np.bincount(good_index, minlength=n).astype(np.int64)
    total = np.bincount(good_index, weights=good_values, minlength=n)
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    np.minimum.at(lo, good_index, good_values)
    np.maximum.at(hi, good_index, good_values)
    empty = good_count == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(empty, np.nan, total / np.maximum(good_count, 1))
    return WindowStats(
        starts,
        window_us,
        count,
        good_count,
        mean,
        np.where(empty, np.nan, lo),
        np.where(empty, np.nan, hi),
    )


def stats_from_rollups(
    hour_us: npt.ArrayLike,
    count: npt.ArrayLike,
    good_count: npt.ArrayLike,
    avg: npt.ArrayLike,
    minimum: npt.ArrayLike,
    maximum: npt.ArrayLike,
    *,
    start_us: int,
    end_us: int,
    window_us: int,
) -> WindowStats:
    """Place rollup rows (one per window start) on the grid; absent windows count 0 samples.

    ``window_us`` is the rollup's period (an hour for ``telemetry_hourly``); a row whose start
    is not on the grid is refused, since it would be silently misplaced.
    """
    starts = window_grid(start_us, end_us, window_us)
    hours = np.asarray(hour_us, dtype=np.int64)
    offset = hours - start_us
    if np.any(offset % window_us):
        bad = int(hours[np.flatnonzero(offset % window_us)[0]])
        raise ValueError(
            f"rollup row starting at {bad} µs is not on the {window_us} µs grid from {start_us}"
        )
    inside = (hours >= start_us) & (hours < end_us)
    at = offset[inside] // window_us
    n = starts.size

    def place(column: npt.ArrayLike, fill: float) -> FloatArray:
        out = np.full(n, fill)
        out[at] = np.asarray(column, dtype=np.float64)[inside]
        return out

    counts = place(count, 0.0).astype(np.int64)
    goods = place(good_count, 0.0).astype(np.int64)
    empty = goods == 0
    return WindowStats(
        starts,
        window_us,
        counts,
        goods,
        np.where(empty, np.nan, place(avg, np.nan)),
        np.where(empty, np.nan, place(minimum, np.nan)),
        np.where(empty, np.nan, place(maximum, np.nan)),
    )


@dataclass(frozen=True)
class FeatureMatrix:
    """Rows are windows (``window_start_us``), columns are named features."""

    window_start_us: Int64Array
    window_us: int
    names: tuple[str, ...]
    values: FloatArray

    def __post_init__(self) -> None:
        if self.values.shape != (self.window_start_us.size, len(self.names)):
            raise ValueError(
                f"feature values have shape {self.values.shape}, expected "
                f"({self.window_start_us.size}, {len(self.names)})"
            )

    @property
    def complete(self) -> BoolArray:
        """Rows where every feature is finite (the rows a model may train on or score)."""
        return np.asarray(np.isfinite(self.values).all(axis=1))

    def select(self, names: Sequence[str]) -> FeatureMatrix:
        """The same rows with the columns ``names``, in that order (a model's feature order)."""
        position = {name: i for i, name in enumerate(self.names)}
        missing = [n for n in names if n not in position]
        if missing:
            raise ValueError(
                f"features {missing} are missing; the data has {list(self.names)} "
                "(did the PMO's series change since the model was trained?)"
            )
        columns = [position[n] for n in names]
        return FeatureMatrix(
            self.window_start_us, self.window_us, tuple(names), self.values[:, columns]
        )


def trailing_median(values: FloatArray, context: int) -> FloatArray:
    """Median of the ``context`` values before each one (NaN values ignored), vectorised.

    NaN where fewer than half of those ``context`` values are finite (at the start, or after a
    long gap).
    """
    if context < 1:
        raise ValueError(f"context must be >= 1 window, got {context}")
    padded = np.concatenate((np.full(context, np.nan), values))
    windows = sliding_window_view(padded[:-1], context)  # row i: values i-context .. i-1
    enough = np.isfinite(windows).sum(axis=1) * 2 >= context
    out = np.full(values.size, np.nan)
    if enough.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows are masked anyway
            out[enough] = np.nanmedian(windows[enough], axis=1)
    return out


def pmo_features(stats: Mapping[str, WindowStats], *, context: int) -> FeatureMatrix:
    """Features of a PMO: for each named series (in the mapping's order) its four features.

    Every series must be summarised on the same grid; ``context`` is the number of preceding
    windows the level is measured against (a day: ``24`` for hourly windows).
    """
    if not stats:
        raise ValueError("no series given: a PMO needs at least one analysed series")
    items = list(stats.items())
    first = items[0][1]
    for name, s in items[1:]:
        if s.window_us != first.window_us or not np.array_equal(s.start_us, first.start_us):
            raise ValueError(f"series {name!r} is not on the same window grid as {items[0][0]!r}")
    names: list[str] = []
    columns: list[FloatArray] = []
    for name, s in items:
        delta = np.full(s.mean.size, np.nan)
        delta[1:] = s.mean[1:] - s.mean[:-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            good = np.where(s.count > 0, s.good_count / np.maximum(s.count, 1), 0.0)
        level = s.mean - trailing_median(s.mean, context)
        for feature, column in zip(
            FEATURES, (level, s.max - s.min, delta, good.astype(np.float64)), strict=True
        ):
            names.append(f"{name}.{feature}")
            columns.append(column)
    return FeatureMatrix(
        first.start_us.copy(), first.window_us, tuple(names), np.column_stack(columns)
    )
