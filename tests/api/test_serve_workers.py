"""``serve --workers N``: N uvicorn worker processes on one port, stateless, or refused.

- Without ``ANH_REDIS_URL`` or without ``ANH_DATABASE_URL`` more than one process is refused
  with one line naming the option, its value and what is missing (the in-process bus and the
  embedded database would be split between processes).
- With both, ``serve --workers 2`` starts two worker processes under one parent, on the test
  PostgreSQL and Redis: ``/health/ready`` and an authenticated route answer on fresh
  connections, both workers started (two ``Started server process [pid]`` lines, children of
  the parent), and SIGTERM stops the parent and both workers after their application shutdown.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from anh_reporter import cli
from anh_reporter.config import get_settings
from anh_reporter.storage.database import Database
from tests.conftest import REDIS_URL
from tests.deploy.replicas import Replica, wait_ready

from .conftest import PASSWORD, World, bearer
from .test_serve_writer import CLEAN_EXIT, start_serve, wait_exit

STARTED = re.compile(r"Started server process \[(\d+)\]")
FINISHED = re.compile(r"Finished server process \[(\d+)\]")


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"ANH_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "ANH_REDIS_URL"),
        ({"ANH_REDIS_URL": "redis://127.0.0.1:1/0"}, "ANH_DATABASE_URL"),
    ],
)
def test_several_workers_need_redis_and_a_database_server(
    env: dict[str, str],
    missing: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("ANH_REDIS_URL", "ANH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["serve", "--workers", "3"])
    finally:
        get_settings.cache_clear()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    # One line, naming the option and its value, what is missing, and what to do instead.
    assert err.count("\n") == 1, err
    assert "--workers 3" in err and f"need {missing}" in err and "--workers 1" in err, err


def test_zero_workers_is_refused_naming_the_limit(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "--workers", "0"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--workers 0: must be at least 1" in err, err


def parent_of(pid: int) -> int | None:
    """The parent pid of a live process (None once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    return int(re.search(r"^PPid:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]


def wait_for_log(replica: Replica, line: str, times: int, timeout_s: float = 90.0) -> None:
    """Until ``line`` is in the replica's log ``times`` times (fails if it exits or times out)."""
    end = time.monotonic() + timeout_s
    while replica.log.read_text().count(line) < times:
        assert replica.process.poll() is None, replica.log.read_text()[-3000:]
        assert time.monotonic() < end, f"{line!r} not logged {times} times in {timeout_s:g} s"
        threading.Event().wait(0.05)


def test_two_workers_serve_one_port_and_stop_on_sigterm(
    db: Database, world: World, prefix: str, tmp_path: Path
) -> None:
    replica = start_serve(
        db, tmp_path, ["--workers", "2"], {"ANH_REDIS_URL": REDIS_URL, "ANH_REDIS_PREFIX": prefix}
    )
    try:
        wait_ready(replica)  # one worker answers; the other may still be starting
        wait_for_log(replica, "Application startup complete.", 2)
        base = f"http://127.0.0.1:{replica.port}"
        r = httpx.post(
            base + "/api/v1/auth/login",
            json={"email": "viewer@own.example", "password": PASSWORD},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        headers = bearer(r.json()["access_token"])
        for _ in range(6):  # a new connection each: the kernel hands them to either worker
            ready = httpx.get(base + "/health/ready", timeout=10)
            assert ready.status_code == 200, ready.text
            components = ready.json()["components"]
            assert components["bus"]["detail"].startswith("RedisStreamsBus")
            assert "ingest_writer" not in components  # the workers of the group write
            fields = httpx.get(base + "/api/v1/fields", headers=headers, timeout=10)
            assert fields.status_code == 200, fields.text
            assert world.own["field"] in [f["id"] for f in fields.json()]
        text = replica.log.read_text()
        workers = {int(p) for p in STARTED.findall(text)}
        assert len(workers) == 2, text[-3000:]
        assert all(parent_of(pid) == replica.process.pid for pid in workers)
        replica.process.terminate()
        assert wait_exit(replica) in CLEAN_EXIT, replica.log.read_text()[-3000:]
    finally:
        replica.stop()
    text = replica.log.read_text()
    assert {int(p) for p in FINISHED.findall(text)} == workers, text[-3000:]
    assert text.count("Application shutdown complete.") == 2
    assert all(parent_of(pid) is None for pid in workers)
