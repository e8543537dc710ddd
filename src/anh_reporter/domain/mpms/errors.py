"""Errors of the measurement math: each names the argument, the value and the limit."""

from __future__ import annotations

from decimal import Decimal

from anh_reporter.errors import AnhError

__all__ = ["ConvergenceError", "MeasurementError", "OutOfRangeError"]


class MeasurementError(AnhError, ValueError):
    """A measurement calculation cannot be done with the inputs given."""


def _show(value: float | Decimal) -> str:
    # Decimals print as written (12.5, not Decimal('12.5')); floats keep their repr.
    return str(value) if isinstance(value, Decimal) else repr(value)


class OutOfRangeError(MeasurementError):
    """An input lies outside the range over which the standard (or a table) is defined."""

    def __init__(
        self,
        field: str,
        value: float | Decimal,
        low: float | Decimal,
        high: float | Decimal,
        *,
        scope: str,
        unit: str = "",
        detail: str = "",
    ) -> None:
        self.field = field
        self.value = value
        self.low = low
        self.high = high
        unit_suffix = f" {unit}" if unit else ""
        message = (
            f"{field} {_show(value)}{unit_suffix} is outside the {scope} range "
            f"[{_show(low)}, {_show(high)}]{unit_suffix}"
        )
        super().__init__(f"{message} {detail}".rstrip())


class ConvergenceError(MeasurementError):
    """The 11.1.6.2 iteration did not converge within the standard's iteration limit."""
