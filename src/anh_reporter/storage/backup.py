"""Base backups with PostgreSQL's own tools, and a restore to a point in time.

:func:`take` runs ``pg_basebackup`` (tar format, compressed, with the WAL needed to make the
copy consistent streamed alongside: ``-Ft -z -Xs``) into a new folder per backup. With
continuous WAL archiving on the server (``archive_mode = on`` and an ``archive_command`` that
copies each finished WAL segment to an archive folder), a base backup plus the archive restores
the database to any moment after the backup ended.

:func:`prepare_restore` unpacks a base backup into an empty data directory and writes the
recovery settings: ``restore_command`` reading the archive folder, ``recovery_target_time``
(or, without one, the end of the archive) and ``recovery_target_action = promote``, plus
``recovery.signal``. Starting PostgreSQL on that directory then replays the archived WAL up
to the target and opens the database for writes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from anh_reporter.errors import StorageError

BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"))


def tool(name: str) -> str:
    """A PostgreSQL client tool: on PATH, else in Debian's server folder."""
    found = shutil.which(name) or next(
        (str(d / name) for d in BIN_DIRS if (d / name).exists()), None
    )
    if found is None:
        raise StorageError(
            f"{name} is not installed (Debian package postgresql-client-15 or postgresql-15)"
        )
    return found


@dataclass(frozen=True)
class Backup:
    """A base backup on disk."""

    folder: Path
    size_bytes: int


def take(url: str, parent: Path, *, now: dt.datetime | None = None) -> Backup:
    """A base backup of the server at ``url`` in a new folder ``parent/base-YYYYmmddTHHMMSSZ``.

    The role in ``url`` needs the REPLICATION attribute, and ``pg_hba.conf`` a ``replication``
    line for it; the URL must reach PostgreSQL itself (PgBouncer does not pass replication on).
    """
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    folder = parent / f"base-{stamp}"
    if folder.exists():
        raise StorageError(f"backup folder {folder} already exists")
    parent.mkdir(parents=True, exist_ok=True)
    command = [tool("pg_basebackup"), "-d", url, "-D", str(folder), "-Ft", "-z", "-Xs",
               "-c", "fast", "--label", f"anh-reporter {stamp}"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv, no shell
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        why = (done.stderr or done.stdout).strip().splitlines()
        raise StorageError(f"pg_basebackup failed: {why[0] if why else done.returncode}")
    size = sum(p.stat().st_size for p in folder.iterdir())
    return Backup(folder, size)


def prepare_restore(
    backup: Path, pgdata: Path, *, wal_archive: Path, target_time: dt.datetime | None = None
) -> None:
    """Unpack ``backup`` into the empty (or new) ``pgdata`` and set up recovery from
    ``wal_archive`` up to ``target_time`` (None: replay all the archive holds)."""
    base = backup / "base.tar.gz"
    if not base.exists():
        raise StorageError(f"{backup} is not a base backup of `anh-reporter backup take`")
    if not wal_archive.is_dir():
        raise StorageError(f"--wal-archive {wal_archive}: not a folder")
    if target_time is not None and target_time.tzinfo is None:
        raise StorageError(f"--target-time {target_time}: give a timezone (e.g. +00:00)")
    if pgdata.exists() and any(pgdata.iterdir()):
        raise StorageError(f"{pgdata} is not empty: restore into an empty data directory")
    pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
    pgdata.chmod(0o700)
    _unpack(base, pgdata)
    wal = backup / "pg_wal.tar.gz"
    if wal.exists():
        _unpack(wal, pgdata / "pg_wal")
    archive = str(wal_archive.resolve()).replace("'", "''")
    lines = [
        "# written by anh-reporter backup restore",
        f'restore_command = \'cp "{archive}/%f" "%p"\'',
        "recovery_target_action = 'promote'",
    ]
    if target_time is not None:
        lines.append(f"recovery_target_time = '{target_time.isoformat()}'")
    with (pgdata / "postgresql.auto.conf").open("a") as conf:
        conf.write("\n".join(lines) + "\n")
    (pgdata / "recovery.signal").touch()


def _unpack(archive: Path, into: Path) -> None:
    into.mkdir(mode=0o700, exist_ok=True)
    with tarfile.open(archive) as tar:
        # Our own backup (pg_basebackup wrote it): keep its modes; "data" would refuse nothing.
        tar.extractall(into, filter="fully_trusted")  # noqa: S202
