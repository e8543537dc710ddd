"""deploy/pgbouncer: PgBouncer started with the shipped configuration, in front of the test server.

The rendered copy changes only where things are (the server, ports, files) and keeps the
pooling and authentication settings. A client authenticates with SCRAM against a userlist in
the example's format; through transaction pooling it runs a repeated parameterised query with
psycopg's ``prepare_threshold=None`` and loads rows with COPY. Then every path of the program
runs through it with ``ANH_DATABASE_POOLED=true``: the demo's backfill (binary COPY), daily
compute and report signing, ``report verify`` and ``report audit``, a worker's commits, the
API's queries, and the scheduler, whose leader lock goes to ``ANH_DATABASE_DIRECT_URL``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import psycopg
import pytest

from anh_reporter.api.app import create_app
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.config import Settings
from anh_reporter.domain.batch import Batch
from anh_reporter.errors import AnhError
from anh_reporter.reports import chain, records, service
from anh_reporter.reports.verify import verify_file
from anh_reporter.scheduler import LEADER_LOCK_KEY, LeaderLock
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database
from tests.api.conftest import api_settings, login

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


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "anh_reporter", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, f"anh-reporter {' '.join(args)}: {done.stdout}{done.stderr}"
    return done


def _pooled_env(pooled: str, direct: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """What a deployment behind PgBouncer sets (deploy/pgbouncer/README.md)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANH_")}
    env.update(
        ANH_DATABASE_URL=pooled,
        ANH_DATABASE_POOLED="true",
        ANH_DATABASE_OWNER_URL=direct,  # migrations: one long DDL transaction, direct
        ANH_DATABASE_DIRECT_URL=direct,  # the scheduler's leader lock, direct
        ANH_DATA_DIR=str(data_dir),
        COLUMNS="250",
        **extra,
    )
    return env


def _wait(what: str, check: Callable[[], object], timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.05)


def test_every_path_runs_through_transaction_pooling(
    pooler: tuple[int, str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Ingest's binary COPY, daily compute, report generate + sign (the demo), the chain's
    audit, the worker's commit path, the API's queries, and the scheduler (lock direct, jobs
    pooled)."""
    port, password = pooler
    host, server_port, _ = _server()
    pooled = _url(port, password)
    direct = f"postgresql://{ROLE}@{host}:{server_port}/{DATABASE}"
    redis_url = os.environ.get("ANH_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
    prefix = f"anhtest-{secrets.token_hex(6)}"
    env = _pooled_env(pooled, direct, tmp_path / "data", ANH_REDIS_URL=redis_url,
                      ANH_REDIS_PREFIX=prefix, ANH_INGEST__FUTURE_TOLERANCE_S="1e9",
                      ANH_INGEST__FLUSH_DEADLINE_MS="50")  # fmt: skip
    migrate.upgrade(Database(direct))  # as `db migrate` does with ANH_DATABASE_OWNER_URL
    # The worker starts now (it waits on the stream) so that its start overlaps the demo's.
    worker = subprocess.Popen(
        [sys.executable, "-m", "anh_reporter", "worker", "--consumer", "pooled"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    request.addfinalizer(worker.kill)  # if the test fails before it stops the worker

    # Backfill (binary COPY + rollups), daily compute, report generate + sign, all pooled.
    demo = _cli("demo", "--days", "2", "--live", "0", env=env).stdout
    signed = re.search(r"signed report: (\S+)", demo)
    admin = re.search(r"API admin: (\S+) / (\S+)", demo)
    assert signed and admin, demo
    assert verify_file(Path(signed[1])).ok
    database = Database(pooled, pooled=True)
    with database.connect() as conn:
        assert chain.audit(conn).ok
        (first,) = records.list_versions(conn, limit=10)
        assert (first.version, first.status, first.chain_seq) == (1, "signed", 1)
        # Generating the day again, pooled, finds it signed (under the report lock, held across
        # the generator's commits): no second version.
        again = service.generate(
            conn,
            field_code=first.field_code,
            day=first.contract_day,
            context=service.Context.from_settings(Settings(data_dir=tmp_path / "data")),
            created_by="test",
        )
        assert again.version == 1
        assert len(records.list_versions(conn, limit=10)) == 1

    database = Database(pooled, pooled=True)
    with database.connect() as conn:
        before = conn.execute("SELECT count(*), sum(value) FROM telemetry").fetchone()
        series = conn.execute(
            "SELECT id FROM series WHERE code LIKE %s ORDER BY id LIMIT 4", ("%oil_rate",)
        ).fetchall()
    assert before is not None and len(series) >= 1

    # The worker's commit path: Redis Streams -> worker (pooled) -> COPY, commit, XACK.
    try:
        n = 300
        t0 = (int(time.time()) // 3600 * 3600 - 3 * 86_400) * 1_000_000 + 500_000
        sid = int(series[0][0])
        batch = Batch.of(
            np.full(n, sid), t0 + np.arange(n) * 1_000_000, np.full(n, 7.0), source="t"
        )

        async def publish() -> None:
            bus = RedisStreamsBus(redis_url, prefix=prefix)
            for part in np.array_split(np.arange(n), 6):  # six transactions, six commits
                await bus.publish(batch.take(part), "CAMPO-DEMO-LLANOS")
            await bus.close()

        asyncio.run(publish())

        def landed() -> bool:
            with database.connect() as conn:
                row = conn.execute("SELECT count(*) FROM telemetry").fetchone()
            return row is not None and row[0] == before[0] + n

        _wait("the worker's readings", landed)
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0]
    assert worker.returncode == 0, output

    # The API's queries, 24 at a time, each route many times (past psycopg's prepare
    # threshold of 5), over PgBouncer's shared server connections.
    settings = Settings(data_dir=tmp_path / "api", redis_url=None, database_pooled=True)
    app = create_app(settings, database, MemoryBus(), api=api_settings())
    day = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date().isoformat()

    async def ask() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        ):
            token = (await login(client, admin[1], password=admin[2]))["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            paths = [
                "/api/v1/fields",
                f"/api/v1/telemetry/{sid}/raw?start={day}T00:00:00Z&end={day}T06:00:00Z",
                f"/api/v1/telemetry/{sid}/downsampled?start={day}T00:00:00Z&end={day}T23:00:00Z",
                "/api/v1/reports",
            ]
            answers = await asyncio.gather(
                *(client.get(p, headers=auth) for p in paths * 6 for _ in range(2))
            )
            return [a.status_code for a in answers]

    assert set(asyncio.run(ask())) == {200}

    # The scheduler: its leader lock refuses a pooled connection, and with the direct URL it
    # leads (holds the lock on PostgreSQL itself) while its jobs use the pooled one.
    with pytest.raises(AnhError, match="ANH_DATABASE_DIRECT_URL"):
        LeaderLock(database)
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "anh_reporter", "scheduler"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:

        def leads() -> bool:
            with psycopg.connect(direct, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                    "WHERE l.locktype = 'advisory' AND l.objid = %s AND l.granted "
                    "AND a.client_port <> %s",
                    (LEADER_LOCK_KEY, port),
                ).fetchone()
            return row is not None and row[0] == 1

        _wait("the scheduler to take the leader lock directly", leads)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        output = scheduler.communicate(timeout=30)[0]
    assert scheduler.returncode == 0, output
