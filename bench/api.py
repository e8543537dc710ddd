"""API throughput and latency from a separate load process, against the framework's floor.

Starts the API with uvicorn (uvloop + httptools, ``--workers`` processes, default 2) in a
subprocess on a database holding the example site and a day of history, then drives it from
another process. Three scenarios, ``--runs`` runs each, medians quoted:

* ``/health``: the framework's floor (no auth, no database), the baseline;
* a cached analytics GET (daily data quality of a field): auth + cache hit, no database;
* a database-backed telemetry query (one hour of raw readings of one series, 360 rows).

Closed loop (as many requests as keep-alive connections carry) with ``wrk`` when it is
installed, else with a small asyncio HTTP/1.1 load generator on raw sockets (httpx itself
would be the bottleneck; the generator needs most of a core of its own, which the server then
lacks on a 2-core machine). Then the telemetry query open loop at a fixed rate (default 1,000
req/s) for its P99, always with the Python generator (wrk cannot hold a rate): each request
has its time slot and its latency counts from the slot, so a slow answer is charged for the
requests it delayed (no coordinated omission).

    python bench/api.py [--seconds 4] [--runs 3] [--connections 32] [--workers 2]
                        [--rate 1000] [--generator auto|wrk|python]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import bench_database, median, report
from anh_reporter.api.accounts import create_admin
from anh_reporter.site import load_site
from anh_reporter.storage import migrate
from anh_reporter.storage.site_repo import load_site_into

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "examples" / "site.yaml"
EMAIL = "bench@bench.example"
PASSWORD = "bench password long enough"  # noqa: S105 - a throwaway account the benchmark creates


# ------------------------------------------------------------------------------------------
# Server process


def bench_app() -> Any:
    """The app each uvicorn worker process builds (``api:bench_app``, a factory)."""
    from anh_reporter.api.app import create_app
    from anh_reporter.bus.memory import MemoryBus
    from anh_reporter.config import ApiSettings, Settings
    from anh_reporter.storage.database import Database

    url = os.environ["ANH_BENCH_API_URL"]
    settings = Settings(
        database_url=url, data_dir=Path(os.environ["ANH_BENCH_API_DATA_DIR"]), redis_url=None
    )
    api = ApiSettings(rate_per_minute=100_000_000, auth_rate_per_minute=100_000)
    return create_app(settings, Database(url), MemoryBus(), api=api)


def serve(url: str, port: int, data_dir: str, workers: int) -> None:
    """Run the API on ``port`` until killed (the child process)."""
    import uvicorn

    os.environ["ANH_BENCH_API_URL"] = url
    os.environ["ANH_BENCH_API_DATA_DIR"] = data_dir
    uvicorn.run(
        "api:bench_app",
        factory=True,
        app_dir=str(Path(__file__).parent),
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


# ------------------------------------------------------------------------------------------
# Load process


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    await reader.readexactly(length)
    return status


async def _load(
    port: int, raw: bytes, seconds: float, connections: int, rate: float | None
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter() + 0.2
    stop = start + seconds

    async def worker(k: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = 0
        while True:
            if rate is None:
                scheduled = time.perf_counter()
                if scheduled >= stop:
                    break
            else:
                # Open loop: slot k, k + C, ...; latency counts from the slot (no coordinated
                # omission: a slow answer delays the next request and is charged for it).
                scheduled = start + (k + i * connections) / rate
                if scheduled >= stop:
                    break
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            status = await _request(reader, writer, raw)
            if status != 200:
                errors += 1
            if scheduled >= start:
                latencies.append(time.perf_counter() - scheduled)
            i += 1
        writer.close()

    await asyncio.gather(*(worker(k) for k in range(connections)))
    lat = np.array(latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "p50_ms": float(np.percentile(lat, 50) * 1000) if len(lat) else None,
        "p99_ms": float(np.percentile(lat, 99) * 1000) if len(lat) else None,
        "errors": errors,
    }


def load_main(args: argparse.Namespace) -> None:
    """The load process: print one JSON line with the run's figures."""
    import uvloop

    headers = f"Host: 127.0.0.1\r\nAuthorization: Bearer {args.token}\r\n" if args.token else ""
    raw = f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode()
    raw = raw.replace(b"Host: 127.0.0.1\r\nHost: 127.0.0.1\r\n", b"Host: 127.0.0.1\r\n")
    result = uvloop.run(_load(args.port, raw, args.seconds, args.connections, args.rate))
    print(json.dumps(result), flush=True)


_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s)", text.strip())
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match[1]) * _WRK_UNITS[match[2]]


