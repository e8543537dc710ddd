"""Prometheus metrics, with the names of the original design (in-process registry).

Every module increments the metrics defined here; ``/metrics`` (API issue) exposes
``REGISTRY``. Labels use ids and codes, never free text.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary

REGISTRY = CollectorRegistry(auto_describe=True)

telemetry_processed = Counter(
    "telemetry_processed_total",
    "Telemetry readings committed to the database",
    ["field_id", "variable"],
    registry=REGISTRY,
)
telemetry_rejected = Counter(
    "telemetry_rejected_total",
    "Telemetry readings sent to quarantine, by reason",
    ["reason"],
    registry=REGISTRY,
)
telemetry_duplicates = Counter(
    "telemetry_duplicates_total",
    "Readings already stored (replays), ignored by the idempotent writer",
    registry=REGISTRY,
)
batch_write_seconds = Histogram(
    "ingest_batch_write_seconds",
    "Time to write one flush (COPY + rollups + commit)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
reading_latency_seconds = Histogram(
    "ingest_reading_latency_seconds",
    "From a batch entering the pipeline to its commit",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
spool_depth_batches = Gauge(
    "ingest_spool_depth_batches",
    "Batches waiting in the store-and-forward spool",
    registry=REGISTRY,
)
spool_depth_bytes = Gauge(
    "ingest_spool_depth_bytes", "Bytes held by the store-and-forward spool", registry=REGISTRY
)
spool_alarm = Gauge(
    "ingest_spool_alarm", "1 when the spool is filled above its alarm ratio", registry=REGISTRY
)
reports_generated = Counter(
    "anh_reports_generated_total",
    "ANH reports generated",
    ["field_id", "status"],
    registry=REGISTRY,
)
data_quality_score = Gauge(
    "data_quality_score", "Current data quality score (0-100)", ["field_id"], registry=REGISTRY
)
anomalies_detected = Counter(
    "anomalies_detected_total",
    "Anomalies detected",
    ["field_id", "severity"],
    registry=REGISTRY,
)
api_latency = Histogram(
    "api_latency_seconds",
    "API endpoint latency",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
db_query_duration = Summary(
    "db_query_duration_seconds", "Database query duration", ["query_type"], registry=REGISTRY
)
active_connections = Gauge(
    "active_connections", "Number of active connections", ["service"], registry=REGISTRY
)
memory_usage_bytes = Gauge(
    "memory_usage_bytes", "Memory usage in bytes", ["service"], registry=REGISTRY
)
connector_connected = Gauge(
    "connector_connected", "1 when the connector is connected", ["connector"], registry=REGISTRY
)
