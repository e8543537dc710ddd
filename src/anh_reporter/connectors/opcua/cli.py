"""``anh-reporter opcua browse``: show a server's address space with values, status and times."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError
from rich.tree import Tree

from anh_reporter.connectors.base import ConnectorError
from anh_reporter.terminal import console


def browse(
    endpoint: Annotated[str, typer.Argument(help="opc.tcp://host:port/path")],
    depth: Annotated[int, typer.Option(min=1, max=10, help="Levels below Objects")] = 3,
    timeout: Annotated[float, typer.Option(min=0.5, help="Seconds per request")] = 5.0,
) -> None:
    """Show the address space under Objects with node ids, values, status and source time."""
    tree = asyncio.run(_browse(endpoint, depth, timeout))
    console.print(tree)


async def _browse(endpoint: str, depth: int, request_timeout_s: float) -> Tree:
    client = Client(endpoint, timeout=request_timeout_s)
    try:
        await client.connect()
    except (OSError, TimeoutError, UaError) as exc:
        raise ConnectorError(f"cannot connect to {endpoint}: {exc or type(exc).__name__}") from None
    try:
        root = Tree(f"[bold]{endpoint}[/] Objects")
        await _walk(client, client.nodes.objects, root, depth)
        return root
    finally:
        await client.disconnect()


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
