"""Vectorised decoding of a read block: every tag of the block at once, with numpy.

The registers are laid out as the bytes that came over the wire (each register big-endian, as
Modbus sends it). For each tag a row of byte indices picks its bytes in the order that makes
the value big-endian, so one fancy-index per data type reorders all tags, whatever their byte
order, and a view as the big-endian dtype gives the values.

Byte orders (Telegraf's vocabulary; ``A`` is the most significant byte):

* ``ABCD``: registers in order, bytes in order (big-endian; Modbus' own convention);
* ``CDAB``: registers reversed, bytes in order ("word swap", Modicon/Schneider style);
* ``BADC``: registers in order, bytes swapped within each register;
* ``DCBA``: registers reversed and bytes swapped (little-endian).

64-bit values follow the same rule over four registers (``CDAB`` is ``GHEFCDAB``). A 16-bit
value has no word order: ``ABCD``/``CDAB`` read it as is, ``BADC``/``DCBA`` swap its bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from anh_reporter.connectors.modbus.config import REGISTERS_PER_TYPE, DataType
from anh_reporter.connectors.tagmap import ByteOrder

BIG_ENDIAN_DTYPES: dict[str, str] = {
    "int16": ">i2",
    "uint16": ">u2",
    "int32": ">i4",
    "uint32": ">u4",
    "float32": ">f4",
    "float64": ">f8",
}

FloatArray = npt.NDArray[np.float64]


def byte_positions(width: int, byte_order: ByteOrder) -> list[int]:
    """Wire offsets of the value's bytes, most significant first, for ``width`` registers."""
    words_reversed = byte_order in ("CDAB", "DCBA")
    bytes_swapped = byte_order in ("BADC", "DCBA")
    out = []
    for p in range(2 * width):
        register, high_low = divmod(p, 2)
        wire_register = width - 1 - register if words_reversed else register
        wire_byte = 1 - high_low if bytes_swapped else high_low
        out.append(2 * wire_register + wire_byte)
    return out


class BlockDecoder:
    """Decodes the raw values of a fixed set of fields from a block of registers."""

    def __init__(self, fields: Sequence[tuple[int, DataType, ByteOrder]], count: int) -> None:
        """``fields`` are (register offset in the block, data type, byte order)."""
        self.count = count
        self.size = len(fields)
        by_type: dict[str, tuple[list[int], list[list[int]]]] = {}
        for position, (offset, data_type, byte_order) in enumerate(fields):
            width = REGISTERS_PER_TYPE[data_type]
            if offset < 0 or offset + width > count:
                raise ValueError(
                    f"{data_type} at register offset {offset} does not fit a block of "
                    f"{count} registers"
                )
            positions, indices = by_type.setdefault(data_type, ([], []))
            positions.append(position)
            indices.append([2 * offset + b for b in byte_positions(width, byte_order)])
        self._groups = [
            (
                np.array(positions, dtype=np.intp),
                np.array(indices, dtype=np.intp),
                np.dtype(BIG_ENDIAN_DTYPES[data_type]),
            )
            for data_type, (positions, indices) in by_type.items()
        ]

    def decode(self, registers: Sequence[int] | npt.NDArray[np.uint16]) -> FloatArray:
        """Raw (unscaled) values of the fields, in field order, as float64."""
        regs = np.asarray(registers, dtype=np.uint16)
        if regs.shape != (self.count,):
            raise ValueError(f"expected {self.count} registers, got {regs.size}")
        wire = regs.astype(">u2").view(np.uint8)
        out = np.empty(self.size, dtype=np.float64)
        for positions, indices, dtype in self._groups:
            out[positions] = wire[indices].view(dtype).ravel()
        return out
