"""The Parquet layout of archived telemetry: columns, encodings, and the exact round trip.

One file per weekly partition, rows sorted by series then time:

| column | type | encoding |
|---|---|---|
| ``series_id`` | int32 | delta (sorted: a few bits per row group) |
| ``time`` | timestamp µs UTC | delta (a regular sampling period costs next to nothing) |
| ``scale`` | int8 | delta: ``k`` for decimals of ``k`` digits (per series and row group), else -1 |
| ``value_scaled`` | int64 | delta: ``value × 10^k`` where ``scale = k ≥ 0`` |
| ``value`` | float64 | byte-stream split: the value where ``scale = -1`` |
| ``quality`` | int32 | delta: the stored (signed) OPC UA status code |

A value is kept as a scaled integer only when ``value_scaled / 10^k`` gives back the very same
float64, bit for bit (checked on every value), so the round trip is exact; values of full
binary precision keep their float64 bits. NULL values (Bad markers) are null in both value
columns. All columns are compressed with zstd.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

MAX_SCALE = 6
_EXACT_INT = float(2**53)

SCHEMA = pa.schema(
    [
        ("series_id", pa.int32()),
        ("time", pa.timestamp("us", tz="UTC")),
        ("scale", pa.int8()),
        ("value_scaled", pa.int64()),
        ("value", pa.float64()),
        ("quality", pa.int32()),
    ]
)
WRITE_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 9,
    "use_dictionary": False,
    "column_encoding": {
        "series_id": "DELTA_BINARY_PACKED",
        "time": "DELTA_BINARY_PACKED",
        "scale": "DELTA_BINARY_PACKED",
        "value_scaled": "DELTA_BINARY_PACKED",
        "value": "BYTE_STREAM_SPLIT",
        "quality": "DELTA_BINARY_PACKED",
    },
    "write_statistics": True,
}


class ColdStorageError(RuntimeError):
    """Archiving stopped (the partition is still in PostgreSQL), or an archive is unreadable."""


@dataclass(frozen=True)
class Rows:
    """Readings as columns: ``value`` is NaN where ``null`` (SQL NULL) is set."""

    series_id: npt.NDArray[np.int32]
    time_us: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    null: npt.NDArray[np.bool_]
    quality: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.series_id)

    @staticmethod
    def empty() -> Rows:
        """No rows."""
        return Rows(
            np.zeros(0, np.int32),
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
            np.zeros(0, np.bool_),
            np.zeros(0, np.int32),
        )

    def take(self, index: npt.NDArray[Any]) -> Rows:
        """The rows at ``index`` (an integer or boolean index)."""
        return Rows(
            self.series_id[index],
            self.time_us[index],
            self.value[index],
            self.null[index],
            self.quality[index],
        )

    @staticmethod
    def concat(parts: list[Rows]) -> Rows:
        """The rows of every part, in order."""
        if not parts:
            return Rows.empty()
        return Rows(
            np.concatenate([p.series_id for p in parts]),
            np.concatenate([p.time_us for p in parts]),
            np.concatenate([p.value for p in parts]),
            np.concatenate([p.null for p in parts]),
            np.concatenate([p.quality for p in parts]),
        )


def decimal_scale(values: npt.NDArray[np.float64]) -> int | None:
    """The fewest decimals ``k`` (0 to 6) such that every value is ``n / 10^k`` for an integer
    ``n`` below 2^53, bit for bit (so -0.0, NaN and infinities never qualify); else None."""
    for k in range(MAX_SCALE + 1):
        factor = 10.0**k
        with np.errstate(all="ignore"):
            scaled = np.round(values * factor)
            if not np.all(np.abs(scaled) < _EXACT_INT):
                return None
            back = scaled.astype(np.int64).astype(np.float64) / factor
        if np.array_equal(back.view(np.int64), values.view(np.int64)):
            return k
    return None


def to_table(rows: Rows) -> pa.Table:
    """The rows (sorted by series, then time) as a table of :data:`SCHEMA`."""
    n = len(rows)
    scale = np.full(n, -1, dtype=np.int8)
    scaled = np.zeros(n, dtype=np.int64)
    cuts = np.flatnonzero(np.diff(rows.series_id)) + 1
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, n], strict=True):
        present = ~rows.null[a:b]
        k = decimal_scale(rows.value[a:b][present])
        if k is None:
            continue
        scale[a:b] = k
        with np.errstate(all="ignore"):
            chunk = np.round(rows.value[a:b] * 10.0**k)
        chunk[~present] = 0
        scaled[a:b] = chunk.astype(np.int64)
    as_float = scale < 0
    return pa.table(
        {
            "series_id": pa.array(rows.series_id, pa.int32()),
            "time": pa.array(rows.time_us, pa.int64()).cast(SCHEMA.field("time").type),
            "scale": pa.array(scale, pa.int8()),
            "value_scaled": pa.array(scaled, pa.int64(), mask=rows.null | as_float),
            "value": pa.array(rows.value, pa.float64(), mask=rows.null | ~as_float),
            "quality": pa.array(rows.quality, pa.int32()),
        },
        schema=SCHEMA,
    )


def from_table(table: pa.Table) -> Rows:
    """The rows of a table of :data:`SCHEMA` (the inverse of :func:`to_table`)."""
    n = table.num_rows
    if n == 0:
        return Rows.empty()

    def column(name: str, dtype: Any, fill: Any) -> npt.NDArray[Any]:
        return np.asarray(table.column(name).fill_null(fill).to_numpy(), dtype=dtype)

    scale = column("scale", np.int8, -1)
    scaled_null = np.asarray(table.column("value_scaled").is_null().to_numpy(), dtype=np.bool_)
    float_null = np.asarray(table.column("value").is_null().to_numpy(), dtype=np.bool_)
    scaled = column("value_scaled", np.int64, 0)
    value = column("value", np.float64, np.nan)
    factor = np.power(10.0, np.maximum(scale, 0).astype(np.float64))
    as_int = scale >= 0
    value = np.where(as_int, scaled.astype(np.float64) / factor, value)
    null = np.where(as_int, scaled_null, float_null)
    value[null] = np.nan
    time = table.column("time").cast(pa.int64())
    return Rows(
        column("series_id", np.int32, 0),
        np.asarray(time.to_numpy(), dtype=np.int64),
        value,
        null,
        column("quality", np.int32, 0),
    )
