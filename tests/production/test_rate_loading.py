"""A totalizer's rate series is loaded only when the counter leaves it something to do."""

from __future__ import annotations

import datetime as dt

import numpy as np

from anh_reporter.production.contract_day import contract_day
from anh_reporter.production.daily import _counter_needs_rate

DAY = contract_day(dt.date(2026, 3, 2), timezone="America/Bogota", start_hour=6)
STEP = 600_000_000  # 10 min
TOL_S = 3600.0


def rows(n_before: int = 1, gap_at: int | None = None, back_at: int | None = None,
         bad_at: int | None = None, after: bool = True):  # type: ignore[no-untyped-def]  # fmt: skip
    t = np.arange(DAY.start_us - n_before * STEP, DAY.end_us + (STEP if after else 0), STEP)
    if gap_at is not None:
        t = np.delete(t, np.arange(gap_at, gap_at + 6))  # 70 min without a reading
    v = 1_000.0 + np.arange(t.size, dtype=np.float64)
    if back_at is not None:
        v[back_at] = v[back_at - 1] - 0.01
    q = np.zeros(t.size, dtype=np.int32)
    if bad_at is not None:
        q[bad_at] = -2147483648  # Bad
    return t.astype(np.int64), v, q


def test_a_clean_counter_needs_no_rate() -> None:
    assert _counter_needs_rate(rows(), DAY, TOL_S) is False


def test_gaps_steps_back_bad_readings_and_missing_neighbours_do() -> None:
    assert _counter_needs_rate(rows(gap_at=30), DAY, TOL_S)
    assert _counter_needs_rate(rows(back_at=40), DAY, TOL_S)
    assert _counter_needs_rate(rows(bad_at=50), DAY, TOL_S)
    assert _counter_needs_rate(rows(n_before=0), DAY, TOL_S)
    assert _counter_needs_rate(rows(after=False), DAY, TOL_S)
    assert _counter_needs_rate(None, DAY, TOL_S)
