"""OPC UA connector throughput: notifications/s into PostgreSQL for 2,000 tags at 1 Hz, and its CPU.

The simulator runs in a separate process (its CPU is not counted), serving 200 wells x 10
variables, every series sampled each second: an offered load of 2,000 notifications/s, the
baseline of the headline ratio. In this process, ``OpcUaConnector`` subscribes to all 2,000
tags (publishing interval 1 s) and its sink writes each batch with the project's
``TelemetryWriter`` (binary COPY, idempotent, hourly rollups) in a worker thread.

After a warm-up, the run is cut into windows; for each window: rows committed per second, and
this process' CPU (process time / wall time, % of one core: connector + decoding + the COPY
client side; the database server's CPU is not included). A second pass with a sink that only
counts shows the connector's own share. Medians of the windows are quoted; the last line is
JSON.

    python bench/connectors_opcua.py [--tags 2000] [--seconds 20] [--windows 5]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).parent))

from _common import bench_database, median, report
from anh_reporter.connectors.opcua import OpcUaConfig, OpcUaConnector, OpcUaTag
from anh_reporter.domain.batch import Batch
from anh_reporter.simulator.opcua_server import served_series
from anh_reporter.site import Site
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter

WELL_VARIABLES = (
    ("tubing_pressure", "psig", (0, 1500)),
    ("casing_pressure", "psig", (0, 1500)),
    ("line_pressure", "psig", (0, 1500)),
    ("wellhead_temperature", "degF", (40, 300)),
    ("flowline_temperature", "degF", (40, 300)),
    ("pump_speed", "Hz", (0, 70)),
    ("motor_current", "A", (0, 200)),
    ("motor_voltage", "V", (0, 5000)),
    ("motor_power", "kW", (0, 500)),
    ("choke", "64th", (0, 128)),
)
WARM_UP_S = 4.0
DATABASE = "anh_bench_opcua"


def bench_site(tags: int) -> Site:
    """One field of tags/10 wells with 10 variables each, all sampled every second."""
    wells = [
        {
            "code": f"W{w:04d}",
            "name": f"Well {w}",
            "series": [
                {
                    "variable": var,
                    "unit": unit,
                    "range": list(rng),
                    "sampling_period_s": 1,
                    "commissioned": "2024-01-15",
                    "simulation": {"noise": 0.01 * (rng[1] - rng[0]), "on_h": 24, "off_h": 0.01},
                }
                for var, unit, rng in WELL_VARIABLES
            ],
        }
        for w in range(tags // len(WELL_VARIABLES))
    ]
    return Site.model_validate(
        {
            "operator": {"name": "Bench", "nit": "900000000-1"},
            "fields": [
                {
                    "code": "BENCH",
                    "name": "Bench",
                    "contract": "BENCH",
                    "municipality_dane": "50568",
                    "wells": wells,
                }
            ],
        }
    )


def serve(tags: int, ready: Any) -> None:
    """The simulator process: serve the bench site on a free port, report the port, run."""
    from anh_reporter.simulator.opcua_server import OpcUaSimulator

    async def main() -> None:
        sim = OpcUaSimulator(bench_site(tags), port=0, max_nodes_per_read=10_000)
        await sim.start()
        ready.send(sim.port)
        await asyncio.Event().wait()

    asyncio.run(main())


class Counting:
    """A sink: counts rows, optionally writing them to PostgreSQL first (in a worker thread)."""

    def __init__(self, writer: TelemetryWriter | None) -> None:
        self.writer = writer
        self.rows = 0

    async def __call__(self, batch: Batch) -> None:
        if self.writer is not None:
            writer = self.writer
            await asyncio.to_thread(
                writer.write, batch.series_id, batch.time_us, batch.value, batch.quality
            )
        self.rows += len(batch)


async def measure(
    endpoint: str, ids: dict[str, int], sink: Counting, seconds: float, windows: int
) -> tuple[list[float], list[float]]:
    """Rows/s and CPU % of one core per window, after a warm-up."""
    tags = [
        OpcUaTag(series=s.code, node_id=f"ns=2;s={s.name}", sampling_period_s=1.0)
        for s in served_series(bench_site(len(ids)))
    ]
    config = OpcUaConfig(
        name="bench-opcua",
        endpoint=endpoint,
        tags=tuple(tags),
        publishing_interval_ms=1000,
        flush_interval_ms=1000,
        flush_max_readings=20_000,
    )
    connector = OpcUaConnector(config, ids, sink)
    await connector.start()
    rates, cpu = [], []
    try:
        await asyncio.sleep(WARM_UP_S)
        window = seconds / windows
        for _ in range(windows):
            rows0, wall0, cpu0 = sink.rows, time.perf_counter(), time.process_time()
            await asyncio.sleep(window)
            wall = time.perf_counter() - wall0
            rates.append((sink.rows - rows0) / wall)
            cpu.append(100.0 * (time.process_time() - cpu0) / wall)
    finally:
        await connector.stop()
    if connector.status().reconnects or connector.counters.markers:
        raise RuntimeError(f"the connection dropped during the bench: {connector.status()}")
    return rates, cpu


def prepare(admin: Database, tags: int) -> tuple[Database, dict[str, int]]:
    """A fresh database of its own with the bench site; its series ids by code."""
    with psycopg.connect(admin.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    db = admin.with_name(DATABASE)
    migrate.upgrade(db)
    with db.connect() as conn:
        load_site_into(conn, bench_site(tags), changed_by="bench")
        rows = conn.execute("SELECT code, id FROM series").fetchall()
    return db, {code: sid for code, sid in rows}


def drop(admin: Database) -> None:
    """Remove the bench's database."""
    with psycopg.connect(admin.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def run(tags: int = 2000, seconds: float = 20.0, windows: int = 5) -> dict[str, float]:
    """Both passes against a simulator in another process; the figures (medians of windows).

    ``bench/connectors.py`` can call this and print the figures with its own table.
    """
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(tags, child), daemon=True)
    server.start()
    try:
        if not parent.poll(120):
            raise RuntimeError("the OPC UA simulator did not start within 120 s")
        endpoint = f"opc.tcp://127.0.0.1:{parent.recv()}/anh/simulator"
        with bench_database() as admin:
            db, ids = prepare(admin, tags)
            try:
                with db.connect() as conn:
                    writer = TelemetryWriter(conn)
                    db_rates, db_cpu = asyncio.run(
                        measure(endpoint, ids, Counting(writer), seconds, windows)
                    )
            finally:
                drop(admin)
        only_rates, only_cpu = asyncio.run(measure(endpoint, ids, Counting(None), seconds, windows))
    finally:
        server.terminate()
        server.join(5)
    offered = float(tags)  # every tag sampled once a second
    return {
        "offered_per_s": offered,
        "db_notifications_per_s": round(median(db_rates), 1),
        "ratio": round(median(db_rates) / offered, 4),
        "db_cpu_percent": round(median(db_cpu), 1),
        "connector_only_per_s": round(median(only_rates), 1),
        "connector_only_cpu_percent": round(median(only_cpu), 1),
        "goal_cpu_percent": 50.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--windows", type=int, default=5)
    args = parser.parse_args()
    f = run(args.tags, args.seconds, args.windows)
    offered = f["offered_per_s"]
    report(
        f"OPC UA: {args.tags:,} tags at 1 Hz, median of {args.windows} windows of "
        f"{args.seconds / args.windows:g} s (simulator in another process)",
        ("pass", "notifications/s", "ratio to offered", "CPU % of one core"),
        [
            ("offered by the server (baseline)", f"{offered:,.0f}", "1.00", "-"),
            (
                "connector -> PostgreSQL (COPY + rollups)",
                f"{f['db_notifications_per_s']:,.0f}",
                f"{f['ratio']:.3f}",
                f"{f['db_cpu_percent']:.1f}",
            ),
            (
                "connector -> counting sink",
                f"{f['connector_only_per_s']:,.0f}",
                f"{f['connector_only_per_s'] / offered:.3f}",
                f"{f['connector_only_cpu_percent']:.1f}",
            ),
        ],
        {
            "bench": "connectors_opcua",
            "tags": args.tags,
            "seconds": args.seconds,
            "windows": args.windows,
            **f,
        },
    )


if __name__ == "__main__":
    main()
