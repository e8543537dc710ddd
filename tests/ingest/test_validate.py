"""Validation: every reason fires where it must, and nothing else is rejected."""

from __future__ import annotations

import datetime as dt

import numpy as np

from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import BAD_NO_COMMUNICATION, UNCERTAIN
from anh_reporter.domain.timeutil import to_us
from anh_reporter.ingest.validate import Reason, SeriesCatalog, validate
from anh_reporter.storage.series_repo import SeriesRow

NOW = to_us(dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC))
TOL = 300_000_000
COMMISSIONED = dt.datetime(2024, 1, 15, tzinfo=dt.UTC)


def row(sid: int, lo: float = 0.0, hi: float = 100.0) -> SeriesRow:
    return SeriesRow(sid, f"F.P.v{sid}", 1, "F", "P", "bsw", "%", lo, hi, 10.0, COMMISSIONED, None)


CATALOG = SeriesCatalog.from_rows([row(1), row(2, -10, 10), row(5)])


def check(batch: Batch) -> tuple[Batch, list[Reason]]:
    result = validate(batch, CATALOG, now_us=NOW, future_tolerance_us=TOL)
    return result.good, result.rejects.reasons()


def test_one_bad_reading_in_ten_thousand() -> None:
    n = 10_000
    t = NOW - np.arange(n, dtype=np.int64) * 1_000_000
    values = np.full(n, 50.0)
    values[1234] = np.nan
    good, reasons = check(Batch.of(np.ones(n), t, values))
    assert len(good) == 9_999
    assert reasons == [Reason.NON_FINITE]


def test_each_reason() -> None:
    t = NOW - 60_000_000
    batch = Batch.of(
        [9, 1, 1, 2, 1, 1, 5, 5, 2, -3, 70000],
        [t, t + 1, t + 2, t + 3, NOW + TOL + 1, to_us(COMMISSIONED) - 1, t, t, t + 4, t, t],
        [1.0, np.inf, np.nan, 10.5, 1.0, 1.0, 3.0, 4.0, -np.inf, 1.0, 1.0],
    )
    good, reasons = check(batch)
    assert reasons == [
        Reason.UNKNOWN_SERIES,
        Reason.NON_FINITE,
        Reason.NON_FINITE,
        Reason.OUT_OF_RANGE,
        Reason.FUTURE,
        Reason.BEFORE_COMMISSIONING,
        Reason.DUPLICATE,
        Reason.NON_FINITE,
        Reason.UNKNOWN_SERIES,
        Reason.UNKNOWN_SERIES,
    ]
    assert good.series_id.tolist() == [5] and good.value.tolist() == [3.0]  # first one kept


def test_bad_quality_is_stored_not_rejected() -> None:
    t = NOW - 1_000_000
    batch = Batch.of(
        [1, 1, 1, 2],
        [t, t + 1, t + 2, t],
        [np.nan, 5000.0, 50.0, 11.0],
        [BAD_NO_COMMUNICATION, BAD_NO_COMMUNICATION, UNCERTAIN, UNCERTAIN],
    )
    good, reasons = check(batch)
    # NaN and out-of-range values on Bad readings are records; Uncertain is range-checked.
    assert good.value[:2].tolist()[1] == 5000.0 and np.isnan(good.value[0])
    assert reasons == [Reason.OUT_OF_RANGE]
    assert len(good) == 3


def test_messages_name_the_value_and_the_limit() -> None:
    t = NOW - 1_000_000
    result = validate(
        Batch.of([2, 1, 9], [t, NOW + TOL + 1_000_000, t], [10.5, 1.0, 1.0]),
        CATALOG,
        now_us=NOW,
        future_tolerance_us=TOL,
    )
    messages = result.rejects.messages(CATALOG, NOW, TOL)
    assert messages[0] == "F.P.v2: value 10.5 is outside the engineering range [-10, 10]"
    assert messages[1].startswith(
        "F.P.v1: time 2026-11-27T12:05:01+00:00 is later than now + 300 s"
    )
    assert messages[2] == "series id 9 is not in the series catalogue"


def test_duplicates_keep_the_first_in_original_order() -> None:
    t = NOW - 10_000_000
    good, reasons = check(Batch.of([1, 5, 1, 1, 5], [t, t, t + 1, t, t], [1, 2, 3, 4, 5]))
    assert reasons == [Reason.DUPLICATE, Reason.DUPLICATE]
    assert good.value.tolist() == [1.0, 2.0, 3.0]
