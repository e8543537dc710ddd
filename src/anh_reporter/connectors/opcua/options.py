"""The security options of the ``anh-reporter opcua`` commands: the connector's, in one place.

:func:`security_options` adds ``--connector FILE`` (take the ``security`` section of a
connector file) and one option per key of that section (``--policy``, ``--mode``,
``--certificate``, ``--private-key``, ``--application-uri``, ``--trust-dir``, ``--username``,
``--password-file``; a password itself only from a file, never the command line) to a Typer
command, and hands the command one validated
:class:`~anh_reporter.connectors.opcua.config.OpcUaSecurity` as its ``security`` argument. An
option given on the command line overrides the file's key; the same checks as in a connector
file apply, so a command connects exactly as the connector would.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from anh_reporter.connectors.opcua.config import (
    OpcUaSecurity,
    SecurityMode,
    SecurityPolicy,
    load_config,
)
from anh_reporter.errors import ConfigError

R = TypeVar("R")
_PANEL = "Security (as in a connector file's 'security' section)"


def _option(name: str, annotation: Any, help_text: str) -> inspect.Parameter:
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[annotation, typer.Option(help=help_text, rich_help_panel=_PANEL)],
    )


_FILE = _option(
    "connector",
    Path | None,
    "Connector file whose 'security' section to use (the options below override its keys)",
)
_MESSAGE = [
    _option("policy", SecurityPolicy | None, "Security policy (default None)"),
    _option("mode", SecurityMode | None, "Message security mode (default None)"),
]
_PKI = [
    _option("certificate", Path | None, "Client certificate (DER or PEM); made when missing"),
    _option("private_key", Path | None, "Client private key (PEM)"),
    _option(
        "application_uri",
        str | None,
        "This client's application URI (default urn:anh-reporter:opcua-connector)",
    ),
    _option(
        "trust_dir",
        Path | None,
        "Trusted server certificates; refused ones go to its sibling 'rejected'",
    ),
]
_USER = [
    _option("username", str | None, "User name (default: anonymous)"),
    _option("password_file", Path | None, "A file holding the user's password"),
]


def security_options(*, message: bool = True) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Give a Typer command the connector's security options; it receives ``security``.

    ``message=False`` leaves out ``--policy`` and ``--mode`` (for commands that only handle
    certificates and trust folders).
    """
    extra = [_FILE, *(_MESSAGE if message else []), *_PKI, *(_USER if message else [])]
    names = [p.name for p in extra]

    def decorate(command: Callable[..., R]) -> Callable[..., R]:
        own = inspect.signature(command, eval_str=True)
        params = [p for p in own.parameters.values() if p.name != "security"]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> R:
            chosen = {name: kwargs.pop(name, None) for name in names}
            return command(*args, security=security_from(**chosen), **kwargs)

        wrapper.__signature__ = own.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in (*params, *extra)}
        return wrapper

    return decorate


def security_from(connector: Path | None = None, **given: Any) -> OpcUaSecurity:
    """The security settings of ``connector`` (or the defaults), with ``given`` keys over them."""
    base = load_config(connector).security if connector is not None else OpcUaSecurity()
    values = base.model_dump() | {k: v for k, v in given.items() if v is not None}
    try:
        return OpcUaSecurity.model_validate(values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = "/".join("--" + str(part).replace("_", "-") for part in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {msg}" if where else msg)
        source = f" (with {connector})" if connector is not None else ""
        raise ConfigError(f"OPC UA security options{source}: " + "; ".join(problems)) from None
