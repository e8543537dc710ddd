"""Binary COPY of columnar readings into ``telemetry``, built with numpy (no object per row).

The PostgreSQL binary COPY format for our four fixed-width columns is a fixed 42-byte record,
so a whole batch is encoded by filling one numpy structured array and taking its bytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import sql

PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z in µs since the Unix epoch
_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_TRAILER = (-1).to_bytes(2, "big", signed=True)
_NULL = -1

ROW = np.dtype(
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
    ]
)
if ROW.itemsize != 42:  # the COPY layout below depends on it
    raise ImportError(f"binary COPY row layout is {ROW.itemsize} bytes, expected 42")
_VALUE_OFFSET = 2 + 4 + 8 + 4 + 4 + 4  # byte offset of the value field in a row

COLUMNS = "(time, series_id, value, quality)"


def encode_rows(
    series_id: npt.NDArray[np.int32],
    time_us: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    quality: npt.NDArray[np.uint32],
) -> bytes:
    """The binary COPY stream (header, rows, trailer) for these columns.

    A NaN value is written as SQL NULL: a Bad-quality marker without a value.
    """
    rows = np.empty(len(series_id), dtype=ROW)
    rows["nfields"] = 4
    rows["time_len"] = 8
    rows["time"] = time_us - PG_EPOCH_US
    rows["series_len"] = 4
    rows["series_id"] = series_id
    rows["value"] = value
    rows["quality_len"] = 4
    rows["quality"] = quality.view(np.int32)
    missing = np.isnan(value)
    if missing.any():
        return _encode_with_nulls(rows, missing)
    rows["value_len"] = 8
    return _HEADER + rows.tobytes() + _TRAILER


def _encode_with_nulls(rows: npt.NDArray[np.void], missing: npt.NDArray[np.bool_]) -> bytes:
    # A NULL field is its length (-1) with no data: those rows are 8 bytes shorter.
    rows["value_len"] = np.where(missing, _NULL, 8)
    raw = rows.view(np.uint8).reshape(len(rows), ROW.itemsize)
    value_at = _VALUE_OFFSET
    keep = np.ones(ROW.itemsize, dtype=bool)
    keep[value_at : value_at + 8] = False
    full = raw.reshape(-1)
    mask = np.broadcast_to(keep, raw.shape).copy()
    mask[~missing] = True
    body: bytes = full[mask.reshape(-1)].tobytes()
    return _HEADER + body + _TRAILER


def copy_rows(
    conn: psycopg.Connection[Any],
    table: str,
    series_id: npt.NDArray[np.int32],
    time_us: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    quality: npt.NDArray[np.uint32],
    chunk_rows: int = 100_000,
) -> int:
    """COPY the rows into ``table`` in the caller's transaction; return the row count."""
    query = sql.SQL("COPY {} {} FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table), sql.SQL(COLUMNS)
    )
    n = len(series_id)
    with conn.cursor() as cur, cur.copy(query) as copy:
        if n == 0:
            copy.write(_HEADER + _TRAILER)
        for lo in range(0, n, chunk_rows):
            hi = min(lo + chunk_rows, n)
            data = encode_rows(series_id[lo:hi], time_us[lo:hi], value[lo:hi], quality[lo:hi])
            # One header and trailer per COPY: strip them from the inner chunks.
            start = 0 if lo == 0 else len(_HEADER)
            end = len(data) if hi == n else len(data) - len(_TRAILER)
            copy.write(data[start:end])
    return n
