"""The configuration in force at an instant, read back from the append-only configuration log.

Every tracked attribute of a field, PMO, series or well (meter factor, base conditions, contract
hour, ranges, rollover, assignments...) is logged when it is created and each time it changes,
with the instant it takes effect (``effective_from``, or when it was logged). An attribute's
first entry (the value it was created with) holds from the beginning; the value in force at ``T``
is, among the changes effective at or before ``T``, the one logged last, else that first value.
A change logged with an earlier effective instant than one logged before it (a back-dated
correction) therefore holds from its instant on, over the earlier-logged one: a site file loaded
with ``--effective`` describes the configuration from that instant on, as it is stored now.

:func:`topology_in_force` applies the same rule to a field's topology (a well's facility, fluids,
entry PMOs, legacy PMO, injection meter, production method and AVM code; a PMO's role, facility
and upstream PMO or PMOs; a facility's kind; the field's allocation settings), so a day is
allocated, and its report names its wells, with the topology in force when it started.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import psycopg

from anh_reporter.allocation.topology import Upstream, upstream_value
from anh_reporter.storage.well_records import FieldTopologyRows, load_topology_rows

Conn = psycopg.Connection[Any]
InForce = dict[tuple[str, str, str], Any]
"""``(entity, entity_code, attribute) -> value``."""

# An attribute's first entry is the value it was created with: in force from the beginning
# (a site loaded after the history it describes still describes that history). Every later entry
# is a change from its effective instant on: among the entries effective by then, the one logged
# last wins. So a change back-dated before one logged earlier holds from its own instant on, over
# the earlier one too, as the site file loaded with it says (it is also the value stored now).
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
ORDER BY entity, entity_code, attribute, id DESC
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


def topology_in_force(conn: Conn, field_id: int, at: dt.datetime) -> FieldTopologyRows:
    """The field's topology rows as in force at ``at`` (a contract day's start).

    Every facility, PMO and well stored today, each with its logged topology attributes as in
    force at ``at`` (an attribute never logged keeps its stored value). Facilities and PMOs are
    logged by id and named here by their codes.
    """
    rows = load_topology_rows(conn, field_id)
    found = conn.execute("SELECT code FROM fields WHERE id = %s", (field_id,)).fetchone()
    if found is None:
        return rows
    field = str(found[0])
    facility_codes = dict(
        conn.execute("SELECT id, code FROM facilities WHERE field_id = %s", (field_id,)).fetchall()
    )
    pmo_codes = dict(
        conn.execute(
            "SELECT id, code FROM measurement_points WHERE field_id = %s", (field_id,)
        ).fetchall()
    )
    objects = [("field", field)]
    objects += [("facility", f"{field}.{f.code}") for f in rows.facilities]
    objects += [("measurement_point", f"{field}.{p.code}") for p in rows.pmos]
    objects += [("well", f"{field}.{w.code}") for w in rows.wells]
    in_force = values_in_force(conn, objects, at)

    def logged(entity: str, code: str, attribute: str, current: Any) -> Any:
        key = (entity, f"{field}.{code}" if entity != "field" else field, attribute)
        return in_force.get(key, current)

    def named(codes: dict[int, str], entity: str, code: str, attribute: str, now: Any) -> Any:
        marker = object()
        value = logged(entity, code, attribute, marker)
        return now if value is marker else None if value is None else codes.get(int(value))

    def upstream_in_force(code: str, now: Upstream) -> Upstream:
        """The logged ``downstream_of_id``: one PMO id, None, or a list of ids (several)."""
        marker = object()
        value = logged("measurement_point", code, "downstream_of_id", marker)
        if value is marker:
            return now
        ids = value if isinstance(value, list) else [] if value is None else [value]
        return upstream_value(pmo_codes[int(i)] for i in ids if int(i) in pmo_codes)

    facilities = tuple(
        dataclasses.replace(f, kind=logged("facility", f.code, "kind", f.kind))
        for f in rows.facilities
    )
    pmos = tuple(
        dataclasses.replace(
            p,
            role=logged("measurement_point", p.code, "role", p.role),
            facility=named(facility_codes, "measurement_point", p.code, "facility_id", p.facility),
            downstream_of=upstream_in_force(p.code, p.downstream_of),
        )
        for p in rows.pmos
    )
    wells = tuple(
        dataclasses.replace(
            w,
            facility=named(facility_codes, "well", w.code, "facility_id", w.facility),
            pmo=named(pmo_codes, "well", w.code, "pmo_id", w.pmo),
            fluids=tuple(logged("well", w.code, "fluids", w.fluids) or ()),
            entries=tuple(logged("well", w.code, "entries", w.entries) or ()),
            virtual_meter=logged("well", w.code, "virtual_meter", w.virtual_meter),
            injection_meter=logged("well", w.code, "injection_meter", w.injection_meter),
            production_method=logged("well", w.code, "production_method", w.production_method),
            avm_code=logged("well", w.code, "avm_code", w.avm_code),
        )
        for w in rows.wells
    )
    allocation = logged("field", "", "allocation", rows.allocation)
    return FieldTopologyRows(facilities, pmos, wells, dict(allocation or {}))


def avm_codes_in_force(
    conn: Conn, field_code: str, wells: Sequence[tuple[str, str | None]], at: dt.datetime
) -> dict[str, str]:
    """Each well's AVM code in force at ``at``, from ``(code, stored avm_code)`` pairs: the
    logged ``avm_code`` (a well never logged keeps its stored one), else the well's own code."""
    in_force = values_in_force(conn, [("well", f"{field_code}.{code}") for code, _ in wells], at)
    return {
        code: in_force.get(("well", f"{field_code}.{code}", "avm_code"), stored) or code
        for code, stored in wells
    }
