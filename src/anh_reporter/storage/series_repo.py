"""Read the series catalogue (what ingest validation and the generators need), and keep a
recent copy of it for the API (:class:`CatalogCache`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from anh_reporter.storage.database import Database

CATALOG_TTL_S = 5.0


@dataclass(frozen=True)
class SeriesRow:
    """One row of ``series`` with its owner's codes."""

    id: int
    code: str
    field_id: int
    field_code: str
    owner_code: str
    variable: str
    unit: str
    range_lo: float
    range_hi: float
    sampling_period_s: float
    commissioned_at: dt.datetime
    rollover: float | None


def list_series(conn: psycopg.Connection[Any], field_code: str | None = None) -> list[SeriesRow]:
    """All series (of one field, when given), ordered by id."""
    rows = conn.execute(
        """
        SELECT s.id, s.code, s.field_id, f.code, coalesce(p.code, w.code), s.variable, s.unit,
               s.range_lo, s.range_hi, s.sampling_period_s, s.commissioned_at, s.rollover
        FROM series s
        JOIN fields f ON f.id = s.field_id
        LEFT JOIN measurement_points p ON p.id = s.pmo_id
        LEFT JOIN wells w ON w.id = s.well_id
        WHERE %(field)s::text IS NULL OR f.code = %(field)s
        ORDER BY s.id
        """,
        {"field": field_code},
    ).fetchall()
    return [SeriesRow(*row) for row in rows]


@dataclass
class CatalogCache:
    """The series catalogue, reloaded at most every few seconds.

    While one request reloads it, the others use the previous rows rather than all reloading.
    """

    database: Database
    _rows: list[SeriesRow] = field(default_factory=list)
    _by_id: dict[int, SeriesRow] = field(default_factory=dict)
    _loaded_at: float = -math.inf
    _loading: bool = False

    async def rows(self) -> list[SeriesRow]:
        """Every series row (fresh within :data:`CATALOG_TTL_S`)."""
        if time.monotonic() - self._loaded_at > CATALOG_TTL_S:
            if self._loading and self._rows:
                return self._rows
            self._loading = True
            try:
                rows = await asyncio.to_thread(self._load)
            finally:
                self._loading = False
            self._rows, self._by_id = rows, {r.id: r for r in rows}
            self._loaded_at = time.monotonic()
        return self._rows

    async def series(self, series_id: int) -> SeriesRow | None:
        """One series row, or None when the catalogue (as of a few seconds ago) lacks it."""
        await self.rows()
        return self._by_id.get(series_id)

    def _load(self) -> list[SeriesRow]:
        with self.database.connect() as conn:
            return list_series(conn)
