"""Issue 13, continuous checks: what a compromised field device can send, fuzzed.

A Sparkplug B edge node controls every byte of its MQTT messages (topic, payload, metric
types, aliases, timestamps, sequence numbers); a Modbus device every register of its answers.
The host session must never raise: a bad payload is counted and answered with a rebirth
request, a reading that cannot be stored is dropped with the error recorded, and every batch
it emits is well formed. Modbus decoding turns any register values into float64 and refuses a
wrong register count with a ``ValueError`` naming both counts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anh_reporter.connectors.modbus.decode import REGISTERS_PER_TYPE, BlockDecoder
from anh_reporter.connectors.mqtt import SparkplugConnectorConfig, SparkplugSession, SparkplugTag
from anh_reporter.connectors.mqtt.sparkplug import BD_SEQ, MessageType, Topic, new_payload

from .fuzzing import FUZZ, NASTY_TEXT

G, E = "G", "E"
NOW_US = 1_764_000_100_000_000
SERIES = {"S1": 1, "S2": 2, "S3": 3}
U64 = st.integers(min_value=0, max_value=2**64 - 1)
U32 = st.integers(min_value=0, max_value=2**32 - 1)
TIMESTAMP_MS = st.one_of(
    st.integers(1_764_000_000_000, 1_764_000_100_000),
    U64,
    st.sampled_from([0, 9_223_372_036_854_775, 9_223_372_036_854_776, 2**63, 2**64 - 1]),
)
"""Around now, anything, and either side of the last millisecond int64 microseconds hold."""


def session() -> SparkplugSession:
    tags = [
        SparkplugTag(series="S1", group_id=G, edge_node_id=E, device_id="D1", metric="m1"),
        SparkplugTag(
            series="S2", group_id=G, edge_node_id=E, device_id="D1", metric="m2", scale=1e300
        ),
        SparkplugTag(series="S3", group_id=G, edge_node_id=E, device_id=None, metric="n1"),
    ]
    return SparkplugSession(SparkplugConnectorConfig(tags=tuple(tags)), SERIES)


VALUE_FIELDS = st.one_of(
    st.tuples(st.just("int_value"), U32),
    st.tuples(st.just("long_value"), U64),
    st.tuples(st.just("float_value"), st.floats(width=32)),
    st.tuples(st.just("double_value"), st.floats()),
    st.tuples(st.just("boolean_value"), st.booleans()),
    st.tuples(st.just("string_value"), NASTY_TEXT),
    st.tuples(st.just("bytes_value"), st.binary(max_size=8)),
    st.none(),
)
METRIC = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["m1", "m2", "n1", "n1", "m1", BD_SEQ, "other", ""]),
        "alias": st.one_of(st.integers(0, 3), U64),
        "timestamp": TIMESTAMP_MS,
        "datatype": st.one_of(st.integers(1, 11), st.integers(0, 21), U32),
        "is_null": st.booleans(),
        "is_historical": st.booleans(),
        "value": VALUE_FIELDS,
    },
)
PAYLOAD = st.fixed_dictionaries(
    {"metrics": st.lists(METRIC, max_size=4)},
    optional={"timestamp": TIMESTAMP_MS, "seq": st.one_of(st.integers(0, 3), U64)},
)
NODE_KINDS = [MessageType.NBIRTH, MessageType.NDEATH, MessageType.NDATA]
DEVICE_KINDS = [MessageType.DBIRTH, MessageType.DDEATH, MessageType.DDATA]
TOPIC = st.one_of(
    st.sampled_from(NODE_KINDS).map(lambda kind: str(Topic(G, kind, E))),
    st.builds(
        lambda kind, device: str(Topic(G, kind, E, device)),
        st.sampled_from(DEVICE_KINDS),
        st.sampled_from(["D1", "D2"]),
    ),
    st.sampled_from(["spBv1.0/STATE/host", "spBv1.0/G/NDATA", "spBv1.0/G/NDATA/E/D1/x"]),
    NASTY_TEXT,
)


def encode(spec: dict[str, Any]) -> bytes:
    payload = new_payload(timestamp_ms=spec.get("timestamp"), seq=spec.get("seq"))
    for m in spec["metrics"]:
        metric = payload.metrics.add()
        for key in ("name", "alias", "timestamp", "datatype", "is_null", "is_historical"):
            if key in m:
                setattr(metric, key, m[key])
        if m.get("value") is not None:
            setattr(metric, *m["value"])
    return bytes(payload.SerializeToString())


MESSAGE = st.tuples(TOPIC, st.one_of(PAYLOAD.map(encode), st.binary(max_size=40)))
BIRTH = st.tuples(st.just(str(Topic(G, MessageType.NBIRTH, E))), PAYLOAD.map(encode))


@FUZZ
@given(st.lists(st.one_of(BIRTH, MESSAGE), min_size=1, max_size=8))
def test_sparkplug_session_never_raises(messages: list[tuple[str, bytes]]) -> None:
    s = session()
    for topic, data in messages:
        outcome = s.handle(topic, data, NOW_US)
        batch = outcome.batch
        if batch is not None:
            n = len(batch)
            assert batch.series_id.dtype == np.int32 and set(batch.series_id.tolist()) <= {1, 2, 3}
            assert batch.time_us.shape == batch.value.shape == batch.quality.shape == (n,)
    assert s.counters.bad_payloads >= 0


def test_a_metric_timestamp_beyond_int64_microseconds_is_refused_not_raised() -> None:
    """Found by the fuzzing above: a uint64 millisecond timestamp times 1000 overflowed the
    batch's int64 microseconds (OverflowError out of the MQTT callback)."""
    s = session()
    birth = {
        "metrics": [{"name": "n1", "alias": 7, "datatype": 10, "value": ("double_value", 1.0)}]
    }
    s.handle(str(Topic(G, MessageType.NBIRTH, E)), encode(birth | {"seq": 0}), NOW_US)
    late = {
        "seq": 1,
        "metrics": [
            {"alias": 7, "datatype": 10, "timestamp": 2**64 - 1, "value": ("double_value", 2.0)}
        ],
    }
    outcome = s.handle(str(Topic(G, MessageType.NDATA, E)), encode(late), NOW_US)
    assert outcome.batch is None
    assert s.last_error == (
        "metric 7: timestamp 18446744073709551615 ms is beyond what a reading can hold "
        "(year 294247); reading dropped"
    )


