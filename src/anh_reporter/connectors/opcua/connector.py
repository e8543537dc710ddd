"""OPC UA connector: subscriptions (or polling) into columnar batches, kept alive by a supervisor.

Data path: asyncua decodes a publish response (or a read response); the connector takes the
client handles, values, status codes and timestamps of its ``DataValue`` s into numpy columns in
one pass, scales them (``raw * k + b``), drops readings it has already emitted (same or older
source timestamp: the initial values re-sent after a reconnect, or an unchanged value polled
again), and appends the columns to a buffer that is flushed to the sink every
``flush_interval_ms`` or ``flush_max_readings`` readings.

Timestamps: the source timestamp; without one, the server timestamp; without either, the time
the connector received the value. Status codes are OPC UA codes, which is what the project
stores (:mod:`anh_reporter.domain.quality`); a Bad value arrives as null and is stored as NaN.

Supervisor: a connection loss (socket closed, keep-alive probe failed, a subscription status
change, a failed read) emits a communication-lost marker (NaN, ``BAD_NO_COMMUNICATION``, at the
time of detection) for every series of the connection, then builds a new client with capped,
jittered exponential backoff and re-creates the subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from asyncua import ua
from asyncua.client.client import Client
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from anh_reporter.connectors.base import BatchSink, ConnectorError, ConnectorStatus
from anh_reporter.connectors.opcua.config import OpcUaConfig, OpcUaTag
from anh_reporter.connectors.opcua.security import (
    TrustDirectory,
    certificate_uri,
    ensure_certificate,
)
from anh_reporter.connectors.tagmap import Deadband, outside_deadband
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import BAD_NO_COMMUNICATION, good_mask
from anh_reporter.domain.timeutil import EPOCH, from_us
from anh_reporter.observability import metrics

log = logging.getLogger(__name__)

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
FILTER_REFUSED = frozenset(
    {
        _SC.BadMonitoredItemFilterInvalid,
        _SC.BadMonitoredItemFilterUnsupported,
        _SC.BadFilterNotAllowed,
        _SC.BadDeadbandFilterInvalid,
    }
)
MAX_QUEUE_SIZE = 1000
QUEUE_INTERVALS = 5
DEFAULT_MAX_NODES_PER_READ = 1000


def now_us() -> int:
    """Microseconds since the epoch, from the system clock."""
    return time.time_ns() // 1000


def backoff_delay(attempt: int, initial_s: float, cap_s: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: in [d/2, d] for d = min(cap, initial * 2**attempt).

    The random half keeps many collectors from reconnecting in step after a server restart;
    the fixed half keeps a retry from coming back immediately.
    """
    ceiling = min(cap_s, initial_s * 2.0 ** min(attempt, 62))
    return ceiling / 2 + rng.random() * ceiling / 2


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


