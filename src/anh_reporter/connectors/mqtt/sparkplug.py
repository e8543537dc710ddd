"""Sparkplug B: the Eclipse Tahu payload, the topic namespace, and sequence numbers.

The payload is Tahu's ``sparkplug_b.proto`` (proto2, package ``org.eclipse.tahu.protobuf``).
There is no ``protoc`` here, so the message classes are built at import time from a
``FileDescriptorProto`` written in code with the same field numbers and types. Templates,
data sets, property sets and metadata are left out of the descriptor: a payload that carries
them still decodes (protobuf keeps them as unknown fields), their values are just not read.

Signed integers travel in the unsigned ``int_value`` / ``long_value`` fields as two's
complement; Tahu's Java library sign-extends Int8/Int16 to 32 bits, others write only the
type's width, so a reader keeps the low bits of the type's width and sign-extends them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Literal, Protocol, cast

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

NAMESPACE = "spBv1.0"
PROTO_PACKAGE = "org.eclipse.tahu.protobuf"
SEQ_MODULO = 256
"""``seq`` and ``bdSeq`` count 0..255 and wrap."""
BD_SEQ = "bdSeq"
REBIRTH = "Node Control/Rebirth"


class DataType(IntEnum):
    """Sparkplug B metric data types (the comment block of Tahu's ``Payload``)."""

    UNKNOWN = 0
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15
    DATASET = 16
    BYTES = 17
    FILE = 18
    TEMPLATE = 19
    PROPERTY_SET = 20
    PROPERTY_SET_LIST = 21


_INT_BITS: dict[int, tuple[int, bool]] = {
    # datatype: (width in bits, signed)
    DataType.INT8: (8, True),
    DataType.INT16: (16, True),
    DataType.INT32: (32, True),
    DataType.UINT8: (8, False),
    DataType.UINT16: (16, False),
    DataType.UINT32: (32, False),
    DataType.INT64: (64, True),
    DataType.UINT64: (64, False),
    DataType.DATETIME: (64, False),
}
_INT_VALUE_TYPES = frozenset(
    {
        DataType.INT8,
        DataType.INT16,
        DataType.INT32,
        DataType.UINT8,
        DataType.UINT16,
        DataType.UINT32,
    }
)
NUMERIC_TYPES = frozenset(
    _INT_VALUE_TYPES
    | {DataType.INT64, DataType.UINT64, DataType.FLOAT, DataType.DOUBLE, DataType.BOOLEAN}
)
"""Data types whose values can feed a series (a float64 column)."""

MetricValue = int | float | bool | str | bytes | None


class PayloadError(ValueError):
    """Bytes that are not a Sparkplug B payload, or a value that does not fit its data type."""


# --- the protobuf messages -------------------------------------------------------------------

_F = descriptor_pb2.FieldDescriptorProto

_METRIC_FIELDS: tuple[tuple[str, int, int, bool], ...] = (
    # name, number, type, member of the "value" oneof
    ("name", 1, _F.TYPE_STRING, False),
    ("alias", 2, _F.TYPE_UINT64, False),
    ("timestamp", 3, _F.TYPE_UINT64, False),
    ("datatype", 4, _F.TYPE_UINT32, False),
    ("is_historical", 5, _F.TYPE_BOOL, False),
    ("is_transient", 6, _F.TYPE_BOOL, False),
    ("is_null", 7, _F.TYPE_BOOL, False),
    # 8 metadata, 9 properties: left out (kept as unknown fields)
    ("int_value", 10, _F.TYPE_UINT32, True),
    ("long_value", 11, _F.TYPE_UINT64, True),
    ("float_value", 12, _F.TYPE_FLOAT, True),
    ("double_value", 13, _F.TYPE_DOUBLE, True),
    ("boolean_value", 14, _F.TYPE_BOOL, True),
    ("string_value", 15, _F.TYPE_STRING, True),
    ("bytes_value", 16, _F.TYPE_BYTES, True),
    # 17 dataset, 18 template, 19 extension: left out (kept as unknown fields)
)
_PAYLOAD_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("timestamp", 1, _F.TYPE_UINT64),
    ("seq", 3, _F.TYPE_UINT64),
    ("uuid", 4, _F.TYPE_STRING),
    ("body", 5, _F.TYPE_BYTES),
)


