"""``anh-reporter manual add|list`` (values entered by hand) and ``proving add|list``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import typer

from anh_reporter.config import get_settings
from anh_reporter.production.cli import CliInputError
from anh_reporter.production.manual import KINDS, add_entry, add_tank_gauging, list_entries
from anh_reporter.production.provings import list_provings, record_proving
from anh_reporter.production.tank_gauging import Gauge
from anh_reporter.production.tank_stock import add_tank_stock
from anh_reporter.storage.database import open_database
from anh_reporter.terminal import console, os_user
from anh_reporter.terminal import table as terminal_table

manual_app = typer.Typer(
    help="Manual entries: lab BSW and API gravity, tank gauging, Tipo B volumes, well tests, "
    "the field's oil consumption and losses.",
    no_args_is_help=True,
    add_completion=False,
)
proving_app = typer.Typer(
    help="Meter provings: the meter factor from the day it takes effect.",
    no_args_is_help=True,
    add_completion=False,
)
FieldOpt = Annotated[str, typer.Option("--field", "-f", help="Field code")]
DayOpt = Annotated[
    dt.datetime, typer.Option("--day", "-d", formats=["%Y-%m-%d"], help="Contract day")
]
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d"]


def _utc(value: dt.datetime) -> dt.datetime:
    """A time typed at the command line: naive means UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


@manual_app.command("add")
def manual_add(
    field: FieldOpt,
    day: DayOpt,
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(KINDS)}")],
    value: Annotated[str, typer.Option(help="The value, in the kind's unit")],
    reason: Annotated[str, typer.Option(help="Why it is entered by hand")],
    pmo: Annotated[
        str | None,
        typer.Option(help="PMO code (all kinds but well tests, hours on, oil consumption/losses)"),
    ] = None,
    well: Annotated[str | None, typer.Option(help="Well code (well tests, hours on)")] = None,
    unit: Annotated[str | None, typer.Option(help="Unit, checked against the kind's")] = None,
    replaces: Annotated[int | None, typer.Option(help="Id of the entry this corrects")] = None,
    level: Annotated[
        str | None,
        typer.Option(help="A volume's level: indicated (default), gov, gsv or nsv"),
    ] = None,
    start: Annotated[
        dt.datetime | None,
        typer.Option("--from", formats=TIME_FORMATS, help="Start of the window it covers (UTC)"),
    ] = None,
    end: Annotated[
        dt.datetime | None,
        typer.Option("--to", formats=TIME_FORMATS, help="End of the window it covers (UTC)"),
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who enters it (default: OS user)")] = None,
) -> None:
    """Enter a value by hand; its day is recomputed at once.

    A volume covers the whole day at the level given, or (indicated volumes) the window
    ``--from``/``--to`` (a gap); the telemetry figure it replaces stays visible. The field's
    oil consumption and losses (``oil_consumption``, ``oil_losses``, bbl at 60 °F) take no
    PMO and no well; the day's oil balance is printed.
    """
    if (start is None) != (end is None):
        raise CliInputError("give both --from and --to for a window, or neither")
    window = None if start is None or end is None else (_utc(start), _utc(end))
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
            entered_by=by or os_user(),
            replaces=replaces,
            level=level,
            window=window,
        )
    e = result.entry
    console.print(
        f"manual entry #{e.id}: {e.kind} = {e.value} {e.unit} for {e.owner_code} on "
        f"{e.contract_day} by {e.entered_by}"
        + (f" (replaces #{result.replaced})" if result.replaced else "")
    )
    if result.recomputed is not None:
        r = result.recomputed
        if e.owner == "field":
            console.print(oil_balance_line(r.wells.totals if r.wells else {}), highlight=False)
        if r.needs_amendment:
            console.print("[yellow]the day's signed report needs an amendment[/]")
        elif e.owner != "field":
            console.print("figures recomputed" if r.changed else "figures unchanged")


def oil_balance_line(totals: dict[str, Any]) -> str:
    """The day's stored oil balance in one line (or why there is none)."""
    oil = next((b for b in totals.get("balances", []) if b["fluid"] == "oil"), None)
    if oil is None:
        return "no oil balance for the day (no oil production volume): the entry counts nowhere"
    terms = ", ".join(f"{t['name']} {t['volume']}" for t in oil["terms"])
    state = "closes" if oil["closes"] else "does not close"
    return (
        f"oil balance: produced {oil['produced']} bbl = {terms} + residual {oil['residual']} "
        f"bbl; tolerance {Decimal(oil['tolerance']).quantize(Decimal('0.01'))} bbl: {state}"
    )


