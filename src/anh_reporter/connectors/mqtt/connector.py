"""The MQTT Sparkplug B connector: a host application turning births, data and deaths to batches.

:class:`SparkplugSession` is the protocol state without I/O: per edge node the ``bdSeq`` of
its session, the last ``seq``, and per node / device the alias tables learnt from
NBIRTH/DBIRTH (metric name -> alias -> series through the tag map). It decodes NDATA/DDATA
by alias into columnar batches, turns NDEATH/DDEATH into communication-lost markers, and asks
for a rebirth when it cannot trust what it holds (unknown node, device or alias, a ``seq``
gap). Deadbands are applied per message over its columns
(:func:`~anh_reporter.connectors.runtime.deadband_keep`). :class:`SparkplugConnector` carries
the session over aiomqtt, kept up by a :class:`~anh_reporter.connectors.runtime.Supervisor`
(jittered exponential backoff), and sends through an
:class:`~anh_reporter.connectors.runtime.Outbox` (a failing sink is retried, nothing dropped;
when the outbox is full the receive loop waits).
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import aiomqtt
import numpy as np

from anh_reporter.connectors.base import BatchSink, ConnectorError, ConnectorStatus
from anh_reporter.connectors.mqtt.config import SparkplugConnectorConfig, TagKey
from anh_reporter.connectors.mqtt.sparkplug import (
    NUMERIC_TYPES,
    MessageType,
    MetricMessage,
    PayloadError,
    PayloadMessage,
    Topic,
    bd_seq_of,
    decode_payload,
    group_filter,
    metric_timestamp_ms,
    next_seq,
    numeric_value,
    rebirth_request,
)
from anh_reporter.connectors.runtime import (
    Backoff,
    Supervisor,
    deadband_keep,
    deadband_limits,
    outbox_for,
)
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import BAD, BAD_NO_COMMUNICATION, GOOD
from anh_reporter.domain.timeutil import from_us
from anh_reporter.observability.metrics import connector_connected, connector_last_reading_timestamp

log = logging.getLogger(__name__)
_MAX_MS = (2**63 - 1) // 1_000

NodeKey = tuple[str, str]
"""(group_id, edge_node_id)"""


@dataclass(frozen=True)
class _Binding:
    """What one born metric feeds: a series (or nothing, when the tag map does not name it)."""

    series_id: int | None
    scale: float = 1.0
    offset: float = 0.0
    slot: int = -1
    """Index of the series in the session's deadband arrays."""


_UNMAPPED = _Binding(None)


@dataclass
class _Device:
    """Alias and name tables of one device (or of the node itself), from its birth."""

    by_alias: dict[int, _Binding] = field(default_factory=dict)
    by_name: dict[str, _Binding] = field(default_factory=dict)


@dataclass
class _Node:
    online: bool = False
    dead: bool = False  # its series already carry a communication-lost marker
    bd_seq: int | None = None
    seq: int | None = None
    devices: dict[str | None, _Device] = field(default_factory=dict)
    last_rebirth_us: int | None = None


@dataclass
class SessionCounters:
    """What the session has seen since the connector started."""

    births: int = 0
    data_messages: int = 0
    deaths: int = 0
    stale_deaths: int = 0
    rebirth_requests: int = 0
    seq_gaps: int = 0
    unknown_aliases: int = 0
    bad_payloads: int = 0


@dataclass(frozen=True)
class Outcome:
    """The result of one message: readings to emit, and where to send a rebirth request."""

    batch: Batch | None = None
    rebirth: Topic | None = None


class _Rows:
    """Readings of one message, gathered before they become one columnar batch."""

    def __init__(self) -> None:
        self.slots: list[int] = []
        self.series: list[int] = []
        self.times: list[int] = []
        self.values: list[float] = []
        self.quality: list[int] = []

    def add(self, binding: _Binding, time_us: int, value: float, quality: int) -> None:
        assert binding.series_id is not None  # noqa: S101 - narrows for mypy: callers check
        self.slots.append(binding.slot)
        self.series.append(binding.series_id)
        self.times.append(time_us)
        self.values.append(value)
        self.quality.append(quality)


