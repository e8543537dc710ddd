"""OPC UA collector throughput: 10,000 monitored items at 1 Hz, the connector against bare asyncua.

The simulator serves the items from ``--servers`` processes (its CPU is not counted): wells of
10 variables, every series sampled each second, an offered load of ``--items`` notifications/s.
Against the same servers, one after the other, in this process:

* baseline: a bare asyncua subscription client (``Client.create_subscription`` +
  ``subscribe_data_change``, one session per server, the same items, publishing interval and
  sampling interval) whose ``datachange_notification`` only counts;
* the project's ``OpcUaConnector`` (one per server; its own subscription sharding with
  ``--max-items-per-subscription``) with a sink that only counts: the connector's own cost;
* the same connector with its real sink into PostgreSQL (``TelemetryWriter``: binary COPY,
  idempotent, hourly rollups, in a worker thread): what a collector writing straight to the
  database costs (client side; the database server's CPU is not included);
* the same connector on the ``anh-reporter collect`` path of a scaled-out site: its batches
  submitted to the store-and-forward producer (``SpoolingProducer``: spool file when the bus
  refuses) publishing to Redis Streams (``RedisStreamsBus``), what one collector process costs
  (Redis's own CPU not included). Needs Redis: ``ANH_BENCH_REDIS_URL``, else
  redis://127.0.0.1:6379/9 (keys under a prefix of their own, deleted afterwards); without one
  the pass is skipped, saying so.

After a warm-up the run is cut into windows; for each window: notifications received per second
and this process' CPU (psutil user + system time / wall time, % of one core). Medians of the
windows are quoted, with the connector/baseline ratios. CPU per 1,000 notifications/s (per window,
then the median) is what each client costs per notification even when a starved simulator
delivers less than offered; times the offered load it is the CPU at 10,000 items. The last line
is JSON.

    python bench/connectors_opcua.py [--items 10000] [--servers 4] [--seconds 30] [--windows 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil
import psycopg
import redis
from asyncua import Client
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).parent))

from _common import bench_database, median, report
from anh_reporter.bus.redis_streams import RedisStreamsBus
from anh_reporter.collect.forwarder import SpoolingProducer
from anh_reporter.collect.spool import Spool
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
WARM_UP_S = 5.0
RECONNECTS: list[int] = []  # per connector pass
DATABASE = "anh_bench_opcua"


def bench_site(items: int, first_well: int = 0) -> Site:
    """One field of items/10 wells (numbered from ``first_well``), 10 variables each, at 1 Hz."""
    wells = [
        {
            "code": f"W{w:05d}",
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
        for w in range(first_well, first_well + items // len(WELL_VARIABLES))
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


def shards(items: int, servers: int) -> list[tuple[int, int]]:
    """(items, first well) served by each server process: whole wells, split evenly."""
    wells = items // len(WELL_VARIABLES)
    out, first = [], 0
    for k in range(servers):
        n = wells // servers + (1 if k < wells % servers else 0)
        out.append((n * len(WELL_VARIABLES), first))
        first += n
    return out


def serve(items: int, first_well: int, ready: Any) -> None:
    """A simulator process: serve its wells on a free port, report the port, run."""
    from anh_reporter.simulator.opcua_server import OpcUaSimulator

    async def main() -> None:
        sim = OpcUaSimulator(bench_site(items, first_well), port=0, max_nodes_per_read=10_000)
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


class Publishing(Counting):
    """A sink on the collect path: the store-and-forward producer into Redis Streams."""

    def __init__(self, producer: SpoolingProducer, shard: str) -> None:
        super().__init__(None)
        self.producer = producer
        self.shard = shard

    async def __call__(self, batch: Batch) -> None:
        await self.producer.submit(batch, self.shard)
        self.rows += len(batch)


async def collect_pass(
    servers: Sequence[Served],
    ids: dict[str, int],
    url: str,
    seconds: float,
    windows: int,
    per_subscription: int | None,
) -> tuple[list[float], list[float], int]:
    """The connectors into one SpoolingProducer on Redis Streams: figures, batches spooled."""
    prefix = f"anhbench-{uuid.uuid4().hex[:8]}"
    bus = RedisStreamsBus(url, prefix=prefix)
    with tempfile.TemporaryDirectory() as tmp:
        spool = Spool(Path(tmp) / "spool.db", max_bytes=1 << 30)
        producer = SpoolingProducer(bus, spool)
        producer.start()
        try:
            sinks = [Publishing(producer, "BENCH") for _ in servers]
            rates, cpu = await connector_pass(
                servers, ids, sinks, seconds, windows, per_subscription
            )
        finally:
            await producer.stop()
            spool.close()
            client = Redis.from_url(url)
            keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
            await bus.close()
    return rates, cpu, producer.stats.spooled


class Served:
    """What one server process serves: its endpoint and its items' (series code, node name)."""

    def __init__(self, endpoint: str, items: int, first_well: int) -> None:
        self.endpoint = endpoint
        self.series = [(s.code, s.name) for s in served_series(bench_site(items, first_well))]


