"""Detection quality: injected faults on the simulator's signals, scored against the fault log.

For each seed, the demo site's PMO series (examples/site.yaml, rates, pressures, temperatures,
BSW, API gravity) are generated for ``--train-days`` fault-free days plus ``--days`` days in
which spikes, stuck values, flatlines, drifts, bad status codes and meter factor changes are
injected at random places. Detection = the online rules, fed 60 s batches as the ingest writer
would, plus an IsolationForest per PMO trained on the fault-free days (10-minute windows).
Baseline, same run: a naive 3-sigma test on every point (mean +/- 3 std of the training days).
Prints recall and detection delay per fault kind, precision per detector and overall, the
precision ratio against the baseline; the last line is JSON. Recall and precision are pooled
over the seeds (detected faults / faults, true detections / detections, summed); delays are the
median over every detected fault of the kind. A delay is measured to the end of the batch (or
feature window) that raised the anomaly, so it includes up to 60 s of batching.

    python bench/anomaly_quality.py [--seeds 3] [--seed 42] [--train-days 2] [--days 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).parent))

from rich.table import Table

from _common import console, report
from anh_reporter.domain.timeutil import to_us
from anh_reporter.simulator.evaluation import (
    DEFAULT_PLAN,
    QualityReport,
    naive_detection,
    run_detection,
    scenario_from_site,
    score_detections,
)
from anh_reporter.site import load_site

SITE = Path(__file__).resolve().parent.parent / "examples" / "site.yaml"
GOALS = {"spike": 0.9, "stuck": 0.9, "flatline": 0.9}
PRECISION_GOAL = 0.8


def _pooled(
    reports: list[QualityReport], kinds: list[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Recall (detected / faults, summed over runs) and the median delay, per fault kind."""
    recall, delay = {}, {}
    for k in kinds:
        scores = [r.kinds[k] for r in reports if k in r.kinds]
        faults = sum(s.faults for s in scores)
        recall[k] = sum(s.detected for s in scores) / faults if faults else math.nan
        delays = [d for s in scores for d in s.delays_s]
        delay[k] = median(delays) if delays else math.nan
    return recall, delay


def _fmt(value: float, pattern: str = "{:.2f}") -> str:
    return "-" if math.isnan(value) else pattern.format(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="Runs, with seeds seed, seed+1...")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--train-days", type=float, default=2.0)
    parser.add_argument("--days", type=float, default=3.0)
    args = parser.parse_args()
    field = load_site(SITE).fields[0]
    start = to_us(dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    ours: list[QualityReport] = []
    naive: list[QualityReport] = []
    faults = 0
    for seed in range(args.seed, args.seed + args.seeds):
        scenario = scenario_from_site(
            field, seed=seed, start=start, train_days=args.train_days, days=args.days
        )
        faults += len(scenario.faults)
        run = run_detection(scenario)
        common = {"series_pmo": scenario.series_pmo, "scored_from_us": scenario.train_end_us}
        ours.append(score_detections(run.detections, scenario.faults, **common))
        naive.append(score_detections(naive_detection(scenario), scenario.faults, **common))
        console.print(
            f"seed {seed}: {len(scenario.series)} series, {len(scenario.faults)} faults, "
            f"{run.points:,} points, precision {ours[-1].precision:.3f} "
            f"(naive 3-sigma {naive[-1].precision:.3f})"
        )

    kinds = [plan.kind.value for plan in DEFAULT_PLAN]
    recall, delay = _pooled(ours, kinds)
    naive_recall, naive_delay = _pooled(naive, kinds)
    per_kind = Table(
        title=f"Recall and delay per fault kind ({args.seeds} seeds pooled)", show_edge=False
    )
    for col in ("fault", "faults/run", "recall", "goal", "delay s", "naive recall", "naive delay"):
        per_kind.add_column(col, justify="left" if col == "fault" else "right")
    for plan in DEFAULT_PLAN:
        k = plan.kind.value
        per_kind.add_row(
            k,
            str(plan.count),
            _fmt(recall[k]),
            f">= {GOALS[k]}" if k in GOALS else "",
            _fmt(delay[k], "{:.0f}"),
            _fmt(naive_recall[k]),
            _fmt(naive_delay[k], "{:.0f}"),
        )
    console.print(per_kind)

    detectors = sorted({name for r in ours for name in r.detectors})
    per_detector = Table(title="Precision per detector (summed over seeds)", show_edge=False)
    for col in ("detector", "detections", "matching a fault", "precision"):
        per_detector.add_column(col, justify="left" if col == "detector" else "right")
    precision_by_detector = {}
    for name in detectors:
        total = sum(r.detectors[name].detections for r in ours if name in r.detectors)
        true = sum(r.detectors[name].true for r in ours if name in r.detectors)
        precision_by_detector[name] = true / total if total else math.nan
        per_detector.add_row(name, str(total), str(true), _fmt(precision_by_detector[name]))
    console.print(per_detector)

    precision = sum(r.true_detections for r in ours) / max(sum(r.detections for r in ours), 1)
    naive_precision = sum(r.true_detections for r in naive) / max(
        sum(r.detections for r in naive), 1
    )
    ratio = precision / naive_precision if naive_precision > 0 else math.inf
    recall_met = all(recall[k] >= goal for k, goal in GOALS.items())
    report(
        f"Overall ({args.seeds} seeds pooled, {args.days:g} scored days each)",
        ("detector", "precision", "ratio", "recall spike/stuck/flatline"),
        [
            (
                "naive 3-sigma on every point",
                _fmt(naive_precision, "{:.3f}"),
                "1.00",
                " / ".join(_fmt(naive_recall[k]) for k in GOALS),
            ),
            (
                "online rules + IsolationForest",
                _fmt(precision, "{:.3f}"),
                f"{ratio:.2f}",
                " / ".join(_fmt(recall[k]) for k in GOALS),
            ),
        ],
        {
            "bench": "anomaly_quality",
            "seeds": list(range(args.seed, args.seed + args.seeds)),
            "train_days": args.train_days,
            "scored_days": args.days,
            "faults": faults,
            "recall": {k: round(v, 3) for k, v in recall.items()},
            "delay_s": {k: None if math.isnan(v) else round(v, 1) for k, v in delay.items()},
            "precision": round(precision, 3),
            "precision_by_detector": {k: round(v, 3) for k, v in precision_by_detector.items()},
            "naive_precision": round(naive_precision, 3),
            "naive_recall": {k: round(v, 3) for k, v in naive_recall.items()},
            "precision_ratio": round(ratio, 2),
            "goals_met": {"recall": recall_met, "precision": precision >= PRECISION_GOAL},
        },
    )


if __name__ == "__main__":
    main()
