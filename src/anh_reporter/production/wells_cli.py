"""``anh-reporter wells``: well tests, downtime, status changes, hours on, the allocation table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import psycopg
import typer
from rich import box
from rich.console import Group
from rich.table import Table

from anh_reporter.config import get_settings
from anh_reporter.production.cli import CliInputError
from anh_reporter.production.config import load_field
from anh_reporter.production.manual import add_entry
from anh_reporter.production.manual_cli import TIME_FORMATS, DayOpt, FieldOpt, _utc
from anh_reporter.production.separator_tests import add_separator_test
from anh_reporter.production.well_entries import (
    WellEntryResult,
    add_downtime,
    add_status_change,
    add_well_test,
    well_test_history,
)
from anh_reporter.storage import well_records
from anh_reporter.storage.database import open_database
from anh_reporter.terminal import console, os_user
from anh_reporter.terminal import table as terminal_table

HELP = "Wells: tests, downtime, status changes, hours on, and the day's allocation table."
wells_app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False)
WellOpt = Annotated[str, typer.Option("--well", "-w", help="Well code")]
ByOpt = Annotated[str | None, typer.Option(help="Who enters it (default: OS user)")]
When = Annotated[dt.datetime, typer.Option(formats=TIME_FORMATS, help="Time (naive: UTC)")]


def _done(what: str, result: WellEntryResult) -> None:
    days = ", ".join(str(d) for d in result.reallocated) or "none stored yet"
    console.print(f"{what} #{result.id}; days allocated again: {days}")
    if result.needs_amendment:
        late = ", ".join(str(d) for d in result.needs_amendment)
        console.print(f"[yellow]signed reports that need an amendment: {late}[/]")


@wells_app.command("test")
def wells_test(
    field: FieldOpt,
    well: WellOpt,
    day: DayOpt,
    duration: Annotated[str, typer.Option(help="Test duration, h")],
    oil: Annotated[str, typer.Option(help="Oil rate at 60 °F, bbl/d")],
    gas: Annotated[str, typer.Option(help="Gas rate at base conditions, kscf/d")],
    water: Annotated[str, typer.Option(help="Water rate, bbl/d")],
    tested_by: Annotated[str, typer.Option(help="Who ran the test")],
    bsw: Annotated[str | None, typer.Option(help="Lab BSW of the sample, %")] = None,
    source: Annotated[str, typer.Option(help="manual or test_separator")] = "manual",
    replaces: Annotated[int | None, typer.Option(help="Id of the test this corrects")] = None,
    notes: Annotated[str, typer.Option(help="Notes")] = "",
    pump_speed: Annotated[
        str | None,
        typer.Option(help="Pump speed during the test (ESP Hz, rod pump spm, PCP rpm)"),
    ] = None,
    by: ByOpt = None,
) -> None:
    """Record a well test; the stored days from its date on are allocated again."""
    with open_database(get_settings()) as db, db.connect() as conn:
        result = add_well_test(
            conn, field_code=field, well_code=well, tested_on=day.date(), duration_h=duration,
            oil_bbl_d=oil, gas_kscf_d=gas, water_bbl_d=water, tested_by=tested_by,
            entered_by=by or os_user(), bsw_pct=bsw, source=source, notes=notes,
            replaces=replaces, pump_speed=pump_speed,
        )  # fmt: skip
    _done(f"well test of {well} on {day.date()}", result)


def _instant(option: str, text: str) -> dt.datetime:
    """An ISO 8601 time with its offset (``2026-02-02T06:00-05:00``, ``...Z``)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CliInputError(f"{option} {text!r}: not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise CliInputError(
            f"{option} {text!r}: no UTC offset; give one, e.g. {text}-05:00 or {text}Z"
        )
    return value


