"""Run the Alembic migrations programmatically (``anh-reporter db migrate|status``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg import errors as pg_errors
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import ProgrammingError

from anh_reporter.config import StorageSettings
from anh_reporter.errors import StorageError
from anh_reporter.storage.database import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Transaction-level advisory lock taken before migrating: two processes that start at once
# (two API replicas, a worker and the scheduler) migrate one after the other; the second finds
# the database at head and does nothing. A transaction lock also works through PgBouncer in
# transaction pooling, and is released by the commit or the rollback.
MIGRATION_LOCK_KEY = 0x414E485F4D494752  # "ANH_MIGR"
FILE_TEMPLATE = "%%(year)d-%%(month).2d-%%(day).2d_%%(rev)s_%%(slug)s"


def alembic_config(storage: StorageSettings | None = None) -> Config:
    """An Alembic configuration for this package's migrations (no ini file needed)."""
    storage = storage or StorageSettings()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", FILE_TEMPLATE)
    cfg.attributes["use_timescaledb"] = storage.use_timescaledb
    cfg.attributes["retention_years"] = storage.retention_years
    return cfg


def upgrade(db: Database, revision: str = "head", storage: StorageSettings | None = None) -> None:
    """Migrate the database up to ``revision``."""
    _run(db, storage, lambda cfg: command.upgrade(cfg, revision))


def downgrade(db: Database, revision: str = "base", storage: StorageSettings | None = None) -> None:
    """Migrate the database down to ``revision`` (``base`` drops everything)."""
    _run(db, storage, lambda cfg: command.downgrade(cfg, revision))


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = create_engine(db.sqlalchemy_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # noqa: S101 - narrows for mypy: the package ships its migrations
    return head


def _run(db: Database, storage: StorageSettings | None, action: object) -> None:
    cfg = alembic_config(storage)
    engine = create_engine(db.sqlalchemy_url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            cfg.attributes["connection"] = conn
            action(cfg)  # type: ignore[operator]
    except ProgrammingError as exc:
        if not isinstance(exc.orig, pg_errors.InsufficientPrivilege):
            raise
        raise StorageError(
            f"the database schema is at revision {current_revision(db) or 'none'} and this "
            f"program needs {head_revision()}, but role {db_role(db)!r} may not migrate it: "
            "run `anh-reporter db migrate` as the owner (ANH_DATABASE_OWNER_URL) first"
        ) from None
    finally:
        engine.dispose()


def db_role(db: Database) -> str:
    """The role this database connection logs in as."""
    with db.connect() as conn:
        return str(conn.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]
