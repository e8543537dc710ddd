"""``anh-reporter production``: compute, show, recompute; confirm resets and approve estimates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from anh_reporter.config import get_settings
from anh_reporter.domain.timeutil import from_us
from anh_reporter.errors import AnhError
from anh_reporter.production import store
from anh_reporter.production.approvals import approve_estimate, confirm_reset
from anh_reporter.production.config import load_field
from anh_reporter.production.daily import compute_day, recompute_stale
from anh_reporter.production.figures import DailyFigures
from anh_reporter.storage.database import open_database
from anh_reporter.terminal import os_user

app = typer.Typer(
    help="Daily production per PMO (API MPMS).", no_args_is_help=True, add_completion=False
)
console = Console()

FieldOpt = Annotated[str, typer.Option("--field", "-f", help="Field code")]
DayOpt = Annotated[
    dt.datetime, typer.Option("--day", "-d", formats=["%Y-%m-%d"], help="Contract day")
]


class CliInputError(AnhError):
    """A command-line value that cannot be used."""


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
    for col in ("PMO", "method", "IV", "MF", "CCF", "GSV", "BSW %", "NSV", "± U (k=2)",
                "measured %", "estimated", "°F", "psig", "°API", "score", "issues"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("PMO", "method", "issues") else "right")
    for f in figures:
        u = f.uncertainty
        table.add_row(
            f.code,
            f.method if f.level in (None, "indicated") else f"{f.method} ({f.level})",
            _fmt(f.indicated_volume),
            _fmt(f.meter_factor),
            _fmt(f.ccf),
            _fmt(f.gross_standard_volume),
            _fmt(f.bsw_percent),
            _fmt(f.net_standard_volume),
            "-" if u is None else f"{u.expanded:,} ({u.expanded_pct:.2f} %)",
            _fmt(f.completeness_pct),
            _fmt(f.estimated_volume),
            _fmt(f.temperature_f),
            _fmt(f.pressure_psig),
            _fmt(f.api_gravity),
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
    if not changed and needs_amendment:
        # The PMOs' figures held, but something else the signed report shows moved (a well's
        # allocation, a balance, a virtual meter): never say "unchanged" of a flagged day.
        console.print(
            "[yellow]the PMOs' figures are unchanged, but the day's well allocation, balances or "
            "virtual meters changed after the report was signed: the report needs an amendment "
            "(`report amendments` lists the changes)[/]"
        )
    elif not changed:
        console.print("figures unchanged")
    elif needs_amendment:
        console.print(
            f"[yellow]figures changed for {', '.join(changed)} after the report was signed: "
            "the report needs an amendment (`report amend --reason-code ... --reason ...`)[/]"
        )
    else:
        console.print(f"stored: {', '.join(changed)}")


@app.command("show")
def show(field: FieldOpt, day: DayOpt) -> None:
    """Show a field's stored day: figures, estimates, events, sources, uncertainty budget."""
    with open_database(get_settings()) as db, db.connect() as conn:
        config = load_field(conn, field)
        rows = store.load_day(conn, config.id, day.date())
    if not rows:
        raise CliInputError(
            f"nothing stored for {field} on {day.date()}: run `production compute` first"
        )
    title = f"{field} — contract day {day.date()}"
    console.print(_figures_table(title, [r.figures for r in rows]))
    for r in rows:
        _details(r.pmo.code, r.figures, r.needs_amendment)


