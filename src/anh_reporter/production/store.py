"""The stored daily figures: one ``daily_production`` row per PMO and contract day.

A row holds the PMO's :class:`~anh_reporter.production.figures.DailyFigures` as one JSON
document (decimals as strings, so they come back exact), beside the few columns that SQL sums
and filters. :class:`StoredDay` — the PMO and its figures — is what the CLI, the API and the
reports read. A recompute that changes a day whose report was already signed marks the row and
the report as needing an amendment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from pydantic import TypeAdapter

from anh_reporter.production.contract_day import ContractDay
from anh_reporter.production.figures import DailyFigures

Conn = psycopg.Connection[Any]
ISSUED = ("signed", "submitted", "accepted", "rejected")
"""Report version statuses after signing: a change to such a day needs an amendment."""

_FIGURES: TypeAdapter[DailyFigures] = TypeAdapter(DailyFigures)


@dataclass(frozen=True)
class PmoRef:
    """A measurement point as the stored figures name it."""

    id: int
    code: str
    name: str
    meter_type: str


@dataclass(frozen=True)
class StoredDay:
    """A PMO's stored figures for one contract day."""

    pmo: PmoRef
    figures: DailyFigures
    computed_at: dt.datetime
    needs_amendment: bool = False


@dataclass(frozen=True)
class TrendRow:
    """One fluid of a field on one contract day: its PMOs' figures added up."""

    day: dt.date
    fluid: str
    unit: str
    pmos: int
    gross_observed_volume: float | None
    gross_standard_volume: float | None
    net_standard_volume: float | None
    quality_score: float | None
    min_completeness_pct: float | None
    needs_amendment: bool


def figures_json(figures: DailyFigures) -> bytes:
    """The JSON document stored for ``figures``."""
    return _FIGURES.dump_json(figures)


def figures_from(document: Any) -> DailyFigures:
    """The figures of a stored JSON document (a dict, as psycopg reads ``jsonb``)."""
    return _FIGURES.validate_python(document)


_UPSERT = """
INSERT INTO daily_production (
    pmo_id, contract_day, day_start, day_end, fluid, method, unit, gross_observed_volume,
    gross_standard_volume, net_standard_volume, quality_score, completeness_pct, figures,
    digest, computed_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, now())
ON CONFLICT (pmo_id, contract_day) DO UPDATE SET
    day_start = excluded.day_start, day_end = excluded.day_end, fluid = excluded.fluid,
    method = excluded.method, unit = excluded.unit,
    gross_observed_volume = excluded.gross_observed_volume,
    gross_standard_volume = excluded.gross_standard_volume,
    net_standard_volume = excluded.net_standard_volume, quality_score = excluded.quality_score,
    completeness_pct = excluded.completeness_pct, figures = excluded.figures,
    digest = excluded.digest, computed_at = now()
"""


def save(
    conn: Conn, pmo_ids: dict[str, int], window: ContractDay, figures: Sequence[DailyFigures]
) -> list[str]:
    """Upsert the figures (``pmo_ids`` by PMO code); the PMO codes whose digest changed."""
    stored = dict(
        conn.execute(
            "SELECT pmo_id, digest FROM daily_production "
            "WHERE pmo_id = ANY(%s) AND contract_day = %s",
            (list(pmo_ids.values()), window.day),
        ).fetchall()
    )
    changed: list[str] = []
    rows = []
    for f in figures:
        digest = f.digest()
        pmo_id = pmo_ids[f.code]
        if stored.get(pmo_id) != digest:
            changed.append(f.code)
        rows.append(
            (
                pmo_id, window.day, window.start, window.end, f.fluid, f.method, f.unit,
                f.gross_observed_volume, f.gross_standard_volume, f.net_standard_volume,
                f.quality_score, f.completeness_pct, figures_json(f).decode(), digest,
            )
        )  # fmt: skip
    with conn.cursor() as cur:
        cur.executemany(_UPSERT, rows)
    return changed


def load_day(conn: Conn, field_id: int, day: dt.date) -> list[StoredDay]:
    """The stored figures of a field's contract day, by PMO code."""
    rows = conn.execute(
        "SELECT p.id, p.code, p.name, p.meter_type, d.figures, d.computed_at, d.needs_amendment "
        "FROM daily_production d JOIN measurement_points p ON p.id = d.pmo_id "
        "WHERE p.field_id = %s AND d.contract_day = %s ORDER BY p.code",
        (field_id, day),
    ).fetchall()
    return [
        StoredDay(PmoRef(pid, code, name, meter), figures_from(doc), computed_at, amend)
        for pid, code, name, meter, doc, computed_at, amend in rows
    ]


