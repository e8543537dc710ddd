"""What every command prints with: the Rich consoles, a progress bar, small formatting helpers."""

from __future__ import annotations

import getpass
from collections.abc import Iterable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def progress() -> Progress:
    """A progress bar for long work: description, bar, done/total, time remaining."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def table(columns: Iterable[str], *, title: str | None = None, right: Iterable[str] = ()) -> Table:
    """A listing's table: every value shown whole, folded onto more lines in a narrow terminal
    (never cut short with an ellipsis); the ``right`` columns right-aligned."""
    out = Table(title=title, show_edge=False)
    aligned = set(right)
    for name in columns:
        out.add_column(name, overflow="fold", justify="right" if name in aligned else "left")
    return out


def os_user() -> str:
    """Who runs the command, for the configuration and audit logs (``unknown`` if unknown)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def human_size(n: int) -> str:
    """``n`` bytes as ``12 kB``, ``3 MB``... (powers of 1024)."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n //= 1024
    return f"{n} TB"