async def windows_of(
    count: Callable[[], int], seconds: float, windows: int
) -> tuple[list[float], list[float]]:
    """Notifications/s and CPU % of one core (psutil, this process) per window, after warm-up."""
    me = psutil.Process()
    await asyncio.sleep(WARM_UP_S)
    rates, cpu = [], []
    for _ in range(windows):
        n0, wall0, t0 = count(), time.perf_counter(), me.cpu_times()
        await asyncio.sleep(seconds / windows)
        wall, t1 = time.perf_counter() - wall0, me.cpu_times()
        rates.append((count() - n0) / wall)
        cpu.append(100.0 * (t1.user + t1.system - t0.user - t0.system) / wall)
    return rates, cpu


class _Counter:
    """The baseline's datachange handler: it only counts."""

    def __init__(self) -> None:
        self.n = 0

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        self.n += 1


async def baseline(
    servers: Sequence[Served], seconds: float, windows: int
) -> tuple[list[float], list[float]]:
    """A bare asyncua subscription client per server: same items, 1 s publishing and sampling."""
    counter = _Counter()
    clients = []
    try:
        for srv in servers:
            client = Client(srv.endpoint, timeout=30, watchdog_intervall=30)
            await client.connect()
            clients.append(client)
            sub = await client.create_subscription(1000, counter)
            nodes = [client.get_node(f"ns=2;s={name}") for _, name in srv.series]
            await sub.subscribe_data_change(nodes, queuesize=6, sampling_interval=1000)
        figures = await windows_of(lambda: counter.n, seconds, windows)
        print(f"baseline: {figures}", file=sys.stderr, flush=True)
        return figures
    finally:
        for client in clients:
            await client.disconnect()


async def connector_pass(
    servers: Sequence[Served],
    ids: dict[str, int],
    sinks: Sequence[Counting],
    seconds: float,
    windows: int,
    per_subscription: int | None,
) -> tuple[list[float], list[float]]:
    """The project's connector, one per server, each into its own sink."""
    connectors = []
    for k, srv in enumerate(servers):
        config = OpcUaConfig(
            name=f"bench-opcua-{k}",
            endpoint=srv.endpoint,
            tags=tuple(
                OpcUaTag(series=code, node_id=f"ns=2;s={name}", sampling_period_s=1.0)
                for code, name in srv.series
            ),
            publishing_interval_ms=1000,
            flush_interval_ms=1000,
            flush_max_readings=20_000,
            max_items_per_subscription=per_subscription,
            # The shared 2-core bench machine can starve the simulator for seconds: a slow
            # keep-alive answer must not count as a lost connection (asyncua's own client
            # reconnects silently; reconnects are reported below).
            request_timeout_s=30,
            watchdog_interval_s=30,
        )
        connectors.append(OpcUaConnector(config, ids, sinks[k]))
    try:
        for connector in connectors:
            await connector.start()
        figures = await windows_of(lambda: sum(s.rows for s in sinks), seconds, windows)
        print(f"connector: {figures}", file=sys.stderr, flush=True)
        return figures
    finally:
        for connector in connectors:
            await connector.stop()
        RECONNECTS.append(sum(c.status().reconnects for c in connectors))


