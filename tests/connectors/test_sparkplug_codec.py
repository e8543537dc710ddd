"""Sparkplug B codec: the wire format checked against bytes written by hand from Tahu's .proto."""

from __future__ import annotations

import math
import re
import struct

import pytest

from anh_reporter.connectors.mqtt.sparkplug import (
    BD_SEQ,
    REBIRTH,
    DataType,
    MessageType,
    PayloadError,
    SequenceCounter,
    Topic,
    add_metric,
    bd_seq_of,
    death_payload,
    decode_payload,
    file_descriptor,
    group_filter,
    is_rebirth_request,
    metric_timestamp_ms,
    metric_value,
    new_payload,
    next_seq,
    numeric_value,
    rebirth_request,
)

# --- a protobuf writer by hand: tags are (field number << 3) | wire type -------------------------

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def tag(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def v(field: int, n: int) -> bytes:
    return tag(field, VARINT) + varint(n)


def d(field: int, x: float) -> bytes:
    return tag(field, FIXED64) + struct.pack("<d", x)


def f32(field: int, x: float) -> bytes:
    return tag(field, FIXED32) + struct.pack("<f", x)


def ld(field: int, body: bytes | str) -> bytes:
    raw = body.encode() if isinstance(body, str) else body
    return tag(field, LEN) + varint(len(raw)) + raw


T = 1_764_000_000_123  # ms since the epoch


def metric(*parts: bytes) -> bytes:
    return ld(2, b"".join(parts))  # Payload.metrics = 2


# Payload: timestamp 1, metrics 2, seq 3, uuid 4, body 5.
# Metric: name 1, alias 2, timestamp 3, datatype 4, is_null 7, metadata 8, properties 9,
# int_value 10, long_value 11, float_value 12, double_value 13, boolean_value 14,
# string_value 15, bytes_value 16, dataset_value 17.
KNOWN_FIELDS_ONLY = b"".join(
    [
        v(1, T),
        metric(ld(1, "oil_rate"), v(2, 1), v(3, T - 5), v(4, 10), d(13, 14000.25)),
        metric(v(2, 2), v(4, 3), v(10, 0xFFFF_FFF9)),  # Int32 -7
        metric(v(2, 3), v(4, 1), v(10, 0xFFFF_FFFF)),  # Int8 -1, sign-extended to 32 bits (Java)
        metric(v(2, 4), v(4, 11), v(14, 1)),  # Boolean true
        metric(v(2, 5), v(4, 9), f32(12, 1.5)),  # Float
        metric(v(2, 6), v(4, 4), v(11, 0xFFFF_FFFF_FFFF_FFFE)),  # Int64 -2
        metric(v(2, 7), v(4, 8), v(11, (1 << 63) + 5)),  # UInt64
        metric(ld(1, "note"), v(4, 12), ld(15, "héllo")),  # String
        metric(v(2, 9), v(4, 10), v(7, 1)),  # null Double
        v(3, 7),
        ld(4, "u-1"),
        ld(5, b"\x00\x01"),
    ]
)


def test_decodes_hand_written_bytes() -> None:
    p = decode_payload(KNOWN_FIELDS_ONLY)
    assert (p.timestamp, p.seq, p.uuid, p.body) == (T, 7, "u-1", b"\x00\x01")
    values = [metric_value(m) for m in p.metrics]
    assert values == [14000.25, -7, -1, True, 1.5, -2, (1 << 63) + 5, "héllo", None]
    first = p.metrics[0]
    assert (first.name, first.alias, first.datatype) == ("oil_rate", 1, DataType.DOUBLE)
    assert metric_timestamp_ms(first, p) == T - 5
    assert metric_timestamp_ms(p.metrics[1], p) == T  # no metric timestamp: the payload's
    assert p.metrics[8].is_null and numeric_value(p.metrics[8]) is None
    assert numeric_value(p.metrics[3]) == 1.0
    assert numeric_value(p.metrics[7]) is None  # a string feeds no series


def test_encoder_writes_the_same_bytes() -> None:
    p = new_payload(timestamp_ms=T)
    add_metric(
        p, name="oil_rate", alias=1, timestamp_ms=T - 5, datatype=DataType.DOUBLE, value=14000.25
    )
    add_metric(p, alias=2, datatype=DataType.INT32, value=-7)
    add_metric(p, alias=3, datatype=DataType.INT8, value=-1)
    add_metric(p, alias=4, datatype=DataType.BOOLEAN, value=True)
    add_metric(p, alias=5, datatype=DataType.FLOAT, value=1.5)
    add_metric(p, alias=6, datatype=DataType.INT64, value=-2)
    add_metric(p, alias=7, datatype=DataType.UINT64, value=(1 << 63) + 5)
    add_metric(p, name="note", datatype=DataType.STRING, value="héllo")
    add_metric(p, alias=9, datatype=DataType.DOUBLE, value=None)
    p.seq = 7
    p.uuid = "u-1"
    p.body = b"\x00\x01"
    assert p.SerializeToString() == KNOWN_FIELDS_ONLY


def test_int8_written_in_its_own_width_reads_signed() -> None:
    # Some encoders (Tahu's Python) write Int8 -1 as 0xFF rather than sign-extended.
    p = decode_payload(
        metric(v(2, 1), v(4, 1), v(10, 0xFF)) + metric(v(2, 2), v(4, 2), v(10, 0x8000))
    )
    assert [metric_value(m) for m in p.metrics] == [-1, -32768]


def test_properties_datasets_and_metadata_do_not_stop_decoding() -> None:
    prop_value = v(1, 12) + ld(8, "bbl/d")  # PropertyValue{type String, string_value}
    property_set = ld(1, "engUnit") + ld(2, prop_value)  # PropertySet{keys, values}
    metadata = ld(2, "text/plain")  # MetaData{content_type}
    row = ld(1, v(1, 5))  # Row{elements: [DataSetValue{int_value 5}]}
    dataset = v(1, 1) + ld(2, "a") + v(3, 3) + ld(4, row)  # DataSet{columns, types, rows}
    data = (
        v(1, T)
        + metric(ld(1, "with_props"), v(2, 10), v(4, 10), ld(8, metadata), ld(9, property_set))
        + metric(ld(1, "with_props_value"), v(4, 10), ld(9, property_set), d(13, 2.5))
        + metric(ld(1, "table"), v(2, 11), v(4, 16), ld(17, dataset))
        + v(3, 1)
        + ld(99, b"third-party extension")
    )
    p = decode_payload(data)
    assert [m.name for m in p.metrics] == ["with_props", "with_props_value", "table"]
    assert [metric_value(m) for m in p.metrics] == [None, 2.5, None]
    assert p.seq == 1
    # Unknown fields are kept (re-encoded after the known ones), not dropped.
    assert len(p.SerializeToString()) == len(data)


@pytest.mark.parametrize(
    ("datatype", "values"),
    [
        (DataType.INT8, [-128, 0, 127]),
        (DataType.INT16, [-32768, -1, 32767]),
        (DataType.INT32, [-(2**31), 2**31 - 1]),
        (DataType.INT64, [-(2**63), -1, 2**63 - 1]),
        (DataType.UINT8, [0, 255]),
        (DataType.UINT16, [0, 65535]),
        (DataType.UINT32, [0, 2**32 - 1]),
        (DataType.UINT64, [0, 2**64 - 1]),
        (DataType.DATETIME, [T]),
        (DataType.FLOAT, [-0.5, 1.5 * 2.0**100]),  # float32-exact
        (DataType.DOUBLE, [-1e308, 5e-324, 0.1 + 0.2]),
        (DataType.BOOLEAN, [False, True]),
        (DataType.STRING, ["", "caño dulce"]),
        (DataType.TEXT, ["line\nline"]),
        (DataType.BYTES, [b"\x00\xff"]),
    ],
)
def test_round_trip_per_data_type(datatype: DataType, values: list[object]) -> None:
    p = new_payload(timestamp_ms=T, seq=255)
    for i, value in enumerate(values):
        add_metric(p, name=f"m{i}", alias=i, datatype=datatype, value=value)  # type: ignore[arg-type]
    back = decode_payload(p.SerializeToString())
    assert [metric_value(m) for m in back.metrics] == values
    assert [m.datatype for m in back.metrics] == [datatype] * len(values)


def test_nan_and_infinity_survive() -> None:
    p = new_payload()
    add_metric(p, alias=1, datatype=DataType.DOUBLE, value=math.inf)
    add_metric(p, alias=2, datatype=DataType.DOUBLE, value=math.nan)
    got = [numeric_value(m) for m in decode_payload(p.SerializeToString()).metrics]
    assert got[0] == math.inf and got[1] is not None and math.isnan(got[1])


@pytest.mark.parametrize(
    ("datatype", "value", "message"),
    [
        (DataType.INT8, 128, "value 128 is outside [-128, 127]"),
        (DataType.UINT16, -1, "value -1 is outside [0, 65535]"),
        (DataType.INT32, 1.5, "value 1.5 is not an integer"),
        (DataType.DOUBLE, "x", "value 'x' is not a number"),
        (DataType.DATASET, 1, "not supported"),
    ],
)
def test_values_that_do_not_fit_are_refused(
    datatype: DataType, value: object, message: str
) -> None:
    with pytest.raises(PayloadError, match=re.escape(message)):
        add_metric(new_payload(), name="m", datatype=datatype, value=value)  # type: ignore[arg-type]


def test_bytes_that_are_not_a_payload_are_refused() -> None:
    with pytest.raises(PayloadError, match="not a Sparkplug B payload"):
        decode_payload(b"\x12\x05\x0a")  # a metric of 5 bytes, cut after 1


def test_descriptor_numbers_are_tahus() -> None:
    # Field numbers and types from eclipse/tahu sparkplug_b/sparkplug_b.proto.
    proto = file_descriptor()
    assert (proto.package, proto.syntax) == ("org.eclipse.tahu.protobuf", "proto2")
    payload = proto.message_type[0]
    assert {f.name: (f.number, f.type) for f in payload.field} == {
        "timestamp": (1, 4),  # uint64
        "metrics": (2, 11),
        "seq": (3, 4),
        "uuid": (4, 9),  # string
        "body": (5, 12),  # bytes
    }
    fields = {f.name: (f.number, f.type) for f in payload.nested_type[0].field}
    assert fields == {
        "name": (1, 9),
        "alias": (2, 4),
        "timestamp": (3, 4),
        "datatype": (4, 13),  # uint32
        "is_historical": (5, 8),  # bool
        "is_transient": (6, 8),
        "is_null": (7, 8),
        "int_value": (10, 13),
        "long_value": (11, 4),
        "float_value": (12, 2),  # float
        "double_value": (13, 1),  # double
        "boolean_value": (14, 8),
        "string_value": (15, 9),
        "bytes_value": (16, 12),
    }


# --- topics, sequence numbers, well-known payloads ---------------------------------------------


def test_topics_format_and_parse() -> None:
    node = Topic("CAMPO-1", MessageType.NBIRTH, "EDGE-1")
    device = Topic("CAMPO-1", MessageType.DDATA, "EDGE-1", "PMO-LACT-01")
    assert str(node) == "spBv1.0/CAMPO-1/NBIRTH/EDGE-1"
    assert str(device) == "spBv1.0/CAMPO-1/DDATA/EDGE-1/PMO-LACT-01"
    assert Topic.parse(str(node)) == node
    assert Topic.parse(str(device)) == device
    assert group_filter("CAMPO-1") == "spBv1.0/CAMPO-1/#"


@pytest.mark.parametrize(
    "topic",
    [
        "spBv1.0/STATE/host-1",
        "spAv1.0/G/NDATA/E",
        "spBv1.0/G/XDATA/E",
        "spBv1.0/G/DDATA/E",  # a device message without a device
        "spBv1.0/G/NDATA/E/D",  # a node message with a device
        "spBv1.0/G/NDATA/E/D/extra",
    ],
)
def test_other_topics_are_refused(topic: str) -> None:
    with pytest.raises(ValueError):
        Topic.parse(topic)


def test_ids_with_mqtt_wildcards_are_refused() -> None:
    with pytest.raises(ValueError, match="edge_node_id 'a/b'"):
        Topic("G", MessageType.NDATA, "a/b")
    with pytest.raises(ValueError, match="group_id '\\+'"):
        group_filter("+")


def test_seq_counts_0_to_255_then_wraps() -> None:
    counter = SequenceCounter()
    assert counter.reset() == 0
    assert [counter.take() for _ in range(256)] == [*range(1, 256), 0]
    assert counter.reset() == 0 and counter.take() == 1
    assert next_seq(255) == 0 and next_seq(0) == 1


def test_death_rebirth_and_bd_seq() -> None:
    death = decode_payload(death_payload(17, T))
    assert (death.timestamp, bd_seq_of(death), death.HasField("seq")) == (T, 17, False)
    assert death.metrics[0].name == BD_SEQ and death.metrics[0].datatype == DataType.INT64
    request = decode_payload(rebirth_request(T))
    assert is_rebirth_request(request)
    birth = new_payload(timestamp_ms=T, seq=0)
    add_metric(birth, name=REBIRTH, datatype=DataType.BOOLEAN, value=False)
    assert not is_rebirth_request(birth)
    assert bd_seq_of(birth) is None
