"""Field topology: paths from wells to production PMOs, errors that name the problem, totals."""

from __future__ import annotations

import pytest

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.fluids import Fluid
from anh_reporter.allocation.topology import (
    Facility,
    FacilityKind,
    Role,
    Topology,
    TopologyError,
    TopologyPmo,
    TopologyWell,
    field_totals,
)

from .helpers import D

BATTERY = Facility("BAT-1", FacilityKind.BATTERY, "Batería 1")
STATION = Facility("EST-1", FacilityKind.STATION, "Estación 1")


def demo_pmos() -> tuple[TopologyPmo, ...]:
    """The demo battery: oil production → LACT; gas production → fuel, flare; water → disposal."""
    return (
        TopologyPmo("OIL-PROD", "BAT-1", "oil", Role.PRODUCTION),
        TopologyPmo("LACT", "BAT-1", "oil", Role.SALES, downstream_of="OIL-PROD"),
        TopologyPmo("GAS-PROD", "BAT-1", "gas", Role.PRODUCTION),
        TopologyPmo("GAS-FUEL", "BAT-1", "gas", Role.FUEL, downstream_of="GAS-PROD"),
        TopologyPmo("GAS-FLARE", "BAT-1", "gas", Role.FLARE, downstream_of="GAS-PROD"),
        TopologyPmo("WAT-PROD", "BAT-1", "water", Role.PRODUCTION),
        TopologyPmo("WAT-DISP", "BAT-1", "water", Role.WATER_DISPOSAL, downstream_of="WAT-PROD"),
    )


def demo_topology() -> Topology:
    wells = tuple(TopologyWell(f"W-{i}", "BAT-1") for i in range(1, 7))
    return Topology("CAMPO", (BATTERY,), wells, demo_pmos())


def test_demo_battery_closes() -> None:
    topo = demo_topology()
    assert topo.production_pmo("W-1", "oil") == "OIL-PROD"
    assert topo.production_pmo("W-1", "gas") == "GAS-PROD"
    assert topo.production_pmo("W-1", "water") == "WAT-PROD"
    assert topo.wells_at("GAS-PROD") == tuple(f"W-{i}" for i in range(1, 7))
    assert [p.code for p in topo.production_pmos()] == ["GAS-PROD", "OIL-PROD", "WAT-PROD"]
    assert topo.upstream("LACT") == ("OIL-PROD",)


def test_battery_transfer_to_station_production() -> None:
    """Battery wells enter the transfer meter, which feeds the station's production PMO; the
    station's own wells enter that production PMO directly (its upstream is at another
    facility). Both groups are allocated at the station."""
    pmos = (
        TopologyPmo("BAT-T", "BAT-1", "oil", Role.TRANSFER),
        TopologyPmo("EST-P", "EST-1", "oil", Role.PRODUCTION, downstream_of="BAT-T"),
        TopologyPmo("EST-LACT", "EST-1", "oil", Role.SALES, downstream_of="EST-P"),
    )
    wells = (
        TopologyWell("B1", "BAT-1", frozenset({"oil"})),
        TopologyWell("S1", "EST-1", frozenset({"oil"})),
    )
    topo = Topology("CAMPO", (BATTERY, STATION), wells, pmos)
    assert topo.wells_at("EST-P") == ("B1", "S1")
    assert topo.production_pmo("B1", "gas") is None


def test_well_without_a_path_for_a_fluid_it_produces() -> None:
    pmos = tuple(p for p in demo_pmos() if p.fluid != "gas")
    with pytest.raises(TopologyError) as caught:
        Topology("CAMPO", (BATTERY,), (TopologyWell("W-1", "BAT-1"),), pmos)
    assert str(caught.value) == (
        "topology of field 'CAMPO': well 'W-1' at 'BAT-1' has no path to a production PMO of "
        "gas (no PMO of it to enter)"
    )


def test_well_that_only_reaches_a_disposition() -> None:
    """Gas enters a flare meter with no production PMO anywhere downstream."""
    pmos = (TopologyPmo("FLARE", "BAT-1", "gas", Role.FLARE),)
    wells = (TopologyWell("W-1", "BAT-1", frozenset({"gas"})),)
    with pytest.raises(TopologyError, match=r"no path to a production PMO of gas \(entering at"):
        Topology("CAMPO", (BATTERY,), wells, pmos)


def test_two_production_pmos_in_series() -> None:
    pmos = (
        TopologyPmo("SEP", "BAT-1", "oil", Role.PRODUCTION),
        TopologyPmo("LACT", "BAT-1", "oil", Role.PRODUCTION, downstream_of="SEP"),
    )
    with pytest.raises(TopologyError) as caught:
        Topology("CAMPO", (BATTERY,), (TopologyWell("W", "BAT-1", frozenset({"oil"})),), pmos)
    assert caught.value.problems == (
        "production PMOs 'SEP' and 'LACT' are in series for oil: the same oil would be counted "
        "twice; make one of them a transfer PMO",
    )


def test_cycle() -> None:
    pmos = (
        TopologyPmo("A", "BAT-1", "oil", Role.PRODUCTION, downstream_of="C"),
        TopologyPmo("B", "BAT-1", "oil", Role.TRANSFER, downstream_of="A"),
        TopologyPmo("C", "BAT-1", "oil", Role.TRANSFER, downstream_of="B"),
    )
    with pytest.raises(TopologyError) as caught:
        Topology("CAMPO", (BATTERY,), (), pmos)
    assert caught.value.problems == ("PMOs form a cycle: A → B → C → A",)