_TREND_SQL = """
SELECT d.contract_day, d.fluid, d.unit, count(*)::int,
       sum(d.gross_observed_volume)::float8, sum(d.gross_standard_volume)::float8,
       sum(d.net_standard_volume)::float8, avg(d.quality_score)::float8,
       min(d.completeness_pct)::float8, bool_or(d.needs_amendment)
FROM daily_production d JOIN measurement_points p ON p.id = d.pmo_id
WHERE p.field_id = %s AND d.contract_day >= %s AND d.contract_day <= %s
  AND p.role = 'production'
GROUP BY d.contract_day, d.fluid, d.unit
ORDER BY d.contract_day, d.fluid
"""


def daily_trend(conn: Conn, field_id: int, start_day: dt.date, end_day: dt.date) -> list[TrendRow]:
    """Per contract day and fluid: the field's volumes, mean quality, worst completeness.

    The field's volumes are its production PMOs' (role ``production``) added up: a sales, fuel,
    flare or disposal PMO downstream measures the same fluid again and is not added.
    """
    rows = conn.execute(_TREND_SQL, (field_id, start_day, end_day)).fetchall()
    return [TrendRow(*r) for r in rows]


def mark_amendment(conn: Conn, field_id: int, day: dt.date, changed_pmo_ids: Sequence[int]) -> bool:
    """If the day's report was already signed, flag the changed rows and the report."""
    if not flag_issued_report(conn, field_id, day):
        return False
    conn.execute(
        "UPDATE daily_production SET needs_amendment = true "
        "WHERE pmo_id = ANY(%s) AND contract_day = %s",
        (list(changed_pmo_ids), day),
    )
    return True


def flag_issued_report(conn: Conn, field_id: int, day: dt.date) -> bool:
    """Mark the field's report of ``day`` as needing an amendment if one was already signed."""
    row = conn.execute(
        "UPDATE reports r SET needs_amendment = true, updated_at = now() "
        "WHERE r.field_id = %s AND r.contract_day = %s AND EXISTS "
        "(SELECT 1 FROM report_versions v WHERE v.report_id = r.id AND v.status = ANY(%s)) "
        "RETURNING r.id",
        (field_id, day, list(ISSUED)),
    ).fetchone()
    return row is not None


def clear_amendment(conn: Conn, field_id: int, day: dt.date) -> None:
    """The day was reported again (amended): its rows no longer need an amendment."""
    conn.execute(
        "UPDATE daily_production d SET needs_amendment = false FROM measurement_points p "
        "WHERE p.id = d.pmo_id AND p.field_id = %s AND d.contract_day = %s",
        (field_id, day),
    )


def stale_days(conn: Conn, *, field_code: str | None = None) -> list[tuple[str, dt.date]]:
    """(field code, contract day) of stored days whose rollups changed after they were computed
    (a PMO's series, or an injection well's meter: it counts in the water balance)."""
    rows = conn.execute(
        """
        SELECT f.code, d.contract_day
        FROM daily_production d
        JOIN measurement_points p ON p.id = d.pmo_id
        JOIN fields f ON f.id = p.field_id
        JOIN series s ON s.pmo_id = p.id
        WHERE (%(field)s::text IS NULL OR f.code = %(field)s)
          AND EXISTS (SELECT 1 FROM telemetry_hourly h
                      WHERE h.series_id = s.id
                        AND h.hour >= d.day_start - interval '1 hour' AND h.hour < d.day_end
                        AND h.updated_at > d.computed_at)
        UNION
        SELECT f.code, d.contract_day
        FROM daily_production d
        JOIN measurement_points p ON p.id = d.pmo_id
        JOIN fields f ON f.id = p.field_id
        JOIN wells w ON w.field_id = f.id AND w.injection_meter IS NOT NULL
        JOIN series s ON s.code = w.injection_meter
        WHERE (%(field)s::text IS NULL OR f.code = %(field)s)
          AND EXISTS (SELECT 1 FROM telemetry_hourly h
                      WHERE h.series_id = s.id
                        AND h.hour >= d.day_start - interval '1 hour' AND h.hour < d.day_end
                        AND h.updated_at > d.computed_at)
        ORDER BY 1, 2
        """,
        {"field": field_code},
    ).fetchall()
    conn.commit()
    return [(str(code), day) for code, day in rows]
