"""``serve --workers 2``: every worker's ``/metrics`` answers for both (real processes).

- The parent gives the workers one private directory (0700, named by
  ``PROMETHEUS_MULTIPROC_DIR`` in their environment) and removes it when it exits.
- Requests sent concurrently on fresh connections until each worker's own files count some:
  then every scrape (whichever worker takes it) shows ``api_requests_total`` and the latency
  histogram's count for that route equal to the number sent (polled until the last response's
  count lands, never above it, never going down), the same metric families and types as one
  process shows (without the per-process ``*_created``), and ``memory_usage_bytes{api}`` the
  two workers' resident memory together.
- SIGKILL to a worker: the parent marks it dead (its live gauge files go), uvicorn starts
  another, and the counts it had stay in the total.
"""

from __future__ import annotations

import os
import resource
import signal
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import httpx
from prometheus_client import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from anh_reporter.observability.metrics import REGISTRY
from anh_reporter.storage.database import Database
from tests.conftest import REDIS_URL
from tests.deploy.replicas import wait_ready

from .conftest import PASSWORD, World, bearer
from .test_serve_workers import STARTED, parent_of, wait_for_log
from .test_serve_writer import CLEAN_EXIT, start_serve, wait_exit

ROUTE = "/api/v1/fields"
T = TypeVar("T")
BATCH = 8  # concurrent requests, each on its own connection: both workers accept some


def wait_until(what: str, probe: Callable[[], T | None], timeout_s: float = 60.0) -> T:
    """``probe()`` until it returns something other than None (fails after ``timeout_s``)."""
    end = time.monotonic() + timeout_s
    while (value := probe()) is None:
        assert time.monotonic() < end, f"{what}: not within {timeout_s:g} s"
        threading.Event().wait(0.05)
    return value


def shared_directory(pid: int) -> Path:
    """The ``PROMETHEUS_MULTIPROC_DIR`` in a worker's environment."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    found = [e.split(b"=", 1)[1] for e in environ if e.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    assert len(found) == 1, f"worker {pid} has no PROMETHEUS_MULTIPROC_DIR"
    return Path(found[0].decode())


def route_count(samples: list[tuple[str, dict[str, str], float]], name: str) -> float:
    """``name``'s samples for GET ``ROUTE``, every status class together."""
    return sum(v for n, labels, v in samples if n == name and labels.get("endpoint") == ROUTE)


def files_of(folder: Path, pid: int) -> list[tuple[str, dict[str, str], float]]:
    """One worker's own counter samples, read from its file as the worker wrote them."""
    path = folder / f"counter_{pid}.db"
    if not path.exists():
        return []
    return [
        (s.name, s.labels, s.value)
        for m in MultiProcessCollector.merge([str(path)])
        for s in m.samples
    ]


def scrape(base: str) -> tuple[dict[str, str], list[tuple[str, dict[str, str], float]]]:
    """One ``/metrics`` on a fresh connection: ``{family: type}`` and every sample."""
    r = httpx.get(base + "/metrics", timeout=10)
    assert r.status_code == 200, r.text
    families = list(text_string_to_metric_families(r.text))
    samples = [(s.name, s.labels, s.value) for f in families for s in f.samples]
    return {f.name: f.type for f in families}, samples


def rss(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * resource.getpagesize()


def test_every_worker_serves_the_metrics_of_both(
    db: Database, world: World, prefix: str, tmp_path: Path
) -> None:
    replica = start_serve(
        db, tmp_path, ["--workers", "2"], {"ANH_REDIS_URL": REDIS_URL, "ANH_REDIS_PREFIX": prefix}
    )
    try:
        wait_ready(replica)
        wait_for_log(replica, "Application startup complete.", 2)
        workers = sorted({int(p) for p in STARTED.findall(replica.log.read_text())})
        assert len(workers) == 2 and all(parent_of(w) == replica.process.pid for w in workers)
        folder = shared_directory(workers[0])
        assert shared_directory(workers[1]) == folder
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700

        base = f"http://127.0.0.1:{replica.port}"
        login = httpx.post(
            base + "/api/v1/auth/login",
            json={"email": "viewer@own.example", "password": PASSWORD},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        headers = bearer(login.json()["access_token"])

        def one(_: int) -> int:
            return httpx.get(base + ROUTE, headers=headers, timeout=10).status_code

        sent = 0
        end = time.monotonic() + 60
        with ThreadPoolExecutor(BATCH) as pool:
            # Until each worker counted some of them in its own file (one may accept them all
            # for a while); a worker counts a request after its response: polled.
            while not all(route_count(files_of(folder, w), "api_requests_total") for w in workers):
                assert time.monotonic() < end, "one worker answered every request for 60 s"
                assert list(pool.map(one, range(BATCH))) == [200] * BATCH
                sent += BATCH
        per_worker = [route_count(files_of(folder, w), "api_requests_total") for w in workers]
        assert all(n > 0 for n in per_worker), per_worker

        totals: list[float] = []

        def counted() -> bool | None:
            _, samples = scrape(base)
            totals.append(route_count(samples, "api_requests_total"))
            return True if totals[-1] == sent else None

        wait_until(f"api_requests_total{{endpoint={ROUTE}}} == {sent}", counted)
        for _ in range(10):  # fresh connections: either worker answers each
            types, samples = scrape(base)
            totals.append(route_count(samples, "api_requests_total"))
            assert route_count(samples, "api_latency_seconds_count") == sent
        assert totals == sorted(totals) and totals[-11:] == [sent] * 11, (sent, totals)

        one_process = {
            f.name: f.type
            for f in text_string_to_metric_families(generate_latest(REGISTRY).decode())
            if not f.name.endswith("_created")
        }
        assert types == one_process
        memory = [v for n, labels, v in samples if n == "memory_usage_bytes"]
        both = sum(rss(w) for w in workers)
        assert len(memory) == 1 and 0.8 * both < memory[0] < 1.25 * both, (memory, both)

        # A worker that dies: marked dead by the parent, replaced, its counts kept.
        os.kill(workers[0], signal.SIGKILL)
        wait_until(
            "the dead worker's live gauge files removed",
            lambda: True if not list(folder.glob(f"gauge_live*_{workers[0]}.db")) else None,
        )
        assert (folder / f"counter_{workers[0]}.db").exists()
        wait_for_log(replica, "Application startup complete.", 3)
        for _ in range(6):
            _, samples = scrape(base)
            assert route_count(samples, "api_requests_total") == sent

        replica.process.terminate()
        assert wait_exit(replica) in CLEAN_EXIT, replica.log.read_text()[-3000:]
    finally:
        replica.stop()
    assert not folder.exists()  # removed by the parent on exit
