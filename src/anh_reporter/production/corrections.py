"""From the day's volume to net standard volume, by fluid and by the level the volume is at.

* **Oil** follows the API MPMS 12.2.2 measurement ticket: temperature, pressure and API gravity
  at their discrimination levels; CTL and CPL by API MPMS 11.1-2004 at the custody conditions;
  CCF = CTL × CPL × MF; GSV = IV × CCF; NSV = GSV × CSW. A manual volume entered as GOV gets
  CTL and CPL only, a GSV only CSW, an NSV nothing: no factor is applied twice.
* **Water** is corrected to 60 °F with the density of water (see ``docs/measurement.md``):
  GSV = GOV × CTLw, at the custody temperature; without a temperature it is reported as observed
  volume with a warning.
* **Gas** comes from the flow computer at its base conditions. When they differ from the
  field's reporting base the volume is converted (ideal-gas pressure and temperature ratio) and
  the method is stated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from anh_reporter.domain import mpms
from anh_reporter.production.custody import Properties
from anh_reporter.production.inputs import GasBases, Issue, Level, PmoInputs, ProductionSettings

ONE = Decimal(1)


@dataclass(frozen=True)
class Corrections:
    """The 12.2 sequence of the day as used; ``None`` where a figure could not be made."""

    indicated_volume: Decimal | None = None
    meter_factor: Decimal | None = None
    gross_observed_volume: Decimal | None = None
    ctl: Decimal | None = None
    cpl: Decimal | None = None
    ccf: Decimal | None = None
    gross_standard_volume: Decimal | None = None
    csw: Decimal | None = None
    net_standard_volume: Decimal | None = None
    water_method: str | None = None
    gas_base_pressure_psia: Decimal | None = None
    gas_base_temperature_f: Decimal | None = None
    gas_conversion: str | None = None
    """How a gas volume was brought to the reporting base (``None``: already on it)."""


def correct(
    inputs: PmoInputs,
    volume: Decimal | None,
    level: Level | None,
    props: Properties,
    settings: ProductionSettings,
    issues: list[Issue],
    tank: Mapping[str, Any] | None = None,
) -> Corrections:
    """The day's corrected volumes for ``volume`` at ``level`` (see the module docstring).

    ``tank``: the details of a tank gauging (level ``tank``), which carry their own 12.1.1
    corrections (CTSh, CTL at the tank temperature, CSW): no meter factor applies.
    """
    mf = Decimal(repr(inputs.meter_factor))
    if volume is None or level is None:
        return Corrections(meter_factor=mpms.round_half_up(mf, settings.rounding.meter_factor))
    if volume < 0:
        issues.append(Issue("volume_invalid", f"{inputs.code}: volume {volume} is negative"))
        return Corrections()
    if level == "tank":
        return _tank(inputs.code, volume, tank or {}, issues)
    if inputs.fluid == "oil":
        return _oil(inputs.code, volume, level, mf, props, settings, issues)
    if inputs.fluid == "water":
        return _water(inputs.code, volume, level, mf, props, settings, issues)
    return _gas(inputs.code, volume, level, mf, inputs.gas_bases, settings, issues)


def _tank(
    code: str, volume: Decimal, details: Mapping[str, Any], issues: list[Issue]
) -> Corrections:
    try:
        gov = Decimal(str(details["gross_observed_volume"]))
        gsv = Decimal(str(details["gross_standard_volume"]))
        nsv = Decimal(str(details["net_standard_volume"]))
    except (KeyError, ArithmeticError):
        issues.append(
            Issue("tank_gauging_incomplete", f"{code}: the tank gauging lacks its 12.1.1 figures")
        )
        return Corrections(net_standard_volume=volume)
    return Corrections(
        gross_observed_volume=gov, gross_standard_volume=gsv, net_standard_volume=nsv
    )


def _oil(
    code: str,
    volume: Decimal,
    level: Level,
    mf: Decimal,
    props: Properties,
    settings: ProductionSettings,
    issues: list[Issue],
) -> Corrections:
    q = settings.rounding.volume
    bsw = props.bsw_percent.value
    if level == "nsv":
        nsv = mpms.round_half_up(volume, q)
        if bsw is None:
            issues.append(
                Issue("bsw_missing", f"{code}: no BSW for the day: NSV as entered, no GSV")
            )
            return Corrections(net_standard_volume=nsv)
        # The gross volume the net one came from (API MPMS 12.2: NSV = GSV × CSW).
        bsw_used = mpms.round_half_up(bsw, settings.bsw_increment)
        csw = mpms.correction_for_sediment_and_water(bsw_used, mpms.TICKET_DISCRIMINATION.csw)
        gsv = mpms.round_half_up(volume / csw, q)
        return Corrections(gross_standard_volume=gsv, csw=csw, net_standard_volume=nsv)
    if level == "gsv":
        gsv = mpms.round_half_up(volume, q)
        return _net(code, Corrections(gross_standard_volume=gsv), gsv, bsw, settings, issues)
    # Indicated volume, or a GOV (indicated volume whose meter factor is already applied).
    meter_factor = mf if level == "indicated" else ONE
    temperature, api = props.temperature_f.value, props.api60.value
    if temperature is None or api is None:
        missing = " and ".join(
            n for n, v in (("temperature", temperature), ("API gravity at 60 °F", api)) if v is None
        )
        issues.append(Issue("ctl_missing", f"{code}: no {missing} for the day: no CTL, no GSV"))
        gov = mpms.round_half_up(volume * meter_factor, q)
        return Corrections(
            indicated_volume=mpms.round_half_up(volume, q) if level == "indicated" else None,
            meter_factor=meter_factor if level == "indicated" else None,
            gross_observed_volume=gov,
        )
    pressure = props.pressure_psig.value
    if pressure is None:
        issues.append(Issue("pressure_missing", f"{code}: no pressure for the day: CPL taken as 1"))
    if bsw is None:
        issues.append(Issue("bsw_missing", f"{code}: no BSW for the day: no NSV"))
    try:
        ticket = mpms.meter_ticket(
            indicated_volume=volume,
            meter_factor=meter_factor,
            temperature_f=temperature,
            pressure_psig=pressure if pressure is not None else 0,
            bsw_percent=bsw if bsw is not None else 0,
            api60=api,
        )
    except mpms.MeasurementError as exc:
        issues.append(Issue("ctl_invalid", f"{code}: {exc}"))
        return Corrections(gross_observed_volume=mpms.round_half_up(volume * meter_factor, q))
    v = ticket.volumes
    return Corrections(
        indicated_volume=v.indicated_volume if level == "indicated" else None,
        meter_factor=v.meter_factor if level == "indicated" else None,
        gross_observed_volume=v.gross_observed_volume,
        ctl=v.ctl,
        cpl=v.cpl,
        ccf=v.ccf,
        gross_standard_volume=v.gross_standard_volume,
        csw=None if bsw is None else v.csw,
        net_standard_volume=None if bsw is None else v.net_standard_volume,
    )


def _net(
    code: str,
    partial: Corrections,
    gsv: Decimal,
    bsw: Decimal | None,
    settings: ProductionSettings,
    issues: list[Issue],
) -> Corrections:
    if bsw is None:
        issues.append(Issue("bsw_missing", f"{code}: no BSW for the day: no NSV"))
        return partial
    bsw_used = mpms.round_half_up(bsw, settings.bsw_increment)
    csw = mpms.correction_for_sediment_and_water(bsw_used, mpms.TICKET_DISCRIMINATION.csw)
    nsv = mpms.round_half_up(gsv * csw, settings.rounding.volume)
    return replace(partial, gross_standard_volume=gsv, csw=csw, net_standard_volume=nsv)


def _water(
    code: str,
    volume: Decimal,
    level: Level,
    mf: Decimal,
    props: Properties,
    settings: ProductionSettings,
    issues: list[Issue],
) -> Corrections:
    q = settings.rounding.volume
    if level in ("gsv", "nsv"):
        gsv = mpms.round_half_up(volume, q)
        return Corrections(gross_standard_volume=gsv, net_standard_volume=gsv)
    indicated = level == "indicated"
    volume = mpms.round_half_up(volume, q)  # API MPMS 12.2: IV to its level, then × MF
    gov = mpms.round_half_up(volume * (mf if indicated else ONE), q)
    base = Corrections(
        indicated_volume=volume if indicated else None,
        meter_factor=mpms.round_half_up(mf, settings.rounding.meter_factor) if indicated else None,
        gross_observed_volume=gov,
    )
    temperature = props.temperature_f.value
    if temperature is None:
        issues.append(
            Issue(
                "water_not_corrected",
                f"{code}: no temperature for the day: water reported as observed volume (GOV), "
                "not corrected to 60 °F",
            )
        )
        return base
    try:
        water = mpms.water_standard_volume(gov, float(temperature), rounding=settings.rounding)
    except mpms.MeasurementError as exc:
        issues.append(Issue("water_not_corrected", f"{code}: {exc}; reported as observed"))
        return base
    return replace(
        base,
        gross_standard_volume=water.gross_standard_volume,
        net_standard_volume=water.gross_standard_volume,
        water_method=f"CTLw {water.ctl} at {temperature} °F: {water.correction.method}",
    )


def _gas(
    code: str,
    volume: Decimal,
    level: Level,
    mf: Decimal,
    bases: GasBases | None,
    settings: ProductionSettings,
    issues: list[Issue],
) -> Corrections:
    q = settings.rounding.volume
    indicated = level == "indicated"
    volume = mpms.round_half_up(volume, q)  # API MPMS 12.2: IV to its level, then × MF
    gov = mpms.round_half_up(volume * (mf if indicated else ONE), q)
    kept = Corrections(
        indicated_volume=volume if indicated else None,
        meter_factor=mpms.round_half_up(mf, settings.rounding.meter_factor) if indicated else None,
        gross_observed_volume=gov,
    )
    if bases is None:
        return replace(kept, gross_standard_volume=gov, net_standard_volume=gov)
    fc, reporting = bases.flow_computer, bases.reporting
    stated = replace(
        kept,
        gas_base_pressure_psia=reporting.pressure_psia,
        gas_base_temperature_f=reporting.temperature_f,
    )
    if (fc.pressure_psia, fc.temperature_f) == (reporting.pressure_psia, reporting.temperature_f):
        return replace(stated, gross_standard_volume=gov, net_standard_volume=gov)
    try:
        converted = mpms.convert_gas_volume(gov, from_base=fc, to_base=reporting, quantum=q)
    except mpms.MeasurementError as exc:
        issues.append(Issue("gas_base_invalid", f"{code}: {exc}"))
        return kept
    return replace(
        stated,
        gross_standard_volume=converted.volume,
        net_standard_volume=converted.volume,
        gas_conversion=converted.method,
    )
