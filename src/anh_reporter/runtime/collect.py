"""``anh-reporter collect``: the edge collector — connectors from tag maps, spool, bus or writer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from anh_reporter.config import Settings, get_settings
from anh_reporter.connectors.modbus import config as modbus_config
from anh_reporter.connectors.modbus.connector import ModbusConnector
from anh_reporter.connectors.mqtt import config as mqtt_config
from anh_reporter.connectors.mqtt.connector import SparkplugConnector
from anh_reporter.connectors.opcua import config as opcua_config
from anh_reporter.connectors.opcua.connector import OpcUaConnector
from anh_reporter.errors import AnhError
from anh_reporter.runtime.live import LiveIngest
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database, open_database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.terminal import console


def collect(
    opcua: Annotated[Path | None, typer.Option(help="OPC UA tag map (YAML)")] = None,
    modbus: Annotated[Path | None, typer.Option(help="Modbus tag map (YAML)")] = None,
    mqtt: Annotated[Path | None, typer.Option(help="MQTT Sparkplug B tag map (YAML)")] = None,
    shard: Annotated[str, typer.Option(help="Field code the batches are published under")] = (
        "default"
    ),
    seconds: Annotated[float, typer.Option(min=0, help="Stop after this long (0: Ctrl-C)")] = 0,
) -> None:
    """The edge collector: run connectors; spool when the centre is unreachable.

    With ``ANH_REDIS_URL`` set, batches go to the Redis bus for the centre's writers; without
    it, this process also writes them into the database. The series catalogue is read from the
    database and cached in the data directory, so a restart works while the centre is down.
    """
    if not (opcua or modbus or mqtt):
        raise AnhError("give at least one tag map: --opcua, --modbus or --mqtt")
    settings = get_settings()
    configs = (
        (opcua, opcua_config.load_config),
        (modbus, modbus_config.load_config),
        (mqtt, mqtt_config.load_config),
    )
    loaded = [(loader(path), path) for path, loader in configs if path is not None]
    if settings.redis_url:
        ids, spans = _series_catalogue(settings, None)
        asyncio.run(_collect(None, settings, loaded, ids, spans, shard, seconds))
        return
    with open_database(settings) as db:
        migrate.upgrade(db, storage=settings.storage)
        ids, spans = _series_catalogue(settings, db)
        asyncio.run(_collect(db, settings, loaded, ids, spans, shard, seconds))


async def _collect(
    db: Database | None,
    settings: Settings,
    loaded: list[tuple[Any, Path]],
    ids: dict[str, int],
    spans: dict[str, float],
    shard: str,
    seconds: float,
) -> None:
    ingest = LiveIngest(db, settings)
    connectors: list[Any] = []
    for config, _ in loaded:
        if isinstance(config, opcua_config.OpcUaConfig):
            connectors.append(OpcUaConnector(config, ids, ingest.sink(shard)))
        elif isinstance(config, modbus_config.ModbusConfig):
            connectors.append(
                ModbusConnector(config, sink=ingest.sink(shard), series_ids=ids, spans=spans)
            )
        else:
            connectors.append(SparkplugConnector(config, ingest.sink(shard), ids, spans=spans))
    await ingest.start(connectors)
    where = "Redis bus" if settings.redis_url else "the database"
    console.print(f"collecting with {len(connectors)} connector(s) into {where}")
    try:
        started = time.monotonic()
        while seconds == 0 or time.monotonic() - started < seconds:
            await asyncio.sleep(
                min(5.0, max(seconds - (time.monotonic() - started), 0.1)) if seconds else 5.0
            )
            console.print(
                "  " + ingest.stats(await asyncio.to_thread(ingest.count_anomalies)).line(),
                highlight=False,
            )
    finally:
        await ingest.stop()


def _series_catalogue(
    settings: Settings, db: Database | None
) -> tuple[dict[str, int], dict[str, float]]:
    """Series ids and spans by code: from the database, else the cached copy."""
    cache = settings.data_dir / "series-catalogue.json"
    if db is None and settings.database_url is None and cache.exists():
        data = orjson.loads(cache.read_bytes())
        return data["ids"], data["spans"]
    try:
        if db is None:
            with open_database(settings) as own:
                return _series_catalogue(settings, own)
        with db.connect() as conn:
            rows = list_series(conn)
    except AnhError:
        if cache.exists():
            data = orjson.loads(cache.read_bytes())
            return data["ids"], data["spans"]
        raise
    ids = {r.code: r.id for r in rows}
    spans = {r.code: r.range_hi - r.range_lo for r in rows}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(orjson.dumps({"ids": ids, "spans": spans}))
    return ids, spans
