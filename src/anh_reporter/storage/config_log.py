"""Read the configuration log (``config_log``, API MPMS 21.1) of an operator and some of its
fields, newest first. The site load writes it (:mod:`anh_reporter.storage.site_repo`); the
values in force at an instant are read by :mod:`anh_reporter.storage.config_history`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection


@dataclass(frozen=True)
class ConfigChangeRow:
    """One entry: who changed which attribute of which object, from what to what, and why."""

    id: int
    changed_at: dt.datetime
    changed_by: str
    entity: str
    entity_code: str
    attribute: str
    old_value: Any
    new_value: Any
    reason: str | None


# Entries carry codes, not ids: an entry is the caller's when its code is the operator's NIT,
# one of its fields' codes, "<field code>.<owner>" for PMOs and wells, or one of its series.
_SQL = """
SELECT c.id, c.changed_at, c.changed_by, c.entity, c.entity_code, c.attribute, c.old_value,
       c.new_value, c.reason
FROM config_log c
WHERE (
    (c.entity = 'operator' AND c.entity_code = (SELECT nit FROM operators WHERE id = %(op)s))
    OR (c.entity = 'field' AND c.entity_code IN
        (SELECT code FROM fields WHERE operator_id = %(op)s AND id = ANY(%(fields)s)))
    OR (c.entity IN ('measurement_point', 'well') AND EXISTS
        (SELECT 1 FROM fields f WHERE f.operator_id = %(op)s AND f.id = ANY(%(fields)s)
         AND left(c.entity_code, length(f.code) + 1) = f.code || '.'))
    OR (c.entity = 'series' AND c.entity_code IN
        (SELECT s.code FROM series s JOIN fields f ON f.id = s.field_id
         WHERE f.operator_id = %(op)s AND s.field_id = ANY(%(fields)s)))
)
AND (%(entity)s::text IS NULL OR c.entity = %(entity)s)
AND (%(code)s::text IS NULL OR c.entity_code = %(code)s)
AND (%(start)s::timestamptz IS NULL OR c.changed_at >= %(start)s)
AND (%(end)s::timestamptz IS NULL OR c.changed_at < %(end)s)
AND (%(before)s::bigint IS NULL OR c.id < %(before)s)
ORDER BY c.id DESC LIMIT %(limit)s
"""


async def list_changes(
    conn: AsyncConnection[Any],
    *,
    operator_id: int,
    field_ids: list[int],
    entity: str | None,
    entity_code: str | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    before_id: int | None,
    limit: int,
) -> list[ConfigChangeRow]:
    """Entries of the operator and of the fields among ``field_ids``, newest first; each filter
    given narrows, ``before_id`` pages."""
    cur = await conn.execute(
        _SQL,
        {
            "op": operator_id,
            "fields": field_ids,
            "entity": entity,
            "code": entity_code,
            "start": start,
            "end": end,
            "before": before_id,
            "limit": limit,
        },
    )
    return [ConfigChangeRow(*row) for row in await cur.fetchall()]
