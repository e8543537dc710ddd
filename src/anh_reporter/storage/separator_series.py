"""The series a separator test may be read from: a field's series by code, with their owner.

SQL only; which series a test may use is decided by
:mod:`anh_reporter.production.separator_tests`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

Conn = psycopg.Connection[Any]


@dataclass(frozen=True)
class OwnedSeries:
    """A series of a field and what owns it: a well or a PMO (one of the two codes is set)."""

    id: int
    code: str
    variable: str
    unit: str
    sampling_period_s: float
    well: str | None
    pmo: str | None


def series_by_code(conn: Conn, field_id: int, codes: list[str]) -> dict[str, OwnedSeries]:
    """The field's series among ``codes``, by code (a code of no series of the field is absent)."""
    rows = conn.execute(
        "SELECT s.id, s.code, s.variable, s.unit, s.sampling_period_s, w.code, p.code "
        "FROM series s LEFT JOIN wells w ON w.id = s.well_id "
        "LEFT JOIN measurement_points p ON p.id = s.pmo_id "
        "WHERE s.field_id = %s AND s.code = ANY(%s)",
        (field_id, codes),
    ).fetchall()
    return {r[1]: OwnedSeries(*r) for r in rows}


def rate_series_of_well(conn: Conn, field_id: int, well: str) -> dict[str, list[str]]:
    """The well's own series by variable (``oil_rate``, ...): their codes, sorted."""
    rows = conn.execute(
        "SELECT s.variable, s.code FROM series s JOIN wells w ON w.id = s.well_id "
        "WHERE s.field_id = %s AND w.code = %s ORDER BY s.variable, s.code",
        (field_id, well),
    ).fetchall()
    out: dict[str, list[str]] = {}
    for variable, code in rows:
        out.setdefault(str(variable), []).append(str(code))
    return out
