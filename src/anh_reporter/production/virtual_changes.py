"""The virtual meters of a signed day must not change silently.

A day's virtual meters (each well's virtual liquid and how it was obtained, Σ virtual against
each production PMO) are stored beside its well days; the signed document carries them only in
its allocation findings (a divergence, IDP035). When a recompute changes any of them — a pump's
geometry or an ESP's correction in force on the day, a test, late speed readings — the day's
signed report is flagged for an amendment like any other figure, and each changed figure is
kept (``virtual_meter_changes``, against the signed version) so that the amendment lists it:
target (well or PMO), figure (``virtual_meter/liquid_bbl``, ``virtual_meter/efficiency``,
``virtual_meter/virtual_total``...), old → new.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import psycopg

from anh_reporter.storage import well_records as records

Conn = psycopg.Connection[Any]

PREFIX = "virtual_meter/"


def virtual_figures(conn: Conn, field_id: int, day: dt.date) -> dict[tuple[str, str], Any]:
    """The stored virtual-meter figures of a field's day: ``(target, figure) -> value`` (JSON
    values: numbers as the text they are stored with)."""
    out: dict[tuple[str, str], Any] = {}
    for code, row in records.load_virtual_days(conn, field_id, day).items():
        liquid = row.get("virtual_liquid_bbl")
        if liquid is None and row.get("virtual_meter") is None:
            continue
        out[(code, f"{PREFIX}liquid_bbl")] = None if liquid is None else str(liquid)
        for key, value in sorted((row.get("virtual_meter") or {}).items()):
            if key not in records.NOT_REPORTED:  # which test, not what it says
                out[(code, f"{PREFIX}{key}")] = value
    for check in records.load_virtual_checks(conn, field_id, day):
        pmo = str(check.get("pmo"))
        for key, value in sorted(check.items()):
            if key not in ("pmo", "fluid"):
                out[(pmo, f"{PREFIX}{check.get('fluid')}/{key}")] = value
    return out


def changed_figures(
    before: dict[tuple[str, str], Any], after: dict[tuple[str, str], Any]
) -> list[tuple[str, str, Any, Any]]:
    """``(target, figure, old, new)`` of each figure that differs, in order."""
    return [
        (target, figure, before.get((target, figure)), after.get((target, figure)))
        for target, figure in sorted(before.keys() | after.keys())
        if before.get((target, figure)) != after.get((target, figure))
    ]


def log_if_signed(
    conn: Conn, field_id: int, day: dt.date, changes: list[tuple[str, str, Any, Any]]
) -> bool:
    """Keep ``changes`` against the day's latest signed version; False when none is signed."""
    row = conn.execute(
        "SELECT v.id FROM report_versions v JOIN reports r ON r.id = v.report_id "
        "WHERE r.field_id = %s AND r.contract_day = %s AND v.chain_seq IS NOT NULL "
        "ORDER BY v.version DESC LIMIT 1",
        (field_id, day),
    ).fetchone()
    if row is None or not changes:
        return row is not None
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO virtual_meter_changes (field_id, contract_day, signed_version_id, "
            "target, figure, old_value, new_value) "
            "VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)",
            [(field_id, day, row[0], t, f, _json(old), _json(new)) for t, f, old, new in changes],
        )
    return True


def changes_since_signed(
    conn: Conn, field_id: int, day: dt.date, signed_version_id: int
) -> list[tuple[str, str, Any, Any]]:
    """Each virtual-meter figure changed since ``signed_version_id`` was signed: its value then
    (the first change's old value) and now (the last one's new value); back where it was: none."""
    first: dict[tuple[str, str], Any] = {}
    last: dict[tuple[str, str], Any] = {}
    for target, figure, old, new in conn.execute(
        "SELECT target, figure, old_value, new_value FROM virtual_meter_changes "
        "WHERE field_id = %s AND contract_day = %s AND signed_version_id = %s ORDER BY id",
        (field_id, day, signed_version_id),
    ).fetchall():
        first.setdefault((target, figure), old)
        last[(target, figure)] = new
    return [
        (target, figure, first[(target, figure)], last[(target, figure)])
        for target, figure in sorted(first)
        if first[(target, figure)] != last[(target, figure)]
    ]


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, default=str).decode()
