"""Live field data: connectors -> spool/bus -> writer, with statistics; used by demo and collect.

``LiveIngest`` owns the bus, the spool and the writer loop (with the online analytics hook);
connectors are handed to it already built. ``demo_connectors`` builds the demo's connectors
against the simulated field, giving each PMO or well to exactly one protocol (two connectors
reading the same series would store it twice with different timestamps): PMOs over OPC UA,
wells over Modbus TCP, the water PMO over MQTT Sparkplug B when a broker answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anh_reporter.analytics.service import OnlineAnomalyHook
from anh_reporter.bus.factory import make_bus
from anh_reporter.collect.forwarder import SpoolingProducer
from anh_reporter.collect.spool import Spool
from anh_reporter.config import Settings
from anh_reporter.connectors.base import Connector
from anh_reporter.connectors.modbus.connector import ModbusConnector
from anh_reporter.connectors.mqtt.config import BrokerConfig, SparkplugConnectorConfig
from anh_reporter.connectors.mqtt.connector import SparkplugConnector
from anh_reporter.connectors.opcua.connector import OpcUaConnector
from anh_reporter.domain.batch import Batch
from anh_reporter.ingest.changes import ChangeNotifier
from anh_reporter.ingest.pipeline import IngestPipeline
from anh_reporter.simulator.field import SimulatedField
from anh_reporter.simulator.sparkplug import site_tag_map
from anh_reporter.site import Site, series_code
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import SeriesRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveStats:
    """One line of live statistics."""

    elapsed_s: float
    written: int
    rate: float
    quarantined: int
    spool_batches: int
    connected: int
    connectors: int
    anomalies: int

    def line(self) -> str:
        """The line the CLI prints every few seconds."""
        return (
            f"{self.elapsed_s:4.0f} s  {self.written:,} written ({self.rate:,.0f}/s)  "
            f"{self.quarantined:,} quarantined  spool {self.spool_batches}  "
            f"{self.connected}/{self.connectors} connected  {self.anomalies} anomalies"
        )


class LiveIngest:
    """The centre's side of live data: bus, spool, writer loop and online analytics."""

    def __init__(self, db: Database | None, settings: Settings, *, analytics: bool = True) -> None:
        """``db`` None: an edge collector that only publishes (the writer runs elsewhere)."""
        self.db = db
        self.settings = settings
        self.bus = make_bus(settings)
        self.spool = Spool.from_settings(settings)
        self.producer = SpoolingProducer(self.bus, self.spool)
        hooks: list[Any] = []
        if db is not None:
            hooks.append(ChangeNotifier(db, redis_url=settings.redis_url))
            if analytics:
                hooks.append(OnlineAnomalyHook(db))
        self.pipeline = (
            IngestPipeline(db, self.bus, settings.ingest, on_commit=hooks) if db else None
        )
        self._hooks = hooks
        self._writer: asyncio.Task[None] | None = None
        self.connectors: list[Connector] = []
        self._started = time.monotonic()

    def sink(self, shard: str) -> Callable[[Batch], Any]:
        """A connector's sink: submit its batches under ``shard`` (the field code)."""

        async def submit(batch: Batch) -> None:
            await self.producer.submit(batch, shard)

        return submit

    async def start(self, connectors: list[Connector]) -> None:
        """Start the writer, the spool's forwarder, then the connectors."""
        if self.pipeline is not None:
            self._writer = asyncio.create_task(self.pipeline.run())
        self.producer.start()
        self.connectors = connectors
        for connector in connectors:
            await connector.start()
        self._started = time.monotonic()

    async def stop(self) -> None:
        """Stop the connectors, flush what is buffered, stop the writer."""
        for connector in self.connectors:
            with contextlib.suppress(Exception):
                await connector.stop()
        await self.producer.stop()
        if self.pipeline is not None:
            self.pipeline.stop()
        if self._writer is not None:
            await self._writer
        for hook in self._hooks:
            close = getattr(hook, "close", None)
            if close is not None and inspect.isawaitable(result := close()):
                await result
        await self.bus.close()
        self.spool.close()

    def stats(self, anomalies: int) -> LiveStats:
        """Statistics since the start."""
        elapsed = time.monotonic() - self._started
        if self.pipeline is not None:
            written, quarantined = self.pipeline.stats.written, self.pipeline.stats.quarantined
        else:  # an edge collector: what it handed to the bus
            p = self.producer.stats
            written, quarantined = p.published_readings + p.replayed_readings, 0
        return LiveStats(
            elapsed,
            written,
            written / elapsed if elapsed > 0 else 0.0,
            quarantined,
            self.spool.depth_batches,
            sum(1 for c in self.connectors if c.status().connected),
            len(self.connectors),
            anomalies,
        )

    def count_anomalies(self) -> int:
        """Anomalies stored so far (0 for an edge collector)."""
        if self.db is None:
            return 0
        with self.db.connect() as conn:
            row = conn.execute("SELECT count(*) FROM anomalies").fetchone()
        return int(row[0]) if row else 0


def demo_connectors(
    field: SimulatedField, site: Site, rows: list[SeriesRow], ingest: LiveIngest
) -> list[Connector]:
    """The demo's connectors: PMOs over OPC UA, wells over Modbus, water over MQTT if possible."""
    ids = {r.code: r.id for r in rows}
    spans = {r.code: r.range_hi - r.range_lo for r in rows}
    site_field = site.fields[0]
    shard = site_field.code
    pmo_codes = {series_code(site_field.code, p.code, s) for p in site_field.pmos for s in p.series}
    water = {
        series_code(site_field.code, p.code, s)
        for p in site_field.pmos
        if p.kind == "water"
        for s in p.series
    }
    over_mqtt = water if field.mqtt is not None else set()
    over_opcua = pmo_codes - over_mqtt
    connectors: list[Connector] = []

    opcua_config = field.opcua.connector_config("demo-opcua")
    opcua_config = opcua_config.model_copy(
        update={"tags": tuple(t for t in opcua_config.tags if t.series in over_opcua)}
    )
    connectors.append(OpcUaConnector(opcua_config, ids, ingest.sink(shard)))

    modbus_config = field.modbus.map.connector_config(port=field.modbus.port)
    devices = tuple(
        d for d in modbus_config.devices if all(t.series not in pmo_codes for t in d.tags)
    )
    modbus_config = modbus_config.model_copy(update={"devices": devices})
    connectors.append(
        ModbusConnector(modbus_config, sink=ingest.sink(shard), series_ids=ids, spans=spans)
    )

    if over_mqtt and field.ports.mqtt_host is not None:
        mqtt_config = SparkplugConnectorConfig(
            name="demo-mqtt",
            broker=BrokerConfig(host=field.ports.mqtt_host, port=field.ports.mqtt_port),
            tags=tuple(t for t in site_tag_map(site) if t.series in over_mqtt),
        )
        connectors.append(SparkplugConnector(mqtt_config, ingest.sink(shard), ids, spans=spans))
    return connectors
