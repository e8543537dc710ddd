"""``anh-reporter ingest FILE.csv``: load a CSV file of readings through validation and writer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from anh_reporter.config import get_settings
from anh_reporter.errors import AnhError
from anh_reporter.ingest.csv_file import ingest_csv
from anh_reporter.ingest.quarantine import QuarantineRow
from anh_reporter.storage import migrate
from anh_reporter.storage.database import open_database
from anh_reporter.terminal import console, err_console, progress

MAX_MALFORMED_SHOWN = 20


def ingest(
    path: Annotated[Path, typer.Argument(help="CSV file: time, series (or pmo + variable), value")],
    timezone: Annotated[
        str | None, typer.Option(help="IANA zone for times without a UTC offset")
    ] = None,
) -> None:
    """Load a CSV file of readings; bad lines and readings go to quarantine, the run goes on."""
    settings = get_settings()
    if not path.is_file():
        raise AnhError(f"{path}: no such file")
    shown: list[QuarantineRow] = []

    def malformed(row: QuarantineRow) -> None:
        if len(shown) < MAX_MALFORMED_SHOWN:
            err_console.print(f"[yellow]skipped[/] {row.message}", highlight=False)
        shown.append(row)

    with open_database(settings) as db:
        migrate.upgrade(db, storage=settings.storage)
        with progress() as bar:
            task = bar.add_task(f"ingesting {path.name}", total=path.stat().st_size)
            stats = asyncio.run(
                ingest_csv(
                    db,
                    path,
                    settings.ingest,
                    timezone=timezone,
                    on_malformed=malformed,
                    on_progress=lambda done: bar.update(task, completed=done),
                )
            )
    if len(shown) > MAX_MALFORMED_SHOWN:
        err_console.print(
            f"[yellow]... and {len(shown) - MAX_MALFORMED_SHOWN} more malformed line(s)"
        )
    reasons = ", ".join(f"{n:,} {r}" for r, n in sorted(stats.rejected.items())) or "none"
    console.print(
        f"[bold]{path}[/]: [green]{stats.written:,} written[/], {stats.duplicates:,} duplicate "
        f"(already stored), [yellow]{stats.quarantined:,} quarantined[/] ({reasons})"
    )
