"""MQTT Sparkplug B connector: the host state machine, then end to end via Mosquitto to PG."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import numpy as np
import paho.mqtt.client as mqtt
import psycopg
import pytest

from anh_reporter.connectors.base import ConnectorError
from anh_reporter.connectors.mqtt import (
    SparkplugConnector,
    SparkplugConnectorConfig,
    SparkplugSession,
    SparkplugTag,
    load_config,
)
from anh_reporter.connectors.mqtt.sparkplug import (
    BD_SEQ,
    DataType,
    MessageType,
    Topic,
    add_metric,
    decode_payload,
    group_filter,
    metric_timestamp_ms,
    new_payload,
    numeric_value,
)
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import BAD, BAD_NO_COMMUNICATION
from anh_reporter.domain.timeutil import to_us
from anh_reporter.simulator.faults import Fault, FaultKind
from anh_reporter.simulator.signals import generate
from anh_reporter.simulator.sparkplug import SparkplugEdgeNode, edge_points, site_tag_map
from anh_reporter.site import load_site
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter

from ..conftest import EXAMPLE_SITE, ROOT, unavailable

SAMPLE = ROOT / "src" / "anh_reporter" / "connectors" / "mqtt" / "sample.yaml"
BROKER = ("127.0.0.1", 1883)
SCALE = 0.02  # sampling periods x 0.02: 10 s -> 200 ms, 60 s -> 1.2 s

# --- the host state machine, without a broker ----------------------------------------------------

G, E = "G", "E"
T = 1_764_000_000_000  # ms
NOW = 1_764_000_100_000_000  # µs
SERIES = {"S1": 1, "S2": 2, "S3": 3, "S4": 4}


def tags(**overrides: Any) -> list[SparkplugTag]:
    rows = [("S1", "D1", "m1"), ("S2", "D1", "m2"), ("S3", None, "n1"), ("S4", "D2", "x")]
    return [
        SparkplugTag(
            series=s, group_id=G, edge_node_id=E, device_id=d, metric=m, **overrides.get(s, {})
        )
        for s, d, m in rows
    ]


def session(**overrides: Any) -> SparkplugSession:
    config = SparkplugConnectorConfig(tags=tuple(tags(**overrides)), rebirth_interval_s=1.0)
    return SparkplugSession(config, SERIES, spans={"S1": 200.0})


def message(
    kind: MessageType,
    device: str | None = None,
    *,
    seq: int | None = None,
    ts: int | None = T,
    metrics: tuple[dict[str, Any], ...] = (),
) -> tuple[str, bytes]:
    payload = new_payload(timestamp_ms=ts, seq=seq)
    for m in metrics:
        add_metric(payload, **m)
    return str(Topic(G, kind, E, device)), payload.SerializeToString()


def dbl(
    alias: int, value: float | None, ts: int | None = None, name: str | None = None
) -> dict[str, Any]:
    """A Double metric for :func:`message`."""
    return dict(alias=alias, name=name, datatype=DataType.DOUBLE, value=value, timestamp_ms=ts)


def born(s: SparkplugSession, bd_seq: int = 3) -> None:
    """NBIRTH (seq 0), DBIRTH D1 (seq 1), DBIRTH D2 (seq 2)."""
    bd = {"name": BD_SEQ, "datatype": DataType.INT64, "value": bd_seq}
    s.handle(*message(MessageType.NBIRTH, seq=0, metrics=(bd, dbl(10, 5.0, T, "n1"))), NOW)
    s.handle(
        *message(
            MessageType.DBIRTH, "D1", seq=1, metrics=(dbl(1, 1.5, T, "m1"), dbl(2, 2.5, T, "m2"))
        ),
        NOW,
    )
    s.handle(*message(MessageType.DBIRTH, "D2", seq=2, metrics=(dbl(3, 9.0, T, "x"),)), NOW)


def rows(batch: Batch | None) -> list[tuple[int, int, float, int]]:
    assert batch is not None
    return list(
        zip(
            batch.series_id.tolist(),
            batch.time_us.tolist(),
            batch.value.tolist(),
            batch.quality.tolist(),
            strict=True,
        )
    )


def test_births_then_data_by_alias_ms_to_us_and_payload_time_fallback() -> None:
    s = session()
    birth = s.handle(*message(MessageType.DBIRTH, "D1", metrics=(dbl(1, 1.5, T - 7, "m1"),)), NOW)
    assert birth.batch is None and birth.rebirth is not None  # DBIRTH before any NBIRTH
    s = session()
    bd = {"name": BD_SEQ, "datatype": DataType.INT64, "value": 3}
    nbirth = s.handle(*message(MessageType.NBIRTH, seq=0, metrics=(bd, dbl(10, 5.0, T, "n1"))), NOW)
    assert rows(nbirth.batch) == [(3, T * 1000, 5.0, 0)]
    dbirth = s.handle(
        *message(MessageType.DBIRTH, "D1", seq=1, metrics=(dbl(1, 1.5, T - 7, "m1"),)), NOW
    )
    assert rows(dbirth.batch) == [(1, (T - 7) * 1000, 1.5, 0)]
    data = s.handle(
        *message(MessageType.DDATA, "D1", seq=2, ts=T + 9, metrics=(dbl(1, 0.1 + 0.2, T + 5),)),
        NOW,
    )
    assert rows(data.batch) == [(1, (T + 5) * 1000, 0.1 + 0.2, 0)]
    no_metric_time = s.handle(
        *message(MessageType.NDATA, seq=3, ts=T + 9, metrics=(dbl(10, 6.0),)), NOW
    )
    assert rows(no_metric_time.batch) == [(3, (T + 9) * 1000, 6.0, 0)]
    no_time = s.handle(*message(MessageType.NDATA, seq=4, ts=None, metrics=(dbl(10, 7.0),)), NOW)
    assert rows(no_time.batch) == [(3, NOW, 7.0, 0)]  # neither timestamp: reception time
    assert s.counters.rebirth_requests == 0 and s.counters.births == 2


def test_seq_wraps_after_255_without_a_rebirth() -> None:
    s = session()
    born(s)
    for i in range(3, 3 + 300):
        out = s.handle(*message(MessageType.DDATA, "D1", seq=i % 256, metrics=(dbl(1, i),)), NOW)
        assert out.rebirth is None
    assert s.counters.seq_gaps == 0


def test_seq_gap_keeps_the_data_and_asks_for_a_rebirth_once_per_interval() -> None:
    s = session()
    born(s)
    out = s.handle(*message(MessageType.DDATA, "D1", seq=5, metrics=(dbl(1, 1.0, T),)), NOW)
    assert rows(out.batch) == [(1, T * 1000, 1.0, 0)]
    assert out.rebirth == Topic(G, MessageType.NCMD, E)
    again = s.handle(*message(MessageType.DDATA, "D1", seq=9, metrics=(dbl(1, 2.0),)), NOW + 1)
    assert again.rebirth is None  # within rebirth_interval_s of the last request
    later = s.handle(*message(MessageType.DDATA, "D1", seq=20, metrics=(dbl(1, 2.0),)), NOW + 10**6)
    assert later.rebirth is not None
    assert (s.counters.seq_gaps, s.counters.rebirth_requests) == (3, 2)


def test_unknown_alias_asks_for_a_rebirth_and_known_ones_still_arrive() -> None:
    s = session()
    born(s)
    out = s.handle(
        *message(MessageType.DDATA, "D1", seq=3, metrics=(dbl(2, 4.0, T), dbl(77, 1.0, T))), NOW
    )
    assert rows(out.batch) == [(2, T * 1000, 4.0, 0)]
    assert out.rebirth == Topic(G, MessageType.NCMD, E)
    assert s.counters.unknown_aliases == 1
    # After the rebirth the node's state is new and requests are allowed again.
    born(s)
    unknown_device = s.handle(*message(MessageType.DDATA, "D9", seq=3, metrics=(dbl(1, 1),)), NOW)
    assert unknown_device.rebirth is not None and unknown_device.batch is None


def test_data_from_a_node_never_born_asks_for_a_rebirth() -> None:
    s = session()
    out = s.handle(*message(MessageType.DDATA, "D1", seq=8, metrics=(dbl(1, 1.0),)), NOW)
    assert (out.batch, out.rebirth) == (None, Topic(G, MessageType.NCMD, E))


def test_null_metric_is_a_bad_quality_marker() -> None:
    s = session()
    born(s)
    out = s.handle(*message(MessageType.DDATA, "D1", seq=3, metrics=(dbl(1, None, T),)), NOW)
    [(sid, t, value, quality)] = rows(out.batch)
    assert (sid, t, quality) == (1, T * 1000, BAD) and math.isnan(value)


def test_node_death_marks_every_series_of_the_node_unless_it_is_stale() -> None:
    s = session()
    born(s, bd_seq=3)
    bd = {"name": BD_SEQ, "datatype": DataType.INT64, "value": 2}
    stale = s.handle(*message(MessageType.NDEATH, metrics=(bd,)), NOW)
    assert stale.batch is None and s.counters.stale_deaths == 1
    death = s.handle(*message(MessageType.NDEATH, metrics=(bd | {"value": 3},)), NOW)
    got = rows(death.batch)
    assert sorted(r[0] for r in got) == [1, 2, 3, 4]
    assert all(t == NOW and q == BAD_NO_COMMUNICATION and math.isnan(v) for _, t, v, q in got)
    assert s.handle(*message(MessageType.NDEATH, metrics=(bd | {"value": 3},)), NOW).batch is None
    after = s.handle(*message(MessageType.DDATA, "D1", seq=3, metrics=(dbl(1, 1.0),)), NOW)
    assert after.batch is None and after.rebirth is not None


def test_device_death_marks_that_device_only() -> None:
    s = session()
    born(s)
    out = s.handle(*message(MessageType.DDEATH, "D1", seq=3, ts=T + 50), NOW)
    got = rows(out.batch)
    assert sorted(r[0] for r in got) == [1, 2]
    assert {(t, q) for _, t, _, q in got} == {((T + 50) * 1000, BAD_NO_COMMUNICATION)}
    other = s.handle(*message(MessageType.DDATA, "D2", seq=4, metrics=(dbl(3, 1.0, T),)), NOW)
    assert rows(other.batch) == [(4, T * 1000, 1.0, 0)]
    dead = s.handle(*message(MessageType.DDATA, "D1", seq=5, metrics=(dbl(1, 1.0, T),)), NOW)
    assert dead.batch is None and dead.rebirth is not None


def test_scale_offset_and_deadband() -> None:
    s = session(
        S1={"scale": 0.5, "offset": 10.0, "deadband": {"kind": "percent", "value": 1.0}},
        S2={"deadband": {"kind": "absolute", "value": 0.5}},
    )
    born(s)  # S1 born at 1.5 -> 10.75; S2 born at 2.5
    # S1: 1 % of a 200 span = 2.0 on raw * 0.5 + 10; S2: 0.5 absolute.
    sent = [(1, 12.0), (2, 2.9), (1, 13.0), (2, 3.1), (1, 17.0)]  # S1 16.0, 16.5, 18.5
    got = []
    for seq, (alias, raw) in enumerate(sent, start=3):
        metrics = (dbl(alias, raw, T + seq),)
        out = s.handle(*message(MessageType.DDATA, "D1", seq=seq, metrics=metrics), NOW)
        got += [(r[0], r[2]) for r in rows(out.batch)] if out.batch is not None else []
    assert got == [(1, 16.0), (2, 3.1), (1, 18.5)]


def test_a_tag_on_a_string_metric_is_refused_at_birth() -> None:
    s = session()
    bd = {"name": BD_SEQ, "datatype": DataType.INT64, "value": 0}
    text = {"name": "n1", "alias": 10, "datatype": DataType.STRING, "value": "on"}
    out = s.handle(*message(MessageType.NBIRTH, seq=0, metrics=(bd, text)), NOW)
    assert out.batch is None
    assert s.last_error is not None and "'n1'" in s.last_error and "numeric" in s.last_error


def test_other_topics_groups_and_bad_payloads() -> None:
    s = session()
    assert s.handle("spBv1.0/STATE/host", b"ONLINE", NOW).batch is None
    assert s.handle(str(Topic("OTHER", MessageType.NBIRTH, E)), b"", NOW).batch is None
    assert s.handle(str(Topic(G, MessageType.NCMD, E)), b"\xff", NOW).batch is None
    out = s.handle(str(Topic(G, MessageType.NDATA, E)), b"\x12\x05\x0a", NOW)
    assert out.rebirth is not None and s.counters.bad_payloads == 1


def test_connection_lost_marks_every_series() -> None:
    s = session()
    born(s)
    got = rows(s.connection_lost(NOW))
    assert [r[0] for r in got] == [1, 2, 3, 4]
    assert {r[3] for r in got} == {BAD_NO_COMMUNICATION}


def test_tags_naming_unknown_series_are_refused() -> None:
    config = SparkplugConnectorConfig(tags=tuple(tags()))
    with pytest.raises(ConnectorError, match="'S4'"):
        SparkplugSession(config, {"S1": 1, "S2": 2, "S3": 3})


def test_duplicate_tags_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "mqtt.yaml"
    path.write_text(
        "tag_defaults: {group_id: G, edge_node_id: E}\n"
        "tags:\n"
        "  - {device_id: D1, metric: m1, series: S1}\n"
        "  - {device_id: D1, metric: m1, series: S2}\n"
    )
    with pytest.raises(ConnectorError, match=r"tags\[1\] repeats tags\[0\]"):
        load_config(path)


def test_sample_config_loads_and_reads_the_simulator() -> None:
    config = load_config(SAMPLE)
    site = load_site(EXAMPLE_SITE)
    assert config.tags == site_tag_map(site, group_id="CAMPO-DEMO-LLANOS")
    assert config.groups == ("CAMPO-DEMO-LLANOS",) and len(config.tags) == 64
    assert {t.series for t in config.tags} == {code for code, _ in site.series_codes()}


# --- against Mosquitto ---------------------------------------------------------------------------


def _reachable(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return str(exc)


@pytest.fixture
def group() -> str:
    """A Sparkplug group of its own for this test run on the shared broker."""
    why = _reachable(*BROKER)
    if why is not None:
        unavailable(f"Mosquitto at {BROKER[0]}:{BROKER[1]}", why)
    return f"T{uuid.uuid4().hex[:12]}"


async def wait_for(what: str, predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.05)


class PahoCapture:
    """A paho-mqtt 2.x client (callback API version 2) recording every message of a group."""

    def __init__(self, group: str, port: int = BROKER[1]) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.port = port
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"paho-{group}")
        self.client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(group_filter(group), 1)
        self.client.on_subscribe = lambda _c, _u, _m, _rc, _p: self.subscribed.set()
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload))

    def __enter__(self) -> PahoCapture:
        self.client.connect(BROKER[0], self.port)
        self.client.loop_start()
        assert self.subscribed.wait(5), "paho client not subscribed"
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def published_readings(
    messages: list[tuple[str, bytes]], tag_map: tuple[SparkplugTag, ...]
) -> dict[tuple[str, int], float]:
    """(series code, µs) -> value of every reading an edge node published, decoded here."""
    code_of = {(t.device_id, t.metric): t.series for t in tag_map}
    aliases: dict[tuple[str | None, int], str] = {}
    out: dict[tuple[str, int], float] = {}
    for topic_text, data in messages:
        topic = Topic.parse(topic_text)
        if topic.message_type not in (MessageType.DBIRTH, MessageType.DDATA):
            continue
        payload = decode_payload(data)
        for m in payload.metrics:
            if topic.message_type is MessageType.DBIRTH:
                aliases[(topic.device_id, m.alias)] = code_of[(topic.device_id, m.name)]
            code = aliases[(topic.device_id, m.alias)]
            value, ts = numeric_value(m), metric_timestamp_ms(m, payload)
            assert value is not None and ts is not None
            out[(code, ts * 1000)] = value
    return out


def ddata_per_device(messages: list[tuple[str, bytes]], devices: int) -> list[int]:
    counts: dict[str, int] = {}
    for topic, _ in list(messages):
        if topic.split("/")[2] == "DDATA":
            counts[topic] = counts.get(topic, 0) + 1
    return list(counts.values()) if len(counts) == devices else [0]


EDGE_NODE_PROCESS = """
import asyncio, sys
from pathlib import Path
from anh_reporter.site import load_site
from anh_reporter.simulator.sparkplug import SparkplugEdgeNode

