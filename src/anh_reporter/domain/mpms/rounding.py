"""Decimal rounding as API MPMS chapter 12 rounds: half up, in one step, at a stated quantum."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["Number", "round_half_up", "round_optional", "to_decimal"]

Number = Decimal | float | int
"""A value the volume functions accept: floats are taken at their shortest decimal form."""


def to_decimal(value: Number) -> Decimal:
    """``value`` as a Decimal; a float is taken as written (``repr``), not as its binary value."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def round_half_up(value: Number, quantum: Decimal) -> Decimal:
    """Round half up to ``quantum`` (e.g. ``Decimal("0.00001")``), as API MPMS 12 rounds.

    A float is taken at its shortest decimal form (``repr``), so 100.005 rounds to 100.01 as
    written rather than as its binary approximation 100.00499999...
    """
    return to_decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)


def round_optional(value: Number, quantum: Decimal | None) -> Decimal:
    """:func:`round_half_up` when a discrimination level is set, else the exact value."""
    return to_decimal(value) if quantum is None else round_half_up(value, quantum)
