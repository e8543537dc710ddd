"""``anh-reporter db`` (migrations, status, partitions) and ``anh-reporter site`` (check, load)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer

from anh_reporter.config import get_settings
from anh_reporter.site import load_site
from anh_reporter.storage import migrate, partitions, roles
from anh_reporter.storage.database import Database, open_database
from anh_reporter.storage.site_repo import SiteLoadSummary, load_site_into
from anh_reporter.storage.site_topology import check_site
from anh_reporter.terminal import console, human_size, os_user, progress
from anh_reporter.terminal import table as terminal_table

db_app = typer.Typer(
    help="Database: migrations, status, partitions.", no_args_is_help=True, add_completion=False
)
site_app = typer.Typer(
    help="Site files: check and load.", no_args_is_help=True, add_completion=False
)
SiteFile = Annotated[Path, typer.Argument(help="Site file (YAML)")]


@db_app.command("migrate")
def db_migrate(
    revision: Annotated[str, typer.Option(help="Target revision")] = "head",
) -> None:
    """Apply migrations (as the owner role) and create the partitions ahead of time."""
    settings = get_settings()
    with open_database(settings, owner=True) as db:
        migrate.upgrade(db, revision, storage=settings.storage)
        with db.connect() as conn:
            made = partitions.premake(
                conn, dt.datetime.now(dt.UTC), settings.storage.partitions_ahead
            )
            granted = (
                roles.apply_app_role(conn, settings.database_app_role)
                if settings.database_app_role
                else None
            )
        console.print(
            f"migrated to [bold]{migrate.current_revision(db)}[/]; "
            f"{len(made)} partition(s) created ahead"
        )
        if granted is not None:
            _print_roles(granted)


@db_app.command("roles")
def db_roles(
    app_role: Annotated[
        str | None,
        typer.Option(help="The application's role (default: ANH_DATABASE_APP_ROLE)"),
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(help="Set the role's password from this file (first line)"),
    ] = None,
) -> None:
    """Create the application role (owns nothing; logs insert-only) and grant it; idempotent.

    Run it as the owner role (ANH_DATABASE_OWNER_URL) after `db migrate`.
    """
    settings = get_settings()
    role = app_role or settings.database_app_role
    if not role:
        raise typer.BadParameter("give --app-role or set ANH_DATABASE_APP_ROLE")
    password = (
        password_file.read_text(encoding="utf-8").splitlines()[0].strip() if password_file else None
    )
    with open_database(settings, owner=True) as db, db.connect() as conn:
        _print_roles(roles.apply_app_role(conn, role, password=password))


def _print_roles(report: roles.RoleReport) -> None:
    console.print(
        f"role [bold]{report.role}[/] {'created' if report.created else 'exists'}: "
        f"read/write on {report.tables} table(s), no TRUNCATE, owns nothing; "
        f"insert-only: {', '.join(report.insert_only) or '-'}; "
        f"partition function: {'yes' if report.partition_function else 'no'}"
    )


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision ('base' drops everything)")],
) -> None:
    """Migrate down to a revision."""
    settings = get_settings()
    with open_database(settings, owner=True) as db:
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
    with open_database(settings, owner=True) as db, db.connect() as conn:
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
        table = terminal_table(
            ("partition", "from", "to", "rows (est.)", "size"), right=("rows (est.)", "size")
        )
        for p in partitions.list_partitions(conn):
            table.add_row(
                p.name,
                f"{p.start:%Y-%m-%d}",
                f"{p.end:%Y-%m-%d}",
                f"{p.rows_estimate:,}",
                human_size(p.bytes),
            )
        console.print(table)
        cutoff = partitions.retention_cutoff(now, settings.storage.retention_years)
        console.print(
            f"created {len(made)}, dropped {len(dropped)}"
            f"{' (' + ', '.join(dropped) + ')' if dropped else ''}; retention "
            f"{settings.storage.retention_years} years (cutoff {cutoff:%Y-%m-%d})"
        )


@db_app.command("archive")
def db_archive(
    older_than: Annotated[
        int | None,
        typer.Option(
            "--older-than",
            min=1,
            help="Archive partitions that ended this many days ago "
            "(default: ANH_STORAGE__COLD_AFTER_DAYS)",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Only list what would be archived")] = False,
) -> None:
    """Move old telemetry partitions to Parquet files (rollups stay); reads stay transparent."""
    from anh_reporter.storage import cold  # pyarrow: loaded here

    settings = get_settings()
    days = older_than if older_than is not None else settings.storage.cold_after_days
    if days is None:
        raise typer.BadParameter(
            "give --older-than DAYS or set ANH_STORAGE__COLD_AFTER_DAYS", param_hint="--older-than"
        )
    with open_database(settings, owner=True) as db, db.connect() as conn:
        parts = cold.due(conn, dt.datetime.now(dt.UTC), days)
        if dry_run or not parts:
            for p in parts:
                console.print(
                    f"would archive {p.name} (~{p.rows_estimate:,} rows, {human_size(p.bytes)})"
                )
            console.print(f"{len(parts)} partition(s) ended more than {days} days ago")
            return
        done = []
        with progress() as bar:
            task = bar.add_task("archiving", total=sum(max(p.rows_estimate, 1) for p in parts))
            for p in parts:
                bar.update(task, description=f"archiving {p.name}")
                done.append(
                    cold.archive_partition(
                        conn, p, settings.cold_dir, on_rows=lambda n: bar.advance(task, n)
                    )
                )
        for a in done:
            console.print(
                f"{a.name}: {a.rows:,} readings, {human_size(a.pg_bytes)} in PostgreSQL -> "
                f"{human_size(a.file_bytes)} ({a.bytes_per_reading:.2f} B/reading) in {a.path}"
            )


@site_app.command("check")
def site_check(path: SiteFile) -> None:
    """Validate a site file (and each field's topology) without touching the database."""
    site = load_site(path)
    topologies = check_site(site, path)
    n_pmo = sum(len(f.pmos) for f in site.fields)
    n_well = sum(len(f.wells) for f in site.fields)
    n_facility = sum(len(f.facilities) for f in site.fields)
    console.print(
        f"{path}: valid — operator {site.operator.name} ({site.operator.nit}), "
        f"{len(site.fields)} field(s), {n_facility} facilit(ies), {n_pmo} PMO(s), "
        f"{n_well} well(s), {len(site.series_codes())} series; "
        f"{len(topologies)} field(s) allocated per well"
    )
    for code, topology in topologies.items():
        for warning in topology.warnings:
            console.print(f"  [yellow]note[/]: {code}: {warning}", highlight=False)


@site_app.command("load")
def site_load(
    path: SiteFile,
    by: Annotated[str | None, typer.Option(help="Who makes the change (default: OS user)")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the configuration log)")] = None,
    effective: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M%z"],
            help="When changed values take effect (default: now; naive times are UTC). Signed "
            "days from then on are flagged for amendment when their figures change.",
        ),
    ] = None,
) -> None:
    """Upsert a site into the database; configuration changes go to the configuration log."""
    site = load_site(path)
    check_site(site, path)
    settings = get_settings()
    when = None if effective is None else effective.replace(tzinfo=effective.tzinfo or dt.UTC)
    with open_database(settings) as db:
        migrate.upgrade(db, storage=settings.storage)
        with db.connect() as conn:
            summary = load_site_into(
                conn, site, changed_by=by or os_user(), reason=reason, effective_from=when
            )
    print_site_summary(path, summary)


