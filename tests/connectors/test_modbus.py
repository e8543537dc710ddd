"""Modbus connector: tag map, read planning, and end to end against the simulator into PostgreSQL.

Expected values in the end-to-end test come from the signal generator at the simulator's frozen
instant, encoded by the README's rules written out here by hand (float32 rounding, counts of
k); they never go through the simulator's encoder or the connector's decoder.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import math
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from anh_reporter.connectors.base import ConnectorError
from anh_reporter.connectors.modbus import (
    ModbusConfig,
    ModbusConnector,
    ModbusTag,
    load_config,
    plan_reads,
)
from anh_reporter.connectors.tagmap import Deadband
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import (
    BAD_COMMUNICATION_FAILURE,
    BAD_NO_COMMUNICATION,
    BAD_TIMEOUT,
    to_stored,
)
from anh_reporter.domain.timeutil import to_us
from anh_reporter.errors import ConfigError
from anh_reporter.simulator.backfill import signal_specs
from anh_reporter.simulator.faults import Fault, FaultKind
from anh_reporter.simulator.modbus_server import ModbusSimulator, register_map
from anh_reporter.simulator.signals import generate
from anh_reporter.site import Site, load_site
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter, WriteResult
from tests.conftest import EXAMPLE_SITE, ROOT

SAMPLE = ROOT / "src/anh_reporter/connectors/modbus/sample.yaml"
T = to_us(dt.datetime(2025, 6, 2, 12, 0, tzinfo=dt.UTC))  # on every sampling grid
SEED = 42
F = "CAMPO-DEMO-LLANOS"

# The README's encodings, by variable: (data type, k).
ENCODING = {
    "oil_rate": ("float32", 1.0),
    "gas_rate": ("float32", 1.0),
    "water_rate": ("float32", 1.0),
    "oil_total": ("int32", 0.1),
    "gas_total": ("uint32", 1.0),
    "meter_temperature": ("float32", 1.0),
    "wellhead_temperature": ("float32", 1.0),
    "meter_pressure": ("float32", 1.0),
    "tubing_pressure": ("float32", 1.0),
    "casing_pressure": ("int16", 0.1),
    "bsw": ("float64", 1.0),
    "api_gravity": ("float64", 1.0),
    "pump_status": ("uint16", 1.0),
    "pump_speed": ("float32", 1.0),
    "strokes_per_minute": ("float32", 1.0),
    "motor_current": ("float32", 1.0),
    "tank_level": ("float32", 1.0),
    "tank_temperature": ("float32", 1.0),
}


def served(variable: str, value: float) -> float:
    """What a reader of the register gets back, in engineering units."""
    data_type, k = ENCODING[variable]
    if data_type == "float32":
        return float(np.float32(value))
    if data_type == "float64":
        return value
    counts = math.floor(value / k) if variable.endswith("_total") else round(value / k)
    return counts * k


def tag(address: int, data_type: str = "float32", **kw: Any) -> ModbusTag:
    series = f"s{address}-{kw.get('unit_id')}-{kw.get('register_type')}"
    return ModbusTag.model_validate(
        {"series": series, "address": address, "data_type": data_type} | kw
    )


# -- tag map ---------------------------------------------------------------------------------


def test_sample_config_loads_and_matches_the_simulator_map() -> None:
    config = load_config(SAMPLE)
    m = register_map(load_site(EXAMPLE_SITE))
    assert [(d.name, d.unit_id) for d in config.devices] == [(c, u) for u, c in m.devices]
    for device in config.devices:
        for t in device.tags:
            e = m.entry(t.series)
            assert (t.address, t.data_type, t.byte_order, t.scale, t.offset) == (
                e.address,
                e.data_type,
                e.byte_order,
                e.scale,
                0.0,
            )
            assert t.sampling_period_s == e.sampling_period_s


def test_config_errors_name_the_file_the_place_and_the_value(tmp_path: Path) -> None:
    path = tmp_path / "modbus.yaml"
    path.write_text(
        "devices:\n"
        "  - {name: d, host: h, tags: [{series: s, address: 65535, data_type: float32}]}\n"
    )
    with pytest.raises(ConfigError, match=r"modbus.yaml: devices\[0\]\.tags\[0\]: .*65536"):
        load_config(path)
    path.write_text("max_registers: 200\ndevices: []\n")
    with pytest.raises(ConfigError, match=r"max_registers: .*less than or equal to 125"):
        load_config(path)
    path.write_text(
        "devices:\n"
        "  - {name: a, host: h, tags: [{series: s, address: 0, data_type: int16}]}\n"
        "  - {name: b, host: h, tags: [{series: s, address: 0, data_type: int16}]}\n"
    )
    with pytest.raises(ConfigError, match="series 's' is fed by two tags"):
        load_config(path)


# -- read planning ---------------------------------------------------------------------------


def spans(blocks: list[Any]) -> list[tuple[int, int]]:
    return [(b.address, b.count) for b in blocks]


def test_small_holes_merge_and_large_ones_split() -> None:
    tags = [tag(10), tag(0), tag(2)]  # unsorted on purpose; hole of 6 between 4 and 10
    assert spans(plan_reads(tags, unit_id=1, max_gap=6)) == [(0, 12)]
    assert spans(plan_reads(tags, unit_id=1, max_gap=5)) == [(0, 4), (10, 2)]
    assert plan_reads(tags, unit_id=1, max_gap=5)[0].tags == (1, 2)


def test_reads_split_at_125_registers() -> None:
    tags = [tag(2 * i) for i in range(70)]  # 140 contiguous registers
    blocks = plan_reads(tags, unit_id=1, max_gap=0)
    # 62 float32 fill 124 registers; the 63rd would end at 126 > 125.
    assert spans(blocks) == [(0, 124), (124, 16)]
    assert sorted(i for b in blocks for i in b.tags) == list(range(70))
    double = [tag(0), tag(121, "float64")]  # 121..124 ends at 125: still one read
    assert spans(plan_reads(double, unit_id=1, max_gap=200)) == [(0, 125)]
    double = [tag(0), tag(122, "float64")]  # 122..125 would need 126 registers
    assert spans(plan_reads(double, unit_id=1, max_gap=200)) == [(0, 2), (122, 4)]
    assert spans(plan_reads(tags[:10], unit_id=1, max_gap=0, max_registers=8)) == [
        (0, 8),
        (8, 8),
        (16, 4),
    ]


def test_unit_ids_and_register_types_are_planned_apart() -> None:
    tags = [tag(0), tag(2, register_type="input"), tag(4, unit_id=3), tag(0, "uint16")]
    blocks = plan_reads(tags, unit_id=1, max_gap=8)
    assert [(b.unit_id, b.register_type, b.address, b.count, b.tags) for b in blocks] == [
        (1, "holding", 0, 2, (3, 0)),  # overlapping tags share a read
        (1, "input", 2, 2, (1,)),
        (3, "holding", 4, 2, (2,)),
    ]
    with pytest.raises(ValueError, match=r"max_registers 126 is outside 1\.\.125"):
        plan_reads(tags, unit_id=1, max_gap=0, max_registers=126)


def test_unknown_series_and_percent_deadband_without_span_are_refused() -> None:
    config = register_map(load_site(EXAMPLE_SITE)).connector_config()

    async def sink(batch: Batch) -> None:
        pass

    with pytest.raises(ConnectorError, match="not known to the database"):
        ModbusConnector(config, sink=sink, series_ids={})
    device = config.devices[0]
    banded = ModbusTag.model_validate(
        device.tags[0].model_dump() | {"deadband": {"kind": "percent", "value": 1.0}}
    )
    config = ModbusConfig(devices=(device.model_copy(update={"tags": (banded,)}),))
    ids = {banded.series: 1}
    with pytest.raises(ConnectorError, match="percent deadband"):
        ModbusConnector(config, sink=sink, series_ids=ids)
    ModbusConnector(config, sink=sink, series_ids=ids, spans={banded.series: 25_000.0})


# -- end to end ------------------------------------------------------------------------------


class Clock:
    def __init__(self, t: int | None) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t if self.t is not None else to_us(dt.datetime.now(dt.UTC))


class Field:
    """A loaded site, a simulator on a free port, and a connector writing to PostgreSQL."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.site: Site = load_site(EXAMPLE_SITE)
        self.conn: psycopg.Connection[Any] = db.connect()
        load_site_into(self.conn, self.site, changed_by="test")
        self.rows = list_series(self.conn)
        self.ids = {r.code: r.id for r in self.rows}
        self.writer = TelemetryWriter(self.conn)
        self.results: list[WriteResult] = []
        self.good: Counter[int] = Counter()
        self.bad: Counter[int] = Counter()
        self.sim = ModbusSimulator(self.site, port=0, seed=SEED, keys=self.ids, clock=clock)
        self.connector: ModbusConnector | None = None

    async def sink(self, batch: Batch) -> None:
        self.results.append(
            self.writer.write(batch.series_id, batch.time_us, batch.value, batch.quality)
        )
        good = batch.quality == 0
        self.good.update(batch.series_id[good].tolist())
        self.bad.update(batch.series_id[~good].tolist())

    async def start(
        self, adjust: Callable[[ModbusConfig], ModbusConfig] | None = None, **overrides: Any
    ) -> ModbusConnector:
        await self.sim.start()
        options: dict[str, Any] = {
            "port": self.sim.port,
            "poll_period_s": 0.1,
            "sampling_period_s": 0.1,
            "timeout_s": 0.25,
            "reconnect_initial_s": 0.05,
            "reconnect_max_s": 0.2,
        }
        config = self.sim.map.connector_config(**(options | overrides))
        if adjust is not None:
            config = adjust(config)
        self.connector = ModbusConnector(config, sink=self.sink, series_ids=self.ids)
        await self.connector.start()
        return self.connector

    async def until(self, what: str, done: Callable[[], bool], limit_s: float = 15.0) -> None:
        # A guard against hanging, not a timing assertion.
        for _ in range(int(limit_s / 0.05)):
            if done():
                return
            await asyncio.sleep(0.05)
        pytest.fail(f"gave up waiting for {what}")

    def counts_reach(self, counter: Counter[int], n: int, ids: list[int] | None = None) -> bool:
        return all(counter[i] >= n for i in (ids or list(self.ids.values())))

    def stored(self) -> list[tuple[int, float | None, int]]:
        return self.conn.execute(
            "SELECT series_id, value, quality FROM telemetry ORDER BY series_id, time"
        ).fetchall()

    async def close(self) -> None:
        if self.connector is not None:
            await self.connector.stop()
        await self.sim.stop()
        self.conn.close()


