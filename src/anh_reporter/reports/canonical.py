"""Canonical JSON: one byte sequence per document, so that a hash and a signature mean something.

The form (close to RFC 8785, with fixed-point numbers instead of ECMAScript doubles):

* **Encoding**: UTF-8, no byte order mark. Non-ASCII characters are written as themselves.
* **Whitespace**: none outside strings; separators are ``,`` and ``:``; no trailing newline.
* **Objects**: keys sorted by Unicode code point; no duplicate keys.
* **Strings**: ``"`` and ``\\`` are escaped; control characters U+0000-U+001F as ``\\b \\f
  \\n \\r \\t`` or ``\\u00xx`` (lowercase hex); every other character as itself.
* **Numbers**: integers in decimal digits, no sign for zero, no leading zeros. Every
  non-integer is a :class:`~decimal.Decimal` written in plain notation (never an exponent) with
  exactly the decimals of its quantum: ``1.50`` stays ``1.50``, ``-0.00`` becomes ``0.00``. The
  report model quantizes each figure to its reporting increment (volumes 0.01, factors 0.00001,
  ...), so a figure always has the same number of decimals. Binary floats are refused: their
  shortest form depends on the producer, and a float is never a reported figure.
* **Literals**: ``true``, ``false``, ``null``; NaN and infinities are refused.

:func:`parse` reads a document back with every non-integer as a ``Decimal`` carrying its written
scale, so ``canonical_bytes(parse(data)) == data`` holds exactly for canonical ``data``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS


class NotCanonicalError(ValueError):
    """A value that has no canonical form (a float, NaN, an unknown type)."""


_DIGITS = frozenset("0123456789")


def _default(value: Any) -> Any:
    """Called by orjson for each Decimal (it has no native form): the plain-notation number."""
    if type(value) is Decimal:
        # str() is three times cheaper than format(value, "f"), and writes the same text when it
        # starts with a digit (finite, no minus sign: no -0 to mend) and chose no exponent.
        text = str(value)
        if text[0] in _DIGITS and "E" not in text:
            return orjson.Fragment(text)
    if isinstance(value, Decimal) and value.is_finite():
        if value.is_zero():
            value = value.copy_abs()
        text = str(value)
        return orjson.Fragment(format(value, "f") if "E" in text else text)
    if isinstance(value, Decimal):
        raise NotCanonicalError(f"{value} has no JSON form")
    raise NotCanonicalError(f"{type(value).__name__} {value!r} has no canonical JSON form")


def _check(value: Any) -> None:
    """Refuse floats anywhere (orjson would write them without asking ``_default``)."""
    if isinstance(value, dict):
        for item in value.values():
            _check(item)
    elif isinstance(value, list):
        for item in value:
            _check(item)
    elif isinstance(value, float):
        raise NotCanonicalError(
            f"float {value!r} in a canonical document: quantize it to a Decimal first"
        )


def canonical_bytes(document: Any, *, check: bool = True) -> bytes:
    """The canonical UTF-8 bytes of ``document`` (dicts, lists, str, int, Decimal, bool, None).

    ``check=False`` skips the walk that refuses binary floats, for documents known to hold none
    (a profile's output).
    """
    if check:
        _check(document)
    try:
        return orjson.dumps(document, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        cause = exc.__cause__
        if isinstance(cause, NotCanonicalError):
            raise cause from None
        raise NotCanonicalError(str(exc)) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a canonical document")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def parse(data: bytes) -> Any:
    """Read JSON with non-integers as Decimals (keeping their scale); refuse NaN and duplicates."""
    return json.loads(
        data.decode("utf-8"),
        parse_float=Decimal,
        parse_constant=_no_constant,
        object_pairs_hook=_no_duplicates,
    )


def is_canonical(data: bytes) -> bool:
    """True when ``data`` is exactly the canonical form of the document it holds."""
    try:
        return canonical_bytes(parse(data)) == data
    except (ValueError, UnicodeDecodeError):
        return False
