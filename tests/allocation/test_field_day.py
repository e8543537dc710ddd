"""A demo-like field day end to end (pure): topology → allocation of oil, gas and water → per-well
rows with ratios and deferred production → balances."""

from __future__ import annotations

from decimal import Decimal

import pytest

from anh_reporter.allocation.balances import TankStock, balances_from_totals
from anh_reporter.allocation.deferred import DowntimeEvent, deferred_for_events
from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.field_day import WellDayInput, allocate_field_day
from anh_reporter.allocation.findings import Code
from anh_reporter.allocation.fluids import FLUIDS
from anh_reporter.allocation.topology import field_totals
from anh_reporter.allocation.well_tests import WellTestState

from .helpers import WINDOW, D, hours_us, in_force, well_test
from .test_topology import demo_topology

# well: (oil bbl/d, gas kscf/d, water bbl/d, test age in days, hours on)
WELLS = {
    "W-1": (2400, 300, 10000, 5, 24),
    "W-2": (1200, 150, 5000, 30, 24),
    "W-3": (2400, 300, 10000, 60, 24),
    "W-4": (1200, 150, 5000, 89, 24),
    "W-5": (600, 75, 2500, 120, 24),
    "W-6": (2400, 300, 10000, 15, 20),
}
MEASURED = {"OIL-PROD": D("10290.00"), "GAS-PROD": D("1200.50"), "WAT-PROD": D("40000.00")}


def inputs() -> list[WellDayInput]:
    out = []
    for code, (oil, gas, water, age, hours) in WELLS.items():
        test = in_force(well_test(code, oil=oil, gas=gas, water=water, days_before=age))
        deferred = None
        if code == "W-6":
            events = [DowntimeEvent(code, hours_us(9), hours_us(13), "power_failure")]
            deferred = deferred_for_events(code, events, WINDOW, test)
        out.append(WellDayInput(code, D(hours), test, pump_running_h=D(hours), deferred=deferred))
    return out


def test_demo_field_day_by_hand() -> None:
    """Theoretical oil: 2400, 1200, 2400, 1200, 600 (× 24 h / 24) and W-6 2400 × 20 / 24 = 2000:
    Σ 9800; measured 10 290.00 → factor 1.05: 2520.00, 1260.00, 2520.00, 1260.00, 630.00, 2100.00.
    Gas: Σ 1225, measured 1200.50 → factor 0.98: 294.00, 147.00, 294.00, 147.00, 73.50, 245.00.
    Water (in cents, weights rate × hours 240 000, 120 000, 240 000, 120 000, 60 000, 200 000,
    Σ 980 000): 4 000 000 × w / 980 000 → floors 979 591, 489 795, 979 591, 489 795, 244 897,
    816 326 (Σ 3 999 995); remainders .836, .918, .836, .918, .959, .530: the 5 cents left go
    to W-5, W-2, W-4, W-1, W-3 → 9795.92, 4897.96, 9795.92, 4897.96, 2448.98, 8163.26 = 40 000.00.
    Factor 40 000 × 24 / 980 000 = 0.979591... → 0.97959.
    """
    day = allocate_field_day(demo_topology(), MEASURED, inputs())
    rows = {w.well: w for w in day.wells}
    assert [rows[c].oil_bbl for c in WELLS] == [
        D(v) for v in ("2520.00", "1260.00", "2520.00", "1260.00", "630.00", "2100.00")
    ]
    assert [rows[c].gas_kscf for c in WELLS] == [
        D(v) for v in ("294.00", "147.00", "294.00", "147.00", "73.50", "245.00")
    ]
    assert [rows[c].water_bbl for c in WELLS] == [
        D(v) for v in ("9795.92", "4897.96", "9795.92", "4897.96", "2448.98", "8163.26")
    ]
    assert rows["W-1"].factors == {"oil": D("1.05"), "gas": D("0.98"), "water": D("0.97959")}
    assert rows["W-1"].pmos == {"oil": "OIL-PROD", "gas": "GAS-PROD", "water": "WAT-PROD"}
    for pmo in day.pmos:
        assert pmo.allocated_total == MEASURED[pmo.pmo]
    for fluid in FLUIDS:
        total = sum((w.volume(fluid) or Decimal(0) for w in day.wells), Decimal(0))
        assert total == MEASURED[f"{fluid[:3].upper()}-PROD"]


