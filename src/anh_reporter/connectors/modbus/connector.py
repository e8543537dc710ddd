"""The Modbus TCP connector: polls each device on its own asyncio task and emits batches.

Each device gets one connection (pymodbus ``AsyncModbusTcpClient``, its own reconnection turned
off) kept up by a :class:`~anh_reporter.connectors.runtime.Supervisor` (jittered exponential
backoff from ``reconnect_initial_s`` to ``reconnect_max_s``), beside a poll task that keeps its
cadence whether connected or not, so the Bad markers during an outage stay regular. A poll
reads the device's planned blocks (:mod:`.plan`), decodes each block at once (:mod:`.decode`),
scales ``raw * k + b``, applies the per-tag sampling period and deadband
(:func:`~anh_reporter.connectors.runtime.deadband_keep`), and puts one :class:`Batch` per poll
in the device's :class:`~anh_reporter.connectors.runtime.Outbox`: a failing sink is retried
without dropping anything, and when the outbox is full the next poll waits for room.

A block that fails gives a Bad reading (NaN value) for each of its due tags, stamped with the
poll time, so an outage is a visible window in the data and never a gap:

* no answer within the timeout: ``BAD_TIMEOUT`` (the other blocks of that unit in the same poll
  are not asked again, since the unit is silent);
* an exception response (e.g. 0x04 device failure) or a malformed answer:
  ``BAD_COMMUNICATION_FAILURE``;
* no connection (refused, closed by the server): ``BAD_NO_COMMUNICATION``.

pymodbus errors become :class:`ConnectorError` messages in :meth:`ModbusConnector.status`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from anh_reporter.connectors.base import BatchSink, ConnectorError, ConnectorStatus
from anh_reporter.connectors.modbus.config import ModbusConfig, ModbusDevice
from anh_reporter.connectors.modbus.decode import BlockDecoder
from anh_reporter.connectors.modbus.plan import ReadBlock, plan_reads
from anh_reporter.connectors.runtime import (
    Backoff,
    Supervisor,
    deadband_keep,
    deadband_limits,
    outbox_for,
)
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import (
    BAD_COMMUNICATION_FAILURE,
    BAD_NO_COMMUNICATION,
    BAD_TIMEOUT,
    GOOD,
)
from anh_reporter.domain.timeutil import from_us
from anh_reporter.observability.metrics import connector_connected, connector_last_reading_timestamp

log = logging.getLogger(__name__)

Reader = Callable[..., Awaitable[ModbusPDU]]


def _now_us() -> int:
    return time.time_ns() // 1_000


@dataclass
class _Block:
    """A planned read with everything needed to turn its registers into readings."""

    plan: ReadBlock
    decoder: BlockDecoder
    series_id: npt.NDArray[np.int32]
    k: npt.NDArray[np.float64]
    b: npt.NDArray[np.float64]
    limits: npt.NDArray[np.float64]
    due_after_us: npt.NDArray[np.int64]
    last_value: npt.NDArray[np.float64] = field(init=False)
    last_time: npt.NDArray[np.int64] = field(init=False)
    has_deadband: bool = field(init=False)

    def __post_init__(self) -> None:
        self.has_deadband = bool(self.limits.any())
        self.last_value = np.full(len(self.series_id), np.nan)
        self.last_time = np.full(len(self.series_id), np.iinfo(np.int64).min // 2, dtype=np.int64)

    def readings(
        self, t_us: int, raw: npt.NDArray[np.float64] | None, quality: int
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64], npt.NDArray[np.uint32]]:
        """The readings of this poll: due tags, deadband applied to Good values."""
        due = np.flatnonzero((t_us - self.last_time) >= self.due_after_us)
        self.last_time[due] = t_us
        # tagmap.scale's raw * k + b, per tag; NaN for a failed read
        values = np.full(len(due), np.nan) if raw is None else (raw * self.k + self.b)[due]
        if self.has_deadband:
            good = np.full(len(due), quality == GOOD)
            keep = deadband_keep(due, values, good, self.limits, self.last_value)
            due, values = due[keep], values[keep]
        return self.series_id[due], values, np.full(len(due), quality, dtype=np.uint32)


@dataclass
class _DeviceState:
    connected: bool = False
    last_error: str | None = None
    last_value_us: int | None = None


class _DevicePoller:
    """Polls one device on one connection until told to stop."""

    def __init__(
        self,
        device: ModbusDevice,
        config: ModbusConfig,
        blocks: list[_Block],
        sink: BatchSink,
        source: str,
    ) -> None:
        self.device = device
        self.config = config
        self.blocks = blocks
        self.source = source
        self.gauge = connector_connected.labels(connector=source)
        self.last_reading = connector_last_reading_timestamp.labels(connector=source)
        self.state = _DeviceState()
        self._client: AsyncModbusTcpClient | None = None
        self.stopping = False
        self.busy = False  # inside a poll: let it finish rather than cancel a request
        self.outbox = outbox_for(sink, config, name=self.where())
        self.supervisor = Supervisor(
            self.where(),
            self._session,
            Backoff(config.reconnect_initial_s, config.reconnect_max_s),
            on_down=self._down,
            describe=str,
        )
        self._link_lost = asyncio.Event()

    def where(self, unit: int | None = None) -> str:
        """The device as an operator names it."""
        d = self.device
        unit = d.unit_id if unit is None else unit
        return f"modbus device {d.name!r} ({d.host}:{d.port} unit {unit})"

    @property
    def client(self) -> AsyncModbusTcpClient:
        """The device's pymodbus client (made inside the running loop, as pymodbus requires)."""
        if self._client is None:
            d = self.device
            self._client = AsyncModbusTcpClient(
                d.host,
                port=d.port,
                name=d.name,
                timeout=d.timeout_s,
                retries=d.retries,
                reconnect_delay=0,  # this poller reconnects, keeping its cadence
            )
        return self._client

    @property
    def connected(self) -> bool:
        """Whether the connection is up."""
        return self._client is not None and self._client.connected

    def close(self) -> None:
        """Drop the connection and the client (a later start makes a new one in its loop)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        self.state.connected = False

    async def run(self) -> None:
        """Poll at the device's period until :attr:`stopping`; never raises."""
        loop = asyncio.get_running_loop()
        period = self.device.poll_period
        await self.supervisor.first_attempt()  # the first poll finds the device connected
        next_poll = loop.time()
        while not self.stopping:
            self.busy = True
            try:
                if self.state.connected and not self.client.connected:
                    self._lost(ConnectorError(f"{self.where()}: connection lost"))
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug or a failing sink must not stop the polling
                self._error(ConnectorError(f"{self.where()}: poll failed: {exc!r}"))
            finally:
                self.busy = False
            if self.stopping:
                return
            next_poll += period
            now = loop.time()
            if next_poll < now:  # fell behind: skip the missed polls rather than burst
                next_poll = now
            await asyncio.sleep(next_poll - now)

    async def _session(self, up: Callable[[], None]) -> str:
        """Connect, then wait until a poll finds the connection lost (the supervisor's loop)."""
        self._link_lost = asyncio.Event()
        try:
            async with asyncio.timeout(self.device.timeout_s + 1.0):
                ok = await self.client.connect()
        except (TimeoutError, OSError, ModbusException):
            ok = False
        if not ok:
            raise ConnectorError(
                f"{self.where()}: cannot connect; retrying with backoff up to "
                f"{self.config.reconnect_max_s} s"
            )
        self.state.connected = True
        up()
        log.info("%s: connected", self.where())
        await self._link_lost.wait()
        return self.state.last_error or f"{self.where()}: connection lost"

    async def _down(self, reason: str, was_up: bool) -> None:
        if not was_up:  # a lost connection was reported by the poll that found it
            self._error(ConnectorError(reason))

    def _lost(self, error: ConnectorError) -> None:
        self.state.connected = False
        self.client.close()
        self._link_lost.set()
        self._error(error)

    def _error(self, error: ConnectorError) -> None:
        message = str(error)
        if message != self.state.last_error:
            log.warning("%s", message)
        self.state.last_error = message

    async def poll_once(self) -> None:
        """Read every block once and send the readings as one batch."""
        sids: list[npt.NDArray[np.int32]] = []
        times: list[npt.NDArray[np.int64]] = []
        values: list[npt.NDArray[np.float64]] = []
        qualities: list[npt.NDArray[np.uint32]] = []
        silent_units: set[int] = set()
        for block in self.blocks:
            t_us = _now_us()
            raw, quality = await self._read(block, silent_units)
            sid, value, q = block.readings(t_us, raw, quality)
            if len(sid):
                sids.append(sid)
                times.append(np.full(len(sid), t_us, dtype=np.int64))
                values.append(value)
                qualities.append(q)
                if quality == GOOD:
                    self.state.last_value_us = t_us
                    self.last_reading.set(t_us / 1e6)
        self.gauge.set(1 if self.connected else 0)
        if not sids:
            return
        batch = Batch(
            np.concatenate(sids),
            np.concatenate(times),
            np.concatenate(values),
            np.concatenate(qualities),
            self.source,
        )
        await self.outbox.put(batch)

    async def _read(
        self, block: _Block, silent_units: set[int]
    ) -> tuple[npt.NDArray[np.float64] | None, int]:
        """Raw values of the block, or None and the Bad status code that explains why."""
        plan = block.plan
        what = f"{plan.count} {plan.register_type} registers at {plan.address}"
        if not self.connected:
            return None, BAD_NO_COMMUNICATION
        if plan.unit_id in silent_units:
            return None, BAD_TIMEOUT
        reader: Reader = (
            self.client.read_holding_registers
            if plan.register_type == "holding"
            else self.client.read_input_registers
        )
        device = self.device
        # pymodbus enforces the timeout; this outer limit only guards against a hang.
        limit = device.timeout_s * (device.retries + 1) + 1.0
        try:
            async with asyncio.timeout(limit):
                response = await reader(plan.address, count=plan.count, device_id=plan.unit_id)
        except ConnectionException as exc:
            self._lost(ConnectorError(f"{self.where(plan.unit_id)}: reading {what}: {exc}"))
            return None, BAD_NO_COMMUNICATION
        except (ModbusIOException, TimeoutError):
            silent_units.add(plan.unit_id)
            self._error(
                ConnectorError(
                    f"{self.where(plan.unit_id)}: no answer within {device.timeout_s} s "
                    f"to a read of {what}"
                )
            )
            return None, BAD_TIMEOUT
        except ModbusException as exc:
            self._error(ConnectorError(f"{self.where(plan.unit_id)}: reading {what}: {exc}"))
            return None, BAD_COMMUNICATION_FAILURE
        if response.isError():
            self._error(
                ConnectorError(
                    f"{self.where(plan.unit_id)}: exception response "
                    f"0x{response.exception_code:02X} to a read of {what}"
                )
            )
            return None, BAD_COMMUNICATION_FAILURE
        if len(response.registers) != plan.count:
            self._error(
                ConnectorError(
                    f"{self.where(plan.unit_id)}: asked for {what}, got "
                    f"{len(response.registers)} registers"
                )
            )
            return None, BAD_COMMUNICATION_FAILURE
        return block.decoder.decode(response.registers), GOOD


