"""Downtime with a cause and the production it defers; BSW, GOR and WOR."""

from __future__ import annotations

import pytest

from anh_reporter.allocation.deferred import (
    CauseCodes,
    DowntimeEvent,
    deferred_for_events,
    deferred_production,
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
