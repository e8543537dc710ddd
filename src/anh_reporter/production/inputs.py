"""What one PMO's contract day is computed from: samples, rollups, manual entries, its meter.

Plain data, loaded by :mod:`~anh_reporter.production.daily` and read by the pure computation in
:mod:`~anh_reporter.production.figures`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from anh_reporter.domain import mpms
from anh_reporter.production.volumes import CounterSpec, RateGapMethod

Fluid = Literal["oil", "gas", "water"]
Method = Literal["totalizer", "rate_integration", "manual", "tank_gauging", "none"]
Level = Literal["indicated", "gov", "gsv", "nsv", "tank"]
"""What a volume is: indicated (meter factor and corrections to apply), gross observed, gross
standard, net standard (taken as they are), or a tank gauge (API MPMS 12.1.1)."""

VOLUME_KINDS: dict[str, Fluid | None] = {
    "oil_volume": "oil",
    "water_volume": "water",
    "gas_volume": "gas",
    "tank_gauging": None,
}
"""Manual entry kinds that give a volume (tank gauging: any liquid PMO)."""

PROPERTY_KINDS = ("temperature", "pressure", "bsw", "api_gravity")


@dataclass(frozen=True)
class Issue:
    """Something that leaves a figure missing, estimated or in doubt; the report rules judge it."""

    code: str
    message: str


@dataclass(frozen=True)
class ProductionSettings:
    """Tolerances, estimation choices and reporting increments of the daily computation."""

    gap_tolerance_periods: float = 6.0
    """An interval longer than this many sampling periods is a gap (not interpolated)..."""
    min_gap_tolerance_s: float = 60.0
    """...and never shorter than this."""
    property_gap_tolerance_s: float = 4 * 3600.0
    """Lab-like properties (BSW, API gravity) sampled rarely stay valid this long."""
    rate_gap_method: RateGapMethod = "rate_interpolation"
    """How a gap in a flow rate is estimated: the straight line across it, or the last good
    rate held."""
    temperature_increment: Decimal = Decimal("0.1")
    pressure_increment: Decimal = Decimal("0.1")
    api_increment: Decimal = Decimal("0.1")
    bsw_increment: Decimal = Decimal("0.01")
    rounding: mpms.VolumeRounding = mpms.BBL_ROUNDING

    def gap_tolerance_s(self, sampling_period_s: float) -> float:
        """The gap tolerance of a series sampled every ``sampling_period_s``."""
        return max(self.gap_tolerance_periods * sampling_period_s, self.min_gap_tolerance_s)


DEFAULT_SETTINGS = ProductionSettings()


@dataclass(frozen=True)
class Samples:
    """Raw rows of one series: the window plus neighbours each side (as ``volumes`` needs)."""

    times_us: NDArray[np.int64]
    values: NDArray[np.float64]
    quality: NDArray[np.int32]
    sampling_period_s: float
    unit: str
    code: str = ""


@dataclass(frozen=True)
class HourRecord:
    """One ``telemetry_hourly`` row (times in µs)."""

    hour_us: int
    count: int
    good_count: int
    avg: float | None
    integral: float | None
    first_time_us: int | None
    last_time_us: int | None
    first_value: float | None
    last_value: float | None

    @property
    def mean(self) -> float | None:
        """Time-weighted mean over the hour's good readings (their plain mean if only one)."""
        if self.good_count == 0 or self.avg is None:
            return None
        if (
            self.integral is not None
            and self.first_time_us is not None
            and self.last_time_us is not None
            and self.last_time_us > self.first_time_us
        ):
            return self.integral / ((self.last_time_us - self.first_time_us) / 1e6)
        return self.avg

    @property
    def span_s(self) -> float:
        """Seconds between the hour's first and last good reading."""
        if self.first_time_us is None or self.last_time_us is None:
            return 0.0
        return (self.last_time_us - self.first_time_us) / 1e6


@dataclass(frozen=True)
class HourlySeries:
    """The hourly rollups of one series over the window."""

    hours: tuple[HourRecord, ...]
    sampling_period_s: float
    unit: str
    rollover: float | None = None
    code: str = ""


@dataclass(frozen=True)
class ManualValue:
    """An active manual entry as the computation uses it."""

    id: int
    kind: str
    value: Decimal
    unit: str
    level: Level | None = None
    """For a volume: what it is (see :data:`Level`)."""
    window_start_us: int | None = None
    window_end_us: int | None = None
    """For a volume: the part of the day it covers (``None``: the whole day)."""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def covers_window(self) -> bool:
        """True for an entry that fills a part of the day (a gap), not the whole day."""
        return self.window_start_us is not None


@dataclass(frozen=True)
class Custody:
    """The variables that give the custody temperature and pressure, and named fallbacks."""

    temperature: str = "meter_temperature"
    pressure: str = "meter_pressure"
    fallback_temperature: str | None = None
    fallback_pressure: str | None = None


@dataclass(frozen=True)
class GasBases:
    """Base conditions of the flow computer's volumes and of the field's reported gas."""

    flow_computer: mpms.GasBase
    reporting: mpms.GasBase


@dataclass(frozen=True)
class PmoInputs:
    """Everything one PMO's day needs."""

    code: str
    fluid: Fluid
    has_totalizer: bool
    meter_factor: float
    day_start_us: int
    day_end_us: int
    meter_type: str = "turbine"
    volume_series: Samples | None = None
    volume_variable: str | None = None
    """``oil_total``/``oil_rate``... the series ``volume_series`` holds."""
    rate_series: Samples | None = None
    """The PMO's own fluid's flow rate with far neighbours: splits totalizer gaps and
    estimates resets (for a totalizer PMO)."""
    counter: CounterSpec | None = None
    """How the totalizer counts (modulus, resolution, maximum rate, backstep tolerance)."""
    low_flow_cutoff: float = 0.0
    property_hours: Mapping[str, HourlySeries] = field(default_factory=dict)
    """Hourly rollups of every series of the PMO, by variable (rates and totalizers too)."""
    property_raw: Mapping[str, Samples] = field(default_factory=dict)
    """Raw rows by variable; used instead of the rollups when the window is not hour-aligned."""
    manual: Mapping[str, ManualValue] = field(default_factory=dict)
    """Active whole-day manual entries by kind."""
    manual_windows: tuple[ManualValue, ...] = ()
    """Active manual volume entries that cover a part of the day."""
    custody: Custody = Custody()
    api_basis: Literal["observed", "base"] | None = None
    """What the API gravity series reports: at line conditions, or already at 60 °F."""
    gas_bases: GasBases | None = None
    confirmed_resets: frozenset[int] = frozenset()
    """``after_us`` of the totalizer resets a person confirmed."""
    stated_uncertainty: mpms.StatedUncertainty | None = None
