"""Read the series catalogue (what ingest validation and the generators need), keep a recent
copy of it for the API (:class:`CatalogCache`), and read the series of a caller's fields."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import AsyncConnection

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


# The columns of a SeriesRow, and what they come from.
_ROW = """
SELECT s.id, s.code, s.field_id, f.code, coalesce(p.code, w.code), s.variable, s.unit,
       s.range_lo, s.range_hi, s.sampling_period_s, s.commissioned_at, s.rollover
"""
_FROM = """
FROM series s
JOIN fields f ON f.id = s.field_id
LEFT JOIN measurement_points p ON p.id = s.pmo_id
LEFT JOIN wells w ON w.id = s.well_id
"""


def list_series(conn: psycopg.Connection[Any], field_code: str | None = None) -> list[SeriesRow]:
    """All series (of one field, when given), ordered by id."""
    rows = conn.execute(
        _ROW + _FROM + "WHERE %(field)s::text IS NULL OR f.code = %(field)s ORDER BY s.id",
        {"field": field_code},
    ).fetchall()
    return [SeriesRow(*row) for row in rows]


@dataclass(frozen=True)
class OwnedSeriesRow(SeriesRow):
    """A series row with the ids of its owner (one of the two is set)."""

    pmo_id: int | None
    well_id: int | None


_OWNED = (
    _ROW
    + ", s.pmo_id, s.well_id"
    + _FROM
    + "WHERE f.operator_id = %(op)s AND s.field_id = ANY(%(fields)s) "
)


async def list_owned_series(
    conn: AsyncConnection[Any],
    *,
    operator_id: int,
    field_ids: list[int],
    field_id: int | None = None,
    pmo_id: int | None = None,
    well_id: int | None = None,
    variable: str | None = None,
) -> list[OwnedSeriesRow]:
    """Series of the fields among ``field_ids`` of the operator, ordered by id; each filter
    given narrows."""
    cur = await conn.execute(
        _OWNED + "AND (%(field)s::int IS NULL OR s.field_id = %(field)s) "
        "AND (%(pmo)s::int IS NULL OR s.pmo_id = %(pmo)s) "
        "AND (%(well)s::int IS NULL OR s.well_id = %(well)s) "
        "AND (%(var)s::text IS NULL OR s.variable = %(var)s) ORDER BY s.id",
        {
            "op": operator_id,
            "fields": field_ids,
            "field": field_id,
            "pmo": pmo_id,
            "well": well_id,
            "var": variable,
        },
    )
    return [OwnedSeriesRow(*row) for row in await cur.fetchall()]


async def get_owned_series(
    conn: AsyncConnection[Any], *, operator_id: int, field_ids: list[int], series_id: int
) -> OwnedSeriesRow | None:
    """One series of the fields among ``field_ids`` of the operator, or None."""
    cur = await conn.execute(
        _OWNED + "AND s.id = %(id)s", {"op": operator_id, "fields": field_ids, "id": series_id}
    )
    row = await cur.fetchone()
    return None if row is None else OwnedSeriesRow(*row)


@dataclass(frozen=True)
class SeriesRef:
    """What queries and frames need of a series."""

    id: int
    code: str
    field_id: int
    variable: str
    unit: str
    sampling_period_s: float


async def series_refs(
    conn: AsyncConnection[Any], *, operator_id: int, field_ids: list[int], series_ids: list[int]
) -> dict[int, SeriesRef]:
    """The series among ``series_ids`` on the fields among ``field_ids`` of the operator, by id
    (the others left out)."""
    cur = await conn.execute(
        "SELECT s.id, s.code, s.field_id, s.variable, s.unit, s.sampling_period_s "
        "FROM series s JOIN fields f ON f.id = s.field_id "
        "WHERE s.id = ANY(%s) AND f.operator_id = %s AND s.field_id = ANY(%s)",
        (series_ids, operator_id, field_ids),
    )
    return {
        int(r[0]): SeriesRef(int(r[0]), str(r[1]), int(r[2]), str(r[3]), str(r[4]), float(r[5]))
        for r in await cur.fetchall()
    }


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
