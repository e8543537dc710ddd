"""The Modbus simulator: its register map, the bytes on the wire, and fault injection.

Expected registers are built here with ``struct`` from the generator's value, following the
README's rules by hand (they never go through the simulator's own encoder).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException

from anh_reporter.domain.timeutil import to_us
from anh_reporter.simulator.faults import Fault, FaultKind, FaultLog
from anh_reporter.simulator.modbus_server import (
    ModbusSimulator,
    RegisterEntry,
    SimulatorError,
    raw_value,
    register_map,
)
from anh_reporter.simulator.signals import SignalSpec, generate
from anh_reporter.site import Site, load_site
from tests.conftest import EXAMPLE_SITE, ROOT

T = to_us(dt.datetime(2025, 6, 2, 12, 0, tzinfo=dt.UTC))  # on every sampling grid (10 s, 60 s)
SEED = 42
LACT, GAS, CDL1 = 1, 2, 8
F = "CAMPO-DEMO-LLANOS"


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(EXAMPLE_SITE)


def value_at(site: Site, code: str, t_us: int) -> float:
    """The generator's value for a series of the example site (keys 1.. in site order)."""
    for key, (c, s) in enumerate(site.series_codes(), start=1):
        if c == code:
            commissioned = to_us(dt.datetime.combine(s.commissioned, dt.time(), dt.UTC))
            spec = SignalSpec(
                key, s.variable, s.range[0], s.range[1], commissioned, s.rollover, s.simulation
            )
            return float(generate(spec, np.array([t_us], dtype=np.int64), SEED)[0])
    raise KeyError(code)


def words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def swap_words(regs: list[int]) -> list[int]:
    return regs[::-1]


def swap_bytes(regs: list[int]) -> list[int]:
    return [((r & 0xFF) << 8) | (r >> 8) for r in regs]


class Clock:
    def __init__(self, t: int) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


@pytest.fixture
async def sim(site: Site) -> AsyncIterator[ModbusSimulator]:
    simulator = ModbusSimulator(site, port=0, seed=SEED, clock=Clock(T))
    async with simulator:
        yield simulator


@pytest.fixture
async def client(sim: ModbusSimulator) -> AsyncIterator[AsyncModbusTcpClient]:
    c = AsyncModbusTcpClient("127.0.0.1", port=sim.port, timeout=0.3, retries=0, reconnect_delay=0)
    assert await c.connect()
    yield c
    c.close()


def test_map_layout_is_deterministic_and_follows_the_rules(site: Site) -> None:
    m = register_map(site)
    assert m == register_map(site)
    # Unit ids 1.. in site order: the PMOs, then the wells.
    assert [code for _, code in m.devices] == [
        "PMO-LACT-01",
        "PMO-GAS-01",
        "PMO-AGUA-01",
        "PMO-CRUDO-01",
        "PMO-GAS-COMB-01",
        "PMO-GAS-TEA-01",
        "PMO-AGUA-DISP-01",
        "CDL-001",
        "CDL-002",
        "CDL-003",
        "CDL-004",
        "CDL-005",
        "CDL-006",
    ]
    assert [u for u, _ in m.devices] == list(range(1, 14))
    for unit, _ in m.devices:
        entries = m.of_unit(unit)
        for a, b in itertools.pairwise(entries):
            assert a.end <= b.address  # no overlap
        assert all(e.address % 2 == 0 for e in entries if e.width > 1)
    by_series = {e.series: e for e in m.entries}
    lact = f"{F}.PMO-LACT-01"
    assert [(e.address, e.data_type, e.byte_order, e.scale) for e in m.of_unit(LACT)] == [
        (0, "float32", "ABCD", 1.0),  # oil_rate
        (2, "int32", "ABCD", 0.1),  # oil_total, 0.1 bbl counts, rolls over at 1e7 bbl
        (4, "float32", "CDAB", 1.0),  # meter_temperature
        (6, "float32", "BADC", 1.0),  # meter_pressure
        (8, "float64", "DCBA", 1.0),  # bsw
        (12, "float64", "DCBA", 1.0),  # api_gravity
    ]
    assert by_series[f"{lact}.oil_total"].totalizer
    gas_total = by_series[f"{F}.PMO-GAS-01.gas_total"]
    assert (gas_total.data_type, gas_total.byte_order, gas_total.scale) == ("uint32", "CDAB", 1.0)
    casing = by_series[f"{F}.CDL-001.casing_pressure"]
    assert (casing.address, casing.data_type, casing.byte_order, casing.scale) == (
        2,
        "int16",
        "BADC",
        0.1,
    )
    assert {e.data_type for e in m.entries} == {
        "int16",
        "uint16",
        "int32",
        "uint32",
        "float32",
        "float64",
    }
    assert {e.byte_order for e in m.entries} == {"ABCD", "CDAB", "BADC", "DCBA"}


