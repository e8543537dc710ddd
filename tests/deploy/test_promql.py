"""The PromQL name reader that the rule and dashboard checks rely on."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary

from .promql import exposed_names, metric_names


def test_functions_ranges_and_matchers_are_not_metrics() -> None:
    expr = 'histogram_quantile(0.99, sum by (le) (rate(api_latency_seconds_bucket{job="a"}[5m])))'
    assert metric_names(expr) == {"api_latency_seconds_bucket"}


def test_binary_operators_keywords_and_numbers() -> None:
    expr = (
        "time() - max by (field_id) (ingest_newest_reading_timestamp_seconds) > 1e3 "
        "and on (field_id) connector_connected == bool 1 offset 5m"
    )
    assert metric_names(expr) == {
        "ingest_newest_reading_timestamp_seconds",
        "connector_connected",
    }


def test_grafana_variables_and_strings() -> None:
    expr = (
        'sum(rate(telemetry_processed_total{field_id=~"$field_id"}[$__rate_interval])) '
        'or label_replace(up, "a", "b(c)", "d", "e")'
    )
    assert metric_names(expr) == {"telemetry_processed_total", "up"}


def test_trailing_grouping_and_subquery() -> None:
    expr = "sum(rate(a_total[5m])) by (x) / deriv(max(b)[15m:1m])"
    assert metric_names(expr) == {"a_total", "b"}


def test_exposed_names_by_type() -> None:
    registry = CollectorRegistry()
    Counter("c_total", "c", registry=registry)
    Gauge("g", "g", ["x"], registry=registry)
    Histogram("h_seconds", "h", registry=registry)
    Summary("s_seconds", "s", registry=registry)
    assert exposed_names(registry) == {
        "c_total",
        "c_created",
        "g",
        "h_seconds_bucket",
        "h_seconds_sum",
        "h_seconds_count",
        "h_seconds_created",
        "s_seconds",
        "s_seconds_sum",
        "s_seconds_count",
        "s_seconds_created",
    }
