"""API MPMS 12.2 volume sequence of a meter run or a day: IV → GOV → GSV → NSV.

Computed in :class:`~decimal.Decimal` and rounded half up at each step, at the discrimination
levels of a :class:`VolumeRounding`:

    GOV = IV × MF,  GSV = GOV × CTPL,  NSV = GSV × CSW,  CSW = 1 − BSW/100.

This is the daily-figure path (CTPL at 5 decimals, as 11.1-2004 reports it). The measurement
ticket of API MPMS 12.2.2, with its combined correction factor CCF = CTL × CPL × MF and its own
discrimination levels, is :func:`~anh_reporter.domain.mpms.ticket.meter_ticket`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from anh_reporter.domain.mpms.errors import MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.rounding import Number, round_half_up, to_decimal

__all__ = [
    "BBL_ROUNDING",
    "M3_ROUNDING",
    "VolumeRounding",
    "Volumes",
    "correction_for_sediment_and_water",
    "gross_observed_volume",
    "gross_standard_volume",
    "liquid_volumes",
    "net_standard_volume",
]


@dataclass(frozen=True)
class VolumeRounding:
    """Discrimination levels for the 12.2 volume sequence; each step is rounded half up.

    Defaults: volumes to 0.01 bbl, meter factor to 4 decimals, CTPL and CSW to 5 decimals
    (5 decimals being the 11.1-2004 increment for correction factors). API MPMS 12.2 lets the
    contract or the measurement ticket fix the volume discrimination, so these are settings.
    IV and MF are taken to their level before use; each product is rounded before the next.
    """

    volume: Decimal = Decimal("0.01")
    meter_factor: Decimal = Decimal("0.0001")
    correction_factor: Decimal = Decimal("0.00001")


BBL_ROUNDING = VolumeRounding()
"""Volumes in barrels, to 0.01 bbl."""

M3_ROUNDING = VolumeRounding(volume=Decimal("0.001"))
"""Volumes in cubic metres, to 0.001 m³."""


def gross_observed_volume(
    indicated_volume: Number,
    meter_factor: Number,
    rounding: VolumeRounding = BBL_ROUNDING,
) -> Decimal:
    """GOV = IV × MF, with IV and MF at their discrimination and the product rounded."""
    iv = round_half_up(indicated_volume, rounding.volume)
    mf = round_half_up(meter_factor, rounding.meter_factor)
    if iv < 0:
        raise OutOfRangeError(
            "indicated volume", to_decimal(indicated_volume), 0.0, math.inf, scope="API MPMS 12.2"
        )
    if mf <= 0:
        raise MeasurementError(f"meter factor {mf} must be positive")
    return round_half_up(iv * mf, rounding.volume)


def gross_standard_volume(
    gov: Number,
    ctpl: Decimal | float,
    rounding: VolumeRounding = BBL_ROUNDING,
) -> Decimal:
    """GSV = GOV × CTPL, CTPL at 5 decimals (pass ``Correction.ctpl_rounded``)."""
    factor = round_half_up(ctpl, rounding.correction_factor)
    if factor <= 0:
        raise MeasurementError(f"CTPL {factor} must be positive")
    return round_half_up(round_half_up(gov, rounding.volume) * factor, rounding.volume)


def net_standard_volume(
    gsv: Number,
    bsw_percent: Number,
    rounding: VolumeRounding = BBL_ROUNDING,
) -> Decimal:
    """NSV = GSV × CSW with CSW = 1 − BSW/100 (BSW = sediment and water, volume %)."""
    return round_half_up(
        round_half_up(gsv, rounding.volume)
        * correction_for_sediment_and_water(bsw_percent, rounding.correction_factor),
        rounding.volume,
    )


def correction_for_sediment_and_water(bsw_percent: Number, quantum: Decimal | None) -> Decimal:
    """CSW = 1 − BSW/100 (BSW in volume %), rounded half up to ``quantum`` when one is given."""
    bsw = to_decimal(bsw_percent)
    if not Decimal(0) <= bsw < Decimal(100):
        raise OutOfRangeError(
            "BSW",
            bsw,
            Decimal(0),
            Decimal(100),
            scope="sediment and water",
            unit="%",
            detail="(it must be below 100 %)",
        )
    csw = 1 - bsw / 100
    return csw if quantum is None else round_half_up(csw, quantum)


@dataclass(frozen=True)
class Volumes:
    """The API MPMS 12.2 volume sequence of one meter run or one day."""

    indicated_volume: Decimal
    meter_factor: Decimal
    gross_observed_volume: Decimal
    ctpl: Decimal
    gross_standard_volume: Decimal
    bsw_percent: Decimal
    csw: Decimal
    net_standard_volume: Decimal


def liquid_volumes(
    *,
    indicated_volume: Number,
    meter_factor: Number,
    ctpl: Decimal | float,
    bsw_percent: Number,
    rounding: VolumeRounding = BBL_ROUNDING,
) -> Volumes:
    """IV → GOV → GSV → NSV in the order of API MPMS 12.2, each step rounded half up.

    ``ctpl`` is the combined correction at the meter's temperature and pressure, normally
    ``base_to_alternate(...).ctpl_rounded``.
    """
    gov = gross_observed_volume(indicated_volume, meter_factor, rounding)
    gsv = gross_standard_volume(gov, ctpl, rounding)
    nsv = net_standard_volume(gsv, bsw_percent, rounding)
    return Volumes(
        indicated_volume=round_half_up(indicated_volume, rounding.volume),
        meter_factor=round_half_up(meter_factor, rounding.meter_factor),
        gross_observed_volume=gov,
        ctpl=round_half_up(ctpl, rounding.correction_factor),
        gross_standard_volume=gsv,
        bsw_percent=to_decimal(bsw_percent),
        csw=correction_for_sediment_and_water(bsw_percent, rounding.correction_factor),
        net_standard_volume=nsv,
    )
