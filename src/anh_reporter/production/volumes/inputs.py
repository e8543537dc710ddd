"""Argument checks and sample usability shared by the volume functions.

Times are ``int64`` microseconds since the Unix epoch, strictly increasing; values ``float64``;
quality the OPC UA status code (unsigned, or the signed ``int4`` form the database stores). A
sample is *usable* iff its status is Good (top two bits 00) and its value is finite. Every error
names the argument, the value and the limit.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from anh_reporter.domain.quality import SEVERITY_MASK

SECONDS_PER_DAY = 86_400.0
US_PER_S = 1_000_000
GOOD, UNCERTAIN, BAD = 0, 1, 2

Int64Array = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
SeverityArray = NDArray[np.int8]


def check_positive(name: str, value: float) -> None:
    """``value`` must be a finite number > 0."""
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def check_non_negative(name: str, value: float) -> None:
    """``value`` must be a finite number >= 0."""
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def tolerance_us(value: float, name: str = "gap_tolerance_s") -> int:
    """A tolerance in seconds (>= 0) as whole microseconds."""
    check_non_negative(name, value)
    return round(value * US_PER_S)


def check_window(day_start_us: int, day_end_us: int) -> tuple[int, int]:
    """The contract day ``[day_start_us, day_end_us)`` as two ints; it must not be empty."""
    start, end = int(day_start_us), int(day_end_us)
    if end <= start:
        raise ValueError(
            f"day_end_us must be greater than day_start_us={start}, got {end} "
            "(the contract day is the half-open window [day_start_us, day_end_us))"
        )
    return start, end


def check_times(name: str, times: ArrayLike) -> Int64Array:
    """Integer microseconds, 1-D, strictly increasing (never re-sorted: that hides bugs)."""
    arr = np.asarray(times)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got {arr.ndim} dimensions")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(
            f"{name} must hold integer microseconds since the Unix epoch (int64), "
            f"got dtype {arr.dtype}"
        )
    t = arr.astype(np.int64)
    not_increasing = np.flatnonzero(np.diff(t) <= 0)
    if not_increasing.size:
        i = int(not_increasing[0]) + 1
        raise ValueError(
            f"{name} must be strictly increasing: {name}[{i}]={int(t[i])} is not greater than "
            f"{name}[{i - 1}]={int(t[i - 1])}; pass the rows ordered by time, without duplicates"
        )
    return t


def check_values(name: str, values: ArrayLike, times_name: str, n: int) -> FloatArray:
    """``float64`` values, one per time."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got {arr.ndim} dimensions")
    if arr.size != n:
        raise ValueError(
            f"{name} has {arr.size} elements but {times_name} has {n}; they must match"
        )
    return arr


def severity(name: str, quality: ArrayLike | None, times_name: str, n: int) -> SeverityArray:
    """0 Good, 1 Uncertain, 2 Bad, from OPC UA status codes (unsigned, or signed int4 form)."""
    if quality is None:
        return np.zeros(n, dtype=np.int8)
    arr = np.asarray(quality)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got {arr.ndim} dimensions")
    if arr.size != n:
        raise ValueError(
            f"{name} has {arr.size} elements but {times_name} has {n}; they must match"
        )
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer OPC UA status codes, got dtype {arr.dtype}")
    low, high = int(arr.min()), int(arr.max())
    if low < -(2**31) or high >= 2**32:
        bad = low if low < -(2**31) else high
        raise ValueError(
            f"{name} must hold 32-bit OPC UA status codes in [-2**31, 2**32), got {bad}"
        )
    codes: Int64Array = arr.astype(np.int64) & np.int64(0xFFFFFFFF)
    top: Int64Array = (codes & np.int64(SEVERITY_MASK)) >> np.int64(30)
    result: SeverityArray = np.minimum(top, BAD).astype(np.int8)
    return result


def checked_series(
    times: ArrayLike,
    values: ArrayLike,
    quality: ArrayLike | None,
    *,
    names: tuple[str, str, str],
) -> tuple[Int64Array, FloatArray, SeverityArray, BoolArray]:
    """Checked ``(times, values, severity, usable)`` of one series; ``names`` for the errors."""
    times_name, values_name, quality_name = names
    t = check_times(times_name, times)
    v = check_values(values_name, values, times_name, t.size)
    sev = severity(quality_name, quality, times_name, t.size)
    usable: BoolArray = (sev == GOOD) & np.isfinite(v)
    return t, v, sev, usable
