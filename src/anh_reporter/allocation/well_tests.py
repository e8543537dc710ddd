"""Well tests: the record, its age and validity, the test in force on a day, separator tests.

A well test measures one well alone (through a test separator or a portable unit) for a few
hours; its daily rates at standard conditions (oil and water in bbl/d at 60 °F, gas in kscf/d)
are what allocation splits a PMO's volume by. A test is **valid** on a day when it was taken on
or before that day and is no older than the validity window (default 90 days, configurable per
field); after that it is **expired**: allocation may still use it, flagged (see
:class:`~anh_reporter.allocation.allocation.AllocationSettings`). A test an engineer rejected
(``accepted=False``) is never used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from numpy.typing import ArrayLike

from anh_reporter.allocation.errors import (
    AllocationError,
    require_code,
    require_non_negative,
    require_range,
)
from anh_reporter.allocation.fluids import Fluid
from anh_reporter.allocation.timeseries import Window, good_samples, trapezoid
from anh_reporter.domain.mpms import round_half_up

RATE_INCREMENT = Decimal("0.01")
MAX_TEST_HOURS = Decimal(168)
"""A test longer than a week is a data-entry error rather than a test."""

WellTestSource = Literal["manual", "test_separator"]


@dataclass(frozen=True)
class WellTest:
    """One well test: when, how long, the rates at standard conditions, BSW, GOR and who."""

    well: str
    tested_on: dt.date
    duration_h: Decimal
    oil_bbl_d: Decimal
    gas_kscf_d: Decimal
    water_bbl_d: Decimal
    tested_by: str
    bsw_pct: Decimal | None = None
    """Lab BSW of the test sample, %; when absent, the rates' water cut is used."""
    source: WellTestSource = "manual"
    accepted: bool = True

    def __post_init__(self) -> None:
        where = f"well test of {self.well!r} on {self.tested_on}"
        require_code("well test well code", self.well)
        require_range(f"{where}: duration", self.duration_h, Decimal(0), MAX_TEST_HOURS, "h")
        if self.duration_h == 0:
            raise AllocationError(f"{where}: duration 0 h; a test lasts more than 0 h")
        require_non_negative(f"{where}: oil rate", self.oil_bbl_d, "bbl/d")
        require_non_negative(f"{where}: gas rate", self.gas_kscf_d, "kscf/d")
        require_non_negative(f"{where}: water rate", self.water_bbl_d, "bbl/d")
        if self.bsw_pct is not None:
            require_range(f"{where}: BSW", self.bsw_pct, Decimal(0), Decimal(100), "%")
        if not self.tested_by.strip():
            raise AllocationError(f"{where}: 'tested_by' is empty; say who ran the test")

    def rate(self, fluid: Fluid) -> Decimal:
        """The test's daily rate of ``fluid`` (bbl/d or kscf/d)."""
        if fluid == "oil":
            return self.oil_bbl_d
        if fluid == "gas":
            return self.gas_kscf_d
        return self.water_bbl_d

    @property
    def liquid_bbl_d(self) -> Decimal:
        """Oil plus water, bbl/d: what a pump lifts."""
        return self.oil_bbl_d + self.water_bbl_d

    @property
    def water_cut_pct(self) -> Decimal | None:
        """BSW of the test: the lab value, else water / (oil + water) × 100; None without liquid."""
        if self.bsw_pct is not None:
            return self.bsw_pct
        if self.liquid_bbl_d == 0:
            return None
        return round_half_up(self.water_bbl_d * 100 / self.liquid_bbl_d, Decimal("0.01"))

    @property
    def gor_scf_bbl(self) -> Decimal | None:
        """Gas-oil ratio of the test, scf/bbl (kscf × 1000 / bbl); None without oil."""
        if self.oil_bbl_d == 0:
            return None
        return round_half_up(self.gas_kscf_d * 1000 / self.oil_bbl_d, Decimal("0.1"))

    def age_days(self, day: dt.date) -> int:
        """Whole days from the test to ``day`` (0 on the test day)."""
        return (day - self.tested_on).days


@dataclass(frozen=True)
class WellTestPolicy:
    """How long a test stays valid (per field; 90 days unless the field says otherwise)."""

    validity_days: int = 90

    def __post_init__(self) -> None:
        if not 1 <= self.validity_days <= 3650:
            raise AllocationError(
                f"test validity window {self.validity_days} days is outside [1, 3650] days"
            )


class WellTestState(StrEnum):
    """Whether a well has a test it can be allocated by on a day."""

    VALID = "valid"
    EXPIRED = "expired"
    NONE = "none"


