"""Modbus connector throughput: reads/s of 100 registers from the simulator, against raw pymodbus.

The simulator runs in a separate process on loopback, serving one device of 50 float32 values
(100 registers, the four byte orders). In this process, alternating, three runs each:

* baseline: ``AsyncModbusTcpClient.read_holding_registers(0, count=100)`` in a loop, no decoding;
* connector: ``ModbusConnector`` polling the same device back to back (poll period 1 µs), each
  poll decoding the 50 values, scaling, and sending a batch to a counting sink.

Both with 1 and with 4 connections (4 device entries on the same server). The headline is the
connector's reads/s as a ratio of the baseline's, with the client process' CPU time per read of
each (the connector's overhead). A decode-only figure compares ``BlockDecoder`` with pymodbus'
``convert_from_registers`` tag by tag. Medians are quoted; the last line is JSON.

    python bench/connectors_modbus.py [--seconds 3] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pymodbus.client import AsyncModbusTcpClient

sys.path.insert(0, str(Path(__file__).parent))

from _common import median, report
from anh_reporter.connectors.modbus import BlockDecoder, ModbusConfig, ModbusConnector
from anh_reporter.domain.batch import Batch
from anh_reporter.site import Site

VALUES = 50  # float32 values: 100 registers
VARIABLES = ("oil_rate", "meter_temperature", "meter_pressure", "motor_current")
UNITS = {
    "oil_rate": "bbl/d",
    "meter_temperature": "degF",
    "meter_pressure": "psig",
    "motor_current": "A",
}


def bench_site() -> Site:
    """One PMO whose 50 float32 series fill registers 0..99 in all four byte orders."""
    series = [
        {
            "code": f"BENCH.PMO.{i:02d}",
            "variable": VARIABLES[i % 4],
            "unit": UNITS[VARIABLES[i % 4]],
            "range": [0, 1000],
            "sampling_period_s": 1,
            "commissioned": "2024-01-15",
        }
        for i in range(VALUES)
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
                    "pmos": [{"code": "PMO", "name": "Bench PMO", "kind": "oil", "series": series}],
                }
            ],
        }
    )


def serve(ready: Any) -> None:
    """The simulator process: serve the bench site on a free port, report the port, run."""
    from anh_reporter.simulator.modbus_server import ModbusSimulator

    async def main() -> None:
        sim = ModbusSimulator(bench_site(), port=0)
        await sim.start()
        ready.put(sim.port)
        await asyncio.Event().wait()

    asyncio.run(main())


@dataclass
class Run:
    reads: int
    readings: int
    seconds: float
    cpu_seconds: float

    @property
    def reads_per_s(self) -> float:
        return self.reads / self.seconds

    @property
    def cpu_us_per_read(self) -> float:
        return self.cpu_seconds / self.reads * 1e6


async def run_baseline(port: int, connections: int, seconds: float) -> Run:
    clients = [
        AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, reconnect_delay=0)
        for _ in range(connections)
    ]
    for c in clients:
        assert await c.connect()
    counts = [0] * connections
    deadline = time.perf_counter() + seconds

    async def loop(i: int) -> None:
        while time.perf_counter() < deadline:
            response = await clients[i].read_holding_registers(0, count=100, device_id=1)
            assert len(response.registers) == 100
            counts[i] += 1

    cpu, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(connections)))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    for c in clients:
        c.close()
    return Run(sum(counts), 0, elapsed, cpu)


def connector_config(port: int, connections: int) -> ModbusConfig:
    from anh_reporter.simulator.modbus_server import register_map

    one = register_map(bench_site()).connector_config(
        port=port, poll_period_s=1e-6, sampling_period_s=1e-6, timeout_s=2
    )
    device = one.devices[0]
    devices = tuple(
        device.model_copy(
            update={
                "name": f"conn{i}",
                "tags": tuple(
                    t.model_copy(update={"series": f"{t.series}#{i}"}) for t in device.tags
                ),
            }
        )
        for i in range(connections)
    )
    return one.model_copy(update={"devices": devices})


async def run_connector(port: int, connections: int, seconds: float) -> Run:
    config = connector_config(port, connections)
    ids = {code: i for i, code in enumerate(config.series_codes(), start=1)}
    totals = {"reads": 0, "readings": 0}

    async def sink(batch: Batch) -> None:
        totals["reads"] += 1  # one batch per poll, one read per poll here
        totals["readings"] += len(batch)

    connector = ModbusConnector(config, sink=sink, series_ids=ids)
    await connector.start()
    while not connector.status().connected:  # noqa: ASYNC110 - the connector offers no event; polled for a few ms
        await asyncio.sleep(0.01)
    base = dict(totals)
    cpu, start = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    done = dict(totals)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    await connector.stop()
    assert connector.status().last_error is None, connector.status().last_error
    return Run(done["reads"] - base["reads"], done["readings"] - base["readings"], elapsed, cpu)


def decode_rates(repeat: int = 20_000) -> tuple[float, float]:
    """Decoded readings/s: BlockDecoder vs pymodbus convert_from_registers per tag."""
    config = connector_config(5020, 1)
    tags = config.devices[0].tags
    decoder = BlockDecoder([(t.address, t.data_type, t.byte_order) for t in tags], 100)
    rng = np.random.default_rng(1)
    registers = rng.integers(0, 0x7F00, 100).tolist()  # finite float32 patterns
    start = time.perf_counter()
    for _ in range(repeat):
        decoder.decode(registers)
    numpy_rate = repeat * len(tags) / (time.perf_counter() - start)
    convert = AsyncModbusTcpClient.convert_from_registers
    float32 = AsyncModbusTcpClient.DATATYPE.FLOAT32
    plans: list[tuple[int, Literal["big", "little"], bool]] = [
        (
            t.address,
            "little" if t.byte_order in ("CDAB", "DCBA") else "big",
            t.byte_order in ("BADC", "DCBA"),
        )
        for t in tags
    ]
    start = time.perf_counter()
    n = repeat // 10
    for _ in range(n):
        for address, word_order, swap in plans:
            regs = registers[address : address + 2]
            if swap:
                regs = [((r & 0xFF) << 8) | (r >> 8) for r in regs]
            convert(regs, float32, word_order=word_order)
    pymodbus_rate = n * len(tags) / (time.perf_counter() - start)
    return numpy_rate, pymodbus_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    ready = ctx.Queue()
    server = ctx.Process(target=serve, args=(ready,), daemon=True)
    server.start()
    try:
        port = ready.get(timeout=60)
        results: dict[tuple[str, int], list[Run]] = {}
        for connections in (1, 4):
            for _ in range(args.runs):
                for kind, run in (("baseline", run_baseline), ("connector", run_connector)):
                    outcome = asyncio.run(run(port, connections, args.seconds))
                    results.setdefault((kind, connections), []).append(outcome)
    finally:
        server.terminate()
        server.join()
    numpy_rate, pymodbus_rate = decode_rates()

    def med(kind: str, connections: int, attr: str) -> float:
        return median([getattr(r, attr) for r in results[(kind, connections)]])

    rows = []
    figures: dict[str, object] = {"registers_per_read": 100, "values_per_read": VALUES}
    for connections in (1, 4):
        base = med("baseline", connections, "reads_per_s")
        conn = med("connector", connections, "reads_per_s")
        readings = median([r.readings / r.seconds for r in results[("connector", connections)]])
        base_cpu = med("baseline", connections, "cpu_us_per_read")
        conn_cpu = med("connector", connections, "cpu_us_per_read")
        rows.append(
            [f"raw pymodbus, {connections} conn", f"{base:,.0f}", "-", f"{base_cpu:.0f}", "1.00"]
        )
        rows.append(
            [
                f"connector, {connections} conn",
                f"{conn:,.0f}",
                f"{readings:,.0f}",
                f"{conn_cpu:.0f}",
                f"{conn / base:.2f}",
            ]
        )
        figures[f"baseline_reads_per_s_{connections}conn"] = round(base)
        figures[f"connector_reads_per_s_{connections}conn"] = round(conn)
        figures[f"connector_readings_per_s_{connections}conn"] = round(readings)
        figures[f"ratio_{connections}conn"] = round(conn / base, 3)
        figures[f"baseline_cpu_us_per_read_{connections}conn"] = round(base_cpu, 1)
        figures[f"connector_cpu_us_per_read_{connections}conn"] = round(conn_cpu, 1)
    rows.append(["decode only: BlockDecoder", "-", f"{numpy_rate:,.0f}", "-", "-"])
    rows.append(["decode only: convert_from_registers", "-", f"{pymodbus_rate:,.0f}", "-", "-"])
    figures["decode_readings_per_s_numpy"] = round(numpy_rate)
    figures["decode_readings_per_s_pymodbus"] = round(pymodbus_rate)
    figures["decode_ratio"] = round(numpy_rate / pymodbus_rate, 1)
    report(
        f"Modbus reads of 100 registers, simulator in another process (median of {args.runs})",
        ["path", "reads/s", "readings/s", "client CPU µs/read", "vs raw"],
        rows,
        figures,
    )


if __name__ == "__main__":
    main()
