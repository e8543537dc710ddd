"""Real ``anh-reporter serve`` processes for the tests: start, wait until ready, read logs.

Each replica is the installed program in its own process on a free port, with JSON logs
(``ANH_LOG__FORMAT=json``) written to a file the test reads back.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from anh_reporter.storage.database import Database

from .conftest import free_port

JWT_SECRET = "replica-test-secret-" + "x" * 40


@dataclass
class Replica:
    """One ``serve`` process: its port, its process and its log file."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def log_lines(self) -> list[dict[str, Any]]:
        """Every line of its log, parsed; a line that is not a JSON object fails the test."""
        out = []
        for raw in self.log.read_bytes().splitlines():
            line = orjson.loads(raw)
            assert isinstance(line, dict), raw
            out.append(line)
        return out

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_replica(
    db: Database, folder: Path, name: str, env: dict[str, str] | None = None
) -> Replica:
    """``anh-reporter serve`` on a free port of 127.0.0.1 (not yet ready: see wait_ready)."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{name}.log"
    environment = {
        **os.environ,
        "ANH_DATABASE_URL": db.url,
        "ANH_DATA_DIR": str(folder / f"{name}-data"),
        "ANH_API__HOST": "127.0.0.1",
        "ANH_API__PORT": str(port),
        "ANH_API__JWT_SECRET": JWT_SECRET,
        "ANH_LOG__FORMAT": "json",
        **(env or {}),
    }
    with log.open("wb") as err, (folder / f"{name}.out").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "anh_reporter", "serve"],
            env=environment,
            stdout=out,
            stderr=err,
        )
    return Replica(name, port, process, log)


def wait_ready(replica: Replica, timeout_s: float = 90.0) -> None:
    """Until the replica answers ``/health`` (fails at once if it exits)."""
    end = time.monotonic() + timeout_s
    url = f"http://127.0.0.1:{replica.port}/health"
    while time.monotonic() < end:
        if replica.process.poll() is not None:
            pytest.fail(f"{replica.name} exited: {replica.log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        threading.Event().wait(0.05)
    pytest.fail(f"{replica.name} did not answer /health within {timeout_s} s")


@contextlib.contextmanager
def replicas(
    db: Database, folder: Path, count: int, env: dict[str, str] | None = None
) -> Iterator[list[Replica]]:
    """``count`` ready replicas on one database, stopped afterwards."""
    started = [start_replica(db, folder, f"api-{i + 1}", env) for i in range(count)]
    try:
        for replica in started:
            wait_ready(replica)
        yield started
    finally:
        for replica in started:
            replica.stop()
