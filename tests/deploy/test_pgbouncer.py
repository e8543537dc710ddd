"""deploy/pgbouncer: PgBouncer started with the shipped configuration, in front of the test server.

The rendered copy changes only where things are (the server, ports, files) and keeps the
pooling and authentication settings. A client authenticates with SCRAM against a userlist in
the example's format; through transaction pooling it runs a repeated parameterised query with
psycopg's ``prepare_threshold=None`` and loads rows with COPY.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from .conftest import DEPLOY, IN_CI, free_port, require_tool

PGBOUNCER = DEPLOY / "pgbouncer"
DATABASE = "anh_pgbouncer_check"
ROLE = "anh_pgbouncer_check"  # the application's role, as README.md sets it up
# README.md's role settings (what the API otherwise asks for in the startup packet).
ROLE_SETTINGS = {"timezone": "UTC", "jit": "off", "statement_timeout": "15s"}


def scram_secret(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 secret PostgreSQL stores for ``password`` (RFC 5802/7677)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}$"
        f"{b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def _server() -> tuple[str, int, str]:
    url = os.environ.get("ANH_TEST_DATABASE_URL")
    if not url:
        message = "ANH_TEST_DATABASE_URL is not set (PgBouncer needs a PostgreSQL server)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres"


@pytest.fixture
def pooler() -> Iterator[tuple[int, str]]:
    """PgBouncer on a free port in front of a database of its own; yields (port, password)."""
    binary = require_tool("pgbouncer", "pgbouncer")
    host, port, user = _server()
    admin = f"postgresql://{user}@{host}:{port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{ROLE}"')
        conn.execute(f'CREATE ROLE "{ROLE}" LOGIN')
        for name, value in ROLE_SETTINGS.items():
            conn.execute(f"ALTER ROLE \"{ROLE}\" SET {name} = '{value}'")
        conn.execute(f'CREATE DATABASE "{DATABASE}" OWNER "{ROLE}"')
    # PgBouncer refuses to run as root: as root, it switches to the postgres user, which must
    # be able to read and write its folder (pytest's tmp folders are private to root).
    folder = Path(tempfile.mkdtemp(prefix="anh-pgbouncer-"))
    run_as = "postgres" if os.geteuid() == 0 else None
    password = secrets.token_urlsafe(18)
    ini = (PGBOUNCER / "pgbouncer.ini").read_text()
    ini = re.sub(r"^anh = .*$", f"anh = host={host} port={port} dbname={DATABASE}", ini, flags=re.M)
    listen = free_port()
    for key, value in {
        "listen_port": str(listen),
        "unix_socket_dir": "",
        "logfile": str(folder / "pgbouncer.log"),
        "pidfile": str(folder / "pgbouncer.pid"),
        "auth_file": str(folder / "userlist.txt"),
    }.items():
        ini, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", ini, flags=re.M)
        assert n == 1, key
    (folder / "pgbouncer.ini").write_text(ini)
    example = (PGBOUNCER / "userlist.txt.example").read_text()
    comments = "".join(line + "\n" for line in example.splitlines() if line.startswith(";"))
    (folder / "userlist.txt").write_text(comments + f'"{ROLE}" "{scram_secret(password)}"\n')
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        for path in (folder, *folder.iterdir()):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    command = [binary, *(["-u", run_as] if run_as else []), str(folder / "pgbouncer.ini")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_ready(process, listen, password, folder)
        yield listen, password
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{ROLE}"')


def _wait_ready(process: subprocess.Popen[bytes], port: int, password: str, folder: Path) -> None:
    """Until a client gets in (fails at once with PgBouncer's log if the process exits)."""
    for _ in range(250):
        if process.poll() is not None:
            log_file = folder / "pgbouncer.log"
            log = log_file.read_text() if log_file.exists() else ""
            assert process.stderr is not None
            pytest.fail(f"pgbouncer exited: {process.stderr.read().decode()}{log}")
        try:
            with psycopg.connect(_url(port, password), connect_timeout=2):
                return
        except psycopg.OperationalError:
            # Not up yet: wait a little on the process itself (returns early if it exits).
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.02)
    pytest.fail("pgbouncer did not accept connections")


def _url(port: int, password: str) -> str:
    return f"postgresql://{ROLE}:{password}@127.0.0.1:{port}/anh"


def test_transaction_pooling_with_unprepared_statements_and_copy(
    pooler: tuple[int, str],
) -> None:
    port, password = pooler
    url = _url(port, password)
    # prepare_threshold=None: psycopg never prepares on the server, which a transaction pool
    # cannot keep (the next transaction may run on another server connection).
    with psycopg.connect(url, prepare_threshold=None, autocommit=True) as conn:
        conn.execute("CREATE TABLE readings (series_id int, t timestamptz, value float8)")
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy("COPY readings (series_id, t, value) FROM STDIN") as copy,
        ):
            for i in range(1000):
                copy.write_row((i % 10, f"2026-01-01T00:00:{i % 60:02d}Z", i * 0.5))
        # The same parameterised query many times: past psycopg's default threshold (5).
        totals = [
            conn.execute(
                "SELECT count(*), sum(value) FROM readings WHERE series_id = %s", (s,)
            ).fetchone()
            for s in list(range(10)) * 2
        ]
        # Series s holds i = s, s + 10, ..., s + 990: 100 rows, sum 0.5 * (100 s + 49,500).
        assert totals[:10] == [(100, 0.5 * (100 * s + 49_500)) for s in range(10)]
        assert totals[10:] == totals[:10]
        conn.execute("DROP TABLE readings")


def test_startup_options_are_ignored_and_the_role_settings_apply(pooler: tuple[int, str]) -> None:
    """Why README.md sets timezone, jit and statement_timeout on the role."""
    port, password = pooler
    options = "-c statement_timeout=1234 -c jit=on -c timezone=America/Bogota"
    with psycopg.connect(_url(port, password), options=options, autocommit=True) as conn:
        shown = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ROLE_SETTINGS
        }
    assert shown == {"timezone": "UTC", "jit": "off", "statement_timeout": "15s"}


def test_the_pool_mode_is_transaction() -> None:
    ini = (PGBOUNCER / "pgbouncer.ini").read_text()
    assert re.search(r"^pool_mode = transaction$", ini, flags=re.M)
    assert re.search(r"^auth_type = scram-sha-256$", ini, flags=re.M)
