"""``anh-reporter demo``: private database, demo field, its history, a signed report, live data.

It composes the packages below into one process: the simulated field (OPC UA, Modbus TCP,
MQTT), the connectors, the writer with the online analytics, and the API.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from anh_reporter.api.accounts import create_admin
from anh_reporter.config import Settings, get_settings
from anh_reporter.domain.timeutil import from_us
from anh_reporter.errors import ConfigError
from anh_reporter.runtime.demo_wells import print_allocation, seed_wells
from anh_reporter.runtime.live import LiveIngest, demo_connectors
from anh_reporter.simulator.backfill import backfill
from anh_reporter.simulator.faults import FaultKind
from anh_reporter.simulator.field import FieldPorts, SimulatedField
from anh_reporter.site import Site, load_site
from anh_reporter.storage import migrate, partitions
from anh_reporter.storage.cli import print_site_summary
from anh_reporter.storage.database import Database, open_database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.terminal import console, os_user, progress

DEFAULT_SITE = Path("examples/site.yaml")
DEMO_ADMIN = "admin@demo.local"


def demo(
    site_file: Annotated[Path, typer.Option("--site", help="Site file")] = DEFAULT_SITE,
    days: Annotated[float, typer.Option(min=0.01, max=400, help="Days of history")] = 7.0,
    seed: Annotated[int, typer.Option(help="Seed of the signal generator")] = 42,
    live: Annotated[
        float | None,
        typer.Option(
            min=0, help="Seconds of live field data (default: until Ctrl-C; 0: none, no server)"
        ),
    ] = None,
    api_port: Annotated[
        int, typer.Option(help="Serve the UI and the API here while live (0: none)")
    ] = 8000,
) -> None:
    """Backfill history, sign yesterday's report, then run the simulated field live.

    Starts the database (embedded by default), migrates, loads the site, backfills, signs
    yesterday's report; then serves the site over OPC UA, Modbus and MQTT, collects it with
    the connectors into the database, injects a few faults, serves the web UI and the API
    (printing the URL and the admin password), and prints a line of statistics every few
    seconds, until Ctrl-C (or for ``--live`` seconds).
    """
    settings = get_settings()
    if site_file == DEFAULT_SITE and not site_file.exists():
        raise ConfigError(
            f"{site_file}: the demo's site file is in the project's folder (run the demo from "
            "there, as `make demo` does) or give one with --site PATH"
        )
    site = load_site(site_file)
    with open_database(settings) as db:
        where = "embedded PostgreSQL" if db.embedded else db.display_url
        console.print(f"[bold]database[/]: {where}")
        migrate.upgrade(db, storage=settings.storage)
        with db.connect() as conn:
            partitions.premake(conn, dt.datetime.now(dt.UTC), settings.storage.partitions_ahead)
            summary = load_site_into(conn, site, changed_by=os_user(), reason="demo site load")
        print_site_summary(site_file, summary)
        password = create_admin(db, DEMO_ADMIN, operator_nit=site.operator.nit)
        console.print(f"[bold]API admin[/]: {DEMO_ADMIN} / {password}  (new password each run)")
        end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        with db.connect() as conn, progress() as bar:
            task = bar.add_task(f"backfilling {days:g} days", total=None)
            result = backfill(
                conn,
                site,
                end=end,
                days=days,
                seed=seed,
                on_progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
            conn.execute("ANALYZE telemetry")
        table = Table(title=f"History up to {end:%Y-%m-%d %H:%M} UTC", show_edge=False)
        for col in ("series", "rows written", "from", "to"):
            table.add_column(col, justify="right" if col == "rows written" else "left")
        for s in result.series:
            span = (
                (f"{from_us(s.first_us):%m-%d %H:%M}", f"{from_us(s.last_us):%m-%d %H:%M}")
                if s.first_us is not None and s.last_us is not None
                else ("-", "-")
            )
            table.add_row(s.code.split(".", 1)[-1], f"{s.rows:,}", *span)
        console.print(table)
        console.print(
            f"[bold green]{result.rows:,}[/] readings for {len(result.series)} series in "
            f"{result.seconds:.1f} s ({result.rate:,.0f} readings/s); "
            + ("already up to date." if result.rows == 0 else "binary COPY, rollups updated.")
        )
        wells_day = seed_wells(db, site.fields[0])
        _demo_report(db, site.fields[0].code)
        if wells_day is not None:
            print_allocation(db, site.fields[0].code, wells_day)
        if live is None or live > 0:
            login = f"{DEMO_ADMIN} / {password}"
            asyncio.run(
                _demo_live(
                    db, settings, site, seconds=live, seed=seed, api_port=api_port, login=login
                )
            )


async def _demo_live(
    db: Database,
    settings: Settings,
    site: Site,
    *,
    seconds: float | None,
    seed: int,
    api_port: int,
    login: str = "",
) -> None:
    """The live part of the demo: simulated field, connectors, writer, UI and API, faults,
    statistics; for ``seconds`` (None: until Ctrl-C, which ends it cleanly)."""
    with db.connect() as conn:
        rows = list_series(conn)
    ids = {r.code: r.id for r in rows}
    field = SimulatedField(
        site,
        ports=FieldPorts(opcua=0, modbus=0),
        seed=seed,
        keys=ids,
        data_dir=settings.data_dir / "simulator",
        opcua_period_s=1.0,
    )
    await field.start()
    ingest = LiveIngest(db, settings)
    api_server = None
    try:
        await ingest.start(demo_connectors(field, site, rows, ingest))
        for line in field.describe():
            console.print(f"  {line}", highlight=False)
        api_server = await _start_api(db, settings, ingest, api_port, login)
        faults = _demo_faults(site)
        started = time.monotonic()
        next_line = 5.0
        span = "until Ctrl-C" if seconds is None else f"for {seconds:g} s (Ctrl-C stops)"
        console.print(f"[bold]live[/] {span}; faults at 40 s and 50 s")
        while seconds is None or (time.monotonic() - started) < seconds:
            elapsed = time.monotonic() - started
            while faults and faults[0][0] <= elapsed:
                _, kind, code, length, magnitude = faults.pop(0)
                field.inject_now(kind, code, length, magnitude)
                console.print(f"  [yellow]fault[/] {kind.value} on {code} for {length:g} s")
            if elapsed >= next_line:
                anomalies = await asyncio.to_thread(ingest.count_anomalies)
                console.print("  " + ingest.stats(anomalies).line(), highlight=False)
                next_line += 5.0
            await asyncio.sleep(0.5)
    except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels us; stop cleanly below
        console.print("[bold]stopping[/] (Ctrl-C)")
    finally:
        if api_server is not None:
            api_server.should_exit = True
            await asyncio.sleep(0.3)
        await ingest.stop()
        await field.stop()
    final = ingest.stats(await asyncio.to_thread(ingest.count_anomalies))
    console.print("[bold green]live done[/]: " + final.line(), highlight=False)


def _demo_faults(site: Site) -> list[tuple[float, FaultKind, str, float, float]]:
    """A spike on the oil rate and a stuck meter temperature: what the analytics should catch.

    They come after 40 s of 1-second samples, so the online rules have a baseline.
    """
    field = site.fields[0]
    oil = next(p for p in field.pmos if p.kind == "oil")
    return [
        (40.0, FaultKind.SPIKE, f"{field.code}.{oil.code}.oil_rate", 10.0, 0.8),
        (50.0, FaultKind.STUCK, f"{field.code}.{oil.code}.meter_temperature", 600.0, 0.0),
    ]


async def _start_api(
    db: Database, settings: Settings, ingest: LiveIngest, port: int, login: str = ""
) -> Any:
    """Serve the UI and the API in this process while the demo runs (None when the port is
    taken)."""
    if port == 0:
        return None
    import socket

    import uvicorn

    from anh_reporter.api.app import create_app

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            console.print(f"  [yellow]API not started[/]: port {port} is taken (--api-port)")
            return None
    app_ = create_app(settings, db, ingest.bus)
    server = uvicorn.Server(
        uvicorn.Config(app_, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    asyncio.get_running_loop().create_task(server.serve())
    console.print(
        f"  API      http://127.0.0.1:{port}/api/v1  (OpenAPI /api/openapi.json; "
        f"WebSocket /ws/telemetry/{{id}})"
    )
    console.print(f"[bold]UI[/]       http://127.0.0.1:{port}/  log in as {login}", highlight=False)
    return server


def _demo_report(db: Database, field_code: str) -> None:
    """Generate and sign yesterday's report for the demo field and say where it is."""
    from anh_reporter.reports.errors import ReportBlocked
    from anh_reporter.reports.service import demo_report

    try:
        report = demo_report(db, field_code)
    except ReportBlocked as exc:  # e.g. too little history for yesterday's contract day
        console.print(f"[yellow]report not signed:[/] {exc}")
        return
    console.print(report.summary())
    console.print(f"[bold]signed report[/]: {report.path}")
