"""The configuration in force at an instant, read back from the append-only configuration log.

Every tracked attribute of a field, PMO, series or well (meter factor, base conditions, contract
hour, ranges, rollover, assignments...) is logged when it is created and each time it changes,
with the instant it takes effect (``effective_from``, or when it was logged). An attribute's
first entry (the value it was created with) holds from the beginning; the value in force at ``T``
is the newest change effective at or before ``T``, else that first value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import psycopg

Conn = psycopg.Connection[Any]
InForce = dict[tuple[str, str, str], Any]
"""``(entity, entity_code, attribute) -> value``."""

# An attribute's first entry is the value it was created with: in force from the beginning
# (a site loaded after the history it describes still describes that history). Every later entry
# is a change from its effective instant; the newest effective one wins, the latest logged among
# entries effective at the same instant.
_IN_FORCE_SQL = """
WITH log AS (
    SELECT entity, entity_code, attribute, new_value, id,
           CASE WHEN id = min(id) OVER (PARTITION BY entity, entity_code, attribute)
                THEN '-infinity'::timestamptz
                ELSE coalesce(effective_from, changed_at) END AS effective
    FROM config_log
    WHERE entity = ANY(%(entities)s) AND entity_code = ANY(%(codes)s)
)
SELECT DISTINCT ON (entity, entity_code, attribute) entity, entity_code, attribute, new_value
FROM log WHERE effective <= %(at)s
ORDER BY entity, entity_code, attribute, effective DESC, id DESC
"""


def values_in_force(conn: Conn, objects: Sequence[tuple[str, str]], at: dt.datetime) -> InForce:
    """The logged attributes of ``objects`` (``(entity, code)`` pairs) in force at ``at``."""
    if not objects:
        return {}
    wanted = set(objects)
    rows = conn.execute(
        _IN_FORCE_SQL,
        {
            "entities": sorted({e for e, _ in objects}),
            "codes": sorted({c for _, c in objects}),
            "at": at,
        },
    ).fetchall()
    return {(e, c, a): v for e, c, a, v in rows if (e, c) in wanted}
