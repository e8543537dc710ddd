"""Well tests: validity window, the test in force on a day, tests from a test separator."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.timeseries import Window
from anh_reporter.allocation.well_tests import (
    SeparatorSeries,
    WellTest,
    WellTestPolicy,
    WellTestState,
    separator_test,
    well_test_in_force,
)
from anh_reporter.domain.timeutil import US_PER_HOUR, US_PER_SECOND

from .helpers import DAY, WINDOW, D, well_test


def test_validity_window_is_inclusive() -> None:
    """90 days old is still valid by default; 91 is expired; a 30-day field policy too."""
    ninety = well_test("A", oil=100, days_before=90)
    ninety_one = well_test("A", oil=100, days_before=91)
    assert well_test_in_force("A", [ninety], DAY).state is WellTestState.VALID
    expired = well_test_in_force("A", [ninety_one], DAY)
    assert expired.state is WellTestState.EXPIRED
    assert expired.age_days == 91
    strict = well_test_in_force("A", [ninety], DAY, WellTestPolicy(validity_days=30))
    assert strict.state is WellTestState.EXPIRED


def test_latest_accepted_test_on_or_before_the_day() -> None:
    old = well_test("A", oil=100, days_before=40)
    recent = well_test("A", oil=120, days_before=5)
    rejected = dataclasses.replace(well_test("A", oil=999, days_before=1), accepted=False)
    future = well_test("A", oil=500, days_before=-3)
    chosen = well_test_in_force("A", [recent, future, old, rejected], DAY)
    assert chosen.test == recent
    assert chosen.rate("oil") == D(120)
    assert chosen.age_days == 5


def test_retest_on_the_same_day_supersedes() -> None:
    first = well_test("A", oil=100, days_before=2)
    retest = well_test("A", oil=110, days_before=2)
    assert well_test_in_force("A", [first, retest], DAY).test == retest


def test_no_test() -> None:
    chosen = well_test_in_force("A", [], DAY)
    assert chosen.state is WellTestState.NONE
    assert chosen.test is None and chosen.age_days is None
    assert chosen.rate("gas") is None


def test_history_of_another_well_is_refused() -> None:
    with pytest.raises(AllocationError, match="holds a test of well 'B'"):
        well_test_in_force("A", [well_test("B", oil=1)], DAY)


def test_derived_figures() -> None:
    """Oil 400, water 100 bbl/d → water cut 100 / 500 = 20.00 %; gas 60 kscf/d → GOR
    60 000 / 400 = 150.0 scf/bbl; a lab BSW overrides the rates' water cut."""
    test = well_test("A", oil=400, gas=60, water=100)
    assert test.liquid_bbl_d == D(500)
    assert test.water_cut_pct == D("20.00")
    assert test.gor_scf_bbl == D("150.0")
    assert well_test("A", oil=400, water=100, bsw="19.5").water_cut_pct == D("19.5")
    assert well_test("A").gor_scf_bbl is None
    assert well_test("A").water_cut_pct is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"oil_bbl_d": D(-1)}, r"oil rate -1 bbl/d is negative; it must be >= 0 bbl/d"),
        ({"duration_h": D(0)}, r"duration 0 h; a test lasts more than 0 h"),
        ({"duration_h": D(200)}, r"duration 200 h is outside \[0, 168\] h"),
        ({"bsw_pct": D(101)}, r"BSW 101 % is outside \[0, 100\] %"),
        ({"tested_by": " "}, r"'tested_by' is empty"),
        ({"gas_kscf_d": 1.5}, r"gas rate must be a Decimal"),
    ],
)
def test_bad_test_records(changes: dict[str, object], message: str) -> None:
    base = well_test("A", oil=1)
    with pytest.raises(AllocationError, match=message):
        dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_validity_policy_limits() -> None:
    with pytest.raises(AllocationError, match=r"validity window 0 days is outside \[1, 3650\]"):
        WellTestPolicy(validity_days=0)


def _series(rate: float, window: Window, step_s: int = 60) -> SeparatorSeries:
    times = np.arange(window.start_us, window.end_us + 1, step_s * US_PER_SECOND, dtype=np.int64)
    return SeparatorSeries(times, np.full(times.size, rate))


