"""The MQTT Sparkplug B connector: a host application turning births, data and deaths to batches.

:class:`SparkplugSession` is the protocol state without I/O: per edge node the ``bdSeq`` of
its session, the last ``seq``, and per node / device the alias tables learnt from
NBIRTH/DBIRTH (metric name -> alias -> series through the tag map). It decodes NDATA/DDATA
by alias into columnar batches, turns NDEATH/DDEATH into communication-lost markers, and asks
for a rebirth when it cannot trust what it holds (unknown node, device or alias, a ``seq``
gap). :class:`SparkplugConnector` carries it over aiomqtt with a reconnect supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
from collections.abc import Mapping
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
from anh_reporter.connectors.tagmap import Deadband, outside_deadband
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import BAD, BAD_NO_COMMUNICATION, GOOD
from anh_reporter.domain.timeutil import from_us
from anh_reporter.observability.metrics import connector_connected

log = logging.getLogger(__name__)

NodeKey = tuple[str, str]
"""(group_id, edge_node_id)"""


@dataclass(frozen=True)
class _Binding:
    """What one born metric feeds: a series (or nothing, when the tag map does not name it)."""

    series_id: int | None
    scale: float = 1.0
    offset: float = 0.0
    deadband: Deadband = field(default_factory=Deadband)
    span: float = 0.0


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
        self.series: list[int] = []
        self.times: list[int] = []
        self.values: list[float] = []
        self.quality: list[int] = []

    def add(self, series_id: int, time_us: int, value: float, quality: int) -> None:
        self.series.append(series_id)
        self.times.append(time_us)
        self.values.append(value)
        self.quality.append(quality)

    def batch(self, source: str) -> Batch | None:
        if not self.series:
            return None
        return Batch.of(self.series, self.times, self.values, self.quality, source)


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
        for tag in config.tags:
            span = (spans or {}).get(tag.series)
            if tag.deadband.kind == "percent" and tag.deadband.value > 0 and span is None:
                raise ConnectorError(
                    f"{config.name}: tag {tag.metric!r} (series {tag.series!r}) has a percent "
                    "deadband but the series' engineering span is unknown; pass its range"
                )
            sid = series_ids[tag.series]
            self._tags[tag.key] = _Binding(sid, tag.scale, tag.offset, tag.deadband, span or 0.0)
            self._node_series.setdefault((tag.group_id, tag.edge_node_id), []).append(sid)
            device_key = (tag.group_id, tag.edge_node_id, tag.device_id)
            self._device_series.setdefault(device_key, []).append(sid)
        self._all_series = sorted(
            {b.series_id for b in self._tags.values() if b.series_id is not None}
        )
        self._nodes: dict[NodeKey, _Node] = {}
        self._last_reported: dict[int, float] = {}
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
        return Outcome(rows.batch(self.source))

    def _device_birth(
        self, where: Topic, node: _Node, payload: PayloadMessage, now_us: int
    ) -> Outcome:
        device = node.devices[where.device_id] = _Device()
        self.counters.births += 1
        rows = _Rows()
        self._birth_metrics(where, device, payload, rows, now_us)
        return Outcome(rows.batch(self.source))

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
        return Outcome(rows.batch(self.source), rebirth)

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
        when = payload.timestamp * 1_000 if payload.HasField("timestamp") else now_us
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
        sid = binding.series_id
        if sid is None:
            return
        ts_ms = metric_timestamp_ms(metric, payload)
        time_us = ts_ms * 1_000 if ts_ms is not None else now_us
        if metric.is_null:
            rows.add(sid, time_us, math.nan, BAD)
            self._last_reported[sid] = math.nan
            return
        value = numeric_value(metric)
        if value is None:
            return  # a template, data set or an empty value: nothing numeric to store
        if binding.scale != 1.0 or binding.offset != 0.0:
            value = value * binding.scale + binding.offset
        if binding.deadband.value > 0 and not outside_deadband(
            value, self._last_reported.get(sid), binding.deadband, binding.span
        ):
            return
        self._last_reported[sid] = value
        rows.add(sid, time_us, value, GOOD)
        if self.last_value_us is None or time_us > self.last_value_us:
            self.last_value_us = time_us

    def _forget_last(self, series: list[int]) -> None:
        for sid in series:
            self._last_reported.pop(sid, None)

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
        self._sink = sink
        self._client_id = config.broker.client_id or f"{config.name}-{secrets.token_hex(4)}"
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._attempted = asyncio.Event()
        self._sessions = 0
        self._reconnects = 0
        self._readings = 0
        self._last_error: str | None = None

    @property
    def broker(self) -> str:
        """``host:port`` of the broker, for messages."""
        return f"{self.config.broker.host}:{self.config.broker.port}"

    async def start(self) -> None:
        """Start the supervisor; return after the first connection attempt (it keeps retrying)."""
        if self._task is not None and not self._task.done():
            return
        self._attempted.clear()
        self._task = asyncio.create_task(self._supervise(), name=f"{self.name} supervisor")
        await self._attempted.wait()

    async def wait_connected(self, timeout_s: float) -> None:
        """Wait until subscribed; raise :class:`ConnectorError` after ``timeout_s``."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout_s)
        except TimeoutError:
            raise ConnectorError(
                f"{self.name}: not connected to the MQTT broker {self.broker} after "
                f"{timeout_s:g} s: {self._last_error or 'no answer'}"
            ) from None

    async def stop(self) -> None:
        """Stop the supervisor and disconnect."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_connected(False)

    def status(self) -> ConnectorStatus:
        """Connected or not, the newest value's time, the last error, counts."""
        last = self.session.last_value_us
        return ConnectorStatus(
            name=self.name,
            connected=self._connected.is_set(),
            last_value_time=from_us(last) if last is not None else None,
            last_error=self._last_error or self.session.last_error,
            readings=self._readings,
            reconnects=self._reconnects,
        )

    async def _supervise(self) -> None:
        delay = self.config.reconnect_min_s
        while True:
            try:
                await self._run_session()
                self._fail("the broker closed the subscription")
            except aiomqtt.MqttError as exc:
                self._fail(f"MQTT broker {self.broker}: {exc}")
            except Exception as exc:  # a bug must not stop the collector: log it and reconnect
                log.exception("%s: unexpected error", self.name)
                self._fail(f"{type(exc).__name__}: {exc}")
            if self._connected.is_set():
                self._set_connected(False)
                delay = self.config.reconnect_min_s
                markers = self.session.connection_lost(_now_us())
                if markers is not None:
                    await self._emit(markers)
            self._attempted.set()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.reconnect_max_s)

    async def _run_session(self) -> None:
        broker = self.config.broker
        tls = (
            aiomqtt.TLSParameters(ca_certs=str(broker.ca_file) if broker.ca_file else None)
            if broker.tls
            else None
        )
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
            self._sessions += 1
            if self._sessions > 1:
                self._reconnects += 1
            self._set_connected(True)
            self._attempted.set()
            log.info("%s: subscribed to %s on %s", self.name, self.config.groups, self.broker)
            await self._receive(client)

    async def _receive(self, client: aiomqtt.Client) -> None:
        pending: list[Batch] = []
        rows = 0
        async for message in client.messages:
            data = message.payload
            if not isinstance(data, bytes | bytearray):
                continue
            outcome = self.session.handle(message.topic.value, bytes(data), _now_us())
            if outcome.rebirth is not None:
                await client.publish(str(outcome.rebirth), rebirth_request(time.time_ns() // 10**6))
            if outcome.batch is not None:
                pending.append(outcome.batch)
                rows += len(outcome.batch)
            # Coalesce a burst into one batch; emit as soon as the queue is drained.
            if pending and (rows >= self.config.max_batch_rows or len(client.messages) == 0):
                await self._emit(Batch.concat(pending, self.name))
                pending, rows = [], 0

    async def _emit(self, batch: Batch) -> None:
        try:
            await self._sink(batch)
        except Exception as exc:  # the sink (bus or spool) owns durability; keep receiving
            log.exception("%s: the sink refused a batch of %d readings", self.name, len(batch))
            self._fail(f"sink: {type(exc).__name__}: {exc}")
            return
        self._readings += len(batch)

    def _fail(self, message: str) -> None:
        self._last_error = message
        log.warning("%s: %s", self.name, message)

    def _set_connected(self, connected: bool) -> None:
        if connected:
            self._connected.set()
        else:
            self._connected.clear()
        connector_connected.labels(connector=self.name).set(1 if connected else 0)
