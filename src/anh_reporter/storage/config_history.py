"""The configuration in force at an instant, read back from the append-only configuration log.

Every tracked attribute of a field, PMO, series or well (meter factor, base conditions, contract
hour, ranges, rollover, assignments...) is logged when it is created and each time it changes,
with the instant it takes effect (``effective_from``, or when it was logged). The value in force
at ``T`` is the newest entry effective at or before ``T``; when none is (a site loaded after the
history it describes), the value the object was created with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import psycopg

Conn = psycopg.Connection[Any]
InForce = dict[tuple[str, str, str], Any]
"""``(entity, entity_code, attribute) -> value``."""

# Effective entries: the newest effective one (the latest logged among equals). None yet: the
# value the object was created with (its first entry, old_value NULL), not a later change that
# takes effect after ``at`` (a back-dated proving must not reach days before it).
_IN_FORCE_SQL = """
SELECT DISTINCT ON (entity, entity_code, attribute) entity, entity_code, attribute, new_value
FROM config_log
WHERE entity = ANY(%(entities)s) AND entity_code = ANY(%(codes)s)
ORDER BY entity, entity_code, attribute,
         coalesce(effective_from, changed_at) <= %(at)s DESC,
         CASE WHEN coalesce(effective_from, changed_at) <= %(at)s
              THEN coalesce(effective_from, changed_at) END DESC NULLS LAST,
         CASE WHEN coalesce(effective_from, changed_at) <= %(at)s THEN id END DESC NULLS LAST,
         old_value IS NULL DESC, changed_at, id
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
