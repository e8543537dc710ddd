"""deploy/systemd: ``systemd-analyze verify`` on every unit, and what every unit must hold.

The units run the installed program from /opt/anh-reporter/.venv; for ``verify`` (which checks
that the program exists) a copy points at this checkout's program instead. The structural
checks run everywhere: a dedicated user, the hardening settings, an environment file, and
ports that agree with the nginx upstreams and the Prometheus targets.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import DEPLOY, require_tool
from .units import cli_commands, read_unit

SYSTEMD = DEPLOY / "systemd"
INSTALLED = "/opt/anh-reporter/.venv/bin/anh-reporter"
SERVICES = sorted(SYSTEMD.glob("*.service"))
# The instances the target starts, as systemd-analyze must see them (a template is verified
# through one of its instances).
TARGET = SYSTEMD / "anh-reporter.target"
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/anh-reporter",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
    "RestrictSUIDSGID": "yes",
    "SystemCallArchitectures": "native",
}
EXPECTED_COMMANDS = {
    "anh-migrate.service": "db migrate",
    "anh-serve@.service": "serve",
    "anh-worker@.service": "worker",
    "anh-scheduler.service": "scheduler",
    "anh-collect.service": "collect",
}


def _wanted_by_target() -> list[str]:
    wants = read_unit(TARGET)["Unit"]["Wants"]
    return [name for line in wants for name in line.split()]


def test_the_expected_units_are_there() -> None:
    assert {p.name for p in SERVICES} == set(EXPECTED_COMMANDS)
    assert set(EXPECTED_COMMANDS) - {"anh-collect.service"} <= {
        re.sub(r"@\d+", "@", name) for name in _wanted_by_target()
    }


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze", "systemd")
    program = shutil.which("anh-reporter") or str(Path(sys.executable).parent / "anh-reporter")
    assert Path(program).exists(), program
    for unit in [*SERVICES, TARGET]:
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED, program))
    names = [
        name
        for name in [p.name for p in SERVICES if "@" not in p.name]
        + _wanted_by_target()
        + [TARGET.name]
    ]
    result = subprocess.run(
        [analyze, "verify", *sorted(set(names))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # verify exits 0 on unknown keys but prints them: any output is a finding.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_service_runs_hardened_as_its_own_user(unit: Path) -> None:
    service = read_unit(unit)["Service"]
    assert service["User"] == ["anh-reporter"]
    assert service["Group"] == ["anh-reporter"]
    for key, value in HARDENING.items():
        assert service.get(key) == [value], f"{unit.name}: {key}"
    assert "/etc/anh-reporter/anh-reporter.env" in service["EnvironmentFile"]
    assert "ANH_ENVIRONMENT=production" in service["Environment"]
    assert service["ExecStart"][0].startswith(INSTALLED + " " + EXPECTED_COMMANDS[unit.name])
    assert service.get("Restart") or service["Type"] == ["oneshot"]
    # No secret is written in a unit: they live in the environment files.
    text = unit.read_text()
    assert not re.search(r"(PASSWORD|SECRET|TOKEN)[A-Z_]*=", text), unit.name


def test_sysusers_creates_the_service_user() -> None:
    lines = [
        line.split()
        for line in (SYSTEMD / "anh-reporter.sysusers.conf").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0][:3] == ["u", "anh-reporter", "-"]
    assert lines[0][-1] == "/usr/sbin/nologin"


def test_ports_agree_with_nginx_and_prometheus() -> None:
    """The instances the target starts are the upstreams nginx uses and the targets scraped."""
    wanted = _wanted_by_target()
    api_ports = sorted(int(n.split("@")[1].split(".")[0]) for n in wanted if "serve@" in n)
    worker_ports = sorted(int(n.split("@")[1].split(".")[0]) for n in wanted if "worker@" in n)
    assert len(api_ports) == 2 and len(worker_ports) == 2

    upstreams = (DEPLOY / "nginx" / "upstreams.host.conf").read_text()
    api_block = upstreams.split("upstream anh_api", 1)[1].split("}", 1)[0]
    assert sorted(int(p) for p in re.findall(r"server 127\.0\.0\.1:(\d+)", api_block)) == (
        api_ports
    )

    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.host.yml").read_text())
    targets = {
        job["job_name"]: sorted(
            int(t.rsplit(":", 1)[1]) for c in job["static_configs"] for t in c["targets"]
        )
        for job in config["scrape_configs"]
    }
    assert targets["anh-api"] == api_ports
    assert targets["anh-worker"] == worker_ports
    scheduler = read_unit(SYSTEMD / "anh-scheduler.service")["Service"]["Environment"]
    collect = read_unit(SYSTEMD / "anh-collect.service")["Service"]["Environment"]
    assert f"ANH_METRICS__PORT={targets['anh-scheduler'][0]}" in scheduler
    assert f"ANH_METRICS__PORT={targets['anh-collect'][0]}" in collect


@pytest.mark.parametrize("command", sorted(set(EXPECTED_COMMANDS.values())))
def test_units_run_commands_the_cli_has(command: str) -> None:
    assert command in cli_commands()
