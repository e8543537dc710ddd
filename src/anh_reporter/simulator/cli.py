"""``anh-reporter simulate`` (the simulated field) and ``anh-reporter opcua`` (browse, tag map)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from anh_reporter.config import get_settings
from anh_reporter.connectors.opcua.cli import browse, certs_app
from anh_reporter.connectors.opcua.config import OpcUaSecurity
from anh_reporter.connectors.opcua.options import security_options
from anh_reporter.errors import AnhError
from anh_reporter.simulator.field import FieldPorts, SimulatedField, parse_fault
from anh_reporter.simulator.opcua_server import NAMESPACE_URI, served_series
from anh_reporter.site import load_site
from anh_reporter.terminal import console

DEFAULT_SITE = Path("examples/site.yaml")

opcua_app = typer.Typer(
    help="OPC UA: browse, tag map, certificates.",
    no_args_is_help=True,
    add_completion=False,
)


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


@security_options()
def tagmap(
    site_file: Annotated[Path, typer.Option("--site", help="Site file")] = Path(
        "examples/site.yaml"
    ),
    endpoint: Annotated[
        str, typer.Option(help="Where the simulator listens")
    ] = "opc.tcp://127.0.0.1:4840/anh/simulator",
    name: Annotated[str, typer.Option(help="Connector name")] = "opcua-simulator",
    output: Annotated[Path | None, typer.Option("-o", help="Write here instead of stdout")] = None,
    *,
    security: OpcUaSecurity,
) -> None:
    """A connector file for every series of a site, as the field simulator serves it.

    The security options become the file's ``security`` section (paths relative to the file).
    """
    site = load_site(site_file)
    config: dict[str, Any] = {
        "name": name,
        "endpoint": endpoint,
        "security": _security_section(security, output),
        "percent_deadband": "absolute",
        "tags": [
            {
                "series": s.code,
                "node_id": f"nsu={NAMESPACE_URI};s={s.name}",
                "sampling_period_s": s.period_s,
            }
            for s in served_series(site)
        ],
    }
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    if output is None:
        console.print(text, markup=False, highlight=False, end="")
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {len(config['tags'])} tags to {output}")


def _security_section(sec: OpcUaSecurity, output: Path | None) -> dict[str, Any]:
    """The keys that differ from the defaults; paths relative to ``output``'s folder."""
    base = (output or Path("x")).absolute().parent
    section: dict[str, Any] = {"policy": sec.policy, "mode": sec.mode}
    for key, value in sec.model_dump(exclude_defaults=True).items():
        if isinstance(value, Path):
            value = os.path.relpath(value.absolute(), base) if output else str(value.absolute())
        if key == "password" and sec.password is not None:
            value = sec.password.get_secret_value()  # as the connector file it came from says
        section[key] = value
    return section


opcua_app.command("browse")(browse)
opcua_app.command("tagmap")(tagmap)
opcua_app.add_typer(certs_app, name="certs")
