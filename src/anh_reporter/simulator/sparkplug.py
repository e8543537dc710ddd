"""The simulated field as a Sparkplug B edge node: one device per PMO and well, over MQTT.

The edge node (group = the field code by default) connects with its NDEATH as MQTT will,
publishes NBIRTH (``bdSeq``, ``Node Control/Rebirth``) and one DBIRTH per device declaring
every metric with its alias, data type and current value, then a DDATA per device on each
series' sampling period (times ``period_scale``, so that tests can run fast). It answers
rebirth requests (NCMD ``Node Control/Rebirth``) with the same births. Values come from the
deterministic generator with the injected faults applied: a communication-loss fault leaves
the metric out, a bad-status fault sends it as null.

Timestamps are the instants of the sampling grid (aligned to the epoch) in whole
milliseconds, so a value published at ``t`` is exactly ``generate(spec, [t])``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiomqtt
import numpy as np

from anh_reporter.connectors.mqtt.config import SparkplugTag
from anh_reporter.connectors.mqtt.sparkplug import (
    BD_SEQ,
    REBIRTH,
    DataType,
    MessageType,
    PayloadError,
    SequenceCounter,
    Topic,
    add_metric,
    death_payload,
    decode_payload,
    is_rebirth_request,
    new_payload,
    next_seq,
)
from anh_reporter.domain.quality import GOOD
from anh_reporter.errors import ConfigError
from anh_reporter.simulator.faults import Fault, FaultKind, apply_faults
from anh_reporter.simulator.signals import SignalSpec, generate
from anh_reporter.simulator.specs import site_signal_specs
from anh_reporter.site import FieldSite, Series, Site, series_code

log = logging.getLogger(__name__)

DEFAULT_EDGE_NODE = "SIM-EDGE"


@dataclass(frozen=True)
class EdgePoint:
    """One series published as a Sparkplug B metric of a device."""

    code: str
    device_id: str
    metric: str
    alias: int
    datatype: DataType
    period_s: float
    spec: SignalSpec


@dataclass
class EdgeNodeStats:
    """What the edge node has done."""

    sessions: int = 0
    births: int = 0
    data_messages: int = 0
    rebirths_answered: int = 0
    bd_seq: int | None = None


def metric_name(series: Series) -> str:
    """The metric a series is published as: its own code if it has one, else its variable."""
    return series.code or series.variable


def _field(site: Site, field_code: str | None) -> FieldSite:
    if field_code is None:
        return site.fields[0]
    for field in site.fields:
        if field.code == field_code:
            return field
    codes = [f.code for f in site.fields]
    raise ConfigError(f"field {field_code!r} is not in the site file; it has {codes}")


def edge_points(
    site: Site, *, field_code: str | None = None, keys: Mapping[str, int] | None = None
) -> list[EdgePoint]:
    """The metrics of a field's edge node, aliases numbered from 1 in site-file order.

    ``keys`` maps series codes to generator keys (their database ids, as the backfill uses);
    by default a series' key is its 1-based position in the site file, which is the id a fresh
    database gives it when the site is loaded.
    """
    field = _field(site, field_code)
    specs = site_signal_specs(site, keys)
    owners = [(p.code, p.series) for p in field.pmos] + [(w.code, w.series) for w in field.wells]
    points: list[EdgePoint] = []
    for owner, series in owners:
        for conf in series:
            code = series_code(field.code, owner, conf)
            spec = specs[code]
            datatype = DataType.BOOLEAN if conf.unit == "bool" else DataType.DOUBLE
            points.append(
                EdgePoint(
                    code,
                    owner,
                    metric_name(conf),
                    len(points) + 1,
                    datatype,
                    conf.sampling_period_s,
                    spec,
                )
            )
    return points


def site_tag_map(
    site: Site,
    *,
    group_id: str | None = None,
    edge_node_id: str = DEFAULT_EDGE_NODE,
    field_code: str | None = None,
) -> tuple[SparkplugTag, ...]:
    """The connector tag map that reads this simulator's edge node for a field."""
    field = _field(site, field_code)
    return tuple(
        SparkplugTag(
            series=p.code,
            group_id=group_id or field.code,
            edge_node_id=edge_node_id,
            device_id=p.device_id,
            metric=p.metric,
        )
        for p in edge_points(site, field_code=field.code)
    )


