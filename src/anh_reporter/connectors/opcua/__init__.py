"""OPC UA connector (asyncua): subscriptions or polling into columnar batches, with reconnects."""

from anh_reporter.connectors.opcua.config import OpcUaConfig, OpcUaSecurity, OpcUaTag, load_config
from anh_reporter.connectors.opcua.connector import OpcUaConnector

__all__ = ["OpcUaConfig", "OpcUaConnector", "OpcUaSecurity", "OpcUaTag", "load_config"]
