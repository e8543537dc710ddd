"""Shared fixtures: a real PostgreSQL, one fresh database per test.

``ANH_TEST_DATABASE_URL`` names the server to use (CI sets it to the machine's PostgreSQL);
without it the tests start an embedded PostgreSQL of their own. Each test gets its own
database, cloned from a migrated template, and it is dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from anh_reporter.config import get_settings
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database
from anh_reporter.storage.embedded import EmbeddedPostgres

# pytest-xdist's workers start with COLUMNS=80, which would fix the Rich consoles' width at
# import time; without it they follow the terminal (or a test's COLUMNS) as in one process.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)


def _worker_redis_url(url: str, worker: str) -> str:
    """Worker gwN's Redis database: the configured one for gw0, N below it for gwN (tests flush
    their database, and the app's keys - rate limits, revocations, caches - are not per test)."""
    if not (worker.startswith("gw") and worker[2:].isdigit()) or worker == "gw0":
        return url
    parts = urllib.parse.urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return parts._replace(path=f"/{(base - int(worker[2:])) % 16}").geturl()


os.environ["ANH_TEST_REDIS_URL"] = _worker_redis_url(
    os.environ.get("ANH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    os.environ.get("PYTEST_XDIST_WORKER", ""),
)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = ROOT / "examples" / "site.yaml"
_counter = itertools.count()


def unavailable(what: str, why: str) -> None:
    """Fail in CI (a required service must be there), skip elsewhere, saying why."""
    message = f"{what} is unreachable: {why}"
    if IN_CI:
        pytest.fail(message + " (CI=true: required services must run)")
    pytest.skip(message + " (set it up, or run in CI where it is required)")


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Database]:
    """The server's maintenance database (``postgres``), external or embedded."""
    url = os.environ.get("ANH_TEST_DATABASE_URL")
    server: EmbeddedPostgres | None = None
    workdir: Path | None = None
    if url:
        db = Database(url).with_name("postgres")
    else:
        # Its own folder, not pytest's numbered tmp dirs, which a concurrent run may prune.
        workdir = Path(tempfile.mkdtemp(prefix="anh-test-pg-"))
        server = EmbeddedPostgres(workdir / "pgdata")
        db = Database(server.start(), embedded=True).with_name("postgres")
    try:
        with psycopg.connect(db.url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {db.display_url}", str(exc).strip().splitlines()[0])
    yield db
    if server is not None:
        server.stop()
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


def create_database(admin: Database, name: str, template: str | None = None) -> Database:
    """Create a database on the admin's server (dropping a leftover of the same name)."""
    with psycopg.connect(admin.url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        suffix = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    return admin.with_name(name)


def drop_database(admin: Database, name: str) -> None:
    """Drop a test database, disconnecting whoever is still on it."""
    with psycopg.connect(admin.url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template_name(pg_admin: Database) -> Iterator[str]:
    """A migrated database that every test database is cloned from."""
    name = f"anh_tpl_{os.getpid()}"
    tpl = create_database(pg_admin, name)
    migrate.upgrade(tpl)
    yield name
    drop_database(pg_admin, name)


@pytest.fixture
def empty_db(pg_admin: Database) -> Iterator[Database]:
    """A new, empty database (never migrated)."""
    name = f"anh_t_{os.getpid()}_{next(_counter)}"
    yield create_database(pg_admin, name)
    drop_database(pg_admin, name)


@pytest.fixture
def db(pg_admin: Database, template_name: str) -> Iterator[Database]:
    """A new database at the newest schema revision, no partitions yet."""
    name = f"anh_t_{os.getpid()}_{next(_counter)}"
    yield create_database(pg_admin, name, template=template_name)
    drop_database(pg_admin, name)


@pytest.fixture
def conn(db: Database) -> Iterator[psycopg.Connection[object]]:
    """A connection to the test database (UTC, JIT off)."""
    with db.connect() as connection:
        yield connection


REDIS_URL = os.environ.get("ANH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    from anh_reporter.bus.redis_streams import display_url

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {display_url(REDIS_URL)}", str(exc))
    name = f"anhtest-{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The test database as the CLI commands find it (``ANH_DATABASE_URL``, settings reread)."""
    monkeypatch.setenv("ANH_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()
