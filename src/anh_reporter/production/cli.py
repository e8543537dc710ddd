"""Command line: ``production compute|show|recompute`` and ``manual add|list``.

Two Typer sub-apps for the main CLI to mount: :data:`app` as ``production`` and
:data:`manual_app` as ``manual``.
"""

from __future__ import annotations

import datetime as dt
import getpass
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from anh_reporter.config import get_settings
from anh_reporter.errors import AnhError
from anh_reporter.production import store
from anh_reporter.production.config import load_field
from anh_reporter.production.daily import compute_day, recompute_stale
from anh_reporter.production.figures import DailyFigures
from anh_reporter.production.manual import KINDS, add_entry, list_entries
from anh_reporter.storage.database import open_database

app = typer.Typer(
    help="Daily production per PMO (API MPMS).", no_args_is_help=True, add_completion=False
)
manual_app = typer.Typer(
    help="Manual entries: lab BSW and API gravity, tank gauging, Tipo B volumes, well tests.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()

FieldOpt = Annotated[str, typer.Option("--field", "-f", help="Field code")]
DayOpt = Annotated[
    dt.datetime, typer.Option("--day", "-d", formats=["%Y-%m-%d"], help="Contract day")
]


class CliInputError(AnhError):
    """A command-line value that cannot be used."""


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _fmt(value: object, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}{suffix}"
    if isinstance(value, Decimal):
        return f"{value:,}{suffix}"
    return f"{value}{suffix}"


def _figures_table(title: str, figures: list[DailyFigures]) -> Table:
    table = Table(title=title, show_edge=False)
    for col in ("PMO", "method", "IV", "GOV", "CTL", "CPL", "GSV", "BSW %", "NSV", "°F",
                "psig", "°API", "compl. %", "score", "issues"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("PMO", "method", "issues") else "right")
    for f in figures:
        table.add_row(
            f.code,
            f.method,
            _fmt(f.indicated_volume),
            _fmt(f.gross_observed_volume),
            _fmt(f.ctl),
            _fmt(f.cpl),
            _fmt(f.gross_standard_volume),
            _fmt(f.bsw_percent),
            _fmt(f.net_standard_volume),
            _fmt(f.temperature_f),
            _fmt(f.pressure_psig),
            _fmt(f.api_gravity),
            _fmt(f.time_completeness_pct),
            _fmt(f.quality_score),
            "; ".join(i.code for i in f.issues) or "",
        )
    return table


@app.command("compute")
def compute(
    field: FieldOpt,
    day: DayOpt,
    to: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day of a range (inclusive)"),
    ] = None,
) -> None:
    """Compute and store the daily figures of every PMO of a field (one day or a range)."""
    first = day.date()
    last = to.date() if to else first
    if last < first:
        raise CliInputError(f"--to {last} is before --day {first}")
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    with open_database(get_settings()) as db, db.connect() as conn:
        if len(days) == 1:
            result = compute_day(conn, field, first)
            console.print(_figures_table(f"{field} — contract day {first}", list(result.figures)))
            _print_result_note(result.changed, result.needs_amendment)
            return
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
        ) as progress:
            task = progress.add_task(f"computing {field}", total=len(days))
            amended = []
            for d in days:
                result = compute_day(conn, field, d)
                if result.needs_amendment:
                    amended.append(d)
                progress.advance(task)
        console.print(f"computed {len(days)} day(s) of {field}")
        if amended:
            console.print(
                f"[yellow]reports needing an amendment:[/] {', '.join(map(str, amended))}"
            )


def _print_result_note(changed: tuple[str, ...], needs_amendment: bool) -> None:
    if not changed:
        console.print("figures unchanged")
    elif needs_amendment:
        console.print(
            f"[yellow]figures changed for {', '.join(changed)} after the report was signed: "
            "the report needs an amendment (`report amend --reason ...`)[/]"
        )
    else:
        console.print(f"stored: {', '.join(changed)}")


