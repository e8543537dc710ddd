"""Canonical JSON: one byte sequence per document."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from anh_reporter.reports.canonical import (
    NotCanonicalError,
    canonical_bytes,
    is_canonical,
    parse,
)


def test_sorted_keys_no_whitespace_utf8() -> None:
    doc = {"b": [1, 2, {"z": None, "a": True}], "a": "Caño Dulce", "é": False}
    assert canonical_bytes(doc) == (
        '{"a":"Caño Dulce","b":[1,2,{"a":true,"z":null}],"é":false}'.encode()
    )


def test_decimals_keep_their_scale_and_never_use_exponents() -> None:
    doc = {
        "a": Decimal("1.50"),
        "b": Decimal("-0.00"),
        "c": Decimal("1E+3"),
        "d": Decimal("0.00001"),
        "e": 7,
        "f": -3,
    }
    assert canonical_bytes(doc) == b'{"a":1.50,"b":0.00,"c":1000,"d":0.00001,"e":7,"f":-3}'


def test_tiny_and_zero_decimals_are_written_in_plain_notation() -> None:
    doc = {
        "a": Decimal("0.0000001"),  # str() would give 1E-7
        "b": Decimal("-0E-7"),
        "c": Decimal("-0.00000012"),
        "d": Decimal("12E+2"),
        "e": Decimal("-5.10"),
    }
    assert canonical_bytes(doc) == (
        b'{"a":0.0000001,"b":0.0000000,"c":-0.00000012,"d":1200,"e":-5.10}'
    )


def test_every_decimal_is_written_with_exactly_its_own_digits() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        digits = str(rng.randrange(10 ** rng.randrange(1, 12)))
        sign = rng.choice(["", "-"])
        value = Decimal(f"{sign}{digits}E{rng.randrange(-12, 6)}")
        text = canonical_bytes(value).decode()
        # Plain notation whose value is exactly the Decimal's, with its scale kept.
        assert "E" not in text and "e" not in text
        assert Decimal(text) == value and not (value.is_zero() and text.startswith("-"))
        assert Decimal(text).as_tuple().exponent == min(value.as_tuple().exponent, 0)


def test_control_characters_and_quotes_are_escaped() -> None:
    assert canonical_bytes({"s": 'a"b\\c\n\t\x01'}) == b'{"s":"a\\"b\\\\c\\n\\t\\u0001"}'


@pytest.mark.parametrize("bad", [1.5, Decimal("NaN"), Decimal("Infinity"), {1, 2}])
def test_values_without_a_canonical_form_are_refused(bad: object) -> None:
    with pytest.raises(NotCanonicalError):
        canonical_bytes({"x": [bad]})


def test_round_trip_is_exact() -> None:
    data = canonical_bytes({"v": Decimal("983.10"), "w": [Decimal("0.98210"), 3], "t": "x"})
    parsed = parse(data)
    assert parsed["v"] == Decimal("983.10") and str(parsed["v"]) == "983.10"
    assert canonical_bytes(parsed) == data
    assert is_canonical(data)


def test_non_canonical_inputs_are_recognised() -> None:
    assert not is_canonical(b'{"b":1,"a":2}')
    assert not is_canonical(b'{"a": 2}')
    assert not is_canonical(b'{"a":1e3}')
    assert not is_canonical(b'{"a":1,"a":1}')
    assert not is_canonical(b'{"a":NaN}')
    assert not is_canonical(b"\xff")