def test_readme_shows_the_example_map(site: Site) -> None:
    readme = (ROOT / "src/anh_reporter/connectors/modbus/README.md").read_text(encoding="utf-8")
    assert register_map(site).to_markdown() in readme


def test_integer_encoding_rolls_over_and_saturates() -> None:
    def entry(data_type: str, scale: float, totalizer: bool) -> RegisterEntry:
        return RegisterEntry(1, "D", "S", "v", "u", 0, data_type, "ABCD", scale, 1.0, totalizer)  # type: ignore[arg-type]

    # A uint32 counter of whole units wraps at 2**32; an int32 one of 0.1 units at 2**31 counts.
    assert raw_value(2**32 + 5.7, entry("uint32", 1.0, True)) == 5
    assert raw_value(214_748_364.8 + 0.25, entry("int32", 0.1, True)) == 2
    # A 0.1-unit int16 pressure saturates at 3276.7 and rounds to the nearest count.
    assert raw_value(4000.0, entry("int16", 0.1, False)) == 32767
    assert raw_value(225.26, entry("int16", 0.1, False)) == 2253


async def test_registers_on_the_wire_in_every_byte_order(
    site: Site, sim: ModbusSimulator, client: AsyncModbusTcpClient
) -> None:
    lact = (await client.read_holding_registers(0, count=16, device_id=LACT)).registers
    oil_rate = value_at(site, f"{F}.PMO-LACT-01.oil_rate", T)
    oil_total = value_at(site, f"{F}.PMO-LACT-01.oil_total", T)
    temperature = value_at(site, f"{F}.PMO-LACT-01.meter_temperature", T)
    pressure = value_at(site, f"{F}.PMO-LACT-01.meter_pressure", T)
    bsw = value_at(site, f"{F}.PMO-LACT-01.bsw", T)
    assert lact[0:2] == words(struct.pack(">f", oil_rate))  # ABCD
    assert lact[2:4] == words(struct.pack(">i", math.floor(oil_total / 0.1)))  # ABCD, 0.1 bbl
    assert lact[4:6] == swap_words(words(struct.pack(">f", temperature)))  # CDAB
    assert lact[6:8] == swap_bytes(words(struct.pack(">f", pressure)))  # BADC
    assert lact[8:12] == words(struct.pack("<d", bsw))  # DCBA = little-endian bytes

    gas = (await client.read_holding_registers(0, count=8, device_id=GAS)).registers
    gas_total = value_at(site, f"{F}.PMO-GAS-01.gas_total", T)
    assert gas[2:4] == swap_words(words(struct.pack(">I", math.floor(gas_total))))  # CDAB

    well = (await client.read_holding_registers(0, count=12, device_id=CDL1)).registers
    casing = value_at(site, f"{F}.CDL-001.casing_pressure", T)
    pump = value_at(site, f"{F}.CDL-001.pump_status", T)
    motor = value_at(site, f"{F}.CDL-001.motor_current", T)
    assert well[2] == swap_bytes(words(struct.pack(">h", round(casing / 0.1))))[0]  # BADC
    assert well[3] == 0  # the hole before the next 32-bit value
    assert well[6] == round(pump)  # uint16 0/1
    assert well[10:12] == words(struct.pack("<f", motor))  # float32 DCBA

    # The same registers answer input-register reads.
    inputs = (await client.read_input_registers(0, count=16, device_id=LACT)).registers
    assert inputs == lact


async def test_values_change_once_per_sampling_period(site: Site) -> None:
    clock = Clock(T)
    sim = ModbusSimulator(site, port=0, seed=SEED, clock=clock)
    first = sim.registers(LACT)
    clock.t = T + 9_999_999  # still in the same 10 s sampling slot
    assert sim.registers(LACT) == first
    clock.t = T + 10_000_000  # the 10 s series move, the 60 s ones (bsw, api) do not
    second = sim.registers(LACT)
    assert second[0:2] == words(
        struct.pack(">f", value_at(site, f"{F}.PMO-LACT-01.oil_rate", clock.t))
    )
    assert second[0:2] != first[0:2]
    assert second[8:16] == first[8:16]


