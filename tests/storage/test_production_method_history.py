"""Migration 0020: an existing well's production method gets where its history starts."""

from __future__ import annotations

import importlib
from typing import Any

import psycopg

from ..production.helpers import FIELD
from ..production.wells_site import load_wells_site

Conn = psycopg.Connection[Any]


def test_migration_0020_logs_an_existing_wells_method_once(conn: Conn) -> None:
    """A well stored before the method was logged (W-9, written straight to the table) gets one
    entry, its method now, from the beginning (no effective instant); wells the site load
    logged get none, and a second run adds nothing."""
    migration = importlib.import_module(
        "anh_reporter.storage.migrations.versions.2026-12-07_0020_production_method_history"
    )
    load_wells_site(conn)
    conn.execute(
        "INSERT INTO wells (field_id, code, name, production_method) "
        "SELECT id, 'W-9', 'Pozo 9', 'injector' FROM fields WHERE code = %s",
        (FIELD,),
    )
    conn.execute(migration.BACKFILL)
    conn.execute(migration.BACKFILL)
    logged = conn.execute(
        "SELECT entity_code, old_value, new_value, effective_from FROM config_log "
        "WHERE changed_by = 'migration 0020'"
    ).fetchall()
    assert logged == [(f"{FIELD}.W-9", None, "injector", None)]
    at_load = conn.execute(
        "SELECT entity_code, new_value FROM config_log WHERE attribute = 'production_method' "
        "AND changed_by = 'test' ORDER BY entity_code"
    ).fetchall()
    assert at_load == [
        (f"{FIELD}.W-1", "esp"),
        (f"{FIELD}.W-2", "rod_pump"),
        (f"{FIELD}.W-3", "pcp"),
        (f"{FIELD}.W-4", "pcp"),
    ]