def test_an_infinite_bd_seq_is_no_bd_seq() -> None:
    """Found by the fuzzing above: a float bdSeq of inf raised OverflowError in int()."""
    s = session()
    birth = {
        "seq": 0,
        "metrics": [{"name": BD_SEQ, "datatype": 9, "value": ("float_value", math.inf)}],
    }
    s.handle(str(Topic(G, MessageType.NBIRTH, E)), encode(birth), NOW_US)
    death = {"metrics": [{"name": BD_SEQ, "datatype": 9, "value": ("float_value", -math.inf)}]}
    outcome = s.handle(str(Topic(G, MessageType.NDEATH, E)), encode(death), NOW_US)
    # The death of the node: every series of it and its devices is marked communication-lost.
    assert outcome.batch is not None and outcome.batch.series_id.tolist() == [1, 2, 3]


@pytest.mark.parametrize("count", [1, 4, 9])
@FUZZ
@given(data=st.data())
def test_modbus_block_decodes_any_registers(count: int, data: st.DataObject) -> None:
    fitting = [t for t, width in REGISTERS_PER_TYPE.items() if width <= count]
    fields = data.draw(
        st.lists(
            st.sampled_from(fitting).flatmap(
                lambda t: st.tuples(
                    st.integers(0, count - REGISTERS_PER_TYPE[t]),
                    st.just(t),
                    st.sampled_from(["ABCD", "DCBA", "BADC", "CDAB"]),
                )
            ),
            min_size=1,
            max_size=6,
        )
    )
    decoder = BlockDecoder(fields, count)
    registers = data.draw(st.lists(st.integers(0, 0xFFFF), min_size=count, max_size=count))
    out = decoder.decode(registers)
    assert out.dtype == np.float64 and out.shape == (len(fields),)
    short = data.draw(st.integers(0, 12).filter(lambda n: n != count))
    with pytest.raises(ValueError, match=f"expected {count} registers, got {short}"):
        decoder.decode([0] * short)
