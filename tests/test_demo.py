"""``anh-reporter demo`` end to end: on the test server, and on its own embedded PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from anh_reporter.storage.database import Database

from .conftest import ROOT


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anh_reporter", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANH_")}
    env.update(extra, COLUMNS="160")
    return env


def test_demo_on_an_existing_server(empty_db: Database) -> None:
    env = clean_env(ANH_DATABASE_URL=empty_db.url)
    first = run_cli("demo", "--days", "0.25", "--live", "0", env=env)
    assert first.returncode == 0, first.stderr
    assert "64 series" in first.stdout
    # The six wells were tested and yesterday allocated: the demo prints the allocation table.
    assert "allocation" in first.stdout and "CDL-006" in first.stdout
    with empty_db.connect() as conn:
        count = conn.execute("SELECT count(*) FROM telemetry").fetchone()
        hourly = conn.execute("SELECT sum(count) FROM telemetry_hourly").fetchone()
    assert count is not None and count[0] > 64 * 300
    assert hourly == count
    status = run_cli("db", "status", env=env)
    assert status.returncode == 0 and "up to date" in status.stdout


@pytest.mark.slow
def test_demo_embedded_twice_reuses_its_data(tmp_path: Path) -> None:
    env = clean_env(ANH_DATA_DIR=str(tmp_path / "data"))
    first = run_cli("demo", "--days", "0.1", "--live", "0", env=env)
    assert first.returncode == 0, first.stderr
    assert "embedded PostgreSQL" in first.stdout
    second = run_cli("demo", "--days", "0.1", "--live", "0", env=env)
    assert second.returncode == 0, second.stderr
    assert "created nothing" in second.stdout  # the site was already there
    assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()
    pid_file = tmp_path / "data" / "pgdata" / "postmaster.pid"
    assert not pid_file.exists(), "the embedded server must stop when the program exits"


@pytest.mark.slow
def test_demo_live_collects_the_simulated_field_over_the_protocols(
    empty_db: Database, tmp_path: Path
) -> None:
    env = clean_env(ANH_DATABASE_URL=empty_db.url, ANH_DATA_DIR=str(tmp_path / "data"))
    proc = run_cli("demo", "--days", "0.05", "--live", "12", "--api-port", "0", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "OPC UA   opc.tcp://127.0.0.1:" in proc.stdout
    assert "live done" in proc.stdout
    with empty_db.connect() as conn:
        live = conn.execute(
            "SELECT count(*) FROM telemetry WHERE time > now() - interval '30 seconds'"
        ).fetchone()
        owners = conn.execute(
            "SELECT count(DISTINCT coalesce(s.pmo_id, -s.well_id)) FROM telemetry t "
            "JOIN series s ON s.id = t.series_id WHERE t.time > now() - interval '30 seconds'"
        ).fetchone()
    assert live is not None and live[0] > 50  # PMOs sampled every second over OPC UA
    assert owners is not None and owners[0] >= 2  # more than one PMO or well arrived live