def _markers(series: list[int], time_us: int, source: str) -> Batch | None:
    if not series:
        return None
    n = len(series)
    return Batch.of(
        series, np.full(n, time_us), np.full(n, np.nan), np.full(n, BAD_NO_COMMUNICATION), source
    )


class SparkplugSession:
    """Sparkplug B host state for the groups of one tag map (no I/O: bytes in, batches out)."""

    def __init__(
        self,
        config: SparkplugConnectorConfig,
        series_ids: Mapping[str, int],
        spans: Mapping[str, float] | None = None,
    ) -> None:
        self.source = config.name
        self._rebirth_interval_us = round(config.rebirth_interval_s * 1_000_000)
        self._groups = frozenset(config.groups)
        missing = sorted({t.series for t in config.tags if t.series not in series_ids})
        if missing:
            raise ConnectorError(
                f"{config.name}: {len(missing)} tag(s) name series that are not in the database "
                f"(first: {missing[0]!r}); load the site file that defines them first"
            )
        self._tags: dict[TagKey, _Binding] = {}
        self._node_series: dict[NodeKey, list[int]] = {}
        self._device_series: dict[tuple[str, str, str | None], list[int]] = {}
        self._slot: dict[int, int] = {}  # series id -> index in the deadband arrays
        limits: dict[int, float] = {}
        for tag in config.tags:
            span = (spans or {}).get(tag.series)
            if tag.deadband.kind == "percent" and tag.deadband.value > 0 and span is None:
                raise ConnectorError(
                    f"{config.name}: tag {tag.metric!r} (series {tag.series!r}) has a percent "
                    "deadband but the series' engineering span is unknown; pass its range"
                )
            sid = series_ids[tag.series]
            slot = self._slot.setdefault(sid, len(self._slot))
            (limits[slot],) = deadband_limits(
                [tag.deadband.kind], [tag.deadband.value], [span or 0]
            )
            self._tags[tag.key] = _Binding(sid, tag.scale, tag.offset, slot)
            self._node_series.setdefault((tag.group_id, tag.edge_node_id), []).append(sid)
            device_key = (tag.group_id, tag.edge_node_id, tag.device_id)
            self._device_series.setdefault(device_key, []).append(sid)
        self._all_series = sorted(
            {b.series_id for b in self._tags.values() if b.series_id is not None}
        )
        self._nodes: dict[NodeKey, _Node] = {}
        self._limits = np.array([limits[i] for i in range(len(self._slot))], dtype=np.float64)
        self._last_reported = np.full(len(self._slot), np.nan)
        self.counters = SessionCounters()
        self.last_error: str | None = None
        self.last_value_us: int | None = None

    def reset(self) -> None:
        """Forget every node (a new MQTT session: births are needed again)."""
        self._nodes.clear()

    def connection_lost(self, now_us: int) -> Batch | None:
        """Markers for every series of the tag map: nothing can be heard any more."""
        self.reset()
        return _markers(self._all_series, now_us, self.source)

    def handle(self, topic: str, data: bytes, now_us: int) -> Outcome:
        """Process one MQTT message of a subscribed group."""
        try:
            where = Topic.parse(topic)
        except ValueError:
            return Outcome()  # STATE, or not Sparkplug B at all
        kind = where.message_type
        if where.group_id not in self._groups or kind in (MessageType.NCMD, MessageType.DCMD):
            return Outcome()
        key = (where.group_id, where.edge_node_id)
        node = self._nodes.setdefault(key, _Node())
        try:
            payload = decode_payload(data)
        except PayloadError as exc:
            self.counters.bad_payloads += 1
            self._error(f"{where}: {exc}")
            if kind in (MessageType.NDEATH, MessageType.DDEATH):
                return Outcome()
            return Outcome(rebirth=self._ask_rebirth(key, node, now_us, "undecodable payload"))
        if kind is MessageType.NBIRTH:
            return self._node_birth(where, node, payload, now_us)
        if kind is MessageType.NDEATH:
            return self._node_death(where, node, payload, now_us)
        if not node.online:
            if kind is MessageType.DDEATH:
                return Outcome()  # the node's own death (or none seen yet) covers its devices
            return Outcome(rebirth=self._ask_rebirth(key, node, now_us, f"{kind} before NBIRTH"))
        gap = self._seq_gap(where, node, payload)
        if kind is MessageType.DBIRTH:
            outcome = self._device_birth(where, node, payload, now_us)
        elif kind is MessageType.DDEATH:
            outcome = self._device_death(where, node, payload, now_us)
        else:
            outcome = self._data(where, node, payload, now_us)
        if gap and outcome.rebirth is None:
            rebirth = self._ask_rebirth(key, node, now_us, "seq gap")
            outcome = Outcome(outcome.batch, rebirth)
        return outcome

    def _node_birth(
        self, where: Topic, node: _Node, payload: PayloadMessage, now_us: int
    ) -> Outcome:
        node.online, node.dead = True, False
        node.bd_seq = bd_seq_of(payload)
        node.seq = payload.seq if payload.HasField("seq") else None
        node.devices = {None: _Device()}
        node.last_rebirth_us = None
        self.counters.births += 1
        rows = _Rows()
        self._birth_metrics(where, node.devices[None], payload, rows, now_us)
        return Outcome(self._batch(rows))

    def _device_birth(
        self, where: Topic, node: _Node, payload: PayloadMessage, now_us: int
    ) -> Outcome:
        device = node.devices[where.device_id] = _Device()
        self.counters.births += 1
        rows = _Rows()
        self._birth_metrics(where, device, payload, rows, now_us)
        return Outcome(self._batch(rows))

    def _birth_metrics(
        self, where: Topic, device: _Device, payload: PayloadMessage, rows: _Rows, now_us: int
    ) -> None:
        for metric in payload.metrics:
            if not metric.name:
                continue  # a birth must name its metrics; an unnamed one cannot be mapped
            key = (where.group_id, where.edge_node_id, where.device_id, metric.name)
            binding = self._tags.get(key, _UNMAPPED)
            if binding.series_id is not None and metric.datatype not in NUMERIC_TYPES:
                self._error(
                    f"{where}: metric {metric.name!r} has data type {metric.datatype}, not a "
                    "numeric one; it cannot feed a series (tag ignored)"
                )
                binding = _UNMAPPED
            device.by_name[metric.name] = binding
            if metric.HasField("alias"):
                device.by_alias[metric.alias] = binding
            self._reading(binding, metric, payload, rows, now_us)

    def _data(self, where: Topic, node: _Node, payload: PayloadMessage, now_us: int) -> Outcome:
        key = (where.group_id, where.edge_node_id)
        device = node.devices.get(where.device_id)
        if device is None:
            reason = f"DDATA from device {where.device_id!r} whose DBIRTH was not seen"
            return Outcome(rebirth=self._ask_rebirth(key, node, now_us, reason))
        self.counters.data_messages += 1
        rows = _Rows()
        unknown: list[str] = []
        for metric in payload.metrics:
            if metric.HasField("alias"):
                binding = device.by_alias.get(metric.alias)
            else:
                binding = device.by_name.get(metric.name)
            if binding is None:
                unknown.append(str(metric.alias) if metric.HasField("alias") else metric.name)
                continue
            self._reading(binding, metric, payload, rows, now_us)
        rebirth = None
        if unknown:
            self.counters.unknown_aliases += len(unknown)
            reason = f"{where} names metric(s) not in its birth: {', '.join(unknown[:5])}"
            rebirth = self._ask_rebirth(key, node, now_us, reason)
        return Outcome(self._batch(rows), rebirth)

    def _node_death(
        self, where: Topic, node: _Node, payload: PayloadMessage, now_us: int
    ) -> Outcome:
        bd_seq = bd_seq_of(payload)
        if node.bd_seq is not None and bd_seq is not None and bd_seq != node.bd_seq:
            # The will of an older MQTT session, delivered after the node came back.
            self.counters.stale_deaths += 1
            log.info(
                "%s: bdSeq %d is not the live session's %d; ignored", where, bd_seq, node.bd_seq
            )
            return Outcome()
        already_marked = node.dead
        node.online, node.dead, node.seq = False, True, None
        node.devices.clear()
        self.counters.deaths += 1
        log.warning("%s: edge node offline; series marked as communication lost", where)
        if already_marked:
            return Outcome()
        # The will was composed when the node connected: its timestamp is not the death time.
        series = self._node_series.get((where.group_id, where.edge_node_id), [])
        self._forget_last(series)
        return Outcome(_markers(series, now_us, self.source))

    def _device_death(
        self, where: Topic, node: _Node, payload: PayloadMessage, now_us: int
    ) -> Outcome:
        node.devices.pop(where.device_id, None)
        self.counters.deaths += 1
        when = _ms_to_us(payload.timestamp) if payload.HasField("timestamp") else None
        when = now_us if when is None else when
        series = self._device_series.get((where.group_id, where.edge_node_id, where.device_id), [])
        self._forget_last(series)
        return Outcome(_markers(series, when, self.source))

    def _reading(
        self,
        binding: _Binding,
        metric: MetricMessage,
        payload: PayloadMessage,
        rows: _Rows,
        now_us: int,
    ) -> None:
        if binding.series_id is None:
            return
        ts_ms = metric_timestamp_ms(metric, payload)
        time_us = now_us if ts_ms is None else _ms_to_us(ts_ms)
        if time_us is None:
            self._error(
                f"metric {metric.name or metric.alias!r}: timestamp {ts_ms} ms is beyond what "
                "a reading can hold (year 294247); reading dropped"
            )
            return
        if metric.is_null:
            rows.add(binding, time_us, math.nan, BAD)
            return
        value = numeric_value(metric)
        if value is None:
            return  # a template, data set or an empty value: nothing numeric to store
        if binding.scale != 1.0 or binding.offset != 0.0:
            value = value * binding.scale + binding.offset
        rows.add(binding, time_us, value, GOOD)

    def _batch(self, rows: _Rows) -> Batch | None:
        """The message's readings as one batch, deadband applied."""
        if not rows.series:
            return None
        slots = np.array(rows.slots, dtype=np.intp)
        batch = Batch.of(rows.series, rows.times, rows.values, rows.quality, self.source)
        good = batch.quality == GOOD
        keep = deadband_keep(slots, batch.value, good, self._limits, self._last_reported)
        if not keep.all():
            batch = Batch(
                batch.series_id[keep],
                batch.time_us[keep],
                batch.value[keep],
                batch.quality[keep],
                self.source,
            )
            good = good[keep]
        if good.any():
            newest = int(batch.time_us[good].max())
            if self.last_value_us is None or newest > self.last_value_us:
                self.last_value_us = newest
        return batch if len(batch) else None

    def _forget_last(self, series: list[int]) -> None:
        for sid in series:
            if sid in self._slot:
                self._last_reported[self._slot[sid]] = math.nan

    def _seq_gap(self, where: Topic, node: _Node, payload: PayloadMessage) -> bool:
        if not payload.HasField("seq"):
            return False
        got = payload.seq
        expected = None if node.seq is None else next_seq(node.seq)
        node.seq = got % 256
        if expected is None or got == expected:
            return False
        self.counters.seq_gaps += 1
        log.warning("%s: seq %d where %d was expected: messages were lost", where, got, expected)
        return True

    def _ask_rebirth(self, key: NodeKey, node: _Node, now_us: int, reason: str) -> Topic | None:
        last = node.last_rebirth_us
        if last is not None and now_us - last < self._rebirth_interval_us:
            return None
        node.last_rebirth_us = now_us
        self.counters.rebirth_requests += 1
        log.warning("%s/%s: %s; asking for a rebirth", key[0], key[1], reason)
        return Topic(key[0], MessageType.NCMD, key[1])

    def _error(self, message: str) -> None:
        self.last_error = message
        log.warning("%s", message)