def _details(code: str, f: DailyFigures, needs_amendment: bool) -> None:
    console.print(f"[bold]{code}[/] {f.quality_explanation or ''}", highlight=False)
    if needs_amendment:
        console.print("  [yellow]changed after the report was signed: needs an amendment[/]")
    sources = ", ".join(f"{k}: {v}" for k, v in sorted(f.sources.items()))
    console.print(f"  sources: {sources}", highlight=False)
    if f.api_observed is not None:
        console.print(f"  API observed {f.api_observed} → {f.api_gravity} °API at 60 °F")
    if f.gas_base_pressure_psia is not None:
        base = f"{f.gas_base_pressure_psia} psia, {f.gas_base_temperature_f} °F"
        console.print(f"  gas at {base}" + (f": {f.gas_conversion}" if f.gas_conversion else ""))
    if f.water_method:
        console.print(f"  water to 60 °F: {f.water_method}", highlight=False)
    for e in f.estimates:
        console.print(
            f"  [cyan]estimate[/] {e.method} {from_us(e.start_us):%m-%d %H:%M} → "
            f"{from_us(e.end_us):%m-%d %H:%M} UTC: {e.volume} {f.unit} ({e.detail})",
            highlight=False,
        )
    for r in f.replaced:
        console.print(
            f"  [cyan]replaced[/] {r.reference}: {r.manual_volume} {f.unit} instead of the "
            f"telemetry's {r.telemetry_volume if r.telemetry_volume is not None else '-'}",
            highlight=False,
        )
    for ev in f.events:
        state = (
            "needs confirmation" if ev.get("needs_confirmation")
            else "confirmed" if ev.get("confirmed") else "replaced" if ev.get("replaced") else ""
        )  # fmt: skip
        console.print(
            f"  [magenta]{ev['kind']}[/] {ev['before_value']:,.2f} → {ev['after_value']:,.2f} at "
            f"{from_us(int(ev['after_us'])):%m-%d %H:%M} UTC; {ev.get('volume')} {f.unit} "
            f"({ev.get('basis', '')}) {state}",
            highlight=False,
        )
    if f.uncertainty is not None:
        u = f.uncertainty
        console.print(
            f"  uncertainty ±{u.expanded} {f.unit} ({u.expanded_pct:.3f} %, k = "
            f"{u.coverage_factor:g}): {u.method}",
            highlight=False,
        )
        for line in u.lines:
            if line.value is None:
                value = ""
            elif line.unit == "%":  # a relative input: the value is the volume it applies to
                value = f" (of {line.value:,.2f} {f.unit})"
            else:
                value = f" {line.value:g} {line.unit}"
            console.print(
                f"    {line.quantity}{value}: u = {line.standard_uncertainty:.4g} {line.unit}, "
                f"{line.contribution:.3f} {f.unit} ({line.share_pct:.1f} % of the variance)",
                highlight=False,
            )
    for issue in f.issues:
        console.print(f"  [yellow]{issue.code}[/]: {issue.message}", highlight=False)


@app.command("confirm-reset")
def confirm_reset_command(
    field: FieldOpt,
    day: DayOpt,
    pmo: Annotated[str, typer.Option(help="PMO code")],
    reason: Annotated[str, typer.Option(help="What happened to the meter (kept and audited)")],
    by: Annotated[str | None, typer.Option(help="Who confirms (default: OS user)")] = None,
) -> None:
    """Confirm a PMO's meter reset on a day, so the day can be signed."""
    with open_database(get_settings()) as db, db.connect() as conn:
        done = confirm_reset(
            conn, field_code=field, pmo_code=pmo, day=day.date(), reason=reason,
            decided_by=by or os_user(),
        )  # fmt: skip
        compute_day(conn, field, day.date())
    console.print(
        f"{len(done)} reset(s) of {pmo} on {day.date()} confirmed by {done[0].decided_by}"
    )


@app.command("approve-estimate")
def approve_estimate_command(
    field: FieldOpt,
    day: DayOpt,
    pmo: Annotated[str, typer.Option(help="PMO code")],
    reason: Annotated[str, typer.Option(help="Why the estimate stands (kept and audited)")],
    by: Annotated[str | None, typer.Option(help="Who approves (default: OS user)")] = None,
) -> None:
    """Approve a PMO's estimated volume on a day, so the day can be signed."""
    with open_database(get_settings()) as db, db.connect() as conn:
        done = approve_estimate(
            conn, field_code=field, pmo_code=pmo, day=day.date(), reason=reason,
            decided_by=by or os_user(),
        )  # fmt: skip
    console.print(
        f"estimate of {pmo} on {day.date()} ({float(done.subject['estimated_volume']):.2f}, "
        f"{done.subject['estimated_share_pct']:.2f} % of the day) approved by {done.decided_by}"
    )


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
