"""deploy/compose.yaml, read as data (Docker does not run on the test machines).

Checks the shape an operator relies on: the services and replicas, what each runs, health
checks, start order, that configuration comes only from environment files and mounted files
(no secret written inline), and that the files it mounts exist in the repository.
Nothing here starts a container.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from .conftest import DEPLOY

COMPOSE = DEPLOY / "compose.yaml"
# What the operator creates beside compose.yaml (README.md), never in the repository.
OPERATOR_FILES = ("./secrets/", "./tls", "./collect")
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|CREDENTIALS?)$", re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^@\s]+@")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def test_the_services_and_their_replicas(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert set(services) == {
        "postgres",
        "redis",
        "migrate",
        "api-1",
        "api-2",
        "worker-1",
        "worker-2",
        "scheduler-1",
        "scheduler-2",
        "collect",
        "nginx",
        "prometheus",
        "alertmanager",
        "grafana",
        "postgres-exporter",
        "redis-exporter",
    }
    commands = {
        name: service["command"] for name, service in services.items() if "build" in service
    }
    assert commands["api-1"][0] == commands["api-2"][0] == "serve"
    assert commands["worker-1"] == commands["worker-2"] == ["worker"]
    assert commands["scheduler-1"] == commands["scheduler-2"] == ["scheduler"]
    assert commands["migrate"] == ["db", "migrate"]
    assert str(commands["collect"]).startswith("collect")
    # The edge collector is optional: only with `--profile edge`.
    assert services["collect"]["profiles"] == ["edge"]


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        if name in ("migrate", "postgres-exporter", "redis-exporter"):
            continue  # a one-shot job; exporters are watched through Prometheus's `up`
        check = service.get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service.get("restart") == "unless-stopped", name


def test_start_order(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = (
                "service_completed_successfully" if dependency == "migrate" else "service_healthy"
            )
            assert condition["condition"] == expected, f"{name} -> {dependency}"
    for name in ("api-1", "api-2", "worker-1", "worker-2", "scheduler-1", "scheduler-2"):
        assert "migrate" in services[name]["depends_on"], name
    assert {"api-1", "api-2"} <= set(services["nginx"]["depends_on"])


def test_anh_services_take_configuration_from_the_environment_file(
    compose: dict[str, Any],
) -> None:
    for name, service in _services(compose).items():
        if "build" not in service:
            continue
        assert service["env_file"] == ["anh.env"], name
        assert service["environment"]["ANH_ENVIRONMENT"] == "production", name
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
    assert (DEPLOY / "anh.env.example").exists()
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert {"anh.env", "secrets/", "tls/"} <= set(ignored)


def _strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [item for k, v in node.items() for item in _strings(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [item for i, v in enumerate(node) for item in _strings(v, f"{path}[{i}]")]
    return [(path, str(node))]


def test_no_secret_is_written_inline(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), f"{name}: use the mapping form"
        for key, value in environment.items():
            if SECRET_NAME.search(key):
                pytest.fail(f"{name}: {key}={value!r} inline; use a *_FILE variable or anh.env")
    for where, value in _strings(compose):
        assert not URL_WITH_PASSWORD.search(value), f"{where}: a URL with a password"
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")


def test_mounted_files_exist(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith("./") or source.startswith(OPERATOR_FILES):
                continue
            assert (DEPLOY / source).exists(), f"{name}: {source} is not in deploy/"
    build = _services(compose)["api-1"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).exists()


def test_nginx_and_prometheus_name_the_compose_services(compose: dict[str, Any]) -> None:
    services = _services(compose)
    upstreams = (DEPLOY / "nginx" / "upstreams.compose.conf").read_text()
    for host, port in re.findall(r"server ([\w-]+):(\d+)", upstreams):
        assert host in services, host
        if host.startswith("api-"):
            assert services[host]["command"][-1] == port
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            for target in static["targets"]:
                host = target.rsplit(":", 1)[0]
                assert host == "localhost" or host in services, f"{job['job_name']}: {host}"


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        image = str(service["image"])
        if "build" in service:
            continue
        tag = image.rsplit(":", 1)[-1].rstrip("}")
        assert ":" in image and tag not in ("latest", ""), f"{name}: {image}"


def test_dockerfile_runs_unprivileged_from_the_lock() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "uv sync --locked" in text
    assert re.search(r"^USER anh-reporter$", text, flags=re.M)
    assert all(
        line.split()[1] != "latest" and ":" in line.split()[1]
        for line in text.splitlines()
        if line.startswith("FROM ")
    )


def test_readme_documents_every_file_the_operator_creates() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for needed in (
        "anh.env",
        "secrets/postgres_password",
        "secrets/grafana_admin_password",
        "secrets/smtp_password",
        "tls/fullchain.pem",
        "tls/privkey.pem",
    ):
        assert needed in readme, needed