def client_deadband_keep(
    handles: npt.NDArray[np.intp],
    values: npt.NDArray[np.float64],
    quality: npt.NDArray[np.uint32],
    thresholds: Mapping[int, float],
    last_reported: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    """Which readings pass an absolute deadband applied here (servers that refuse the filter).

    Only the handles in ``thresholds`` are filtered; a reading passes when it moved by more
    than the threshold since the last reported value, or is not Good (a status change is
    always reported). ``last_reported`` is updated in place (NaN: nothing reported yet).
    """
    keep = np.ones(len(handles), dtype=bool)
    good = good_mask(quality)
    for i in np.flatnonzero(np.isin(handles, list(thresholds))):
        h = int(handles[i])
        if not good[i]:
            last_reported[h] = math.nan
            continue
        last = float(last_reported[h])
        db = Deadband(kind="absolute", value=thresholds[h])
        if outside_deadband(float(values[i]), None if math.isnan(last) else last, db, 0.0):
            last_reported[h] = values[i]
        else:
            keep[i] = False
    return keep


class _Buffer:
    """Readings waiting for the next flush, as lists of numpy chunks (no per-reading objects)."""

    def __init__(self) -> None:
        self._parts: list[tuple[npt.NDArray[Any], ...]] = []
        self.count = 0

    def add(
        self,
        handles: npt.NDArray[np.intp],
        times: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
        quality: npt.NDArray[np.uint32],
    ) -> None:
        if len(handles):
            self._parts.append((handles, times, values, quality))
            self.count += len(handles)

    def drain(self) -> tuple[npt.NDArray[Any], ...] | None:
        if not self._parts:
            return None
        parts, self._parts, self.count = self._parts, [], 0
        return tuple(np.concatenate(col) for col in zip(*parts, strict=True))


@dataclass
class OpcUaCounters:
    """What the connector has done since it started (for status lines, tests and benches)."""

    readings: int = 0
    markers: int = 0
    repeats_dropped: int = 0
    batches: int = 0
    read_requests: int = 0
    reconnects: int = 0


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
        self._sink = sink
        self._rng = rng or random.Random()  # noqa: S311 - reconnect jitter, not a secret
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
        self._client_deadband: dict[int, float] = {}
        self._buffer = _Buffer()
        self.counters = OpcUaCounters()
        self._connected = False
        self._marked_lost = False
        self._last_value_us: int | None = None
        self._last_error: str | None = None
        self._link: _Link | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._flush_now = asyncio.Event()
        self._warned_untrusted = False

    # -- Connector protocol --------------------------------------------------------------

    async def start(self) -> None:
        """Connect and begin emitting; returns once the first attempt has finished.

        A refusal that retrying cannot cure (certificate not trusted, security policy not
        offered, a node id in an unknown namespace) raises :class:`ConnectorError`. A server
        that cannot be reached is not an error here: the supervisor keeps trying, and
        ``status()`` says why it is not connected.
        """
        if self._supervisor is not None:
            raise ConnectorError(f"OPC UA connector {self.name!r} is already running")
        self._flusher = asyncio.create_task(self._flush_loop(), name=f"{self.name}-flush")
        link: _Link | None = None
        try:
            link = await self._connect()
        except ConnectorError:
            await self._stop_flusher()
            raise
        except Exception as exc:
            self._lost(_describe(exc))
        self._supervisor = asyncio.create_task(self._supervise(link), name=f"{self.name}-sup")

    async def stop(self) -> None:
        """Stop, disconnect, and flush what is buffered."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        if self._link is not None:
            await self._teardown(self._link)
        self._set_connected(False)
        await self._stop_flusher()

    def status(self) -> ConnectorStatus:
        """Connected or not, newest source time emitted, last error, counts."""
        last = None if self._last_value_us is None else from_us(self._last_value_us)
        return ConnectorStatus(
            name=self.name,
            connected=self._connected,
            last_value_time=last,
            last_error=self._last_error,
            readings=self.counters.readings,
            reconnects=self.counters.reconnects,
        )

    # -- supervisor ----------------------------------------------------------------------

    async def _supervise(self, link: _Link | None) -> None:
        attempt = 0
        try:
            while True:
                if link is None:
                    await asyncio.sleep(
                        backoff_delay(
                            attempt,
                            self.config.reconnect_initial_s,
                            self.config.reconnect_max_s,
                            self._rng,
                        )
                    )
                    attempt += 1
                    try:
                        link = await self._connect()
                    except Exception as exc:
                        self._lost(_describe(exc))
                        level = logging.ERROR if isinstance(exc, ConnectorError) else logging.INFO
                        log.log(level, "%s: reconnect failed: %s", self.name, self._last_error)
                        continue
                    attempt = 0
                    self.counters.reconnects += 1
                    log.info("%s: reconnected to %s", self.name, self.config.endpoint)
                await link.lost.wait()
                log.warning("%s: connection lost: %s", self.name, link.reason)
                self._lost(link.reason)
                await self._teardown(link)
                link = None
        finally:
            if link is not None:
                await self._teardown(link)

    def _lost(self, reason: str) -> None:
        """Record a failure; on the way down, emit a communication-lost marker per series."""
        self._last_error = reason
        self._set_connected(False)
        if self._marked_lost:
            return
        self._marked_lost = True
        n = len(self._series)
        self._buffer.add(
            np.arange(n, dtype=np.intp),
            np.full(n, now_us(), dtype=np.int64),
            np.full(n, math.nan),
            np.full(n, BAD_NO_COMMUNICATION, dtype=np.uint32),
        )
        self.counters.markers += n
        self._flush_now.set()

    def _set_connected(self, connected: bool) -> None:
        self._connected = connected
        metrics.connector_connected.labels(connector=self.name).set(1 if connected else 0)

    async def _connect(self) -> _Link:
        """Build a client, connect, and start acquiring; raise on any failure."""
        client = await self._build_client()
        link = _Link(client)

        async def on_lost(exc: Exception) -> None:
            link.lose(_describe(exc))

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
        self._link = link
        try:
            nodes = await self._resolve_node_ids(client)
            limits = await _operation_limits(client)
            if self.config.acquisition == "subscription":
                await self._subscribe(link, nodes, limits)
            else:
                self._start_polling(link, nodes, limits)
        except BaseException:
            await self._teardown(link)
            raise
        self._marked_lost = False
        self._last_error = None
        self._set_connected(True)
        return link

    async def _build_client(self) -> Client:
        cfg, sec = self.config, self.config.security
        client = Client(
            cfg.endpoint,
            timeout=cfg.request_timeout_s,
            watchdog_intervall=cfg.watchdog_interval_s,
        )
        client.name = client.description = f"ANH Smart Reporter ({cfg.name})"
        client.application_uri = sec.application_uri
        client.session_timeout = 120_000
        if sec.policy == "None":
            return client
        assert sec.certificate is not None and sec.private_key is not None  # noqa: S101 - narrows for mypy: the config validator requires both
        if sec.certificate.exists() and sec.private_key.exists():
            # Someone else's certificate: claim the URI it names, or the server refuses it.
            client.application_uri = certificate_uri(sec.certificate) or sec.application_uri
        else:
            await ensure_certificate(
                sec.certificate, sec.private_key, sec.application_uri, "client"
            )
        if sec.trust_dir is not None:
            client.certificate_validator = TrustDirectory(
                sec.trust_dir, sec.trust_dir.parent / "rejected", peer="server"
            )
        elif not self._warned_untrusted:
            self._warned_untrusted = True
            log.warning(
                "%s: no trust_dir: the server certificate of %s is accepted without a check",
                self.name,
                cfg.endpoint,
            )
        try:
            await client.set_security(
                SecurityPolicyBasic256Sha256,
                str(sec.certificate),
                str(sec.private_key),
                mode=getattr(ua.MessageSecurityMode, sec.mode),
            )
        except UaError as exc:
            if isinstance(exc, UaStatusCodeError):
                raise
            raise ConnectorError(
                f"OPC UA connector {self.name!r}: the server at {cfg.endpoint} offers no "
                f"endpoint with security policy {sec.policy} and mode {sec.mode} ({exc})"
            ) from None
        return client

    def _refusal(self, exc: UaStatusCodeError) -> str:
        sec = self.config.security
        status = ua.StatusCode(exc.code)
        if exc.code == _SC.BadCertificateUntrusted and sec.trust_dir is not None:
            return (
                f"OPC UA connector {self.name!r}: {status.name} at {self.config.endpoint}: "
                f"either the server does not trust our certificate {sec.certificate} (copy it "
                f"into the server's trusted certificates), or we do not trust the server's "
                f"(review {sec.trust_dir.parent / 'rejected'} and move it into {sec.trust_dir})"
            )
        return (
            f"OPC UA connector {self.name!r}: the server at {self.config.endpoint} refused the "
            f"session: {status.name} ({status.doc})"
        )

    async def _teardown(self, link: _Link) -> None:
        for task in link.tasks:
            task.cancel()
        for task in link.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        link.tasks.clear()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(link.client.disconnect(), self.config.request_timeout_s)
        if self._link is link:
            self._link = None

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

    # -- subscriptions -------------------------------------------------------------------

    async def _subscribe(self, link: _Link, nodes: list[ua.NodeId], limits: _Limits) -> None:
        cfg = self.config
        interval = cfg.publishing_interval_ms
        keepalive = max(1, math.ceil(10_000 / interval))
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=interval,
            RequestedLifetimeCount=keepalive * 10,
            RequestedMaxKeepAliveCount=keepalive,
            MaxNotificationsPerPublish=0,
            PublishingEnabled=True,
            Priority=0,
        )
        uaclient = link.client.uaclient
        created = await uaclient.create_subscription(
            params, lambda result: self._on_publish(link, result)
        )
        spans = await self._percent_spans(link.client, nodes, limits)
        requests = [
            self._item_request(h, node, tag, spans.get(h), created.RevisedPublishingInterval)
            for h, (node, tag) in enumerate(zip(nodes, cfg.tags, strict=True))
        ]
        refused: list[int] = []
        step = limits.monitored_items_per_call or len(requests)
        for lo in range(0, len(requests), step):
            chunk = requests[lo : lo + step]
            results = await uaclient.create_monitored_items(
                ua.CreateMonitoredItemsParameters(
                    SubscriptionId=created.SubscriptionId,
                    TimestampsToReturn=ua.TimestampsToReturn.Both,
                    ItemsToCreate=chunk,
                )
            )
            for req, res in zip(chunk, results, strict=True):
                handle = req.RequestedParameters.ClientHandle
                if res.StatusCode.value in FILTER_REFUSED:
                    refused.append(handle)
                elif not res.StatusCode.is_good():
                    self._bad_item(handle, res.StatusCode)
        if refused:
            await self._without_server_deadband(link, created.SubscriptionId, refused, nodes, spans)

    def _item_request(
        self,
        handle: int,
        node: ua.NodeId,
        tag: OpcUaTag,
        span: float | None,
        publishing_ms: float,
    ) -> ua.MonitoredItemCreateRequest:
        sampling_ms = tag.sampling_period_s * 1000.0
        # Room for several publishing intervals of samples: a PublishRequest that comes late
        # (the client busy, a slow link) must not make the server discard samples.
        per_interval = math.ceil(publishing_ms / sampling_ms)
        queue = min(MAX_QUEUE_SIZE, per_interval * QUEUE_INTERVALS + 1)
        return ua.MonitoredItemCreateRequest(
            ItemToMonitor=ua.ReadValueId(NodeId=node, AttributeId=AttributeIds.Value),
            MonitoringMode=ua.MonitoringMode.Reporting,
            RequestedParameters=ua.MonitoringParameters(
                ClientHandle=handle,
                SamplingInterval=sampling_ms,
                QueueSize=queue,
                DiscardOldest=True,
                Filter=self._filter(tag.deadband, span),
            ),
        )

    def _filter(self, deadband: Deadband | None, span: float | None) -> ua.DataChangeFilter:
        trigger = (
            ua.DataChangeTrigger.StatusValueTimestamp
            if self.config.trigger == "status_value_timestamp"
            else ua.DataChangeTrigger.StatusValue
        )
        if deadband is None or deadband.value == 0:
            return ua.DataChangeFilter(Trigger=trigger)
        if deadband.kind == "absolute":
            return ua.DataChangeFilter(
                Trigger=trigger, DeadbandType=ua.DeadbandType.Absolute, DeadbandValue=deadband.value
            )
        if self.config.percent_deadband == "absolute":
            if span is None:
                return ua.DataChangeFilter(Trigger=trigger)
            return ua.DataChangeFilter(
                Trigger=trigger,
                DeadbandType=ua.DeadbandType.Absolute,
                DeadbandValue=deadband.value / 100.0 * span,
            )
        return ua.DataChangeFilter(
            Trigger=trigger, DeadbandType=ua.DeadbandType.Percent, DeadbandValue=deadband.value
        )

    async def _percent_spans(
        self, client: Client, nodes: list[ua.NodeId], limits: _Limits
    ) -> dict[int, float]:
        """EURange span (high - low) of the tags with a percent deadband, where nodes have one."""
        wanted = [h for h, t in enumerate(self.config.tags) if t.deadband.kind == "percent"]
        wanted = [h for h in wanted if self.config.tags[h].deadband.value > 0]
        if not wanted:
            return {}
        # ".0:EURange": a forward Aggregates reference (HasProperty is one) to EURange
        paths = [
            ua.BrowsePath(
                StartingNode=nodes[h], RelativePath=ua.RelativePath.from_string(".0:EURange")
            )
            for h in wanted
        ]
        found = await client.uaclient.translate_browsepaths_to_nodeids(paths)
        targets = [
            (h, r.Targets[0].TargetId)
            for h, r in zip(wanted, found, strict=True)
            if r.StatusCode.is_good() and r.Targets
        ]
        spans: dict[int, float] = {}
        for chunk in _chunks(targets, limits.nodes_per_read or len(targets) or 1):
            dvs = await client.uaclient.read(
                ua.ReadParameters(
                    NodesToRead=[
                        ua.ReadValueId(
                            NodeId=ua.NodeId(t.Identifier, t.NamespaceIndex, t.NodeIdType),
                            AttributeId=AttributeIds.Value,
                        )
                        for _, t in chunk
                    ]
                )
            )
            for (h, _), dv in zip(chunk, dvs, strict=True):
                rng = None if dv.Value is None else dv.Value.Value
                if isinstance(rng, ua.Range) and rng.High > rng.Low:
                    spans[h] = float(rng.High - rng.Low)
        for h in wanted:
            if h not in spans:
                log.warning(
                    "%s: tag %r has a percent deadband but its node has no EURange; "
                    "no deadband applied",
                    self.name,
                    self.config.tags[h].series,
                )
        return spans

    async def _without_server_deadband(
        self,
        link: _Link,
        subscription_id: int,
        handles: list[int],
        nodes: list[ua.NodeId],
        spans: dict[int, float],
    ) -> None:
        """Re-create items whose deadband filter the server refused; filter them here instead."""
        tags = self.config.tags
        for h in handles:
            db = tags[h].deadband
            limit = db.value if db.kind == "absolute" else db.value / 100.0 * spans.get(h, 0.0)
            if limit > 0:
                self._client_deadband[h] = limit
        log.warning(
            "%s: the server refused the deadband filter of %d tag(s); applying it in the connector",
            self.name,
            len(handles),
        )
        requests = []
        for h in handles:
            req = self._item_request(h, nodes[h], tags[h], None, self.config.publishing_interval_ms)
            req.RequestedParameters.Filter = self._filter(None, None)
            requests.append(req)
        results = await link.client.uaclient.create_monitored_items(
            ua.CreateMonitoredItemsParameters(
                SubscriptionId=subscription_id,
                TimestampsToReturn=ua.TimestampsToReturn.Both,
                ItemsToCreate=requests,
            )
        )
        for req, res in zip(requests, results, strict=True):
            if not res.StatusCode.is_good():
                self._bad_item(req.RequestedParameters.ClientHandle, res.StatusCode)

    def _bad_item(self, handle: int, status: ua.StatusCode) -> None:
        """A tag the server will not serve: say so in the data (its status code) and the log."""
        tag = self.config.tags[handle]
        self._last_error = f"tag {tag.series!r} ({tag.node_id}): {status.name}"
        log.error("%s: cannot monitor %s", self.name, self._last_error)
        self._buffer.add(
            np.array([handle], dtype=np.intp),
            np.array([now_us()], dtype=np.int64),
            np.array([math.nan]),
            np.array([status.value], dtype=np.uint32),
        )
        self.counters.markers += 1

    def _on_publish(self, link: _Link, result: ua.PublishResult) -> None:
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
                    self._take(handles, [i.Value for i in items], receive_us)
            elif isinstance(notification, ua.StatusChangeNotification):
                status = notification.Status
                if status is not None and not status.is_good():
                    link.lose(f"subscription status {status.name}")

    # -- polling -------------------------------------------------------------------------

    def _start_polling(self, link: _Link, nodes: list[ua.NodeId], limits: _Limits) -> None:
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
                        advertised = (await _operation_limits(link.client)).nodes_per_read
                        per_read = advertised if advertised < per_read else max(1, per_read // 2)
                        log.warning("%s: reading %d nodes per request", self.name, per_read)
                        continue
                    self.counters.read_requests += 1
                    self._take(handles[lo : lo + len(chunk)], dvs, now_us())
                    lo += len(chunk)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            link.lose(f"read failed: {_describe(exc)}")

    # -- the data path -------------------------------------------------------------------

    def _take(
        self, handles: npt.NDArray[np.intp], dvs: Sequence[ua.DataValue], receive_us: int
    ) -> None:
        """Columns from DataValues: scale, drop repeats, deadband, buffer."""
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
        if self._client_deadband:
            keep = client_deadband_keep(
                handles, values, quality, self._client_deadband, self._last_reported
            )
            handles, times, values, quality = (
                handles[keep],
                times[keep],
                values[keep],
                quality[keep],
            )
        self._buffer.add(handles, times, values, quality)
        self.counters.readings += len(handles)
        newest = int(times.max()) if len(times) else None
        if newest is not None and (self._last_value_us is None or newest > self._last_value_us):
            self._last_value_us = newest
        if self._buffer.count >= self.config.flush_max_readings:
            self._flush_now.set()

    async def _flush_loop(self) -> None:
        interval = self.config.flush_interval_ms / 1000.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush_now.wait(), interval)
            self._flush_now.clear()
            await self._flush()

    async def _flush(self) -> None:
        columns = self._buffer.drain()
        if columns is None:
            return
        handles, times, values, quality = columns
        batch = Batch(self._series[handles], times, values, quality, self.name)
        delay = 0.1
        while True:
            try:
                await self._sink(batch)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The sink is the bus or the spool; keep the batch and retry rather than drop.
                self._last_error = f"sink failed: {_describe(exc)}"
                log.exception("%s: sink failed; retrying in %.1f s", self.name, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.counters.batches += 1

    async def _stop_flusher(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self._flush()


@dataclass(frozen=True)
class _Limits:
    """The server's operation limits that shape requests (0: no limit)."""

    nodes_per_read: int
    monitored_items_per_call: int


async def _operation_limits(client: Client) -> _Limits:
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
    return _Limits(values[0] or DEFAULT_MAX_NODES_PER_READ, values[1])


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _describe(exc: BaseException) -> str:
    """One line for an asyncua / socket error."""
    if isinstance(exc, ConnectorError):
        return str(exc)
    if isinstance(exc, UaStatusCodeError):
        status = ua.StatusCode(exc.code)
        return f"{status.name}: {status.doc}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
