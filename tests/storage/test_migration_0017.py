"""Revision 0017: field-level oil consumption and losses in ``manual_entries``, and back."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database

from ..production.helpers import load_test_site

INSERT = (
    "INSERT INTO manual_entries (field_id, pmo_id, well_id, contract_day, kind, value, unit, "
    "entered_by, reason) VALUES (%s, %s, %s, '2026-02-02', %s, %s, %s, 't', 'why') RETURNING id"
)


def ids(conn: psycopg.Connection[Any]) -> tuple[int, int, int]:
    row = conn.execute(
        "SELECT f.id, p.id, w.id FROM fields f JOIN measurement_points p ON p.field_id = f.id "
        "JOIN wells w ON w.field_id = f.id ORDER BY p.id, w.id LIMIT 1"
    ).fetchone()
    assert row is not None
    return row


def test_field_rows_are_held_to_their_rules_and_survive_a_downgrade(empty_db: Database) -> None:
    migrate.upgrade(empty_db)
    with empty_db.connect() as conn:
        load_test_site(conn)
        field, pmo, well = ids(conn)
        kept = conn.execute(INSERT, (field, None, None, "oil_losses", 6, "bbl")).fetchone()
        conn.commit()
        refused = [
            (field, pmo, None, "oil_losses", 6, "bbl"),  # a field kind with a PMO
            (field, None, well, "oil_consumption", 6, "bbl"),  # ... or a well
            (field, None, None, "oil_losses", -1, "bbl"),  # negative
            (field, None, None, "oil_losses", 6, "m3"),  # not bbl
            (field, None, None, "bsw", 2, "%"),  # a PMO kind without its PMO
            (field, pmo, well, "bsw", 2, "%"),  # ... or with both owners
        ]
        for values in refused:
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(INSERT, values)
            conn.rollback()

    migrate.downgrade(empty_db, "0016")
    with empty_db.connect() as conn:
        # The row stays (append-only); new rows follow the former rules.
        assert conn.execute("SELECT id, kind FROM manual_entries").fetchall() == [
            (kept[0] if kept else None, "oil_losses")
        ]
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(INSERT, (field, None, None, "oil_consumption", 1, "bbl"))
        conn.rollback()
        conn.execute(INSERT, (field, pmo, None, "bsw", 2, "%"))
        conn.commit()
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == migrate.head_revision()
