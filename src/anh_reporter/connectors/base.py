"""What every connector is: start, stop, status; it emits columnar batches to a sink.

A connector stays thin (protocol work lives in asyncua / pymodbus / aiomqtt): it maps
library data to :class:`~anh_reporter.domain.batch.Batch` es and library errors to
:class:`ConnectorError`. A lost connection is visible in the data: the connector emits a
communication-lost marker (NaN value, ``BAD_NO_COMMUNICATION``) for the series it affects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from anh_reporter.domain.batch import Batch
from anh_reporter.errors import AnhError

BatchSink = Callable[[Batch], Awaitable[None]]
"""Where a connector sends its batches (the ingest bus, a spool, or a test's list)."""


class ConnectorError(AnhError):
    """A protocol or configuration error, with the connector's name in the message."""


@dataclass(frozen=True)
class ConnectorStatus:
    """What an operator needs to see about a connector."""

    name: str
    connected: bool
    last_value_time: dt.datetime | None
    last_error: str | None
    readings: int = 0
    reconnects: int = 0


class Connector(Protocol):
    """A running link to one field device or server."""

    name: str

    async def start(self) -> None:
        """Connect and begin emitting batches (returns once running; reconnects by itself)."""
        ...

    async def stop(self) -> None:
        """Stop emitting and disconnect."""
        ...

    def status(self) -> ConnectorStatus:
        """The current status."""
        ...
