"""Idempotent writes of columnar readings to ``telemetry``, with the hourly rollups kept current.

Fast path: one binary COPY. If the batch repeats rows already stored (a replay after a crash
or a redelivered bus entry), the COPY fails on the primary key and the batch goes through a
staging table with ``ON CONFLICT DO NOTHING RETURNING`` instead: replaying changes nothing,
raises nothing. The hourly rollups are updated in the same transaction (see :mod:`.rollups`),
so they always equal the raw data, late or out of order; on the duplicate path only the rows
actually inserted are merged into them (a batch stored already costs its INSERT and nothing
more, never a recomputation of the series-hours it touches).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import errors

from anh_reporter.storage import partitions, rollups
from anh_reporter.storage.copy import copy_rows

_STAGING = "telemetry_staging"
_Rows = tuple[
    npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.uint32]
]
# The rows of the staging table that were not stored yet, inserted; each returned with its time
# in µs since the Unix epoch (extract gives an exact numeric) so the rollups can merge them.
_INSERT_NEW_SQL = f"""
INSERT INTO telemetry (time, series_id, value, quality)
SELECT DISTINCT ON (series_id, time) time, series_id, value, quality FROM {_STAGING}
ON CONFLICT (series_id, time) DO NOTHING
RETURNING series_id, (extract(epoch FROM time) * 1000000)::int8, value, quality
"""  # noqa: S608 - table names are module constants


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
                if self.rollups:
                    rollups.merge(conn, series_id, time_us, value, quality)
            except errors.UniqueViolation:
                new = self._write_through_staging(series_id, time_us, value, quality)
                inserted = len(new[0])
                if self.rollups:
                    rollups.merge(conn, *new)
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
    ) -> _Rows:
        """Insert the rows not stored yet; those rows (series, time, value, quality)."""
        conn = self.conn
        conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} "
            "(time timestamptz, series_id int, value float8, quality int) ON COMMIT DELETE ROWS"
        )
        copy_rows(conn, _STAGING, series_id, time_us, value, quality)
        with conn.cursor(binary=True) as cur:
            cur.execute(_INSERT_NEW_SQL)
            rows = cur.fetchall()
        conn.execute(f"TRUNCATE {_STAGING}")
        if not rows:
            return (
                np.empty(0, np.int32),
                np.empty(0, np.int64),
                np.empty(0, np.float64),
                np.empty(0, np.uint32),
            )
        sid, t_us, val, qual = zip(*rows, strict=True)
        return (
            np.array(sid, dtype=np.int32),
            np.array(t_us, dtype=np.int64),
            np.array([np.nan if v is None else v for v in val], dtype=np.float64),
            np.array(qual, dtype=np.int64).astype(np.int32).view(np.uint32),
        )
