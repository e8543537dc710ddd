"""Cold storage: archive whole weekly ``telemetry`` partitions to Parquet, never losing a reading.

One partition at a time (:func:`archive_partition`), in one transaction that holds the
partition against writes from start to end:

1. lock the partition (``SHARE ROW EXCLUSIVE``: readers go on, writers and a second archiver
   wait), refuse a name already in the catalog, and compute its checksums in PostgreSQL;
2. stream its rows out by binary COPY (sorted by series, then time) into a temporary file
   (:mod:`.cold_format`), fsync it, read it back and compare: row count, NULL values, sums
   (mod 2^64) of series ids, times, value bits and qualities against PostgreSQL's, and a
   per-row hash against what COPY delivered;
3. rename it into place and fsync the folder; record it in ``cold_partitions``; detach and drop
   the partition; commit.

A failure at any step rolls the transaction back: the partition stays in PostgreSQL and a file
this run renamed into place is removed. A crash between the rename and the commit leaves an
uncatalogued file that the next run overwrites. The hourly rollups stay in PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import pyarrow.parquet as pq

from anh_reporter.storage import partitions
from anh_reporter.storage.cold_format import (
    SCHEMA,
    WRITE_OPTIONS,
    ColdStorageError,
    Rows,
    from_table,
    to_table,
)
from anh_reporter.storage.copy import PG_EPOCH_US
from anh_reporter.storage.partitions import Partition

CHUNK_ROWS = 262_144
"""Rows per Parquet row group (and per step of the COPY stream)."""
_MOD = 1 << 64
_HEADER = 19  # PGCOPY signature, flags, header extension length
_RECORD = np.dtype(
    [
        ("nfields", ">i2"),
        ("time_len", ">i4"),
        ("time", ">i8"),
        ("series_len", ">i4"),
        ("series_id", ">i4"),
        ("value_len", ">i4"),
        ("value", ">f8"),
        ("quality_len", ">i4"),
        ("quality", ">i4"),
        ("null_len", ">i4"),
        ("null", "?"),
    ]
)
_COPY_SQL = (
    "COPY (SELECT time, series_id, coalesce(value, 'NaN'::float8), quality, value IS NULL "
    "FROM {name} ORDER BY series_id, time) TO STDOUT (FORMAT binary)"
)
_CHECKSUM_SQL = """
SELECT count(*), count(*) FILTER (WHERE value IS NULL),
       coalesce(sum(series_id::bigint), 0),
       coalesce(sum((extract(epoch FROM time) * 1000000)::bigint), 0),
       coalesce(sum(('x' || encode(float8send(value), 'hex'))::bit(64)::bigint), 0),
       coalesce(sum(quality::bigint), 0)
