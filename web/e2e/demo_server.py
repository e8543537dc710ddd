"""The e2e tests' server: ``anh-reporter demo`` on a fresh database, with the UI mounted.

Until ``create_app`` mounts the UI itself, this wraps it so the demo's API also serves the
built UI at ``/`` (a no-op once the app already has the ``web`` mount). With a server URL in
``ANH_E2E_DATABASE_URL`` (default: ``ANH_TEST_DATABASE_URL``) it drops and recreates the
database named by ``ANH_E2E_DATABASE`` there; with neither, the demo's embedded PostgreSQL runs
in a fresh data directory. ``--seed-anomaly`` adds one open anomaly whose explanation holds
markup (it must show as text) and numeric contributions (the explanation bars). After the
backfill, before the server answers, ``seed_reset_day`` gives one older contract day a meter
reset to confirm and an estimate to approve.

    python web/e2e/demo_server.py demo --days 7 --live 3600 --api-port 18765

(``seed_reset_day`` needs six days of history or more: it stops the demo with a clear error
when there are fewer.)
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

import anh_reporter.api.app as app_module
import anh_reporter.runtime.demo as demo_module
from anh_reporter.api.web import mount_web_ui
from anh_reporter.storage.database import Database

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_reset_day import seed_reset_day  # beside this file (web/e2e is not a package)

XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'


def _with_ui(*args: Any, **kwargs: Any) -> Any:
    app = _create_app(*args, **kwargs)
    if not any(getattr(r, "name", None) == "web" for r in app.routes):
        mount_web_ui(app)
    return app


_create_app = app_module.create_app
app_module.create_app = _with_ui  # type: ignore[assignment]


def _seed_then_report(db: Database, field_code: str) -> None:
    with db.connect() as conn:
        seed_reset_day(conn, field_code)
    _demo_report(db, field_code)


_demo_report = demo_module._demo_report
demo_module._demo_report = _seed_then_report


def fresh_database() -> None:
    """Point ANH_DATABASE_URL at a new, empty database (or leave it to the embedded one)."""
    server = os.environ.get("ANH_E2E_DATABASE_URL") or os.environ.get("ANH_TEST_DATABASE_URL")
    if not server:
        os.environ.pop("ANH_DATABASE_URL", None)
        return
    name = os.environ.get("ANH_E2E_DATABASE", "anh_e2e")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server)
    os.environ["ANH_DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))


def seed_anomaly_when_ready() -> None:
    """Once the demo has loaded its site, add one open anomaly on the LACT oil rate."""
    from anh_reporter.analytics.records import Anomaly, Severity
    from anh_reporter.analytics.store import save_anomalies

    url = os.environ["ANH_DATABASE_URL"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(url) as conn:
                row = conn.execute(
                    "SELECT s.field_id, s.id, s.pmo_id FROM series s "
                    "WHERE s.variable = 'oil_rate' AND s.pmo_id IS NOT NULL ORDER BY s.id LIMIT 1"
                ).fetchone()
                if row is None:
                    raise LookupError
                now = time.time()
                anomaly = Anomaly(
                    field_id=row[0],
                    series_id=row[1],
                    pmo_id=None,
                    window_start_us=to_us_float(now - 3600),
                    window_end_us=to_us_float(now - 3000),
                    score=7.5,
                    severity=Severity.CRITICAL,
                    detector="E2E_SEED",
                    explanation={
                        "why": f"seeded for the browser tests {XSS}",
                        "contributions": {"oil_rate": 0.71, "meter_temperature": 0.19, "bsw": 0.1},
                    },
                )
                save_anomalies(conn, anomalies=[anomaly])
                conn.commit()
                print("e2e: seeded anomaly", flush=True)
                return
        except (psycopg.Error, LookupError):
            time.sleep(0.5)


def to_us_float(seconds: float) -> int:
    """Unix seconds to integer microseconds."""
    return int(seconds * 1_000_000)


def main() -> None:
    """Run the CLI with the remaining arguments."""
    args = sys.argv[1:]
    seed = "--seed-anomaly" in args
    if seed:
        args.remove("--seed-anomaly")
    fresh_database()
    if seed and os.environ.get("ANH_DATABASE_URL"):
        threading.Thread(target=seed_anomaly_when_ready, daemon=True).start()
    from anh_reporter.cli import main as cli

    sys.argv = ["anh-reporter", *args]
    cli(args)


if __name__ == "__main__":
    main()
