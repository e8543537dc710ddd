"""The ``anh-reporter`` command line: a router that imports a command's module only to run it.

``anh-reporter --help`` lists the commands from :data:`COMMANDS` without importing any of them
(not even Typer), so it starts in a fraction of a second; FastAPI, uvicorn, alembic,
scikit-learn and the protocol libraries load only in the commands that use them. Each entry
names the object (a Typer app, or a function that becomes a single command) and its one-line
help, which a test keeps equal to the command's own.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from typing import Any

from anh_reporter import __version__
from anh_reporter.errors import AnhError

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "anh_reporter.runtime.demo:demo",
        "Backfill history, sign yesterday's report, then run the simulated field live.",
    ),
    "db": ("anh_reporter.storage.cli:db_app", "Database: migrations, status, partitions."),
    "site": ("anh_reporter.storage.cli:site_app", "Site files: check and load."),
    "backup": (
        "anh_reporter.storage.backup_cli:backup_app",
        "Backups: pg_basebackup with its WAL; restore to a point in time.",
    ),
    "ingest": (
        "anh_reporter.ingest.cli:ingest",
        "Load a CSV file of readings; bad lines and readings go to quarantine, the run goes on.",
    ),
    "simulate": (
        "anh_reporter.simulator.cli:simulate",
        "Serve a site as a simulated field over OPC UA, Modbus TCP and MQTT Sparkplug B.",
    ),
    "collect": (
        "anh_reporter.runtime.collect:collect",
        "The edge collector: run connectors; spool when the centre is unreachable.",
    ),
    "worker": (
        "anh_reporter.runtime.worker:worker",
        "The ingest worker: Redis Streams consumer group -> PostgreSQL; run one per replica.",
    ),
    "opcua": ("anh_reporter.simulator.cli:opcua_app", "OPC UA: browse, tag map, certificates."),
    "production": ("anh_reporter.production.cli:app", "Daily production per PMO (API MPMS)."),
    "manual": (
        "anh_reporter.production.manual_cli:manual_app",
        "Manual entries: lab BSW and API gravity, tank gauging, Tipo B volumes, well tests, "
        "the field's oil consumption and losses.",
    ),
    "wells": (
        "anh_reporter.production.wells_cli:wells_app",
        "Wells: tests, downtime, status changes, hours on, and the day's allocation table.",
    ),
    "proving": (
        "anh_reporter.production.manual_cli:proving_app",
        "Meter provings: the meter factor from the day it takes effect.",
    ),
    "report": (
        "anh_reporter.reports.cli:app",
        "Daily production report (IDP): generate, sign, verify, submit, amend, audit.",
    ),
    "analytics": (
        "anh_reporter.analytics.cli:app",
        "Analytics: anomaly models, SPC, production forecasts.",
    ),
    "serve": (
        "anh_reporter.api.cli:serve",
        "Serve the API (and its WebSocket) with uvicorn until interrupted.",
    ),
    "users": ("anh_reporter.api.cli:users_app", "Users of the API."),
    "security": (
        "anh_reporter.security.cli:app",
        "Security: IEC 62443-3-3 assessment, key-encryption key, signing keys.",
    ),
    "scheduler": (
        "anh_reporter.scheduler.cli:scheduler",
        "Run the scheduled jobs (daily reports, late data, partitions, anomaly models).",
    ),
}


def load_command(name: str) -> Any:
    """Import the module behind ``name`` and turn its Typer app or function into a command."""
    import typer
    import typer.main

    target, _ = COMMANDS[name]
    module_name, _, attribute = target.partition(":")
    obj: Any = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(obj, typer.Typer):
        single = typer.Typer(add_completion=False)
        single.command(name)(obj)
        obj = single
    return typer.main.get_command(obj)


def help_text() -> str:
    """The top-level help: usage and the command table, from :data:`COMMANDS` alone."""
    width = max(len(name) for name in COMMANDS)
    rows = [f"  {name.ljust(width)}  {line}" for name, (_, line) in COMMANDS.items()]
    rows.append(f"  {'version'.ljust(width)}  Print the version.")
    return (
        "Usage: anh-reporter COMMAND [ARGS]...\n\n"
        "  ANH Smart Reporter: field telemetry to the signed ANH daily production report.\n\n"
        "Commands:\n" + "\n".join(rows) + "\n\n"
        "Run `anh-reporter COMMAND --help` for a command's options.\n"
    )


def _setup_observability(command: str) -> None:
    """Log lines (text, or JSON with ``ANH_LOG__FORMAT=json``); traces when configured.

    Without tracing settings the OpenTelemetry SDK is not even imported.
    """
    from anh_reporter.observability import logs, tracing

    logs.setup_logging()
    if tracing.requested():
        from anh_reporter.config import get_settings

        otel = get_settings().otel
        tracing.setup_tracing(
            f"anh-reporter-{command}",
            endpoint=otel.endpoint,
            service_name=otel.service_name,
            sample_ratio=otel.sample_ratio,
        )


def main(argv: list[str] | None = None) -> None:
    """Entry point: run a command; a known error is one readable line, never a traceback."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(help_text())
        sys.exit(0 if args else 2)
    name = args[0]
    if name in ("version", "--version"):
        sys.stdout.write(__version__ + "\n")
        return
    if name not in COMMANDS:
        close = difflib.get_close_matches(name, [*COMMANDS, "version"], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        sys.stderr.write(f"error: no such command {name!r}{hint}; see `anh-reporter --help`\n")
        sys.exit(2)
    try:
        _setup_observability(name)
        command = load_command(name)
        command.main(args=args[1:], prog_name=f"anh-reporter {name}", standalone_mode=True)
    except (AnhError, OSError) as exc:  # a known problem, or a file or port problem: one line
        from anh_reporter.terminal import err_console

        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
