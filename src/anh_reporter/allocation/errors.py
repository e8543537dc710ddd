"""The one error of the allocation package, and the checks that raise it with a clear message."""

from __future__ import annotations

from decimal import Decimal

from anh_reporter.domain.mpms import MeasurementError


class AllocationError(MeasurementError):
    """Inputs the well-level computation cannot work with; the message names field, value, limit.

    A :class:`~anh_reporter.domain.mpms.MeasurementError`, so the CLI shows it as one line.
    """


def require_decimal(field: str, value: object) -> Decimal:
    """``value`` itself when it is a finite Decimal; otherwise an error naming ``field``.

    Volumes, rates and hours are Decimals so that sums are exact; a float would carry its binary
    approximation into the report, so it is refused rather than converted silently.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise AllocationError(
            f"{field} must be a Decimal (or an int), got {type(value).__name__} {value!r}"
        )
    number = Decimal(value)
    if not number.is_finite():
        raise AllocationError(f"{field} must be a finite number, got {value!r}")
    return number


def require_non_negative(field: str, value: object, unit: str = "") -> Decimal:
    """A finite Decimal >= 0, else an error naming the field, the value and the limit 0."""
    number = require_decimal(field, value)
    if number < 0:
        raise AllocationError(f"{field} {number}{_u(unit)} is negative; it must be >= 0{_u(unit)}")
    return number


def require_range(
    field: str, value: object, low: Decimal, high: Decimal, unit: str = ""
) -> Decimal:
    """A finite Decimal within ``[low, high]``, else an error naming the field, value and range."""
    number = require_decimal(field, value)
    if not low <= number <= high:
        raise AllocationError(f"{field} {number}{_u(unit)} is outside [{low}, {high}]{_u(unit)}")
    return number


def require_multiple(field: str, value: Decimal, increment: Decimal, unit: str = "") -> None:
    """``value`` must be a whole number of ``increment`` (e.g. 0.01 bbl) to be split exactly."""
    if value % increment != 0:
        raise AllocationError(
            f"{field} {value}{_u(unit)} is not a multiple of the volume increment "
            f"{increment}{_u(unit)}; round it to the increment before allocating"
        )


def require_code(field: str, value: object) -> str:
    """A non-empty code (well, PMO, facility...) without surrounding blanks."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise AllocationError(f"{field} must be a non-empty code without blanks, got {value!r}")
    return value


def _u(unit: str) -> str:
    return f" {unit}" if unit else ""
