"""MQTT Sparkplug B connector: Eclipse Tahu payloads over aiomqtt, births/data/deaths to batches."""

from anh_reporter.connectors.mqtt.config import (
    BrokerConfig,
    SparkplugConnectorConfig,
    SparkplugTag,
    load_config,
)
from anh_reporter.connectors.mqtt.connector import SparkplugConnector, SparkplugSession

__all__ = [
    "BrokerConfig",
    "SparkplugConnector",
    "SparkplugConnectorConfig",
    "SparkplugSession",
    "SparkplugTag",
    "load_config",
]