async def main():
    site = load_site(Path(sys.argv[1]))
    node = SparkplugEdgeNode(site, group_id=sys.argv[2], period_scale=float(sys.argv[3]))
    await node.start()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@contextlib.contextmanager
def edge_node_process(group: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", EDGE_NODE_PROCESS, str(EXAMPLE_SITE), group, str(SCALE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)


@pytest.fixture
def site_db(db: Database) -> Iterator[tuple[psycopg.Connection[Any], dict[str, int]]]:
    """The example site loaded into a fresh database, and its series ids by code."""
    with db.connect() as conn:
        load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="test")
        yield conn, {r.code: r.id for r in list_series(conn)}


async def test_edge_node_to_postgres_exactly_then_death_by_will(
    group: str, site_db: tuple[psycopg.Connection[Any], dict[str, int]]
) -> None:
    conn, ids = site_db
    site = load_site(EXAMPLE_SITE)
    tag_map = site_tag_map(site, group_id=group)
    writer = TelemetryWriter(conn)
    markers_written = 0

    async def sink(batch: Batch) -> None:
        nonlocal markers_written
        await asyncio.to_thread(
            writer.write, batch.series_id, batch.time_us, batch.value, batch.quality
        )
        markers_written += int(np.isnan(batch.value).sum())

    config = SparkplugConnectorConfig(tags=tag_map)
    connector = SparkplugConnector(config, sink, ids)
    counters = connector.session.counters
    await connector.start()
    await connector.wait_connected(5)
    try:
        with PahoCapture(group) as paho, edge_node_process(group) as proc:
            assert proc.stdout is not None
            line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 20)
            assert line.strip() == "ready", proc.stderr.read() if proc.stderr else ""
            # Every well (60 s series, 1.2 s here) has sent DDATA twice.
            await wait_for("DDATA", lambda: min(ddata_per_device(paho.messages, 13)) >= 2)
            proc.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker publishes the will
            proc.wait(5)
            await wait_for("NDEATH", lambda: counters.deaths == 1)
            await wait_for("markers in the database", lambda: markers_written == 64)
        await connector.flush()  # every reading received so far is in the database
        status = connector.status()
    finally:
        await connector.stop()

    published = published_readings(paho.messages, tag_map)
    stored = conn.execute(
        "SELECT s.code, t.time, t.value, t.quality FROM telemetry t "
        "JOIN series s ON s.id = t.series_id ORDER BY t.time"
    ).fetchall()
    good = {(code, to_us(when)): value for code, when, value, q in stored if q == 0}
    assert good == published  # every value, at its timestamp, bit for bit
    assert len({code for code, _ in good}) == 64
    markers = [(code, to_us(when)) for code, when, value, q in stored if value is None]
    assert len(markers) == 64 and {q for *_, q in stored if q != 0} == {
        np.uint32(BAD_NO_COMMUNICATION).view(np.int32)
    }
    last_good = {code: t for code, t in sorted(good)}
    assert all(t >= last_good[code] for code, t in markers)
    assert (status.connected, status.readings, counters.stale_deaths) == (True, len(stored), 0)
    assert status.last_value_time is not None
    assert not any(topic.split("/")[2] == "NCMD" for topic, _ in paho.messages)