def _ms_to_us(ms: int) -> int | None:
    """A Sparkplug time (uint64 ms) in µs, or ``None`` beyond what int64 µs can hold."""
    return ms * 1_000 if ms <= _MAX_MS else None


def _now_us() -> int:
    return time.time_ns() // 1_000


class SparkplugConnector:
    """A Sparkplug B host application on one MQTT broker, sending batches to a sink."""

    def __init__(
        self,
        config: SparkplugConnectorConfig,
        sink: BatchSink,
        series_ids: Mapping[str, int],
        *,
        spans: Mapping[str, float] | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self.session = SparkplugSession(config, series_ids, spans)
        self.outbox = outbox_for(sink, config, name=config.name, max_batch=config.max_batch_rows)
        self._supervisor = Supervisor(
            config.name,
            self._session,
            Backoff(config.reconnect_initial_s, config.reconnect_max_s),
            on_down=self._down,
            describe=lambda exc: f"{type(exc).__name__}: {exc}",
        )
        self._client_id = config.broker.client_id or f"{config.name}-{secrets.token_hex(4)}"
        self._connected = asyncio.Event()
        self._last_error: str | None = None
        self._last_reading = connector_last_reading_timestamp.labels(connector=config.name)

    @property
    def broker(self) -> str:
        """``host:port`` of the broker, for messages."""
        return f"{self.config.broker.host}:{self.config.broker.port}"

    async def start(self) -> None:
        """Start the supervisor; return after the first connection attempt (it keeps retrying)."""
        if self._supervisor.running:
            return
        self.outbox.start()
        await self._supervisor.start()

    async def wait_connected(self, timeout_s: float) -> None:
        """Wait until subscribed; raise :class:`ConnectorError` after ``timeout_s``."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout_s)
        except TimeoutError:
            raise ConnectorError(
                f"{self.name}: not connected to the MQTT broker {self.broker} after "
                f"{timeout_s:g} s: {self._last_error or 'no answer'}"
            ) from None

    async def flush(self) -> None:
        """Return once every reading received so far has reached the sink."""
        await self.outbox.flush()

    async def stop(self) -> None:
        """Stop the supervisor, disconnect, and deliver what is in the outbox."""
        await self._supervisor.stop()
        self._set_connected(False)
        await self.outbox.close()

    def status(self) -> ConnectorStatus:
        """Connected or not, the newest value's time, the last error, counts."""
        last = self.session.last_value_us
        return ConnectorStatus(
            name=self.name,
            connected=self._connected.is_set(),
            last_value_time=from_us(last) if last is not None else None,
            last_error=self._last_error or self.outbox.last_error or self.session.last_error,
            readings=self.outbox.counters.delivered,
            reconnects=self._supervisor.reconnects,
        )

    async def _session(self, up: Callable[[], None]) -> str:
        """One MQTT session: connect, subscribe, receive until the broker is gone."""
        broker = self.config.broker
        tls = (
            aiomqtt.TLSParameters(ca_certs=str(broker.ca_file) if broker.ca_file else None)
            if broker.tls
            else None
        )
        try:
            async with aiomqtt.Client(
                broker.host,
                broker.port,
                identifier=self._client_id,
                username=broker.username,
                password=broker.password.get_secret_value() if broker.password else None,
                keepalive=broker.keepalive_s,
                timeout=broker.timeout_s,
                tls_params=tls,
                clean_session=True,
            ) as client:
                for group in self.config.groups:
                    await client.subscribe(group_filter(group), qos=1)
                self.session.reset()
                self._last_error = None
                self._set_connected(True)
                up()
                log.info("%s: subscribed to %s on %s", self.name, self.config.groups, self.broker)
                await self._receive(client)
        except aiomqtt.MqttError as exc:
            return f"MQTT broker {self.broker}: {exc}"
        except Exception:  # a bug must not stop the collector: log it; the supervisor retries
            log.exception("%s: unexpected error", self.name)
            raise
        return "the broker closed the subscription"

    async def _down(self, reason: str, was_up: bool) -> None:
        self._fail(reason)
        if was_up:
            self._set_connected(False)
            markers = self.session.connection_lost(_now_us())
            if markers is not None:
                await self.outbox.put(markers)

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            data = message.payload
            if not isinstance(data, bytes | bytearray):
                continue
            outcome = self.session.handle(message.topic.value, bytes(data), _now_us())
            if outcome.rebirth is not None:
                await client.publish(str(outcome.rebirth), rebirth_request(time.time_ns() // 10**6))
            if outcome.batch is not None:
                # Waits while the outbox is full (aiomqtt keeps queueing what arrives meanwhile).
                await self.outbox.put(outcome.batch)
                if self.session.last_value_us is not None:
                    self._last_reading.set(self.session.last_value_us / 1e6)

    def _fail(self, message: str) -> None:
        self._last_error = message
        log.warning("%s: %s", self.name, message)

    def _set_connected(self, connected: bool) -> None:
        if connected:
            self._connected.set()
        else:
            self._connected.clear()
        connector_connected.labels(connector=self.name).set(1 if connected else 0)
