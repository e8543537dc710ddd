"""Migrations 0002 (production) and 0005 (reports): downgrades drop what they create."""

from __future__ import annotations

from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database

TABLES_0002 = {"daily_production", "manual_entries"}
TABLES_0005 = {"signing_keys", "reports", "report_versions", "deliveries"}
FUNCTIONS = {"manual_entries_guard", "report_versions_guard"}


def objects(db: Database) -> tuple[set[str], set[str]]:
    with db.connect() as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables").fetchall()}
        functions = {r[0] for r in conn.execute("SELECT proname FROM pg_proc").fetchall()}
    return tables, functions


def test_downgrade_drops_and_upgrade_restores(empty_db: Database) -> None:
    migrate.upgrade(empty_db)
    tables, functions = objects(empty_db)
    assert tables >= TABLES_0002 | TABLES_0005 and functions >= FUNCTIONS

    migrate.downgrade(empty_db, "0004")
    tables, functions = objects(empty_db)
    assert not TABLES_0005 & tables and "report_versions_guard" not in functions
    assert tables >= TABLES_0002

    migrate.downgrade(empty_db, "0001")
    tables, functions = objects(empty_db)
    assert not (TABLES_0002 | TABLES_0005) & tables and not FUNCTIONS & functions

    migrate.upgrade(empty_db)
    assert objects(empty_db)[0] >= TABLES_0002 | TABLES_0005
