"""Measurement math of API MPMS (pure, no I/O): one import for every public name.

* :mod:`.properties` and :mod:`.ctpl` — chapter 11.1-2004: CTL, CPL, CTPL, observed → base.
* :mod:`.gravity` — observed API gravity or density at line conditions → API at 60 °F.
* :mod:`.volumes` — chapter 12.2 daily sequence GOV = IV × MF, GSV = GOV × CTPL, NSV = GSV × CSW.
* :mod:`.ticket` — chapter 12.2.2 measurement ticket: CCF = CTL × CPL × MF, discrimination levels.
* :mod:`.tanks` — chapter 12.1.1 tank gauging: strapping table, TOV, free water, CTSh, roof, NSV.
* :mod:`.water` — produced water corrected to 60 °F from the density of water.
* :mod:`.gas` — gas volume between base conditions (pressure and temperature).
* :mod:`.uncertainty` — chapter 13 / GUM expanded uncertainty budget of a daily NSV.

``docs/measurement.md`` explains every method and formula with its source.
"""

from anh_reporter.domain.mpms.ctpl import (
    BaseDensity,
    Correction,
    base_to_alternate,
    observed_to_base,
)
from anh_reporter.domain.mpms.errors import (
    ConvergenceError,
    MeasurementError,
    OutOfRangeError,
)
from anh_reporter.domain.mpms.gas import (
    BASE_PRESSURE_RANGE_PSIA,
    BASE_TEMPERATURE_RANGE_F,
    RANKINE_OFFSET,
    GasBase,
    GasConversion,
    convert_gas_volume,
)
from anh_reporter.domain.mpms.gravity import (
    API_INCREMENT,
    GravityAtBase,
    gravity_at_base,
)
from anh_reporter.domain.mpms.properties import (
    ALPHA60_RANGE,
    BASE_TEMPERATURE_IPTS68_F,
    DELTA_60,
    PRESSURE_RANGE_PSIG,
    TEMPERATURE_RANGE_F,
    WATER_DENSITY_60F,
    Commodity,
    ProductGroup,
    api_to_density,
    density_to_api,
    its90_to_ipts68_f,
    product_group,
    relative_density_to_density,
)
from anh_reporter.domain.mpms.rounding import (
    Number,
    round_half_up,
    round_optional,
    to_decimal,
)
from anh_reporter.domain.mpms.tanks import (
    MILD_STEEL_EXPANSION_PER_F,
    TANK_DISCRIMINATION,
    WATER_LB_PER_BBL_60F,
    FloatingRoof,
    RoofByGravity,
    RoofByWeight,
    StrappingTable,
    TankDiscrimination,
    TankShell,
    TankTransfer,
    TankVolumes,
    gauge_tank,
    roof_displacement,
    shell_correction,
    tank_transfer,
)
from anh_reporter.domain.mpms.ticket import (
    CONTINUOUS_DISCRIMINATION,
    TICKET_DISCRIMINATION,
    MeterTicket,
    TicketDiscrimination,
    TicketVolumes,
    indicated_volume_from_readings,
    meter_ticket,
    ticket_volumes,
)
from anh_reporter.domain.mpms.uncertainty import (
    DEFAULT_STATED_UNCERTAINTY,
    BudgetLine,
    MeterType,
    StatedUncertainty,
    UncertaintyBudget,
    UncertaintyInput,
    combine_uncertainty,
    daily_nsv_uncertainty,
)
from anh_reporter.domain.mpms.volumes import (
    BBL_ROUNDING,
    M3_ROUNDING,
    VolumeRounding,
    Volumes,
    correction_for_sediment_and_water,
    gross_observed_volume,
    gross_standard_volume,
    liquid_volumes,
    net_standard_volume,
)
from anh_reporter.domain.mpms.water import (
    WATER_TEMPERATURE_RANGE_F,
    WaterCorrection,
    WaterVolumes,
    water_correction,
    water_density,
    water_standard_volume,
)

__all__ = [
    "ALPHA60_RANGE",
    "API_INCREMENT",
    "BASE_PRESSURE_RANGE_PSIA",
    "BASE_TEMPERATURE_IPTS68_F",
    "BASE_TEMPERATURE_RANGE_F",
    "BBL_ROUNDING",
    "CONTINUOUS_DISCRIMINATION",
    "DEFAULT_STATED_UNCERTAINTY",
    "DELTA_60",
    "M3_ROUNDING",
    "MILD_STEEL_EXPANSION_PER_F",
    "PRESSURE_RANGE_PSIG",
    "RANKINE_OFFSET",
    "TANK_DISCRIMINATION",
    "TEMPERATURE_RANGE_F",
    "TICKET_DISCRIMINATION",
    "WATER_DENSITY_60F",
    "WATER_LB_PER_BBL_60F",
    "WATER_TEMPERATURE_RANGE_F",
    "BaseDensity",
    "BudgetLine",
    "Commodity",
    "ConvergenceError",
    "Correction",
    "FloatingRoof",
    "GasBase",
    "GasConversion",
    "GravityAtBase",
    "MeasurementError",
    "MeterTicket",
    "MeterType",
    "Number",
    "OutOfRangeError",
    "ProductGroup",
    "RoofByGravity",
    "RoofByWeight",
    "StatedUncertainty",
    "StrappingTable",
    "TankDiscrimination",
    "TankShell",
    "TankTransfer",
    "TankVolumes",
    "TicketDiscrimination",
    "TicketVolumes",
    "UncertaintyBudget",
    "UncertaintyInput",
    "VolumeRounding",
    "Volumes",
    "WaterCorrection",
    "WaterVolumes",
    "api_to_density",
    "base_to_alternate",
    "combine_uncertainty",
    "convert_gas_volume",
    "correction_for_sediment_and_water",
    "daily_nsv_uncertainty",
    "density_to_api",
    "gauge_tank",
    "gravity_at_base",
    "gross_observed_volume",
    "gross_standard_volume",
    "indicated_volume_from_readings",
    "its90_to_ipts68_f",
    "liquid_volumes",
    "meter_ticket",
    "net_standard_volume",
    "observed_to_base",
    "product_group",
    "relative_density_to_density",
    "roof_displacement",
    "round_half_up",
    "round_optional",
    "shell_correction",
    "tank_transfer",
    "ticket_volumes",
    "to_decimal",
    "water_correction",
    "water_density",
    "water_standard_volume",
]