@pytest.fixture
async def frozen_field(db: Database) -> AsyncIterator[Field]:
    field = Field(db, Clock(T))
    yield field
    await field.close()


@pytest.fixture
async def live_field(db: Database) -> AsyncIterator[Field]:
    field = Field(db, Clock(None))
    yield field
    await field.close()


async def test_values_and_byte_orders_arrive_exactly_as_served(frozen_field: Field) -> None:
    field = frozen_field
    connector = await field.start()
    await field.until("3 polls of every series", lambda: field.counts_reach(field.good, 3))
    await connector.stop()

    specs = signal_specs(field.site, field.rows)
    expected = {
        r.id: served(r.variable, float(generate(specs[r.id], np.array([T]), SEED)[0]))
        for r in field.rows
    }
    rows = field.stored()
    assert {sid for sid, _, _ in rows} == set(expected)  # every series, incl. all 4 orders
    for sid, value, quality in rows:
        assert quality == 0
        assert value == expected[sid], f"series {sid}"
    # No duplicates: every batch was new, and the table holds exactly what was sent.
    assert all(r.duplicates == 0 for r in field.results)
    assert len(rows) == connector.status().readings
    status = connector.status()
    assert status.last_value_time is not None and status.last_error is None


async def test_a_server_outage_is_a_bad_window_then_values_resume(live_field: Field) -> None:
    field = live_field
    connector = await field.start()
    await field.until("Good values", lambda: field.counts_reach(field.good, 2))
    assert connector.status().connected
    await field.sim.stop()
    await field.until("Bad markers", lambda: field.counts_reach(field.bad, 3))
    assert not connector.status().connected
    before = Counter(field.good)
    await field.sim.start()
    await field.until(
        "recovery",
        lambda: all(field.good[i] >= before[i] + 2 for i in field.ids.values()),
    )
    await connector.stop()

    status = connector.status()
    assert status.reconnects >= len(field.sim.map.devices)
    lost = {
        int(to_stored(np.array([q], dtype=np.uint32))[0])
        for q in (BAD_NO_COMMUNICATION, BAD_TIMEOUT)
    }
    rows = field.stored()
    for sid in field.ids.values():
        mine = [(v, q) for s, v, q in rows if s == sid]
        pattern = "".join("G" if q == 0 else "B" for _, q in mine)
        assert re.fullmatch("G+B+G+", pattern), f"series {sid}: {pattern}"
        assert all(v is None and q in lost for v, q in mine if q != 0)
    assert all(r.duplicates == 0 for r in field.results)
    assert len(rows) == status.readings


