"""The web UI's budgets, measured in headless Chromium against the demo.

* initial JavaScript, gzipped (-9): what ``index.html`` loads before any view (budget 300 KB);
* field overview usable after navigation: cold cache (a new browser context), from navigating
  to the login page until the overview's figures are on screen, less the login call itself
  (the server hashing the password with argon2, which a resumed cookie session replaces with a
  refresh), median of ``--runs`` (budget 1.5 s); the total with the login call is printed too,
  and the overview opened cold with only the session cookie of an earlier login (a reload,
  resumed through ``/auth/session/refresh``), median of ``--runs``;
  baseline: a cold navigation to ``/health`` in the same browser and run;
* the live view with every series of the demo field (48) fed at 1 Hz through the ingest API
  for ``--live-seconds`` (default 300): long tasks (> 50 ms) per second and JS heap growth
  after forced GC, from the first minute on (budgets: under one long task per second on
  average, heap growth under 5 MB).

Starts ``web/e2e/demo_server.py`` (the demo with the UI mounted) on a fresh database: the
server in ``ANH_BENCH_DATABASE_URL`` / ``ANH_TEST_DATABASE_URL``, else the embedded PostgreSQL.
Needs ``web/node_modules`` (``make web-test`` installs it) and ``/usr/bin/chromium``.

    python bench/ui.py [--runs 5] [--live-seconds 300] [--port 18775]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "src" / "anh_reporter" / "web"
JS_BUDGET_KB = 300.0
OVERVIEW_BUDGET_MS = 1500.0
LONG_TASKS_PER_S_BUDGET = 1.0
HEAP_GROWTH_BUDGET_MB = 5.0


def initial_js_gzip_kb() -> tuple[float, float]:
    """Gzipped and raw KB of the scripts index.html loads (entry + modulepreloads)."""
    html = (WEB / "index.html").read_text(encoding="utf-8")
    names = set(re.findall(r'(?:src|href)="/(assets/[^"]+\.js)"', html))
    raw = b"".join((WEB / n).read_bytes() for n in sorted(names))
    gz = sum(len(gzip.compress((WEB / n).read_bytes(), 9, mtime=0)) for n in sorted(names))
    return gz / 1024, len(raw) / 1024


def _request(url: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, headers)  # noqa: S310 - the local demo API
    with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 - the local demo API
        text = r.read()
    return json.loads(text) if text else None


class Feeder(threading.Thread):
    """Posts one reading per series of the field every second through the ingest API."""

    def __init__(self, base: str, email: str, password: str) -> None:
        super().__init__(daemon=True)
        self.base, self.email, self.password = base, email, password
        self.stop = threading.Event()
        self.posted = 0

    def run(self) -> None:
        """Until stopped: a batch each second (a new token every ten minutes)."""
        token, since, series = "", 0.0, []
        tick = time.monotonic()
        while not self.stop.is_set():
            if time.monotonic() - since > 600:
                token = _request(
                    f"{self.base}/api/v1/auth/login",
                    {"email": self.email, "password": self.password},
                )["access_token"]
                since = time.monotonic()
                series = _request(f"{self.base}/api/v1/series?field_id=1", token=token)
            now = time.time()
            readings = []
            for s in series:
                lo, hi = s["range_lo"], s["range_hi"]
                mid, amp = (lo + hi) / 2, (hi - lo) / 20
                phase = s["id"] / 7
                readings.append(
                    {
                        "series_id": s["id"],
                        "time_us": int(now * 1e6),
                        "value": mid + amp * math.sin(now / 30 + phase),
                    }
                )
            _request(f"{self.base}/api/v1/ingest/readings", {"readings": readings}, token)
            self.posted += len(readings)
            tick += 1.0
            self.stop.wait(max(0.0, tick - time.monotonic()))


def start_server(port: int, log: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """The demo with the UI on a fresh database; returns the process and the admin login."""
    env = dict(os.environ)
    env.setdefault("ANH_E2E_DATABASE_URL", env.get("ANH_BENCH_DATABASE_URL", ""))
    env["ANH_E2E_DATABASE"] = "anh_bench_ui"
    env["ANH_DATA_DIR"] = tempfile.mkdtemp(prefix="anh-bench-ui-")
    env.update(NO_COLOR="1", COLUMNS="200")
    args = [sys.executable, str(ROOT / "web" / "e2e" / "demo_server.py"), "demo", "--days", "7"]
    args += ["--live", "7200", "--api-port", str(port)]
    out = log.open("wb")
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"demo exited ({proc.returncode}); see {log}")
        match = re.search(r"API admin[^:]*:\s*(\S+)\s*/\s*(\S+)", log.read_text(errors="replace"))
        if match:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                return proc, match.group(1), match.group(2)
            except OSError:
                pass
        time.sleep(0.5)  # polling a child process's output: no event to wait on
    raise SystemExit(f"demo did not start in 300 s; see {log}")


def main() -> None:
    """Measure, print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--live-seconds", type=int, default=300)
    parser.add_argument("--port", type=int, default=18775)
    args = parser.parse_args()
    js_gz, js_raw = initial_js_gzip_kb()
    log = Path(tempfile.gettempdir()) / "anh-bench-ui-server.log"
    proc, email, password = start_server(args.port, log)
    base = f"http://127.0.0.1:{args.port}"
    feeder = Feeder(base, email, password)
    try:
        feeder.start()
        out = subprocess.run(
            [
                "node",
                str(ROOT / "web" / "bench" / "ui-bench.mjs"),
                f"--base={base}",
                f"--email={email}",
                f"--password={password}",
                f"--runs={args.runs}",
                f"--live-seconds={args.live_seconds}",
            ],
            cwd=ROOT / "web",
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        m = json.loads(out.strip().splitlines()[-1])
        if os.environ.get("ANH_BENCH_WATERFALL"):
            for name, start, end in m["waterfall"]:
                print(f"{start:6d} {end:6d} {end - start:5d} ms  {name}", file=sys.stderr)
    finally:
        feeder.stop.set()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            os.killpg(proc.pid, sig)
            try:
                proc.wait(15)
                break
            except subprocess.TimeoutExpired:
                continue
    figures = {
        "initial_js_gzip_kb": round(js_gz, 1),
        "initial_js_raw_kb": round(js_raw, 1),
        "initial_js_budget_kb": JS_BUDGET_KB,
        "baseline_health_ms": m["baseline_ms"],
        "overview_usable_ms": m["overview_usable_ms"],
        "overview_runs_ms": m["overview_runs_ms"],
        "login_form_ms": m["login_form_ms"],
        "login_api_ms": m["login_api_ms"],
        "overview_with_login_ms": m["overview_with_login_ms"],
        "overview_after_login_ms": m["overview_after_login_ms"],
        "overview_resumed_ms": m["overview_resumed_ms"],
        "overview_resumed_runs_ms": m["overview_resumed_runs_ms"],
        "overview_vs_baseline": round(m["overview_usable_ms"] / max(1, m["baseline_ms"]), 1),
        "overview_budget_ms": OVERVIEW_BUDGET_MS,
        "live_series": m["live_series"],
        "live_seconds_measured": m["live_seconds_measured"],
        "readings_posted": feeder.posted,
        "long_tasks_per_s": round(m["long_tasks_per_s"], 3),
        "blocking_ms_per_s": round(m["blocking_ms_per_s"], 2),
        "longest_task_ms": round(m["longest_task_ms"], 1),
        "heap_start_mb": round(m["heap_start_mb"], 2),
        "heap_growth_mb": round(m["heap_growth_mb"], 2),
    }
    figures["within_budgets"] = (
        js_gz <= JS_BUDGET_KB
        and m["overview_usable_ms"] <= OVERVIEW_BUDGET_MS
        and m["long_tasks_per_s"] < LONG_TASKS_PER_S_BUDGET
        and m["heap_growth_mb"] < HEAP_GROWTH_BUDGET_MB
    )
    rows = [
        [
            "initial JS (gzip -9)",
            f"{js_gz:,.1f} KB",
            f"≤ {JS_BUDGET_KB:,.0f} KB",
            f"raw {js_raw:,.1f} KB",
        ],
        [
            "overview usable (median, cold)",
            f"{m['overview_usable_ms']:,.0f} ms",
            f"≤ {OVERVIEW_BUDGET_MS:,.0f} ms",
            f"+ login call {m['login_api_ms']} ms = {m['overview_with_login_ms']} ms; "
            f"{figures['overview_vs_baseline']}× a cold /health ({m['baseline_ms']} ms)",
        ],
        [
            "overview, session resumed (median, cold)",
            "—" if m["overview_resumed_ms"] is None else f"{m['overview_resumed_ms']:,.0f} ms",
            f"≤ {OVERVIEW_BUDGET_MS:,.0f} ms",
            "a reload: the session cookie only, no login form, no password hashing",
        ],
        [
            f"live: {m['live_series']} series at 1 Hz",
            f"{m['long_tasks_per_s']:.3f} long tasks/s",
            f"< {LONG_TASKS_PER_S_BUDGET:g}/s",
            f"longest {m['longest_task_ms']:.0f} ms, {m['blocking_ms_per_s']:.1f} ms blocking/s",
        ],
        [
            "live: JS heap growth after GC",
            f"{m['heap_growth_mb']:+.2f} MB",
            f"< {HEAP_GROWTH_BUDGET_MB:g} MB",
            f"from {m['heap_start_mb']:.1f} MB over {m['live_seconds_measured']} s",
        ],
    ]
    report(
        "Web UI budgets (headless Chromium, demo)",
        ["measure", "value", "budget", "note"],
        rows,
        figures,
    )


if __name__ == "__main__":
    main()
