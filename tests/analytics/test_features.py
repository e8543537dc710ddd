"""Feature windows: per-window summaries by hand, rollup placement, relative levels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anh_reporter.analytics.features import (
    FEATURES,
    FeatureMatrix,
    is_analysed,
    pmo_features,
    stats_from_rollups,
    trailing_median,
    window_stats,
)
from anh_reporter.domain.quality import BAD_TIMEOUT

S = 1_000_000  # µs per second
NAN = math.nan


def test_window_stats_by_hand() -> None:
    # Three 60 s windows from t = 0. Window 0: 1, 2, 6 (Good). Window 1: a Bad 5 and a Good
    # NaN, so two samples received and none usable. Window 2: nothing. The samples at -10 s
    # and 180 s fall outside and are ignored.
    t = np.array([-10, 0, 10, 20, 70, 80, 180]) * S
    v = np.array([99.0, 1.0, 2.0, 6.0, 5.0, NAN, 99.0])
    q = np.array([0, 0, 0, 0, BAD_TIMEOUT, 0, 0], dtype=np.uint32)
    stats = window_stats(t, v, q, start_us=0, end_us=180 * S, window_us=60 * S)
    np.testing.assert_array_equal(stats.start_us, [0, 60 * S, 120 * S])
    np.testing.assert_array_equal(stats.count, [3, 2, 0])
    np.testing.assert_array_equal(stats.good_count, [3, 0, 0])
    np.testing.assert_array_equal(stats.mean, [3.0, NAN, NAN])
    np.testing.assert_array_equal(stats.min, [1.0, NAN, NAN])
    np.testing.assert_array_equal(stats.max, [6.0, NAN, NAN])


def test_window_stats_reads_the_databases_signed_status_codes() -> None:
    signed = np.array([BAD_TIMEOUT], dtype=np.uint32).view(np.int32)  # negative, as stored
    stats = window_stats([0], [1.0], signed, start_us=0, end_us=60 * S, window_us=60 * S)
    assert stats.good_count[0] == 0 and stats.count[0] == 1


def test_rollups_are_placed_on_the_grid_and_gaps_count_zero() -> None:
    hour = 3_600 * S
    stats = stats_from_rollups(
        [0, 2 * hour],
        [360, 300],
        [360, 290],
        [10.0, 12.0],
        [9.0, 11.0],
        [11.0, 14.0],
        start_us=0,
        end_us=3 * hour,
        window_us=hour,
    )
    np.testing.assert_array_equal(stats.count, [360, 0, 300])
    np.testing.assert_array_equal(stats.good_count, [360, 0, 290])
    np.testing.assert_array_equal(stats.mean, [10.0, NAN, 12.0])
    np.testing.assert_array_equal(stats.max - stats.min, [2.0, NAN, 3.0])


def test_rollup_row_off_the_grid_is_refused() -> None:
    with pytest.raises(ValueError, match="not on the"):
        stats_from_rollups(
            [30 * S], [1], [1], [1.0], [1.0], [1.0], start_us=0, end_us=3600 * S, window_us=3600 * S
        )


def test_trailing_median_by_hand() -> None:
    # context 3: index 1 sees [-, -, 1] (1 finite of 3: too few), index 2 sees [-, 1, 2]
    # (median 1.5), index 3 sees [1, 2, 3] (median 2), index 4 sees [2, 3, NaN] (2.5).
    got = trailing_median(np.array([1.0, 2.0, 3.0, NAN, 10.0]), 3)
    np.testing.assert_array_equal(got, [NAN, NAN, 1.5, 2.0, 2.5])


def test_pmo_features_by_hand() -> None:
    window = 60 * S
    # Means 1, 2, 3, 10 (one sample per window), a second series constant at 5.
    t = np.arange(4) * window
    a = window_stats(t, [1.0, 2.0, 3.0, 10.0], start_us=0, end_us=4 * window, window_us=window)
    b = window_stats(t, [5.0] * 4, start_us=0, end_us=4 * window, window_us=window)
    m = pmo_features({"oil_rate": a, "bsw": b}, context=3)
    assert m.names == tuple(f"{n}.{f}" for n in ("oil_rate", "bsw") for f in FEATURES)
    col = {name: m.values[:, i] for i, name in enumerate(m.names)}
    np.testing.assert_array_equal(col["oil_rate.level"], [NAN, NAN, 1.5, 8.0])  # 10 - median(1,2,3)
    np.testing.assert_array_equal(col["oil_rate.delta"], [NAN, 1.0, 1.0, 7.0])
    np.testing.assert_array_equal(col["oil_rate.range"], [0.0] * 4)
    np.testing.assert_array_equal(col["bsw.good"], [1.0] * 4)
    np.testing.assert_array_equal(m.complete, [False, False, True, True])


def test_series_on_other_grids_are_refused() -> None:
    a = window_stats([0], [1.0], start_us=0, end_us=120 * S, window_us=60 * S)
    b = window_stats([0], [1.0], start_us=0, end_us=180 * S, window_us=60 * S)
    with pytest.raises(ValueError, match="same window grid"):
        pmo_features({"a": a, "b": b}, context=1)


def test_select_reorders_and_names_missing_features() -> None:
    m = FeatureMatrix(np.array([0, 1]), 1, ("a", "b"), np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(m.select(["b", "a"]).values, [[2.0, 1.0], [4.0, 3.0]])
    with pytest.raises(ValueError, match=r"\['c'\] are missing"):
        m.select(["a", "c"])


@pytest.mark.parametrize(
    ("variable", "watched"),
    [
        ("oil_rate", True),
        ("bsw", True),
        ("meter_temperature", True),
        ("oil_total", False),  # totalizer
        ("pump_status", False),  # state
        ("pump_speed", False),  # drops to 0 whenever the pump stops
        ("no_such_variable", False),
    ],
)
def test_which_variables_are_analysed(variable: str, watched: bool) -> None:
    assert is_analysed(variable) is watched