def per_thousand(rates: Sequence[float], cpu: Sequence[float]) -> float:
    """CPU % of one core per 1,000 notifications/s: the median over windows that received any.

    It is what a client costs per notification, whether or not a starved simulator delivered
    the whole offered load; times the offered load it is the CPU the client would need.
    """
    costs = [1000.0 * c / r for r, c in zip(rates, cpu, strict=True) if r > 0]
    return median(costs) if costs else float("nan")


def prepare(admin: Database, items: int) -> tuple[Database, dict[str, int]]:
    """A fresh database of its own with the bench site; its series ids by code."""
    with psycopg.connect(admin.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    db = admin.with_name(DATABASE)
    migrate.upgrade(db)
    with db.connect() as conn:
        load_site_into(conn, bench_site(items), changed_by="bench")
        rows = conn.execute("SELECT code, id FROM series").fetchall()
    return db, {code: sid for code, sid in rows}


def drop(admin: Database) -> None:
    """Remove the bench's database."""
    with psycopg.connect(admin.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def start_servers(items: int, servers: int) -> tuple[list[Any], list[Served]]:
    """The simulator processes (spawned, started together) and what each serves."""
    ctx = mp.get_context("spawn")
    procs, pipes = [], []
    for n, first in shards(items, servers):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=serve, args=(n, first, child), daemon=True)
        proc.start()
        procs.append(proc)
        pipes.append((parent, n, first))
    served = []
    for parent, n, first in pipes:
        if not parent.poll(300):
            raise RuntimeError("an OPC UA simulator process did not start within 300 s")
        served.append(Served(f"opc.tcp://127.0.0.1:{parent.recv()}/anh/simulator", n, first))
    return procs, served


def run(
    items: int = 10_000,
    servers: int = 4,
    seconds: float = 30.0,
    windows: int = 5,
    per_subscription: int | None = None,
) -> dict[str, float]:
    """The three passes against simulator processes; the figures (medians of windows).

    ``bench/connectors.py`` calls this through the command line and prints the figures.
    """
    redis_url = os.environ.get("ANH_BENCH_REDIS_URL") or "redis://127.0.0.1:6379/9"
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        print(f"collect pass skipped: Redis at {redis_url}: {exc}", file=sys.stderr)
        redis_url = ""
    bus_rates: list[float] = []
    bus_cpu: list[float] = []
    spooled = 0
    procs, served = start_servers(items, servers)
    try:
        base_rates, base_cpu = asyncio.run(baseline(served, seconds, windows))
        with bench_database() as admin:
            db, ids = prepare(admin, items)
            try:
                only_rates, only_cpu = asyncio.run(
                    connector_pass(
                        served,
                        ids,
                        [Counting(None) for _ in served],
                        seconds,
                        windows,
                        per_subscription,
                    )
                )
                with contextlib.ExitStack() as stack:
                    conns = [stack.enter_context(db.connect()) for _ in served]
                    db_rates, db_cpu = asyncio.run(
                        connector_pass(
                            served,
                            ids,
                            [Counting(TelemetryWriter(c)) for c in conns],
                            seconds,
                            windows,
                            per_subscription,
                        )
                    )
                if redis_url:
                    bus_rates, bus_cpu, spooled = asyncio.run(
                        collect_pass(served, ids, redis_url, seconds, windows, per_subscription)
                    )
            finally:
                drop(admin)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(5)
    offered = float(items)  # every item sampled once a second
    base_cpu_m = median(base_cpu)
    base_cost = per_thousand(base_rates, base_cpu)
    only_cost = per_thousand(only_rates, only_cpu)
    return {
        "offered_per_s": offered,
        "baseline_per_s": round(median(base_rates), 1),
        "baseline_ratio": round(median(base_rates) / offered, 4),
        "baseline_cpu_percent": round(base_cpu_m, 1),
        "connector_per_s": round(median(only_rates), 1),
        "connector_ratio": round(median(only_rates) / offered, 4),
        "connector_cpu_percent": round(median(only_cpu), 1),
        "connector_cpu_vs_baseline": round(median(only_cpu) / base_cpu_m, 3),
        "baseline_cpu_per_1000_per_s": round(base_cost, 2),
        "connector_cpu_per_1000_per_s": round(only_cost, 2),
        "connector_cost_vs_baseline": round(only_cost / base_cost, 3),
        "connector_cpu_at_offered": round(only_cost * offered / 1000, 1),
        "db_per_s": round(median(db_rates), 1),
        "db_ratio": round(median(db_rates) / offered, 4),
        "db_cpu_percent": round(median(db_cpu), 1),
        "collect_per_s": round(median(bus_rates), 1) if bus_rates else None,
        "collect_ratio": round(median(bus_rates) / offered, 4) if bus_rates else None,
        "collect_cpu_percent": round(median(bus_cpu), 1) if bus_cpu else None,
        "collect_batches_spooled": spooled,
        "connector_reconnects": sum(RECONNECTS),
        "goal_cpu_percent": 50.0,
        "load_average_1m": round(psutil.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="monitored items (1 Hz each)")
    parser.add_argument("--servers", type=int, default=4, help="simulator processes")
    parser.add_argument(
        "--max-items-per-subscription",
        type=int,
        default=None,
        help="the connector's subscription shard size (default: one subscription)",
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--windows", type=int, default=5)
    args = parser.parse_args()
    f = run(args.items, args.servers, args.seconds, args.windows, args.max_items_per_subscription)
    offered = f["offered_per_s"]
    rows = [
        ("offered by the simulator", f"{offered:,.0f}", "1.000", "-", "-"),
        (
            "baseline: bare asyncua subscription, counting",
            f"{f['baseline_per_s']:,.0f}",
            f"{f['baseline_ratio']:.3f}",
            f"{f['baseline_cpu_percent']:.1f}",
            "1.00",
        ),
        (
            "connector -> counting sink",
            f"{f['connector_per_s']:,.0f}",
            f"{f['connector_ratio']:.3f}",
            f"{f['connector_cpu_percent']:.1f}",
            f"{f['connector_cpu_vs_baseline']:.2f}",
        ),
        (
            "connector -> PostgreSQL (COPY + rollups)",
            f"{f['db_per_s']:,.0f}",
            f"{f['db_ratio']:.3f}",
            f"{f['db_cpu_percent']:.1f}",
            f"{f['db_cpu_percent'] / f['baseline_cpu_percent']:.2f}",
        ),
    ]
    if f["collect_per_s"] is not None:
        rows.append(
            (
                "connector -> spool/Redis Streams (the collect path)",
                f"{f['collect_per_s']:,.0f}",
                f"{f['collect_ratio']:.3f}",
                f"{f['collect_cpu_percent']:.1f}",
                f"{f['collect_cpu_percent'] / f['baseline_cpu_percent']:.2f}",
            )
        )
    rows.append(
        (
            "CPU % per 1,000 notifications/s: baseline / connector",
            f"{f['baseline_cpu_per_1000_per_s']:.2f} / {f['connector_cpu_per_1000_per_s']:.2f}",
            "-",
            f"{f['connector_cpu_at_offered']:.1f} at offered",
            f"{f['connector_cost_vs_baseline']:.2f}",
        )
    )
    report(
        f"OPC UA: {args.items:,} items at 1 Hz from {args.servers} simulator process(es), median "
        f"of {args.windows} windows of {args.seconds / args.windows:g} s, load average "
        f"{f['load_average_1m']:.2f}",
        ("pass", "notifications/s", "of offered", "CPU % of one core", "CPU vs baseline"),
        rows,
        {
            "bench": "connectors_opcua",
            "items": args.items,
            "servers": args.servers,
            "max_items_per_subscription": args.max_items_per_subscription,
            "seconds": args.seconds,
            "windows": args.windows,
            **f,
        },
    )


if __name__ == "__main__":
    main()