async def test_device_faults_give_bad_quality_for_exactly_the_affected_reads(
    frozen_field: Field,
) -> None:
    field = frozen_field
    sim = field.sim
    lact = [sid for code, sid in field.ids.items() if ".PMO-LACT-01." in code]
    sim.inject(Fault(FaultKind.COMM_LOSS, sim.key_of(f"{F}.PMO-LACT-01.bsw"), T - 1, T + 10**9))
    motor = f"{F}.CDL-001.motor_current"
    sim.inject(Fault(FaultKind.BAD_STATUS, sim.key_of(motor), T - 1, T + 10**9))
    # max_gap 0: CDL-001 is read as [0..2], [4..6], [8..11]; motor_current shares the last
    # read with pump_speed only.
    connector = await field.start(max_gap=0)
    failing = {field.ids[motor], field.ids[f"{F}.CDL-001.pump_speed"]}
    healthy = [i for i in field.ids.values() if i not in failing and i not in lact]
    await field.until(
        "every series polled",
        lambda: (
            field.counts_reach(field.bad, 3, lact + sorted(failing))
            and field.counts_reach(field.good, 3, healthy)
        ),
    )
    assert not any(field.good[i] for i in lact + sorted(failing))
    assert not any(field.bad[i] for i in healthy)
    rows = field.stored()
    assert {q for s, _, q in rows if s in lact} == {
        to_stored(np.array([BAD_TIMEOUT], np.uint32))[0]
    }
    assert {q for s, _, q in rows if s in failing} == {
        to_stored(np.array([BAD_COMMUNICATION_FAILURE], np.uint32))[0]
    }
    assert "no answer within 0.25 s" in str(connector.device_status()["PMO-LACT-01"].last_error)
    assert "exception response 0x04" in str(connector.device_status()["CDL-001"].last_error)

    sim.clear()
    before = Counter(field.good)
    await field.until(
        "recovery after the faults are cleared",
        lambda: all(field.good[i] >= before[i] + 2 for i in lact + sorted(failing)),
    )
    assert all(r.duplicates == 0 for r in field.results)