@contextlib.asynccontextmanager
async def running(*parts: SparkplugConnector | SparkplugEdgeNode) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for part in parts:
            await part.stop()


async def test_late_connector_and_unknown_alias_get_a_rebirth(group: str) -> None:
    site = load_site(EXAMPLE_SITE)
    tag_map = site_tag_map(site, group_id=group)
    ids = {t.series: i + 1 for i, t in enumerate(tag_map)}
    batches: list[Batch] = []

    async def sink(batch: Batch) -> None:
        batches.append(batch)

    node = SparkplugEdgeNode(site, group_id=group, period_scale=SCALE)
    connector = SparkplugConnector(SparkplugConnectorConfig(tags=tag_map), sink, ids)
    counters = connector.session.counters
    async with running(connector, node):
        await node.start()
        await connector.start()  # after the births: it must ask for them
        await wait_for("first rebirth", lambda: counters.births >= 10)
        assert (counters.rebirth_requests, node.stats.rebirths_answered) == (1, 1)

        async with aiomqtt.Client(*BROKER, identifier=f"rogue-{group}") as rogue:
            payload = new_payload(timestamp_ms=int(time.time() * 1000))  # no seq: no gap
            add_metric(payload, alias=999, datatype=DataType.DOUBLE, value=1.0)
            topic = Topic(group, MessageType.DDATA, node.edge_node_id, "PMO-LACT-01")
            await rogue.publish(str(topic), payload.SerializeToString())
        await wait_for("second rebirth", lambda: node.stats.rebirths_answered == 2)
        await wait_for("births again", lambda: counters.births >= 20)
        before = sum(len(b) for b in batches)
        await wait_for("data after the rebirth", lambda: sum(len(b) for b in batches) > before)
        await node.stop()  # a clean stop publishes NDEATH itself (the will is discarded)
        await wait_for("NDEATH", lambda: counters.deaths == 1)
    assert counters.unknown_aliases == 1
    assert counters.rebirth_requests == 2
    assert counters.seq_gaps == 0
    assert node.stats.bd_seq == 0 and node.stats.sessions == 1


