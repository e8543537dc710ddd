"""The application role on the real PostgreSQL: it works, and it cannot erase or alter the logs.

The owner (the test server's superuser, as after ``db migrate``) runs ``apply_app_role``; the
test then connects as the new role (trust authentication) and tries what an attacker holding the
application's credentials would: TRUNCATE, DELETE, UPDATE, disabling the append-only trigger,
ALTER TABLE. Each is refused; appending audit rows and ingesting telemetry still work.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
import pytest

from anh_reporter.domain.timeutil import to_us
from anh_reporter.errors import StorageError
from anh_reporter.site import load_site
from anh_reporter.storage import roles
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter

from ..conftest import EXAMPLE_SITE


def _as(db: Database, role: str) -> Database:
    parts = urlsplit(db.url)
    host = parts.netloc.rpartition("@")[2]
    return Database(urlunsplit(parts._replace(netloc=f"{role}@{host}")))


@pytest.fixture
def app_role(db: Database) -> Iterator[str]:
    name = f"anh_app_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with db.connect() as conn:
        load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
        roles.apply_app_role(conn, name)
    yield name
    with db.connect(autocommit=True) as conn:
        roles.drop_role(conn, name)


@pytest.fixture
def app_conn(db: Database, app_role: str) -> Iterator[psycopg.Connection[Any]]:
    with _as(db, app_role).connect(autocommit=True) as conn:
        yield conn


REFUSED = [
    "TRUNCATE {t}",
    "DELETE FROM {t}",
    "UPDATE {t} SET id = id",
    "ALTER TABLE {t} DISABLE TRIGGER {t}_append_only",
    "ALTER TABLE {t} DISABLE TRIGGER ALL",
    "ALTER TABLE {t} ADD COLUMN x int",
    "ALTER TABLE {t} OWNER TO CURRENT_USER",
    "DROP TABLE {t}",
    "DROP TRIGGER {t}_append_only ON {t}",
    "SET session_replication_role = replica",
]


@pytest.mark.parametrize("table", roles.INSERT_ONLY)
@pytest.mark.parametrize("statement", REFUSED)
def test_app_role_cannot_erase_or_alter_a_log(
    app_conn: psycopg.Connection[Any], table: str, statement: str
) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_conn.execute(statement.format(t=table))


def test_app_role_cannot_alter_or_truncate_other_tables(
    app_conn: psycopg.Connection[Any],
) -> None:
    for statement in (
        "TRUNCATE report_versions",
        "ALTER TABLE report_versions DISABLE TRIGGER ALL",
        "ALTER TABLE users ADD COLUMN x int",
        "CREATE TABLE mine (x int)",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app_conn.execute(statement)


def test_app_role_still_works(
    app_conn: psycopg.Connection[Any], db: Database, app_role: str
) -> None:
    app_conn.execute(
        "INSERT INTO audit_log (actor, action, details) VALUES ('me', 'test.append', '{}')"
    )
    app_conn.execute(
        "INSERT INTO config_log (changed_by, entity, entity_code, attribute) "
        "VALUES ('me', 'field', 'X', 'name')"
    )
    assert app_conn.execute("SELECT count(*) FROM audit_log").fetchone() == (1,)
    series = app_conn.execute("SELECT id FROM series ORDER BY id LIMIT 1").fetchone()
    assert series is not None
    # A week long before `db migrate` made partitions: made through the owner's function.
    start = to_us(dt.datetime(2024, 3, 6, tzinfo=dt.UTC))
    t = start + np.arange(100, dtype=np.int64) * 60_000_000
    app_conn.autocommit = False
    result = TelemetryWriter(app_conn).write(
        np.full(100, series[0], dtype=np.int32),
        t,
        np.ones(100),
        np.zeros(100, dtype=np.uint32),
    )
    app_conn.commit()
    assert result.inserted == 100
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM telemetry").fetchone() == (100,)
        owner = conn.execute(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'telemetry_p20240304'"
        ).fetchone()
        assert owner is not None and owner[0] != app_role  # the app still owns nothing


def test_separation_reports_what_the_role_may_do(
    app_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any], app_role: str
) -> None:
    mine = roles.separation(app_conn)
    assert mine.role == app_role and mine.separated
    owner = roles.separation(conn)
    assert not owner.separated and owner.can_alter_logs


def test_apply_is_idempotent_and_refuses_powerful_roles(db: Database, app_role: str) -> None:
    with db.connect() as conn:
        again = roles.apply_app_role(conn, app_role)
        assert not again.created and set(again.insert_only) == set(roles.INSERT_ONLY)
        with pytest.raises(StorageError, match="owner role"):
            roles.apply_app_role(conn, "postgres")
        with pytest.raises(StorageError, match="role name"):
            roles.apply_app_role(conn, "x; DROP TABLE users")


def test_a_role_owning_objects_is_refused(db: Database) -> None:
    name = f"anh_own_{uuid.uuid4().hex[:8]}"
    with db.connect(autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name}")
        conn.execute(f"CREATE TABLE owned_by_{name} (x int)")
        conn.execute(f"ALTER TABLE owned_by_{name} OWNER TO {name}")
        try:
            with pytest.raises(StorageError, match="owns 1 object"):
                roles.apply_app_role(conn, name)
        finally:
            roles.drop_role(conn, name)


def test_app_role_behind_head_gets_one_line_telling_it_to_migrate_as_owner(
    db: Database, app_role: str
) -> None:
    """serve/collect/scheduler start with the app's URL: at head they go on; behind head the
    refusal says what to run, instead of a permission-denied traceback."""
    from anh_reporter.storage import migrate

    as_app = _as(db, app_role)
    migrate.upgrade(as_app)  # at head: nothing to do, nothing refused
    with db.connect() as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0010'")
    with pytest.raises(StorageError, match=r"at revision 0010 .* may not migrate it: run `anh"):
        migrate.upgrade(as_app)
