"""A batch of readings: four numpy columns plus where they came from.

Readings stay columnar from the decoder to the database: no Python object per reading on the
hot path. ``to_bytes``/``from_bytes`` give the compact binary form carried by the Redis bus
and the spool (a small header, then the raw little-endian columns: 24 bytes per reading).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MAGIC = b"ANHB"
VERSION = 1
_HEADER = struct.Struct("<4sBxH Q")  # magic, version, pad, source length, row count
BYTES_PER_READING = 4 + 8 + 8 + 4


class BatchFormatError(ValueError):
    """Bytes that are not a batch of this format."""


@dataclass(frozen=True, eq=False)
class Batch:
    """Readings of one source: series_id int32, time int64 µs UTC, value float64, quality uint32.

    ``quality`` is the OPC UA status code (Good = 0). A NaN value with a Bad quality is a
    marker (e.g. communication lost) and is stored as NULL.
    """

    series_id: npt.NDArray[np.int32]
    time_us: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    quality: npt.NDArray[np.uint32]
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.series_id)
        for name, arr, dtype in (
            ("series_id", self.series_id, np.int32),
            ("time_us", self.time_us, np.int64),
            ("value", self.value, np.float64),
            ("quality", self.quality, np.uint32),
        ):
            if arr.dtype != dtype or arr.ndim != 1:
                raise TypeError(
                    f"Batch.{name} must be a 1-D {np.dtype(dtype).name} array, "
                    f"got {arr.ndim}-D {arr.dtype}"
                )
            if len(arr) != n:
                raise ValueError(f"Batch.{name} has {len(arr)} rows, series_id has {n}")

    def __len__(self) -> int:
        return len(self.series_id)

    @classmethod
    def of(
        cls,
        series_id: npt.ArrayLike,
        time_us: npt.ArrayLike,
        value: npt.ArrayLike,
        quality: npt.ArrayLike | None = None,
        source: str = "",
    ) -> Batch:
        """Build a batch from anything array-like, converting dtypes (copies when needed)."""
        sid = np.ascontiguousarray(series_id, dtype=np.int32)
        q = (
            np.zeros(len(sid), dtype=np.uint32)
            if quality is None
            else np.ascontiguousarray(quality, dtype=np.uint32)
        )
        return cls(
            sid,
            np.ascontiguousarray(time_us, dtype=np.int64),
            np.ascontiguousarray(value, dtype=np.float64),
            q,
            source,
        )

    @classmethod
    def empty(cls, source: str = "") -> Batch:
        """A batch with no readings."""
        return cls.of([], [], [], [], source)

    @property
    def nbytes(self) -> int:
        """Memory held by the four columns."""
        return int(
            self.series_id.nbytes + self.time_us.nbytes + self.value.nbytes + self.quality.nbytes
        )

    def take(self, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> Batch:
        """The readings selected by an index or a boolean mask."""
        return Batch(
            self.series_id[index],
            self.time_us[index],
            self.value[index],
            self.quality[index],
            self.source,
        )

    @staticmethod
    def concat(batches: list[Batch], source: str = "") -> Batch:
        """One batch holding all readings of ``batches``, in order."""
        if not batches:
            return Batch.empty(source)
        if len(batches) == 1:
            return batches[0]
        return Batch(
            np.concatenate([b.series_id for b in batches]),
            np.concatenate([b.time_us for b in batches]),
            np.concatenate([b.value for b in batches]),
            np.concatenate([b.quality for b in batches]),
            source or batches[0].source,
        )

    def to_bytes(self) -> bytes:
        """Compact binary form: header, source (UTF-8), then the four columns little-endian."""
        src = self.source.encode()
        if len(src) > 0xFFFF:
            raise ValueError(f"Batch.source is {len(src)} bytes; the limit is 65535")
        return b"".join(
            (
                _HEADER.pack(MAGIC, VERSION, len(src), len(self)),
                src,
                self.series_id.astype("<i4", copy=False).tobytes(),
                self.time_us.astype("<i8", copy=False).tobytes(),
                self.value.astype("<f8", copy=False).tobytes(),
                self.quality.astype("<u4", copy=False).tobytes(),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> Batch:
        """Inverse of :meth:`to_bytes`; raises :class:`BatchFormatError` on bad input."""
        buf = memoryview(data)
        if len(buf) < _HEADER.size:
            raise BatchFormatError(f"batch is {len(buf)} bytes, shorter than its header")
        magic, version, src_len, n = _HEADER.unpack_from(buf)
        if magic != MAGIC or version != VERSION:
            raise BatchFormatError(f"not a batch (magic {bytes(magic)!r}, version {version})")
        expected = _HEADER.size + src_len + n * BYTES_PER_READING
        if len(buf) != expected:
            raise BatchFormatError(
                f"batch of {n} readings must be {expected} bytes, got {len(buf)}"
            )
        at = _HEADER.size
        source = bytes(buf[at : at + src_len]).decode()
        at += src_len
        columns = []
        for dtype, width in (("<i4", 4), ("<i8", 8), ("<f8", 8), ("<u4", 4)):
            columns.append(
                np.frombuffer(buf, dtype=dtype, count=n, offset=at).astype(
                    dtype.replace("<", "="), copy=True
                )
            )
            at += n * width
        return cls(columns[0], columns[1], columns[2], columns[3], source)