def test_test_from_separator_constant_rates() -> None:
    """4 h at constant 480 bbl/d oil, 96 kscf/d gas, 120 bbl/d water: those are the rates."""
    window = Window(WINDOW.start_us, WINDOW.start_us + 4 * US_PER_HOUR)
    test = separator_test(
        well="A",
        tested_on=DAY,
        window=window,
        oil_bbl_d=_series(480.0, window),
        gas_kscf_d=_series(96.0, window),
        water_bbl_d=_series(120.0, window),
        tested_by="separador de prueba",
        gap_tolerance_s=360,
    ).test
    assert (test.oil_bbl_d, test.gas_kscf_d, test.water_bbl_d) == (D(480), D(96), D(120))
    assert test.duration_h == D("4.00")
    assert test.source == "test_separator"
    assert test.tested_on == DAY


def test_test_from_separator_time_weighted() -> None:
    """Oil sampled each minute: 400 bbl/d before 1 h, 600 bbl/d from 1 h on, over 4 h.

    Trapezoid: 400 × 59 min + (400 + 600) / 2 × 1 min + 600 × 180 min = 132 100 bbl/d·min;
    over 240 min the mean is 550.4166... → 550.42 (a plain 1 h / 3 h split would say 550).
    """
    window = Window(WINDOW.start_us, WINDOW.start_us + 4 * US_PER_HOUR)
    series = _series(600.0, window)
    values = np.asarray(series.values, dtype=np.float64).copy()
    times = np.asarray(series.times_us)
    values[times < window.start_us + US_PER_HOUR] = 400.0
    oil = SeparatorSeries(times, values)
    test = separator_test(
        well="A",
        tested_on=DAY,
        window=window,
        oil_bbl_d=oil,
        gas_kscf_d=_series(1.0, window),
        water_bbl_d=_series(0.0, window),
        tested_by="x",
        gap_tolerance_s=360,
    ).test
    assert test.oil_bbl_d == D("550.42")


def test_test_from_separator_refuses_thin_data() -> None:
    """A 1 h hole in a 4 h test leaves 75 % coverage, below 95 %."""
    window = Window(WINDOW.start_us, WINDOW.start_us + 4 * US_PER_HOUR)
    oil = _series(480.0, window)
    times = np.asarray(oil.times_us)
    keep = (times <= window.start_us + US_PER_HOUR) | (times >= window.start_us + 2 * US_PER_HOUR)
    with pytest.raises(AllocationError, match=r"cover 75\.0 % of the test window, below .* 95 %"):
        _ = separator_test(
            well="A",
            tested_on=DAY,
            window=window,
            oil_bbl_d=SeparatorSeries(times[keep], np.asarray(oil.values)[keep]),
            gas_kscf_d=_series(1.0, window),
            water_bbl_d=_series(1.0, window),
            tested_by="x",
            gap_tolerance_s=360,
        ).test


def test_separator_tolerance_per_fluid_and_labels() -> None:
    """Gas read every 30 min, oil and water every minute, over 2 h.

    With one tolerance of 360 s for all, each 30-min step of the gas series is a gap: no
    stretch of the window is covered (0.0 %) and the test is refused, naming the series by its
    label. With the gas series' own tolerance (6 × 30 min = 3 h) it covers the window: gas
    90 kscf/d, coverage 100 % each.
    """
    window = Window(WINDOW.start_us, WINDOW.start_us + 2 * US_PER_HOUR)
    args = {
        "well": "A", "tested_on": DAY, "window": window, "oil_bbl_d": _series(300.0, window),
        "gas_kscf_d": _series(90.0, window, step_s=1800), "water_bbl_d": _series(30.0, window),
        "tested_by": "x",
        "labels": {"gas": "gas_series 'F.A.gas_rate'"},
    }  # fmt: skip
    with pytest.raises(
        AllocationError,
        match=r"^gas_series 'F.A.gas_rate': good samples cover 0\.0 % of the test window",
    ):
        separator_test(**args, gap_tolerance_s=360)  # type: ignore[arg-type]
    tolerances = {"oil": 360.0, "gas": 3 * 3600.0, "water": 360.0}
    found = separator_test(**args, gap_tolerance_s=tolerances)  # type: ignore[arg-type]
    assert (found.test.oil_bbl_d, found.test.gas_kscf_d, found.test.water_bbl_d) == (
        D(300), D(90), D(30),
    )  # fmt: skip
    assert found.coverage_pct == {"oil": 100.0, "gas": 100.0, "water": 100.0}
    assert found.test.duration_h == D("2.00")


def test_well_test_dates_are_dates() -> None:
    test = well_test("A", oil=1, days_before=0)
    assert isinstance(test.tested_on, dt.date)
    assert test.age_days(DAY) == 0
    assert isinstance(test, WellTest)
