"""Command line of the API: ``serve`` and ``users create-admin``."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from anh_reporter.api.accounts import create_admin
from anh_reporter.api.hsts import Hsts
from anh_reporter.api.lockout import unlock_sync
from anh_reporter.api.redact import install_log_redaction
from anh_reporter.config import Settings, get_settings
from anh_reporter.errors import AnhError, ConfigError
from anh_reporter.observability import multiprocess
from anh_reporter.observability.logs import json_requested
from anh_reporter.storage import migrate, partitions
from anh_reporter.storage.database import Database, open_database

users_app = typer.Typer(help="Users of the API.", no_args_is_help=True, add_completion=False)
console = Console()


def serve(
    host: Annotated[str | None, typer.Option(help="Address (default ANH_API__HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default ANH_API__PORT)")] = None,
    certfile: Annotated[
        Path | None, typer.Option(help="TLS certificate chain, PEM (default ANH_TLS__CERTFILE)")
    ] = None,
    keyfile: Annotated[
        Path | None, typer.Option(help="TLS private key, PEM (default ANH_TLS__KEYFILE)")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="API processes on the one port (uvicorn workers); more than 1 needs "
            "ANH_REDIS_URL and ANH_DATABASE_URL",
        ),
    ] = 1,
) -> None:
    """Serve the API (and its WebSocket) with uvicorn until interrupted.

    Without ``ANH_REDIS_URL`` the bus is in this process and so is the ingest writer: readings
    posted to the API are written here, and on SIGTERM or Ctrl-C everything accepted is
    written before it exits. With Redis they go to the streams, for ``anh-reporter worker``.
    """
    import uvicorn

    settings = get_settings()
    api = settings.api
    if workers < 1:
        raise ConfigError(f"--workers {workers}: must be at least 1 (one API process)")
    if workers > 1 and (why := _not_stateless(settings)) is not None:
        raise ConfigError(f"--workers {workers}: {why} (use --workers 1)")
    tls = settings.tls
    cert, key = certfile or tls.certfile, keyfile or tls.keyfile
    if (cert is None) != (key is None):
        raise ConfigError("TLS needs both --certfile and --keyfile")
    with open_database(settings) as db:
        migrate.upgrade(db, storage=settings.storage)
        with db.connect() as conn:
            partitions.premake(conn, dt.datetime.now(dt.UTC), settings.storage.partitions_ahead)
        where = "embedded PostgreSQL" if db.embedded else db.display_url
        if settings.redis_url:
            written = "posted readings go to Redis, for `anh-reporter worker`"
            if db.embedded:
                written += " (which cannot reach the embedded database: set ANH_DATABASE_URL)"
        else:
            written = "posted readings are written by this process"
        processes = f"; {workers} processes" if workers > 1 else ""
        console.print(
            f"[bold]API[/] on {'https' if cert else 'http'}://{host or api.host}:"
            f"{port or api.port}/api/v1 (OpenAPI: /api/openapi.json) (database: {where}; "
            f"{written}{processes})"
        )
        options: dict[str, Any] = {
            "host": host or api.host,
            "port": port or api.port,
            "ssl_certfile": cert,
            "ssl_keyfile": key,
            # Only these proxies' X-Forwarded-For/-Proto are believed (client address, https).
            "proxy_headers": api.trust_forwarded_for or tls.forwarded_allow_ips is not None,
            "forwarded_allow_ips": tls.forwarded_allow_ips or "127.0.0.1",
            "log_level": "info",
            # JSON lines: uvicorn's own lines go through the process's JSON handler.
            "log_config": None if json_requested() else uvicorn.config.LOGGING_CONFIG,
            "lifespan": "on",
        }
        if workers > 1:
            # Each worker process builds its own app from the environment (serving_app): the
            # command line's TLS files reach it there.
            if cert is not None and key is not None:
                os.environ.update(ANH_TLS__CERTFILE=str(cert), ANH_TLS__KEYFILE=str(key))
            # Their metrics in files of one directory: each one's /metrics answers for all.
            with multiprocess.shared_directory():
                uvicorn.run(f"{__name__}:serving_app", factory=True, workers=workers, **options)
            return
        served = _served_app(settings, db, tls_on=cert is not None)
        install_log_redaction()  # again: uvicorn's logging set-up ran after create_app
        asyncio.run(uvicorn.Server(uvicorn.Config(served, **options)).serve())


def _not_stateless(settings: Settings) -> str | None:
    """Why several API processes on one port would split state, or None: they share nothing
    in memory, so the bus, limits and fan-out must be in Redis and the database a server."""
    if not settings.redis_url:
        return (
            "several processes need ANH_REDIS_URL, which is unset: without it the bus (and "
            "its writer), rate limits, lockouts and WebSocket fan-out live in each process"
        )
    if settings.database_url is None:
        return (
            "several processes need ANH_DATABASE_URL, which is unset: the embedded PostgreSQL "
            "belongs to one process"
        )
    return None


def _served_app(settings: Settings, db: Database, *, tls_on: bool) -> Any:
    """The ASGI app one API process serves: the API on the configured bus, with the ingest
    writer when that bus is in process, behind HSTS when TLS is on here or at a proxy."""
    from anh_reporter.api.app import create_app
    from anh_reporter.bus.factory import make_bus

    bus = make_bus(settings)
    app_ = create_app(
        settings, db, bus, api=settings.api, writer=not settings.redis_url, owns_bus=True
    )
    tls = settings.tls
    return Hsts(app_, tls.hsts_max_age_s) if tls_on or tls.behind_tls_proxy else app_


def serving_app() -> Any:
    """uvicorn's app factory for ``serve --workers N``: called in each worker process.

    The parent process has migrated the schema; a worker reads the same environment, so it
    needs ``ANH_DATABASE_URL`` and ``ANH_REDIS_URL`` (checked by ``serve``), and the directory
    of the workers' metrics (``PROMETHEUS_MULTIPROC_DIR``, set by ``serve``).
    """
    from anh_reporter.observability import logs, tracing

    # A fresh process: the command line's set-up did not run here. uvicorn set its own
    # loggers' level already (as it does after that set-up in one process): kept.
    uvicorn_level = logging.getLogger("uvicorn.error").level
    logs.setup_logging()
    logging.getLogger("uvicorn.error").setLevel(uvicorn_level)
    settings = get_settings()
    if tracing.requested():
        otel = settings.otel
        tracing.setup_tracing(
            "anh-reporter-serve",
            endpoint=otel.endpoint,
            service_name=otel.service_name,
            sample_ratio=otel.sample_ratio,
        )
    if (why := _not_stateless(settings)) is not None:
        raise ConfigError(f"serve --workers: {why}")
    multiprocess.enable_in_worker()  # /metrics: every worker's (the parent set the directory)
    with open_database(settings) as db:  # a server's URL: nothing to stop on leaving
        served = _served_app(settings, db, tls_on=settings.tls.certfile is not None)
    install_log_redaction()
    return served


@users_app.callback()
def users() -> None:
    """Users of the API."""  # a group, so that `users create-admin` stays a sub-command


@users_app.command("create-admin")
def create_admin_command(
    email: Annotated[str, typer.Argument(help="The admin's email (their login)")],
    operator: Annotated[
        str | None, typer.Option(help="Operator NIT (needed when several are loaded)")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    prompt: Annotated[bool, typer.Option("--prompt", help="Ask for the password")] = False,
) -> None:
    """Create (or reset) an operator's admin; prints a generated password unless one is given."""
    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif prompt:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise AnhError("the two passwords differ")
    settings = get_settings()
    with open_database(settings) as db:
        migrate.upgrade(db, storage=settings.storage)
        used = create_admin(db, email, password, operator_nit=operator)
    if password is None:
        console.print(f"admin [bold]{email.lower()}[/] created; password: [bold]{used}[/]")
        console.print("[dim]shown once: keep it in a password manager[/]")
    else:
        console.print(f"admin [bold]{email.lower()}[/] created with the given password")


@users_app.command("unlock")
def unlock_command(
    email: Annotated[str, typer.Argument(help="The locked account's email")],
) -> None:
    """End a login lockout (failed logins of the account are forgotten)."""
    settings = get_settings()
    if not unlock_sync(settings.redis_url, email):
        raise AnhError(
            "no ANH_REDIS_URL: lockouts live in the API process; restart it, or wait for the "
            "back-off, or unlock with POST /api/v1/users/{id}/unlock"
        )
    console.print(f"[bold]{email.strip().lower()}[/] unlocked")