def test_every_problem_in_one_error() -> None:
    pmos = (
        TopologyPmo("OIL", "NOWHERE", "oil", Role.PRODUCTION),
        TopologyPmo("TORCH", "BAT-1", "oil", Role.FLARE),
        TopologyPmo("X", "BAT-1", "gas", Role.FUEL, downstream_of="MISSING"),
    )
    with pytest.raises(TopologyError) as caught:
        Topology("CAMPO", (BATTERY,), (), pmos)
    assert caught.value.problems == (
        "PMO 'OIL' is at unknown facility 'NOWHERE'",
        "PMO 'TORCH' measures oil in role flare, which only fits ['gas']",
        "PMO 'X' is downstream of unknown PMO 'MISSING'",
    )
    assert "; and 2 more problem(s): " in str(caught.value)


def test_link_between_fluids_and_duplicates() -> None:
    pmos = (
        TopologyPmo("OIL", "BAT-1", "oil", Role.PRODUCTION),
        TopologyPmo("GAS", "BAT-1", "gas", Role.PRODUCTION, downstream_of="OIL"),
        TopologyPmo("GAS", "BAT-1", "gas", Role.FUEL),
    )
    with pytest.raises(TopologyError) as caught:
        Topology("CAMPO", (BATTERY, BATTERY), (), pmos)
    assert caught.value.problems[:2] == (
        "duplicate facility code 'BAT-1'",
        "duplicate PMO code 'GAS'",
    )


def test_parallel_production_pmos_need_the_wells_entry() -> None:
    pmos = (
        TopologyPmo("TRAIN-A", "BAT-1", "oil", Role.PRODUCTION),
        TopologyPmo("TRAIN-B", "BAT-1", "oil", Role.PRODUCTION),
    )
    oil: frozenset[Fluid] = frozenset({"oil"})
    with pytest.raises(TopologyError, match=r"reaches production PMOs \['TRAIN-A', 'TRAIN-B'\]"):
        Topology("CAMPO", (BATTERY,), (TopologyWell("W", "BAT-1", oil),), pmos)
    wells = (
        TopologyWell("W1", "BAT-1", oil, entries=("TRAIN-A",)),
        TopologyWell("W2", "BAT-1", oil, entries=("TRAIN-B",)),
    )
    topo = Topology("CAMPO", (BATTERY,), wells, pmos)
    assert topo.wells_at("TRAIN-B") == ("W2",)


def test_field_totals_by_role_count_a_fluid_once_per_path() -> None:
    """Two sales meters in series (LACT then a custody check meter) count once: LACT only."""
    pmos = (
        *demo_pmos(),
        TopologyPmo("CHECK", "BAT-1", "oil", Role.SALES, downstream_of="LACT"),
    )
    topo = Topology("CAMPO", (BATTERY,), (TopologyWell("W", "BAT-1"),), pmos)
    volumes = {
        "OIL-PROD": D("1000.00"),
        "LACT": D("990.00"),
        "CHECK": D("989.50"),
        "GAS-PROD": D("300.00"),
        "GAS-FUEL": D("120.00"),
        "GAS-FLARE": D("180.00"),
        "WAT-PROD": D("5000.00"),
    }
    totals = field_totals(topo, volumes)
    assert totals.total("oil", Role.SALES) == D("990.00")
    assert totals.counted[("oil", Role.SALES)] == ("LACT",)
    assert totals.left_out == ("CHECK",)
    assert totals.missing == ("WAT-DISP",)
    assert totals.total("gas", Role.FUEL) + totals.total("gas", Role.FLARE) == D("300.00")
    assert totals.total("gas", Role.VENT) == 0


def test_field_totals_refuse_unknown_pmos() -> None:
    with pytest.raises(AllocationError, match=r"PMOs \['NOPE'\] that are not in field 'CAMPO'"):
        field_totals(demo_topology(), {"NOPE": D(1)})


def test_roles_and_fluids_given_as_plain_strings() -> None:
    """A topology read from a file may carry plain strings: they work like the enums, and an
    unknown role or fluid is named."""
    pmos = (
        TopologyPmo("OIL", "BAT-1", "oil", "production"),  # type: ignore[arg-type]
        TopologyPmo("LACT", "BAT-1", "oil", "sales", downstream_of="OIL"),  # type: ignore[arg-type]
    )
    wells = (TopologyWell("W", "BAT-1", frozenset({"oil"})),)
    topo = Topology("CAMPO", (BATTERY,), wells, pmos)
    assert topo.production_pmo("W", "oil") == "OIL"
    bad = (TopologyPmo("X", "BAT-1", "oil", "custody"),)  # type: ignore[arg-type]
    with pytest.raises(TopologyError, match="has role 'custody', not one of"):
        Topology("CAMPO", (BATTERY,), (), bad)
    odd = (TopologyWell("W", "BAT-1", frozenset({"condensate"})),)  # type: ignore[arg-type]
    with pytest.raises(TopologyError, match=r"well 'W' produces \['condensate'\]"):
        Topology("CAMPO", (BATTERY,), odd, pmos)
