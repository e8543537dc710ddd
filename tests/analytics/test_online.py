"""Online rules over committed batches: each fault kind fires its rule, clean data stays quiet,
replays change nothing, and how the points are cut into batches does not matter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anh_reporter.analytics.online import OnlineAnalytics, OnlineSettings, SeriesInfo
from anh_reporter.analytics.records import Anomaly, Severity
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import BAD_TIMEOUT, UNCERTAIN_LAST_USABLE_VALUE

T0 = 1_780_000_000_000_000
STEP = 10_000_000  # 10 s
OIL = SeriesInfo(1, 5, "oil_rate", 10.0, 0.0, 25_000.0, pmo_id=3)
PRESSURE = SeriesInfo(2, 5, "meter_pressure", 10.0, 0.0, 600.0, pmo_id=3)


def noise(n: int, seed: int = 1, mean: float = 1000.0, sd: float = 10.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(mean, sd, n)


def feed(
    values: np.ndarray,
    quality: np.ndarray | None = None,
    *,
    series: SeriesInfo = OIL,
    batch: int = 60,
    settings: OnlineSettings | None = None,
) -> list[Anomaly]:
    """Feed one series in batches; the last version of each episode, in order of start."""
    online = OnlineAnalytics([series], settings)
    q = np.zeros(values.size, dtype=np.uint32) if quality is None else quality
    t = T0 + np.arange(values.size, dtype=np.int64) * STEP
    latest: dict[str, Anomaly] = {}
    for lo in range(0, values.size, batch):
        sl = slice(lo, lo + batch)
        b = Batch.of(np.full(t[sl].size, series.series_id), t[sl], values[sl], q[sl])
        for a in online.on_batch(b):
            latest[a.dedup_key] = a
    return sorted(latest.values(), key=lambda a: a.window_start_us)


def at(i: int) -> int:
    return T0 + i * STEP


def test_clean_noise_raises_nothing() -> None:
    assert feed(noise(20_000)) == []


def test_spike_is_one_critical_point_explained_by_its_rules() -> None:
    values = noise(1000)
    values[500] = 1500.0  # about 50 sigma up
    (a,) = feed(values)
    assert (a.detector, a.severity) == ("SPIKE", Severity.CRITICAL)
    assert (a.window_start_us, a.window_end_us) == (at(500), at(500))
    assert (a.series_id, a.pmo_id, a.field_id) == (1, None, 5)
    assert a.score == pytest.approx(50, rel=0.15)  # |z| against the moving-range sigma
    assert {"WE1", "NELSON1"} <= set(a.explanation["rules"])
    assert "sigma above its centre line" in a.explanation["why"]
    peak = a.explanation["peak"]
    assert peak["value"] == 1500.0 and peak["ucl"] == pytest.approx(1030, abs=5)


def test_moderate_spike_is_a_warning() -> None:
    values = noise(1000)
    values[500] = 1075.0  # about 7.5 sigma: beyond spike_warning_z = 6, below 10
    (a,) = feed(values)
    assert (a.detector, a.severity) == ("SPIKE", Severity.WARNING)


def test_stuck_value_fires_after_the_repeats_its_noise_makes_rare() -> None:
    values = noise(1000)
    values[500:541] = values[500]  # 41 identical readings
    (a,) = feed(values)
    assert (a.detector, a.severity) == ("STUCK", Severity.WARNING)
    # The last limits before the end were frozen after point 529 from the ring of points
    # 410..529, whose frozen ones (500..529) are NaN: 90 values in a row, 89 steps, none zero,
    # so p0 = (0 + 1) / (89 + 2) and n = max(5, 1 + ceil(ln 1e-6 / ln(1/91))) = max(5, 1 + 4).
    assert a.explanation["peak"]["repeats_needed"] == 5
    assert a.explanation["peak"]["baseline_zero_step_share"] == pytest.approx(1 / 91, abs=1e-6)
    assert (a.window_start_us, a.window_end_us) == (at(500), at(540))
    assert a.score == 41


def test_stuck_is_not_judged_on_a_series_that_repeats_by_itself() -> None:
    values = np.round(noise(3000, sd=0.4))  # whole numbers: about 38 % of steps are zero
    values[1000:1010] = values[1000]  # ten repeats: ordinary for this series
    assert [a for a in feed(values) if a.detector == "STUCK"] == []


def test_flatline_is_critical_from_the_first_zero() -> None:
    values = noise(1000)
    values[500:531] = 0.0
    (a,) = feed(values)
    assert (a.detector, a.severity) == ("FLATLINE", Severity.CRITICAL)
    assert (a.window_start_us, a.window_end_us) == (at(500), at(530))


def test_bad_status_is_a_warning_and_uncertain_only_info() -> None:
    values = noise(1000)
    quality = np.zeros(1000, dtype=np.uint32)
    quality[500:505] = BAD_TIMEOUT
    quality[800:803] = UNCERTAIN_LAST_USABLE_VALUE
    (a,) = feed(values, quality)
    assert (a.detector, a.severity) == ("BAD_STATUS", Severity.WARNING)
    assert (a.window_start_us, a.window_end_us) == (at(500), at(504))
    assert a.explanation["peak"]["status"] == "0x800A0000"
    info = OnlineSettings(min_severity=Severity.INFO)
    found = [a for a in feed(values, quality, settings=info) if a.detector == "BAD_STATUS"]
    assert [(a.severity, a.window_start_us) for a in found] == [
        (Severity.WARNING, at(500)),
        (Severity.INFO, at(800)),
    ]


def test_level_shift_is_a_shift() -> None:
    values = noise(1000)
    values[500:] += 25.0  # 2.5 sigma up from point 500 on
    found = feed(values)
    assert [a.detector for a in found][:1] == ["SHIFT"]
    a = found[0]
    assert a.severity is Severity.WARNING
    assert at(500) <= a.window_start_us < at(530)
    assert a.explanation["peak"]["side"] == "above" and a.explanation["peak"]["run"] >= 30


def test_replayed_batch_changes_nothing() -> None:
    values = noise(600)
    values[300] = 1500.0
    t = T0 + np.arange(600, dtype=np.int64) * STEP
    batch = Batch.of(np.ones(600), t, values)
    online = OnlineAnalytics([OIL])
    first = online.on_batch(batch)
    assert [a.detector for a in first] == ["SPIKE"]
    assert online.on_batch(batch) == []
    assert online.points == 600


def test_batch_boundaries_do_not_matter() -> None:
    values = noise(3000, seed=4)
    values[700] = 1400.0
    values[1200:1240] = values[1200]
    values[2000:2030] = 0.0
    whole = feed(values, batch=3000)
    assert [a.detector for a in whole] == ["SPIKE", "STUCK", "FLATLINE"]
    for size in (1, 7, 250):
        assert feed(values, batch=size) == whole


def test_episode_goes_on_across_batches_under_one_key() -> None:
    values = noise(1000)
    values[500:560] = values[500]
    online = OnlineAnalytics([OIL])
    t = T0 + np.arange(1000, dtype=np.int64) * STEP
    seen = []
    for lo in range(0, 1000, 20):
        b = Batch.of(np.ones(20), t[lo : lo + 20], values[lo : lo + 20])
        seen.extend(online.on_batch(b))
    assert {a.dedup_key for a in seen} == {f"series:1:STUCK:{at(500)}"}
    ends = [a.window_end_us for a in seen]
    assert ends == sorted(ends) and ends[-1] == at(559) and len(seen) == 3


def test_series_are_judged_apart_and_unwatched_ones_ignored() -> None:
    n = 1000
    total = SeriesInfo(9, 5, "oil_total", 10.0, 0.0, 1e9, pmo_id=3)
    online = OnlineAnalytics([OIL, PRESSURE, total])
    assert online.series_ids == {1, 2}
    t = T0 + np.arange(n, dtype=np.int64) * STEP
    oil, pressure = noise(n), noise(n, seed=2, mean=85.0, sd=1.2)
    pressure[400] = 200.0
    b = Batch.of(
        np.concatenate([np.full(n, 1), np.full(n, 2), np.full(n, 9)]),
        np.concatenate([t, t, t]),
        np.concatenate([oil, pressure, np.zeros(n)]),
    )
    (a,) = online.on_batch(b)
    assert (a.series_id, a.detector, a.window_start_us) == (2, "SPIKE", at(400))
    limits = online.limits(1)
    assert limits is not None and limits.center == pytest.approx(1000, abs=3)
    assert online.limits(9) is None


def test_a_long_gap_starts_over_and_nan_points_are_skipped() -> None:
    values = noise(1000)
    values[300:305] = math.nan  # Good but not finite: not judged
    assert feed(values) == []


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="baseline_points"):
        OnlineSettings(baseline_points=10)
    with pytest.raises(ValueError, match="shift_run"):
        OnlineSettings(shift_run=5)


def test_stuck_is_known_at_the_fifth_identical_reading() -> None:
    values = noise(600)
    values[500:541] = values[500]
    online = OnlineAnalytics([OIL])
    first = None
    for i in range(600):
        if online.on_batch(Batch.of([1], [at(i)], [values[i]])) and first is None:
            first = i
    assert first == 504  # readings 500..504 are the five identical ones
