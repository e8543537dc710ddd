"""``anh-reporter opcua browse`` (a server's address space) and ``opcua certs`` (trust folders).

Both take the connector's security options (:mod:`~anh_reporter.connectors.opcua.options`), so
a server is browsed, and its certificate trusted, exactly as the connector will see it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Annotated

import typer
from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.common.utils import ServiceError
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from rich.table import Column, Table
from rich.tree import Tree

from anh_reporter.connectors.base import ConnectorError
from anh_reporter.connectors.opcua.client import describe
from anh_reporter.connectors.opcua.config import OpcUaSecurity
from anh_reporter.connectors.opcua.options import security_options
from anh_reporter.connectors.opcua.pki import (
    CertificateEntry,
    list_certificates,
    move_certificate,
    renew,
)
from anh_reporter.connectors.opcua.security import apply_security, identity_hint
from anh_reporter.terminal import console

certs_app = typer.Typer(
    help="OPC UA certificates: list, trust, reject, renew (the connector's trust folders).",
    no_args_is_help=True,
    add_completion=False,
)


@security_options()
def browse(
    endpoint: Annotated[str, typer.Argument(help="opc.tcp://host:port/path")],
    depth: Annotated[int, typer.Option(min=1, max=10, help="Levels below Objects")] = 3,
    timeout: Annotated[float, typer.Option(min=0.5, help="Seconds per request")] = 5.0,
    *,
    security: OpcUaSecurity,
) -> None:
    """Show the address space under Objects with node ids, values, status and source time."""
    # A refusal is explained in the error line; asyncua's and the trust check's own log
    # lines about it would only repeat it.
    loggers = [logging.getLogger(n) for n in ("asyncua", "anh_reporter.connectors.opcua.security")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        tree = asyncio.run(_browse(endpoint, depth, timeout, security))
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    console.print(tree)


async def _browse(
    endpoint: str, depth: int, request_timeout_s: float, security: OpcUaSecurity
) -> Tree:
    client = Client(endpoint, timeout=request_timeout_s)
    client.name = client.description = "ANH Smart Reporter (opcua browse)"
    try:
        await apply_security(client, security, "opcua browse", endpoint)
        await client.connect()
    except (OSError, TimeoutError, UaError) as exc:
        raise ConnectorError(f"cannot connect to {endpoint}: {_why(exc, security)}") from None
    try:
        root = Tree(f"[bold]{endpoint}[/] Objects")
        await _walk(client, client.nodes.objects, root, depth)
        return root
    finally:
        await client.disconnect()


def _why(exc: BaseException, sec: OpcUaSecurity) -> str:
    """One line on why a connection failed, with what to do about a refusal."""
    code = exc.code if isinstance(exc, UaStatusCodeError | ServiceError) else None
    if code is None:
        text = describe(exc)
    else:
        status = ua.StatusCode(ua.UInt32(code))
        text = f"{status.name} ({status.doc})"
    if code == StatusCodes.BadCertificateUntrusted and sec.policy != "None":
        text += (
            f": either the server does not trust our certificate {sec.certificate} (copy it "
            "into the server's trusted certificates), or we do not trust the server's "
            "(`anh-reporter opcua certs list`, then `certs trust THUMBPRINT`)"
        )
    elif identity_hint(code, sec):
        text += identity_hint(code, sec, cli=True)
    elif sec.policy == "None" and isinstance(exc, UaError):
        text += "; the server may require security: try --policy Basic256Sha256 --mode ..."
    return text


async def _walk(client: Client, node: Node, branch: Tree, depth: int) -> None:
    if depth == 0:
        return
    for child in await node.get_children():
        if child.nodeid.NamespaceIndex == 0:
            continue  # the standard Server object and friends
        name = (await child.read_browse_name()).Name
        node_class = await child.read_node_class()
        label = f"{name}  [dim]{child.nodeid.to_string()}[/]"
        if node_class == ua.NodeClass.Variable:
            (dv,) = await client.uaclient.read(
                ua.ReadParameters(
                    TimestampsToReturn=ua.TimestampsToReturn.Both,
                    NodesToRead=[
                        ua.ReadValueId(NodeId=child.nodeid, AttributeId=AttributeIds.Value)
                    ],
                )
            )
            value = None if dv.Value is None else dv.Value.Value
            status = "Good" if dv.StatusCode is None else dv.StatusCode.name
            label += f" = {value!r} ({status}, {dv.SourceTimestamp})"
        sub = branch.add(label)
        if node_class == ua.NodeClass.Object:
            await _walk(client, child, sub, depth - 1)


# -- certs --------------------------------------------------------------------------------


@certs_app.command("list")
@security_options(message=False)
def certs_list(*, security: OpcUaSecurity) -> None:
    """The client's own certificate and the trusted and rejected server certificates."""
    now = dt.datetime.now(dt.UTC)
    # The thumbprint is what `certs trust` takes: never shortened, whatever the terminal's width.
    thumbprint = Column("thumbprint (SHA-1)", no_wrap=True, min_width=40)
    table = Table("state", "subject", thumbprint, "valid from", "valid until", "file")
    for e in list_certificates(security):
        until = f"{e.not_after:%Y-%m-%d}" + ("" if e.valid_at(now) else " [red](not valid)[/]")
        table.add_row(
            e.state, e.subject, e.thumbprint, f"{e.not_before:%Y-%m-%d}", until, str(e.path)
        )
    console.print(table)


@certs_app.command("trust")
@security_options(message=False)
def certs_trust(
    which: Annotated[str, typer.Argument(help="Thumbprint (8+ leading hex digits) or file")],
    *,
    security: OpcUaSecurity,
) -> None:
    """Trust a server certificate: move it from rejected/ into the trust folder."""
    _moved(move_certificate(security, which, "trusted"))


@certs_app.command("reject")
@security_options(message=False)
def certs_reject(
    which: Annotated[str, typer.Argument(help="Thumbprint (8+ leading hex digits) or file")],
    *,
    security: OpcUaSecurity,
) -> None:
    """Stop trusting a server certificate: move it from the trust folder into rejected/."""
    _moved(move_certificate(security, which, "rejected"))


def _moved(e: CertificateEntry) -> None:
    console.print(f"{e.state}: {e.subject} ({e.thumbprint}) -> {e.path}", highlight=False)


@certs_app.command("renew")
@security_options(message=False)
def certs_renew(
    days: Annotated[int, typer.Option(min=1, max=3650, help="Validity in days")] = 365,
    *,
    security: OpcUaSecurity,
) -> None:
    """Make a new private key and self-signed client certificate (the old ones are replaced)."""
    e = renew(security, days)
    console.print(
        f"new client certificate {e.path} for {e.application_uri} ({e.thumbprint}), valid "
        f"until {e.not_after:%Y-%m-%d}; copy it into each server's trusted certificates",
        highlight=False,
    )