@app.command("show")
def show(field: FieldOpt, day: DayOpt) -> None:
    """Show the stored daily figures of a field's day, with their quality and sources."""
    with open_database(get_settings()) as db, db.connect() as conn:
        config = load_field(conn, field)
        rows = store.load_day(conn, config.id, day.date())
    if not rows:
        raise CliInputError(
            f"nothing stored for {field} on {day.date()}: run `production compute` first"
        )
    table = Table(title=f"{field} — contract day {day.date()}", show_edge=False)
    for col in ("PMO", "method", "GSV", "NSV", "BSW %", "°API", "°F", "psig", "received",
                "good", "longest gap s", "compl. %", "score", "amend?"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("PMO", "method") else "right")
    for r in rows:
        f = r.figures
        table.add_row(
            r.pmo.code,
            f.method,
            _fmt(f.gross_standard_volume),
            _fmt(f.net_standard_volume),
            _fmt(f.bsw_percent),
            _fmt(f.api_gravity),
            _fmt(f.temperature_f),
            _fmt(f.pressure_psig),
            f"{f.samples_received}/{f.samples_expected}",
            str(f.samples_good),
            _fmt(f.longest_gap_s),
            _fmt(f.time_completeness_pct),
            _fmt(f.quality_score),
            "yes" if r.needs_amendment else "",
        )
    console.print(table)
    for r in rows:
        f = r.figures
        sources = ", ".join(f"{k}: {v}" for k, v in sorted(f.sources.items()))
        console.print(f"[bold]{r.pmo.code}[/] {f.quality_explanation or ''}; {sources}")
        for issue in f.issues:
            console.print(f"  [yellow]{issue.code}[/]: {issue.message}")


@app.command("recompute")
def recompute(
    field: Annotated[str | None, typer.Option("--field", "-f", help="Only this field")] = None,
) -> None:
    """Recompute the stored days whose telemetry changed since (late data)."""
    with open_database(get_settings()) as db, db.connect() as conn:
        results = recompute_stale(conn, field_code=field)
    for r in results:
        note = " — report needs an amendment" if r.needs_amendment else ""
        console.print(f"{r.field_code} {r.day.day}: {len(r.changed)} PMO(s) changed{note}")
    if not results:
        console.print("nothing to recompute")


@manual_app.command("add")
def manual_add(
    field: FieldOpt,
    day: DayOpt,
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(KINDS)}")],
    value: Annotated[str, typer.Option(help="The value, in the kind's unit")],
    reason: Annotated[str, typer.Option(help="Why it is entered by hand")],
    pmo: Annotated[str | None, typer.Option(help="PMO code (all kinds but well tests)")] = None,
    well: Annotated[str | None, typer.Option(help="Well code (well tests)")] = None,
    unit: Annotated[str | None, typer.Option(help="Unit, checked against the kind's")] = None,
    replaces: Annotated[int | None, typer.Option(help="Id of the entry this corrects")] = None,
    by: Annotated[str | None, typer.Option(help="Who enters it (default: OS user)")] = None,
) -> None:
    """Enter a value by hand; its day is recomputed at once."""
    with open_database(get_settings()) as db, db.connect() as conn:
        result = add_entry(
            conn,
            field_code=field,
            day=day.date(),
            kind=kind,
            value=value,
            unit=unit,
            pmo_code=pmo,
            well_code=well,
            reason=reason,
            entered_by=by or _user(),
            replaces=replaces,
        )
    e = result.entry
    console.print(
        f"manual entry #{e.id}: {e.kind} = {e.value} {e.unit} for {e.owner_code} on "
        f"{e.contract_day} by {e.entered_by}"
        + (f" (replaces #{result.replaced})" if result.replaced else "")
    )
    if result.recomputed is not None:
        _print_result_note(result.recomputed.changed, result.recomputed.needs_amendment)


@manual_app.command("list")
def manual_list(
    field: FieldOpt,
    day: Annotated[
        dt.datetime | None, typer.Option("--day", "-d", formats=["%Y-%m-%d"], help="One day")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include replaced entries")] = False,
) -> None:
    """List the manual entries of a field."""
    with open_database(get_settings()) as db, db.connect() as conn:
        entries = list_entries(
            conn, field_code=field, day=day.date() if day else None, include_superseded=all_
        )
    table = Table(show_edge=False)
    for col in ("id", "day", "for", "kind", "value", "unit", "by", "at", "reason", "replaced by"):
        table.add_column(col)
    for e in entries:
        table.add_row(
            str(e.id),
            str(e.contract_day),
            e.owner_code,
            e.kind,
            str(e.value),
            e.unit,
            e.entered_by,
            f"{e.entered_at:%Y-%m-%d %H:%M}",
            e.reason,
            f"#{e.superseded_by}" if e.superseded_by else "",
        )
    console.print(table)
