"""deploy/prometheus and deploy/alertmanager: promtool and amtool checks, and the rules' metrics.

``promtool check rules`` / ``check config`` validate syntax and PromQL; ``promtool test rules``
runs the unit tests in deploy/prometheus/tests/, where every alert has a case that fires and
one that stays quiet (values worked by hand there). The Python checks below make sure every
metric a rule reads is one the project defines, and that every alert is covered by a test.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from anh_reporter.observability.metrics import REGISTRY

from .conftest import DEPLOY, ROOT, require_tool
from .promql import exposed_names, metric_names

PROMETHEUS = DEPLOY / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
ALERTMANAGER = DEPLOY / "alertmanager" / "alertmanager.yml"
# Metrics that come from elsewhere than the project's registry.
EXTERNAL_METRICS = {
    "up": "Prometheus, for every scrape target",
    "pg_up": "postgres_exporter (prometheus-postgres-exporter)",
    "redis_up": "redis_exporter (prometheus-redis-exporter)",
}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def _alerting_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules.extend(r for r in group["rules"] if "alert" in r)
    return rules


def test_rule_files_exist() -> None:
    assert RULE_FILES, "no rule files in deploy/prometheus/rules/"
    assert RULE_TESTS, "no rule unit tests in deploy/prometheus/tests/"


def test_promtool_check_rules() -> None:
    promtool = require_tool("promtool", "prometheus")
    result = _run(promtool, "check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.host.yml"])
def test_promtool_check_config(config: str) -> None:
    promtool = require_tool("promtool", "prometheus")
    result = _run(promtool, "check", "config", str(PROMETHEUS / config))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_rules() -> None:
    promtool = require_tool("promtool", "prometheus")
    result = _run(promtool, "test", "rules", *map(str, RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_fires_in_a_unit_test() -> None:
    """A rule nobody has seen fire may never fire (a typo in a name matches nothing)."""
    fired: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    alerts = {r["alert"] for r in _alerting_rules()}
    assert alerts - fired == set(), "alerts without a firing unit test"
    assert fired - alerts == set(), "unit tests of alerts that do not exist"


def test_rules_read_only_defined_metrics() -> None:
    known = exposed_names(REGISTRY) | set(EXTERNAL_METRICS)
    unknown = {
        rule["alert"]: sorted(metric_names(rule["expr"]) - known)
        for rule in _alerting_rules()
        if metric_names(rule["expr"]) - known
    }
    assert unknown == {}, "metrics not in observability/metrics.py (nor exporters')"


def test_alerts_carry_severity_summary_and_a_runbook_that_exists() -> None:
    headings = _anchors(ROOT / "docs" / "operations.md")
    for rule in _alerting_rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["annotations"]["summary"], name
        page, _, anchor = rule["annotations"]["runbook"].partition("#")
        assert page == "docs/operations.md", name
        assert anchor in headings, f"{name}: no heading #{anchor} in docs/operations.md"


def _anchors(page: Path) -> set[str]:
    """The anchors of a Markdown page's headings, as the usual renderers make them."""
    anchors = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def test_amtool_check_config() -> None:
    amtool = require_tool("amtool", "prometheus-alertmanager")
    result = _run(amtool, "check-config", str(ALERTMANAGER))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["severity=critical", "field_id=3"], "on-call"),
        (["severity=warning", "field_id=3"], "ops-mail"),
        # Field 7's team hears of its alerts, and the severity route still applies.
        (["severity=critical", "field_id=7"], "field-7-team,on-call"),
        (["severity=warning", "field_id=7"], "field-7-team,ops-mail"),
    ],
)
def test_alertmanager_routes_by_severity_and_field(labels: list[str], receivers: str) -> None:
    amtool = require_tool("amtool", "prometheus-alertmanager")
    result = _run(amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER}", *labels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receivers
