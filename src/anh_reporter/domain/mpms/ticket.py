"""API MPMS 12.2.2 measurement ticket: IV, MF, CTL, CPL, CCF, GSV, CSW, NSV at stated levels.

A meter ticket turns the indicated volume of a meter (closing minus opening reading) into net
standard volume in one documented sequence, each value rounded half up to its discrimination
level *before* it is used in the next step:

1. Field data: temperature to 0.1 °F, pressure to 1 psi, API gravity at 60 °F to 0.1 °API (or
   base density to 0.1 kg/m³), meter factor to 4 decimals, IV to 0.01 bbl.
2. CTL and CPL from API MPMS 11.1-2004 at the *discriminated* temperature, pressure and
   gravity, each rounded to 4 decimals.
3. CCF = CTL × CPL × MF, the combined correction factor, computed in one step from the rounded
   factors and rounded to 4 decimals (it is not CTPL × MF with CTPL rounded first).
4. GSV = IV × CCF, rounded to 0.01 bbl.
5. CSW = 1 − S&W/100 (S&W to 0.01 %), rounded to 4 decimals; NSV = GSV × CSW to 0.01 bbl.

The levels are a :class:`TicketDiscrimination`, a setting: :data:`TICKET_DISCRIMINATION` is the
discrete (ticket) method above; :data:`CONTINUOUS_DISCRIMINATION` is the continuous method of
API MPMS 12.2 (2021), which removes the rounding of inputs and intermediates and rounds only the
reported volumes. ``docs/measurement.md`` says where each level comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from anh_reporter.domain.mpms.ctpl import Correction, base_to_alternate
from anh_reporter.domain.mpms.errors import MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.properties import Commodity
from anh_reporter.domain.mpms.rounding import Number, round_half_up, round_optional, to_decimal
from anh_reporter.domain.mpms.volumes import correction_for_sediment_and_water

__all__ = [
    "CONTINUOUS_DISCRIMINATION",
    "TICKET_DISCRIMINATION",
    "MeterTicket",
    "TicketDiscrimination",
    "TicketVolumes",
    "indicated_volume_from_readings",
    "meter_ticket",
    "ticket_volumes",
]


@dataclass(frozen=True)
class TicketDiscrimination:
    """Discrimination level of every input and intermediate of a ticket; ``None``: unrounded.

    Each value is rounded half up to its level before it is used. Volumes (IV, GOV, GSV, NSV,
    S&W) are always reported at ``volume``; ``round_intermediate_volumes`` says whether the
    rounded GSV (discrete method) or the exact one (continuous method) gives NSV.
    """

    temperature_f: Decimal | None = Decimal("0.1")
    pressure_psig: Decimal | None = Decimal("1")
    api_gravity: Decimal | None = Decimal("0.1")
    density_kg_m3: Decimal | None = Decimal("0.1")
    meter_factor: Decimal | None = Decimal("0.0001")
    ctl: Decimal | None = Decimal("0.0001")
    cpl: Decimal | None = Decimal("0.0001")
    ccf: Decimal | None = Decimal("0.0001")
    bsw_percent: Decimal | None = Decimal("0.01")
    csw: Decimal | None = Decimal("0.0001")
    volume: Decimal = Decimal("0.01")
    round_intermediate_volumes: bool = True


TICKET_DISCRIMINATION = TicketDiscrimination()
"""The discrete (measurement ticket) method: every level of the module docstring."""

CONTINUOUS_DISCRIMINATION = TicketDiscrimination(
    temperature_f=None,
    pressure_psig=None,
    api_gravity=None,
    density_kg_m3=None,
    meter_factor=None,
    ctl=None,
    cpl=None,
    ccf=None,
    bsw_percent=None,
    csw=None,
    round_intermediate_volumes=False,
)
"""The continuous method: nothing rounded but the reported volumes (to 0.01 bbl)."""


@dataclass(frozen=True)
class TicketVolumes:
    """The arithmetic of a ticket, every value as used (at its discrimination level)."""

    indicated_volume: Decimal
    meter_factor: Decimal
    ctl: Decimal
    cpl: Decimal
    ccf: Decimal
    """Combined correction factor CTL × CPL × MF."""
    gross_observed_volume: Decimal
    """IV × MF, shown for reference: GSV comes from IV × CCF, not from GOV × CTPL."""
    gross_standard_volume: Decimal
    bsw_percent: Decimal
    csw: Decimal
    net_standard_volume: Decimal
    sediment_and_water_volume: Decimal
    """GSV − NSV."""


@dataclass(frozen=True)
class MeterTicket:
    """A measurement ticket: the conditions as discriminated, the 11.1 factors, the volumes."""

    commodity: Commodity
    temperature_f: Decimal
    pressure_psig: Decimal
    api60: Decimal | None
    """API gravity at 60 °F as used; ``None`` when the base density was given in kg/m³."""
    rho60: Decimal | None
    """Base density in kg/m³ as used; ``None`` when API gravity was given."""
    correction: Correction
    """The unrounded 11.1-2004 factors at the discriminated conditions."""
    volumes: TicketVolumes
    discrimination: TicketDiscrimination


def indicated_volume_from_readings(opening_reading: Number, closing_reading: Number) -> Decimal:
    """IV = closing − opening meter reading (non-resettable totalizer), exact.

    A rollover or a reset between the readings is the caller's to resolve first; a closing
    reading below the opening one is refused.
    """
    opening, closing = to_decimal(opening_reading), to_decimal(closing_reading)
    if closing < opening:
        raise OutOfRangeError(
            "closing meter reading",
            closing,
            opening,
            math.inf,
            scope="meter ticket",
            unit="bbl",
            detail="(it must not be below the opening reading; resolve a rollover or reset first)",
        )
    return closing - opening


def ticket_volumes(
    *,
    indicated_volume: Number,
    meter_factor: Number,
    ctl: Number,
    cpl: Number,
    bsw_percent: Number,
    discrimination: TicketDiscrimination = TICKET_DISCRIMINATION,
) -> TicketVolumes:
    """Steps 2-5 of a ticket from given factors: CCF, GSV, CSW, NSV at their levels.

    ``ctl`` and ``cpl`` are taken unrounded (e.g. ``Correction.ctl``) and rounded here to the
    ticket's level; pass factors a flow computer printed as they are.
    """
    level = discrimination
    iv_exact = to_decimal(indicated_volume)
    if iv_exact < 0:
        raise OutOfRangeError("indicated volume", iv_exact, 0, math.inf, scope="meter ticket")
    iv = round_optional(iv_exact, level.volume if level.round_intermediate_volumes else None)
    mf = round_optional(meter_factor, level.meter_factor)
    ctl_used = round_optional(ctl, level.ctl)
    cpl_used = round_optional(cpl, level.cpl)
    for name, factor in (("meter factor", mf), ("CTL", ctl_used), ("CPL", cpl_used)):
        if factor <= 0:
            raise MeasurementError(f"{name} {factor} must be positive")
    ccf = round_optional(ctl_used * cpl_used * mf, level.ccf)
    bsw = round_optional(bsw_percent, level.bsw_percent)
    csw = correction_for_sediment_and_water(bsw, level.csw)
    gsv_exact = iv * ccf
    if level.round_intermediate_volumes:
        gsv_exact = round_half_up(gsv_exact, level.volume)
    nsv_exact = gsv_exact * csw
    gsv = round_half_up(gsv_exact, level.volume)
    nsv = round_half_up(nsv_exact, level.volume)
    # Discrete: the ticket balances, S&W = GSV − NSV as printed. Continuous: nothing rounded on
    # the way, so the S&W volume is rounded from the exact difference.
    if level.round_intermediate_volumes:
        sw = gsv - nsv
    else:
        sw = round_half_up(gsv_exact - nsv_exact, level.volume)
    return TicketVolumes(
        indicated_volume=round_half_up(iv, level.volume),
        meter_factor=mf,
        ctl=ctl_used,
        cpl=cpl_used,
        ccf=ccf,
        gross_observed_volume=round_half_up(iv * mf, level.volume),
        gross_standard_volume=gsv,
        bsw_percent=bsw,
        csw=csw,
        net_standard_volume=nsv,
        sediment_and_water_volume=sw,
    )


def meter_ticket(
    *,
    indicated_volume: Number,
    meter_factor: Number,
    temperature_f: Number,
    pressure_psig: Number,
    bsw_percent: Number,
    api60: Number | None = None,
    rho60: Number | None = None,
    commodity: Commodity = Commodity.CRUDE_OIL,
    equilibrium_pressure_psig: float = 0.0,
    composite_meter_factor: bool = False,
    discrimination: TicketDiscrimination = TICKET_DISCRIMINATION,
) -> MeterTicket:
    """The full ticket: discriminate the field data, CTL and CPL by 11.1-2004, then the volumes.

    Give the base gravity as ``api60`` (°API at 60 °F) or ``rho60`` (kg/m³ at 60 °F); convert an
    observed gravity first (:func:`~anh_reporter.domain.mpms.gravity.gravity_at_base`). The
    pressure is the meter's gauge pressure; below 0 psig CPL is 1, as 11.1-2004 corrects it.
    With ``composite_meter_factor`` the meter factor already includes the pressure correction
    (a composite factor, proved at the operating pressure): CPL is taken as 1, not applied twice.
    """
    if (api60 is None) == (rho60 is None):
        raise MeasurementError("give exactly one of api60 (°API) or rho60 (kg/m³)")
    level = discrimination
    temperature = round_optional(temperature_f, level.temperature_f)
    pressure = round_optional(pressure_psig, level.pressure_psig)
    api = None if api60 is None else round_optional(api60, level.api_gravity)
    rho = None if rho60 is None else round_optional(rho60, level.density_kg_m3)
    correction = base_to_alternate(
        commodity=commodity,
        temperature_f=float(temperature),
        pressure_psig=float(pressure),
        api60=None if api is None else float(api),
        rho60=None if rho is None else float(rho),
        equilibrium_pressure_psig=equilibrium_pressure_psig,
    )
    volumes = ticket_volumes(
        indicated_volume=indicated_volume,
        meter_factor=meter_factor,
        ctl=correction.ctl,
        cpl=1 if composite_meter_factor else correction.cpl,
        bsw_percent=bsw_percent,
        discrimination=level,
    )
    return MeterTicket(
        commodity=commodity,
        temperature_f=temperature,
        pressure_psig=pressure,
        api60=api,
        rho60=rho,
        correction=correction,
        volumes=volumes,
        discrimination=level,
    )
