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
from anh_reporter.domain.mpms.errors import ConvergenceError, MeasurementError, OutOfRangeError
from anh_reporter.domain.mpms.properties import (
    ALPHA60_RANGE,
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
from anh_reporter.domain.mpms.rounding import Number, round_half_up, to_decimal
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

__all__ = [
    "ALPHA60_RANGE",
    "BBL_ROUNDING",
    "M3_ROUNDING",
    "PRESSURE_RANGE_PSIG",
    "TEMPERATURE_RANGE_F",
    "WATER_DENSITY_60F",
    "BaseDensity",
    "Commodity",
    "ConvergenceError",
    "Correction",
    "MeasurementError",
    "Number",
    "OutOfRangeError",
    "ProductGroup",
    "VolumeRounding",
    "Volumes",
    "api_to_density",
    "base_to_alternate",
    "correction_for_sediment_and_water",
    "density_to_api",
    "gross_observed_volume",
    "gross_standard_volume",
    "its90_to_ipts68_f",
    "liquid_volumes",
    "net_standard_volume",
    "observed_to_base",
    "product_group",
    "relative_density_to_density",
    "round_half_up",
    "to_decimal",
]
