"""Downtime with a cause and the production it defers; BSW, GOR and WOR."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anh_reporter.allocation.deferred import (
    DEFAULT_CAUSE_CODES,
    CauseCodes,
    DowntimeEvent,
    deferred_for_events,
    deferred_production,
    deferred_total,
    downtime_hours,
)
from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.findings import Code
from anh_reporter.allocation.ratios import well_ratios
from anh_reporter.allocation.well_tests import without_test

from .helpers import DAY, WINDOW, D, hours_us, in_force, well_test


def test_deferred_volume_is_test_rate_times_hours_down() -> None:
    """ESP down 4 h; test 480 bbl/d oil, 120 kscf/d gas, 1200 bbl/d water:
    oil 480 × 4 / 24 = 80.00, gas 120 × 4 / 24 = 20.00, water 1200 × 4 / 24 = 200.00."""
    test = in_force(well_test("A", oil=480, gas=120, water=1200))
    events = [DowntimeEvent("A", hours_us(8), hours_us(12), "artificial_lift_failure")]
    got = deferred_for_events("A", events, WINDOW, test)
    (row,) = got.volumes
    assert (row.cause, row.hours_down) == ("artificial_lift_failure", D(4))
    assert (row.oil_bbl, row.gas_kscf, row.water_bbl) == (D("80.00"), D("20.00"), D("200.00"))
    assert got.total("oil") == D("80.00")
    assert got.hours_down == D(4)
    assert got.findings == ()


def test_events_are_clipped_to_the_day_and_summed_per_cause() -> None:
    """Power failure from 2 h before the day to 01:30 (1.5 h in the day) and again 22:00–23:00;
    a blockade from 23:30 to past the day's end (0.5 h): power 2.5 h, blockade 0.5 h.
    Oil 100 bbl/d: power 100 × 2.5 / 24 = 10.4166... → 10.42; blockade 2.0833... → 2.08."""
    test = in_force(well_test("A", oil=100))
    events = [
        DowntimeEvent("A", hours_us(-2), hours_us(1.5), "power_failure"),
        DowntimeEvent("A", hours_us(22), hours_us(23), "power_failure"),
        DowntimeEvent("A", hours_us(23.5), hours_us(30), "community_blockade"),
        DowntimeEvent("A", hours_us(40), hours_us(41), "weather"),
    ]
    assert downtime_hours("A", events, WINDOW) == {
        "community_blockade": D("0.5"),
        "power_failure": D("2.5"),
    }
    got = deferred_for_events("A", events, WINDOW, test)
    assert {v.cause: v.oil_bbl for v in got.volumes} == {
        "community_blockade": D("2.08"),
        "power_failure": D("10.42"),
    }


def test_causes_add_up_to_the_total_rounded_once() -> None:
    """W-4 (test oil 500 bbl/d, gas 400 kscf/d, water 50 bbl/d) down 1 h for flowline and 4 h
    for power_failure on one day: 5 h down.

    Totals, each rounded once: oil 500 × 5 / 24 = 104.1666… → 104.17; gas 400 × 5 / 24 =
    83.3333… → 83.33; water 50 × 5 / 24 = 10.4166… → 10.42. (Rounding each cause on its own
    gave oil 20.83 + 83.33 = 104.16, gas 16.67 + 66.67 = 83.34, water 2.08 + 8.33 = 10.41.)

    The causes share each total 1 : 4 in cents, largest remainder:
    oil 10417 × 1/5 = 2083.4, × 4/5 = 8333.6 → 2083 + 8333 = 10416, the cent left goes to the
    larger remainder (0.6, power_failure): flowline 20.83, power_failure 83.34;
    gas 8333 × 1/5 = 1666.6, × 4/5 = 6666.4 → 1666 + 6666 = 8332, the cent to flowline (0.6):
    flowline 16.67, power_failure 66.66;
    water 1042 × 1/5 = 208.4, × 4/5 = 833.6 → 208 + 833 = 1041, the cent to power_failure:
    flowline 2.08, power_failure 8.34.
    """
    test = in_force(well_test("W-4", oil=500, gas=400, water=50))
    events = [
        DowntimeEvent("W-4", hours_us(2), hours_us(3), "flowline"),
        DowntimeEvent("W-4", hours_us(10), hours_us(14), "power_failure"),
    ]
    got = deferred_for_events("W-4", events, WINDOW, test)
    assert [(v.cause, v.hours_down, v.oil_bbl, v.gas_kscf, v.water_bbl) for v in got.volumes] == [
        ("flowline", D(1), D("20.83"), D("16.67"), D("2.08")),
        ("power_failure", D(4), D("83.34"), D("66.66"), D("8.34")),
    ]
    assert (got.total("oil"), got.total("gas"), got.total("water")) == (
        D("104.17"), D("83.33"), D("10.42"),
    )  # fmt: skip
    assert got.hours_down == D(5)


def test_equal_remainders_go_to_the_smaller_cause_code() -> None:
    """Oil 100 bbl/d, down 1 h each for weather, flowline and power_failure: 100 × 3 / 24 =
    12.50; 1250 cents / 3 = 416.66… each → 416 × 3 = 1248, 2 cents left, equal remainders: to
    flowline and power_failure (the smaller codes): 4.17, 4.17, weather 4.16 (= 12.50)."""
    hours = {"weather": D(1), "power_failure": D(1), "flowline": D(1)}
    got = deferred_production("A", hours, in_force(well_test("A", oil=100)))
    assert {v.cause: v.oil_bbl for v in got.volumes} == {
        "flowline": D("4.17"),
        "power_failure": D("4.17"),
        "weather": D("4.16"),
    }
    assert got.total("oil") == D("12.50")


def test_causes_of_zero_hours_defer_nothing() -> None:
    """A cause clipped to 0.00 h (under 18 s of the day) defers 0.00 of every fluid."""
    got = deferred_production("A", {"other": D("0.00")}, in_force(well_test("A", oil=100)))
    assert [(v.oil_bbl, v.gas_kscf, v.water_bbl) for v in got.volumes] == [
        (D("0.00"), D("0.00"), D("0.00"))
    ]


_rates = st.integers(min_value=0, max_value=5_000_000).map(lambda c: D(c) / 100)


@settings(max_examples=200, deadline=None)
@given(
    rates=st.tuples(_rates, _rates, _rates),
    hours=st.dictionaries(
        st.sampled_from(DEFAULT_CAUSE_CODES),
        st.integers(min_value=0, max_value=600).map(lambda c: D(c) / 100),
        min_size=1,
        max_size=4,
    ),
)
def test_causes_always_add_up_to_the_total_rounded_once(
    rates: tuple[Decimal, Decimal, Decimal], hours: dict[str, Decimal]
) -> None:
    """For any rates and hours per cause (≤ 6 h each, ≤ 24 h in all): per fluid the causes add
    up to round_half_up(rate × Σ hours / 24, 0.01) exactly, each is a non-negative whole cent."""
    oil, gas, water = rates
    test = in_force(well_test("A", oil=str(oil), gas=str(gas), water=str(water)))
    got = deferred_production("A", hours, test)
    total_h = sum(hours.values(), D(0))
    assert got.hours_down == total_h
    for fluid, rate in zip(("oil", "gas", "water"), rates, strict=True):
        parts = [v.volume(fluid) for v in got.volumes]
        assert all(p is not None and p >= 0 and p % D("0.01") == 0 for p in parts)
        expected = (rate * total_h / 24).quantize(D("0.01"), ROUND_HALF_UP)
        assert got.total(fluid) == expected == deferred_total(rate, total_h)
        assert sum(p for p in parts if p is not None) == expected


def test_overlapping_events_are_refused() -> None:
    events = [
        DowntimeEvent("A", hours_us(1), hours_us(3), "power_failure"),
        DowntimeEvent("A", hours_us(2), hours_us(4), "flowline"),
    ]
    with pytest.raises(AllocationError, match="downtime events of well 'A' overlap"):
        downtime_hours("A", events, WINDOW)


def test_causes_come_from_the_fields_list() -> None:
    causes = CauseCodes(("falla_energia", "otro"))
    event = DowntimeEvent("A", hours_us(1), hours_us(2), "power_failure")
    with pytest.raises(AllocationError, match=r"'power_failure' is not on the field's list"):
        downtime_hours("A", [event], WINDOW, causes)
    ok = DowntimeEvent("A", hours_us(1), hours_us(2), "falla_energia")
    assert downtime_hours("A", [ok], WINDOW, causes) == {"falla_energia": D(1)}


def test_bad_events() -> None:
    with pytest.raises(AllocationError, match=r"ends .* before it starts"):
        DowntimeEvent("A", hours_us(2), hours_us(1), "other")
    with pytest.raises(AllocationError, match="given for well 'B'"):
        downtime_hours("B", [DowntimeEvent("A", hours_us(1), hours_us(2), "other")], WINDOW)
    with pytest.raises(AllocationError, match="add up to 30 h"):
        deferred_production("A", {"other": D(20), "weather": D(10)}, without_test("A", DAY))


def test_no_test_keeps_the_hours_and_warns() -> None:
    got = deferred_production("A", {"flowline": D(6)}, without_test("A", DAY))
    assert got.volumes[0].oil_bbl is None
    assert got.total("oil") is None
    assert [f.code for f in got.findings] == [Code.DEFERRED_WITHOUT_TEST]


def test_ratios() -> None:
    """Oil 400, gas 60 kscf, water 100: BSW 100 / 500 = 20.00 %, GOR 60 000 / 400 = 150.0
    scf/bbl, WOR 100 / 400 = 0.250; no oil: no GOR, no WOR; nothing: nothing."""
    r = well_ratios(D(400), D(60), D(100))
    assert (r.bsw_pct, r.gor_scf_bbl, r.wor) == (D("20.00"), D("150.0"), D("0.250"))
    dry = well_ratios(D(0), D(5), D(100))
    assert (dry.bsw_pct, dry.gor_scf_bbl, dry.wor) == (D("100.00"), None, None)
    none = well_ratios(D(0), D(0), D(0))
    assert (none.bsw_pct, none.gor_scf_bbl, none.wor) == (None, None, None)
    partial = well_ratios(D(10), None, D(5))
    assert partial.gor_scf_bbl is None and partial.wor == D("0.500")
