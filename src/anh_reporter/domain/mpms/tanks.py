"""Tank gauging, API MPMS 12.1.1 (upright cylindrical tanks): gauges → TOV → GOV → GSV → NSV.

One gauging of a tank gives its net standard volume in this order, each value rounded half up
to its :class:`TankDiscrimination` level before the next step uses it:

1. TOV, total observed volume: the tank's capacity (strapping) table at the gauged level,
   linear between the table's rows (:class:`StrappingTable`).
2. FW, free water: the table at the water-cut level (or a volume given directly).
3. CTSh, correction for the temperature of the steel shell:
   TSh = TL (insulated tank) or TSh = (7 × TL + Ta) / 8 (uninsulated: 7/8 liquid, 1/8 ambient),
   to 1 °F; ΔT = TSh − the table's shell reference temperature;
   CTSh = 1 + 2 α ΔT + α² ΔT² (α: linear expansion of the shell, 6.2e-6 /°F mild steel).
4. FRA, floating-roof adjustment, when the tank has a floating roof (:class:`RoofByGravity`,
   :class:`RoofByWeight`); zero while the roof rests on its legs.
5. GOV = (TOV − FW) × CTSh + FRA.
6. CTL at the liquid temperature TL from API MPMS 11.1-2004 (atmospheric tank: CPL = 1);
   GSV = GOV × CTL.
7. CSW = 1 − S&W/100; NSV = GSV × CSW.

:func:`tank_transfer` turns an opening and a closing gauging into the volume moved.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from anh_reporter.domain.mpms.ctpl import base_to_alternate
from anh_reporter.domain.mpms.errors import MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.properties import Commodity, api_to_density, density_to_api
from anh_reporter.domain.mpms.rounding import Number, round_half_up, to_decimal
from anh_reporter.domain.mpms.volumes import correction_for_sediment_and_water

__all__ = [
    "MILD_STEEL_EXPANSION_PER_F",
    "TANK_DISCRIMINATION",
    "WATER_LB_PER_BBL_60F",
    "FloatingRoof",
    "RoofByGravity",
    "RoofByWeight",
    "StrappingTable",
    "TankDiscrimination",
    "TankShell",
    "TankTransfer",
    "TankVolumes",
    "gauge_tank",
    "roof_displacement",
    "shell_correction",
    "tank_transfer",
]

MILD_STEEL_EXPANSION_PER_F = Decimal("0.0000062")
"""Linear coefficient of thermal expansion of mild steel, 1/°F (12.1.1's shell tables)."""

WATER_LB_PER_BBL_60F = Decimal("350.162")
"""Water at 60 °F, 999.016 kg/m³ × 0.158987 m³/bbl ÷ 0.453592 kg/lb, in pounds per barrel."""

_WATER_KG_M3_60F = Decimal("999.016")


@dataclass(frozen=True)
class TankDiscrimination:
    """Rounding levels of a tank gauging (12.1.1's table of decimal places); half up."""

    temperature_f: Decimal = Decimal("0.1")
    shell_temperature_f: Decimal = Decimal("1")
    api_gravity: Decimal = Decimal("0.1")
    ctsh: Decimal = Decimal("0.00001")
    ctl: Decimal = Decimal("0.00001")
    bsw_percent: Decimal = Decimal("0.001")
    csw: Decimal = Decimal("0.00001")
    volume: Decimal = Decimal("0.01")


TANK_DISCRIMINATION = TankDiscrimination()


@dataclass(frozen=True)
class StrappingTable:
    """A tank's capacity table: gauged level → total observed volume, linear between rows."""

    tank: str
    levels: tuple[Decimal, ...]
    volumes: tuple[Decimal, ...]
    level_unit: str = "ft"
    volume_unit: str = "bbl"

    def __post_init__(self) -> None:
        """Refuse a table that cannot be interpolated: say which row is wrong and why."""
        if len(self.levels) != len(self.volumes) or len(self.levels) < 2:
            raise MeasurementError(
                f"strapping table of tank {self.tank}: needs two or more rows of level and "
                f"volume ({len(self.levels)} levels, {len(self.volumes)} volumes)"
            )
        for row in range(1, len(self.levels)):
            if self.levels[row] <= self.levels[row - 1]:
                raise MeasurementError(
                    f"strapping table of tank {self.tank}: level {self.levels[row]} "
                    f"{self.level_unit} (row {row + 1}) is not above {self.levels[row - 1]}"
                )
            if self.volumes[row] < self.volumes[row - 1]:
                raise MeasurementError(
                    f"strapping table of tank {self.tank}: volume {self.volumes[row]} "
                    f"{self.volume_unit} (row {row + 1}) is below {self.volumes[row - 1]}"
                )

    @classmethod
    def from_rows(
        cls,
        tank: str,
        rows: Iterable[tuple[Number, Number]],
        *,
        level_unit: str = "ft",
        volume_unit: str = "bbl",
    ) -> StrappingTable:
        """A table from ``(level, volume)`` rows in increasing level."""
        pairs = [(to_decimal(level), to_decimal(volume)) for level, volume in rows]
        return cls(
            tank,
            tuple(level for level, _ in pairs),
            tuple(volume for _, volume in pairs),
            level_unit,
            volume_unit,
        )

    def volume_at(self, level: Number) -> Decimal:
        """The volume at ``level``, linear between the two rows around it (unrounded)."""
        gauged = to_decimal(level)
        low, high = self.levels[0], self.levels[-1]
        if not low <= gauged <= high:
            raise OutOfRangeError(
                "level",
                gauged,
                low,
                high,
                scope=f"strapping table of tank {self.tank}",
                unit=self.level_unit,
            )
        row = bisect.bisect_left(self.levels, gauged)
        if self.levels[row] == gauged:
            return self.volumes[row]
        l0, l1 = self.levels[row - 1], self.levels[row]
        v0, v1 = self.volumes[row - 1], self.volumes[row]
        return v0 + (v1 - v0) * (gauged - l0) / (l1 - l0)


@dataclass(frozen=True)
class TankShell:
    """The steel shell: insulation, expansion coefficient, the table's reference temperature."""

    insulated: bool = False
    expansion_per_f: Decimal = MILD_STEEL_EXPANSION_PER_F
    reference_temperature_f: Decimal = Decimal(60)
    """Shell temperature at which the capacity table was computed (TSh ref), °F."""


@dataclass(frozen=True)
class _RoofZone:
    landed_level: Decimal
    """At or below this level the roof rests on its legs: no adjustment."""
    floating_level: Decimal
    """At or above this level the roof floats: full adjustment. Between: the critical zone."""

    def __post_init__(self) -> None:
        """The landed level must lie below the floating level."""
        if not self.landed_level < self.floating_level:
            raise MeasurementError(
                f"floating roof: landed level {self.landed_level} must be below floating level "
                f"{self.floating_level}"
            )

    def floats_at(self, level: Decimal, unit: str) -> bool:
        """Whether the roof floats at ``level``; refuse a level in the critical zone."""
        if level <= self.landed_level:
            return False
        if level >= self.floating_level:
            return True
        raise MeasurementError(
            f"level {level} {unit} is in the floating roof's critical zone "
            f"({self.landed_level} to {self.floating_level} {unit}): the roof neither rests "
            "nor floats; gauge the tank outside that zone"
        )


@dataclass(frozen=True)
class RoofByGravity(_RoofZone):
    """The table already deducts the roof at a reference API gravity (12.1.1 "FRA").

    FRA = (reference API − observed API at tank temperature) × barrels per °API: lighter oil
    (higher API) sinks the roof deeper, so more is deducted.
    """

    reference_api: Decimal
    """API gravity (at tank temperature) at which the table deducts the roof."""
    bbl_per_api: Decimal
    """Barrels to adjust per °API of difference, from the capacity table's note."""


@dataclass(frozen=True)
class RoofByWeight(_RoofZone):
    """The table makes no roof deduction: deduct the whole displacement, W / ρ(tank temp)."""

    weight_lb: Decimal


FloatingRoof = RoofByGravity | RoofByWeight


def shell_correction(
    liquid_temperature_f: Number,
    ambient_temperature_f: Number | None,
    shell: TankShell,
    discrimination: TankDiscrimination = TANK_DISCRIMINATION,
) -> tuple[Decimal, Decimal]:
    """(TSh, CTSh) of a gauging: shell temperature to 1 °F and CTSh to 5 decimals."""
    liquid = round_half_up(liquid_temperature_f, discrimination.temperature_f)
    if shell.insulated:
        shell_exact = liquid
    else:
        if ambient_temperature_f is None:
            raise MeasurementError(
                "an uninsulated tank needs the ambient temperature for its shell correction"
            )
        ambient = round_half_up(ambient_temperature_f, discrimination.temperature_f)
        shell_exact = (7 * liquid + ambient) / 8
    tsh = round_half_up(shell_exact, discrimination.shell_temperature_f)
    delta = tsh - shell.reference_temperature_f
    alpha = shell.expansion_per_f
    ctsh = 1 + 2 * alpha * delta + alpha * alpha * delta * delta
    return tsh, round_half_up(ctsh, discrimination.ctsh)


def roof_displacement(weight_lb: Number, density_lb_per_bbl: Number) -> Decimal:
    """Volume a floating roof displaces: its weight over the liquid's density (unrounded)."""
    density = to_decimal(density_lb_per_bbl)
    if density <= 0:
        raise MeasurementError(f"liquid density {density} lb/bbl must be positive")
    return to_decimal(weight_lb) / density


@dataclass(frozen=True)
class TankVolumes:
    """One gauging of a tank through the 12.1.1 sequence, every value as used."""

    tank: str
    level: Decimal
    total_observed_volume: Decimal
    free_water_volume: Decimal
    liquid_temperature_f: Decimal
    shell_temperature_f: Decimal
    ctsh: Decimal
    roof_adjustment: Decimal
    """Signed: negative deducts (zero without a floating roof or with the roof landed)."""
    gross_observed_volume: Decimal
    api60: Decimal
    observed_api: Decimal
    """API gravity at the tank temperature (what a floating roof floats in), 0.1 °API."""
    ctl: Decimal
    gross_standard_volume: Decimal
    bsw_percent: Decimal
    csw: Decimal
    net_standard_volume: Decimal
    sediment_and_water_volume: Decimal


def gauge_tank(
    *,
    table: StrappingTable,
    level: Number,
    liquid_temperature_f: Number,
    api60: Number,
    ambient_temperature_f: Number | None = None,
    free_water_level: Number | None = None,
    free_water_volume: Number | None = None,
    bsw_percent: Number = 0,
    shell: TankShell | None = None,
    roof: FloatingRoof | None = None,
    commodity: Commodity = Commodity.CRUDE_OIL,
    discrimination: TankDiscrimination = TANK_DISCRIMINATION,
) -> TankVolumes:
    """NSV of one tank gauging by API MPMS 12.1.1 (see the module docstring for the steps).

    Give free water as a water-cut level read on the same table or as a volume, not both.
    """
    shell = shell or TankShell()
    level_used = to_decimal(level)
    vol = discrimination.volume
    tov = round_half_up(table.volume_at(level_used), vol)
    if free_water_level is not None and free_water_volume is not None:
        raise MeasurementError("give the free water as a level or as a volume, not both")
    if free_water_level is not None:
        fw = round_half_up(table.volume_at(free_water_level), vol)
    else:
        fw = round_half_up(free_water_volume or 0, vol)
    if not 0 <= fw <= tov:
        raise OutOfRangeError(
            "free water volume", fw, 0, tov, scope=f"tank {table.tank}", unit=table.volume_unit
        )
    tsh, ctsh = shell_correction(liquid_temperature_f, ambient_temperature_f, shell, discrimination)
    temperature = round_half_up(liquid_temperature_f, discrimination.temperature_f)
    api = round_half_up(api60, discrimination.api_gravity)
    correction = base_to_alternate(
        commodity=commodity, temperature_f=float(temperature), api60=float(api)
    )
    ctl = round_half_up(correction.ctl, discrimination.ctl)
    density_at_tank = to_decimal(api_to_density(float(api))) * ctl  # kg/m³
    observed_api = round_half_up(density_to_api(float(density_at_tank)), discrimination.api_gravity)
    fra = round_half_up(
        _roof_adjustment(roof, level_used, table.level_unit, observed_api, density_at_tank), vol
    )
    gov = round_half_up(round_half_up((tov - fw) * ctsh, vol) + fra, vol)
    gsv = round_half_up(gov * ctl, vol)
    bsw = round_half_up(bsw_percent, discrimination.bsw_percent)
    csw = correction_for_sediment_and_water(bsw, discrimination.csw)
    nsv = round_half_up(gsv * csw, vol)
    return TankVolumes(
        tank=table.tank,
        level=level_used,
        total_observed_volume=tov,
        free_water_volume=fw,
        liquid_temperature_f=temperature,
        shell_temperature_f=tsh,
        ctsh=ctsh,
        roof_adjustment=fra,
        gross_observed_volume=gov,
        api60=api,
        observed_api=observed_api,
        ctl=ctl,
        gross_standard_volume=gsv,
        bsw_percent=bsw,
        csw=csw,
        net_standard_volume=nsv,
        sediment_and_water_volume=gsv - nsv,
    )


def _roof_adjustment(
    roof: FloatingRoof | None,
    level: Decimal,
    unit: str,
    observed_api: Decimal,
    density_at_tank_kg_m3: Decimal,
) -> Decimal:
    if roof is None or not roof.floats_at(level, unit):
        return Decimal(0)
    if isinstance(roof, RoofByGravity):
        return (roof.reference_api - observed_api) * roof.bbl_per_api
    density_lb_per_bbl = density_at_tank_kg_m3 / _WATER_KG_M3_60F * WATER_LB_PER_BBL_60F
    return -roof_displacement(roof.weight_lb, density_lb_per_bbl)


@dataclass(frozen=True)
class TankTransfer:
    """The volume a tank received (positive) or delivered (negative) between two gaugings."""

    opening: TankVolumes
    closing: TankVolumes
    gross_standard_volume: Decimal
    net_standard_volume: Decimal
    free_water_volume: Decimal
    sediment_and_water_volume: Decimal


def tank_transfer(opening: TankVolumes, closing: TankVolumes) -> TankTransfer:
    """Closing minus opening: what the tank received (delivered, if negative) in between."""
    if opening.tank != closing.tank:
        raise MeasurementError(
            f"opening gauge is of tank {opening.tank}, closing gauge of tank {closing.tank}"
        )
    return TankTransfer(
        opening=opening,
        closing=closing,
        gross_standard_volume=closing.gross_standard_volume - opening.gross_standard_volume,
        net_standard_volume=closing.net_standard_volume - opening.net_standard_volume,
        free_water_volume=closing.free_water_volume - opening.free_water_volume,
        sediment_and_water_volume=(
            closing.sediment_and_water_volume - opening.sediment_and_water_volume
        ),
    )
