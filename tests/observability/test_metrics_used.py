"""Every metric an alert rule or a dashboard reads is set somewhere in ``src/``.

``tests/deploy`` checks that the rules and panels name metrics that ``observability/metrics.py``
defines; a defined metric that no code sets stays absent all the same (an alert that can never
fire, a panel with "No data"), while the promtool unit tests pass on synthetic series. So each
metric used in ``deploy/`` must be referenced (read, set, passed on: not only imported) by a
module of ``src/anh_reporter`` other than ``metrics.py``. A static check: the tests next to this
one set each of them through the real code path.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from ..conftest import ROOT
from ..deploy.promql import metric_names

SRC = ROOT / "src" / "anh_reporter"
METRICS = SRC / "observability" / "metrics.py"
DEPLOY = ROOT / "deploy"
EXTERNAL = {"up", "pg_up", "redis_up"}  # Prometheus and the exporters set these
_SUFFIXES = {
    "Counter": ("_total",),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count"),
    "Summary": ("", "_sum", "_count"),
}


def defined_metrics(path: Path = METRICS) -> dict[str, str]:
    """``{sample name: variable}`` for every metric ``metrics.py`` defines at module level."""
    out: dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        kind = getattr(node.value.func, "id", "")
        first = node.value.args[0] if node.value.args else None
        if kind in _SUFFIXES and isinstance(first, ast.Constant) and len(node.targets) == 1:
            target = node.targets[0]
            assert isinstance(target, ast.Name)
            name = str(first.value).removesuffix("_total") if kind == "Counter" else first.value
            out.update({f"{name}{suffix}": target.id for suffix in _SUFFIXES[kind]})
    return out


def referenced_names(src: Path = SRC, skip: Path = METRICS) -> set[str]:
    """Names and attributes used in expressions of ``src`` (imports do not count)."""
    names: set[str] = set()
    for path in src.rglob("*.py"):
        if path == skip:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
    return names


def _dashboard_expressions(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "expr" and isinstance(value, str):
                yield value
            elif key == "query" and isinstance(value, str) and "label_values(" in value:
                yield value.split("label_values(", 1)[1].rsplit(",", 1)[0]
            else:
                yield from _dashboard_expressions(value)
    elif isinstance(data, list):
        for item in data:
            yield from _dashboard_expressions(item)


def used_in_deploy(deploy: Path = DEPLOY) -> dict[str, set[str]]:
    """``{metric name: where}`` over the alert/recording rules and the Grafana dashboards."""
    used: dict[str, set[str]] = {}
    for path in sorted((deploy / "prometheus" / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                where = f"{path.name}: {rule.get('alert') or rule.get('record')}"
                for name in metric_names(rule["expr"]):
                    used.setdefault(name, set()).add(where)
    for path in sorted((deploy / "grafana" / "dashboards").glob("*.json")):
        for expr in _dashboard_expressions(json.loads(path.read_text(encoding="utf-8"))):
            for name in metric_names(expr):
                used.setdefault(name, set()).add(path.name)
    return used


def never_set(src: Path = SRC, deploy: Path = DEPLOY) -> dict[str, list[str]]:
    """Metrics the rules or dashboards read that no code of ``src`` refers to."""
    defined = defined_metrics(src / "observability" / "metrics.py")
    referenced = referenced_names(src, src / "observability" / "metrics.py")
    return {
        name: sorted(where)
        for name, where in used_in_deploy(deploy).items()
        if name not in EXTERNAL and defined.get(name) not in referenced
    }


def test_the_check_sees_the_rules_and_the_dashboards() -> None:
    used = used_in_deploy()
    assert "bus_pending_entries" in used and "api_requests_total" in used
    assert any(where.endswith(".json") for where in used["ingest_spool_depth_batches"])


def test_every_metric_the_rules_and_dashboards_read_is_set_by_some_code() -> None:
    assert never_set() == {}, "used in deploy/ but set by no code in src/anh_reporter"


def test_the_check_finds_a_metric_nobody_sets(tmp_path: Path) -> None:
    """A copy of src without the one line that sets ``bus_pending_entries`` fails the check."""
    src = tmp_path / "anh_reporter"
    (src / "observability").mkdir(parents=True)
    (src / "observability" / "metrics.py").write_text(METRICS.read_text(encoding="utf-8"))
    (src / "sets.py").write_text(
        "from anh_reporter.observability.metrics import bus_pending_entries\n"
        "from anh_reporter.observability import metrics\n"
        "metrics.bus_stream_lag_entries.labels('a').set(1)\n"
    )
    missing = never_set(src)
    assert "bus_pending_entries" in missing  # imported, never used
    assert "bus_stream_lag_entries" not in missing
    assert missing["bus_pending_entries"] == [
        "anh-operations.json",
        "anh.rules.yml: AnhWorkerPendingHigh",
    ]