def _gauge(text: str, ambient: float | None, option: str) -> Gauge:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (2, 3):
        raise CliInputError(
            f"{option} {text!r}: expected LEVEL,TEMPERATURE_F[,FREE_WATER_LEVEL] (e.g. 12.5,95.0)"
        )
    try:
        numbers = [Decimal(p) for p in parts]
    except ArithmeticError:
        raise CliInputError(f"{option} {text!r}: not numbers") from None
    return Gauge(
        level=numbers[0],
        temperature_f=numbers[1],
        ambient_f=None if ambient is None else Decimal(repr(ambient)),
        free_water_level=numbers[2] if len(numbers) == 3 else None,
    )


@manual_app.command("tank")
def manual_tank(
    field: FieldOpt,
    day: DayOpt,
    pmo: Annotated[str, typer.Option(help="PMO whose volume the tank gives")],
    tank: Annotated[str, typer.Option(help="Tank code (site file, tanks)")],
    opening: Annotated[str, typer.Option(help="LEVEL,TEMPERATURE_F[,FREE_WATER_LEVEL]")],
    closing: Annotated[str, typer.Option(help="LEVEL,TEMPERATURE_F[,FREE_WATER_LEVEL]")],
    api: Annotated[str, typer.Option(help="API gravity at 60 °F of the oil (lab)")],
    bsw: Annotated[str, typer.Option(help="BSW of the oil, % (lab)")],
    reason: Annotated[str, typer.Option(help="Why it is entered by hand")],
    ambient: Annotated[
        float | None,
        typer.Option(
            help="Ambient temperature, °F (uninsulated shell; default: the tank's "
            "level_telemetry.ambient_f in the site file)"
        ),
    ] = None,
    replaces: Annotated[int | None, typer.Option(help="Id of the entry this corrects")] = None,
    by: Annotated[str | None, typer.Option(help="Who enters it (default: OS user)")] = None,
) -> None:
    """Enter a day's tank gauging (opening and closing); API MPMS 12.1.1 gives the NSV received."""
    with open_database(get_settings()) as db, db.connect() as conn:
        result = add_tank_gauging(
            conn,
            field_code=field,
            day=day.date(),
            pmo_code=pmo,
            tank=tank,
            opening=_gauge(opening, ambient, "--opening"),
            closing=_gauge(closing, ambient, "--closing"),
            api60=api,
            bsw_percent=bsw,
            entered_by=by or os_user(),
            reason=reason,
            replaces=replaces,
        )
    d = result.entry.details or {}
    for side in ("opening", "closing"):
        g = d.get(side, {})
        console.print(
            f"  {side}: level {g.get('level')}, TOV {g.get('total_observed_volume')}, FW "
            f"{g.get('free_water_volume')}, CTSh {g.get('ctsh')}, roof {g.get('roof_adjustment')}"
            f", GOV {g.get('gross_observed_volume')}, CTL {g.get('ctl')}, GSV "
            f"{g.get('gross_standard_volume')}, NSV {g.get('net_standard_volume')}",
            highlight=False,
        )
    console.print(
        f"manual entry #{result.entry.id}: tank {tank} received {result.entry.value} bbl NSV "
        f"for {pmo} on {day.date()}"
    )


