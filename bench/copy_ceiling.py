"""COPY ceiling: the project's binary COPY writer against ``psql \\copy``, same rows, same tables.

Loads the same N readings (default 1,000,000) into two identical weekly-partitioned tables
shaped like ``telemetry`` (primary key (series_id, time)), once with ``psql \\copy`` from a CSV
file and once with the project's numpy-built binary COPY, three runs each, alternating, on an
emptied table each time. Prints both median rates and their ratio; the last line is JSON.

    python bench/copy_ceiling.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import bench_database, median, psql_binary, report
from anh_reporter.domain.timeutil import from_us
from anh_reporter.storage.copy import copy_rows
from anh_reporter.storage.database import Database
from anh_reporter.storage.partitions import WEEK_US, partition_name, week_start_us

T0 = 1_764_547_200_000_000  # 2025-12-01T00:00:00Z, a Monday
TABLES = ("bench_copy_psql", "bench_copy_writer")


def make_rows(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    series = 200
    per_series = -(-n // series)
    sid = np.repeat(np.arange(1, series + 1, dtype=np.int32), per_series)[:n]
    t = (T0 + np.tile(np.arange(per_series, dtype=np.int64) * 10_000_000, series))[:n]
    rng = np.random.default_rng(1)
    value = rng.normal(1000.0, 50.0, n)
    quality = np.zeros(n, dtype=np.uint32)
    return sid, t, value, quality


def create_tables(db: Database, t: np.ndarray) -> None:
    weeks = range(week_start_us(int(t.min())), week_start_us(int(t.max())) + 1, WEEK_US)
    with db.connect() as conn:
        for table in TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(
                f"CREATE TABLE {table} (time timestamptz NOT NULL, series_id int NOT NULL, "
                "value float8, quality int NOT NULL DEFAULT 0, PRIMARY KEY (series_id, time)) "
                "PARTITION BY RANGE (time)"
            )
            for w in weeks:
                name = partition_name(from_us(w)).replace("telemetry", table)
                conn.execute(
                    f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM "
                    f"('{from_us(w).isoformat()}') TO ('{from_us(w + WEEK_US).isoformat()}')"
                )


def write_csv(path: Path, sid: np.ndarray, t: np.ndarray, value: np.ndarray) -> None:
    stamps = np.datetime_as_string(t.astype("datetime64[us]"), unit="us")
    with path.open("w") as f:
        for lo in range(0, len(sid), 200_000):
            hi = lo + 200_000
            lines = [
                f"{s}Z,{i},{v!r},0"
                for s, i, v in zip(
                    stamps[lo:hi], sid[lo:hi].tolist(), value[lo:hi].tolist(), strict=True
                )
            ]
            f.write("\n".join(lines) + "\n")


def run_psql(db: Database, csv: Path) -> float:
    command = f"\\copy {TABLES[0]} (time, series_id, value, quality) FROM '{csv}' WITH (FORMAT csv)"
    start = time.perf_counter()
    subprocess.run(
        [psql_binary(), db.url, "-q", "-v", "ON_ERROR_STOP=1", "-c", command], check=True
    )
    return time.perf_counter() - start


def run_writer(db: Database, rows: tuple[np.ndarray, ...]) -> float:
    with db.connect() as conn:
        start = time.perf_counter()
        copy_rows(conn, TABLES[1], *rows)  # type: ignore[arg-type]
        conn.commit()
        return time.perf_counter() - start


def truncate(db: Database, table: str) -> None:
    with db.connect() as conn:
        conn.execute(f"TRUNCATE {table}")
        conn.commit()
        conn.execute("CHECKPOINT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = make_rows(args.rows)
    with bench_database() as db, tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "rows.csv"
        write_csv(csv, rows[0], rows[1], rows[2])
        create_tables(db, rows[1])
        psql_s, writer_s = [], []
        for _ in range(args.runs):
            truncate(db, TABLES[0])
            psql_s.append(run_psql(db, csv))
            truncate(db, TABLES[1])
            writer_s.append(run_writer(db, rows))
        with db.connect() as conn:
            counts = [
                conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]  # noqa: S608 - our own table names
                for t in TABLES
            ]
            for table in TABLES:
                conn.execute(f"DROP TABLE {table}")
            conn.commit()
    assert counts == [args.rows, args.rows], counts
    psql_rate, writer_rate = args.rows / median(psql_s), args.rows / median(writer_s)
    report(
        f"COPY ceiling: {args.rows:,} readings, median of {args.runs} runs",
        ("method", "median s", "readings/s", "ratio"),
        [
            ("psql \\copy (CSV)", f"{median(psql_s):.3f}", f"{psql_rate:,.0f}", "1.00"),
            (
                "project writer (binary COPY)",
                f"{median(writer_s):.3f}",
                f"{writer_rate:,.0f}",
                f"{writer_rate / psql_rate:.2f}",
            ),
        ],
        {
            "bench": "copy_ceiling",
            "rows": args.rows,
            "runs": args.runs,
            "psql_copy_rows_per_s": round(psql_rate),
            "writer_rows_per_s": round(writer_rate),
            "ratio": round(writer_rate / psql_rate, 3),
        },
    )


if __name__ == "__main__":
    main()
