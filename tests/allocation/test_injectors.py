"""Injectors take no part in the production allocation (pure: topology, hours on, field day).

The field: the demo battery's PMOs (oil, gas and water production PMOs), three producers and
one injector ``INY-1``. Producers (oil, gas, water bbl/d test rates, hours on):

* P-1: 600, 60, 1000, 24 h → theoretical 600, 60, 1000;
* P-2: 300, 30, 500, 24 h → 300, 30, 500;
* P-3: 200, 20, 400, 12 h → 200 × 12 / 24 = 100, 10, 200.

Σ theoretical oil 1000, gas 100, water 1700. Measured oil 1050.00 → factor 1.05: 630.00,
315.00, 105.00; gas 100.00 → factor 1: 60.00, 30.00, 10.00; water 1700.00 → factor 1: 1000.00,
500.00, 200.00. The injector changes none of it: it has no test, no hours and no volume.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from anh_reporter.allocation.field_day import FieldDay, WellDayInput, allocate_field_day
from anh_reporter.allocation.forma9sh import WellDailyFigures, WellMaster, monthly_form
from anh_reporter.allocation.forma9sh_files import COLUMNS, table
from anh_reporter.allocation.hours_on import WellStatus, resolve_hours_on
from anh_reporter.allocation.topology import Topology, TopologyError, TopologyWell
from anh_reporter.allocation.well_tests import WellTestState, without_test

from .helpers import DAY, D, in_force, well_test
from .test_topology import BATTERY, demo_pmos

PRODUCERS = {"P-1": (600, 60, 1000, 24), "P-2": (300, 30, 500, 24), "P-3": (200, 20, 400, 12)}
MEASURED = {"OIL-PROD": D("1050.00"), "GAS-PROD": D("100.00"), "WAT-PROD": D("1700.00")}
OIL = {"P-1": D("630.00"), "P-2": D("315.00"), "P-3": D("105.00")}
GAS = {"P-1": D("60.00"), "P-2": D("30.00"), "P-3": D("10.00")}
WATER = {"P-1": D("1000.00"), "P-2": D("500.00"), "P-3": D("200.00")}


def topology(*, injector: bool = True) -> Topology:
    wells = [TopologyWell(code, "BAT-1") for code in PRODUCERS]
    if injector:
        wells.append(TopologyWell("INY-1", "BAT-1", frozenset(), injector=True))
    return Topology("CAMPO", (BATTERY,), tuple(wells), demo_pmos())


def producers() -> list[WellDayInput]:
    return [
        WellDayInput(code, D(hours), in_force(well_test(code, oil=oil, gas=gas, water=water)))
        for code, (oil, gas, water, hours) in PRODUCERS.items()
    ]


def injector_input(hours: str = "0.00") -> WellDayInput:
    return WellDayInput(
        "INY-1", D(hours), without_test("INY-1", DAY), WellStatus.INJECTING, injecting=True
    )


def volumes(day: FieldDay) -> dict[str, tuple[Decimal | None, ...]]:
    return {w.well: (w.oil_bbl, w.gas_kscf, w.water_bbl) for w in day.wells}


def test_an_injector_is_allocated_at_no_production_pmo() -> None:
    topo = topology()
    assert topo.injectors == frozenset({"INY-1"})
    assert [topo.production_pmo("INY-1", f) for f in ("oil", "gas", "water")] == [None] * 3
    assert topo.wells_at("WAT-PROD") == ("P-1", "P-2", "P-3")
    assert topo.warnings == ()


def test_an_injector_with_fluids_or_entries_is_refused() -> None:
    wells = (TopologyWell("INY-1", "BAT-1", frozenset({"water"}), ("WAT-PROD",), injector=True),)
    with pytest.raises(TopologyError) as caught:
        Topology("CAMPO", (BATTERY,), wells, demo_pmos())
    assert str(caught.value) == (
        "topology of field 'CAMPO': well 'INY-1' is an injector and produces no fluid: it has "
        "fluids ['water'] and entries ['WAT-PROD'], both must be empty"
    )


def test_an_injecting_well_is_on_0_h_without_a_finding() -> None:
    hours = resolve_hours_on("INY-1", status=WellStatus.INJECTING)
    assert (hours.hours, hours.source, hours.findings) == (D("0.00"), "status", ())


def test_the_producers_are_allocated_as_without_the_injector() -> None:
    """The numbers of the module docstring, with and without INY-1 in the field."""
    with_injector = allocate_field_day(topology(), MEASURED, [*producers(), injector_input()])
    without = allocate_field_day(topology(injector=False), MEASURED, producers())
    expected = {c: (OIL[c], GAS[c], WATER[c]) for c in PRODUCERS}
    assert volumes(without) == expected
    assert volumes(with_injector) == {**expected, "INY-1": (None, None, None)}
    assert with_injector.pmos == without.pmos  # factors 1.05000, 1.00000, 1.00000 both times
    assert [a.factor for a in with_injector.pmos] == [D("1.00000"), D("1.05000"), D("1.00000")]
    assert with_injector.findings == without.findings == ()


def test_the_injector_row_has_nothing_allocated() -> None:
    day = allocate_field_day(topology(), MEASURED, [*producers(), injector_input()])
    row = next(w for w in day.wells if w.well == "INY-1")
    assert (row.status, row.hours_on, row.test_state) == (
        WellStatus.INJECTING, D("0.00"), WellTestState.NONE,
    )  # fmt: skip
    assert (row.pmos, row.factors, row.deferred, row.findings) == ({}, {}, None, ())
    assert (row.ratios.bsw_pct, row.ratios.gor_scf_bbl, row.ratios.wor) == (None, None, None)


def test_a_producer_injecting_all_day_leaves_the_allocation() -> None:
    """P-3 was converted to injection before the day: oil 1050.00 over P-1 600 and P-2 300
    (Σ 900): 1050 × 600 / 900 = 700.00, 1050 × 300 / 900 = 350.00 (factor 1.16667, out of the
    0.85–1.15 band: a warning; gas 100 / 90 = 1.11111 and water 1700 / 1500 = 1.13333 are in
    it); water 1700.00 over 1000 + 500: 1133.33… and 566.66…, floors
    1133.33 + 566.66 = 1699.99, the cent left to the larger remainder (P-2, .666 > .333):
    1133.33 and 566.67. P-3 needs no test and raises no finding of its own."""
    inputs = producers()
    p3 = inputs[2]
    inputs[2] = WellDayInput(p3.well, D("0.00"), p3.test, WellStatus.INJECTING, injecting=True)
    day = allocate_field_day(topology(injector=False), MEASURED, inputs)
    assert volumes(day)["P-1"][0::2] == (D("700.00"), D("1133.33"))
    assert volumes(day)["P-2"][0::2] == (D("350.00"), D("566.67"))
    assert volumes(day)["P-3"] == (None, None, None)
    assert [(str(f.code), f.target) for f in day.findings] == [
        ("allocation_factor_out_of_band", "OIL-PROD")
    ]


def test_hours_entered_for_an_injector_are_a_conflict_not_a_volume() -> None:
    day = allocate_field_day(topology(), MEASURED, [*producers(), injector_input("6")])
    row = next(w for w in day.wells if w.well == "INY-1")
    assert volumes(day)["INY-1"] == (None, None, None)
    assert row.hours_on == D("0.00")  # not signed as production hours (nor counted as a day on)
    assert [(str(f.code), str(f.severity), f.message) for f in row.findings] == [
        (
            "status_conflict",
            "warning",
            "an injecting well with 6 h on production typed: they are not used (0 h on "
            "production) and it is not allocated; check the status log or the hours",
        )
    ]


def test_the_forma_9sh_shows_an_injector_with_nothing_produced() -> None:
    """February 2026 (28 days), every day of INY-1 stored as the report keeps it: injecting,
    0 h, no volume (read as 0). The row: Inyector / Inyector, 0 days on, 0 h, 0.00 bbl, no
    ratio, no correction factor, and no finding (every day is there)."""
    dailies = [
        WellDailyFigures(
            "INY-1", dt.date(2026, 2, d), D("0.00"), D(0), D(0), D(0), WellStatus.INJECTING
        )
        for d in range(1, 29)
    ]
    form = monthly_form(
        field_code="CAMPO", contract="C", year=2026, month=2,
        wells=[WellMaster("INY-1", "Inyector 1", "50568", "injector")], dailies=dailies,
    )  # fmt: skip
    assert form.findings == ()
    row = dict(zip((key for key, _ in COLUMNS), table(form)[0], strict=True))
    assert (row["production_method"], row["status"], row["days_on"], row["hours_on"]) == (
        "Inyector", "Inyector", 0, D("0.00"),
    )  # fmt: skip
    assert (row["oil_bbl"], row["gas_kscf"], row["water_bbl"]) == (D(0), D(0), D(0))
    assert (row["bsw_pct"], row["gor_scf_bbl"], row["correction_factor"]) == (None, None, None)