FROM {name}
"""
Step = Callable[[str], None]


@dataclass(frozen=True)
class Checksum:
    """Order-independent checksums of a set of readings (sums modulo 2^64)."""

    rows: int
    null_values: int
    series_sum: int
    time_sum: int
    value_bits_sum: int
    quality_sum: int

    @staticmethod
    def zero() -> Checksum:
        """The checksum of no rows."""
        return Checksum(0, 0, 0, 0, 0, 0)

    def add(self, rows: Rows) -> Checksum:
        """This checksum with ``rows`` added."""
        bits = np.where(rows.null, 0, rows.value.view(np.int64))
        return Checksum(
            self.rows + len(rows),
            self.null_values + int(rows.null.sum()),
            (self.series_sum + _sum64(rows.series_id)) % _MOD,
            (self.time_sum + _sum64(rows.time_us)) % _MOD,
            (self.value_bits_sum + _sum64(bits)) % _MOD,
            (self.quality_sum + _sum64(rows.quality)) % _MOD,
        )


def _sum64(values: npt.NDArray[Any]) -> int:
    return int(np.sum(values.astype(np.int64).view(np.uint64), dtype=np.uint64))


def row_hash(rows: Rows) -> int:
    """Sum (mod 2^64) of a mixed hash of each whole row: moving a value to another row shows."""
    bits = np.where(rows.null, 0, rows.value.view(np.int64)).view(np.uint64)
    x = rows.series_id.astype(np.int64).view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    x = _mix(x ^ rows.time_us.view(np.uint64))
    x = _mix(x ^ bits)
    flags = (rows.quality.astype(np.int64).view(np.uint64) << np.uint64(1)) | rows.null
    x = _mix(np.asarray(x ^ flags, dtype=np.uint64))
    return int(np.sum(x, dtype=np.uint64))


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(x ^ (x >> np.uint64(31)), dtype=np.uint64)


@dataclass(frozen=True)
class Archived:
    """One partition now in cold storage."""

    name: str
    start: dt.datetime
    end: dt.datetime
    path: Path
    rows: int
    file_bytes: int
    pg_bytes: int

    @property
    def bytes_per_reading(self) -> float:
        """File bytes per reading (0 for an empty partition)."""
        return self.file_bytes / self.rows if self.rows else 0.0


def due(conn: psycopg.Connection[Any], now: dt.datetime, older_than_days: int) -> list[Partition]:
    """Partitions that ended at least ``older_than_days`` days before ``now``, oldest first
    (ends the connection's transaction)."""
    if older_than_days < 1:
        raise ValueError(f"older_than_days is {older_than_days}; it must be at least 1")
    if not partitions.is_native(conn):
        return []
    cutoff = now - dt.timedelta(days=older_than_days)
    found = [p for p in partitions.list_partitions(conn) if p.end <= cutoff]
    conn.commit()  # archive_partition needs the connection outside a transaction
    return found


def archive_partition(
    conn: psycopg.Connection[Any],
    part: Partition,
    cold_dir: Path,
    *,
    on_rows: Callable[[int], None] | None = None,
    on_step: Step | None = None,
) -> Archived:
    """Export ``part`` to ``cold_dir/<name>.parquet``, verify, catalogue, detach and drop it."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise ValueError(
            "archive_partition commits its own transaction: call it on a connection outside a "
            "transaction (commit or roll back first)"
        )
    step = on_step or (lambda _name: None)
    cold_dir.mkdir(parents=True, exist_ok=True)
    final = cold_dir.resolve() / f"{part.name}.parquet"
    tmp = final.with_name(f".{part.name}.parquet.{os.getpid()}.tmp")
    renamed = committed = False
    try:
        with conn.transaction():
            conn.execute(f"LOCK TABLE {part.name} IN SHARE ROW EXCLUSIVE MODE")
            if conn.execute(
                "SELECT 1 FROM cold_partitions WHERE name = %s", (part.name,)
            ).fetchone():
                raise ColdStorageError(f"{part.name} is already archived and also in PostgreSQL")
            expected = _pg_checksum(conn, part.name)
            pg_bytes = _pg_bytes(conn, part.name)
            exported, hashed, series_ids = _export(conn, part.name, tmp, on_rows)
            step("exported")
            _fsync(tmp)
            read_back, read_hash = checksum_file(tmp)
            if not (exported == expected == read_back) or hashed != read_hash:
                raise ColdStorageError(
                    f"{part.name}: the file does not match the partition (PostgreSQL "
                    f"{expected}, exported {exported}, read back {read_back})"
                )
            step("verified")
            digest = _sha256(tmp)
            os.replace(tmp, final)
            renamed = True
            _fsync(final.parent)
            step("renamed")
            conn.execute("SET LOCAL lock_timeout = '30s'")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (partitions.LOCK_KEY,))
            _catalogue(conn, part, final, expected, series_ids, pg_bytes, digest)
            step("catalogued")
            conn.execute(f"ALTER TABLE telemetry DETACH PARTITION {part.name}")
            step("detached")
            conn.execute(f"DROP TABLE {part.name}")
            step("dropped")
        committed = True
    finally:
        tmp.unlink(missing_ok=True)
        if renamed and not committed:
            final.unlink(missing_ok=True)
    return Archived(
        part.name, part.start, part.end, final, expected.rows, final.stat().st_size, pg_bytes
    )


def _pg_checksum(conn: psycopg.Connection[Any], name: str) -> Checksum:
    row = conn.execute(_CHECKSUM_SQL.format(name=name)).fetchone()
    if row is None:  # pragma: no cover - an aggregate always answers one row
        raise ColdStorageError(f"{name}: no checksum row")
    return Checksum(int(row[0]), int(row[1]), *(int(v) % _MOD for v in row[2:]))


def _pg_bytes(conn: psycopg.Connection[Any], name: str) -> int:
    row = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (name,)).fetchone()
    return int(row[0]) if row else 0


def _export(
    conn: psycopg.Connection[Any], name: str, path: Path, on_rows: Callable[[int], None] | None
) -> tuple[Checksum, int, list[int]]:
    """Stream the partition into ``path``; its checksum, row hash and series ids."""
    total, hashed, series = Checksum.zero(), 0, set()
    buffer = bytearray()
    header_seen = False
    size = _RECORD.itemsize
    with pq.ParquetWriter(path, SCHEMA, **WRITE_OPTIONS) as writer:

        def flush(count: int) -> None:
            nonlocal total, hashed, buffer
            records = np.frombuffer(bytes(buffer[: count * size]), dtype=_RECORD)
            del buffer[: count * size]
            rows = Rows(
                records["series_id"].astype(np.int32),
                records["time"].astype(np.int64) + PG_EPOCH_US,
                records["value"].astype(np.float64),
                records["null"].astype(np.bool_),
                records["quality"].astype(np.int32),
            )
            writer.write_table(to_table(rows), row_group_size=CHUNK_ROWS)
            total, hashed = total.add(rows), (hashed + row_hash(rows)) % _MOD
            series.update(np.unique(rows.series_id).tolist())
            if on_rows:
                on_rows(len(rows))

        with conn.cursor().copy(_COPY_SQL.format(name=name)) as copy:
            for data in copy:
                buffer += data
                if not header_seen and len(buffer) >= _HEADER:
                    del buffer[:_HEADER]
                    header_seen = True
                if header_seen and len(buffer) >= CHUNK_ROWS * size:
                    flush(CHUNK_ROWS)
        if buffer[-2:] != b"\xff\xff" or (len(buffer) - 2) % size:
            raise ColdStorageError(f"{name}: the COPY stream did not end as expected")
        del buffer[-2:]
        if buffer:
            flush(len(buffer) // size)
    return total, hashed, sorted(series)


def checksum_file(path: Path) -> tuple[Checksum, int]:
    """The checksum and row hash of an archived file, read back row group by row group."""
    total, hashed = Checksum.zero(), 0
    file = pq.ParquetFile(path)
    for group in range(file.num_row_groups):
        rows = from_table(file.read_row_group(group))
        total, hashed = total.add(rows), (hashed + row_hash(rows)) % _MOD
    return total, hashed


def _catalogue(
    conn: psycopg.Connection[Any],
    part: Partition,
    path: Path,
    checksum: Checksum,
    series_ids: list[int],
    pg_bytes: int,
    digest: str,
) -> None:
    conn.execute(
        "INSERT INTO cold_partitions (name, range_start, range_end, path, rows, null_values, "
        "series_ids, file_bytes, pg_bytes, sha256, series_sum, time_sum, value_bits_sum, "
        "quality_sum) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            part.name,
            part.start,
            part.end,
            str(path),
            checksum.rows,
            checksum.null_values,
            series_ids,
            path.stat().st_size,
            pg_bytes,
            digest,
            checksum.series_sum,
            checksum.time_sum,
            checksum.value_bits_sum,
            checksum.quality_sum,
        ),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
