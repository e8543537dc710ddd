"""Just enough PromQL reading to list the metric names an expression uses.

Not a parser: it removes what cannot be a metric name (strings, label matchers, ranges,
grouping clauses, Grafana variables), then keeps the identifiers that are not functions,
aggregations or keywords. Enough for the expressions in deploy/, which the tests also hand
to promtool where it can check them for real.
"""

from __future__ import annotations

import re

from prometheus_client.registry import CollectorRegistry

_KEYWORDS = frozenset(
    {
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "inf",
        "nan",
        "atan2",
    }
)
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:]|\s*\()")
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
}


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects (``rate(x_total[5m]) / y`` -> {x_total, y})."""
    text = _GRAFANA_VARIABLE.sub("1", expr)
    text = _STRING.sub('""', text)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    return {m for m in _IDENTIFIER.findall(text) if m.lower() not in _KEYWORDS}


def exposed_names(registry: CollectorRegistry) -> set[str]:
    """Every sample name the registry's metrics expose (a counter ``x``: ``x_total``...)."""
    names: set[str] = set()
    for family in registry.collect():
        for suffix in _SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names
