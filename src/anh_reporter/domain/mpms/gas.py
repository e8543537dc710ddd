"""Gas volume from one set of base conditions to another (pressure psia, temperature °F).

A gas volume "at base conditions" means nothing without the base: 1,000 kscf at 14.73 psia is
more gas than 1,000 kscf at 14.65 psia. The flow computer (AGA-3/7/9 with AGA-8) reports at its
configured base; the field may report at another. The same amount of gas, n = P V / (Z R T),
occupies at the second base

    V₂ = V₁ × (P₁ / P₂) × (T₂ / T₁) × (Z₂ / Z₁),   T in °R = °F + 459.67.

Without the compressibility factors at the two bases the ideal-gas ratio (Z₂/Z₁ = 1) is used,
and the method line says so; at base conditions Z is 0.99-1.00, so the Z ratio between two
nearby bases is usually within a few parts in 10⁵ of 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from anh_reporter.domain.mpms.errors import MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.rounding import Number, round_half_up, to_decimal

__all__ = [
    "BASE_PRESSURE_RANGE_PSIA",
    "BASE_TEMPERATURE_RANGE_F",
    "RANKINE_OFFSET",
    "GasBase",
    "GasConversion",
    "convert_gas_volume",
]

RANKINE_OFFSET = Decimal("459.67")
"""°R = °F + 459.67."""

BASE_PRESSURE_RANGE_PSIA = (Decimal(10), Decimal(20))
"""Plausible base pressures (14.65, 14.696, 14.73 psia...); a kPa value typed as psia fails."""

BASE_TEMPERATURE_RANGE_F = (Decimal(32), Decimal(100))
"""Plausible base temperatures (60 °F, 15 °C = 59 °F, 20 °C = 68 °F...)."""

_Z_RANGE = (Decimal("0.9"), Decimal("1.01"))


@dataclass(frozen=True)
class GasBase:
    """Base conditions of a gas volume, with the compressibility Zb there when it is known."""

    pressure_psia: Decimal
    temperature_f: Decimal
    compressibility: Decimal | None = None

    def __post_init__(self) -> None:
        """Check the conditions against their plausible ranges (names, values, limits)."""
        for name, value, (low, high), unit in (
            ("base pressure", self.pressure_psia, BASE_PRESSURE_RANGE_PSIA, "psia"),
            ("base temperature", self.temperature_f, BASE_TEMPERATURE_RANGE_F, "°F"),
        ):
            if not low <= value <= high:
                raise OutOfRangeError(
                    name, value, low, high, scope="gas base conditions", unit=unit
                )
        z = self.compressibility
        if z is not None and not _Z_RANGE[0] <= z <= _Z_RANGE[1]:
            raise OutOfRangeError(
                "base compressibility Zb", z, *_Z_RANGE, scope="gas base conditions"
            )

    @property
    def label(self) -> str:
        """E.g. ``14.65 psia, 60 °F``: how a report states the base."""
        return f"{self.pressure_psia} psia, {self.temperature_f} °F"


@dataclass(frozen=True)
class GasConversion:
    """A gas volume converted between bases, with the factor and a one-line method statement."""

    volume: Decimal
    """The volume at ``to_base``, rounded half up to the quantum asked for."""
    from_volume: Decimal
    from_base: GasBase
    to_base: GasBase
    factor: Decimal
    """V₂ / V₁, unrounded (28 significant digits)."""
    method: str


def convert_gas_volume(
    volume: Number,
    *,
    from_base: GasBase,
    to_base: GasBase,
    quantum: Decimal = Decimal("0.001"),
) -> GasConversion:
    """V₂ = V₁ × (P₁/P₂) × (T₂/T₁) [× (Z₂/Z₁) when both Zb are given]; see the module docstring.

    ``volume`` is in any unit (kscf, m³); the result is in the same unit, rounded half up to
    ``quantum``. Giving Zb for one base only is refused: the ratio needs both.
    """
    v1 = to_decimal(volume)
    if v1 < 0:
        raise OutOfRangeError("gas volume", v1, 0, math.inf, scope="gas base conversion")
    t1 = from_base.temperature_f + RANKINE_OFFSET
    t2 = to_base.temperature_f + RANKINE_OFFSET
    factor = (from_base.pressure_psia / to_base.pressure_psia) * (t2 / t1)
    ratio = f"({from_base.pressure_psia} / {to_base.pressure_psia} psia) × ({t2} / {t1} °R)"
    z1, z2 = from_base.compressibility, to_base.compressibility
    if (z1 is None) != (z2 is None):
        raise MeasurementError(
            f"give the base compressibility Zb for both bases or for neither (from: {z1}, to: {z2})"
        )
    if z1 is not None and z2 is not None:
        factor *= z2 / z1
        method = f"real gas: V × {ratio} × ({z2} / {z1} Zb)"
    else:
        method = f"ideal gas: V × {ratio}"
    return GasConversion(
        volume=round_half_up(v1 * factor, quantum),
        from_volume=v1,
        from_base=from_base,
        to_base=to_base,
        factor=factor,
        method=f"{method}; from {from_base.label} to {to_base.label}",
    )
