"""Online analytics: each committed batch updates per-series state at O(1) per point.

The ingest writer calls :meth:`OnlineAnalytics.on_batch` with every committed batch; it returns
the anomaly episodes the batch opened or extended. Per series it keeps an
:class:`~anh_reporter.analytics.spc.monitor.SpcMonitor`, a ring of the last
``baseline_points`` values and a few counters; no history is read back.

Rules, in the order a point meets them
    ============ ================================================================ ==========
    BAD_STATUS   the status code is not Good (Uncertain: INFO)                    WARNING
    STUCK        the value repeated ``n`` times where the series' own history     WARNING
                 makes ``n`` repeats a ``stuck_alpha`` event (see below)
    FLATLINE     STUCK at zero or at the bottom of the range, or a point at zero  CRITICAL
                 / the bottom ``spike_warning_z`` sigma or more below the centre
    SPIKE        WE1/NELSON1 with ``|z| >= spike_warning_z`` (z = distance from   WARNING,
                 the centre line in sigmas); ``>= spike_critical_z``: CRITICAL    CRITICAL
    SHIFT        ``shift_run`` points in a row on one side of the centre line     WARNING
                 (NELSON2's pattern, counted on across refreezes)
    SPC          any other SPC rule (WE1-4, NELSON1-8 at their own thresholds)    INFO
    ============ ================================================================ ==========

    Plain 3-sigma and run rules fire on a few percent of the points of an in-control series
    sampled every few seconds (that is what their false-alarm rates mean at 8,640 points a
    day), so they are INFO and, by default (``min_severity=WARNING``), not reported; the
    rules above them ask for far rarer evidence.

Stuck
    In the baseline ring, ``p0`` is the share of steps with no change (Laplace-smoothed:
    ``(zeros + 1) / (steps + 2)``). A run of ``n`` identical values has probability about
    ``p0^(n-1)``, so STUCK needs ``n = max(stuck_min_run, 1 + ceil(log(alpha) / log(p0)))``.
    A noisy series is stuck after a handful of repeats; a coarse or report-by-exception series
    that repeats legitimately needs many more; one that repeats more than ``stuck_max_run`` times
    by itself is not judged. Until the first baseline exists STUCK is not judged.

Limits
    Every ``refreeze_every`` points the limits are frozen again (:func:`control_limits`) from
    the ring, which holds the points already judged, never the next one. Points judged
    anomalous (BAD_STATUS, STUCK, FLATLINE, SPIKE) enter the ring as NaN, so a fault neither
    drags the centre line nor inflates sigma; a level shift (SHIFT) does enter it, so a new
    normal (a meter factor change) becomes the baseline within ``baseline_points``. While the
    ring holds fewer than ``min_baseline`` finite points (at start, after a long fault) the SPC
    rules are suspended. A refreeze starts a new SPC segment (runs restart), as does a gap of
    more than ``gap_periods`` sampling periods or a non-finite / non-Good point.

Episodes
    Firings of one rule on one series less than ``merge_gap_periods`` sampling periods apart
    are one episode, hence one :class:`~anh_reporter.analytics.records.Anomaly` with one
    ``dedup_key``: an episode that goes on over several batches is returned again with a longer
    window (and its worst score and severity so far), and the store updates its row.

Replays
    Points at or before the last time seen for their series are ignored (a redelivered batch
    changes nothing), as are repeated times within a batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from anh_reporter.analytics.features import is_analysed
from anh_reporter.analytics.records import Anomaly, Detector, Severity
from anh_reporter.analytics.spc.limits import DEFAULT_MIN_BASELINE, ControlLimits, control_limits
from anh_reporter.analytics.spc.monitor import SpcMonitor
from anh_reporter.analytics.spc.rules import ALL_RULES, RULE_SPECS, Rule, Violation
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import SEVERITY_MASK, UNCERTAIN, good_mask
from anh_reporter.domain.timeutil import from_us

_BEYOND: Final = frozenset({Rule.WE1, Rule.NELSON1})
_NELSON2_RUN: Final = RULE_SPECS[Rule.NELSON2].window
_NEVER: Final = 1 << 62


@dataclass(frozen=True)
class SeriesInfo:
    """What the online rules need to know about a series."""

    series_id: int
    field_id: int
    variable: str
    sampling_period_s: float
    range_lo: float
    range_hi: float
    pmo_id: int | None = None


@dataclass(frozen=True)
class OnlineSettings:
    """Tuning of the online rules (see the module docstring for each)."""

    baseline_points: int = 120
    refreeze_every: int = 30
    min_baseline: int = DEFAULT_MIN_BASELINE
    rules: tuple[Rule, ...] = ALL_RULES
    spike_warning_z: float = 6.0
    spike_critical_z: float = 10.0
    shift_run: int = 30
    stuck_min_run: int = 5
    stuck_max_run: int = 720
    stuck_alpha: float = 1e-6
    gap_periods: float = 10.0
    merge_gap_periods: float = 30.0
    min_severity: Severity = Severity.WARNING

    def __post_init__(self) -> None:
        if self.baseline_points < self.min_baseline:
            raise ValueError(
                f"baseline_points ({self.baseline_points}) must be >= min_baseline "
                f"({self.min_baseline})"
            )
        if not 1 <= self.refreeze_every <= self.baseline_points:
            raise ValueError(
                f"refreeze_every must be between 1 and baseline_points "
                f"({self.baseline_points}), got {self.refreeze_every}"
            )
        if not 0.0 < self.stuck_alpha < 1.0:
            raise ValueError(f"stuck_alpha must be in (0, 1), got {self.stuck_alpha}")
        if not 0.0 < self.spike_warning_z <= self.spike_critical_z:
            raise ValueError(
                f"need 0 < spike_warning_z <= spike_critical_z, got {self.spike_warning_z} "
                f"and {self.spike_critical_z}"
            )
        if self.shift_run < _NELSON2_RUN:
            raise ValueError(
                f"shift_run must be at least NELSON2's run ({_NELSON2_RUN}), got {self.shift_run}"
            )


@dataclass
class _Episode:
    detector: Detector
    start_us: int
    last_us: int
    score: float
    severity: Severity
    detail: dict[str, Any]
    points: int = 1
    rules: dict[str, int] = field(default_factory=dict)


class _SeriesState:
    """Everything kept for one series: O(baseline_points) memory, O(1) work per point."""

    def __init__(self, info: SeriesInfo, settings: OnlineSettings) -> None:
        self.info = info
        self.settings = settings
        self.monitor: SpcMonitor | None = None
        self.ring = np.full(settings.baseline_points, np.nan)
        self.ring_pos = 0
        self.since_refreeze = 0
        self.last_time = -_NEVER
        self.last_value = math.nan
        self.equal_run = 0
        self.run_start_us = 0
        self.stuck_needed = _NEVER
        self.p0 = math.nan
        self.center = math.nan
        self.side = 0
        self.side_run = 0
        self.side_start_us = 0
        period_us = info.sampling_period_s * 1e6
        self.gap_us = int(settings.gap_periods * period_us)
        self.merge_us = int(settings.merge_gap_periods * period_us)
        self.episodes: dict[Detector, _Episode] = {}

    # -- per point ---------------------------------------------------------------------------

    def process(
        self,
        times: list[int],
        values: list[float],
        good: list[bool],
        codes: list[int],
        touched: dict[tuple[int, str, int], _Episode],
    ) -> None:
        """Judge the points of one series (time order, already de-duplicated)."""
        for t, v, ok, code in zip(times, values, good, codes, strict=True):
            if t - self.last_time > self.gap_us:
                self._break_patterns()
            self.last_time = t
            if not ok or not math.isfinite(v):
                if not ok:
                    uncertain = (code & SEVERITY_MASK) == UNCERTAIN
                    self._fire(
                        Detector.BAD_STATUS,
                        t,
                        t,
                        1.0,
                        Severity.INFO if uncertain else Severity.WARNING,
                        {"status": f"0x{code:08X}", "value": v if math.isfinite(v) else None},
                        (),
                        touched,
                    )
                self._break_patterns()
                self._push(math.nan)
                continue
            if v == self.last_value:
                self.equal_run += 1
            else:
                self.equal_run = 1
                self.last_value = v
                self.run_start_us = t
            flagged = False
            if self.equal_run >= self.stuck_needed:
                if self.equal_run == self.stuck_needed:
                    self._unpush(self.equal_run - 1)  # the run's first readings were frozen too
                self._fire_stuck(t, v, touched)
                flagged = True
                if self.monitor is not None:
                    self.monitor.update(math.nan)  # a frozen reading says nothing of the process
                self.side_run = 0
            elif self.monitor is not None:
                violations = self.monitor.update(v)
                side = (v > self.center) - (v < self.center)
                if side != 0 and side == self.side:
                    self.side_run += 1
                else:
                    self.side, self.side_run, self.side_start_us = side, 1 if side else 0, t
                if violations:
                    flagged = self._judge(t, v, violations, touched)
                if self.side_run >= self.settings.shift_run:
                    self._fire_shift(t, v, violations, touched)
            self._push(math.nan if flagged else v)

    def _break_patterns(self) -> None:
        if self.monitor is not None:
            self.monitor.update(math.nan)
        self.equal_run = 0
        self.last_value = math.nan
        self.side_run = 0

    def _push(self, value: float) -> None:
        self.ring[self.ring_pos] = value
        self.ring_pos = (self.ring_pos + 1) % self.ring.size
        self.since_refreeze += 1
        due = (
            self.settings.refreeze_every if self.monitor is not None else self.settings.min_baseline
        )
        if self.since_refreeze >= due:
            self._refreeze()

    def _unpush(self, count: int) -> None:
        """Turn the last ``count`` ring entries into NaN (readings found faulty afterwards)."""
        size = self.ring.size
        for back in range(1, min(count, size) + 1):
            self.ring[(self.ring_pos - back) % size] = math.nan

    def _judge(
        self,
        t: int,
        v: float,
        violations: tuple[Violation, ...],
        touched: dict[tuple[int, str, int], _Episode],
    ) -> bool:
        """Turn the SPC violations at one point into rule firings; True for a point anomaly."""
        settings = self.settings
        limits = violations[0].limits
        z = (v - limits.center) / limits.sigma
        rules = tuple(violation.rule.value for violation in violations)
        detail = _spc_detail(v, z, limits)
        point_anomaly = False
        if abs(z) >= settings.spike_warning_z and any(r.rule in _BEYOND for r in violations):
            severity = (
                Severity.CRITICAL if abs(z) >= settings.spike_critical_z else Severity.WARNING
            )
            if z < 0 and self._at_floor(v):
                self._fire(
                    Detector.FLATLINE, t, t, abs(z), Severity.CRITICAL, detail, rules, touched
                )
            else:
                self._fire(Detector.SPIKE, t, t, abs(z), severity, detail, rules, touched)
            point_anomaly = True
        if not point_anomaly and settings.min_severity is Severity.INFO:
            self._fire(Detector.SPC, t, t, abs(z), Severity.INFO, detail, rules, touched)
        return point_anomaly

    def _fire_shift(
        self,
        t: int,
        v: float,
        violations: tuple[Violation, ...],
        touched: dict[tuple[int, str, int], _Episode],
    ) -> None:
        assert self.monitor is not None  # noqa: S101 - narrows for mypy: called only once the monitor is fitted
        limits = self.monitor.limits
        detail = _spc_detail(v, (v - limits.center) / limits.sigma, limits) | {
            "run": self.side_run,
            "side": "above" if self.side > 0 else "below",
        }
        rules = tuple(violation.rule.value for violation in violations)
        self._fire(
            Detector.SHIFT,
            t,
            self.side_start_us,
            float(self.side_run),
            Severity.WARNING,
            detail,
            rules,
            touched,
        )

    def _at_floor(self, v: float) -> bool:
        return v == 0.0 or v <= self.info.range_lo

    def _fire_stuck(self, t: int, v: float, touched: dict[tuple[int, str, int], _Episode]) -> None:
        flat = self._at_floor(v)
        detail: dict[str, Any] = {
            "value": v,
            "repeats": self.equal_run,
            "repeats_needed": self.stuck_needed,
            "baseline_zero_step_share": round(self.p0, 6),
            "since": from_us(self.run_start_us).isoformat(),
        }
        self._fire(
            Detector.FLATLINE if flat else Detector.STUCK,
            t,
            self.run_start_us,
            float(self.equal_run),
            Severity.CRITICAL if flat else Severity.WARNING,
            detail,
            (),
            touched,
        )

    def _fire(
        self,
        detector: Detector,
        t: int,
        start_us: int,
        score: float,
        severity: Severity,
        detail: dict[str, Any],
        rules: tuple[str, ...],
        touched: dict[tuple[int, str, int], _Episode],
    ) -> None:
        episode = self.episodes.get(detector)
        if episode is not None and t - episode.last_us <= self.merge_us:
            episode.last_us = t
            episode.points += 1
            if score > episode.score:
                episode.score, episode.detail = score, detail
            episode.severity = Severity.most(episode.severity, severity)
        else:
            episode = _Episode(detector, min(start_us, t), t, score, severity, detail)
            self.episodes[detector] = episode
        for rule in rules:
            episode.rules[rule] = episode.rules.get(rule, 0) + 1
        touched[(self.info.series_id, detector.value, episode.start_us)] = episode

    # -- every refreeze_every points ---------------------------------------------------------

    def _refreeze(self) -> None:
        self.since_refreeze = 0
        settings = self.settings
        ring = np.concatenate((self.ring[self.ring_pos :], self.ring[: self.ring_pos]))
        steps = np.diff(ring)
        steps = steps[np.isfinite(steps)]
        if steps.size:
            self.p0 = (np.count_nonzero(steps == 0.0) + 1.0) / (steps.size + 2.0)
            needed = 1 + math.ceil(math.log(settings.stuck_alpha) / math.log(self.p0))
            needed = max(settings.stuck_min_run, needed)
            self.stuck_needed = needed if needed <= settings.stuck_max_run else _NEVER
        try:
            limits = control_limits(ring, min_points=settings.min_baseline)
        except ValueError:
            self.monitor = None  # too few good points, or no spread: suspend the SPC rules
            self.side_run = 0
            return
        if self.monitor is None:
            self.monitor = SpcMonitor(limits, rules=settings.rules, baseline_window=2)
        else:
            self.monitor.set_limits(limits)
        self.center = limits.center

    # -- output ------------------------------------------------------------------------------

    def anomaly(self, episode: _Episode) -> Anomaly:
        """The anomaly record of one episode."""
        info = self.info
        explanation = {
            "detector": episode.detector.value,
            "why": _why(episode, info),
            "points": episode.points,
            "rules": dict(sorted(episode.rules.items())),
            "peak": episode.detail,
        }
        return Anomaly(
            field_id=info.field_id,
            series_id=info.series_id,
            pmo_id=None,
            window_start_us=episode.start_us,
            window_end_us=episode.last_us,
            score=episode.score,
            severity=episode.severity,
            detector=episode.detector.value,
            explanation=explanation,
        )


def _spc_detail(v: float, z: float, limits: ControlLimits) -> dict[str, Any]:
    return {
        "value": v,
        "z": round(z, 3),
        "center": limits.center,
        "sigma": limits.sigma,
        "ucl": limits.ucl,
        "lcl": limits.lcl,
    }


def _why(episode: _Episode, info: SeriesInfo) -> str:
    d = episode.detail
    name = info.variable
    if episode.detector in (Detector.SPIKE, Detector.FLATLINE, Detector.SPC) and "z" in d:
        return (
            f"{name} {d['value']:.6g} is {abs(d['z']):.1f} sigma "
            f"{'above' if d['z'] > 0 else 'below'} its centre line {d['center']:.6g} "
            f"(sigma {d['sigma']:.3g})"
        )
    if episode.detector is Detector.SHIFT:
        return f"{name}: {d['run']} points in a row {d['side']} the centre line {d['center']:.6g}"
    if "repeats" in d:
        return (
            f"{name} frozen at {d['value']:.6g} for {d['repeats']} samples since {d['since']}; "
            f"its own history makes {d['repeats_needed']} repeats a rare event"
        )
    return f"{name}: status code {d.get('status')} is not Good"


class OnlineAnalytics:
    """Per-series online rules over committed batches (see the module docstring).

    Not thread-safe: one ingest writer feeds it, batch after batch.
    """

    def __init__(
        self, series: Iterable[SeriesInfo], settings: OnlineSettings | None = None
    ) -> None:
        self.settings = settings or OnlineSettings()
        self._states: dict[int, _SeriesState] = {}
        self.points = 0
        self.watch(series)

    def watch(self, series: Iterable[SeriesInfo]) -> None:
        """Start watching series not watched yet (those already watched keep their state)."""
        for s in series:
            if is_analysed(s.variable) and s.series_id not in self._states:
                self._states[s.series_id] = _SeriesState(s, self.settings)

    @property
    def series_ids(self) -> frozenset[int]:
        """The series watched (rates and properties among those given)."""
        return frozenset(self._states)

    def limits(self, series_id: int) -> ControlLimits | None:
        """The limits a series' next point is judged against (None while suspended)."""
        state = self._states.get(series_id)
        return None if state is None or state.monitor is None else state.monitor.limits

    def on_batch(self, batch: Batch) -> list[Anomaly]:
        """Judge a committed batch; the episodes it opened or extended, worst first.

        Only episodes at ``min_severity`` or above are returned. Series not watched are
        skipped.
        """
        if len(batch) == 0:
            return []
        order = np.lexsort((batch.time_us, batch.series_id))
        sid = batch.series_id[order]
        times = batch.time_us[order]
        values = batch.value[order]
        codes = batch.quality[order]
        good = good_mask(codes)
        bounds = np.flatnonzero(np.diff(sid)) + 1
        touched: dict[tuple[int, str, int], _Episode] = {}
        for lo, hi in zip(
            np.concatenate(([0], bounds)).tolist(),
            np.concatenate((bounds, [sid.size])).tolist(),
            strict=True,
        ):
            state = self._states.get(int(sid[lo]))
            if state is None:
                continue
            t = times[lo:hi]
            # Sorted by time within the series: a point is new when it is later than both the
            # last point seen and the point before it (replays and repeated times: skipped).
            fresh = t > state.last_time
            fresh[1:] &= t[1:] > t[:-1]
            fresh = np.flatnonzero(fresh) + lo
            state.process(
                times[fresh].tolist(),
                values[fresh].tolist(),
                good[fresh].tolist(),
                codes[fresh].tolist(),
                touched,
            )
            self.points += fresh.size
        minimum = self.settings.min_severity.rank
        found = [
            self._states[key[0]].anomaly(episode)
            for key, episode in touched.items()
            if episode.severity.rank >= minimum
        ]
        found.sort(key=lambda a: (-a.severity.rank, a.window_start_us, a.series_id or 0))
        return found
