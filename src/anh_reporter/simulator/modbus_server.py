"""The simulated field served over Modbus TCP (pymodbus), with fault injection.

Every PMO and well of the site is one unit (device) id, numbered from 1 in site order (per
field: PMOs, then wells). Its series are laid out in holding registers from address 0 by
:func:`register_map`, a pure function of the site (documented, with the example site's map, in
``connectors/modbus/README.md``). The same registers answer input-register reads (function 4);
writes are refused (exception 0x02).

Values come from :func:`~anh_reporter.simulator.signals.generate` at the latest instant of
each series' sampling grid, so a register changes once per sampling period and agrees with the
backfilled history. Faults (:mod:`~anh_reporter.simulator.faults`) apply per series:

* value faults (stuck, spike, drift, flatline, meter factor) alter the served value;
* ``comm_loss`` makes the series' whole device stop answering (no response: the client times
  out); :meth:`ModbusSimulator.stop` takes the whole server down instead;
* ``bad_status`` answers a read that touches the series' registers with exception 0x04
  (device failure).

A unit id that is not in the map gets exception 0x0A (gateway path unavailable).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimDataType
from pymodbus.simulator import SimData, SimDevice

from anh_reporter.connectors.modbus.config import (
    REGISTERS_PER_TYPE,
    DataType,
    ModbusConfig,
    ModbusDevice,
    ModbusTag,
)
from anh_reporter.connectors.tagmap import ByteOrder
from anh_reporter.domain.quality import GOOD
from anh_reporter.domain.timeutil import to_us
from anh_reporter.domain.variables import VARIABLES, VariableKind
from anh_reporter.errors import AnhError, ConfigError
from anh_reporter.simulator.faults import Fault, FaultKind, FaultLog, apply_faults
from anh_reporter.simulator.signals import SignalSpec, generate
from anh_reporter.simulator.specs import site_signal_specs
from anh_reporter.site import Series, Site, series_code

MAX_UNIT_ID = 247
INT16_MAX = 2**15 - 1
UINT16_MAX = 2**16 - 1
INT32_MAX = 2**31 - 1
UINT32_MAX = 2**32 - 1
STEPS = (0.1, 1.0, 10.0, 100.0, 1_000.0, 10_000.0)
"""Candidate register resolutions (k in engineering = raw * k) for integer encodings."""

_DATATYPE = AsyncModbusTcpClient.DATATYPE
_PYMODBUS_TYPES = {
    "int16": _DATATYPE.INT16,
    "uint16": _DATATYPE.UINT16,
    "int32": _DATATYPE.INT32,
    "uint32": _DATATYPE.UINT32,
    "float32": _DATATYPE.FLOAT32,
    "float64": _DATATYPE.FLOAT64,
}
_INT_LIMITS = {
    "int16": (-(2**15), INT16_MAX),
    "uint16": (0, UINT16_MAX),
    "int32": (-(2**31), INT32_MAX),
    "uint32": (0, UINT32_MAX),
}


class SimulatorError(AnhError):
    """The simulator cannot serve (e.g. the port is taken) or was given an unknown series."""


@dataclass(frozen=True)
class RegisterEntry:
    """Where and how one series is served."""

    unit_id: int
    device: str
    series: str
    variable: str
    unit: str
    address: int
    data_type: DataType
    byte_order: ByteOrder
    scale: float
    sampling_period_s: float
    totalizer: bool

    @property
    def width(self) -> int:
        """Registers the value occupies."""
        return REGISTERS_PER_TYPE[self.data_type]

    @property
    def end(self) -> int:
        """One past its last register."""
        return self.address + self.width


@dataclass(frozen=True)
class RegisterMap:
    """The whole map: unit ids of the devices, and one entry per series."""

    devices: tuple[tuple[int, str], ...]
    entries: tuple[RegisterEntry, ...]

    def of_unit(self, unit_id: int) -> list[RegisterEntry]:
        """Entries served by one unit id, by address."""
        return [e for e in self.entries if e.unit_id == unit_id]

    def entry(self, series: str) -> RegisterEntry:
        """The entry of a series code."""
        for e in self.entries:
            if e.series == series:
                return e
        raise SimulatorError(f"series {series!r} is not in the Modbus register map")

    def to_markdown(self) -> str:
        """The map as a Markdown table (the README's, and what ``simulate`` can print)."""
        lines = [
            "| Unit id | Device | Address | Ref | Type | Order | Scale k | Series | Unit |",
            "|---:|---|---:|---:|---|---|---:|---|---|",
        ]
        for e in self.entries:
            lines.append(
                f"| {e.unit_id} | {e.device} | {e.address} | {modicon_reference(e.address)} "
                f"| {e.data_type} | {e.byte_order} | {e.scale:g} | {e.series} | {e.unit} |"
            )
        return "\n".join(lines) + "\n"

    def connector_config(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 5020,
        poll_period_s: float | None = None,
        sampling_period_s: float | None = None,
        timeout_s: float = 1.0,
        max_gap: int = 8,
        reconnect_initial_s: float = 0.5,
        reconnect_max_s: float = 30.0,
    ) -> ModbusConfig:
        """A connector tag map reading this map (sampling periods from the site unless given)."""
        devices = []
        for unit_id, code in self.devices:
            entries = self.of_unit(unit_id)
            if not entries:
                continue
            tags = tuple(
                ModbusTag(
                    series=e.series,
                    address=e.address,
                    data_type=e.data_type,
                    byte_order=e.byte_order,
                    scale=e.scale,
                    sampling_period_s=sampling_period_s or e.sampling_period_s,
                )
                for e in entries
            )
            devices.append(
                ModbusDevice(
                    name=code,
                    host=host,
                    port=port,
                    unit_id=unit_id,
                    poll_period_s=poll_period_s,
                    timeout_s=timeout_s,
                    tags=tags,
                )
            )
        return ModbusConfig(
            max_gap=max_gap,
            reconnect_initial_s=reconnect_initial_s,
            reconnect_max_s=reconnect_max_s,
            devices=tuple(devices),
        )


def modicon_reference(address: int) -> int:
    """The holding-register reference a SCADA manual quotes: 40001 + address (6 digits above)."""
    return 40_001 + address if address <= 9_998 else 400_001 + address


def encoding(series: Series) -> tuple[DataType, ByteOrder, float]:
    """Data type, byte order and resolution k of a series, by variable (the README's rules)."""
    variable = series.variable
    kind = VARIABLES[variable].kind
    lo, hi = series.range
    if kind is VariableKind.RATE:
        return "float32", "ABCD", 1.0
    if kind is VariableKind.TOTALIZER:
        # The largest count the register must hold: the modulus less one step (the counter
        # wraps from just below the rollover to 0), else the top of the range.
        for k in STEPS:
            top = series.rollover / k - 1 if series.rollover else hi / k
            if top <= INT32_MAX:
                return "int32", "ABCD", k
            if top <= UINT32_MAX:
                return "uint32", "CDAB", k
        raise ConfigError(
            f"totalizer {variable}: rollover {series.rollover or hi:.15g} is too large to serve"
        )
    if variable == "casing_pressure":  # an older RTU: 16-bit integer, bytes swapped
        return "int16", "BADC", _step(max(abs(lo), abs(hi)), INT16_MAX)
    if variable.endswith("_pressure"):
        return "float32", "BADC", 1.0
    if variable.endswith("_temperature"):
        return "float32", "CDAB", 1.0
    if variable in ("bsw", "api_gravity"):
        return "float64", "DCBA", 1.0
    if kind is VariableKind.STATE:
        return "uint16", "ABCD", 1.0 if series.unit == "bool" else _step(hi, UINT16_MAX)
    return "float32", "DCBA", 1.0


def _step(top: float, limit: int) -> float:
    for k in STEPS:
        if top / k <= limit:
            return k
    raise ConfigError(f"value {top} is too large for a 16-bit register")


def register_map(site: Site) -> RegisterMap:
    """The deterministic register map of a site (see the module docstring and the README)."""
    devices: list[tuple[int, str]] = []
    entries: list[RegisterEntry] = []
    for field in site.fields:
        owners = [(p.code, p.series) for p in field.pmos] + [
            (w.code, w.series) for w in field.wells
        ]
        for code, series in owners:
            unit_id = len(devices) + 1
            if unit_id > MAX_UNIT_ID:
                raise ConfigError(
                    f"the site has more than {MAX_UNIT_ID} PMOs and wells; one Modbus server "
                    f"serves unit ids 1..{MAX_UNIT_ID}"
                )
            devices.append((unit_id, code))
            address = 0
            for s in series:
                data_type, byte_order, k = encoding(s)
                width = REGISTERS_PER_TYPE[data_type]
                if width > 1 and address % 2:  # 32/64-bit values start on even addresses
                    address += 1
                entries.append(
                    RegisterEntry(
                        unit_id=unit_id,
                        device=code,
                        series=series_code(field.code, code, s),
                        variable=s.variable,
                        unit=s.unit,
                        address=address,
                        data_type=data_type,
                        byte_order=byte_order,
                        scale=k,
                        sampling_period_s=s.sampling_period_s,
                        totalizer=VARIABLES[s.variable].kind is VariableKind.TOTALIZER,
                    )
                )
                address += width
    return RegisterMap(tuple(devices), tuple(entries))


def raw_value(value: float, entry: RegisterEntry) -> int | float:
    """What the registers hold: the value, or integer counts of k (totalizers truncate and
    roll over at the type's size, other integers round and saturate)."""
    if entry.data_type.startswith("float"):
        return value
    counts = value / entry.scale
    lo, hi = _INT_LIMITS[entry.data_type]
    if entry.totalizer:
        return math.floor(counts) % (hi + 1)
    return int(min(max(round(counts), lo), hi))


def encode(value: float, entry: RegisterEntry) -> list[int]:
    """The registers of one value in the entry's data type and byte order."""
    word_order: Literal["big", "little"] = (
        "little" if entry.byte_order in ("CDAB", "DCBA") else "big"
    )
    registers = AsyncModbusTcpClient.convert_to_registers(
        raw_value(value, entry), _PYMODBUS_TYPES[entry.data_type], word_order=word_order
    )
    if entry.byte_order in ("BADC", "DCBA"):  # pymodbus orders words only; swap bytes here
        registers = [((r & 0xFF) << 8) | (r >> 8) for r in registers]
    return registers


class _Device:
    """One unit id: its registers, kept current lazily on each request."""

    def __init__(self, unit_id: int, entries: list[RegisterEntry], specs: list[SignalSpec]):
        self.unit_id = unit_id
        self.entries = entries
        self.specs = specs
        self.keys = {spec.key for spec in specs}
        self.size = max((e.end for e in entries), default=1)
        self.registers = [0] * self.size
        self.values: dict[str, float] = {}
        self.version = 0
        self.runtime_version = -1
        self.next_update_us = -1
        self.silent = False
        self.bad_ranges: list[tuple[int, int]] = []
        self.faults: list[Fault] = []

    def refresh(self, now_us: int, seed: int) -> None:
        """Recompute values and fault states when a sampling instant or fault edge has passed."""
        if now_us < self.next_update_us:
            return
        next_us = 2**62
        silent = False
        bad: list[tuple[int, int]] = []
        for entry, spec in zip(self.entries, self.specs, strict=True):
            period = round(entry.sampling_period_s * 1_000_000)
            t = now_us // period * period
            next_us = min(next_us, t + period)
            faults = [f for f in self.faults if f.series_key == spec.key]
            for f in faults:
                for edge in (f.start_us, f.end_us):
                    if edge > now_us:
                        next_us = min(next_us, edge)
            times = np.array([t, now_us], dtype=np.int64)
            value = float(generate(spec, times[:1], seed)[0])
            values, quality, no_answer = apply_faults(
                faults,
                spec.key,
                times,
                np.array([value, value]),
                np.zeros(2, dtype=np.uint32),
                stuck_value=_stuck_value(faults, spec, t, period, seed),
            )
            # The value follows the sampling grid; answering or not follows the clock.
            silent |= bool(no_answer[1])
            if quality[1] != GOOD and not no_answer[1]:
                bad.append((entry.address, entry.end))
            if math.isfinite(values[0]):
                self.registers[entry.address : entry.end] = encode(float(values[0]), entry)
                self.values[entry.series] = float(values[0])
        self.silent, self.bad_ranges = silent, bad
        self.next_update_us = next_us
        self.version += 1

    def invalidate(self) -> None:
        """Recompute on the next request (faults changed)."""
        self.next_update_us = -1


def _stuck_value(
    faults: list[Fault], spec: SignalSpec, t: int, period: int, seed: int
) -> float | None:
    """The value at the first sampling instant of the stuck window that holds ``t``."""
    for f in faults:
        if f.kind is FaultKind.STUCK and f.start_us <= t < f.end_us:
            first = -(-f.start_us // period) * period
            return float(generate(spec, np.array([first], dtype=np.int64), seed)[0])
    return None


def _wall_clock_us() -> int:
    return to_us(dt.datetime.now(dt.UTC))


class ModbusSimulator:
    """A Modbus TCP server serving a site, with a small control API for faults."""

    def __init__(
        self,
        site: Site,
        *,
        host: str = "127.0.0.1",
        port: int = 5020,
        seed: int = 42,
        keys: Mapping[str, int] | None = None,
        clock: Callable[[], int] = _wall_clock_us,
        fault_log: FaultLog | None = None,
    ) -> None:
        """``port`` 0 picks a free port (see :attr:`port` once started); ``keys`` are the series
        keys of the signal generator (database ids), by series code; ``clock`` gives µs UTC."""
        self.host = host
        self.port = port
        self.seed = seed
        self.clock = clock
        self.fault_log = fault_log
        self.map = register_map(site)
        self.specs = site_signal_specs(site, keys)
        self._devices = {
            unit_id: _Device(
                unit_id,
                self.map.of_unit(unit_id),
                [self.specs[e.series] for e in self.map.of_unit(unit_id)],
            )
            for unit_id, _ in self.map.devices
        }
        self._server: ModbusTcpServer | None = None

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    async def start(self) -> None:
        """Listen on ``host:port``; raise :class:`SimulatorError` when that is impossible."""
        if self._server is not None:
            return
        devices = [
            SimDevice(
                d.unit_id,
                simdata=[
                    SimData(
                        0, count=d.size, values=0, datatype=SimDataType.REGISTERS, readonly=True
                    )
                ],
                action=functools.partial(self._serve, d),
            )
            for d in self._devices.values()
        ]
        # Unit id 0 in pymodbus stands for every unit id not listed: answer as a gateway would.
        devices.append(
            SimDevice(
                0,
                simdata=[
                    SimData(
                        0, count=65_536, values=0, datatype=SimDataType.REGISTERS, readonly=True
                    )
                ],
                action=_unknown_unit,
            )
        )
        for d in self._devices.values():
            d.runtime_version = -1
        # ignore_missing_devices: a NoSuchIdException from an action then sends no response.
        server = ModbusTcpServer(
            devices, address=(self.host, self.port), ignore_missing_devices=True
        )
        try:
            await server.serve_forever(background=True)
        except (RuntimeError, OSError) as exc:
            raise SimulatorError(
                f"Modbus simulator cannot listen on {self.host}:{self.port} ({exc}); "
                "is the port in use? choose another with --modbus-port"
            ) from None
        self._server = server
        transport: Any = server.transport
        self.port = int(transport.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and drop every connection (a whole-server communication loss)."""
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]  # unannotated in pymodbus

    async def __aenter__(self) -> ModbusSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def inject(self, fault: Fault) -> None:
        """Add a fault (and log it when a fault log was given)."""
        device = self._device_of_key(fault.series_key)
        device.faults.append(fault)
        device.invalidate()
        if self.fault_log is not None:
            self.fault_log.record(fault)

    def clear(self, series_key: int | None = None) -> int:
        """Remove the faults of one series, or all; returns how many were removed."""
        removed = 0
        for device in self._devices.values():
            keep = [
                f for f in device.faults if series_key is not None and f.series_key != series_key
            ]
            removed += len(device.faults) - len(keep)
            device.faults = keep
            device.invalidate()
        return removed

    @property
    def faults(self) -> list[Fault]:
        """The faults currently injected."""
        return [f for d in self._devices.values() for f in d.faults]

    def inject_now(
        self, kind: FaultKind | str, code: str, seconds: float, magnitude: float = 0.0
    ) -> Fault:
        """Inject a fault on a series (by code) from now (the simulator's clock) for ``seconds``."""
        start = self.clock()
        fault = Fault(
            FaultKind(kind), self.key_of(code), start, start + round(seconds * 1e6), magnitude
        )
        self.inject(fault)
        return fault

    async def outage(self, seconds: float) -> None:
        """Take the whole server down for ``seconds`` (logged as comm_loss on every series)."""
        start = self.clock()
        if self.fault_log is not None:
            end = start + round(seconds * 1_000_000)
            for spec in self.specs.values():
                self.fault_log.record(
                    Fault(FaultKind.COMM_LOSS, spec.key, start, end, note="server outage")
                )
        await self.stop()
        await asyncio.sleep(seconds)
        await self.start()

    def key_of(self, code: str) -> int:
        """The generator key of a series code (for building a :class:`Fault`)."""
        try:
            return self.specs[code].key
        except KeyError:
            raise SimulatorError(f"the simulator serves no series {code!r}") from None

    def registers(self, unit_id: int) -> list[int]:
        """The registers a read of ``unit_id`` would return now (from address 0)."""
        device = self._devices[unit_id]
        device.refresh(self.clock(), self.seed)
        return list(device.registers)

    def values(self, unit_id: int) -> dict[str, float]:
        """The engineering values served now by ``unit_id``, by series code (before encoding)."""
        device = self._devices[unit_id]
        device.refresh(self.clock(), self.seed)
        return dict(device.values)

    def _device_of_key(self, key: int) -> _Device:
        for device in self._devices.values():
            if key in device.keys:
                return device
        raise SimulatorError(f"no served series has key {key}; faults need a served series")

    async def _serve(
        self,
        device: _Device,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """pymodbus action, run before each answer: refresh, then stay silent, fail or serve."""
        device.refresh(self.clock(), self.seed)
        if device.silent:
            raise NoSuchIdException(f"unit {device.unit_id} is in a simulated comm_loss")
        for lo, hi in device.bad_ranges:
            if address < hi and lo < address + count:
                return ExcCodes.DEVICE_FAILURE
        if device.runtime_version != device.version:
            current_registers[: device.size] = device.registers
            device.runtime_version = device.version
        return None


async def _unknown_unit(
    function_code: int,
    start_address: int,
    address: int,
    count: int,
    current_registers: list[int],
    set_values: list[int] | list[bool] | None,
) -> ExcCodes | None:
    return ExcCodes.GATEWAY_PATH_UNAVIABLE
