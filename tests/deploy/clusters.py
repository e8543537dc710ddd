"""PostgreSQL clusters of the tests' own: initdb, start, stream, promote, stop, remove.

Each cluster lives in a temporary folder on a free port, listening on 127.0.0.1 only, with
trust authentication (initdb's default lines also let replication connections in), so the
machine's own PostgreSQL is never touched. The binaries are PostgreSQL 15's
(``/usr/lib/postgresql/15/bin``, or ``pg_config --bindir``); without them a test fails in CI and
is skipped elsewhere, naming the Debian package. As root, the servers and tools run as the
``postgres`` user (PostgreSQL refuses to run as root) and the folder is given to it.

:class:`Clusters` is a context manager: on leaving it, even after a failure, every cluster it
started is stopped (immediate mode) and the folder removed.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
import pytest

from .conftest import IN_CI, free_port

BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"),)
TOOLS = ("initdb", "pg_ctl", "pg_basebackup")


def bin_dir() -> Path:
    """Where initdb, pg_ctl and pg_basebackup are; fail in CI, skip elsewhere, without them."""
    candidates = list(BIN_DIRS)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        candidates.append(Path(found))
    for folder in candidates:
        if all((folder / tool).exists() for tool in TOOLS):
            return folder
    message = (
        f"PostgreSQL's server tools ({', '.join(TOOLS)}) are not installed "
        "(Debian package postgresql-15)"
    )
    if IN_CI:
        pytest.fail(message + " (CI=true: the high-availability drills must run)")
    pytest.skip(message)


def as_server_user(command: list[str]) -> list[str]:
    """The command run as ``postgres`` when we are root (PostgreSQL refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def give_to_server_user(path: Path) -> None:
    """As root: ``path`` and everything under it belong to ``postgres``."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam("postgres")
    for folder, dirs, files in os.walk(path):
        for name in [folder, *(os.path.join(folder, n) for n in (*dirs, *files))]:
            os.chown(name, entry.pw_uid, entry.pw_gid)


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after the timeout."""
    end = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(psycopg.OperationalError):
            value = check()
            if value:
                return value
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.05)


class Cluster:
    """One PostgreSQL cluster in ``root / name`` on ``port``."""

    def __init__(self, bindir: Path, root: Path, name: str) -> None:
        self.bindir = bindir
        self.root = root
        self.name = name
        self.port = free_port()
        self.pgdata = root / name
        self.log = root / f"{name}.log"
        self.started = False

    def url(self, dbname: str = "postgres") -> str:
        """A libpq URL as the superuser ``postgres``."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def run(self, tool: str, *args: str, timeout_s: float = 60.0) -> str:
        """Run a PostgreSQL tool as the server's user; fail with its output (and the log)."""
        command = as_server_user([str(self.bindir / tool), *args])
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        if done.returncode != 0:
            log = self.log.read_text()[-3000:] if self.log.exists() else ""
            pytest.fail(f"{tool} {' '.join(args)} failed: {done.stdout}{done.stderr}\n{log}")
        return done.stdout

    def initdb(self, **settings: str) -> None:
        """A new cluster, with ``settings`` added to its postgresql.conf."""
        self.run("initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--locale=C", "--no-sync")  # fmt: skip
        self.configure(**settings)

    def configure(self, **settings: str) -> None:
        """Append settings to postgresql.conf (takes effect at the next start or reload)."""
        lines = "".join(f"{name} = '{value}'\n" for name, value in settings.items())
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(lines)

    def start(self, **settings: str) -> None:
        """Start on 127.0.0.1:port and wait until it accepts connections (pg_ctl -w)."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        options += "".join(f" -c {name}={value}" for name, value in settings.items())
        self.started = True
        self.run("pg_ctl", "-D", str(self.pgdata), "-l", str(self.log), "-w", "-t", "60",
                 "-o", options, "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop it (``immediate``: as if it crashed)."""
        if self.started and (self.pgdata / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "stop")
        self.started = False

    def promote(self) -> None:
        """Turn a standby into a primary and wait until it accepts writes."""
        self.run("pg_ctl", "-D", str(self.pgdata), "-w", "-t", "60", "promote")

    def replicate_from(self, primary: Cluster) -> None:
        """This cluster as a streaming standby of ``primary`` (pg_basebackup -R)."""
        self.run("pg_basebackup", "-d", primary.url(), "-D", str(self.pgdata), "-R",
                 "-X", "stream", "-c", "fast", "--no-sync")  # fmt: skip

    def query(self, sql: str, params: tuple[Any, ...] = (), dbname: str = "postgres") -> Any:
        """The first column of the first row of ``sql`` (None when it returns no rows)."""
        with psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(sql, params)
            row = cur.fetchone() if cur.description is not None else None
        return None if row is None else row[0]


class Clusters:
    """Makes clusters in one temporary folder; stops and removes them all on exit."""

    def __init__(self) -> None:
        self.bindir = bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="anh-pg-"))
        give_to_server_user(self.root)
        self.made: list[Cluster] = []

    def new(self, name: str) -> Cluster:
        """A cluster not yet created (call ``initdb`` or ``replicate_from``)."""
        cluster = Cluster(self.bindir, self.root, name)
        self.made.append(cluster)
        return cluster

    def folder(self, name: str) -> Path:
        """A folder under the root that the server's user may write (a WAL archive)."""
        path = self.root / name
        path.mkdir()
        give_to_server_user(path)
        return path

    def __enter__(self) -> Clusters:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for cluster in self.made:
            with contextlib.suppress(Exception, pytest.fail.Exception):
                cluster.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def wait_replayed(primary: Cluster, standby: Cluster, timeout_s: float = 30.0) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    target = primary.query("SELECT pg_current_wal_lsn()::text")
    wait_for(
        f"{standby.name} to replay up to {target}",
        lambda: standby.query(
            "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s::pg_lsn) >= 0", (target,)
        ),
        timeout_s,
    )