def wrk_load(
    port: int, path: str, token: str | None, seconds: float, connections: int
) -> dict[str, Any]:
    """One closed-loop wrk run (one thread: the rest of the machine is the server's)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=300).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out)[1])  # type: ignore[index]
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", out)  # fmt: skip
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return {
        "requests": int(re.search(r"(\d+) requests in", out)[1]),  # type: ignore[index]
        "rps": rps,
        "p50_ms": _wrk_ms(latency["50"]),
        "p99_ms": _wrk_ms(latency["99"]),
        "errors": errors,
    }


# ------------------------------------------------------------------------------------------
# Orchestration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str) -> tuple[int, int]:
    """Site, a day of history, a bench admin; returns (field id, oil rate series id)."""
    from anh_reporter.simulator.backfill import backfill
    from anh_reporter.storage.database import Database

    db = Database(url)
    migrate.upgrade(db)
    site = load_site(SITE)
    end = dt.datetime(2026, 1, 6, tzinfo=dt.UTC)
    with db.connect() as conn:
        load_site_into(conn, site, changed_by="bench")
        backfill(conn, site, end=end, days=1.0, seed=7)
        conn.execute("ANALYZE telemetry")
        conn.commit()
        row = conn.execute(
            "SELECT f.id, s.id FROM series s JOIN fields f ON f.id = s.field_id "
            "WHERE s.variable = 'oil_rate' ORDER BY s.id LIMIT 1"
        ).fetchone()
    assert row is not None
    create_admin(db, EMAIL, PASSWORD, operator_nit=site.operator.nit)
    return int(row[0]), int(row[1])


def _run_load(
    port: int,
    path: str,
    token: str | None,
    args: argparse.Namespace,
    rate: float | None = None,
    seconds: float | None = None,
) -> dict[str, Any]:
    """One run from a separate Python load process (closed loop, or open loop at ``rate``)."""
    command = [
        sys.executable, __file__, "--load", "--port", str(port), "--path", path,
        "--seconds", str(seconds or args.seconds), "--connections", str(args.connections),
    ]  # fmt: skip
    if token:
        command += ["--token", token]
    if rate:
        command += ["--rate", str(rate)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _generator(choice: str) -> str:
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if choice == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--generator wrk: wrk is not installed (apt-get install wrk)")
    return choice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--rate", type=float, default=None, help="Fixed rate (default 1000)")
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="Closed-loop load: wrk if installed (auto), or the Python generator",
    )
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load_main(args)
        return
    if args.serve:
        serve(args.url, args.port, args.data_dir, args.workers)
        return
    fixed_rate = args.rate or 1000.0
    generator = _generator(args.generator)

    def closed_loop(port: int, path: str, token: str | None) -> dict[str, Any]:
        if generator == "wrk":
            return wrk_load(port, path, token, args.seconds, args.connections)
        return _run_load(port, path, token, args)

    with bench_database() as db:
        field_id, series_id = _prepare(db.url)
        port = _free_port()
        data_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "anh-bench-api"
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--url", db.url, "--port", str(port),
             "--data-dir", str(data_dir), "--workers", str(args.workers)],
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(400):
                try:
                    if httpx.get(base + "/health", timeout=0.5).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            login = httpx.post(
                base + "/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}
            )
            login.raise_for_status()
            token = login.json()["access_token"]
            day = "2026-01-05"
            scenarios = {
                "health": ("/health", None),
                "analytics_cached": (
                    f"/api/v1/analytics/fields/{field_id}/daily-quality"
                    f"?start_day={day}&end_day={day}",
                    token,
                ),
                "telemetry_raw_1h": (
                    f"/api/v1/telemetry/{series_id}/raw?start={day}T10:00:00Z&end={day}T11:00:00Z",
                    token,
                ),
            }
            check = httpx.get(base + scenarios["telemetry_raw_1h"][0],
                              headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            check.raise_for_status()
            rows_per_query = check.json()["count"]
            for path, tok in scenarios.values():  # warm every worker's caches and pools
                _run_load(port, path, tok, args, seconds=0.5)
            results: dict[str, list[dict[str, Any]]] = {name: [] for name in scenarios}
            for _ in range(args.runs):
                for name, (path, tok) in scenarios.items():
                    results[name].append(closed_loop(port, path, tok))
            fixed = [
                _run_load(port, scenarios["telemetry_raw_1h"][0], token, args, rate=fixed_rate)
                for _ in range(args.runs)
            ]
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()  # a load process that died may leave it draining connections
                server.wait(10)

    def med(rs: list[dict[str, Any]], key: str) -> float:
        return median([float(r[key]) for r in rs])

    health_rps = med(results["health"], "rps")
    rows = []
    for name, rs in results.items():
        rows.append((name, f"{med(rs, 'rps'):,.0f}", f"{med(rs, 'p50_ms'):.2f}",
                     f"{med(rs, 'p99_ms'):.2f}", f"{med(rs, 'rps') / health_rps:.2f}",
                     str(sum(r["errors"] for r in rs))))  # fmt: skip
    rows.append((f"telemetry_raw_1h @ {fixed_rate:,.0f}/s (python)", f"{med(fixed, 'rps'):,.0f}",
                 f"{med(fixed, 'p50_ms'):.2f}", f"{med(fixed, 'p99_ms'):.2f}", "-",
                 str(sum(r["errors"] for r in fixed))))  # fmt: skip
    figures = {
        "bench": "api",
        "generator": generator,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "runs": args.runs,
        "seconds": args.seconds,
        "connections": args.connections,
        "health_rps": round(health_rps),
        "analytics_cached_rps": round(med(results["analytics_cached"], "rps")),
        "analytics_cached_p99_ms": round(med(results["analytics_cached"], "p99_ms"), 2),
        "analytics_cached_ratio_to_health": round(
            med(results["analytics_cached"], "rps") / health_rps, 3
        ),
        "telemetry_raw_rps": round(med(results["telemetry_raw_1h"], "rps")),
        "telemetry_raw_p99_ms": round(med(results["telemetry_raw_1h"], "p99_ms"), 2),
        "telemetry_raw_rows_per_query": rows_per_query,
        "telemetry_fixed_rate": fixed_rate,
        "telemetry_fixed_achieved_rps": round(med(fixed, "rps")),
        "telemetry_fixed_p99_ms": round(med(fixed, "p99_ms"), 2),
        "errors": sum(r["errors"] for rs in [*results.values(), fixed] for r in rs),
    }
    report(
        f"API: {args.workers} uvicorn worker(s), load by {generator} over {args.connections} "
        f"keep-alive connections, median of {args.runs} runs of {args.seconds:g} s",
        ("scenario", "req/s", "P50 ms", "P99 ms", "vs /health", "errors"),
        rows,
        figures,
    )


if __name__ == "__main__":
    main()