@dataclass(frozen=True)
class WellTestInForce:
    """The test a well is allocated by on a day, and whether it is still valid."""

    well: str
    day: dt.date
    test: WellTest | None
    state: WellTestState
    age_days: int | None

    def rate(self, fluid: Fluid) -> Decimal | None:
        """The rate of ``fluid`` of the test in force, or None without a test."""
        return None if self.test is None else self.test.rate(fluid)


def without_test(well: str, day: dt.date) -> WellTestInForce:
    """A well that has no test on ``day``."""
    return WellTestInForce(well, day, None, WellTestState.NONE, None)


def well_test_in_force(
    well: str,
    history: Iterable[WellTest],
    day: dt.date,
    policy: WellTestPolicy = WellTestPolicy(),
) -> WellTestInForce:
    """The well's latest accepted test taken on or before ``day``, valid or expired.

    Tests after ``day`` are ignored (a test does not apply backwards). Two tests on the same
    date: the one given later in ``history`` wins (a retest supersedes). Tests of other wells in
    ``history`` are an error, so that a mixed-up list is caught rather than used.
    """
    chosen: WellTest | None = None
    for test in history:
        if test.well != well:
            raise AllocationError(
                f"test history of well {well!r} holds a test of well {test.well!r} "
                f"({test.tested_on})"
            )
        if not test.accepted or test.tested_on > day:
            continue
        if chosen is None or test.tested_on >= chosen.tested_on:
            chosen = test
    if chosen is None:
        return without_test(well, day)
    age = chosen.age_days(day)
    state = WellTestState.VALID if age <= policy.validity_days else WellTestState.EXPIRED
    return WellTestInForce(well, day, chosen, state, age)


@dataclass(frozen=True)
class SeparatorSeries:
    """One rate series of a test separator over the test: times (µs), rate, quality mask."""

    times_us: ArrayLike
    values: ArrayLike
    good: ArrayLike | None = None


@dataclass(frozen=True)
class SeparatorTest:
    """A test from a test separator and the share of the window each rate series covered."""

    test: WellTest
    coverage_pct: dict[Fluid, float]


def separator_test(
    *,
    well: str,
    tested_on: dt.date,
    window: Window,
    oil_bbl_d: SeparatorSeries,
    gas_kscf_d: SeparatorSeries,
    water_bbl_d: SeparatorSeries,
    tested_by: str,
    gap_tolerance_s: float | Mapping[Fluid, float],
    min_coverage_pct: float = 95.0,
    bsw_pct: Decimal | None = None,
    labels: Mapping[Fluid, str] | None = None,
) -> SeparatorTest:
    """A well test from a test separator's rate series over the test window, with coverages.

    Each rate is the time-weighted mean over the covered part of the window (trapezoid between
    good samples, gaps longer than the gap tolerance left out; one tolerance, or one per fluid
    when the series are sampled differently), rounded half up to 0.01. A series covering less
    than ``min_coverage_pct`` of the window is refused: such a test would rest on too little
    data. The duration is the window's length. ``labels`` name each series in a refusal (by
    default "test separator oil rate of 'W-1'").
    """
    rates: dict[Fluid, Decimal] = {}
    coverage: dict[Fluid, float] = {}
    fluids: tuple[tuple[Fluid, SeparatorSeries], ...] = (
        ("oil", oil_bbl_d),
        ("gas", gas_kscf_d),
        ("water", water_bbl_d),
    )
    for name, series in fluids:
        field = (labels or {}).get(name) or f"test separator {name} rate of {well!r}"
        tolerance = (
            gap_tolerance_s[name] if isinstance(gap_tolerance_s, Mapping) else gap_tolerance_s
        )
        samples = good_samples(field, series.times_us, series.values, series.good)
        integral = trapezoid(samples, window, tolerance)
        if integral.covered_s <= 0 or integral.coverage_pct < min_coverage_pct:
            raise AllocationError(
                f"{field}: good samples cover {integral.coverage_pct:.1f} % of the test window, "
                f"below the minimum {min_coverage_pct:g} %"
            )
        mean = integral.area / integral.covered_s
        if mean < 0:
            raise AllocationError(f"{field}: mean rate {mean:g} over the test window is negative")
        rates[name] = round_half_up(mean, RATE_INCREMENT)
        coverage[name] = integral.coverage_pct
    duration = round_half_up(window.hours, Decimal("0.01"))
    test = WellTest(
        well=well,
        tested_on=tested_on,
        duration_h=duration,
        oil_bbl_d=rates["oil"],
        gas_kscf_d=rates["gas"],
        water_bbl_d=rates["water"],
        tested_by=tested_by,
        bsw_pct=bsw_pct,
        source="test_separator",
    )
    return SeparatorTest(test, coverage)
