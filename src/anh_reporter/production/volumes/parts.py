"""A daily volume as a measured part plus estimated parts, each with its window and method.

Nothing is silently dropped and nothing silently invented: every stretch of the day either
contributes measured volume, or an :class:`EstimatedPart` that says how it was estimated, or
is listed in ``DayVolume.unestimated`` (no basis for an estimate: the volume is missing).

Estimation methods
------------------
* ``counter_difference_across_gap``: a totalizer interval longer than the gap tolerance that a
  cut (the contract hour, or the edge of a manual window) falls into. The increment across it is
  known; its split between the two sides is estimated, by time or by the rate series.
* ``rate_interpolation``: a rate gap, integrated on the straight line between the gap's edge
  samples (or a totalizer stretch with no readings, integrated from the rate series).
* ``last_good_rate``: the nearest good rate held constant over the stretch: a gap with no sample
  after it (or before it), or every rate gap when so configured.
* ``reset_estimate``: the volume lost around a meter reset (see the totalizer module).
* ``manual_entry``: a window whose volume a person entered; the telemetry figure it replaces is
  kept in ``DayVolume.replaced``.

Completeness is the measured share of the volume: ``100 × measured / total``, 100 % when the
total is 0 and nothing is missing, 0 % when the total is 0 and something is missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from .coverage import Gap

EstimationMethod = Literal[
    "counter_difference_across_gap",
    "rate_interpolation",
    "last_good_rate",
    "reset_estimate",
    "manual_entry",
]

ZERO = Decimal(0)


def decimal_of(value: float) -> Decimal:
    """The decimal a float was written as (its shortest repr): 1000.05 → Decimal('1000.05')."""
    return Decimal(repr(float(value)))


def iso(time_us: int) -> str:
    """A time in µs since the epoch as ISO 8601 UTC, for the one-line details."""
    when = dt.datetime.fromtimestamp(time_us / 1_000_000, tz=dt.UTC)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class EstimatedPart:
    """Volume over ``[start_us, end_us)`` that was estimated, and how."""

    start_us: int
    end_us: int
    method: EstimationMethod
    volume: Decimal
    detail: str
    """One line a person can check, e.g. which increment was split and on what basis."""


@dataclass(frozen=True, slots=True)
class ManualWindow:
    """A person's volume for ``[start_us, end_us)``, replacing what telemetry says there."""

    start_us: int
    end_us: int
    volume: Decimal
    reference: str = ""
    """Where it comes from, e.g. ``manual entry #12``."""


@dataclass(frozen=True, slots=True)
class ReplacedWindow:
    """A manual window and the telemetry figure it replaced (kept for the report)."""

    window: ManualWindow
    telemetry_measured: Decimal
    telemetry_estimated: Decimal
    """Estimated telemetry volume inside the window (e.g. an interpolated gap)."""
    telemetry_unestimated_s: float
    """Seconds of the window for which telemetry had no basis for any figure."""

    @property
    def telemetry_total(self) -> Decimal:
        """What the day would have counted for the window without the manual entry."""
        return self.telemetry_measured + self.telemetry_estimated


@dataclass(frozen=True, slots=True)
class DayVolume:
    """``total = measured + estimated``; the estimate is the sum of ``estimates``."""

    measured: Decimal
    estimates: tuple[EstimatedPart, ...]
    replaced: tuple[ReplacedWindow, ...] = ()
    unestimated: tuple[Gap, ...] = ()
    """Stretches with no data and no basis for an estimate: volume missing from the total."""

    @property
    def estimated(self) -> Decimal:
        """Sum of the estimated parts (manual windows included)."""
        return sum((p.volume for p in self.estimates), ZERO)

    @property
    def total(self) -> Decimal:
        """The daily volume: measured + estimated."""
        return self.measured + self.estimated

    @property
    def measured_share_pct(self) -> float:
        """Completeness: 100 × measured / total (see the module docstring for total = 0)."""
        total = self.total
        if total == 0:
            return 0.0 if self.unestimated else 100.0
        return float(100 * self.measured / total)


@dataclass
class PieceVolume:
    """What one stretch of the day contributes (an accumulator, filled piece by piece)."""

    measured: Decimal = ZERO
    estimates: list[EstimatedPart] = field(default_factory=list)
    unestimated: list[Gap] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch ``[start_us, end_us)`` of the day, inside a manual window or not."""

    start_us: int
    end_us: int
    manual: ManualWindow | None


def check_manual_windows(
    windows: Sequence[ManualWindow], start: int, end: int
) -> tuple[ManualWindow, ...]:
    """Windows sorted by start; each inside the day, not empty, not overlapping, volume >= 0."""
    ordered = tuple(sorted(windows, key=lambda w: w.start_us))
    for i, w in enumerate(ordered):
        if not (start <= w.start_us < w.end_us <= end):
            raise ValueError(
                f"manual window {w.reference or i} [{w.start_us}, {w.end_us}) must be a "
                f"non-empty part of the contract day [{start}, {end}); enter a window that "
                "crosses the contract hour as one entry per day"
            )
        if not (w.volume.is_finite() and w.volume >= 0):
            raise ValueError(
                f"manual window {w.reference or i} volume must be a finite number >= 0, "
                f"got {w.volume}"
            )
        if i and w.start_us < ordered[i - 1].end_us:
            raise ValueError(
                f"manual windows must not overlap: {w.reference or i} starts at {w.start_us}, "
                f"before the previous one ends at {ordered[i - 1].end_us}"
            )
    return ordered


def pieces(start: int, end: int, windows: Sequence[ManualWindow]) -> list[Piece]:
    """The day cut at the manual windows' edges (windows as checked by check_manual_windows)."""
    out: list[Piece] = []
    cursor = start
    for w in windows:
        if w.start_us > cursor:
            out.append(Piece(cursor, w.start_us, None))
        out.append(Piece(w.start_us, w.end_us, w))
        cursor = w.end_us
    if cursor < end:
        out.append(Piece(cursor, end, None))
    return out


def assemble(results: Sequence[tuple[Piece, PieceVolume]]) -> DayVolume:
    """The day's volume from its pieces: manual windows replace what telemetry said there."""
    measured = ZERO
    estimates: list[EstimatedPart] = []
    replaced: list[ReplacedWindow] = []
    unestimated: list[Gap] = []
    for piece, volume in results:
        if piece.manual is None:
            measured += volume.measured
            estimates.extend(volume.estimates)
            unestimated.extend(volume.unestimated)
            continue
        w = piece.manual
        estimates.append(
            EstimatedPart(
                w.start_us, w.end_us, "manual_entry", w.volume, w.reference or "manual entry"
            )
        )
        replaced.append(
            ReplacedWindow(
                window=w,
                telemetry_measured=volume.measured,
                telemetry_estimated=sum((p.volume for p in volume.estimates), ZERO),
                telemetry_unestimated_s=sum(g.duration_s for g in volume.unestimated),
            )
        )
    estimates.sort(key=lambda p: (p.start_us, p.end_us))
    return DayVolume(
        measured=measured,
        estimates=tuple(estimates),
        replaced=tuple(replaced),
        unestimated=_merged(unestimated),
    )


def _merged(gaps: list[Gap]) -> tuple[Gap, ...]:
    """Adjacent stretches (split only by a piece edge) as one."""
    out: list[Gap] = []
    for g in sorted(gaps, key=lambda g: g.start_us):
        if out and out[-1].end_us == g.start_us:
            out[-1] = Gap(out[-1].start_us, g.end_us)
        else:
            out.append(g)
    return tuple(out)
