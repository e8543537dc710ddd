"""Prometheus metrics, with the names of the original design (in-process registry).

Every module increments the metrics defined here; ``/metrics`` (API issue) exposes
``REGISTRY``, or with ``serve --workers N`` every worker's values (``multiprocess.py``):
counters, histograms and summaries are then summed, and each gauge is merged by the
``multiprocess_mode`` given below (``live*``: only processes still running count; ``max``,
``mostrecent`` keep the value of a process that exited). The mode means nothing in one
process. Labels use ids and codes, never free text. The alert rules in
``deploy/prometheus/rules/`` and the dashboards in ``deploy/grafana/`` use these names only
(a test checks it): rename one here and there together.
"""

from __future__ import annotations

import threading

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
    multiprocess_mode="livesum",  # what the running processes' spools hold, together
)
spool_depth_bytes = Gauge(
    "ingest_spool_depth_bytes",
    "Bytes held by the store-and-forward spool",
    registry=REGISTRY,
    multiprocess_mode="livesum",  # as the batches
)
spool_alarm = Gauge(
    "ingest_spool_alarm",
    "1 when the spool is filled above its alarm ratio",
    registry=REGISTRY,
    multiprocess_mode="livemax",  # 1 when any running process's spool is above it
)
reports_generated = Counter(
    "anh_reports_generated_total",
    "ANH reports generated",
    ["field_id", "status"],
    registry=REGISTRY,
)
data_quality_score = Gauge(
    "data_quality_score",
    "Current data quality score (0-100)",
    ["field_id"],
    registry=REGISTRY,
    # the score of the latest computed day, whichever process computed it, even one that exited
    multiprocess_mode="mostrecent",
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
    "active_connections",
    "Number of active connections",
    ["service"],
    registry=REGISTRY,
    # in flight or open in the running processes, together; an exited process's are closed
    multiprocess_mode="livesum",
)
memory_usage_bytes = Gauge(
    "memory_usage_bytes",
    "Memory usage in bytes",
    ["service"],
    registry=REGISTRY,
    # the running processes' memory, together (the API's is read from /proc when scraped,
    # for every worker, by multiprocess.py: no worker sets it then)
    multiprocess_mode="livesum",
)
connector_connected = Gauge(
    "connector_connected",
    "1 when the connector is connected",
    ["connector"],
    registry=REGISTRY,
    multiprocess_mode="livemax",  # 1 while a running process has it connected
)

# -- Scale-out and operations: what the alert rules and the operations dashboard watch. ------
# Timestamps are Unix seconds, so that a rule computes an age as ``time() - metric`` and the age
# keeps growing while the process that sets the gauge is stuck (a "lag" gauge would freeze).

ingest_newest_reading_timestamp = Gauge(
    "ingest_newest_reading_timestamp_seconds",
    "Source time of the newest reading committed to the database, per field "
    "(ingest lag = time() - this); set by the writer after each commit",
    ["field_id"],
    registry=REGISTRY,
    multiprocess_mode="max",  # the newest of all processes; still committed after one exits
)
bus_pending_entries = Gauge(
    "bus_pending_entries",
    "Bus entries delivered to a worker of the consumer group and not yet acknowledged "
    "(Redis XPENDING count), per shard; sampled by each worker",
    ["shard"],
    registry=REGISTRY,
    # sampled from Redis, the same for every process: the latest sample of a running one
    multiprocess_mode="livemostrecent",
)
bus_stream_lag_entries = Gauge(
    "bus_stream_lag_entries",
    "Bus entries in a shard's stream not yet delivered to the consumer group "
    "(Redis XINFO GROUPS lag); sampled by each worker",
    ["shard"],
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",  # as bus_pending_entries
)
connector_last_reading_timestamp = Gauge(
    "connector_last_reading_timestamp_seconds",
    "Source time of the newest reading a connector produced (connected but silent: "
    "time() - this grows)",
    ["connector"],
    registry=REGISTRY,
    multiprocess_mode="max",  # the newest of all processes, kept after one exits
)
report_last_day_end_timestamp = Gauge(
    "anh_report_last_day_end_timestamp_seconds",
    "End of the newest contract day whose report reached a stage, per field; stage is "
    "'generated' (signed) or 'submitted' (delivered or accepted); 0 when none has; "
    "refreshed from the database by the scheduler leader",
    ["field_id", "stage"],
    registry=REGISTRY,
    # raised by whichever process signs or delivers: the newest of all, kept after one exits
    multiprocess_mode="max",
)
report_deliveries = Counter(
    "anh_report_deliveries_total",
    "Report delivery attempts that finished, by outcome (delivered, accepted, rejected, failed)",
    ["field_id", "status"],
    registry=REGISTRY,
)
scheduler_leader = Gauge(
    "scheduler_leader",
    "1 while this scheduler process holds the leader lock, 0 while it stands by",
    registry=REGISTRY,
    # how many running processes lead: 1, and 2 stays visible (the alert sums it anyway)
    multiprocess_mode="livesum",
)
scheduler_job_runs = Counter(
    "scheduler_job_runs_total",
    "Scheduled job runs, by job id (without the field) and outcome (success, error)",
    # not "job": Prometheus sets that label to the scrape job and would rename this one
    ["job_id", "outcome"],
    registry=REGISTRY,
)
api_requests = Counter(
    "api_requests_total",
    "API responses by route template, method and status class (2xx, 3xx, 4xx, 5xx)",
    ["endpoint", "method", "status_class"],
    registry=REGISTRY,
)


_highest: dict[tuple[int, tuple[str, ...]], float] = {}
_highest_lock = threading.Lock()


def raise_to(gauge: Gauge, value: float, *labels: str) -> None:
    """Set ``gauge{labels}`` to ``value`` unless this process already set it higher.

    For the "newest ... timestamp" gauges: a replay of older data (a redelivered batch, a
    drained spool, an amended old day) must not make the newest look older.
    """
    key = (id(gauge), labels)  # the gauges are this module's, alive as long as the process
    with _highest_lock:
        if value <= _highest.get(key, float("-inf")):
            return
        _highest[key] = value
        gauge.labels(*labels).set(value)


def status_class(status: int) -> str:
    """``api_requests_total``'s ``status_class``: 200 -> ``2xx``; 500 (or none sent) -> ``5xx``."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "5xx"


def forget(gauge: Gauge) -> None:
    """Drop every series of ``gauge`` and what :func:`raise_to` remembers of them (tests; a
    process that stops owning the series)."""
    with _highest_lock:
        for key in [k for k in _highest if k[0] == id(gauge)]:
            del _highest[key]
        gauge.clear()
