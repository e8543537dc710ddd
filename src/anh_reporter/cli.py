"""The ``anh-reporter`` command line."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from anh_reporter import __version__
from anh_reporter.analytics.cli import app as analytics_app
from anh_reporter.api import cli as api_cli
from anh_reporter.api.users import create_admin
from anh_reporter.backfill import backfill
from anh_reporter.config import Settings, get_settings
from anh_reporter.connectors.modbus import config as modbus_config
from anh_reporter.connectors.modbus.connector import ModbusConnector
from anh_reporter.connectors.mqtt import config as mqtt_config
from anh_reporter.connectors.mqtt.connector import SparkplugConnector
from anh_reporter.connectors.opcua import config as opcua_config
from anh_reporter.connectors.opcua.cli import app as opcua_app
from anh_reporter.connectors.opcua.connector import OpcUaConnector
from anh_reporter.domain.timeutil import from_us
from anh_reporter.errors import AnhError
from anh_reporter.ingest.csv_file import ingest_csv
from anh_reporter.ingest.quarantine import QuarantineRow
from anh_reporter.live import LiveIngest, demo_connectors
from anh_reporter.production.cli import app as production_app
from anh_reporter.production.cli import manual_app
from anh_reporter.reports.cli import app as report_app
from anh_reporter.simulator.faults import FaultKind
from anh_reporter.simulator.field import FieldPorts, SimulatedField, parse_fault
from anh_reporter.site import Site, load_site
from anh_reporter.storage import migrate, partitions
from anh_reporter.storage.database import Database, open_database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import SiteLoadSummary, load_site_into

app = typer.Typer(
    name="anh-reporter",
    help="ANH Smart Reporter: field telemetry to the signed ANH daily production report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database: migrations, status, partitions.", no_args_is_help=True)
site_app = typer.Typer(help="Site files: check and load.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(site_app, name="site")
app.add_typer(analytics_app, name="analytics")
app.add_typer(production_app, name="production")
app.add_typer(manual_app, name="manual")
app.add_typer(report_app, name="report")
app.add_typer(opcua_app, name="opcua")
app.command("serve")(api_cli.serve)
app.add_typer(api_cli.users_app, name="users")

console = Console()
err_console = Console(stderr=True)

DEFAULT_SITE = Path("examples/site.yaml")
MAX_MALFORMED_SHOWN = 20
DEMO_ADMIN = "admin@demo.local"
SiteFile = Annotated[Path, typer.Argument(help="Site file (YAML)")]


def main() -> None:
    """Entry point: run the app; a known error is one readable line, never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("asyncua", "pymodbus", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        app()
    except AnhError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except OSError as exc:  # a file or port problem: one line too
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


@app.command()
def demo(
    site_file: Annotated[Path, typer.Option("--site", help="Site file")] = DEFAULT_SITE,
    days: Annotated[float, typer.Option(min=0.01, max=400, help="Days of history")] = 7.0,
    seed: Annotated[int, typer.Option(help="Seed of the signal generator")] = 42,
    live: Annotated[
        float, typer.Option(min=0, help="Seconds of live field data after the backfill (0: none)")
    ] = 90.0,
    api_port: Annotated[int, typer.Option(help="Serve the API here while live (0: no API)")] = 8000,
) -> None:
    """Backfill history, sign yesterday's report, then run the simulated field live.

    Starts the database (embedded by default), migrates, loads the site, backfills, signs
    yesterday's report; then serves the site over OPC UA, Modbus and MQTT, collects it with
    the connectors into the database, injects a few faults, serves the API, and prints a line
    of statistics every few seconds, for ``--live`` seconds (Ctrl-C stops earlier).
    """
    settings = get_settings()
    site = load_site(site_file)
    with open_database(settings) as db:
        where = "embedded PostgreSQL" if db.embedded else db.display_url
        console.print(f"[bold]database[/]: {where}")
        migrate.upgrade(db, storage=settings.storage)
        with db.connect() as conn:
            partitions.premake(conn, dt.datetime.now(dt.UTC), settings.storage.partitions_ahead)
            summary = load_site_into(conn, site, changed_by=_user(), reason="demo site load")
        _print_site_summary(site_file, summary)
        password = create_admin(db, DEMO_ADMIN, operator_nit=site.operator.nit)
        console.print(f"[bold]API admin[/]: {DEMO_ADMIN} / {password}  (new password each run)")
        end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        with db.connect() as conn, _progress() as progress:
            task = progress.add_task(f"backfilling {days:g} days", total=None)
            result = backfill(
                conn,
                site,
                end=end,
                days=days,
                seed=seed,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
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
        _demo_report(db, site.fields[0].code)
        if live > 0:
            asyncio.run(_demo_live(db, settings, site, seconds=live, seed=seed, api_port=api_port))


async def _demo_live(
    db: Database, settings: Settings, site: Site, *, seconds: float, seed: int, api_port: int
) -> None:
    """The live part of the demo: simulated field, connectors, writer, API, faults, statistics."""
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
        api_server = await _start_api(db, settings, ingest, api_port)
        faults = _demo_faults(site)
        started = time.monotonic()
        next_line = 5.0
        console.print(f"[bold]live[/] for {seconds:g} s (Ctrl-C stops); faults at 40 s and 50 s")
        while (elapsed := time.monotonic() - started) < seconds:
            while faults and faults[0][0] <= elapsed:
                _, kind, code, length, magnitude = faults.pop(0)
                field.inject_now(kind, code, length, magnitude)
                console.print(f"  [yellow]fault[/] {kind.value} on {code} for {length:g} s")
            if elapsed >= next_line:
                anomalies = await asyncio.to_thread(ingest.count_anomalies)
                console.print("  " + ingest.stats(anomalies).line(), highlight=False)
                next_line += 5.0
            await asyncio.sleep(0.5)
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


async def _start_api(db: Database, settings: Settings, ingest: LiveIngest, port: int) -> Any:
    """Serve the API in this process while the demo runs (None when the port is taken)."""
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
    console.print(f"  API      http://127.0.0.1:{port}/api/docs  (WebSocket /ws/telemetry/{{id}})")
    return server


def _demo_report(db: Database, field_code: str) -> None:
    """Generate and sign yesterday's report for the demo field and say where it is."""
    from anh_reporter.reports.service import ReportBlocked, demo_report

    try:
        report = demo_report(db, field_code)
    except ReportBlocked as exc:  # e.g. too little history for yesterday's contract day
        console.print(f"[yellow]report not signed:[/] {exc}")
        return
    console.print(report.summary())
    console.print(f"[bold]signed report[/]: {report.path}")


@app.command()
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
        with _progress() as progress:
            task = progress.add_task(f"ingesting {path.name}", total=path.stat().st_size)
            stats = asyncio.run(
                ingest_csv(
                    db,
                    path,
                    settings.ingest,
                    timezone=timezone,
                    on_malformed=malformed,
                    on_progress=lambda done: progress.update(task, completed=done),
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


@app.command()
def simulate(
    site_file: Annotated[Path, typer.Option("--site", help="Site file")] = DEFAULT_SITE,
    seed: Annotated[int, typer.Option(help="Seed of the signal generator")] = 42,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    opcua_port: Annotated[int, typer.Option(help="OPC UA port")] = 4840,
    modbus_port: Annotated[int, typer.Option(help="Modbus TCP port")] = 5020,
    mqtt: Annotated[
        str, typer.Option(help="MQTT broker HOST:PORT for the Sparkplug B edge node, or 'none'")
    ] = "127.0.0.1:1883",
    fault: Annotated[
        list[str] | None,
        typer.Option(help="Inject KIND:SERIES:SECONDS[:MAGNITUDE] at start (repeatable)"),
    ] = None,
    secure: Annotated[
        bool, typer.Option(help="Also offer Basic256Sha256 Sign / SignAndEncrypt on OPC UA")
    ] = False,
    seconds: Annotated[float, typer.Option(min=0, help="Stop after this long (0: Ctrl-C)")] = 0,
) -> None:
    """Serve a site as a simulated field over OPC UA, Modbus TCP and MQTT Sparkplug B.

    Series keys follow the site file's order (the ids a freshly loaded database gives them),
    so values continue what ``demo`` backfilled. Faults can also be injected at run time with
    the OPC UA methods under Objects/Simulator (InjectFault, ClearFaults, Outage).
    """
    settings = get_settings()
    site = load_site(site_file)
    specs = [parse_fault(f) for f in fault or []]
    mqtt_host, mqtt_port = _host_port(mqtt)
    ports = FieldPorts(host, opcua_port, modbus_port, mqtt_host, mqtt_port)
    field = SimulatedField(
        site, ports=ports, seed=seed, data_dir=settings.data_dir / "simulator", secure=secure
    )

    async def run() -> None:
        await field.start()
        try:
            for kind, code, length, magnitude in specs:
                field.inject_now(kind, code, length, magnitude)
                console.print(f"  [yellow]fault[/] {kind.value} on {code} for {length:g} s")
            for line in field.describe():
                console.print(f"  {line}", highlight=False)
            map_file = settings.data_dir / "simulator" / "modbus-register-map.md"
            map_file.parent.mkdir(parents=True, exist_ok=True)
            map_file.write_text(field.modbus.map.to_markdown(), encoding="utf-8")
            console.print(f"  Modbus register map: {map_file}", highlight=False)
            await _wait(seconds)
        finally:
            await field.stop()

    asyncio.run(run())


@app.command()
def collect(
    opcua: Annotated[Path | None, typer.Option(help="OPC UA tag map (YAML)")] = None,
    modbus: Annotated[Path | None, typer.Option(help="Modbus tag map (YAML)")] = None,
    mqtt: Annotated[Path | None, typer.Option(help="MQTT Sparkplug B tag map (YAML)")] = None,
    shard: Annotated[str, typer.Option(help="Field code the batches are published under")] = (
        "default"
    ),
    seconds: Annotated[float, typer.Option(min=0, help="Stop after this long (0: Ctrl-C)")] = 0,
) -> None:
    """The edge collector: run connectors; spool when the centre is unreachable.

    With ``ANH_REDIS_URL`` set, batches go to the Redis bus for the centre's writers; without
    it, this process also writes them into the database. The series catalogue is read from the
    database and cached in the data directory, so a restart works while the centre is down.
    """
    if not (opcua or modbus or mqtt):
        raise AnhError("give at least one tag map: --opcua, --modbus or --mqtt")
    settings = get_settings()
    configs = (
        (opcua, opcua_config.load_config),
        (modbus, modbus_config.load_config),
        (mqtt, mqtt_config.load_config),
    )
    loaded = [(loader(path), path) for path, loader in configs if path is not None]
    if settings.redis_url:
        ids, spans = _series_catalogue(settings, None)
        asyncio.run(_collect(None, settings, loaded, ids, spans, shard, seconds))
        return
    with open_database(settings) as db:
        migrate.upgrade(db, storage=settings.storage)
        ids, spans = _series_catalogue(settings, db)
        asyncio.run(_collect(db, settings, loaded, ids, spans, shard, seconds))


async def _collect(
    db: Database | None,
    settings: Settings,
    loaded: list[tuple[Any, Path]],
    ids: dict[str, int],
    spans: dict[str, float],
    shard: str,
    seconds: float,
) -> None:
    ingest = LiveIngest(db, settings)
    connectors: list[Any] = []
    for config, _ in loaded:
        if isinstance(config, opcua_config.OpcUaConfig):
            connectors.append(OpcUaConnector(config, ids, ingest.sink(shard)))
        elif isinstance(config, modbus_config.ModbusConfig):
            connectors.append(
                ModbusConnector(config, sink=ingest.sink(shard), series_ids=ids, spans=spans)
            )
        else:
            connectors.append(SparkplugConnector(config, ingest.sink(shard), ids, spans=spans))
    await ingest.start(connectors)
    where = "Redis bus" if settings.redis_url else "the database"
    console.print(f"collecting with {len(connectors)} connector(s) into {where}")
    try:
        started = time.monotonic()
        while seconds == 0 or time.monotonic() - started < seconds:
            await asyncio.sleep(
                min(5.0, max(seconds - (time.monotonic() - started), 0.1)) if seconds else 5.0
            )
            console.print(
                "  " + ingest.stats(await asyncio.to_thread(ingest.count_anomalies)).line(),
                highlight=False,
            )
    finally:
        await ingest.stop()


def _series_catalogue(
    settings: Settings, db: Database | None
) -> tuple[dict[str, int], dict[str, float]]:
    """Series ids and spans by code: from the database, else the cached copy."""
    cache = settings.data_dir / "series-catalogue.json"
    if db is None and settings.database_url is None and cache.exists():
        data = orjson.loads(cache.read_bytes())
        return data["ids"], data["spans"]
    try:
        if db is None:
            with open_database(settings) as own:
                return _series_catalogue(settings, own)
        with db.connect() as conn:
            rows = list_series(conn)
    except AnhError:
        if cache.exists():
            data = orjson.loads(cache.read_bytes())
            return data["ids"], data["spans"]
        raise
    ids = {r.code: r.id for r in rows}
    spans = {r.code: r.range_hi - r.range_lo for r in rows}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(orjson.dumps({"ids": ids, "spans": spans}))
    return ids, spans


def _host_port(text: str) -> tuple[str | None, int]:
    if text.lower() == "none":
        return None, 0
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise AnhError(f"--mqtt {text!r}: expected HOST:PORT or 'none'")
    return host, int(port)


async def _wait(seconds: float) -> None:
    if seconds:
        await asyncio.sleep(seconds)
    else:
        await asyncio.Event().wait()


@app.command()
def scheduler() -> None:
    """Run the scheduled jobs (daily reports, late data, partitions, anomaly models).

    Several instances may run: one leads (a PostgreSQL advisory lock), the others wait.
    """
    import threading

    from anh_reporter.scheduler import run_scheduler
    from anh_reporter.scheduler.jobs import JOBS

    settings = get_settings()
    stop = threading.Event()
    with open_database(settings) as db:
        migrate.upgrade(db, storage=settings.storage)
        for job in JOBS:
            console.print(f"  {job.id}: {job.description}", highlight=False)
        try:
            run_scheduler(db, settings, stop)
        except KeyboardInterrupt:
            stop.set()


@db_app.command("migrate")
def db_migrate(
    revision: Annotated[str, typer.Option(help="Target revision")] = "head",
) -> None:
    """Apply migrations and create the partitions ahead of time."""
    settings = get_settings()
    with open_database(settings) as db:
        migrate.upgrade(db, revision, storage=settings.storage)
        with db.connect() as conn:
            made = partitions.premake(
                conn, dt.datetime.now(dt.UTC), settings.storage.partitions_ahead
            )
        console.print(
            f"migrated to [bold]{migrate.current_revision(db)}[/]; "
            f"{len(made)} partition(s) created ahead"
        )


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision ('base' drops everything)")],
) -> None:
    """Migrate down to a revision."""
    settings = get_settings()
    with open_database(settings) as db:
        migrate.downgrade(db, revision, storage=settings.storage)
        console.print(f"now at revision {migrate.current_revision(db) or 'base (empty)'}")


@db_app.command("status")
def db_status() -> None:
    """Show the server, the schema revision and the size of the main tables."""
    settings = get_settings()
    with open_database(settings) as db:
        _print_status(db)


@db_app.command("partitions")
def db_partitions(
    drop_expired: Annotated[
        bool, typer.Option(help="Drop partitions older than the retention period")
    ] = False,
    ahead: Annotated[int | None, typer.Option(min=0, help="Weeks to create ahead")] = None,
) -> None:
    """List telemetry partitions; create ahead and drop expired ones."""
    settings = get_settings()
    now = dt.datetime.now(dt.UTC)
    with open_database(settings) as db, db.connect() as conn:
        if not partitions.is_native(conn):
            console.print(
                "telemetry is a TimescaleDB hypertable: chunks and retention are "
                "managed by TimescaleDB policies"
            )
            return
        made = partitions.premake(
            conn, now, settings.storage.partitions_ahead if ahead is None else ahead
        )
        dropped = (
            partitions.drop_expired(conn, now, settings.storage.retention_years)
            if drop_expired
            else []
        )
        table = Table(show_edge=False)
        for col in ("partition", "from", "to", "rows (est.)", "size"):
            table.add_column(col)
        for p in partitions.list_partitions(conn):
            table.add_row(
                p.name,
                f"{p.start:%Y-%m-%d}",
                f"{p.end:%Y-%m-%d}",
                f"{p.rows_estimate:,}",
                _size(p.bytes),
            )
        console.print(table)
        cutoff = partitions.retention_cutoff(now, settings.storage.retention_years)
        console.print(
            f"created {len(made)}, dropped {len(dropped)}"
            f"{' (' + ', '.join(dropped) + ')' if dropped else ''}; retention "
            f"{settings.storage.retention_years} years (cutoff {cutoff:%Y-%m-%d})"
        )


@site_app.command("check")
def site_check(path: SiteFile) -> None:
    """Validate a site file without touching the database."""
    site = load_site(path)
    n_pmo = sum(len(f.pmos) for f in site.fields)
    n_well = sum(len(f.wells) for f in site.fields)
    console.print(
        f"{path}: valid — operator {site.operator.name} ({site.operator.nit}), "
        f"{len(site.fields)} field(s), {n_pmo} PMO(s), {n_well} well(s), "
        f"{len(site.series_codes())} series"
    )


@site_app.command("load")
def site_load(
    path: SiteFile,
    by: Annotated[str | None, typer.Option(help="Who makes the change (default: OS user)")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the configuration log)")] = None,
) -> None:
    """Upsert a site into the database; configuration changes go to the configuration log."""
    site = load_site(path)
    settings = get_settings()
    with open_database(settings) as db:
        migrate.upgrade(db, storage=settings.storage)
        with db.connect() as conn:
            summary = load_site_into(conn, site, changed_by=by or _user(), reason=reason)
    _print_site_summary(path, summary)


def _print_site_summary(path: Path, summary: SiteLoadSummary) -> None:
    created = ", ".join(f"{n} {t}" for t, n in summary.created.items()) or "nothing"
    updated = ", ".join(f"{n} {t}" for t, n in summary.updated.items()) or "nothing"
    entries = "entry" if summary.config_changes == 1 else "entries"
    console.print(
        f"site {path}: created {created}; updated {updated}; "
        f"{summary.config_changes} configuration log {entries}"
    )


def _print_status(db: Database) -> None:
    with db.connect() as conn:
        version = conn.execute("SHOW server_version").fetchone()
        native = partitions.is_native(conn)
        counts = {}
        if native or migrate.current_revision(db):
            for table in ("series", "telemetry", "telemetry_hourly", "quarantine", "config_log"):
                row = conn.execute(
                    "SELECT CASE WHEN to_regclass(%s) IS NULL THEN NULL ELSE "
                    "(SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_class c "
                    " WHERE c.oid = to_regclass(%s) OR c.oid IN "
                    " (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(%s))) END",
                    (table, table, table),
                ).fetchone()
                counts[table] = row[0] if row else None
        parts = partitions.list_partitions(conn) if native else []
    current, head = migrate.current_revision(db), migrate.head_revision()
    console.print(
        f"server: PostgreSQL {version[0] if version else '?'} "
        f"({'embedded' if db.embedded else db.display_url})"
    )
    state = "up to date" if current == head else f"behind (head is {head})"
    console.print(f"schema: revision {current or 'none'} — {state}")
    console.print(
        f"telemetry: {'native weekly partitions' if native else 'TimescaleDB or absent'}"
        f", {len(parts)} partition(s)"
    )
    for table, n in counts.items():
        console.print(f"  {table}: ~{n:,} rows" if n is not None and n >= 0 else f"  {table}: -")


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n //= 1024
    return f"{n} TB"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
