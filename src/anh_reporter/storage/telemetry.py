"""Idempotent writes of columnar readings to ``telemetry``, with the hourly rollups kept current.

Fast path: one binary COPY. If the batch repeats rows already stored (a replay after a crash
or a redelivered bus entry), the COPY fails on the primary key and the batch goes through a
staging table with ``ON CONFLICT DO NOTHING`` instead: replaying changes nothing, raises
nothing. The hourly rollups are updated in the same transaction (see :mod:`.rollups`), so
they always equal the raw data, late or out of order.
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
                inserted = self._write_through_staging(series_id, time_us, value, quality)
                if self.rollups:
                    rollups.recompute(conn, *rollups.touched_hours(series_id, time_us))
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
            f"INSERT INTO telemetry (time, series_id, value, quality) "  # noqa: S608 - table names are module constants
            f"SELECT DISTINCT ON (series_id, time) time, series_id, value, quality "
            f"FROM {_STAGING} ON CONFLICT (series_id, time) DO NOTHING"
        )
        conn.execute(f"TRUNCATE {_STAGING}")
        return max(cur.rowcount, 0)
