"""OPC UA subscriptions: one monitored item per tag, with its deadband as a server-side filter.

The tags go into one subscription, or into several of ``max_items_per_subscription`` items.

A percent deadband goes to the server as is, or (``percent_deadband: absolute``) as an absolute
one computed from the node's EURange. Items whose filter the server refuses are created again
without one, and their deadband is applied in the connector (:func:`~..runtime.deadband_keep`)
with the limits :func:`subscribe` returns.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.status_codes import StatusCodes

from anh_reporter.connectors.opcua.client import OperationLimits, chunks
from anh_reporter.connectors.opcua.config import OpcUaConfig, OpcUaTag
from anh_reporter.connectors.tagmap import Deadband

log = logging.getLogger(__name__)

_SC = StatusCodes
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


@dataclass
class Subscribed:
    """What creating the subscription left to the connector."""

    bad_items: list[tuple[int, ua.StatusCode]] = field(default_factory=list)
    """Tags (by handle) the server will not serve, and why."""
    client_limits: dict[int, float] = field(default_factory=dict)
    """Absolute deadbands to apply in the connector, by handle (the server refused them)."""


async def subscribe(
    client: Client,
    config: OpcUaConfig,
    nodes: list[ua.NodeId],
    limits: OperationLimits,
    callback: Callable[[ua.PublishResult], Any],
) -> Subscribed:
    """Create the subscriptions and their monitored items (client handle = tag index).

    One subscription holds every tag, or at most ``max_items_per_subscription`` of them
    (tags in their configured order), so that one publish response, and the work of decoding
    it, stays bounded.
    """
    per = config.max_items_per_subscription or len(config.tags)
    out = Subscribed()
    for lo in range(0, len(config.tags), per):
        handles = range(lo, min(lo + per, len(config.tags)))
        part = await _subscription(client, config, nodes, limits, callback, handles)
        out.bad_items += part.bad_items
        out.client_limits |= part.client_limits
    return out


async def _subscription(
    client: Client,
    config: OpcUaConfig,
    nodes: list[ua.NodeId],
    limits: OperationLimits,
    callback: Callable[[ua.PublishResult], Any],
    handles: range,
) -> Subscribed:
    """One subscription with the monitored items of ``handles``."""
    interval = config.publishing_interval_ms
    keepalive = max(1, math.ceil(10_000 / interval))
    params = ua.CreateSubscriptionParameters(
        RequestedPublishingInterval=interval,
        RequestedLifetimeCount=keepalive * 10,
        RequestedMaxKeepAliveCount=keepalive,
        MaxNotificationsPerPublish=0,
        PublishingEnabled=True,
        Priority=0,
    )
    uaclient = client.uaclient
    created = await uaclient.create_subscription(params, callback)
    spans = await percent_spans(client, config, nodes, limits, handles)
    requests = [
        item_request(
            config, h, nodes[h], config.tags[h], spans.get(h), created.RevisedPublishingInterval
        )
        for h in handles
    ]
    out = Subscribed()
    refused: list[int] = []
    step = limits.monitored_items_per_call or len(requests)
    for chunk in chunks(requests, step):
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
                out.bad_items.append((handle, res.StatusCode))
    if refused:
        await _without_server_deadband(
            client, config, created.SubscriptionId, refused, nodes, spans, out
        )
    return out


def item_request(
    config: OpcUaConfig,
    handle: int,
    node: ua.NodeId,
    tag: OpcUaTag,
    span: float | None,
    publishing_ms: float,
) -> ua.MonitoredItemCreateRequest:
    """The monitored item of one tag: its sampling interval, a queue, its deadband filter."""
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
            Filter=data_change_filter(config, tag.deadband, span),
        ),
    )


def data_change_filter(
    config: OpcUaConfig, deadband: Deadband | None, span: float | None
) -> ua.DataChangeFilter:
    """The filter of an item: the configured trigger, and the deadband the server applies."""
    trigger = (
        ua.DataChangeTrigger.StatusValueTimestamp
        if config.trigger == "status_value_timestamp"
        else ua.DataChangeTrigger.StatusValue
    )
    if deadband is None or deadband.value == 0:
        return ua.DataChangeFilter(Trigger=trigger)
    if deadband.kind == "absolute":
        return ua.DataChangeFilter(
            Trigger=trigger, DeadbandType=ua.DeadbandType.Absolute, DeadbandValue=deadband.value
        )
    if config.percent_deadband == "absolute":
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


async def percent_spans(
    client: Client,
    config: OpcUaConfig,
    nodes: list[ua.NodeId],
    limits: OperationLimits,
    handles: range,
) -> dict[int, float]:
    """EURange span (high - low) of the tags with a percent deadband, where nodes have one."""
    tags = config.tags
    wanted = [
        h for h in handles if tags[h].deadband.kind == "percent" and tags[h].deadband.value > 0
    ]
    if not wanted:
        return {}
    # ".0:EURange": a forward Aggregates reference (HasProperty is one) to EURange
    paths = [
        ua.BrowsePath(StartingNode=nodes[h], RelativePath=ua.RelativePath.from_string(".0:EURange"))
        for h in wanted
    ]
    found = await client.uaclient.translate_browsepaths_to_nodeids(paths)
    targets = [
        (h, r.Targets[0].TargetId)
        for h, r in zip(wanted, found, strict=True)
        if r.StatusCode.is_good() and r.Targets
    ]
    spans: dict[int, float] = {}
    for chunk in chunks(targets, limits.nodes_per_read or len(targets) or 1):
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
                config.name,
                config.tags[h].series,
            )
    return spans


async def _without_server_deadband(
    client: Client,
    config: OpcUaConfig,
    subscription_id: int,
    handles: list[int],
    nodes: list[ua.NodeId],
    spans: dict[int, float],
    out: Subscribed,
) -> None:
    """Re-create items whose deadband filter the server refused; filter them here instead."""
    tags = config.tags
    for h in handles:
        db = tags[h].deadband
        limit = db.value if db.kind == "absolute" else db.value / 100.0 * spans.get(h, 0.0)
        if limit > 0:
            out.client_limits[h] = limit
    log.warning(
        "%s: the server refused the deadband filter of %d tag(s); applying it in the connector",
        config.name,
        len(handles),
    )
    requests = []
    for h in handles:
        req = item_request(config, h, nodes[h], tags[h], None, config.publishing_interval_ms)
        req.RequestedParameters.Filter = data_change_filter(config, None, None)
        requests.append(req)
    results = await client.uaclient.create_monitored_items(
        ua.CreateMonitoredItemsParameters(
            SubscriptionId=subscription_id,
            TimestampsToReturn=ua.TimestampsToReturn.Both,
            ItemsToCreate=requests,
        )
    )
    for req, res in zip(requests, results, strict=True):
        if not res.StatusCode.is_good():
            out.bad_items.append((req.RequestedParameters.ClientHandle, res.StatusCode))
