"""Vectorised Modbus decoding against register values built by hand.

Expected bit patterns (IEEE 754 / two's complement), worked out by hand and cross-checked
with ``struct``: 123.456 as float32 is 0x42F6E979, as float64 0x405EDD2F1A9FBE77;
-123456789 as int32 is 0xF8A432EB; 4000000000 as uint32 is 0xEE6B2800; -12345 as int16 is
0xCFC7. Each byte order lays those bytes out as Telegraf documents: ABCD as is, CDAB words
swapped, BADC bytes swapped in each word, DCBA both.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from anh_reporter.connectors.modbus.decode import (
    BlockDecoder,
    byte_positions,
)

F32 = 123.45600128173828  # the float32 nearest to 123.456, i.e. 0x42F6E979 exactly

CASES = [
    # data type, byte order, registers, expected value
    ("float32", "ABCD", [0x42F6, 0xE979], F32),
    ("float32", "CDAB", [0xE979, 0x42F6], F32),
    ("float32", "BADC", [0xF642, 0x79E9], F32),
    ("float32", "DCBA", [0x79E9, 0xF642], F32),
    ("float64", "ABCD", [0x405E, 0xDD2F, 0x1A9F, 0xBE77], 123.456),
    ("float64", "CDAB", [0xBE77, 0x1A9F, 0xDD2F, 0x405E], 123.456),
    ("float64", "BADC", [0x5E40, 0x2FDD, 0x9F1A, 0x77BE], 123.456),
    ("float64", "DCBA", [0x77BE, 0x9F1A, 0x2FDD, 0x5E40], 123.456),
    ("int32", "ABCD", [0xF8A4, 0x32EB], -123456789),
    ("int32", "CDAB", [0x32EB, 0xF8A4], -123456789),
    ("int32", "BADC", [0xA4F8, 0xEB32], -123456789),
    ("int32", "DCBA", [0xEB32, 0xA4F8], -123456789),
    ("uint32", "ABCD", [0xEE6B, 0x2800], 4_000_000_000),
    ("uint32", "CDAB", [0x2800, 0xEE6B], 4_000_000_000),
    ("uint32", "BADC", [0x6BEE, 0x0028], 4_000_000_000),
    ("uint32", "DCBA", [0x0028, 0x6BEE], 4_000_000_000),
    ("int16", "ABCD", [0xCFC7], -12345),
    ("int16", "CDAB", [0xCFC7], -12345),
    ("int16", "BADC", [0xC7CF], -12345),
    ("int16", "DCBA", [0xC7CF], -12345),
    ("uint16", "ABCD", [0xABCD], 43981),
    ("uint16", "CDAB", [0xABCD], 43981),
    ("uint16", "BADC", [0xCDAB], 43981),
    ("uint16", "DCBA", [0xCDAB], 43981),
]


@pytest.mark.parametrize(("data_type", "byte_order", "registers", "expected"), CASES)
def test_every_type_and_byte_order(
    data_type: str, byte_order: str, registers: list[int], expected: float
) -> None:
    decoder = BlockDecoder([(0, data_type, byte_order)], len(registers))  # type: ignore[list-item]
    assert decoder.decode(registers).tolist() == [expected]


def test_a_whole_block_decodes_at_once_with_holes_and_mixed_orders() -> None:
    # One read of 12 registers: float32 ABCD @0, int16 BADC @2, (hole @3),
    # float64 DCBA @4..7, uint32 CDAB @8..9, float32 CDAB @10..11.
    registers = [
        0x42F6, 0xE979,
        0xC7CF,
        0xFFFF,
        0x77BE, 0x9F1A, 0x2FDD, 0x5E40,
        0x2800, 0xEE6B,
        0x0000, 0xBF00,  # -0.5 = 0xBF000000, words swapped
    ]  # fmt: skip
    decoder = BlockDecoder(
        [
            (0, "float32", "ABCD"),
            (2, "int16", "BADC"),
            (4, "float64", "DCBA"),
            (8, "uint32", "CDAB"),
            (10, "float32", "CDAB"),
        ],
        12,
    )
    assert decoder.decode(np.array(registers, dtype=np.uint16)).tolist() == [
        F32,
        -12345,
        123.456,
        4_000_000_000,
        -0.5,
    ]


def test_the_same_register_read_twice_as_different_types() -> None:
    decoder = BlockDecoder([(0, "uint16", "ABCD"), (0, "int16", "ABCD")], 1)
    assert decoder.decode([0xFFFF]).tolist() == [65535, -1]


def test_nan_and_infinity_pass_through() -> None:
    decoder = BlockDecoder([(0, "float32", "ABCD"), (2, "float32", "ABCD")], 4)
    nan, inf = decoder.decode([0x7FC0, 0x0000, 0xFF80, 0x0000])
    assert math.isnan(nan)
    assert inf == -math.inf


def test_wrong_register_count_and_out_of_block_fields_are_refused() -> None:
    decoder = BlockDecoder([(0, "float32", "ABCD")], 2)
    with pytest.raises(ValueError, match="expected 2 registers, got 3"):
        decoder.decode([1, 2, 3])
    with pytest.raises(ValueError, match="offset 1 does not fit a block of 2"):
        BlockDecoder([(1, "float32", "ABCD")], 2)


def test_byte_positions_follow_telegraf() -> None:
    # Wire offsets of bytes A, B, C, D (most significant first).
    assert byte_positions(2, "ABCD") == [0, 1, 2, 3]
    assert byte_positions(2, "CDAB") == [2, 3, 0, 1]
    assert byte_positions(2, "BADC") == [1, 0, 3, 2]
    assert byte_positions(2, "DCBA") == [3, 2, 1, 0]
    # 64-bit CDAB is GHEFCDAB on the wire: A sits at offset 6.
    assert byte_positions(4, "CDAB") == [6, 7, 4, 5, 2, 3, 0, 1]
