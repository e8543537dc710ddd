"""Backfill synthetic history for every series of a site from the deterministic generator."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg

from anh_reporter.domain.timeutil import US_PER_DAY, to_us
from anh_reporter.simulator.signals import SignalSpec, generate, sample_times
from anh_reporter.simulator.specs import site_signal_specs
from anh_reporter.site import Site
from anh_reporter.storage.series_repo import SeriesRow, list_series
from anh_reporter.storage.telemetry import TelemetryWriter


@dataclass(frozen=True)
class SeriesFill:
    """What the backfill wrote for one series."""

    code: str
    rows: int
    first_us: int | None
    last_us: int | None


@dataclass(frozen=True)
class BackfillSummary:
    """The whole backfill: per series, total rows, wall time."""

    series: list[SeriesFill]
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        """Rows written per second."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def signal_specs(site: Site, rows: list[SeriesRow]) -> dict[int, SignalSpec]:
    """Generator parameters by series id, for the series stored in the database."""
    by_code = site_signal_specs(site, {r.code: r.id for r in rows}, partial=True)
    return {r.id: by_code[r.code] for r in rows if r.code in by_code}


def backfill(
    conn: psycopg.Connection[Any],
    site: Site,
    *,
    end: dt.datetime,
    days: float,
    seed: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> BackfillSummary:
    """Write ``days`` of history up to ``end`` for every series, resuming after stored rows.

    Written one day at a time (all series together, one transaction each), so a run that is
    interrupted and started again continues where it stopped.
    """
    rows = list_series(conn)
    specs = signal_specs(site, rows)
    end_us = to_us(end)
    start_us = end_us - int(days * US_PER_DAY)
    resume = _last_times(conn, [r.id for r in rows])
    plans = []
    for r in rows:
        first = max(start_us, resume.get(r.id, start_us - 1) + 1, to_us(r.commissioned_at))
        if r.id in specs:
            plans.append((r, sample_times(first, end_us, r.sampling_period_s)))
    total = sum(len(t) for _, t in plans)
    if on_progress:
        on_progress(0, total)
    writer = TelemetryWriter(conn)
    done = 0
    started = time.perf_counter()
    for day_start in range(start_us, end_us, US_PER_DAY):
        day_end = min(day_start + US_PER_DAY, end_us)
        parts_s, parts_t, parts_v = [], [], []
        for r, times in plans:
            lo, hi = np.searchsorted(times, [day_start, day_end])
            if hi > lo:
                chunk = times[lo:hi]
                parts_s.append(np.full(len(chunk), r.id, dtype=np.int32))
                parts_t.append(chunk)
                parts_v.append(generate(specs[r.id], chunk, seed))
        if not parts_s:
            continue
        sids = np.concatenate(parts_s)
        writer.write(
            sids,
            np.concatenate(parts_t),
            np.concatenate(parts_v),
            np.zeros(len(sids), dtype=np.uint32),
        )
        done += len(sids)
        if on_progress:
            on_progress(done, total)
    seconds = time.perf_counter() - started
    fills = [
        SeriesFill(r.code, len(t), int(t[0]) if len(t) else None, int(t[-1]) if len(t) else None)
        for r, t in plans
    ]
    return BackfillSummary(fills, done, seconds)


def _last_times(conn: psycopg.Connection[Any], series_ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for sid in series_ids:
        row = conn.execute(
            "SELECT max(time) FROM telemetry WHERE series_id = %s", (sid,)
        ).fetchone()
        if row and row[0] is not None:
            out[sid] = to_us(row[0])
    conn.commit()
    return out
