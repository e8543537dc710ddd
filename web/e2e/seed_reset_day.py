"""A contract day for the browser tests with a meter reset to confirm and an estimate to approve.

Four contract days back (three before yesterday's), the LACT oil totalizer of the demo field
stops reporting for three hours in the afternoon and comes back reset: from its last reading
before the outage it drops to 3.00 bbl and climbs again with the flow. The rate series keeps
reporting, so the volume lost over the three hours is a ``reset_estimate`` from the rate's
integral: about 3 h / 24 h = 12.5 % of the day, above the 5 % that needs a person's approval
(IDP028), and the reset itself needs a person's confirmation before the day can be signed.

The counter stays reset until noon of the next contract day, where it jumps back to the
simulator's own count (a second reset, on a day the tests do not sign), so the later days
and the live data keep their readings.

The readings are rewritten through the project's storage (``TelemetryWriter``, the hourly
rollups recomputed for the touched hours) and the day's figures computed, after the demo's
backfill and before its server answers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import psycopg

from anh_reporter.domain.timeutil import to_us
from anh_reporter.production.config import load_field
from anh_reporter.production.contract_day import last_complete_day
from anh_reporter.production.daily import compute_day
from anh_reporter.production.store import load_day
from anh_reporter.storage import rollups
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.telemetry import TelemetryWriter

PMO = "PMO-LACT-01"
DAYS_BACK = 3
"""Days before yesterday: the tests' ``addDays(contractDay(now), -4)``."""
OUTAGE = (dt.timedelta(hours=8), dt.timedelta(hours=11))
"""The counter's outage, from the start of the contract day (14:00 to 17:00 local)."""
RESTART_BBL = 3.0
REJOIN = dt.timedelta(days=1, hours=6)
"""When the counter rejoins the simulator's count, from the start of the seeded day."""


def seed_reset_day(conn: psycopg.Connection[Any], field_code: str) -> dt.date:
    """Rewrite the LACT counter of the seeded day (see the module docstring); the day."""
    config = load_field(conn, field_code)
    yesterday = last_complete_day(
        dt.datetime.now(dt.UTC), timezone=config.timezone, start_hour=config.start_hour
    )
    day = config.day(yesterday.day - dt.timedelta(days=DAYS_BACK))
    series = list_series(conn, field_code)
    total = next(s for s in series if s.owner_code == PMO and s.variable == "oil_total")
    off_start, off_end = day.start + OUTAGE[0], day.start + OUTAGE[1]
    rejoin = day.start + REJOIN
    rows = conn.execute(
        "SELECT time, value, quality FROM telemetry WHERE series_id = %s AND time > %s "
        "AND time < %s ORDER BY time",
        (total.id, off_start, rejoin),
    ).fetchall()
    if not rows:
        raise RuntimeError(f"e2e seed: no {total.code} readings on {day.day}: too little history")
    kept = [r for r in rows if r[0] >= off_end]
    first = float(kept[0][1])
    times = np.array([to_us(r[0]) for r in kept], dtype=np.int64)
    values = np.array([RESTART_BBL + float(r[1]) - first for r in kept], dtype=np.float64)
    conn.execute(
        "DELETE FROM telemetry WHERE series_id = %s AND time > %s AND time < %s",
        (total.id, off_start, rejoin),
    )
    TelemetryWriter(conn, rollups=False).write(
        np.full(times.size, total.id, dtype=np.int32),
        times,
        values,
        np.array([int(r[2]) for r in kept], dtype=np.uint32),
    )
    every = np.array([to_us(r[0]) for r in rows], dtype=np.int64)
    rollups.recompute(conn, *rollups.touched_hours(np.full(every.size, total.id, np.int32), every))
    conn.commit()
    compute_day(conn, field_code, day.day)
    figures = next(d.figures for d in load_day(conn, config.id, day.day) if d.pmo.code == PMO)
    share = figures.estimated_share_pct
    if figures.resets != 1 or share is None or share <= 5:
        raise RuntimeError(
            f"e2e seed: {PMO} {day.day} has {figures.resets} resets and {share} % estimated; "
            "expected one reset and more than 5 % estimated"
        )
    print(f"e2e: seeded reset day {day.day} ({share:.1f} % estimated)", flush=True)
    return day.day