class ModbusConnector:
    """Polls the devices of a Modbus tag map and sends columnar batches to a sink."""

    def __init__(
        self,
        config: ModbusConfig,
        *,
        sink: BatchSink,
        series_ids: Mapping[str, int],
        spans: Mapping[str, float] | None = None,
        name: str = "modbus",
    ) -> None:
        """``series_ids`` maps series codes to database ids; ``spans`` (hi - lo) serve percent
        deadbands."""
        self.name = name
        self.config = config
        self._pollers = [
            _DevicePoller(
                device,
                config,
                _plan_device(device, config, series_ids, spans or {}),
                sink,
                f"{name}:{device.name}",
            )
            for device in config.devices
        ]
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start one polling task per device; returns at once (connecting is the tasks' job)."""
        if self._tasks:
            return
        for p in self._pollers:
            p.stopping = False
            p.outbox.start()
            await p.supervisor.start(wait=False)
        self._tasks = [
            asyncio.create_task(p.run(), name=f"{self.name}:{p.device.name}") for p in self._pollers
        ]

    async def stop(self) -> None:
        """Stop polling and close the connections."""
        tasks, self._tasks = self._tasks, []
        for poller, task in zip(self._pollers, tasks, strict=False):
            poller.stopping = True
            if not poller.busy:  # sleeping between polls
                task.cancel()
        pending: set[asyncio.Task[None]] = set()
        if tasks:
            # A poll in progress ends by itself (bounded by its timeouts); cancel stragglers.
            grace = max(p.device.timeout_s * (p.device.retries + 1) for p in self._pollers) + 2
            _, pending = await asyncio.wait(tasks, timeout=grace)
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1.0)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                log.error("%s: poller ended with %r", self.name, task.exception())
        for p in self._pollers:
            await p.supervisor.stop()
            p.close()
            p.gauge.set(0)
        for p in self._pollers:  # what the polls took reaches the sink before stop returns
            await p.outbox.close()

    async def flush(self) -> None:
        """Return once every reading taken so far has reached the sink."""
        for p in self._pollers:
            await p.outbox.flush()

    def status(self) -> ConnectorStatus:
        """Connected when every device is; the latest Good value; the latest error."""
        states = [p.state for p in self._pollers]
        last = max((s.last_value_us for s in states if s.last_value_us is not None), default=None)
        errors = [e for p in self._pollers if (e := p.state.last_error or p.outbox.last_error)]
        return ConnectorStatus(
            name=self.name,
            connected=bool(self._tasks) and all(p.connected for p in self._pollers),
            last_value_time=None if last is None else from_us(last),
            last_error=errors[-1] if errors else None,
            readings=sum(p.outbox.counters.delivered for p in self._pollers),
            reconnects=sum(p.supervisor.reconnects for p in self._pollers),
        )

    def device_status(self) -> dict[str, ConnectorStatus]:
        """The status of each device, by device name."""
        out = {}
        for p in self._pollers:
            s = p.state
            out[p.device.name] = ConnectorStatus(
                name=p.device.name,
                connected=p.connected,
                last_value_time=None if s.last_value_us is None else from_us(s.last_value_us),
                last_error=s.last_error or p.outbox.last_error,
                readings=p.outbox.counters.delivered,
                reconnects=p.supervisor.reconnects,
            )
        return out