def test_demo_well_rows() -> None:
    """W-1: GOR 294 000 / 2520 = 116.67 → 116.7 scf/bbl; BSW 9795.92 / 12 315.92 = 79.5387 %
    → 79.54; WOR 9795.92 / 2520 = 3.8873 → 3.887. W-6 down 4 h (power failure): deferred oil
    2400 × 4 / 24 = 400.00, gas 50.00, water 1666.666... → 1666.67. W-5's test (120 days) is
    used, flagged."""
    day = allocate_field_day(demo_topology(), MEASURED, inputs())
    rows = {w.well: w for w in day.wells}
    w1 = rows["W-1"].ratios
    assert (w1.gor_scf_bbl, w1.bsw_pct, w1.wor) == (D("116.7"), D("79.54"), D("3.887"))
    deferred = rows["W-6"].deferred
    assert deferred is not None
    (cause,) = deferred.volumes
    assert (cause.cause, cause.hours_down) == ("power_failure", D(4))
    assert (cause.oil_bbl, cause.gas_kscf, cause.water_bbl) == (
        D("400.00"),
        D("50.00"),
        D("1666.67"),
    )
    assert rows["W-5"].test_state is WellTestState.EXPIRED and rows["W-5"].test_age_days == 120
    assert rows["W-4"].test_state is WellTestState.VALID
    expired = [f for f in day.findings if f.code is Code.TEST_EXPIRED]
    assert {f.target for f in expired} == {"W-5"}
    assert len(expired) == 1  # flagged by oil, gas and water alike: said once
    assert {f.code for f in day.findings} == {Code.TEST_EXPIRED}


def test_demo_balances_close_and_a_broken_gauge_opens_oil() -> None:
    """Oil 10 290.00 = LACT 10 250.00 + Δ stock (1235.00 − 1200.00) + consumption 5.00.
    Gas 1200.50 = fuel 400.50 + flare 800.00. Water 40 000.00 = disposal 40 000.00.
    A closing gauge of 1435.00 (200 bbl too high) leaves a residual of −200.00 > 51.45
    (0.5 % of 10 290)."""
    volumes = {
        **MEASURED,
        "LACT": D("10250.00"),
        "GAS-FUEL": D("400.50"),
        "GAS-FLARE": D("800.00"),
        "WAT-DISP": D("40000.00"),
    }
    totals = field_totals(demo_topology(), volumes)
    good = balances_from_totals(
        totals, tanks=[TankStock("TK-1", D("1200.00"), D("1235.00"))], oil_consumption=D(5)
    )
    assert good.findings == ()
    assert good.oil is not None and good.oil.residual == 0
    broken = balances_from_totals(
        totals, tanks=[TankStock("TK-1", D("1200.00"), D("1435.00"))], oil_consumption=D(5)
    )
    assert broken.oil is not None and broken.oil.residual == D("-200.00")
    assert broken.oil.tolerance == D("51.45")
    assert [f.code for f in broken.findings] == [Code.BALANCE_OPEN]


def test_pmo_without_volume_and_pump_disagreement() -> None:
    """No gas volume: gas not allocated (error on the PMO). W-3's pump never ran yet oil and
    water are allocated to it: 'producing with the pump off'."""
    wells = [
        w if w.well != "W-3" else WellDayInput(w.well, w.hours_on, w.test, pump_running_h=D(0))
        for w in inputs()
    ]
    measured = {k: v for k, v in MEASURED.items() if k != "GAS-PROD"}
    day = allocate_field_day(demo_topology(), measured, wells)
    assert all(w.gas_kscf is None for w in day.wells)
    codes = {(f.code, f.target) for f in day.findings}
    assert (Code.NO_MEASURED_VOLUME, "GAS-PROD") in codes
    assert (Code.PRODUCING_PUMP_OFF, "W-3") in codes


def test_wells_must_match_the_topology() -> None:
    with pytest.raises(AllocationError, match=r"missing \['W-6'\], not in the topology \[\]"):
        allocate_field_day(demo_topology(), MEASURED, inputs()[:5])
