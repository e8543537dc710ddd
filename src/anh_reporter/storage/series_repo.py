"""Read the series catalogue (what ingest validation and the generators need)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg


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