async def test_value_faults_alter_the_served_value(site: Site) -> None:
    clock = Clock(T + 30_000_000)
    sim = ModbusSimulator(site, port=0, seed=SEED, clock=clock)
    code = f"{F}.PMO-LACT-01.oil_rate"
    key = sim.key_of(code)
    live = value_at(site, code, clock.t)
    sim.inject(Fault(FaultKind.STUCK, key, T, T + 100_000_000))
    assert sim.values(LACT)[code] == value_at(site, code, T)  # held at the window's start
    sim.clear()
    sim.inject(Fault(FaultKind.SPIKE, key, T, T + 100_000_000, magnitude=1.0))
    assert sim.values(LACT)[code] == 2 * live
    sim.clear(key)
    sim.inject(Fault(FaultKind.FLATLINE, key, T, T + 100_000_000))
    assert sim.values(LACT)[code] == 0.0
    assert sim.clear() == 1
    assert sim.values(LACT)[code] == live


async def test_comm_loss_silences_one_device_and_bad_status_answers_0x04(
    site: Site, sim: ModbusSimulator, client: AsyncModbusTcpClient, tmp_path: Path
) -> None:
    sim.fault_log = FaultLog(tmp_path / "faults.jsonl")
    silent = Fault(FaultKind.COMM_LOSS, sim.key_of(f"{F}.PMO-LACT-01.bsw"), T - 1, T + 10**9)
    bad = Fault(FaultKind.BAD_STATUS, sim.key_of(f"{F}.CDL-001.motor_current"), T - 1, T + 10**9)
    sim.inject(silent)
    sim.inject(bad)
    assert FaultLog.read(tmp_path / "faults.jsonl") == [silent, bad]

    with pytest.raises(ModbusIOException):  # no response at all: the client times out
        await client.read_holding_registers(0, count=2, device_id=LACT)
    assert not (await client.read_holding_registers(0, count=2, device_id=GAS)).isError()
    failed = await client.read_holding_registers(8, count=4, device_id=CDL1)
    assert failed.isError() and failed.exception_code == 0x04  # device failure
    untouched = await client.read_holding_registers(0, count=8, device_id=CDL1)
    assert not untouched.isError()  # motor_current (10..11) is not in this read

    assert sim.clear() == 2
    assert not (await client.read_holding_registers(0, count=2, device_id=LACT)).isError()
    assert not (await client.read_holding_registers(8, count=4, device_id=CDL1)).isError()


async def test_unknown_unit_writes_and_reads_past_the_map_are_refused(
    client: AsyncModbusTcpClient,
) -> None:
    unknown = await client.read_holding_registers(0, count=2, device_id=99)
    assert unknown.exception_code == 0x0A  # gateway path unavailable
    write = await client.write_register(0, 7, device_id=LACT)
    assert write.exception_code == 0x02  # read-only: illegal data address
    past = await client.read_holding_registers(0, count=17, device_id=LACT)
    assert past.exception_code == 0x02


async def test_stop_and_restart_on_the_same_port(site: Site) -> None:
    sim = ModbusSimulator(site, port=0, seed=SEED, clock=Clock(T))
    await sim.start()
    port = sim.port
    await sim.stop()
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=0.3, reconnect_delay=0)
    assert not await client.connect()
    await sim.start()
    try:
        assert sim.port == port
        assert await client.connect()
        assert not (await client.read_holding_registers(0, count=2, device_id=LACT)).isError()
    finally:
        client.close()
        await sim.stop()


async def test_a_taken_port_is_a_readable_error(site: Site) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        sim = ModbusSimulator(site, port=taken.getsockname()[1])
        with pytest.raises(SimulatorError, match=r"cannot listen on 127\.0\.0\.1:"):
            await sim.start()


def test_faults_must_name_a_served_series(site: Site) -> None:
    sim = ModbusSimulator(site)
    with pytest.raises(SimulatorError, match="no served series has key 999"):
        sim.inject(Fault(FaultKind.STUCK, 999, T, T + 1))
    with pytest.raises(SimulatorError, match="serves no series 'nope'"):
        sim.key_of("nope")
