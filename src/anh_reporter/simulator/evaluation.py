"""Detection quality against injected faults: a simulated field, its fault log, and the scores.

:func:`scenario_from_site` generates the PMO series of a site field with the deterministic
simulator (:mod:`anh_reporter.simulator.signals`) and injects faults
(:mod:`anh_reporter.simulator.faults`) at seeded random places; the fault list is the ground
truth. :func:`run_detection` runs the online rules batch by batch, as the ingest writer would,
and an IsolationForest per PMO trained on the fault-free first days; :func:`naive_detection` is
the baseline, a plain 3-sigma test on every point. :func:`score_detections` matches detections
to faults.

Matching
    A detection matches a fault when it concerns the fault's series (or, for a PMO-level
    detection, the fault's series belongs to that PMO) and its window overlaps the fault's
    window extended by ``tolerance_us`` after its end. Recall of a fault kind = faults with a
    matching detection / faults; precision = detections matching some fault / detections.
    The delay of a detected fault is the earliest ``detected_us`` of its matching detections
    minus the fault start: for the online rules the end of the batch that raised the
    anomaly, for the model the end of the first flagged window.

Only detections whose window starts in the scored period (after the training days) count.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from anh_reporter.analytics import anomaly
from anh_reporter.analytics.features import (
    FeatureMatrix,
    WindowStats,
    is_analysed,
    pmo_features,
    window_stats,
)
from anh_reporter.analytics.online import OnlineAnalytics, OnlineSettings, SeriesInfo
from anh_reporter.analytics.records import Anomaly, Severity
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import US_PER_DAY, US_PER_SECOND, to_us
from anh_reporter.domain.variables import VARIABLES, VariableKind
from anh_reporter.simulator.faults import Fault, FaultKind, apply_faults
from anh_reporter.simulator.signals import SignalSpec, generate, sample_times
from anh_reporter.site import FieldSite

US_PER_MINUTE = 60 * US_PER_SECOND


@dataclass(frozen=True)
class FaultPlan:
    """How many faults of one kind, how long, how strong (``magnitude`` as in :class:`Fault`)."""

    kind: FaultKind
    count: int
    min_minutes: float
    max_minutes: float
    magnitude: tuple[float, float] = (0.0, 0.0)  # |magnitude| range; the sign is drawn


DEFAULT_PLAN: tuple[FaultPlan, ...] = (
    FaultPlan(FaultKind.SPIKE, 12, 0.0, 0.0, (0.25, 0.6)),  # 1 to 3 samples
    FaultPlan(FaultKind.STUCK, 10, 10.0, 60.0),
    FaultPlan(FaultKind.FLATLINE, 10, 10.0, 60.0),
    FaultPlan(FaultKind.DRIFT, 6, 120.0, 360.0, (0.1, 0.3)),
    FaultPlan(FaultKind.BAD_STATUS, 8, 1.0, 15.0),
    FaultPlan(FaultKind.METER_FACTOR, 3, 60.0, 60.0, (0.03, 0.08)),
)


@dataclass(frozen=True)
class SimulatedSeries:
    """One series of the scenario: what the rules know of it, and its samples after faults."""

    info: SeriesInfo
    times_us: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    quality: npt.NDArray[np.uint32]


@dataclass(frozen=True)
class Scenario:
    """A simulated field with injected faults; ``[start_us, train_end_us)`` is fault-free."""

    series: tuple[SimulatedSeries, ...]
    faults: tuple[Fault, ...]
    start_us: int
    train_end_us: int
    end_us: int

    @property
    def series_pmo(self) -> dict[int, int]:
        """PMO id of each series id."""
        return {s.info.series_id: s.info.pmo_id for s in self.series if s.info.pmo_id is not None}


def _eligible(kind: FaultKind, info: SeriesInfo) -> bool:
    if kind is FaultKind.FLATLINE:
        return info.range_lo <= 0.0  # elsewhere a zero is out of range: ingest quarantines it
    if kind is FaultKind.METER_FACTOR:
        return VARIABLES[info.variable].kind is VariableKind.RATE
    return True


def scenario_from_site(
    field_site: FieldSite,
    *,
    seed: int,
    start: int,
    train_days: float,
    days: float,
    plan: Sequence[FaultPlan] = DEFAULT_PLAN,
    guard_minutes: float = 60.0,
) -> Scenario:
    """Simulate the field's analysed PMO series over ``train_days + days`` from ``start`` (µs).

    Faults are placed at random (``seed``) in the last ``days``, at least ``guard_minutes``
    apart on one series; a meter factor change is injected at most once per series.
    """
    rng = np.random.default_rng(seed)
    train_end = start + int(train_days * US_PER_DAY)
    end = train_end + int(days * US_PER_DAY)
    specs: list[tuple[SeriesInfo, SignalSpec]] = []
    for pmo_index, pmo in enumerate(field_site.pmos, start=1):
        for s in pmo.series:
            if not is_analysed(s.variable):
                continue
            key = len(specs) + 1
            info = SeriesInfo(
                series_id=key,
                field_id=1,
                variable=s.variable,
                sampling_period_s=s.sampling_period_s,
                range_lo=s.range[0],
                range_hi=s.range[1],
                pmo_id=pmo_index,
            )
            commissioned = to_us(dt.datetime.combine(s.commissioned, dt.time(), dt.UTC))
            spec = SignalSpec(
                key, s.variable, s.range[0], s.range[1], commissioned, s.rollover, s.simulation
            )
            specs.append((info, spec))
    faults = _place_faults(rng, [info for info, _ in specs], plan, train_end, end, guard_minutes)
    series = []
    for info, spec in specs:
        times = sample_times(start, end, info.sampling_period_s)
        values = generate(spec, times, seed)
        quality = np.zeros(times.size, dtype=np.uint32)
        values, quality, silent = apply_faults(faults, info.series_id, times, values, quality)
        keep = ~silent
        series.append(SimulatedSeries(info, times[keep], values[keep], quality[keep]))
    return Scenario(tuple(series), tuple(faults), start, train_end, end)


def _place_faults(
    rng: np.random.Generator,
    infos: Sequence[SeriesInfo],
    plan: Sequence[FaultPlan],
    lo_us: int,
    hi_us: int,
    guard_minutes: float,
) -> list[Fault]:
    taken: dict[int, list[tuple[int, int]]] = {}
    shifted: set[int] = set()
    guard = int(guard_minutes * US_PER_MINUTE)
    faults = []
    for item in plan:
        candidates = [
            i
            for i in infos
            if _eligible(item.kind, i)
            and not (item.kind is FaultKind.METER_FACTOR and i.series_id in shifted)
        ]
        for _ in range(item.count):
            for _attempt in range(200):
                info = candidates[int(rng.integers(len(candidates)))]
                period = int(info.sampling_period_s * US_PER_SECOND)
                if item.kind is FaultKind.SPIKE:
                    length = period * int(rng.integers(1, 4))
                else:
                    minutes = rng.uniform(item.min_minutes, item.max_minutes)
                    length = max(period, int(minutes * US_PER_MINUTE))
                start = int(rng.integers(lo_us + guard, hi_us - length - guard))
                start -= start % period  # on the sampling grid: the first sample is faulty
                end = start + length
                busy = taken.setdefault(info.series_id, [])
                if any(start < e + guard and end + guard > s for s, e in busy):
                    continue
                if item.kind is FaultKind.METER_FACTOR and info.series_id in shifted:
                    continue
                size = rng.uniform(*item.magnitude) if item.magnitude[1] > 0 else 0.0
                sign = -1.0 if rng.random() < 0.5 else 1.0
                busy.append((start, end))
                if item.kind is FaultKind.METER_FACTOR:
                    shifted.add(info.series_id)
                faults.append(Fault(item.kind, info.series_id, start, end, sign * size))
                break
    faults.sort(key=lambda f: (f.start_us, f.series_key))
    return faults


@dataclass(frozen=True)
class Detection:
    """One detection to score: whose, which window, when it was known, by what."""

    series_id: int | None
    pmo_id: int | None
    start_us: int
    end_us: int
    detected_us: int
    detector: str
    severity: Severity


def batches(scenario: Scenario, *, batch_seconds: float) -> Iterable[tuple[int, Batch]]:
    """The scenario's samples as committed batches of ``batch_seconds``, in time order.

    Yields (end of the batch window in µs, batch).
    """
    sid = np.concatenate(
        [np.full(s.times_us.size, s.info.series_id, dtype=np.int32) for s in scenario.series]
    )
    times = np.concatenate([s.times_us for s in scenario.series])
    values = np.concatenate([s.values for s in scenario.series])
    quality = np.concatenate([s.quality for s in scenario.series])
    order = np.argsort(times, kind="stable")
    sid, times, values, quality = sid[order], times[order], values[order], quality[order]
    step = int(batch_seconds * US_PER_SECOND)
    edges = np.arange(scenario.start_us, scenario.end_us + step, step, dtype=np.int64)
    cuts = np.searchsorted(times, edges)
    for i in range(edges.size - 1):
        lo, hi = int(cuts[i]), int(cuts[i + 1])
        if hi > lo:
            yield int(edges[i + 1]), Batch(sid[lo:hi], times[lo:hi], values[lo:hi], quality[lo:hi])


def pmo_window_features(scenario: Scenario, pmo_id: int, *, window_minutes: float) -> FeatureMatrix:
    """Feature windows of one PMO over the whole scenario, from its raw samples."""
    window = int(window_minutes * US_PER_MINUTE)
    stats: dict[str, WindowStats] = {}
    for s in scenario.series:
        if s.info.pmo_id == pmo_id:
            stats[s.info.variable] = window_stats(
                s.times_us,
                s.values,
                s.quality,
                start_us=scenario.start_us,
                end_us=scenario.end_us,
                window_us=window,
            )
    return pmo_features(stats, context=max(1, round(US_PER_DAY / window)))


@dataclass
class DetectionRun:
    """Detections of one run, with the raw anomalies and how many points the rules saw."""

    detections: list[Detection] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    points: int = 0
    models: dict[int, anomaly.PmoModel] = field(default_factory=dict)


def run_detection(
    scenario: Scenario,
    *,
    settings: OnlineSettings | None = None,
    batch_seconds: float = 60.0,
    window_minutes: float = 10.0,
    use_model: bool = True,
    model_min_severity: Severity = Severity.WARNING,
) -> DetectionRun:
    """Online rules over the batches, then a model per PMO scored on the scored period."""
    run = DetectionRun()
    online = OnlineAnalytics([s.info for s in scenario.series], settings)
    first_seen: dict[str, int] = {}
    latest: dict[str, Anomaly] = {}
    for batch_end, batch in batches(scenario, batch_seconds=batch_seconds):
        for found in online.on_batch(batch):
            first_seen.setdefault(found.dedup_key, batch_end)
            latest[found.dedup_key] = found
    run.points = online.points
    for key, found in latest.items():
        run.anomalies.append(found)
        run.detections.append(_detection(found, first_seen[key]))
    if use_model:
        window = int(window_minutes * US_PER_MINUTE)
        for pmo_id in sorted(set(scenario.series_pmo.values())):
            matrix = pmo_window_features(scenario, pmo_id, window_minutes=window_minutes)
            training = matrix.window_start_us + window <= scenario.train_end_us
            model = anomaly.train(_rows(matrix, training), pmo_id=pmo_id)
            model.version = 1
            run.models[pmo_id] = model
            scored = _rows(matrix, ~training)
            for found in anomaly.detect(model, scored, field_id=1, min_severity=model_min_severity):
                run.anomalies.append(found)
                run.detections.append(_detection(found, found.window_start_us + window))
    return run


def _rows(matrix: FeatureMatrix, mask: npt.NDArray[np.bool_]) -> FeatureMatrix:
    return FeatureMatrix(
        matrix.window_start_us[mask], matrix.window_us, matrix.names, matrix.values[mask]
    )


def _detection(found: Anomaly, detected_us: int) -> Detection:
    return Detection(
        found.series_id,
        found.pmo_id,
        found.window_start_us,
        found.window_end_us,
        detected_us,
        found.detector,
        found.severity,
    )


def naive_detection(
    scenario: Scenario, *, sigmas: float = 3.0, merge_gap_periods: float = 30.0
) -> list[Detection]:
    """The baseline: mean +/- 3 std of each series' training days, judged on every later point.

    Flagged points of a series less than ``merge_gap_periods`` apart are one detection, as the
    online episodes are.
    """
    out = []
    for s in scenario.series:
        train = (s.times_us < scenario.train_end_us) & np.isfinite(s.values)
        mean, std = float(s.values[train].mean()), float(s.values[train].std(ddof=1))
        judged = s.times_us >= scenario.train_end_us
        t = s.times_us[judged]
        beyond = np.abs(s.values[judged] - mean) > sigmas * std
        hits = t[beyond]
        if hits.size == 0:
            continue
        gap = int(merge_gap_periods * s.info.sampling_period_s * US_PER_SECOND)
        breaks = np.flatnonzero(np.diff(hits) > gap) + 1
        for group in np.split(hits, breaks):
            first, last = int(group[0]), int(group[-1])
            out.append(
                Detection(s.info.series_id, None, first, last, first, "3SIGMA", Severity.WARNING)
            )
    return out


@dataclass(frozen=True)
class KindScore:
    """Recall and delays for one fault kind."""

    kind: str
    faults: int
    detected: int
    delays_s: tuple[float, ...]

    @property
    def median_delay_s(self) -> float:
        """Median detection delay of the detected faults (NaN when none was detected)."""
        return float(np.median(self.delays_s)) if self.delays_s else math.nan

    @property
    def recall(self) -> float:
        """Detected faults / faults (NaN when there is none)."""
        return self.detected / self.faults if self.faults else math.nan


@dataclass(frozen=True)
class DetectorScore:
    """Precision of one detector (rule or model)."""

    detector: str
    detections: int
    true: int

    @property
    def precision(self) -> float:
        """Detections matching a fault / detections (NaN when there is none)."""
        return self.true / self.detections if self.detections else math.nan


@dataclass(frozen=True)
class QualityReport:
    """Per fault kind, per detector, and overall."""

    kinds: dict[str, KindScore]
    detectors: dict[str, DetectorScore]
    detections: int
    true_detections: int

    @property
    def precision(self) -> float:
        """Overall precision: detections matching a fault / detections."""
        return self.true_detections / self.detections if self.detections else math.nan


def score_detections(
    detections: Sequence[Detection],
    faults: Sequence[Fault],
    *,
    series_pmo: dict[int, int],
    scored_from_us: int,
    tolerance_us: int = 10 * US_PER_MINUTE,
) -> QualityReport:
    """Match detections to faults (see the module docstring)."""
    judged = [d for d in detections if d.start_us >= scored_from_us]
    matched_detection = [False] * len(judged)
    delays: dict[int, float] = {}
    for fi, f in enumerate(faults):
        for di, d in enumerate(judged):
            same = d.series_id == f.series_key or (
                d.series_id is None and d.pmo_id == series_pmo.get(f.series_key)
            )
            if same and d.start_us <= f.end_us + tolerance_us and d.end_us >= f.start_us:
                matched_detection[di] = True
                delay = max(d.detected_us - f.start_us, 0) / US_PER_SECOND
                delays[fi] = min(delays.get(fi, math.inf), delay)
    kinds: dict[str, KindScore] = {}
    for kind in FaultKind:
        indices = [i for i, f in enumerate(faults) if f.kind is kind]
        if not indices:
            continue
        found = tuple(delays[i] for i in indices if i in delays)
        kinds[kind.value] = KindScore(kind.value, len(indices), len(found), found)
    detectors: dict[str, DetectorScore] = {}
    for name in sorted({d.detector for d in judged}):
        picks = [i for i, d in enumerate(judged) if d.detector == name]
        detectors[name] = DetectorScore(
            name, len(picks), sum(1 for i in picks if matched_detection[i])
        )
    return QualityReport(kinds, detectors, len(judged), sum(matched_detection))
