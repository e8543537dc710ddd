"""Converging flows: two batteries' transfer meters feed one station's production PMO.

    BAT-1: B1-T (oil, transfer) ──┐
                                  ├─> EST-1: ST-OIL (oil, production) ─> LACT (oil, sales)
    BAT-2: B2-T (oil, transfer) ──┘

Wells at either battery reach ST-OIL through their battery's transfer meter; wells at the
station enter ST-OIL directly (its upstream PMOs are at other facilities).
"""

from __future__ import annotations

import pytest

from anh_reporter.allocation.topology import (
    Facility,
    FacilityKind,
    Role,
    Topology,
    TopologyError,
    TopologyPmo,
    TopologyWell,
    field_totals,
    upstream_value,
)

from .helpers import D

OIL = frozenset({"oil"})
GAS = frozenset({"gas"})
FACILITIES = (
    Facility("BAT-1", FacilityKind.BATTERY),
    Facility("BAT-2", FacilityKind.BATTERY),
    Facility("EST-1", FacilityKind.STATION),
)


def station_pmos(station_upstream: str | tuple[str, ...] = ("B1-T", "B2-T")) -> list[TopologyPmo]:
    return [
        TopologyPmo("B1-T", "BAT-1", "oil", Role.TRANSFER),
        TopologyPmo("B2-T", "BAT-2", "oil", Role.TRANSFER),
        TopologyPmo("ST-OIL", "EST-1", "oil", Role.PRODUCTION, downstream_of=station_upstream),
        TopologyPmo("LACT", "EST-1", "oil", Role.SALES, downstream_of="ST-OIL"),
    ]


def wells() -> tuple[TopologyWell, ...]:
    return (
        TopologyWell("W-1", "BAT-1", OIL),
        TopologyWell("W-2", "BAT-2", OIL),
        TopologyWell("W-3", "BAT-2", OIL),
        TopologyWell("W-9", "EST-1", OIL),
    )


def test_wells_of_both_batteries_are_allocated_at_the_station() -> None:
    topo = Topology("CAMPO", FACILITIES, wells(), tuple(station_pmos()))
    for well in ("W-1", "W-2", "W-3", "W-9"):
        assert topo.production_pmo(well, "oil") == "ST-OIL"
    assert topo.wells_at("ST-OIL") == ("W-1", "W-2", "W-3", "W-9")
    assert topo.wells_at("B1-T") == ()
    # Nearest first, each once: ST-OIL, then both transfers (sorted).
    assert topo.upstream("LACT") == ("ST-OIL", "B1-T", "B2-T")
    assert topo.pmo("ST-OIL").upstreams == ("B1-T", "B2-T")
    assert topo.warnings == ()


def test_a_single_upstream_leaves_the_other_battery_without_a_path() -> None:
    """What the reviewer saw before lists were accepted: BAT-2's wells reach no production PMO."""
    with pytest.raises(TopologyError) as caught:
        Topology("CAMPO", FACILITIES, wells(), tuple(station_pmos("B1-T")))
    assert caught.value.problems == (
        "well 'W-2' at 'BAT-2' has no path to a production PMO of oil (entering at ['B2-T'])",
        "well 'W-3' at 'BAT-2' has no path to a production PMO of oil (entering at ['B2-T'])",
    )


def test_a_production_pmo_on_one_inflow_is_in_series_with_the_station() -> None:
    """BAT-1's meter is a production PMO: BAT-1's oil would be counted there and at ST-OIL."""
    pmos = station_pmos()
    pmos[0] = TopologyPmo("B1-T", "BAT-1", "oil", Role.PRODUCTION)
    with pytest.raises(TopologyError) as caught:
        Topology("CAMPO", FACILITIES, wells(), tuple(pmos))
    assert caught.value.problems == (
        "production PMOs 'B1-T' and 'ST-OIL' are in series for oil: the same oil would be "
        "counted twice; make one of them a transfer PMO",
    )


def test_a_cycle_through_one_of_several_inflows_is_one_line() -> None:
    pmos = station_pmos()
    pmos[1] = TopologyPmo("B2-T", "BAT-2", "oil", Role.TRANSFER, downstream_of="LACT")
    with pytest.raises(TopologyError) as caught:
        Topology("CAMPO", FACILITIES, wells(), tuple(pmos))
    assert caught.value.problems == ("PMOs form a cycle: B2-T → ST-OIL → LACT → B2-T",)


