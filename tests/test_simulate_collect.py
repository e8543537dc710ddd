"""``anh-reporter simulate`` and ``anh-reporter collect`` as separate processes, end to end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from anh_reporter.simulator.modbus_server import register_map
from anh_reporter.site import load_site
from anh_reporter.storage.database import Database

from .conftest import EXAMPLE_SITE, ROOT

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "anh_reporter", *args]


def test_edge_collector_reads_the_simulated_field(empty_db: Database, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANH_")}
    env.update(ANH_DATABASE_URL=empty_db.url, ANH_DATA_DIR=str(tmp_path / "data"), COLUMNS="160")
    loaded = subprocess.run(
        cli("site", "load", str(EXAMPLE_SITE)), env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert loaded.returncode == 0, loaded.stderr
    opcua_port, modbus_port = free_port(), free_port()
    opcua_map, modbus_map = tmp_path / "opcua.yaml", tmp_path / "modbus.yaml"
    made = subprocess.run(
        cli(
            "opcua",
            "tagmap",
            "--site",
            str(EXAMPLE_SITE),
            "--endpoint",
            f"opc.tcp://127.0.0.1:{opcua_port}/anh/simulator",
            "-o",
            str(opcua_map),
        ),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    config = register_map(load_site(EXAMPLE_SITE)).connector_config(port=modbus_port)
    modbus_map.write_text(yaml.safe_dump(config.model_dump(mode="json")))

    def simulate(*extra: str) -> subprocess.Popen[str]:
        args = ["simulate", "--opcua-port", str(opcua_port), "--modbus-port", str(modbus_port)]
        return subprocess.Popen(
            cli(*args, "--mqtt", "none", "--seconds", "40", *extra),
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    simulator = simulate("--fault", "spike:bogus:1")
    _, err = simulator.communicate(timeout=60)
    assert simulator.returncode == 1 and "no series 'bogus'" in err  # a bad fault: one line
    assert "Traceback" not in err

    simulator = simulate()
    try:
        time.sleep(4)
        collector = subprocess.run(
            cli(
                "collect",
                "--opcua",
                str(opcua_map),
                "--modbus",
                str(modbus_map),
                "--shard",
                "CAMPO-DEMO-LLANOS",
                "--seconds",
                "15",
            ),
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        simulator.terminate()
        simulator.communicate(timeout=30)
    assert collector.returncode == 0, collector.stderr
    assert "collecting with 2 connector(s) into the database" in collector.stdout
    with empty_db.connect() as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT series_id) FROM telemetry "
            "WHERE time > now() - interval '2 minutes'"
        ).fetchone()
    assert row is not None
    readings, series = row
    assert series >= 40  # PMO series over OPC UA and well series over Modbus
    assert readings >= series