def file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """The subset of Tahu's ``sparkplug_b.proto`` this module reads and writes."""
    proto = descriptor_pb2.FileDescriptorProto(
        name="anh_reporter/sparkplug_b.proto", package=PROTO_PACKAGE, syntax="proto2"
    )
    payload = proto.message_type.add(name="Payload")
    for name, number, type_ in _PAYLOAD_FIELDS:
        payload.field.add(name=name, number=number, type=type_, label=_F.LABEL_OPTIONAL)
    payload.field.add(
        name="metrics",
        number=2,
        type=_F.TYPE_MESSAGE,
        label=_F.LABEL_REPEATED,
        type_name=f".{PROTO_PACKAGE}.Payload.Metric",
    )
    payload.extension_range.add(start=6, end=536_870_912)  # "extensions 6 to max"
    metric = payload.nested_type.add(name="Metric")
    metric.oneof_decl.add(name="value")
    for name, number, type_, in_oneof in _METRIC_FIELDS:
        field = metric.field.add(name=name, number=number, type=type_, label=_F.LABEL_OPTIONAL)
        if in_oneof:
            field.oneof_index = 0
    return proto


class MetricMessage(Protocol):
    """Typed view of the generated ``Payload.Metric`` class."""

    name: str
    alias: int
    timestamp: int
    datatype: int
    is_historical: bool
    is_transient: bool
    is_null: bool
    int_value: int
    long_value: int
    float_value: float
    double_value: float
    boolean_value: bool
    string_value: str
    bytes_value: bytes

    def HasField(self, field_name: str) -> bool:
        """Whether an optional field is set."""
        ...

    def WhichOneof(self, oneof_group: Literal["value"]) -> str | None:
        """Which value field is set."""
        ...


class MetricList(Protocol):
    """Typed view of the repeated ``metrics`` field."""

    def add(self) -> MetricMessage:
        """Append a new, empty metric and return it."""
        ...

    def __iter__(self) -> Iterator[MetricMessage]: ...

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> MetricMessage: ...


class PayloadMessage(Protocol):
    """Typed view of the generated ``Payload`` class."""

    timestamp: int
    seq: int
    uuid: str
    body: bytes

    @property
    def metrics(self) -> MetricList:
        """The metrics, in order."""
        ...

    def HasField(self, field_name: str) -> bool:
        """Whether an optional field is set."""
        ...

    def SerializeToString(self) -> bytes:
        """The wire form."""
        ...

    def ParseFromString(self, serialized: bytes) -> int:
        """Replace the contents with the decoded bytes."""
        ...


def _message_class() -> type:
    pool = descriptor_pool.DescriptorPool()  # a private pool: no clash with another copy
    pool.Add(file_descriptor())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PROTO_PACKAGE}.Payload"))


_PAYLOAD_CLASS = _message_class()


def new_payload(*, timestamp_ms: int | None = None, seq: int | None = None) -> PayloadMessage:
    """An empty payload with its send time (ms since the epoch) and sequence number."""
    payload = cast(PayloadMessage, _PAYLOAD_CLASS())
    if timestamp_ms is not None:
        payload.timestamp = timestamp_ms
    if seq is not None:
        payload.seq = seq
    return payload


def decode_payload(data: bytes) -> PayloadMessage:
    """Decode a payload; raise :class:`PayloadError` for bytes that are not one."""
    payload = new_payload()
    try:
        payload.ParseFromString(data)
    except DecodeError as exc:
        raise PayloadError(f"not a Sparkplug B payload ({len(data)} bytes): {exc}") from None
    return payload