@wells_app.command("separator-test")
def wells_separator_test(
    field: FieldOpt,
    well: WellOpt,
    start: Annotated[str, typer.Option("--from", help="Test start, ISO 8601 with offset")],
    end: Annotated[str, typer.Option("--to", help="Test end, ISO 8601 with offset")],
    tested_by: Annotated[str, typer.Option(help="Who ran the test")],
    oil_series: Annotated[
        str | None, typer.Option(help="Oil rate series code (default: the well's oil_rate)")
    ] = None,
    gas_series: Annotated[
        str | None, typer.Option(help="Gas rate series code (default: the well's gas_rate)")
    ] = None,
    water_series: Annotated[
        str | None,
        typer.Option(help="Water rate series code (default: the well's water_rate)"),
    ] = None,
    bsw: Annotated[str | None, typer.Option(help="Lab BSW of the sample, %")] = None,
    replaces: Annotated[int | None, typer.Option(help="Id of the test this corrects")] = None,
    notes: Annotated[str, typer.Option(help="Notes")] = "",
    by: ByOpt = None,
) -> None:
    """Record a test from the test separator's rate series over [from, to) (stored telemetry)."""
    begins, ends = _instant("--from", start), _instant("--to", end)
    with open_database(get_settings()) as db, db.connect() as conn:
        added = add_separator_test(
            conn, field_code=field, well_code=well, start=begins, end=ends,
            tested_by=tested_by, entered_by=by or os_user(), oil_series=oil_series,
            gas_series=gas_series, water_series=water_series, bsw_pct=bsw, notes=notes,
            replaces=replaces,
        )  # fmt: skip
    t = added.test
    cover = "/".join(f"{added.coverage_pct[f]:.1f}" for f in ("oil", "gas", "water"))
    _done(
        f"separator test of {well} on {t.tested_on} ({t.duration_h} h: oil {t.oil_bbl_d} "
        f"bbl/d, gas {t.gas_kscf_d} kscf/d, water {t.water_bbl_d} bbl/d; coverage {cover} %)",
        added.entry,
    )


@wells_app.command("tests")
def wells_tests(
    field: FieldOpt,
    well: WellOpt,
    all_: Annotated[bool, typer.Option("--all", help="Include replaced tests")] = False,
) -> None:
    """A well's test history, oldest first."""
    with open_database(get_settings()) as db, db.connect() as conn:
        rows = well_test_history(conn, field_code=field, well_code=well, include_superseded=all_)
    table = terminal_table(
        ("id", "date", "h", "oil bbl/d", "gas kscf/d", "water bbl/d", "BSW %", "by", "source",
         "window"),
        right=("h", "oil bbl/d", "gas kscf/d", "water bbl/d", "BSW %"),
    )  # fmt: skip
    for t in rows:
        window = ""
        if t.window_start is not None and t.window_end is not None:
            window = f"{t.window_start.isoformat()} to {t.window_end.isoformat()}"
        table.add_row(
            str(t.id) + (f" → #{t.superseded_by}" if t.superseded_by else ""),
            str(t.tested_on), str(t.duration_h), str(t.oil_bbl_d), str(t.gas_kscf_d),
            str(t.water_bbl_d), "" if t.bsw_pct is None else str(t.bsw_pct), t.tested_by,
            t.source, window,
        )  # fmt: skip
    console.print(table)


@wells_app.command("downtime")
def wells_downtime(
    field: FieldOpt,
    well: WellOpt,
    start: Annotated[dt.datetime, typer.Option("--from", formats=TIME_FORMATS, help="Start")],
    end: Annotated[dt.datetime, typer.Option("--to", formats=TIME_FORMATS, help="End")],
    cause: Annotated[str, typer.Option(help="Cause code from the field's list")],
    comment: Annotated[str, typer.Option(help="What happened")] = "",
    replaces: Annotated[int | None, typer.Option(help="Id of the event this corrects")] = None,
    by: ByOpt = None,
) -> None:
    """Record a well down over a window (naive times: UTC) for a cause."""
    with open_database(get_settings()) as db, db.connect() as conn:
        result = add_downtime(
            conn, field_code=field, well_code=well, start=_utc(start), end=_utc(end),
            cause=cause, comment=comment, entered_by=by or os_user(), replaces=replaces,
        )  # fmt: skip
    _done(f"downtime of {well} ({cause})", result)


@wells_app.command("status")
def wells_status(
    field: FieldOpt,
    well: WellOpt,
    at: When,
    status: Annotated[str, typer.Option(help="producing, shut_in, workover, suspended, ...")],
    reason: Annotated[str, typer.Option(help="Why")] = "",
    by: ByOpt = None,
) -> None:
    """Log a change of a well's status (naive time: UTC)."""
    with open_database(get_settings()) as db, db.connect() as conn:
        result = add_status_change(
            conn, field_code=field, well_code=well, at=_utc(at), status=status,
            changed_by=by or os_user(), reason=reason,
        )  # fmt: skip
    _done(f"status of {well}: {status}", result)


