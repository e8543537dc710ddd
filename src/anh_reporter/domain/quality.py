"""OPC UA status codes as stored: one signed 32-bit integer per reading, Good = 0.

OPC UA codes are unsigned 32-bit; the severity is in the top two bits (00 Good, 01 Uncertain,
10 Bad). The database column is ``int4``, so a code is stored as its two's-complement bit
pattern: Bad codes are negative, Uncertain codes are >= 2**30, Good codes are in [0, 2**30).
OPC DA's 192 ("Good" in DA) is not an OPC UA code; connectors convert it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

GOOD = 0x00000000
UNCERTAIN = 0x40000000
BAD = 0x80000000
BAD_COMMUNICATION_FAILURE = 0x80050000
BAD_NO_COMMUNICATION = 0x80310000
BAD_TIMEOUT = 0x800A0000
UNCERTAIN_LAST_USABLE_VALUE = 0x40900000

SEVERITY_MASK = 0xC0000000
GOOD_STORED_UPPER = 1 << 30
"""A stored (signed) code is Good iff 0 <= code < GOOD_STORED_UPPER (used in SQL too)."""


def is_good(code: int) -> bool:
    """True for an OPC UA Good-family status code (unsigned form)."""
    return (code & SEVERITY_MASK) == 0


def good_mask(codes: npt.NDArray[np.uint32]) -> npt.NDArray[np.bool_]:
    """Vectorised :func:`is_good` over unsigned codes."""
    return np.asarray((codes & np.uint32(SEVERITY_MASK)) == 0)


def to_stored(codes: npt.NDArray[np.uint32]) -> npt.NDArray[np.int32]:
    """Reinterpret unsigned codes as the signed ``int4`` the database stores (no copy)."""
    return codes.view(np.int32)


def from_stored(codes: npt.NDArray[np.int32]) -> npt.NDArray[np.uint32]:
    """Inverse of :func:`to_stored`."""
    return codes.view(np.uint32)


def from_opc_da(quality: int) -> int:
    """Map an OPC DA quality byte (192 = Good) to an OPC UA status code."""
    severity = quality & 0xC0
    if severity == 0xC0:
        return GOOD
    if severity == 0x40:
        return UNCERTAIN
    return BAD
