"""IsolationForest per PMO: thresholds, severities, explanations, micro-batches, artefacts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anh_reporter.analytics import anomaly
from anh_reporter.analytics.features import FeatureMatrix
from anh_reporter.analytics.records import Severity

WINDOW = 600_000_000  # 10 minutes in µs
NAMES = ("oil_rate.level", "meter_pressure.level", "meter_temperature.level")


def matrix(values: np.ndarray, first: int = 0) -> FeatureMatrix:
    starts = (np.arange(values.shape[0]) + first) * WINDOW
    return FeatureMatrix(starts.astype(np.int64), WINDOW, NAMES, values.astype(np.float64))


@pytest.fixture(scope="module")
def model() -> anomaly.PmoModel:
    rng = np.random.default_rng(3)
    # Three features on very different scales: the scaler must put them on one footing.
    normal = rng.normal(size=(600, 3)) * [200.0, 1.5, 0.5] + [9000.0, 85.0, 138.0]
    trained = anomaly.train(matrix(normal), pmo_id=7, contamination=0.01)
    trained.version = 3
    return trained


def test_thresholds_come_from_the_training_scores(model: anomaly.PmoModel) -> None:
    t = model.thresholds
    assert t.info <= t.warning < t.critical
    # INFO is the 99th percentile: about 1 % of training windows are above it.
    assert model.metrics["flagged_fraction"] == pytest.approx(0.01, abs=0.005)
    assert model.metrics["score_max"] == t.warning
    assert t.critical == pytest.approx(2 * t.warning - t.info)
    assert model.trained_from_us == 0 and model.trained_to_us == 600 * WINDOW
    assert model.features == NAMES


def test_classify_by_hand() -> None:
    t = anomaly.SeverityThresholds(info=0.6, warning=0.7, critical=0.8)
    ranks = t.classify(np.array([0.5, 0.6, 0.65, 0.75, 0.85, math.nan]))
    np.testing.assert_array_equal(ranks, [-1, -1, 0, 1, 2, -1])


TYPICAL = [9000.0, 85.0, 138.0]
# Oil level and meter pressure both 8 sigma high, temperature typical.
TWO_OFF = [9000.0 + 8 * 200.0, 85.0 + 8 * 1.5, 138.0]


def test_window_off_on_two_features_is_flagged_and_explained_by_them(
    model: anomaly.PmoModel,
) -> None:
    rows = np.tile(TYPICAL, (20, 1))
    rows[5] = TWO_OFF
    found = anomaly.detect(model, matrix(rows, first=1000), field_id=2)
    assert len(found) == 1
    a = found[0]
    assert a.score > model.thresholds.info
    # 8 sigma is about 4.7 training standard deviations beyond the training range (600 normal
    # windows reach about +/-3.3): past envelope_warning_sd, short of envelope_critical_sd.
    assert a.severity is Severity.WARNING
    beyond = {b["feature"]: b for b in a.explanation["beyond_training"]}
    assert set(beyond) == {"oil_rate.level", "meter_pressure.level"}
    assert 3.0 < beyond["meter_pressure.level"]["sd_beyond"] < 10.0
    assert beyond["meter_pressure.level"]["training_max"] < 97.0
    assert (a.pmo_id, a.series_id, a.field_id, a.model_version) == (7, None, 2, 3)
    assert (a.window_start_us, a.window_end_us) == (1005 * WINDOW, 1006 * WINDOW)
    contributions = a.explanation["contributions"]
    top_two = {c["feature"] for c in contributions[:2]}
    assert top_two == {"oil_rate.level", "meter_pressure.level"}
    assert contributions[0]["share"] + contributions[1]["share"] > 0.8
    by_name = {c["feature"]: c for c in contributions}
    assert by_name["meter_pressure.level"]["value"] == 97.0
    assert by_name["meter_pressure.level"]["training_mean"] == pytest.approx(85.0, abs=0.2)
    assert a.explanation["score"] == a.score


def test_one_feature_far_out_is_critical_through_the_training_envelope(
    model: anomaly.PmoModel,
) -> None:
    rows = np.tile(TYPICAL, (10, 1))
    rows[4, 2] = 138.0 + 30 * 0.5  # temperature 30 sigma high: the forest alone barely sees it
    (a,) = anomaly.detect(model, matrix(rows), field_id=1)
    assert a.severity is Severity.CRITICAL
    first = a.explanation["beyond_training"][0]
    assert first["feature"] == "meter_temperature.level" and first["sd_beyond"] > 10.0
    assert first["training_min"] < 138.0 < first["training_max"] < 153.0


def test_classify_takes_the_worse_of_score_and_envelope() -> None:
    t = anomaly.SeverityThresholds(info=0.6, warning=0.7, critical=0.8)
    ranks = t.classify(np.array([0.5, 0.5, 0.5, 0.75]), np.array([0.0, 4.0, 11.0, 4.0]))
    np.testing.assert_array_equal(ranks, [-1, 1, 2, 1])


def test_contributions_are_normalised(model: anomaly.PmoModel) -> None:
    rows = np.array([TWO_OFF, [9000.0, 85.0, 138.0 + 6.0]])
    shares = anomaly.explain(model, rows)
    assert shares.shape == (2, 3)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert (shares >= 0).all()
    assert shares[1].argmax() == 2


def test_consecutive_flagged_windows_are_one_episode(model: anomaly.PmoModel) -> None:
    rows = np.tile(TYPICAL, (30, 1))
    rows[10:14] = TWO_OFF  # four windows in a row
    rows[20] = [9000.0, 85.0 + 8 * 1.5, 138.0 + 8 * 0.5]  # and, apart, one more
    found = anomaly.detect(model, matrix(rows), field_id=1)
    assert [(a.window_start_us // WINDOW, a.window_end_us // WINDOW) for a in found] == [
        (10, 14),
        (20, 21),
    ]
    assert found[0].explanation["windows"] == 4


def test_min_severity_filters(model: anomaly.PmoModel) -> None:
    rows = np.tile(TYPICAL, (5, 1))
    rows[2] = [9000.0 + 10 * 200.0, 85.0 + 10 * 1.5, 138.0 + 10 * 0.5]  # off on all three
    assert anomaly.detect(model, matrix(rows), field_id=1, min_severity=Severity.CRITICAL)
    assert anomaly.detect(model, matrix(np.tile(TYPICAL, (5, 1))), field_id=1) == []


def test_micro_batches_score_like_one_batch(model: anomaly.PmoModel) -> None:
    rows = np.random.default_rng(9).normal(size=(257, 3)) * [400.0, 3.0, 1.0] + [9000, 85, 138]
    whole = anomaly.score(model, matrix(rows), batch_rows=10_000)
    np.testing.assert_allclose(anomaly.score(model, matrix(rows), batch_rows=7), whole)


def test_incomplete_rows_are_not_scored(model: anomaly.PmoModel) -> None:
    rows = np.tile([9000.0, 85.0, 138.0], (3, 1))
    rows[1, 0] = math.nan
    scores = anomaly.score(model, matrix(rows))
    assert math.isnan(scores[1]) and not math.isnan(scores[0])
    assert anomaly.detect(model, matrix(rows), field_id=1) == []


def test_features_are_matched_by_name(model: anomaly.PmoModel) -> None:
    rows = np.tile([9000.0, 85.0, 138.0], (4, 1))
    reordered = FeatureMatrix(
        np.arange(4, dtype=np.int64) * WINDOW, WINDOW, NAMES[::-1], rows[:, ::-1].copy()
    )
    np.testing.assert_allclose(anomaly.score(model, reordered), anomaly.score(model, matrix(rows)))
    missing = FeatureMatrix(np.zeros(1, dtype=np.int64), WINDOW, NAMES[:2], rows[:1, :2])
    with pytest.raises(ValueError, match=r"meter_temperature\.level"):
        anomaly.score(model, missing)


def test_artefact_round_trip_and_tamper_check(model: anomaly.PmoModel) -> None:
    blob = anomaly.artefact_bytes(model)
    digest = anomaly.artefact_digest(blob)
    scaler, forest = anomaly.load_estimators(blob, sha256=digest)
    rows = np.tile([9500.0, 86.0, 137.0], (3, 1))
    restored = anomaly.PmoModel(**{**model.__dict__, "scaler": scaler, "forest": forest})
    np.testing.assert_array_equal(
        anomaly.score(restored, matrix(rows)), anomaly.score(model, matrix(rows))
    )
    with pytest.raises(ValueError, match="digest"):
        anomaly.load_estimators(blob[:-1] + b"\x00", sha256=digest)


def test_too_little_training_data_says_how_much() -> None:
    rows = np.ones((10, 3))
    with pytest.raises(ValueError, match=r"10 complete feature windows \(of 10\).*at least 24"):
        anomaly.train(matrix(rows), pmo_id=1)
