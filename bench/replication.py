"""What synchronous replication costs the ingest writer: commits with and without a standby's ack.

Starts a primary and a streaming standby of its own (PostgreSQL 15's initdb, pg_basebackup and
pg_ctl in a temporary folder, on free ports; both removed at the end), with
``synchronous_standby_names = '*'``. The worker's commit path (TelemetryWriter: binary COPY +
rollups, one transaction per flush) writes the same flushes under three session settings of
``synchronous_commit``:

* ``local`` (the baseline): the commit waits for the primary's own WAL flush only, as with
  asynchronous replication; an acknowledged reading can be lost in a failover;
* ``on``: it also waits until the standby has flushed the WAL (no acknowledged reading lost);
* ``remote_apply``: until the standby has applied it (reads on the standby see it at once).

Each setting runs ``--runs`` times, alternating, on fresh time ranges; medians are quoted as
readings/s and as a ratio against ``local``. Both clusters share this machine's disk and CPU,
and the standby is on the loopback: over a network each commit adds a round trip.

    python bench/replication.py [--flush-rows 100 1000 10000] [--flushes 40] [--runs 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.deploy.clusters

from tests.deploy.clusters import Clusters, wait_for

from _common import median, report
from anh_reporter.site import load_site
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter

ROOT = Path(__file__).resolve().parent.parent
MODES = ("local", "on", "remote_apply")
T0 = 1_767_571_200_000_000  # 2026-01-05T00:00:00Z


def rate(db: Database, mode: str, sids: np.ndarray, rows: int, flushes: int, start: int) -> float:
    """Readings/s of ``flushes`` commits of ``rows`` readings each under ``mode``."""
    with db.connect() as conn:
        conn.execute(f"SET synchronous_commit = {mode}")
        conn.commit()
        writer = TelemetryWriter(conn)
        n = rows * flushes
        series = np.resize(sids, n).astype(np.int32)
        times = start + (np.arange(n, dtype=np.int64) // len(sids)) * 1_000_000
        values = np.linspace(0.0, 100.0, n)
        quality = np.zeros(n, dtype=np.uint32)
        began = time.perf_counter()
        for i in range(flushes):
            part = slice(i * rows, (i + 1) * rows)
            writer.write(series[part], times[part], values[part], quality[part])
            conn.commit()
        return n / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flush-rows", type=int, nargs="+", default=[100, 1000, 10_000])
    parser.add_argument("--flushes", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with Clusters() as clusters:
        primary = clusters.new("primary")
        primary.initdb()
        primary.start()
        primary.query("CREATE DATABASE anh")
        db = Database(primary.url("anh"))
        migrate.upgrade(db)
        with db.connect() as conn:
            load_site_into(conn, load_site(ROOT / "examples" / "site.yaml"), changed_by="bench")
            sids = np.array([r.id for r in list_series(conn)], dtype=np.int64)
        standby = clusters.new("standby")
        standby.replicate_from(primary)
        standby.start()
        primary.query("ALTER SYSTEM SET synchronous_standby_names = '*'")
        primary.query("SELECT pg_reload_conf()")
        wait_for(
            "the standby to be synchronous",
            lambda: primary.query("SELECT sync_state = 'sync' FROM pg_stat_replication"),
        )
        rates: dict[tuple[int, str], list[float]] = {}
        start = T0
        for rows in args.flush_rows:
            for _ in range(args.runs):
                for mode in MODES:
                    rates.setdefault((rows, mode), []).append(
                        rate(db, mode, sids, rows, args.flushes, start)
                    )
                    start += (rows * args.flushes // len(sids) + 1) * 1_000_000
    table, figures = [], {}
    for rows in args.flush_rows:
        base = median(rates[(rows, "local")])
        for mode in MODES:
            value = median(rates[(rows, mode)])
            table.append([f"{rows:,}", mode, f"{value:,.0f}", f"{value / base:.2f}"])
            figures[f"readings_per_s_{mode}_{rows}"] = round(value)
            figures[f"ratio_{mode}_{rows}"] = round(value / base, 3)
    report(
        f"Ingest commits with a synchronous standby (median of {args.runs} runs, "
        f"{args.flushes} flushes each)",
        ["rows per flush", "synchronous_commit", "readings/s", "vs local"],
        table,
        figures,
    )


if __name__ == "__main__":
    main()
