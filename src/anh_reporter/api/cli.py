"""Command line of the API: ``serve`` and ``users create-admin``."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from anh_reporter.api.accounts import create_admin
from anh_reporter.api.hsts import Hsts
from anh_reporter.api.lockout import unlock_sync
from anh_reporter.api.redact import install_log_redaction
from anh_reporter.config import get_settings
from anh_reporter.errors import AnhError, ConfigError
from anh_reporter.observability.logs import json_requested
from anh_reporter.storage import migrate, partitions
from anh_reporter.storage.database import open_database

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
) -> None:
    """Serve the API (and its WebSocket) with uvicorn until interrupted."""
    import uvicorn

    from anh_reporter.api.app import create_app
    from anh_reporter.bus.factory import make_bus

    settings = get_settings()
    api = settings.api
    with open_database(settings) as db:
        migrate.upgrade(db, storage=settings.storage)
        with db.connect() as conn:
            partitions.premake(conn, dt.datetime.now(dt.UTC), settings.storage.partitions_ahead)
        bus = make_bus(settings)
        app_ = create_app(settings, db, bus, api=api)
        tls = settings.tls
        cert, key = certfile or tls.certfile, keyfile or tls.keyfile
        if (cert is None) != (key is None):
            raise ConfigError("TLS needs both --certfile and --keyfile")
        served: Any = Hsts(app_, tls.hsts_max_age_s) if cert or tls.behind_tls_proxy else app_
        where = "embedded PostgreSQL" if db.embedded else db.display_url
        console.print(
            f"[bold]API[/] on {'https' if cert else 'http'}://{host or api.host}:"
            f"{port or api.port}/api/v1 (OpenAPI: /api/openapi.json) (database: {where})"
        )
        config = uvicorn.Config(
            served,
            host=host or api.host,
            port=port or api.port,
            ssl_certfile=cert,
            ssl_keyfile=key,
            # Only these proxies' X-Forwarded-For/-Proto are believed (client address, https).
            proxy_headers=api.trust_forwarded_for or tls.forwarded_allow_ips is not None,
            forwarded_allow_ips=tls.forwarded_allow_ips or "127.0.0.1",
            log_level="info",
            # JSON lines: uvicorn's own lines go through the process's JSON handler.
            log_config=None if json_requested() else uvicorn.config.LOGGING_CONFIG,
            lifespan="on",
        )
        install_log_redaction()  # again: uvicorn's logging set-up ran after create_app
        try:
            asyncio.run(uvicorn.Server(config).serve())
        finally:
            asyncio.run(bus.close())


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
