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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import errors

from anh_reporter.domain.timeutil import from_us
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
    """Rows offered, rows stored now, rows that were already there, and rows refused."""

    offered: int
    inserted: int
    archived: dict[str, npt.NDArray[np.intp]] = field(default_factory=dict)
    """Rows of weeks already archived to cold storage, not written: why -> their indices."""

    @property
    def duplicates(self) -> int:
        """Rows that the table already held (a replay)."""
        return self.offered - self.inserted - sum(len(i) for i in self.archived.values())


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
        """Store the rows (one transaction, idempotent) and update their hourly rollups.

        Rows of weeks archived to cold storage are not written (see :class:`WriteResult`).
        """
        try:
            return self._write(series_id, time_us, value, quality)
        except errors.CheckViolation:  # "no partition of relation found": a week archived since
            if not self._weeks:
                raise
            self._weeks.clear()
            return self._write(series_id, time_us, value, quality)

    def _write(
        self,
        series_id: npt.NDArray[np.int32],
        time_us: npt.NDArray[np.int64],
        value: npt.NDArray[np.float64],
        quality: npt.NDArray[np.uint32],
    ) -> WriteResult:
        n = len(series_id)
        if n == 0:
            return WriteResult(0, 0)
        archived = self._ensure_partitions(time_us)
        refused: dict[str, npt.NDArray[np.intp]] = {}
        if archived:
            weeks = partitions.week_start_us(time_us)
            refused = {why: np.flatnonzero(weeks == week) for week, why in archived.items()}
            keep = ~np.isin(weeks, list(archived))
            series_id, time_us = series_id[keep], time_us[keep]
            value, quality = value[keep], quality[keep]
            if not len(series_id):
                return WriteResult(n, 0, refused)
        conn = self.conn
        with conn.transaction():
            try:
                with conn.transaction():
                    copy_rows(conn, "telemetry", series_id, time_us, value, quality)
                inserted = len(series_id)
                if self.rollups:
                    rollups.merge(conn, series_id, time_us, value, quality)
            except errors.UniqueViolation:
                new = self._write_through_staging(series_id, time_us, value, quality)
                inserted = len(new[0])
                if self.rollups:
                    rollups.merge(conn, *new)
        return WriteResult(n, inserted, refused)

    def _ensure_partitions(self, time_us: npt.NDArray[np.int64]) -> dict[int, str]:
        """Create the partitions these rows need; the weeks archived to cold storage (whose
        partitions are gone and whose rollups are final) -> why their rows are refused."""
        if not self._native:
            return {}
        missing = [
            int(w)
            for w in np.unique(partitions.week_start_us(time_us))
            if int(w) not in self._weeks
        ]
        names = {partitions.partition_name(from_us(w)): w for w in missing}
        archived: dict[int, str] = {}
        while missing:
            try:
                partitions.ensure_weeks(self.conn, missing)
            except partitions.ArchivedWeekError as exc:
                archived[names[exc.name]] = str(exc)
                missing = [w for w in missing if w not in archived]
                continue
            self._weeks.update(missing)
            break
        return archived

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
