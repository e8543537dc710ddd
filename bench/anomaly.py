"""Analytics speed: batched IsolationForest scoring and online SPC cost per point.

1. IsolationForest (100 trees) of a PMO with 20 features, trained on 2,000 windows, scores
   ``--rows`` windows in micro-batches of 10,000 (goal >= 100K rows/s). Baseline, same run:
   the same model scoring a sample one row at a time.
2. :class:`OnlineAnalytics` judges the demo site's PMO series (simulated, with injected
   faults) fed as 60 s batches: microseconds per point for the whole online path (grouping by
   series, replay guard, status, stuck, SPC rules, episodes; goal < 20 µs). Baseline, same run:
   the stateless way, re-freezing limits from the last 120 points and evaluating them for each
   new point. The bare :class:`SpcMonitor` update on an in-control series is shown for
   reference.

Medians of ``--runs`` runs; the last line is JSON.

    python bench/anomaly.py [--rows 200000] [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import median, report
from anh_reporter.analytics import anomaly
from anh_reporter.analytics.features import FeatureMatrix
from anh_reporter.analytics.online import OnlineAnalytics
from anh_reporter.analytics.spc.batch import evaluate
from anh_reporter.analytics.spc.limits import control_limits
from anh_reporter.analytics.spc.monitor import SpcMonitor
from anh_reporter.analytics.spc.rules import ALL_RULES
from anh_reporter.domain.timeutil import to_us
from anh_reporter.simulator.evaluation import batches, scenario_from_site
from anh_reporter.site import load_site

SITE = Path(__file__).resolve().parent.parent / "examples" / "site.yaml"
FEATURES = 20
WINDOW_US = 600_000_000


def _matrix(values: np.ndarray) -> FeatureMatrix:
    names = tuple(f"f{i}" for i in range(values.shape[1]))
    starts = np.arange(values.shape[0], dtype=np.int64) * WINDOW_US
    return FeatureMatrix(starts, WINDOW_US, names, values)


def forest_rates(rows: int, runs: int, sample: int) -> tuple[float, float]:
    """(batched rows/s, one-row-at-a-time rows/s), medians of ``runs``."""
    rng = np.random.default_rng(1)
    model = anomaly.train(_matrix(rng.normal(size=(2_000, FEATURES))), pmo_id=1)
    data = _matrix(rng.normal(size=(rows, FEATURES)))
    batched = []
    for _ in range(runs):
        start = time.perf_counter()
        anomaly.score(model, data, batch_rows=10_000)
        batched.append(rows / (time.perf_counter() - start))
    single_rows = [_matrix(data.values[i : i + 1]) for i in range(sample)]
    single = []
    for _ in range(runs):
        start = time.perf_counter()
        for one in single_rows:
            anomaly.score(model, one)
        single.append(sample / (time.perf_counter() - start))
    return median(batched), median(single)


def online_costs(runs: int) -> tuple[float, float, float, int]:
    """(online µs/point, bare SpcMonitor µs/point, stateless µs/point, points), medians."""
    field = load_site(SITE).fields[0]
    start = to_us(dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    scenario = scenario_from_site(field, seed=42, start=start, train_days=1, days=1)
    feed = [b for _, b in batches(scenario, batch_seconds=60)]
    online_us, points = [], 0
    for _ in range(runs):
        online = OnlineAnalytics([s.info for s in scenario.series])
        begin = time.perf_counter()
        for b in feed:
            online.on_batch(b)
        elapsed = time.perf_counter() - begin
        points = online.points
        online_us.append(elapsed / points * 1e6)

    quiet = np.random.default_rng(2).normal(size=100_120).tolist()  # an in-control series
    bare_us = []
    for _ in range(runs):
        monitor = SpcMonitor.from_baseline(quiet[:120], rules=ALL_RULES)
        begin = time.perf_counter()
        for v in quiet[120:]:
            monitor.update(v)
        bare_us.append((time.perf_counter() - begin) / (len(quiet) - 120) * 1e6)

    judged = scenario.series[0].values[:2_120]
    stateless_us = []
    for _ in range(runs):
        begin = time.perf_counter()
        for i in range(120, judged.size):
            limits = control_limits(judged[i - 120 : i])
            evaluate(judged[i - 14 : i + 1], limits)  # the longest rule looks 14 points back
        stateless_us.append((time.perf_counter() - begin) / (judged.size - 120) * 1e6)
    return median(online_us), median(bare_us), median(stateless_us), points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", type=int, default=200, help="Rows scored one at a time")
    args = parser.parse_args()
    batched, single = forest_rates(args.rows, args.runs, args.sample)
    online_us, bare_us, stateless_us, points = online_costs(args.runs)
    report(
        f"Analytics speed, median of {args.runs} runs",
        ("measure", "value", "goal", "ratio vs baseline"),
        [
            ("IsolationForest, one row at a time (baseline)", f"{single:,.0f} rows/s", "", "1.0"),
            (
                "IsolationForest, batches of 10,000",
                f"{batched:,.0f} rows/s",
                ">= 100,000",
                f"{batched / single:,.0f}",
            ),
            (
                "SPC stateless: limits + rules per point (baseline)",
                f"{stateless_us:.1f} µs",
                "",
                "1.0",
            ),
            (
                f"online analytics, {points:,} points in 60 s batches",
                f"{online_us:.2f} µs",
                "< 20",
                f"{stateless_us / online_us:.0f}",
            ),
            ("bare SpcMonitor.update, 12 rules, in control", f"{bare_us:.2f} µs", "", ""),
        ],
        {
            "bench": "anomaly",
            "runs": args.runs,
            "forest_rows_per_s": round(batched),
            "forest_row_by_row_rows_per_s": round(single),
            "forest_ratio": round(batched / single, 1),
            "online_us_per_point": round(online_us, 3),
            "spc_monitor_us_per_point": round(bare_us, 3),
            "stateless_spc_us_per_point": round(stateless_us, 2),
            "online_ratio": round(stateless_us / online_us, 1),
            "goals_met": {"forest": batched >= 100_000, "online": online_us < 20},
        },
    )


if __name__ == "__main__":
    main()
