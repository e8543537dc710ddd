"""The one deadband of the connectors, over numpy columns (no object per reading)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def deadband_limits(
    kinds: Sequence[str], values: Sequence[float], spans: Sequence[float]
) -> FloatArray:
    """Absolute deadband per tag: the value itself, or a percentage of the series' span."""
    v = np.asarray(values, dtype=np.float64)
    span = np.asarray(spans, dtype=np.float64)
    percent = np.asarray([k == "percent" for k in kinds], dtype=bool)
    return np.asarray(np.where(percent, v / 100.0 * span, v), dtype=np.float64)


def deadband_keep(
    tag: npt.NDArray[np.intp],
    value: FloatArray,
    good: npt.NDArray[np.bool_],
    limit: FloatArray,
    last_reported: FloatArray,
) -> npt.NDArray[np.bool_]:
    """Which readings to report; ``last_reported`` (per tag, NaN: none) is updated in place.

    Reading i of tag ``tag[i]`` is reported when it is not Good, its value is not finite, its
    tag has no deadband (limit 0), nothing usable was reported before, or it moved by more
    than the limit since the last reported value. A reported non-Good or non-finite reading
    clears the last value, so the next Good one is reported. Readings are taken in order: a
    tag seen several times is compared with what was reported just before.
    """
    n = len(tag)
    if n == 0 or not limit.any():  # no deadband anywhere: everything is reported
        return np.ones(n, dtype=bool)
    # One reading per tag (ascending tags, as a poll gives them, or all distinct): one step.
    if bool(np.all(tag[1:] > tag[:-1])) or len(np.unique(tag)) == n:
        lim, prev = limit[tag], last_reported[tag]
        with np.errstate(invalid="ignore"):
            moved = np.abs(value - prev) > lim
        usable = good & np.isfinite(value)
        keep = np.asarray(~usable | (lim == 0) | ~np.isfinite(prev) | moved)
        last_reported[tag[keep]] = np.where(usable[keep], value[keep], math.nan)
        return keep
    kept = np.ones(n, dtype=bool)
    for i, (t, v, g) in enumerate(zip(tag.tolist(), value.tolist(), good.tolist(), strict=True)):
        ok = bool(g) and math.isfinite(v)
        before = float(last_reported[t])
        band = float(limit[t])
        if ok and band > 0 and math.isfinite(before) and not abs(v - before) > band:
            kept[i] = False
            continue
        last_reported[t] = v if ok else math.nan
    return kept
