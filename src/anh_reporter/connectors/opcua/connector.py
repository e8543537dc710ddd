"""OPC UA connector: subscriptions (or polling) into columnar batches, kept alive by a supervisor.

Data path: asyncua decodes a publish response (or a read response); the connector takes the
client handles, values, status codes and timestamps of its ``DataValue`` s into numpy columns in
one pass (:func:`~.client.datavalue_columns`), scales them (``raw * k + b``), drops readings it
has already emitted (same or older source timestamp: the initial values re-sent after a
reconnect, or an unchanged value polled again), applies the deadbands the server refused
(:func:`~anh_reporter.connectors.runtime.deadband_keep`) and puts the batch in the connector's
outbox (:class:`~anh_reporter.connectors.runtime.Outbox`), which sends what gathered every
``flush_interval_ms`` (or at ``flush_max_readings``) and retries a failing sink without dropping
anything. When the outbox is full, the publish callback waits: asyncua stops asking the server
for notifications until there is room.

Timestamps: the source timestamp; without one, the server timestamp; without either, the time
the connector received the value. Status codes are OPC UA codes, which is what the project
stores (:mod:`anh_reporter.domain.quality`); a Bad value arrives as null and is stored as NaN.

Supervisor (:class:`~anh_reporter.connectors.runtime.Supervisor`): a connection loss (socket
closed, keep-alive probe failed, a subscription status change, a failed read) emits a
communication-lost marker (NaN, ``BAD_NO_COMMUNICATION``, at the time of detection) for every
series of the connection, then builds a new client after a jittered exponential backoff
(``reconnect_initial_s`` .. ``reconnect_max_s``) and re-creates the subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from anh_reporter.connectors.base import BatchSink, ConnectorError, ConnectorStatus
from anh_reporter.connectors.opcua.client import (
    REFUSALS,
    OperationLimits,
    datavalue_columns,
    describe,
    now_us,
    operation_limits,
)
from anh_reporter.connectors.opcua.config import OpcUaConfig
from anh_reporter.connectors.opcua.security import apply_security, identity_hint, rejected_dir
from anh_reporter.connectors.opcua.subscription import subscribe
from anh_reporter.connectors.runtime import (
    Backoff,
    Outbox,
    Supervisor,
    deadband_keep,
    outbox_for,
)
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import BAD_NO_COMMUNICATION, good_mask
from anh_reporter.domain.timeutil import from_us
from anh_reporter.observability import metrics

log = logging.getLogger(__name__)

_SC = StatusCodes


@dataclass
class OpcUaCounters:
    """What the connector has done since it started (for status lines, tests and benches)."""

    readings: int = 0
    markers: int = 0
    repeats_dropped: int = 0
    read_requests: int = 0


@dataclass
class _Link:
    """One connected client and what hangs off it; thrown away on a connection loss."""

    client: Client
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = ""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def lose(self, reason: str) -> None:
        if not self.lost.is_set():
            self.reason = reason
            self.lost.set()


class OpcUaConnector:
    """A running link to one OPC UA server, emitting batches of its tags' readings."""

    def __init__(
        self,
        config: OpcUaConfig,
        series_ids: Mapping[str, int],
        sink: BatchSink,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        missing = [t.series for t in config.tags if t.series not in series_ids]
        if missing:
            raise ConnectorError(
                f"OPC UA connector {config.name!r}: {len(missing)} tag(s) name series that are "
                f"not in the database, e.g. {missing[0]!r}; load the site file first"
            )
        tags = config.tags
        self._series = np.array([series_ids[t.series] for t in tags], dtype=np.int32)
        self._k = np.array([t.scale for t in tags], dtype=np.float64)
        self._b = np.array([t.offset for t in tags], dtype=np.float64)
        self._scaled = bool(np.any(self._k != 1.0) or np.any(self._b != 0.0))
        self._last_us = np.full(len(tags), np.iinfo(np.int64).min, dtype=np.int64)
        self._last_reported = np.full(len(tags), math.nan)
        self._client_limits = np.zeros(len(tags))  # deadbands the server refused to apply
        self.outbox: Outbox = outbox_for(
            sink,
            config,
            name=f"OPC UA connector {config.name!r}",
            max_batch=config.flush_max_readings,
            linger_s=config.flush_interval_ms / 1000.0,
        )
        self.counters = OpcUaCounters()
        self._supervisor = Supervisor(
            f"OPC UA connector {config.name!r}",
            self._session,
            Backoff(config.reconnect_initial_s, config.reconnect_max_s, rng=rng),
            on_down=self._down,
            describe=describe,
            fatal=(ConnectorError,),
        )
        self._connected = False
        self._marked_lost = False
        self._last_value_us: int | None = None
        self._last_error: str | None = None
        self._warned_untrusted = False

    # -- Connector protocol --------------------------------------------------------------

    async def start(self) -> None:
        """Connect and begin emitting; returns once the first attempt has finished.

        A refusal that retrying cannot cure (certificate not trusted, security policy not
        offered, a node id in an unknown namespace) raises :class:`ConnectorError`. A server
        that cannot be reached is not an error here: the supervisor keeps trying, and
        ``status()`` says why it is not connected.
        """
        if self._supervisor.running:
            raise ConnectorError(f"OPC UA connector {self.name!r} is already running")
        self.outbox.start()
        try:
            await self._supervisor.start()
        except ConnectorError:
            await self.outbox.close()
            raise

    async def stop(self) -> None:
        """Stop, disconnect, and deliver what is in the outbox."""
        await self._supervisor.stop()
        self._set_connected(False)
        await self.outbox.close()

    async def flush(self) -> None:
        """Return once every reading taken so far has reached the sink."""
        await self.outbox.flush()

    def status(self) -> ConnectorStatus:
        """Connected or not, newest source time emitted, last error, counts."""
        last = None if self._last_value_us is None else from_us(self._last_value_us)
        return ConnectorStatus(
            name=self.name,
            connected=self._connected,
            last_value_time=last,
            last_error=self._last_error or self.outbox.last_error,
            readings=self.counters.readings,
            reconnects=self._supervisor.reconnects,
        )

    # -- supervisor ----------------------------------------------------------------------

    async def _session(self, up: Callable[[], None]) -> str:
        """One connection: connect, acquire until it is lost, tear it down."""
        try:
            link = await self._connect()
        except ConnectorError as exc:
            log.error("%s: %s", self.name, exc)
            raise
        try:
            reconnect = self._marked_lost
            self._marked_lost = False
            self._last_error = None
            self._set_connected(True)
            up()
            if reconnect:
                log.info("%s: connected to %s", self.name, self.config.endpoint)
            await link.lost.wait()
            return link.reason
        finally:
            await self._teardown(link)

    async def _down(self, reason: str, was_up: bool) -> None:
        """Record a failure; on the way down, emit a communication-lost marker per series."""
        if was_up:
            log.warning("%s: connection lost: %s", self.name, reason)
        else:
            log.info("%s: cannot connect: %s", self.name, reason)
        self._last_error = reason
        self._set_connected(False)
        if self._marked_lost:
            return
        self._marked_lost = True
        n = len(self._series)
        self.counters.markers += n
        await self.outbox.put(
            Batch(
                self._series,
                np.full(n, now_us(), dtype=np.int64),
                np.full(n, math.nan),
                np.full(n, BAD_NO_COMMUNICATION, dtype=np.uint32),
                self.name,
            )
        )

    def _set_connected(self, connected: bool) -> None:
        self._connected = connected
        metrics.connector_connected.labels(connector=self.name).set(1 if connected else 0)

    async def _connect(self) -> _Link:
        """Build a client, connect, and start acquiring; raise on any failure."""
        client = await self._build_client()
        link = _Link(client)

        async def on_lost(exc: Exception) -> None:
            link.lose(describe(exc))

        client.connection_lost_callback = on_lost
        try:
            await client.connect()
        except asyncio.CancelledError:
            client.disconnect_socket()  # asyncua cleans up after errors, not cancellation
            raise
        except UaStatusCodeError as exc:
            if exc.code in REFUSALS:
                raise ConnectorError(self._refusal(exc)) from None
            raise
        except UaError as exc:
            if not isinstance(exc, UaStatusCodeError):
                raise ConnectorError(f"OPC UA connector {self.name!r}: {exc}") from None
            raise
        try:
            nodes = await self._resolve_node_ids(client)
            limits = await operation_limits(client)
            if self.config.acquisition == "subscription":
                subscribed = await subscribe(
                    client, self.config, nodes, limits, lambda r: self._on_publish(link, r)
                )
                for handle, limit in subscribed.client_limits.items():
                    self._client_limits[handle] = limit
                for handle, status in subscribed.bad_items:
                    await self._bad_item(handle, status)
            else:
                self._start_polling(link, nodes, limits)
        except BaseException:
            await self._teardown(link)
            raise
        return link

    async def _build_client(self) -> Client:
        cfg, sec = self.config, self.config.security
        client = Client(
            cfg.endpoint,
            timeout=cfg.request_timeout_s,
            watchdog_intervall=cfg.watchdog_interval_s,
        )
        client.name = client.description = f"ANH Smart Reporter ({cfg.name})"
        client.session_timeout = 120_000
        if sec.policy != "None" and sec.trust_dir is None and not self._warned_untrusted:
            self._warned_untrusted = True
            log.warning(
                "%s: no trust_dir: the server certificate of %s is accepted without a check",
                self.name,
                cfg.endpoint,
            )
        await apply_security(client, sec, f"OPC UA connector {self.name!r}", cfg.endpoint)
        return client

    def _refusal(self, exc: UaStatusCodeError) -> str:
        sec = self.config.security
        status = ua.StatusCode(exc.code)
        if exc.code == _SC.BadCertificateUntrusted and sec.trust_dir is not None:
            return (
                f"OPC UA connector {self.name!r}: {status.name} at {self.config.endpoint}: "
                f"either the server does not trust our certificate {sec.certificate} (copy it "
                f"into the server's trusted certificates), or we do not trust the server's "
                f"(review {rejected_dir(sec.trust_dir)} and move it into {sec.trust_dir})"
            )
        text = (
            f"OPC UA connector {self.name!r}: the server at {self.config.endpoint} refused the "
            f"session: {status.name} ({status.doc})"
        )
        return text + identity_hint(exc.code, sec)

    async def _teardown(self, link: _Link) -> None:
        for task in link.tasks:
            task.cancel()
        for task in link.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        link.tasks.clear()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(link.client.disconnect(), self.config.request_timeout_s)

    async def _resolve_node_ids(self, client: Client) -> list[ua.NodeId]:
        """Node ids of the tags; ``nsu=`` forms are mapped to the server's namespace index."""
        parsed = [ua.NodeId.from_string(t.node_id) for t in self.config.tags]
        if not any(isinstance(n, ua.ExpandedNodeId) and n.NamespaceUri for n in parsed):
            return parsed
        namespaces = await client.get_namespace_array()
        out = []
        for tag, node in zip(self.config.tags, parsed, strict=True):
            if isinstance(node, ua.ExpandedNodeId) and node.NamespaceUri:
                if node.NamespaceUri not in namespaces:
                    raise ConnectorError(
                        f"OPC UA connector {self.name!r}: tag {tag.series!r} names namespace "
                        f"{node.NamespaceUri!r}, which the server does not have; it has "
                        f"{namespaces}"
                    )
                node = ua.NodeId(
                    node.Identifier, ua.Int16(namespaces.index(node.NamespaceUri)), node.NodeIdType
                )
            out.append(node)
        return out

    # -- polling -------------------------------------------------------------------------

    def _start_polling(self, link: _Link, nodes: list[ua.NodeId], limits: OperationLimits) -> None:
        groups: dict[float, list[int]] = {}
        for h, tag in enumerate(self.config.tags):
            groups.setdefault(tag.sampling_period_s, []).append(h)
        per_read = self.config.max_nodes_per_read or limits.nodes_per_read
        for period, handles in sorted(groups.items()):
            task = asyncio.create_task(
                self._poll(link, np.array(handles, dtype=np.intp), nodes, period, per_read),
                name=f"{self.name}-poll-{period:g}s",
            )
            link.tasks.append(task)

    async def _poll(
        self,
        link: _Link,
        handles: npt.NDArray[np.intp],
        nodes: list[ua.NodeId],
        period_s: float,
        per_read: int,
    ) -> None:
        """Read one sampling group on its period grid, in chunks of at most ``per_read`` nodes."""
        ids = [ua.ReadValueId(NodeId=nodes[h], AttributeId=AttributeIds.Value) for h in handles]
        step_us = round(period_s * 1_000_000)
        try:
            while True:
                wait_us = step_us - now_us() % step_us
                await asyncio.sleep(wait_us / 1_000_000)
                lo = 0
                while lo < len(ids):
                    chunk = ids[lo : lo + per_read]
                    try:
                        dvs = await link.client.uaclient.read(
                            ua.ReadParameters(
                                TimestampsToReturn=ua.TimestampsToReturn.Both, NodesToRead=chunk
                            )
                        )
                    except UaStatusCodeError as exc:
                        if exc.code != _SC.BadTooManyOperations or per_read == 1:
                            raise
                        # Configured above the server's limit (or the limit is not advertised):
                        # take the advertised one, else halve until the server accepts.
                        advertised = (await operation_limits(link.client)).nodes_per_read
                        per_read = advertised if advertised < per_read else max(1, per_read // 2)
                        log.warning("%s: reading %d nodes per request", self.name, per_read)
                        continue
                    self.counters.read_requests += 1
                    await self._take(handles[lo : lo + len(chunk)], dvs, now_us())
                    lo += len(chunk)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            link.lose(f"read failed: {describe(exc)}")

    # -- the data path -------------------------------------------------------------------

    async def _bad_item(self, handle: int, status: ua.StatusCode) -> None:
        """A tag the server will not serve: say so in the data (its status code) and the log."""
        tag = self.config.tags[handle]
        self._last_error = f"tag {tag.series!r} ({tag.node_id}): {status.name}"
        log.error("%s: cannot monitor %s", self.name, self._last_error)
        self.counters.markers += 1
        await self.outbox.put(
            Batch(
                self._series[[handle]],
                np.array([now_us()], dtype=np.int64),
                np.array([math.nan]),
                np.array([status.value], dtype=np.uint32),
                self.name,
            )
        )

    async def _on_publish(self, link: _Link, result: ua.PublishResult) -> None:
        """asyncua's publish callback: take the data changes, watch for status changes."""
        data = result.NotificationMessage.NotificationData
        if not data:
            return
        receive_us = now_us()
        for notification in data:
            if isinstance(notification, ua.DataChangeNotification):
                items = notification.MonitoredItems
                if items:
                    handles = np.fromiter((i.ClientHandle for i in items), np.intp, len(items))
                    await self._take(handles, [i.Value for i in items], receive_us)
            elif isinstance(notification, ua.StatusChangeNotification):
                status = notification.Status
                if status is not None and not status.is_good():
                    link.lose(f"subscription status {status.name}")

    async def _take(
        self, handles: npt.NDArray[np.intp], dvs: Sequence[ua.DataValue], receive_us: int
    ) -> None:
        """Columns from DataValues: scale, drop repeats, deadband, into the outbox."""
        times, values, quality = datavalue_columns(dvs, receive_us)
        if self._scaled:
            values = values * self._k[handles] + self._b[handles]
        fresh = times > self._last_us[handles]
        if not fresh.all():
            self.counters.repeats_dropped += int(len(fresh) - fresh.sum())
            handles, times, values, quality = (
                handles[fresh],
                times[fresh],
                values[fresh],
                quality[fresh],
            )
        if len(handles) == 0:
            return
        np.maximum.at(self._last_us, handles, times)
        if self._client_limits.any():
            keep = deadband_keep(
                handles, values, good_mask(quality), self._client_limits, self._last_reported
            )
            handles, times, values, quality = (
                handles[keep],
                times[keep],
                values[keep],
                quality[keep],
            )
        if len(handles) == 0:
            return
        newest = int(times.max())
        if self._last_value_us is None or newest > self._last_value_us:
            self._last_value_us = newest
            metrics.connector_last_reading_timestamp.labels(self.name).set(newest / 1e6)
        # Waits while the outbox is full: back-pressure on asyncua's publish loop or the poll.
        await self.outbox.put(Batch(self._series[handles], times, values, quality, self.name))
        self.counters.readings += len(handles)
