"""Idempotent writes of columnar readings to ``telemetry``, with the hourly rollups kept current.

Fast path: one binary COPY. If the batch repeats rows already stored (a replay after a crash
or a redelivered bus entry), the COPY fails on the primary key and the batch goes through a
staging table with ``ON CONFLICT DO NOTHING`` instead: replaying changes nothing, raises
nothing. The rollups of every (series, hour) the batch touched are recomputed from the raw
rows in the same transaction, so they always equal the raw data, late or out of order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import errors

from anh_reporter.domain.timeutil import US_PER_HOUR, from_us
from anh_reporter.storage import partitions
from anh_reporter.storage.copy import copy_rows

_STAGING = "telemetry_staging"

ROLLUP_SQL = """
WITH touched AS (
    SELECT DISTINCT s AS series_id, h AS hour
    FROM unnest(%(series)s::int[], %(hours)s::timestamptz[]) AS u(s, h)
),
raw AS (
    SELECT t.series_id, k.hour, t.time, t.value,
           (t.quality >= 0 AND t.quality < 1073741824 AND t.value IS NOT NULL) AS good
    FROM touched k
    JOIN telemetry t
      ON t.series_id = k.series_id AND t.time >= k.hour AND t.time < k.hour + interval '1 hour'
),
counts AS (
    SELECT series_id, hour, count(*) AS n, count(*) FILTER (WHERE good) AS n_good
    FROM raw GROUP BY series_id, hour
),
good AS (
    SELECT series_id, hour, time, value,
           lag(time) OVER w AS prev_time, lag(value) OVER w AS prev_value
    FROM raw WHERE good
    WINDOW w AS (PARTITION BY series_id, hour ORDER BY time)
),
stats AS (
    SELECT series_id, hour, avg(value) AS avg, min(value) AS min, max(value) AS max,
           coalesce(sum((value + prev_value) / 2
                        * extract(epoch FROM time - prev_time)::float8), 0) AS integral,
           min(time) AS first_time, (array_agg(value ORDER BY time))[1] AS first_value,
           max(time) AS last_time, (array_agg(value ORDER BY time DESC))[1] AS last_value
    FROM good GROUP BY series_id, hour
)
INSERT INTO telemetry_hourly AS r (series_id, hour, count, good_count, avg, min, max, integral,
                                   first_time, first_value, last_time, last_value)
SELECT c.series_id, c.hour, c.n, c.n_good, s.avg, s.min, s.max, s.integral,
       s.first_time, s.first_value, s.last_time, s.last_value
FROM counts c LEFT JOIN stats s USING (series_id, hour)
ON CONFLICT (series_id, hour) DO UPDATE SET
    count = excluded.count, good_count = excluded.good_count, avg = excluded.avg,
    min = excluded.min, max = excluded.max, integral = excluded.integral,
    first_time = excluded.first_time, first_value = excluded.first_value,
    last_time = excluded.last_time, last_value = excluded.last_value, updated_at = now()
"""


@dataclass(frozen=True)
class WriteResult:
    """Rows offered, rows stored now, and rows that were already there."""

    offered: int
    inserted: int

    @property
    def duplicates(self) -> int:
        """Rows that the table already held (a replay)."""
        return self.offered - self.inserted


class TelemetryWriter:
    """Writes batches on one connection; remembers which partitions exist."""

    def __init__(self, conn: psycopg.Connection[Any], *, rollups: bool = True) -> None:
        self.conn = conn
        self.rollups = rollups
        self._weeks: set[int] = set()
        self._native = partitions.is_native(conn)
        conn.commit()

    def write(
        self,
        series_id: npt.NDArray[np.int32],
        time_us: npt.NDArray[np.int64],
        value: npt.NDArray[np.float64],
        quality: npt.NDArray[np.uint32],
    ) -> WriteResult:
        """Store the rows (one transaction, idempotent) and update their hourly rollups."""
        n = len(series_id)
        if n == 0:
            return WriteResult(0, 0)
        self._ensure_partitions(time_us)
        conn = self.conn
        with conn.transaction():
            try:
                with conn.transaction():
                    copy_rows(conn, "telemetry", series_id, time_us, value, quality)
                inserted = n
            except errors.UniqueViolation:
                inserted = self._write_through_staging(series_id, time_us, value, quality)
            if self.rollups:
                update_rollups(conn, series_id, time_us)
        return WriteResult(n, inserted)

    def _ensure_partitions(self, time_us: npt.NDArray[np.int64]) -> None:
        if not self._native:
            return
        weeks = np.unique(
            (time_us - partitions.MONDAY_US) // partitions.WEEK_US * partitions.WEEK_US
            + partitions.MONDAY_US
        )
        missing = [int(w) for w in weeks if int(w) not in self._weeks]
        if missing:
            partitions.ensure_weeks(self.conn, missing)
            self._weeks.update(missing)

    def _write_through_staging(
        self,
        series_id: npt.NDArray[np.int32],
        time_us: npt.NDArray[np.int64],
        value: npt.NDArray[np.float64],
        quality: npt.NDArray[np.uint32],
    ) -> int:
        conn = self.conn
        conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} "
            "(time timestamptz, series_id int, value float8, quality int) ON COMMIT DELETE ROWS"
        )
        copy_rows(conn, _STAGING, series_id, time_us, value, quality)
        cur = conn.execute(
            f"INSERT INTO telemetry (time, series_id, value, quality) "
            f"SELECT DISTINCT ON (series_id, time) time, series_id, value, quality "
            f"FROM {_STAGING} ON CONFLICT (series_id, time) DO NOTHING"
        )
        conn.execute(f"TRUNCATE {_STAGING}")
        return max(cur.rowcount, 0)


def touched_hours(
    series_id: npt.NDArray[np.int32], time_us: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """The distinct (series, hour start in µs) pairs of a batch."""
    hours = time_us // US_PER_HOUR * US_PER_HOUR
    keys = np.unique(np.stack([series_id.astype(np.int64), hours]), axis=1)
    return keys[0].astype(np.int32), keys[1]


def update_rollups(
    conn: psycopg.Connection[Any],
    series_id: npt.NDArray[np.int32],
    time_us: npt.NDArray[np.int64],
) -> int:
    """Recompute the hourly rollups for every (series, hour) these readings fall in."""
    sids, hours = touched_hours(series_id, time_us)
    hour_times = [from_us(h) for h in hours]
    cur = conn.execute(ROLLUP_SQL, {"series": sids.tolist(), "hours": hour_times})
    return max(cur.rowcount, 0)