class SparkplugEdgeNode:
    """A field of the site file published as one Sparkplug B edge node (aiomqtt)."""

    def __init__(
        self,
        site: Site,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        group_id: str | None = None,
        edge_node_id: str = DEFAULT_EDGE_NODE,
        field_code: str | None = None,
        seed: int = 42,
        period_scale: float = 1.0,
        keys: Mapping[str, int] | None = None,
        faults: Sequence[Fault] = (),
        client_id: str | None = None,
        keepalive_s: int = 30,
        reconnect_s: float = 1.0,
        bd_seq: int = 0,
    ) -> None:
        if not period_scale > 0:
            raise ConfigError(f"period_scale must be above 0, got {period_scale}")
        field = _field(site, field_code)
        self.group_id = group_id or field.code
        self.edge_node_id = edge_node_id
        Topic(self.group_id, MessageType.NBIRTH, edge_node_id)  # refuse invalid ids now
        self.points = edge_points(site, field_code=field.code, keys=keys)
        self.host, self.port = host, port
        self.seed = seed
        self.period_scale = period_scale
        self.faults = list(faults)
        self.client_id = client_id or f"{self.group_id}-{edge_node_id}"
        self.keepalive_s = keepalive_s
        self.reconnect_s = reconnect_s
        self.stats = EdgeNodeStats()
        self.ready = asyncio.Event()
        """Set while connected with births published."""
        self._bd_seq = bd_seq % 256
        self._seq = SequenceCounter()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._devices: dict[str, list[EdgePoint]] = {}
        self._periods: dict[float, list[EdgePoint]] = {}
        for p in self.points:
            self._devices.setdefault(p.device_id, []).append(p)
            self._periods.setdefault(p.period_s, []).append(p)

    def topic(self, kind: MessageType, device_id: str | None = None) -> str:
        """A topic of this edge node."""
        return str(Topic(self.group_id, kind, self.edge_node_id, device_id))

    async def start(self) -> None:
        """Run in the background; return once the first births are published."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=f"edge node {self.edge_node_id}")
        ready = asyncio.create_task(self.ready.wait())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._task.done():
            self._task.result()  # raise what stopped it

    async def stop(self) -> None:
        """Publish NDEATH, disconnect and stop."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Connect, publish, answer rebirths; reconnect after a lost connection, until cancelled."""
        while True:
            try:
                await self._session()
            except aiomqtt.MqttError as exc:
                log.warning("edge node %s: %s; reconnecting", self.edge_node_id, exc)
            self.ready.clear()
            await asyncio.sleep(self.reconnect_s)

    async def _session(self) -> None:
        bd_seq = self._bd_seq
        death_topic = self.topic(MessageType.NDEATH)
        will = aiomqtt.Will(death_topic, death_payload(bd_seq, _now_ms()), qos=1)
        async with aiomqtt.Client(
            self.host,
            self.port,
            identifier=self.client_id,
            will=will,
            keepalive=self.keepalive_s,
            clean_session=True,
        ) as client:
            self._bd_seq = next_seq(bd_seq)  # the next MQTT CONNECT carries the next bdSeq
            self.stats.sessions += 1
            self.stats.bd_seq = bd_seq
            try:
                await client.subscribe(self.topic(MessageType.NCMD), qos=1)
                await self._publish_births(client, bd_seq)
                self.ready.set()
                await _run_until_one_fails(
                    self._answer_commands(client, bd_seq),
                    *(
                        self._publish_periodically(client, period_s, points)
                        for period_s, points in self._periods.items()
                    ),
                )
            except asyncio.CancelledError:
                # A clean DISCONNECT discards the will, so the death is sent by hand.
                with contextlib.suppress(aiomqtt.MqttError):
                    await client.publish(
                        death_topic, death_payload(bd_seq, _now_ms()), 1, timeout=2
                    )
                raise

    async def _publish_births(self, client: aiomqtt.Client, bd_seq: int) -> None:
        async with self._lock:  # births go out contiguously, before any more data
            now_ms = _now_ms()
            nbirth = new_payload(timestamp_ms=now_ms, seq=self._seq.reset())
            add_metric(nbirth, name=BD_SEQ, datatype=DataType.INT64, value=bd_seq)
            add_metric(nbirth, name=REBIRTH, datatype=DataType.BOOLEAN, value=False)
            await client.publish(self.topic(MessageType.NBIRTH), nbirth.SerializeToString())
            for device_id, points in self._devices.items():
                payload = new_payload(timestamp_ms=now_ms, seq=self._seq.take())
                for p in points:
                    step_ms = self._step_ms(p.period_s)
                    t_ms = now_ms // step_ms * step_ms  # the latest sample
                    value, silent = self._sample(p, t_ms)
                    add_metric(
                        payload,
                        name=p.metric,
                        alias=p.alias,
                        datatype=p.datatype,
                        value=None if silent else value,
                        timestamp_ms=t_ms,
                    )
                topic = self.topic(MessageType.DBIRTH, device_id)
                await client.publish(topic, payload.SerializeToString())
            self.stats.births += 1

    async def _answer_commands(self, client: aiomqtt.Client, bd_seq: int) -> None:
        async for message in client.messages:
            data = message.payload
            if not isinstance(data, bytes | bytearray):
                continue
            try:
                payload = decode_payload(bytes(data))
            except PayloadError as exc:
                log.warning("edge node %s: NCMD ignored: %s", self.edge_node_id, exc)
                continue
            if is_rebirth_request(payload):
                self.stats.rebirths_answered += 1
                log.info("edge node %s: rebirth requested", self.edge_node_id)
                await self._publish_births(client, bd_seq)  # same MQTT session: same bdSeq

    async def _publish_periodically(
        self, client: aiomqtt.Client, period_s: float, points: list[EdgePoint]
    ) -> None:
        step_ms = self._step_ms(period_s)
        by_device: dict[str, list[EdgePoint]] = {}
        for p in points:
            by_device.setdefault(p.device_id, []).append(p)
        while True:
            tick_ms = (_now_ms() // step_ms + 1) * step_ms
            await asyncio.sleep(max(0.0, tick_ms / 1_000 - time.time()))
            async with self._lock:
                for device_id, device_points in by_device.items():
                    payload = new_payload(timestamp_ms=_now_ms())
                    for p in device_points:
                        value, silent = self._sample(p, tick_ms)
                        if not silent:
                            add_metric(
                                payload,
                                alias=p.alias,
                                datatype=p.datatype,
                                value=value,
                                timestamp_ms=tick_ms,
                            )
                    if not len(payload.metrics):
                        continue
                    payload.seq = self._seq.take()
                    topic = self.topic(MessageType.DDATA, device_id)
                    await client.publish(topic, payload.SerializeToString())
                    self.stats.data_messages += 1

    def _step_ms(self, period_s: float) -> int:
        return max(1, round(period_s * self.period_scale * 1_000))

    def _sample(self, point: EdgePoint, t_ms: int) -> tuple[float | bool | None, bool]:
        """The value at ``t_ms`` (None: bad status, sent as null) and whether it is silent."""
        times = np.array([t_ms * 1_000], dtype=np.int64)
        values = generate(point.spec, times, self.seed)
        faults = [f for f in self.faults if f.series_key == point.spec.key]
        if faults:
            stuck = next(
                (f for f in faults if f.kind is FaultKind.STUCK and f.active(times)[0]), None
            )
            held = None
            if stuck is not None:  # the value the series had when it got stuck
                start = np.array([stuck.start_us], dtype=np.int64)
                held = float(generate(point.spec, start, self.seed)[0])
            quality = np.zeros(1, dtype=np.uint32)
            values, quality, silent = apply_faults(
                faults, point.spec.key, times, values, quality, stuck_value=held
            )
            if silent[0]:
                return None, True
            if quality[0] != GOOD:
                return None, False
        value = float(values[0])
        return (value >= 0.5 if point.datatype is DataType.BOOLEAN else value), False


async def _run_until_one_fails(*jobs: Coroutine[Any, Any, None]) -> None:
    """Run jobs together; the first error cancels the others and is raised.

    (Not a TaskGroup: on Python 3.11 a TaskGroup cancelled while a child fails raises the
    child's error and leaves the cancellation swallowed.)
    """
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
