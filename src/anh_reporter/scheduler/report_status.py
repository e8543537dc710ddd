"""``anh_report_last_day_end_timestamp_seconds``, refreshed from the database by the leader.

Per field and stage, the end (Unix seconds) of the newest contract day whose report reached
the stage: ``generated`` (a version was signed) and ``submitted`` (a version was delivered or
accepted); 0 when none has. Read from the database, not remembered by the process that
generated a report, so a restarted or new leader exports it at once, for every field. The end
of a day is the one its daily figures were computed for (``daily_production.day_end``, right
across a change of the contract hour), else the field's contract hour applied to the date.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from anh_reporter.errors import AnhError, first_line
from anh_reporter.observability.metrics import report_last_day_end_timestamp
from anh_reporter.production.contract_day import contract_day
from anh_reporter.storage.database import Database

log = logging.getLogger(__name__)

REFRESH_S = 60.0
"""How often the leader refreshes the gauge (the report alerts allow hours)."""

_NEWEST = """
WITH newest AS (
    SELECT f.id, f.timezone, f.contract_day_start_hour AS hour,
           max(r.contract_day) FILTER (WHERE v.chain_seq IS NOT NULL) AS generated,
           max(r.contract_day) FILTER (WHERE v.status IN ('submitted', 'accepted')) AS submitted
    FROM fields f
    LEFT JOIN reports r ON r.field_id = f.id
    LEFT JOIN report_versions v ON v.report_id = r.id
    GROUP BY f.id
)
SELECT n.id, n.timezone, n.hour, n.generated, n.submitted,
       (SELECT max(d.day_end) FROM daily_production d
        JOIN measurement_points p ON p.id = d.pmo_id
        WHERE p.field_id = n.id AND d.contract_day = n.generated),
       (SELECT max(d.day_end) FROM daily_production d
        JOIN measurement_points p ON p.id = d.pmo_id
        WHERE p.field_id = n.id AND d.contract_day = n.submitted)
FROM newest n
"""


def newest_day_ends(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], float]:
    """``{(field_id, stage): end of the newest day at that stage, or 0}`` for every field."""
    out: dict[tuple[str, str], float] = {}
    for fid, zone, hour, *days in conn.execute(_NEWEST).fetchall():
        for stage, day, end in (("generated", days[0], days[2]), ("submitted", days[1], days[3])):
            if day is not None and end is None:
                end = contract_day(day, timezone=zone, start_hour=int(hour)).end
            out[str(fid), stage] = 0.0 if end is None else end.timestamp()
    return out


def refresh_report_status(db: Database) -> None:
    """Set the gauge for every field from the database; a failure is logged, not raised."""
    try:
        with db.connect() as conn:
            ends = newest_day_ends(conn)
    except (psycopg.Error, AnhError) as exc:
        log.warning("could not refresh the report status metric: %s", first_line(exc))
        return
    for (field_id, stage), end in ends.items():
        report_last_day_end_timestamp.labels(field_id, stage).set(end)
