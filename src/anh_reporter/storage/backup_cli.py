"""``anh-reporter backup``: take a base backup; prepare a restore to a point in time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from anh_reporter.config import get_settings
from anh_reporter.errors import StorageError
from anh_reporter.storage import backup
from anh_reporter.terminal import console, human_size

backup_app = typer.Typer(
    help="Backups: pg_basebackup with its WAL; restore to a point in time.",
    no_args_is_help=True,
    add_completion=False,
)


@backup_app.command("take")
def take(
    folder: Annotated[Path, typer.Argument(help="Where backups go (one folder per backup)")],
) -> None:
    """A base backup (pg_basebackup -Ft -z -Xs) of ANH_DATABASE_DIRECT_URL, else the owner's
    or the application's URL; the role needs REPLICATION."""
    settings = get_settings()
    url = settings.database_direct_url or settings.database_owner_url or settings.database_url
    if not url:
        raise StorageError(
            "set ANH_DATABASE_DIRECT_URL (or ANH_DATABASE_URL) to the server to back up; the "
            "embedded PostgreSQL of the demo has no backups"
        )
    with console.status("taking a base backup (pg_basebackup) ..."):
        made = backup.take(url, folder)
    console.print(f"base backup: {made.folder} ({human_size(made.size_bytes)})", highlight=False)


@backup_app.command("restore")
def restore(
    base: Annotated[Path, typer.Argument(help="A backup folder made by `backup take`")],
    pgdata: Annotated[Path, typer.Argument(help="An empty data directory to restore into")],
    wal_archive: Annotated[
        Path, typer.Option(help="The folder archive_command copies WAL segments to")
    ],
    target_time: Annotated[
        dt.datetime | None,
        typer.Option(
            help="Recover up to this moment, with its offset (e.g. 2026-12-07T10:30:00+00:00); "
            "default: all the archive holds",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"],
        ),
    ] = None,
) -> None:
    """Unpack a base backup and set up recovery from the WAL archive (then start PostgreSQL)."""
    with console.status(f"unpacking {base} into {pgdata} ..."):
        backup.prepare_restore(base, pgdata, wal_archive=wal_archive, target_time=target_time)
    target = target_time.isoformat() if target_time else "the end of the archive"
    console.print(
        f"{pgdata} is ready: start PostgreSQL on it (as its owner, e.g. `pg_ctl -D {pgdata} "
        f"start`); it replays {wal_archive} up to {target}, then opens for writes",
        highlight=False,
    )