def add_metric(
    payload: PayloadMessage,
    *,
    datatype: DataType,
    value: MetricValue,
    name: str | None = None,
    alias: int | None = None,
    timestamp_ms: int | None = None,
) -> MetricMessage:
    """Append a metric (``value=None`` sends it as null) and return it."""
    metric = payload.metrics.add()
    if name is not None:
        metric.name = name
    if alias is not None:
        metric.alias = alias
    if timestamp_ms is not None:
        metric.timestamp = timestamp_ms
    metric.datatype = int(datatype)
    set_value(metric, datatype, value)
    return metric


def set_value(metric: MetricMessage, datatype: DataType, value: MetricValue) -> None:
    """Write ``value`` in the field its data type uses; ``None`` marks the metric null."""
    if value is None:
        metric.is_null = True
        return
    what = f"metric {metric.name or metric.alias!r} ({datatype.name})"
    if datatype in _INT_BITS:
        if not isinstance(value, int | float) or (
            isinstance(value, float) and not value.is_integer()
        ):
            raise PayloadError(f"{what}: value {value!r} is not an integer")
        number = int(value)
        bits, signed = _INT_BITS[datatype]
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if not lo <= number <= hi:
            raise PayloadError(f"{what}: value {number} is outside [{lo}, {hi}]")
        if datatype in _INT_VALUE_TYPES:
            metric.int_value = number & 0xFFFF_FFFF  # Tahu's Java: sign-extended to 32 bits
        else:
            metric.long_value = number & 0xFFFF_FFFF_FFFF_FFFF
    elif datatype in (DataType.FLOAT, DataType.DOUBLE):
        if not isinstance(value, int | float):
            raise PayloadError(f"{what}: value {value!r} is not a number")
        if datatype is DataType.FLOAT:
            metric.float_value = float(value)
        else:
            metric.double_value = float(value)
    elif datatype is DataType.BOOLEAN:
        metric.boolean_value = bool(value)
    elif datatype in (DataType.STRING, DataType.TEXT, DataType.UUID):
        metric.string_value = str(value)
    elif datatype in (DataType.BYTES, DataType.FILE):
        if not isinstance(value, bytes):
            raise PayloadError(f"{what}: value {value!r} is not bytes")
        metric.bytes_value = value
    else:
        raise PayloadError(f"{what}: writing this data type is not supported")


def metric_value(metric: MetricMessage) -> MetricValue:
    """The value as Python (signed integers sign-extended); ``None`` when null or absent."""
    if metric.is_null:
        return None
    which = metric.WhichOneof("value")
    if which is None:
        return None
    if which in ("int_value", "long_value"):
        raw: int = getattr(metric, which)
        width = _INT_BITS.get(metric.datatype)
        if width is None or not width[1]:
            return raw
        bits = width[0]
        raw &= (1 << bits) - 1
        return raw - (1 << bits) if raw >> (bits - 1) else raw
    return cast(MetricValue, getattr(metric, which))


def numeric_value(metric: MetricMessage) -> float | None:
    """The value as a float for a series (Boolean 0/1), ``None`` if null or not numeric."""
    value = metric_value(metric)
    if isinstance(value, bool | int | float):
        return float(value)
    return None


def metric_timestamp_ms(metric: MetricMessage, payload: PayloadMessage) -> int | None:
    """When the metric was acquired: its own timestamp, else the payload's, else ``None``."""
    if metric.HasField("timestamp"):
        return metric.timestamp
    if payload.HasField("timestamp"):
        return payload.timestamp
    return None


# --- topics ----------------------------------------------------------------------------------


class MessageType(StrEnum):
    """Sparkplug B message types (the third topic level)."""

    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    NDATA = "NDATA"
    DDATA = "DDATA"
    NCMD = "NCMD"
    DCMD = "DCMD"


_DEVICE_TYPES = frozenset(
    {MessageType.DBIRTH, MessageType.DDEATH, MessageType.DDATA, MessageType.DCMD}
)


