"""What the OPC UA connector takes from asyncua: DataValues as numpy columns, the server's
operation limits, the status codes that retrying cannot cure, and one-line error texts."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaStatusCodeError

from anh_reporter.connectors.base import ConnectorError
from anh_reporter.domain.timeutil import EPOCH

_ONE_US = dt.timedelta(microseconds=1)
_SC = StatusCodes
REFUSALS = frozenset(
    {
        _SC.BadCertificateInvalid,
        _SC.BadCertificateTimeInvalid,
        _SC.BadCertificateUriInvalid,
        _SC.BadCertificateUseNotAllowed,
        _SC.BadCertificateUntrusted,
        _SC.BadCertificateRevoked,
        _SC.BadCertificateHostNameInvalid,
        _SC.BadSecurityChecksFailed,
        _SC.BadSecurityModeRejected,
        _SC.BadSecurityPolicyRejected,
        _SC.BadIdentityTokenInvalid,
        _SC.BadIdentityTokenRejected,
        _SC.BadUserAccessDenied,
    }
)
"""Status codes that retrying will not cure: the first connection fails with ConnectorError."""
DEFAULT_MAX_NODES_PER_READ = 1000


def now_us() -> int:
    """Microseconds since the epoch, from the system clock."""
    return time.time_ns() // 1000


def _number(variant: ua.Variant | None) -> float:
    value = None if variant is None else variant.Value
    if type(value) is float:
        return value
    if isinstance(value, int | float):  # bool is an int: pump on = 1.0
        return float(value)
    return math.nan


def _stamp_us(dv: ua.DataValue, fallback_us: int) -> int:
    when: dt.datetime | None = dv.SourceTimestamp or dv.ServerTimestamp
    if when is None:
        return fallback_us
    try:
        return (when - EPOCH) // _ONE_US
    except TypeError:  # a naive datetime: OPC UA times are UTC
        return (when.replace(tzinfo=dt.UTC) - EPOCH) // _ONE_US


def datavalue_columns(
    dvs: Sequence[ua.DataValue], receive_us: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.uint32]]:
    """Times (µs), values and status codes of asyncua ``DataValue`` s as numpy columns.

    Time: source timestamp, else server timestamp, else ``receive_us``. A missing status code
    is Good (the OPC UA encoding omits Good); a null or non-numeric value is NaN.
    """
    n = len(dvs)
    times = np.fromiter((_stamp_us(dv, receive_us) for dv in dvs), np.int64, n)
    values = np.fromiter((_number(dv.Value) for dv in dvs), np.float64, n)
    quality = np.fromiter(
        (0 if dv.StatusCode is None else dv.StatusCode.value for dv in dvs), np.uint32, n
    )
    return times, values, quality


@dataclass(frozen=True)
class OperationLimits:
    """The server's operation limits that shape requests (0: no limit)."""

    nodes_per_read: int
    monitored_items_per_call: int


async def operation_limits(client: Client) -> OperationLimits:
    """MaxNodesPerRead (default 1000 when not advertised) and MaxMonitoredItemsPerCall."""
    ids = (
        ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead,
        ObjectIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall,
    )
    dvs = await client.uaclient.read(
        ua.ReadParameters(
            NodesToRead=[
                ua.ReadValueId(NodeId=ua.NodeId(ua.Int32(i)), AttributeId=AttributeIds.Value)
                for i in ids
            ]
        )
    )
    values = [
        int(dv.Value.Value)
        if dv.StatusCode is not None
        and dv.StatusCode.is_good()
        and dv.Value is not None
        and isinstance(dv.Value.Value, int)
        else 0
        for dv in dvs
    ]
    return OperationLimits(values[0] or DEFAULT_MAX_NODES_PER_READ, values[1])


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """``items`` in consecutive lists of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def describe(exc: BaseException) -> str:
    """One line for an asyncua / socket error."""
    if isinstance(exc, ConnectorError):
        return str(exc)
    if isinstance(exc, UaStatusCodeError):
        status = ua.StatusCode(exc.code)
        return f"{status.name}: {status.doc}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
