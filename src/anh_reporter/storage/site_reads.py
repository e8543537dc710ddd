"""The site model as the API reads it: an operator, and the fields and PMOs of some of its
fields (the caller's). Ids of another operator, or of fields not given, find nothing.

The series of the site are read by :mod:`anh_reporter.storage.series_repo`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection

Conn = AsyncConnection[Any]


@dataclass(frozen=True)
class OperatorRow:
    """One row of ``operators``."""

    id: int
    nit: str
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime


async def get_operator(conn: Conn, operator_id: int) -> OperatorRow | None:
    """The operator, or None."""
    cur = await conn.execute(
        "SELECT id, nit, name, created_at, updated_at FROM operators WHERE id = %s",
        (operator_id,),
    )
    row = await cur.fetchone()
    return None if row is None else OperatorRow(*row)


@dataclass(frozen=True)
class FieldRef:
    """A field: its id, code and operator."""

    id: int
    code: str
    operator_id: int


async def field_ref(conn: Conn, *, operator_id: int, field_id: int) -> FieldRef | None:
    """The field when it is the operator's, else None."""
    cur = await conn.execute(
        "SELECT id, code, operator_id FROM fields WHERE id = %s AND operator_id = %s",
        (field_id, operator_id),
    )
    row = await cur.fetchone()
    return None if row is None else FieldRef(int(row[0]), str(row[1]), int(row[2]))


@dataclass(frozen=True)
class FieldRow:
    """One row of ``fields`` (what the API shows of it)."""

    id: int
    operator_id: int
    code: str
    name: str
    contract: str
    municipality_dane: str
    timezone: str
    contract_day_start_hour: int
    report_type: str


_FIELDS = (
    "SELECT id, operator_id, code, name, contract, municipality_dane, timezone, "
    "contract_day_start_hour, report_type FROM fields "
    "WHERE operator_id = %(op)s AND id = ANY(%(fields)s) "
)


async def list_fields(conn: Conn, *, operator_id: int, field_ids: list[int]) -> list[FieldRow]:
    """The fields among ``field_ids`` of the operator, by code."""
    cur = await conn.execute(_FIELDS + "ORDER BY code", {"op": operator_id, "fields": field_ids})
    return [FieldRow(*r) for r in await cur.fetchall()]


async def get_field(
    conn: Conn, *, operator_id: int, field_ids: list[int], field_id: int
) -> FieldRow | None:
    """One field among ``field_ids`` of the operator, or None."""
    cur = await conn.execute(
        _FIELDS + "AND id = %(id)s", {"op": operator_id, "fields": field_ids, "id": field_id}
    )
    row = await cur.fetchone()
    return None if row is None else FieldRow(*row)


@dataclass(frozen=True)
class PmoRow:
    """One row of ``measurement_points``: a PMO, its meter and base conditions."""

    id: int
    field_id: int
    code: str
    name: str
    kind: str
    meter_type: str
    has_totalizer: bool
    meter_factor: float
    base_temperature_f: float
    base_pressure_psia: float


_PMOS = (
    "SELECT p.id, p.field_id, p.code, p.name, p.kind, p.meter_type, p.has_totalizer, "
    "p.meter_factor, p.base_temperature_f, p.base_pressure_psia FROM measurement_points p "
    "JOIN fields f ON f.id = p.field_id "
    "WHERE f.operator_id = %(op)s AND p.field_id = ANY(%(fields)s) "
)


async def list_pmos(
    conn: Conn, *, operator_id: int, field_ids: list[int], field_id: int | None = None
) -> list[PmoRow]:
    """PMOs of the fields among ``field_ids`` of the operator (of ``field_id`` when given), by
    field and code."""
    cur = await conn.execute(
        _PMOS + "AND (%(field)s::int IS NULL OR p.field_id = %(field)s) ORDER BY p.field_id, "
        "p.code",
        {"op": operator_id, "fields": field_ids, "field": field_id},
    )
    return [PmoRow(*r) for r in await cur.fetchall()]


async def get_pmo(
    conn: Conn, *, operator_id: int, field_ids: list[int], pmo_id: int
) -> PmoRow | None:
    """One PMO of the fields among ``field_ids`` of the operator, or None."""
    cur = await conn.execute(
        _PMOS + "AND p.id = %(id)s", {"op": operator_id, "fields": field_ids, "id": pmo_id}
    )
    row = await cur.fetchone()
    return None if row is None else PmoRow(*row)


# What the production routes need of a field or PMO by id (sync: they run on the sync pool).


@dataclass(frozen=True)
class FieldClock:
    """A field's code and what places its contract days: time zone and start hour."""

    code: str
    timezone: str
    start_hour: int


def field_clock(conn: psycopg.Connection[Any], field_id: int) -> FieldClock | None:
    """The field's code, time zone and contract-day start hour as the ``fields`` row has them
    now, or None."""
    row = conn.execute(
        "SELECT code, timezone, contract_day_start_hour FROM fields WHERE id = %s", (field_id,)
    ).fetchone()
    return None if row is None else FieldClock(str(row[0]), str(row[1]), int(row[2]))


@dataclass(frozen=True)
class PmoPlace:
    """Where a PMO is: its field (id and code), its own code and its kind (fluid)."""

    field_id: int
    field_code: str
    pmo_code: str
    kind: str


def pmo_place(conn: psycopg.Connection[Any], pmo_id: int) -> PmoPlace | None:
    """The PMO's field and codes, whichever operator it belongs to, or None."""
    row = conn.execute(
        "SELECT f.id, f.code, p.code, p.kind FROM measurement_points p "
        "JOIN fields f ON f.id = p.field_id WHERE p.id = %s",
        (pmo_id,),
    ).fetchone()
    return None if row is None else PmoPlace(int(row[0]), str(row[1]), str(row[2]), str(row[3]))