def print_site_summary(path: Path, summary: SiteLoadSummary) -> None:
    created = ", ".join(f"{n} {t}" for t, n in summary.created.items()) or "nothing"
    updated = ", ".join(f"{n} {t}" for t, n in summary.updated.items()) or "nothing"
    entries = "entry" if summary.config_changes == 1 else "entries"
    console.print(
        f"site {path}: created {created}; updated {updated}; "
        f"{summary.config_changes} configuration log {entries}"
    )
    for note in summary.notes:
        console.print(f"  [yellow]note[/]: {note}", highlight=False)


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
        archived = _cold_summary(conn)
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
    if archived:
        weeks, rows, file_bytes, pg_bytes, first, last = archived
        console.print(
            f"cold storage: {weeks} archived week(s) {first:%Y-%m-%d} to {last:%Y-%m-%d}, "
            f"{rows:,} readings, {human_size(file_bytes)} of Parquet "
            f"(were {human_size(pg_bytes)} in PostgreSQL)"
        )


def _cold_summary(conn: psycopg.Connection[Any]) -> tuple[Any, ...] | None:
    row = conn.execute("SELECT to_regclass('cold_partitions') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    summary = conn.execute(
        "SELECT count(*), sum(rows), sum(file_bytes), sum(pg_bytes), min(range_start), "
        "max(range_end) FROM cold_partitions"
    ).fetchone()
    return tuple(summary) if summary and summary[0] else None