async def test_generator_values_and_injected_faults_reach_the_connector(group: str) -> None:
    site = load_site(EXAMPLE_SITE)
    points = {p.code: p for p in edge_points(site)}
    bad, silent, stuck = (
        points[f"CAMPO-DEMO-LLANOS.{code}"]
        for code in ("PMO-LACT-01.oil_rate", "PMO-GAS-01.meter_pressure", "PMO-GAS-01.gas_rate")
    )
    now_us = time.time_ns() // 1_000
    window = (now_us - 60_000_000, now_us + 60_000_000)
    faults = [
        Fault(FaultKind.BAD_STATUS, bad.spec.key, *window),
        Fault(FaultKind.COMM_LOSS, silent.spec.key, *window),
        Fault(FaultKind.STUCK, stuck.spec.key, *window),
    ]
    tag_map = site_tag_map(site, group_id=group)
    ids = {t.series: i + 1 for i, t in enumerate(tag_map)}
    code_of = {i: code for code, i in ids.items()}
    batches: list[Batch] = []

    async def sink(batch: Batch) -> None:
        batches.append(batch)

    node = SparkplugEdgeNode(site, group_id=group, period_scale=SCALE, faults=faults)
    connector = SparkplugConnector(SparkplugConnectorConfig(tags=tag_map), sink, ids)
    async with running(connector, node):
        await connector.start()
        await node.start()
        await wait_for("DDATA", lambda: connector.session.counters.data_messages >= 40)
    got = Batch.concat(batches)
    by_code: dict[str, list[tuple[int, float, int]]] = {}
    for sid, t, value, q in zip(got.series_id, got.time_us, got.value, got.quality, strict=True):
        by_code.setdefault(code_of[int(sid)], []).append((int(t), float(value), int(q)))
    assert len(by_code[bad.code]) >= 2 and {q for *_, q in by_code[bad.code]} == {BAD}
    assert [q for *_, q in by_code[silent.code]] == [BAD]  # born null, then never sent
    held = generate(stuck.spec, np.array([window[0]]), 42)[0]
    assert len(by_code[stuck.code]) >= 2 and {v for _, v, _ in by_code[stuck.code]} == {held}
    for code, readings in by_code.items():
        if code in (bad.code, silent.code, stuck.code):
            continue
        times = np.array([t for t, _, _ in readings], dtype=np.int64)
        expected = generate(points[code].spec, times, 42)
        if points[code].datatype is DataType.BOOLEAN:
            expected = (expected >= 0.5).astype(np.float64)
        assert [v for _, v, _ in readings] == expected.tolist(), code
        assert {q for *_, q in readings} == {0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def own_mosquitto(port: int) -> Iterator[subprocess.Popen[bytes]]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(binary):
        unavailable("mosquitto (the broker binary)", "not installed")
    proc = subprocess.Popen(
        [binary, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 5
        while _reachable("127.0.0.1", port) is not None:
            assert time.monotonic() < deadline, "mosquitto did not start"
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        proc.wait(5)


async def test_broker_restart_marks_the_outage_and_reconnects() -> None:
    port = _free_port()
    site = load_site(EXAMPLE_SITE)
    group = f"T{uuid.uuid4().hex[:12]}"
    tag_map = site_tag_map(site, group_id=group)
    ids = {t.series: i + 1 for i, t in enumerate(tag_map)}
    batches: list[Batch] = []

    async def sink(batch: Batch) -> None:
        batches.append(batch)

    config = SparkplugConnectorConfig.model_validate(
        {
            "broker": {"port": port},
            "tags": tag_map,
            "reconnect_initial_s": 0.1,
            "reconnect_max_s": 0.4,
        }
    )
    connector = SparkplugConnector(config, sink, ids)
    node = SparkplugEdgeNode(site, port=port, group_id=group, period_scale=SCALE, reconnect_s=0.2)
    async with running(connector, node):
        with own_mosquitto(port):
            await connector.start()
            await node.start()
            await wait_for("data", lambda: connector.session.counters.data_messages >= 10)
        await wait_for("the loss", lambda: not connector.status().connected)
        lost = connector.status()
        with own_mosquitto(port):
            await connector.wait_connected(10)
            await wait_for("births", lambda: node.stats.sessions == 2 and node.ready.is_set())
            await wait_for("new data", lambda: connector.session.counters.data_messages >= 20)
        status = connector.status()
    assert lost.last_error is not None and f"127.0.0.1:{port}" in lost.last_error
    markers = [b for b in batches if (b.quality == BAD_NO_COMMUNICATION).all()]
    assert len(markers) >= 1 and len(markers[0]) == 64 and np.isnan(markers[0].value).all()
    after = Batch.concat(batches[batches.index(markers[0]) + 1 :])
    assert (after.quality == 0).any() and after.time_us.max() > markers[0].time_us[0]
    assert status.reconnects >= 1 and node.stats.bd_seq == 1


async def test_unreachable_broker_is_reported_not_raised() -> None:
    port = _free_port()
    tag_map = site_tag_map(load_site(EXAMPLE_SITE), group_id="G")
    config = SparkplugConnectorConfig.model_validate({"broker": {"port": port}, "tags": tag_map})

    async def sink(batch: Batch) -> None:
        raise AssertionError("nothing to send")

    connector = SparkplugConnector(config, sink, {t.series: 1 for t in tag_map})
    await connector.start()  # returns after the first (failed) attempt
    try:
        status = connector.status()
        assert not status.connected
        assert status.last_error is not None and f"127.0.0.1:{port}" in status.last_error
        with pytest.raises(ConnectorError, match=f"127.0.0.1:{port} after 0.2 s"):
            await connector.wait_connected(0.2)
    finally:
        await connector.stop()
