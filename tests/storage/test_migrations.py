"""Migrations go up and down on an empty database, and the schema is what the code expects."""

from __future__ import annotations

import psycopg
import pytest

from anh_reporter.storage import migrate, partitions
from anh_reporter.storage.database import Database

TABLES = {
    "operators",
    "fields",
    "wells",
    "measurement_points",
    "series",
    "telemetry",
    "telemetry_hourly",
    "quarantine",
    "config_log",
    "audit_log",
}


def tables(db: Database) -> set[str]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "UNION SELECT relname FROM pg_class WHERE relkind = 'p'"
        ).fetchall()
    return {r[0] for r in rows} - {"alembic_version"}


def test_up_down_up_on_empty_database(empty_db: Database) -> None:
    assert migrate.current_revision(empty_db) is None
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == migrate.head_revision()
    assert tables(empty_db) >= TABLES
    migrate.downgrade(empty_db, "base")
    assert migrate.current_revision(empty_db) is None
    assert tables(empty_db) == set()
    migrate.upgrade(empty_db)
    assert tables(empty_db) >= TABLES


def test_migration_files_are_date_named() -> None:
    names = [p.name for p in (migrate.MIGRATIONS_DIR / "versions").glob("*.py")]
    assert names, "no migrations found"
    for name in names:
        assert name[:11].replace("-", "").rstrip("_").isdigit(), name


def test_telemetry_is_range_partitioned_with_series_time_key(
    conn: psycopg.Connection[object],
) -> None:
    assert partitions.is_native(conn)
    key = conn.execute(
        "SELECT array_agg(a.attname ORDER BY k.ord) FROM pg_index i "
        "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "WHERE i.indrelid = 'telemetry'::regclass AND i.indisprimary"
    ).fetchone()
    assert key is not None and key[0] == ["series_id", "time"]
    strategy = conn.execute(
        "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'telemetry'::regclass"
    ).fetchone()
    assert strategy == ("r",)
    cols = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'telemetry'"
        ).fetchall()
    )
    assert cols == {
        "time": "timestamp with time zone",
        "series_id": "integer",
        "value": "double precision",
        "quality": "integer",
    }


def test_logs_are_append_only(conn: psycopg.Connection[object]) -> None:
    conn.execute(
        "INSERT INTO config_log (changed_by, entity, entity_code, attribute, new_value) "
        "VALUES ('ana', 'measurement_point', 'F.P', 'meter_factor', '1.001')"
    )
    conn.execute("INSERT INTO audit_log (actor, action) VALUES ('ana', 'login')")
    conn.commit()
    for statement in ("UPDATE config_log SET changed_by = 'eve'", "DELETE FROM audit_log"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)
        conn.rollback()


def test_concurrent_upgrades_run_one_after_the_other(empty_db: Database) -> None:
    """Two processes starting at once both succeed; the database ends at head, migrated once."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(migrate.upgrade, empty_db) for _ in range(2)]:
            future.result()
    assert migrate.current_revision(empty_db) == migrate.head_revision()