def _plan_device(
    device: ModbusDevice,
    config: ModbusConfig,
    series_ids: Mapping[str, int],
    spans: Mapping[str, float],
) -> list[_Block]:
    """Plan the device's reads and precompute each block's decoder and per-tag arrays."""
    missing = [t.series for t in device.tags if t.series not in series_ids]
    if missing:
        raise ConnectorError(
            f"modbus device {device.name!r}: {len(missing)} tag series not known to the "
            f"database, e.g. {missing[:3]}; load the site file first"
        )
    for tag in device.tags:
        if tag.deadband.kind == "percent" and tag.deadband.value > 0 and tag.series not in spans:
            raise ConnectorError(
                f"modbus device {device.name!r}: tag {tag.series!r} has a percent deadband "
                "but no engineering span was given for its series"
            )
    poll_us = round(device.poll_period * 1_000_000)
    blocks = []
    for plan in plan_reads(
        device.tags,
        unit_id=device.unit_id,
        max_gap=config.max_gap,
        max_registers=config.max_registers,
    ):
        tags = [device.tags[i] for i in plan.tags]
        # A tag is due once its sampling period has passed since it was last handled, with
        # half a poll of slack so that poll jitter never skips a sample.
        due_after = [max(round(t.sampling_period_s * 1_000_000) - poll_us // 2, 1) for t in tags]
        blocks.append(
            _Block(
                plan=plan,
                decoder=BlockDecoder(
                    [(t.address - plan.address, t.data_type, t.byte_order) for t in tags],
                    plan.count,
                ),
                series_id=np.array([series_ids[t.series] for t in tags], dtype=np.int32),
                k=np.array([t.scale for t in tags], dtype=np.float64),
                b=np.array([t.offset for t in tags], dtype=np.float64),
                limits=deadband_limits(
                    [t.deadband.kind for t in tags],
                    [t.deadband.value for t in tags],
                    [spans.get(t.series, 0.0) for t in tags],
                ),
                due_after_us=np.array(due_after, dtype=np.int64),
            )
        )
    return blocks
