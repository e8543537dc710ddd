"""The whole simulated field: one site served over OPC UA, Modbus TCP and MQTT Sparkplug B.

Every server serves every series of the site from the same deterministic generator, so any
protocol can read any series. Faults injected here reach the OPC UA and Modbus servers (the
Sparkplug edge node takes its faults when it starts) and are logged for scoring.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from anh_reporter.errors import ConfigError
from anh_reporter.simulator.faults import Fault, FaultKind, FaultLog
from anh_reporter.simulator.modbus_server import ModbusSimulator
from anh_reporter.simulator.opcua_server import OpcUaSimulator
from anh_reporter.simulator.sparkplug import SparkplugEdgeNode
from anh_reporter.site import Site


@dataclass(frozen=True)
class FieldPorts:
    """Where the simulated field listens (0: any free port)."""

    host: str = "127.0.0.1"
    opcua: int = 4840
    modbus: int = 5020
    mqtt_host: str | None = "127.0.0.1"  # None: no Sparkplug edge node
    mqtt_port: int = 1883


class SimulatedField:
    """Start and stop the three servers of a site together; inject faults into them.

    Faults are logged once (by the OPC UA server) though both servers apply them.
    """

    def __init__(
        self,
        site: Site,
        *,
        ports: FieldPorts,
        seed: int = 42,
        keys: Mapping[str, int] | None = None,
        data_dir: Path,
        faults: Sequence[Fault] = (),
        secure: bool = False,
        opcua_period_s: float | None = None,
    ) -> None:
        """``opcua_period_s`` overrides every series' sampling period on the OPC UA server
        (the demo samples its PMOs every second to show anomalies within a minute)."""
        self.site = site
        self.ports = ports
        self.fault_log = FaultLog(data_dir / "faults.jsonl")
        self.opcua = OpcUaSimulator(
            site,
            keys=keys,
            seed=seed,
            period_s=opcua_period_s,
            host=ports.host,
            port=ports.opcua,
            pki_dir=data_dir / "pki" / "opcua-simulator" if secure else None,
            fault_log=self.fault_log,
        )
        self.modbus = ModbusSimulator(
            site,
            host=ports.host,
            port=ports.modbus,
            seed=seed,
            keys=keys,
        )
        self.mqtt: SparkplugEdgeNode | None = None
        if ports.mqtt_host is not None and broker_reachable(ports.mqtt_host, ports.mqtt_port):
            self.mqtt = SparkplugEdgeNode(
                site,
                host=ports.mqtt_host,
                port=ports.mqtt_port,
                seed=seed,
                keys=keys,
                faults=list(faults),
            )
        for fault in faults:
            self.opcua.inject(fault)
            self.modbus.inject(fault)

    async def start(self) -> None:
        """Start every server (the MQTT edge node only when a broker answered)."""
        await self.opcua.start()
        await self.modbus.start()
        if self.mqtt is not None:
            await self.mqtt.start()

    async def stop(self) -> None:
        """Stop every server."""
        if self.mqtt is not None:
            with contextlib.suppress(Exception):
                await self.mqtt.stop()
        await self.modbus.stop()
        await self.opcua.close()

    def inject_now(
        self, kind: FaultKind, code: str, seconds: float, magnitude: float = 0.0
    ) -> None:
        """Inject a fault starting now on one series, on the OPC UA and Modbus servers."""
        self.opcua.inject_now(kind, code, seconds, magnitude)
        self.modbus.inject_now(kind, code, seconds, magnitude)

    def describe(self) -> list[str]:
        """One line per server: protocol and address."""
        lines = [
            f"OPC UA   {self.opcua.endpoint}",
            f"Modbus   tcp://{self.ports.host}:{self.modbus.port}",
        ]
        if self.mqtt is not None:
            lines.append(
                f"MQTT     mqtt://{self.ports.mqtt_host}:{self.ports.mqtt_port} (Sparkplug B)"
            )
        else:
            lines.append("MQTT     no broker reachable: Sparkplug B edge node not started")
        lines.append(f"faults   logged to {self.fault_log.path}")
        return lines


def broker_reachable(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """Whether something accepts TCP connections at host:port (a quick probe)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def parse_fault(spec: str) -> tuple[FaultKind, str, float, float]:
    """``KIND:SERIES:SECONDS[:MAGNITUDE]`` (e.g. ``spike:F.PMO-LACT-01.oil_rate:60:0.5``)."""
    parts = spec.split(":")
    kinds = ", ".join(k.value for k in FaultKind)
    if len(parts) not in (3, 4):
        raise ConfigError(f"fault {spec!r}: expected KIND:SERIES:SECONDS[:MAGNITUDE]")
    try:
        kind = FaultKind(parts[0])
    except ValueError:
        raise ConfigError(f"fault {spec!r}: unknown kind {parts[0]!r}; one of {kinds}") from None
    try:
        seconds = float(parts[2])
        magnitude = float(parts[3]) if len(parts) == 4 else 0.0
    except ValueError:
        raise ConfigError(f"fault {spec!r}: SECONDS and MAGNITUDE must be numbers") from None
    if seconds <= 0:
        raise ConfigError(f"fault {spec!r}: SECONDS must be above 0, got {seconds:g}")
    return kind, parts[1], seconds, magnitude
