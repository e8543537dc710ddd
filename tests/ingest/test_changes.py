"""The (field, UTC day) pairs a commit announces."""

from __future__ import annotations

import datetime as dt

import numpy as np

from anh_reporter.domain.timeutil import to_us
from anh_reporter.ingest import changes

T0 = dt.datetime(2025, 6, 10, tzinfo=dt.UTC)
DAY = T0.date()


def test_field_days_of_a_batch() -> None:
    series_field = np.array([0, 7, 7, 9], dtype=np.int32)  # series 1, 2 on field 7; 3 on 9
    t = to_us(T0)
    pairs = changes.field_days(
        series_field,
        np.array([1, 2, 3, 1, 5], dtype=np.int32),  # 5: not in the catalogue
        np.array([t, t + 1, t, t + 86_400_000_000, t], dtype=np.int64),
    )
    assert pairs == [(7, DAY), (7, DAY + dt.timedelta(days=1)), (9, DAY)]


def test_a_message_round_trips() -> None:
    assert changes.parse_message(b'[7, "2025-06-10"]') == (7, DAY)
