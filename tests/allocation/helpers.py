"""Builders shared by the allocation tests: Decimals, well tests, tests in force, windows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from anh_reporter.allocation.allocation import WellInput
from anh_reporter.allocation.timeseries import Window
from anh_reporter.allocation.well_tests import (
    WellTest,
    WellTestInForce,
    WellTestPolicy,
    well_test_in_force,
    without_test,
)
from anh_reporter.domain.timeutil import US_PER_HOUR, to_us

DAY = dt.date(2026, 11, 14)
DAY_START = dt.datetime(2026, 11, 14, 11, tzinfo=dt.UTC)  # 06:00 America/Bogota
WINDOW = Window(to_us(DAY_START), to_us(DAY_START) + 24 * US_PER_HOUR)


def D(text: str | int) -> Decimal:
    """A Decimal from its written form."""
    return Decimal(str(text))


def well_test(
    well: str,
    *,
    oil: str | int = 0,
    gas: str | int = 0,
    water: str | int = 0,
    days_before: int = 10,
    bsw: str | None = None,
) -> WellTest:
    """A manual 24 h test taken ``days_before`` days before :data:`DAY`."""
    return WellTest(
        well=well,
        tested_on=DAY - dt.timedelta(days=days_before),
        duration_h=D(24),
        oil_bbl_d=D(oil),
        gas_kscf_d=D(gas),
        water_bbl_d=D(water),
        tested_by="ing. Pérez",
        bsw_pct=None if bsw is None else D(bsw),
    )


DEFAULT_POLICY = WellTestPolicy()


def in_force(test: WellTest, policy: WellTestPolicy = DEFAULT_POLICY) -> WellTestInForce:
    """The test in force on :data:`DAY` when ``test`` is the well's only test."""
    return well_test_in_force(test.well, [test], DAY, policy)


def well(
    code: str,
    hours: str | int | None,
    *,
    oil: str | int | None = None,
    days_before: int = 10,
) -> WellInput:
    """A well for an oil allocation: ``oil`` bbl/d test rate (None: no test) and hours on."""
    test = (
        without_test(code, DAY)
        if oil is None
        else in_force(well_test(code, oil=oil, days_before=days_before))
    )
    return WellInput(code, None if hours is None else D(hours), test)


def hours_us(h: float) -> int:
    """Microseconds after the window's start."""
    return WINDOW.start_us + int(h * US_PER_HOUR)
