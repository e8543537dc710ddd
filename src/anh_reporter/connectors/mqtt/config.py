"""The MQTT Sparkplug B connector's configuration: broker, reconnect policy and tag map (YAML)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from anh_reporter.connectors.base import ConnectorError
from anh_reporter.connectors.mqtt.sparkplug import check_id
from anh_reporter.connectors.runtime import LinkSettings
from anh_reporter.connectors.tagmap import TagBase
from anh_reporter.site import load_yaml_model

TagKey = tuple[str, str, str | None, str]
"""(group_id, edge_node_id, device_id or None for a node metric, metric name)."""


class SparkplugTag(TagBase):
    """One Sparkplug B metric feeding one series.

    ``sampling_period_s`` is not used: a Sparkplug edge node decides when it publishes.
    """

    group_id: str
    edge_node_id: str
    device_id: str | None = Field(None, description="None: a metric of the edge node itself")
    metric: str = Field(min_length=1, description="Metric name as declared in NBIRTH/DBIRTH")

    @model_validator(mode="after")
    def _valid_ids(self) -> SparkplugTag:
        check_id("group_id", self.group_id)
        check_id("edge_node_id", self.edge_node_id)
        if self.device_id is not None:
            check_id("device_id", self.device_id)
        return self

    @property
    def key(self) -> TagKey:
        """Where the metric lives."""
        return (self.group_id, self.edge_node_id, self.device_id, self.metric)


class BrokerConfig(BaseModel):
    """How to reach the MQTT broker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(1883, ge=1, le=65_535)
    client_id: str | None = Field(None, description="None: <connector name>-<random suffix>")
    username: str | None = None
    password: SecretStr | None = None
    keepalive_s: int = Field(30, ge=5, le=3_600)
    timeout_s: float = Field(10.0, gt=0, le=300, description="Connect / subscribe timeout")
    tls: bool = False
    ca_file: Path | None = Field(None, description="CA bundle for TLS; None: the system's")


class SparkplugConnectorConfig(LinkSettings):
    """A Sparkplug B host connection: which broker, which metrics feed which series.

    Reconnect and outbox keys: :class:`~anh_reporter.connectors.runtime.LinkSettings`.
    In YAML, ``tag_defaults`` (e.g. ``group_id``, ``edge_node_id``) is merged under every tag.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("mqtt-sparkplug", min_length=1, max_length=80)
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
    rebirth_interval_s: float = Field(
        5.0, ge=0, le=3_600, description="Least time between two rebirth requests to one node"
    )
    max_batch_rows: int = Field(5_000, ge=1, le=1_000_000, description="Rows per emitted batch")
    tags: tuple[SparkplugTag, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _merge_tag_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "tag_defaults" not in data:
            return data
        data = dict(data)
        defaults = data.pop("tag_defaults") or {}
        if not isinstance(defaults, dict):
            raise ValueError(f"tag_defaults must be a mapping, got {defaults!r}")
        tags = data.get("tags")
        if isinstance(tags, list | tuple):
            data["tags"] = [defaults | t if isinstance(t, dict) else t for t in tags]
        return data

    @model_validator(mode="after")
    def _consistent(self) -> SparkplugConnectorConfig:
        seen: dict[TagKey, int] = {}
        for i, tag in enumerate(self.tags):
            if tag.key in seen:
                raise ValueError(
                    f"tags[{i}] repeats tags[{seen[tag.key]}]: metric {tag.metric!r} of "
                    f"{'/'.join(p for p in tag.key[:3] if p)} is mapped twice"
                )
            seen[tag.key] = i
        return self

    @property
    def groups(self) -> tuple[str, ...]:
        """The Sparkplug groups the tag map names (one subscription each)."""
        return tuple(sorted({t.group_id for t in self.tags}))


def load_config(path: Path) -> SparkplugConnectorConfig:
    """Read and validate a connector config file; raise :class:`ConnectorError` with one line."""
    return load_yaml_model(
        path,
        SparkplugConnectorConfig,
        what="MQTT connector config",
        top="'broker' and 'tags'",
        error=ConnectorError,
    )