async def test_deadband_and_sampling_period_thin_good_readings_but_never_bad_ones(
    frozen_field: Field,
) -> None:
    field = frozen_field
    oil = f"{F}.PMO-LACT-01.oil_rate"
    temperature = f"{F}.PMO-LACT-01.meter_temperature"

    def only_lact_with_a_deadband_and_a_slow_tag(config: ModbusConfig) -> ModbusConfig:
        lact = config.devices[0]
        tags = []
        for t in lact.tags:
            changes: dict[str, Any] = {}
            if t.series == oil:
                changes["deadband"] = Deadband(value=0.5)
            if t.series == temperature:
                changes["sampling_period_s"] = 0.5
            tags.append(t.model_copy(update=changes))
        return config.model_copy(
            update={"devices": (lact.model_copy(update={"tags": tuple(tags)}),)}
        )

    await field.start(only_lact_with_a_deadband_and_a_slow_tag)
    rate_id, temp_id = field.ids[oil], field.ids[temperature]
    total_id = field.ids[f"{F}.PMO-LACT-01.oil_total"]
    await field.until("polls", lambda: field.good[total_id] >= 12 and field.good[temp_id] >= 3)
    assert field.good[rate_id] == 1  # the frozen value never leaves its deadband
    await field.sim.stop()
    await field.until("Bad markers", lambda: field.bad[rate_id] >= 2)
    await field.sim.start()
    await field.until("recovery", lambda: field.good[rate_id] >= 2)  # first Good after Bad
    assert field.connector is not None
    await field.connector.stop()

    times = [
        t
        for (t,) in field.conn.execute(
            "SELECT time FROM telemetry WHERE series_id = %s AND quality = 0 ORDER BY time",
            (temp_id,),
        ).fetchall()
    ]
    # Sampled at 0.5 s on a 0.1 s poll: never closer than 0.5 s less half a poll.
    assert all(b - a >= dt.timedelta(seconds=0.45) for a, b in itertools.pairwise(times))
