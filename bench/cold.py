"""Cold storage: bytes per reading in PostgreSQL and in Parquet, export and read throughput.

In a database of its own (created on the bench server, migrated, the demo site loaded), writes
whole weeks of the demo's signals at their real sampling rates from the simulator's generator,
in two forms: as the generator makes them (full float64 precision, noise in every bit) and as
instruments transmit them (rounded to 0.01 of the unit, what a flow computer or a scaled
Modbus register gives). For each week, same run:

* PostgreSQL: table + index bytes of the partition per reading; the baseline is
  ``COPY (partition) TO STDOUT (FORMAT binary)``: its bytes per reading and its readings/s;
* Parquet: ``db archive`` of the partition (:func:`cold.archive_partition`, verify included):
  file bytes per reading and readings/s; then reading the whole week back (all series) and one
  series' day back, readings/s.

Median of ``--runs`` weeks per form. The last line is JSON.

    python bench/cold.py [--runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).parent))

from _common import bench_database, median, report
from anh_reporter.domain.timeutil import US_PER_DAY, to_us
from anh_reporter.simulator.backfill import signal_specs
from anh_reporter.simulator.signals import generate, sample_times
from anh_reporter.site import load_site
from anh_reporter.storage import cold, cold_read, migrate, partitions
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter

SITE = Path(__file__).resolve().parent.parent / "examples" / "site.yaml"
FIRST_WEEK = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday
FORMS = {"as generated (float64)": None, "at 0.01 resolution": 2}


def fill_week(conn: psycopg.Connection[object], week: dt.datetime, decimals: int | None) -> int:
    """A week of every demo series at its sampling period; the readings written."""
    site = load_site(SITE)
    rows = list_series(conn)
    specs = signal_specs(site, rows)
    writer = TelemetryWriter(conn, rollups=False)
    start = to_us(week)
    total = 0
    for day in range(7):
        lo, hi = start + day * US_PER_DAY, start + (day + 1) * US_PER_DAY
        s, t, v = [], [], []
        for r in rows:
            if r.id in specs:
                times = sample_times(lo, hi, r.sampling_period_s)
                values = generate(specs[r.id], times, 7)
                s.append(np.full(times.size, r.id, np.int32))
                t.append(times)
                v.append(values if decimals is None else np.round(values, decimals))
        sid = np.concatenate(s)
        writer.write(sid, np.concatenate(t), np.concatenate(v), np.zeros(sid.size, np.uint32))
        conn.commit()
        total += sid.size
    return total


def measure_week(
    conn: psycopg.Connection[object], week: dt.datetime, cold_dir: Path
) -> dict[str, float]:
    name = partitions.partition_name(week)
    conn.commit()
    conn.autocommit = True  # VACUUM runs outside a transaction
    conn.execute(f"VACUUM ANALYZE {name}")
    conn.autocommit = False
    table, index = conn.execute(
        "SELECT pg_relation_size(%s::regclass), pg_indexes_size(%s::regclass)", (name, name)
    ).fetchone() or (0, 0)
    started, copied = time.perf_counter(), 0
    with conn.cursor().copy(f"COPY {name} TO STDOUT (FORMAT binary)") as copy:
        for chunk in copy:
            copied += len(chunk)
    copy_s = time.perf_counter() - started
    conn.commit()
    (part,) = [p for p in partitions.list_partitions(conn) if p.name == name]
    conn.commit()
    started = time.perf_counter()
    archived = cold.archive_partition(conn, part, cold_dir)
    export_s = time.perf_counter() - started
    files = cold_read.cold_files(conn, week, week + partitions.WEEK)
    ids = [r.id for r in list_series(conn)]
    conn.commit()
    started = time.perf_counter()
    whole = cold_read.read_cold(files, ids, to_us(week), to_us(week + partitions.WEEK))
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    one = cold_read.read_cold(files, ids[:1], to_us(week), to_us(week) + US_PER_DAY)
    one_s = time.perf_counter() - started
    n = archived.rows
    return {
        "readings": n,
        "pg_table_b": table / n,
        "pg_index_b": index / n,
        "pg_b": (table + index) / n,
        "copy_b": copied / n,
        "parquet_b": archived.file_bytes / n,
        "copy_rps": n / copy_s,
        "export_rps": n / export_s,
        "read_rps": len(whole) / read_s,
        "read_one_day_rps": len(one) / one_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="weeks per form (median)")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {form: [] for form in FORMS}
    with bench_database() as server, tempfile.TemporaryDirectory(prefix="anh-cold-") as tmp:
        admin = server.with_name("postgres")
        name = f"anh_bench_cold_{os.getpid()}"
        with psycopg.connect(admin.url, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        try:
            db: Database = admin.with_name(name)
            migrate.upgrade(db)
            with db.connect() as conn:
                load_site_into(conn, load_site(SITE), changed_by="bench")
                conn.commit()
                week = FIRST_WEEK
                for _ in range(args.runs):
                    for form, decimals in FORMS.items():
                        fill_week(conn, week, decimals)
                        results[form].append(measure_week(conn, week, Path(tmp)))
                        week += partitions.WEEK
        finally:
            with psycopg.connect(admin.url, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    figures: dict[str, object] = {"runs": args.runs, "goal_b_per_reading": 2.0}
    meds = {}
    for form, runs in results.items():
        med = {k: median([r[k] for r in runs]) for k in runs[0]}
        meds[form] = med
        key = "generated" if "generated" in form else "resolution_0_01"
        figures[key] = {k: round(v, 3) for k, v in med.items()}
        figures[key + "_ratio_vs_copy_bytes"] = round(med["copy_b"] / med["parquet_b"], 2)
        figures[key + "_ratio_vs_pg_bytes"] = round(med["pg_b"] / med["parquet_b"], 2)
        figures[key + "_export_vs_copy_rate"] = round(med["export_rps"] / med["copy_rps"], 3)
    lines = {
        "readings in the week": lambda m: f"{m['readings']:,.0f}",
        "PostgreSQL B/reading (table + index)": lambda m: (
            f"{m['pg_b']:.1f} ({m['pg_table_b']:.1f} + {m['pg_index_b']:.1f})"
        ),
        "baseline: COPY binary B/reading": lambda m: f"{m['copy_b']:.1f}",
        "Parquet B/reading (goal <= 2)": lambda m: f"{m['parquet_b']:.2f}",
        "Parquet smaller than COPY / PostgreSQL": lambda m: (
            f"{m['copy_b'] / m['parquet_b']:.1f}x / {m['pg_b'] / m['parquet_b']:.0f}x"
        ),
        "baseline: COPY out readings/s": lambda m: f"{m['copy_rps']:,.0f}",
        "archive readings/s (vs COPY out)": lambda m: (
            f"{m['export_rps']:,.0f} ({m['export_rps'] / m['copy_rps']:.2f}x)"
        ),
        "read the week back, readings/s": lambda m: f"{m['read_rps']:,.0f}",
        "read one series-day, readings/s": lambda m: f"{m['read_one_day_rps']:,.0f}",
    }
    report(
        f"Cold storage: one week of the demo's signals (median of {args.runs})",
        ["", *FORMS],
        [[label, *(fmt(meds[form]) for form in FORMS)] for label, fmt in lines.items()],
        figures,
    )


if __name__ == "__main__":
    main()