@wells_app.command("hours")
def wells_hours(
    field: FieldOpt,
    well: WellOpt,
    day: DayOpt,
    hours: Annotated[str, typer.Option(help="Hours on production of the day")],
    reason: Annotated[str, typer.Option(help="Why it is typed by hand")],
    by: ByOpt = None,
) -> None:
    """Type a well's hours on production for a day (replaces telemetry); recomputes the day."""
    with open_database(get_settings()) as db, db.connect() as conn:
        added = add_entry(
            conn, field_code=field, day=day.date(), kind="well_hours_on", value=hours,
            well_code=well, entered_by=by or os_user(), reason=reason,
        )  # fmt: skip
    console.print(
        f"manual entry #{added.entry.id}: {well} {added.entry.value:.2f} h on {day.date()}"
    )


@wells_app.command("day")
def wells_day(field: FieldOpt, day: DayOpt) -> None:
    """The day's allocation table: per well hours, test, volumes, factor, deferred, findings."""
    with open_database(get_settings()) as db, db.connect() as conn:
        config = load_field(conn, field)
        if not well_records.load_well_days(conn, config.id, day.date()):
            raise CliInputError(
                f"no well allocation stored for {field} on {day.date()}: the day has not been "
                f"computed (`production compute --field {field} --day {day.date()}`) or its "
                "field has no wells"
            )
        console.print(allocation_table(conn, config.id, day.date()))


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _hours(value: object) -> str:
    """Hours at 0.01 h, as the report signs them (a day typed as 24 shows 24.00)."""
    return "" if value is None else f"{Decimal(str(value)):.2f}"


def allocation_table(conn: psycopg.Connection[Any], field_id: int, day: dt.date) -> Group:
    """The stored allocation of a field's day as two tables (also printed by ``make demo``):
    the allocation, then each well's ratios, downtime, virtual meter and findings, so that
    each fits an 80-column terminal.

    The virtual meter: each well's virtual liquid (oil + water from its pump speed,
    docs/allocation.md "Virtual meter") and its oil share; the caption compares Σ virtual with
    each production PMO.
    """
    rows = well_records.load_well_days(conn, field_id, day)
    virtual = well_records.load_virtual_days(conn, field_id, day)
    allocated = _table(
        f"allocation {day}",
        ("status", "h on", "test", "age d", "oil bbl", "gas kscf", "water bbl", "factor oil"),
    )
    details = _table(
        f"wells {day}: ratios, downtime, virtual meter",
        ("BSW %", "GOR", "down h", "deferred oil", "virtual liquid", "virtual oil", "findings"),
    )
    for code, d in rows.items():
        v = virtual.get(code, {})
        meter = v.get("virtual_meter") or {}
        allocated.add_row(
            code, d["status"], _hours(d["hours_on"]), _text(d["test_date"]),
            _text(d["test_age_days"]), _text(d["oil_bbl"]), _text(d["gas_kscf"]),
            _text(d["water_bbl"]), _text(d["factors"].get("oil")),
        )  # fmt: skip
        details.add_row(
            code, _text(d["bsw_pct"]), _text(d["gor_scf_bbl"]),
            _hours(d["hours_down"]) if d["hours_down"] else "", _text(d["deferred_oil_bbl"]),
            _text(v.get("virtual_liquid_bbl")) or ("—" if meter else ""),
            _text(meter.get("oil_bbl")), ", ".join(sorted({f["code"] for f in d["findings"]})),
        )  # fmt: skip
    checks = well_records.load_virtual_checks(conn, field_id, day)
    details.caption = "\n".join(_check_line(c) for c in checks) or None
    return Group(allocated, details)


def _table(title: str, columns: tuple[str, ...]) -> Table:
    """A compact table (one space between columns) whose values are never cut: a figure too
    wide for the terminal folds onto a second line rather than ending in an ellipsis."""
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=0, pad_edge=False)
    table.add_column("well", no_wrap=True)
    for col in columns:
        table.add_column(col, overflow="fold", justify="left" if col == "findings" else "right")
    return table


def _check_line(c: dict[str, Any]) -> str:
    """One PMO's Σ virtual against its measured volume, as the table's caption shows it."""
    if c["virtual_total"] is None:
        return f"virtual meter {c['pmo']} ({c['fluid']}): not compared (see the findings)"
    verdict = "DIVERGES" if c["diverges"] else "within"
    return (
        f"virtual meter {c['pmo']} ({c['fluid']}): Σ virtual {c['virtual_total']} bbl vs "
        f"measured {c['measured']} bbl ({_text(c['deviation_pct']) or 'n/a'} %), {verdict} "
        f"±{c['band_pct']} %"
    )
