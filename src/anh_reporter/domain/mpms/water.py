"""Produced water corrected to 60 °F: CTLw = ρw(t) / ρw(60 °F) from the density of water.

API MPMS 11.1 covers hydrocarbons only; water warms and expands too (about 1 % between 60 and
120 °F), so a water volume measured hot is larger than the same water at 60 °F. A volume at t
times the density at t is the mass, which does not change; at 60 °F the same mass takes

    V60 = Vt × ρw(t) / ρw(60 °F) = Vt × CTLw.

ρw is the density of pure, air-free water at atmospheric pressure by G. S. Kell's formulation
(J. Chem. Eng. Data 20, 97, 1975), one of the references of API MPMS 11.4.1, valid from 0 to
150 °C (32 to 302 °F, the temperature range of 11.1-2004), temperature on IPTS-68:

    ρw = (999.83952 + 16.945176 t − 7.9870401e-3 t² − 46.170461e-6 t³ + 105.56302e-9 t⁴
          − 280.54253e-12 t⁵) / (1 + 16.879850e-3 t)   kg/m³, t in °C.

Its value at 60 °F, 999.013 kg/m³, is within 3 parts per million of the 999.016 kg/m³ that
API MPMS 11.4.1 and 11.1-2004 use. Saline produced water expands somewhat more than pure water;
where that matters, measure the water's density at the line temperature and at 60 °F and use
:func:`water_correction` with both (the ratio of the two is CTLw by definition). Pressure is not
corrected (water compressibility is about 0.03 % per 100 psi): report water from low-pressure
legs or state the pressure.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from anh_reporter.domain.mpms.errors import MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.properties import its90_to_ipts68_f
from anh_reporter.domain.mpms.rounding import Number, round_half_up
from anh_reporter.domain.mpms.volumes import BBL_ROUNDING, VolumeRounding

__all__ = [
    "WATER_TEMPERATURE_RANGE_F",
    "WaterCorrection",
    "WaterVolumes",
    "water_correction",
    "water_density",
    "water_standard_volume",
]

WATER_TEMPERATURE_RANGE_F = (32.0, 302.0)
"""Range of Kell's formulation, 0 to 150 °C, in °F."""

_KELL_NUMERATOR = (
    999.83952,
    16.945176,
    -7.9870401e-3,
    -46.170461e-6,
    105.56302e-9,
    -280.54253e-12,
)
_KELL_DENOMINATOR = 16.879850e-3


def water_density(temperature_f: float) -> float:
    """Density of pure, air-free water at 1 atm and ``temperature_f`` (ITS-90), kg/m³ (Kell)."""
    low, high = WATER_TEMPERATURE_RANGE_F
    if not low <= temperature_f <= high:
        raise OutOfRangeError(
            "water temperature", temperature_f, low, high, scope="water density (Kell)", unit="°F"
        )
    # Kell's formula is on IPTS-68; the shift is the same as 11.1-2004's (a few mK here).
    t = (its90_to_ipts68_f(temperature_f) - 32.0) / 1.8
    numerator = 0.0
    for coefficient in reversed(_KELL_NUMERATOR):
        numerator = numerator * t + coefficient
    return numerator / (1.0 + _KELL_DENOMINATOR * t)


_FACTOR_QUANTUM = Decimal("0.00001")


@dataclass(frozen=True)
class WaterCorrection:
    """CTLw of one temperature and the densities it came from."""

    temperature_f: float
    density_at_temperature: float
    """kg/m³ (pure water by Kell's formula, or the measured density)."""
    density_at_60f: float
    ctl: float
    method: str
    """One line: how CTLw was obtained, for the report."""

    @property
    def ctl_rounded(self) -> Decimal:
        """CTLw to 5 decimals, like the hydrocarbon factors."""
        return round_half_up(self.ctl, _FACTOR_QUANTUM)


def water_correction(
    temperature_f: float,
    *,
    measured_density_at_temperature: float | None = None,
    measured_density_at_60f: float | None = None,
) -> WaterCorrection:
    """CTLw at ``temperature_f``: pure water (Kell) unless both measured densities are given.

    With a laboratory's (or a densitometer's) density of the produced water at the line
    temperature and at 60 °F, CTLw is their ratio, which carries the salinity's own expansion.
    """
    measured = (measured_density_at_temperature, measured_density_at_60f)
    if measured != (None, None):
        if None in measured:
            raise MeasurementError(
                "give both measured water densities (at the line temperature and at 60 °F), "
                "or neither to use pure water"
            )
        at_t, at_60 = measured
        assert at_t is not None and at_60 is not None  # noqa: S101 - narrows for mypy: both or neither (checked above)
        for name, value in (("at temperature", at_t), ("at 60 °F", at_60)):
            if not 900.0 <= value <= 1300.0:
                raise OutOfRangeError(
                    f"measured water density {name}",
                    value,
                    900.0,
                    1300.0,
                    scope="produced water",
                    unit="kg/m³",
                )
        return WaterCorrection(
            temperature_f=temperature_f,
            density_at_temperature=at_t,
            density_at_60f=at_60,
            ctl=at_t / at_60,
            method=(f"CTLw = measured ρ({temperature_f} °F) / ρ(60 °F) = {at_t} / {at_60} kg/m³"),
        )
    at_t = water_density(temperature_f)
    at_60 = water_density(60.0)
    return WaterCorrection(
        temperature_f=temperature_f,
        density_at_temperature=at_t,
        density_at_60f=at_60,
        ctl=at_t / at_60,
        method=(
            f"CTLw = ρw({temperature_f} °F) / ρw(60 °F), pure water by Kell (1975): "
            f"{at_t:.4f} / {at_60:.4f} kg/m³"
        ),
    )


@dataclass(frozen=True)
class WaterVolumes:
    """A water volume at its measured temperature and at 60 °F."""

    gross_observed_volume: Decimal
    correction: WaterCorrection
    ctl: Decimal
    """CTLw as used (5 decimals)."""
    gross_standard_volume: Decimal
    """Water at 60 °F: GOV × CTLw."""


def water_standard_volume(
    gross_observed_volume: Number,
    temperature_f: float,
    *,
    measured_density_at_temperature: float | None = None,
    measured_density_at_60f: float | None = None,
    rounding: VolumeRounding = BBL_ROUNDING,
) -> WaterVolumes:
    """Water at 60 °F: GSVw = GOVw × CTLw, CTLw to 5 decimals, the volume to its level."""
    gov = round_half_up(gross_observed_volume, rounding.volume)
    correction = water_correction(
        temperature_f,
        measured_density_at_temperature=measured_density_at_temperature,
        measured_density_at_60f=measured_density_at_60f,
    )
    ctl = correction.ctl_rounded
    return WaterVolumes(
        gross_observed_volume=gov,
        correction=correction,
        ctl=ctl,
        gross_standard_volume=round_half_up(gov * ctl, rounding.volume),
    )