def check_id(kind: str, value: str) -> str:
    """A group, edge node or device id: non-empty, without ``/``, ``+`` or ``#``."""
    if not value or any(c in value for c in "/+#"):
        raise ValueError(f"{kind} {value!r} must be non-empty and contain none of '/', '+', '#'")
    return value


@dataclass(frozen=True)
class Topic:
    """``spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]``."""

    group_id: str
    message_type: MessageType
    edge_node_id: str
    device_id: str | None = None

    def __post_init__(self) -> None:
        check_id("group_id", self.group_id)
        check_id("edge_node_id", self.edge_node_id)
        if (self.device_id is not None) != (self.message_type in _DEVICE_TYPES):
            raise ValueError(
                f"{self.message_type} topics "
                + ("need" if self.message_type in _DEVICE_TYPES else "take no")
                + f" device id (got {self.device_id!r})"
            )
        if self.device_id is not None:
            check_id("device_id", self.device_id)

    def __str__(self) -> str:
        parts = [NAMESPACE, self.group_id, self.message_type.value, self.edge_node_id]
        if self.device_id is not None:
            parts.append(self.device_id)
        return "/".join(parts)

    @classmethod
    def parse(cls, topic: str) -> Topic:
        """Parse a Sparkplug B topic; raise ``ValueError`` for anything else (e.g. STATE)."""
        parts = topic.split("/")
        if len(parts) not in (4, 5) or parts[0] != NAMESPACE:
            raise ValueError(f"not a Sparkplug B edge topic: {topic!r}")
        try:
            message_type = MessageType(parts[2])
        except ValueError:
            raise ValueError(
                f"unknown Sparkplug B message type {parts[2]!r} in {topic!r}"
            ) from None
        return cls(parts[1], message_type, parts[3], parts[4] if len(parts) == 5 else None)


def group_filter(group_id: str) -> str:
    """The subscription that receives every message of a group."""
    return f"{NAMESPACE}/{check_id('group_id', group_id)}/#"


# --- sequence numbers and well-known payloads --------------------------------------------------


def next_seq(seq: int) -> int:
    """The sequence number after ``seq`` (255 is followed by 0)."""
    return (seq + 1) % SEQ_MODULO


class SequenceCounter:
    """An edge node's ``seq``: 0 on NBIRTH, then +1 per message, wrapping after 255."""

    def __init__(self) -> None:
        self._next = 0

    def reset(self) -> int:
        """Start again (NBIRTH): return 0."""
        self._next = 1
        return 0

    def take(self) -> int:
        """The next sequence number."""
        seq = self._next
        self._next = next_seq(seq)
        return seq


def death_payload(bd_seq: int, timestamp_ms: int) -> bytes:
    """An NDEATH payload (the edge node's MQTT will): the session's ``bdSeq``, no ``seq``."""
    payload = new_payload(timestamp_ms=timestamp_ms)
    add_metric(payload, name=BD_SEQ, datatype=DataType.INT64, value=bd_seq)
    return payload.SerializeToString()


def bd_seq_of(payload: PayloadMessage) -> int | None:
    """The ``bdSeq`` metric of an NBIRTH or NDEATH payload, if it has one."""
    for metric in payload.metrics:
        if metric.name == BD_SEQ:
            value = numeric_value(metric)
            return None if value is None or not math.isfinite(value) else int(value)
    return None


def rebirth_request(timestamp_ms: int) -> bytes:
    """The NCMD payload asking an edge node to publish its births again."""
    payload = new_payload(timestamp_ms=timestamp_ms)
    add_metric(payload, name=REBIRTH, datatype=DataType.BOOLEAN, value=True)
    return payload.SerializeToString()


def is_rebirth_request(payload: PayloadMessage) -> bool:
    """Whether an NCMD payload asks for a rebirth."""
    return any(m.name == REBIRTH and metric_value(m) is True for m in payload.metrics)
