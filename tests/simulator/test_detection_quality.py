"""Detection quality floor: the simulator's signals with injected faults, scored against the
fault log (a small, fast version of ``bench/anomaly_quality.py``; floors below its goals)."""

from __future__ import annotations

import datetime as dt

import pytest

from anh_reporter.domain.timeutil import to_us
from anh_reporter.simulator.evaluation import (
    FaultPlan,
    QualityReport,
    naive_detection,
    run_detection,
    scenario_from_site,
    score_detections,
)
from anh_reporter.simulator.faults import FaultKind
from anh_reporter.site import load_site
from tests.conftest import EXAMPLE_SITE

PLAN = (
    FaultPlan(FaultKind.SPIKE, 8, 0.0, 0.0, (0.25, 0.6)),
    FaultPlan(FaultKind.STUCK, 6, 10.0, 40.0),
    FaultPlan(FaultKind.FLATLINE, 6, 10.0, 40.0),
    FaultPlan(FaultKind.DRIFT, 2, 120.0, 240.0, (0.1, 0.3)),
    FaultPlan(FaultKind.BAD_STATUS, 4, 1.0, 10.0),
    FaultPlan(FaultKind.METER_FACTOR, 2, 60.0, 60.0, (0.03, 0.08)),
)


@pytest.fixture(scope="module")
def scores() -> tuple[QualityReport, QualityReport]:
    field = load_site(EXAMPLE_SITE).fields[0]
    start = to_us(dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    scenario = scenario_from_site(field, seed=11, start=start, train_days=2, days=1, plan=PLAN)
    run = run_detection(scenario)
    ours = score_detections(
        run.detections,
        scenario.faults,
        series_pmo=scenario.series_pmo,
        scored_from_us=scenario.train_end_us,
    )
    naive = score_detections(
        naive_detection(scenario),
        scenario.faults,
        series_pmo=scenario.series_pmo,
        scored_from_us=scenario.train_end_us,
    )
    return ours, naive


def test_recall_floor_on_spikes_stuck_values_and_flatlines(
    scores: tuple[QualityReport, QualityReport],
) -> None:
    ours, _ = scores
    for kind in ("spike", "stuck", "flatline"):
        assert ours.kinds[kind].faults >= 6
        assert ours.kinds[kind].recall >= 0.8, (kind, ours.kinds[kind])


def test_precision_floor_and_the_naive_baseline_is_worse(
    scores: tuple[QualityReport, QualityReport],
) -> None:
    ours, naive = scores
    assert ours.precision >= 0.7, ours.detectors
    assert naive.precision < ours.precision
    assert naive.kinds["stuck"].recall < ours.kinds["stuck"].recall
    # Every online rule that fired pointed at a real fault.
    for name in ("SPIKE", "STUCK", "FLATLINE", "BAD_STATUS"):
        assert ours.detectors[name].precision >= 0.8, ours.detectors[name]