def test_inflows_of_another_fluid_empty_or_repeated_lists_are_refused() -> None:
    pmos = (
        TopologyPmo("B1-T", "BAT-1", "oil", Role.TRANSFER),
        TopologyPmo("B1-GAS", "BAT-1", "gas", Role.PRODUCTION),
        TopologyPmo("ST-OIL", "EST-1", "oil", Role.PRODUCTION, downstream_of=("B1-T", "B1-GAS")),
        TopologyPmo("LACT", "EST-1", "oil", Role.SALES, downstream_of=()),
        TopologyPmo("CHECK", "EST-1", "oil", Role.SALES, downstream_of=("LACT", "LACT")),
    )
    with pytest.raises(TopologyError) as caught:
        Topology("CAMPO", FACILITIES, (), pmos)
    assert caught.value.problems == (
        "PMO 'ST-OIL' (oil) is downstream of PMO 'B1-GAS' (gas): a chain carries one fluid",
        "PMO 'LACT' is downstream of an empty list of PMOs: name at least one, or leave "
        "downstream_of out",
        "PMO 'CHECK' names upstream PMO(s) ['LACT'] more than once",
    )


def test_a_well_entering_another_facilitys_pmo_is_accepted_with_a_warning() -> None:
    """The old workaround: W-2 (at BAT-2) names BAT-1's transfer meter as its entry."""
    pmos = station_pmos("B1-T")
    pmos[1] = TopologyPmo("B2-T", "BAT-2", "oil", Role.TRANSFER, downstream_of="B1-T")
    topo = Topology(
        "CAMPO",
        FACILITIES,
        (TopologyWell("W-1", "BAT-1", OIL), TopologyWell("W-2", "BAT-2", OIL, ("B1-T",))),
        tuple(pmos),
    )
    assert topo.production_pmo("W-2", "oil") == "ST-OIL"
    assert topo.warnings == (
        "well 'W-2' flows to 'BAT-2' but enters PMO 'B1-T' at 'BAT-1': if the well flows there, "
        "set its facility to 'BAT-1'; if 'BAT-2' feeds that facility, name the PMO of 'BAT-2' "
        "in the downstream_of of the PMO it feeds and leave the well's entries out",
    )


def test_field_totals_count_the_battery_transfers_once() -> None:
    """A station inlet meter ST-IN (transfer) repeats both battery transfers: left out.

    transfer = B1-T 200.00 + B2-T 290.00 = 490.00 (ST-IN 495.00 is not added: every inflow of
    it was measured in transfer already); production = ST-OIL 500.00 (not B1-T + B2-T);
    sales = LACT 480.00.
    """
    pmos = station_pmos("ST-IN")
    pmos.insert(2, TopologyPmo("ST-IN", "EST-1", "oil", Role.TRANSFER, ("B1-T", "B2-T")))
    topo = Topology("CAMPO", FACILITIES, wells(), tuple(pmos))
    volumes = {"B1-T": "200.00", "B2-T": "290.00", "ST-IN": "495.00", "ST-OIL": "500.00"}
    totals = field_totals(topo, {k: D(v) for k, v in volumes.items()} | {"LACT": D("480.00")})
    assert totals.total("oil", Role.TRANSFER) == D("490.00")
    assert totals.total("oil", Role.PRODUCTION) == D("500.00")
    assert totals.total("oil", Role.SALES) == D("480.00")
    assert totals.left_out == ("ST-IN",)
    assert totals.counted[("oil", Role.TRANSFER)] == ("B1-T", "B2-T")


def test_a_header_meter_fed_by_a_metered_and_an_unmetered_inflow_counts_alone() -> None:
    """Flare header FH (25.00) takes BAT-1's flare line (metered, B1-FLARE 10.00) and BAT-2's
    gas straight from its production PMO (no flare meter). FH measures all flared gas:
    flare = 25.00, not 25.00 + 10.00; B1-FLARE is left out. Gas production = 100.00 + 80.00.
    """
    pmos = (
        TopologyPmo("B1-GAS", "BAT-1", "gas", Role.PRODUCTION),
        TopologyPmo("B1-FLARE", "BAT-1", "gas", Role.FLARE, downstream_of="B1-GAS"),
        TopologyPmo("B2-GAS", "BAT-2", "gas", Role.PRODUCTION),
        TopologyPmo("FH", "EST-1", "gas", Role.FLARE, downstream_of=("B1-FLARE", "B2-GAS")),
    )
    gas_wells = (TopologyWell("W-1", "BAT-1", GAS), TopologyWell("W-2", "BAT-2", GAS))
    topo = Topology("CAMPO", FACILITIES, gas_wells, pmos)
    volumes = {"B1-GAS": "100.00", "B1-FLARE": "10.00", "B2-GAS": "80.00", "FH": "25.00"}
    totals = field_totals(topo, {k: D(v) for k, v in volumes.items()})
    assert totals.total("gas", Role.FLARE) == D("25.00")
    assert totals.total("gas", Role.PRODUCTION) == D("180.00")
    assert totals.left_out == ("B1-FLARE",)


def test_upstream_value_keeps_one_code_a_string() -> None:
    assert upstream_value([]) is None
    assert upstream_value(["B1-T"]) == "B1-T"
    assert upstream_value(["B2-T", "B1-T", "B2-T"]) == ("B1-T", "B2-T")