@manual_app.command("stock")
def manual_stock(
    field: FieldOpt,
    day: DayOpt,
    tank: Annotated[str, typer.Option(help="Storage tank code (site file, tanks, no PMO)")],
    opening: Annotated[str, typer.Option(help="LEVEL,TEMPERATURE_F[,FREE_WATER_LEVEL]")],
    closing: Annotated[str, typer.Option(help="LEVEL,TEMPERATURE_F[,FREE_WATER_LEVEL]")],
    api: Annotated[str, typer.Option(help="API gravity at 60 °F of the oil (lab)")],
    bsw: Annotated[str, typer.Option(help="BSW of the oil, % (lab)")],
    reason: Annotated[str, typer.Option(help="Why (e.g. daily gauging)")],
    ambient: Annotated[
        float | None,
        typer.Option(
            help="Ambient temperature, °F (uninsulated shell; default: the tank's "
            "level_telemetry.ambient_f in the site file)"
        ),
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who enters it (default: OS user)")] = None,
) -> None:
    """Enter a storage tank's opening and closing gauges of a day: the oil balance's Δ stock."""
    try:
        api60, bsw_pct = Decimal(api), Decimal(bsw)
    except ArithmeticError:
        raise typer.BadParameter(f"--api {api!r} and --bsw {bsw!r} must be numbers") from None
    with open_database(get_settings()) as db, db.connect() as conn:
        entry = add_tank_stock(
            conn,
            field_code=field,
            day=day.date(),
            tank=tank,
            opening=_gauge(opening, ambient, "--opening"),
            closing=_gauge(closing, ambient, "--closing"),
            api60=api60,
            bsw_percent=bsw_pct,
            entered_by=by or os_user(),
            reason=reason,
        )
    console.print(f"tank stock #{entry}: {tank} on {day.date()}; the day was computed again")


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
    table = terminal_table(
        ("id", "day", "for", "kind", "value", "unit", "by", "at", "reason", "replaced by"),
        right=("value",),
    )
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


@proving_app.command("add")
def proving_add(
    field: FieldOpt,
    pmo: Annotated[str, typer.Option(help="PMO code")],
    factor: Annotated[str, typer.Option(help="The meter factor the proving found")],
    proved_at: Annotated[
        dt.datetime, typer.Option(formats=TIME_FORMATS, help="When the meter was proved (UTC)")
    ],
    run: Annotated[str, typer.Option(help="Run data reference (proving report, file)")],
    proved_by: Annotated[str, typer.Option(help="Who proved the meter")],
    effective: Annotated[
        dt.datetime | None,
        typer.Option(formats=TIME_FORMATS, help="When the factor takes effect (default: proved)"),
    ] = None,
    notes: Annotated[str | None, typer.Option(help="Anything else to keep")] = None,
    by: Annotated[str | None, typer.Option(help="Who records it (default: OS user)")] = None,
) -> None:
    """Record a proving; stored days from its effective time are recomputed (signed days are
    flagged for an amendment, never changed)."""
    with open_database(get_settings()) as db, db.connect() as conn:
        result = record_proving(
            conn,
            field_code=field,
            pmo_code=pmo,
            meter_factor=Decimal(factor),
            proved_at=_utc(proved_at),
            effective_from=None if effective is None else _utc(effective),
            run_reference=run,
            proved_by=proved_by,
            recorded_by=by or os_user(),
            notes=notes,
        )
    p = result.proving
    change = "" if p.change_pct is None else f" ({p.change_pct:+.4f} % from {p.previous_factor})"
    console.print(
        f"proving #{p.id} of {pmo}: meter factor {p.meter_factor}{change} from "
        f"{p.effective_from:%Y-%m-%d %H:%M} UTC (contract day {result.first_day} on); "
        f"{len(result.recomputed)} stored day(s) recomputed"
    )
    if result.amendments:
        days = ", ".join(map(str, result.amendments))
        console.print(
            f"[yellow]signed days whose figures the new factor changes (amendment drafts, "
            f"awaiting a person):[/] {days}"
        )


@proving_app.command("list")
def proving_list(
    field: FieldOpt, pmo: Annotated[str | None, typer.Option(help="Only this PMO")] = None
) -> None:
    """List a field's provings, newest first."""
    with open_database(get_settings()) as db, db.connect() as conn:
        provings = list_provings(conn, field_code=field, pmo_code=pmo)
    table = terminal_table(("id", "PMO", "proved", "effective", "factor", "previous",
                            "change %", "run", "proved by", "recorded by"))  # fmt: skip
    for p in provings:
        table.add_row(
            str(p.id), p.pmo_code, f"{p.proved_at:%Y-%m-%d %H:%M}",
            f"{p.effective_from:%Y-%m-%d %H:%M}", str(p.meter_factor),
            str(p.previous_factor or "-"),
            "-" if p.change_pct is None else f"{p.change_pct:+.4f}", p.run_reference,
            p.proved_by, p.recorded_by,
        )  # fmt: skip
    console.print(table)
