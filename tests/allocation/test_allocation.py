"""Allocation of a PMO's volume to its wells: hand-worked cases, edges and findings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from anh_reporter.allocation.allocation import (
    AllocationSettings,
    Basis,
    WellInput,
    allocate_pmo,
    pump_findings,
)
from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.findings import Code, Severity
from anh_reporter.allocation.hours_on import WellStatus
from anh_reporter.allocation.rounding import largest_remainder, scaled_integers
from anh_reporter.allocation.well_tests import WellTestState

from .helpers import D, in_force, well, well_test


def codes(findings: object) -> list[str]:
    return [str(f.code) for f in findings]  # type: ignore[attr-defined]


def test_three_wells_exact_shares() -> None:
    """Worked by hand, no rounding needed.

    A: 500 bbl/d × 24 h / 24 = 500; B: 300 × 12 / 24 = 150; C: 200 × 18 / 24 = 150.
    Σ theoretical = 800; measured 880.00 → factor 880 / 800 = 1.1.
    Allocated: A 500 × 1.1 = 550.00, B 150 × 1.1 = 165.00, C 165.00; Σ = 880.00.
    """
    result = allocate_pmo(
        "PMO-OIL",
        "oil",
        D("880.00"),
        [well("A", 24, oil=500), well("B", 12, oil=300), well("C", 18, oil=200)],
    )
    assert [w.allocated for w in result.wells] == [D("550.00"), D("165.00"), D("165.00")]
    assert [w.theoretical for w in result.wells] == [D("500.00"), D("150.00"), D("150.00")]
    assert result.theoretical_total == D("800.00")
    assert result.factor == D("1.10000")
    assert result.unallocated == 0
    assert result.findings == ()
    assert all(w.basis is Basis.THEORETICAL for w in result.wells)


def test_equal_remainders_tie_to_the_smaller_well_code() -> None:
    """100.00 over three equal wells (100 bbl/d, 24 h each): 33.333... each.

    Floors 33.33 × 3 = 99.99; one 0.01 left; the three remainders are equal, so the smallest
    code (A) takes it: A 33.34, B 33.33, C 33.33, whatever order the wells come in.
    """
    wells = [well("C", 24, oil=100), well("A", 24, oil=100), well("B", 24, oil=100)]
    result = allocate_pmo("P", "oil", D("100.00"), wells)
    assert {w.well: w.allocated for w in result.wells} == {
        "A": D("33.34"),
        "B": D("33.33"),
        "C": D("33.33"),
    }
    assert [w.well for w in result.wells] == ["A", "B", "C"]
    assert result.allocated_total == D("100.00")


def test_largest_remainder_takes_the_cent() -> None:
    """10.00 split 1 : 2 (A 10 bbl/d, B 20 bbl/d, both 24 h).

    Exact: A 3.3333..., B 6.6666...; floors 3.33 + 6.66 = 9.99; remainders A 0.0033, B 0.0067:
    B takes the last cent → A 3.33, B 6.67 (= 10.00).
    """
    result = allocate_pmo("P", "oil", D("10.00"), [well("A", 24, oil=10), well("B", 24, oil=20)])
    assert [w.allocated for w in result.wells] == [D("3.33"), D("6.67")]


def test_expired_test_used_flagged_and_well_without_test_left_out() -> None:
    """A valid 500 bbl/d × 24 h = 500; B expired (100 days) 300 × 12 / 24 = 150; C no test, 18 h.

    Σ theoretical 650 (C cannot take part); measured 700.00: factor 700 / 650 = 1.076923...
    → 1.07692. In cents: A 70000 × 500 / 650 = 53846.15 → 53846; B 70000 × 150 / 650 =
    16153.85 → 16153; one cent left, B has the larger remainder: A 538.46, B 161.54.
    C is not allocated (None), with an error; B's old test is flagged.
    """
    result = allocate_pmo(
        "P",
        "oil",
        D("700.00"),
        [
            well("A", 24, oil=500),
            well("B", 12, oil=300, days_before=100),
            well("C", 18, oil=None),
        ],
    )
    got = {w.well: w.allocated for w in result.wells}
    assert got == {"A": D("538.46"), "B": D("161.54"), "C": None}
    assert result.factor == D("1.07692")
    assert result.well("B").test_state is WellTestState.EXPIRED
    assert result.well("B").test_age_days == 100
    assert result.well("C").basis is Basis.NOT_ALLOCATED
    by_code = {f.target: f for f in result.findings}
    assert by_code["C"].code is Code.NO_TEST and by_code["C"].severity is Severity.ERROR
    assert "carried by the other wells of PMO P" in by_code["C"].message
    assert by_code["B"].code is Code.TEST_EXPIRED and by_code["B"].severity is Severity.WARNING
    assert result.allocated_total == D("700.00")


def test_expired_tests_can_be_excluded() -> None:
    """With expired tests excluded, A alone takes 700.00: factor 700 / 500 = 1.4 (out of band)."""
    settings = AllocationSettings(expired_tests="exclude")
    result = allocate_pmo(
        "P",
        "oil",
        D("700.00"),
        [well("A", 24, oil=500), well("B", 12, oil=300, days_before=100)],
        settings,
    )
    assert [w.allocated for w in result.wells] == [D("700.00"), None]
    assert result.factor == D("1.40000")
    assert sorted(codes(result.findings)) == [
        "allocation_factor_out_of_band",
        "well_test_expired",
    ]


def test_factor_outside_band_warns() -> None:
    """Theoretical 100 (100 bbl/d, 24 h), measured 80.00: factor 0.8 < 0.85 → warning."""
    result = allocate_pmo("P", "oil", D("80.00"), [well("A", 24, oil=100)])
    assert result.factor == D("0.80000")
    (finding,) = result.findings
    assert finding.code is Code.FACTOR_OUT_OF_BAND
    assert finding.target == "P"
    assert "0.80000" in finding.message and "[0.85, 1.15]" in finding.message


def test_band_edges_do_not_warn() -> None:
    """Factors of exactly 0.85 and 1.15 are inside the band."""
    for measured in ("85.00", "115.00"):
        result = allocate_pmo("P", "oil", D(measured), [well("A", 24, oil=100)])
        assert result.findings == ()


def test_shut_in_well_gets_zero_without_needing_a_test() -> None:
    """A shut-in well (0 h) with no test: allocated 0.00, no finding; B takes all 50.00."""
    result = allocate_pmo("P", "oil", D("50.00"), [well("A", 0, oil=None), well("B", 24, oil=50)])
    assert [w.allocated for w in result.wells] == [D("0.00"), D("50.00")]
    assert result.well("A").basis is Basis.NOT_ON
    assert result.findings == ()


def test_measured_zero_allocates_zero_and_warns_when_wells_ran() -> None:
    """Measured 0.00 with a well on: everyone 0.00, factor 0 (outside the band)."""
    result = allocate_pmo("P", "oil", D("0.00"), [well("A", 24, oil=100), well("B", 0, oil=50)])
    assert [w.allocated for w in result.wells] == [D("0.00"), D("0.00")]
    assert result.factor == D("0.00000")
    assert codes(result.findings) == ["allocation_factor_out_of_band"]


def test_nothing_on_and_nothing_measured_is_quiet() -> None:
    """Every well shut in and 0 measured: zeros, no factor, no finding."""
    result = allocate_pmo("P", "oil", D("0"), [well("A", 0, oil=100), well("B", 0, oil=50)])
    assert [w.allocated for w in result.wells] == [D("0.00"), D("0.00")]
    assert result.factor is None
    assert result.findings == ()


def test_wells_at_zero_hours_get_nothing_and_the_volume_stays_unallocated() -> None:
    """Battery BAT-1: W-1 (test 500 bbl/d oil), W-2 (300 bbl/d) and W-3 (no test) all typed
    0 h on (shut in), while OIL-1 measured 100.00 bbl.

    Splitting 100.00 by the test rates (500 : 300 → 62.50 / 37.50) would put barrels on wells
    that did not produce. Each well gets 0.00 (0 h on); the 100.00 bbl stay unallocated with one
    error on OIL-1 naming the volume and the wells at 0 h (the report's IDP032 carries it).
    """
    wells = [well("W-1", 0, oil=500), well("W-2", 0, oil=300), well("W-3", 0, oil=None)]
    result = allocate_pmo("OIL-1", "oil", D("100.00"), wells)
    assert [(w.allocated, w.basis) for w in result.wells] == [
        (D("0.00"), Basis.NOT_ON), (D("0.00"), Basis.NOT_ON), (D("0.00"), Basis.NOT_ON),
    ]  # fmt: skip
    assert result.unallocated == D("100.00")
    assert result.allocated_total == D("0.00")
    assert result.factor is None
    (finding,) = result.findings
    assert (finding.code, finding.severity, finding.target) == (
        Code.UNALLOCATED, Severity.ERROR, "OIL-1",
    )  # fmt: skip
    assert finding.message == (
        "PMO measured 100.00 bbl of oil but no well behind it is on production with a usable "
        "test (0 h on for W-1, W-2, W-3): the 100.00 bbl stay unallocated, not put on wells "
        "that did not produce; correct the wells' hours on or the PMO's volume and compute the "
        "day again"
    )


def test_zero_rates_of_the_wells_on_split_by_hours_on() -> None:
    """The PMO measured 100.00 bbl of oil; A (24 h) and B (12 h) are on but both tests are
    water-only (oil 0); C is at 0 h with a 300 bbl/d oil test. Σ theoretical oil = 0.

    C was off: it gets nothing. A and B share 100.00 by hours on, 24 : 12: in cents
    10000 × 2/3 = 6666.67 and 10000 × 1/3 = 3333.33 → 6666 + 3333 = 9999; the last cent to the
    larger remainder (A, 0.67): A 66.67, B 33.33 (= 100.00). A warning on the PMO and one on
    each well that received oil.
    """
    wells = [
        WellInput("A", D(24), in_force(well_test("A", oil=0, water=80))),
        WellInput("B", D(12), in_force(well_test("B", oil=0, water=40))),
        well("C", 0, oil=300),
    ]
    result = allocate_pmo("P", "oil", D("100.00"), wells)
    assert [(w.allocated, w.basis) for w in result.wells] == [
        (D("66.67"), Basis.HOURS_ON), (D("33.33"), Basis.HOURS_ON), (D("0.00"), Basis.NOT_ON),
    ]  # fmt: skip
    assert result.unallocated == D("0.00")
    assert result.factor is None
    assert [(str(f.code), f.severity, f.target) for f in result.findings] == [
        ("theoretical_zero", Severity.WARNING, "P"),
        ("theoretical_zero", Severity.WARNING, "A"),
        ("theoretical_zero", Severity.WARNING, "B"),
    ]
    pmo_message = result.findings[0].message
    assert "every well on production (A, B) gives 0 bbl/d of oil: split" in pmo_message
    assert result.findings[1].message == (
        "allocated 66.67 bbl of oil of PMO P by its 24 h on, although its test gives 0 bbl/d of "
        "oil (as does every well on): take a new well test"
    )


def test_one_zero_rate_well_on_takes_the_whole_volume() -> None:
    """A 24 h with an oil rate of 0, B at 0 h: measured 40.00 goes to A alone (the only well
    on), with warnings; B, off, gets 0.00."""
    result = allocate_pmo("P", "oil", D("40.00"), [well("A", 24, oil=0), well("B", 0, oil=0)])
    assert result.unallocated == D("0.00")
    assert [w.allocated for w in result.wells] == [D("40.00"), D("0.00")]
    assert codes(result.findings) == ["theoretical_zero", "theoretical_zero"]


def test_wells_off_and_a_well_on_without_a_test_leave_the_volume_unallocated() -> None:
    """A at 0 h (test 100 bbl/d), B 10 h on without a test: no well is on with a usable test,
    so the 25.00 bbl stay unallocated; the error names both reasons."""
    result = allocate_pmo("P", "oil", D("25.00"), [well("A", 0, oil=100), well("B", 10)])
    assert [w.allocated for w in result.wells] == [D("0.00"), None]
    assert result.unallocated == D("25.00")
    assert codes(result.findings) == ["well_without_test", "volume_unallocated"]
    assert "(0 h on for A; no usable well test for B)" in result.findings[-1].message
    # B is told where its volume went: nowhere (no other well could carry it).
    assert result.findings[0].message == (
        "no well test: the well's oil is not allocated and stays unallocated at PMO P with the "
        "rest of its volume; enter a test"
    )


def test_no_wells_leaves_the_volume_unallocated() -> None:
    """A PMO with measured volume and no wells at all: everything unallocated."""
    result = allocate_pmo("P", "gas", D("12.50"), [])
    assert result.unallocated == D("12.50")
    assert codes(result.findings) == ["volume_unallocated"]


def test_well_without_hours_is_left_out_with_an_error() -> None:
    """Hours unknown (None): not allocated; the other well takes the PMO's volume, and an error
    says so (as for a well without a test: the report's IDP032 shows it)."""
    result = allocate_pmo(
        "P", "oil", D("90.00"), [well("A", None, oil=100), well("B", 24, oil=100)]
    )
    assert [w.allocated for w in result.wells] == [None, D("90.00")]
    assert codes(result.findings) == ["hours_on_missing"]
    assert result.findings[0].severity is Severity.ERROR
    assert result.findings[0].message == (
        "no hours on for the day: the well's oil is not allocated and is carried by the other "
        "wells of PMO P; enter its hours on"
    )


def test_no_well_with_hours_leaves_the_volume_unallocated() -> None:
    """A day without telemetry or entries: A (100 bbl/d) and B (50) have no hours.

    Neither is allocated, not even by its test rate (each is told it is not allocated); the
    90.00 bbl stay unallocated with an error naming the wells without hours.
    """
    result = allocate_pmo(
        "P", "oil", D("90.00"), [well("A", None, oil=100), well("B", None, oil=50)]
    )
    assert [(w.allocated, w.basis) for w in result.wells] == [
        (None, Basis.NOT_ALLOCATED), (None, Basis.NOT_ALLOCATED),
    ]  # fmt: skip
    assert result.unallocated == D("90.00")
    assert codes(result.findings) == ["hours_on_missing", "hours_on_missing", "volume_unallocated"]
    error = result.findings[-1]
    assert error.severity is Severity.ERROR
    assert "no hours on for A, B: enter them" in error.message


def test_zero_hours_and_unknown_hours_leave_the_volume_unallocated() -> None:
    """A 0 h (known), B no hours, both 100 bbl/d; measured 40.00: neither is on, so nobody is
    given the 40.00 bbl (A was off; B's hours must be entered): unallocated, an error."""
    result = allocate_pmo("P", "oil", D("40.00"), [well("A", 0, oil=100), well("B", None, oil=100)])
    assert [w.allocated for w in result.wells] == [D("0.00"), None]
    assert result.unallocated == D("40.00")
    assert codes(result.findings) == ["hours_on_missing", "volume_unallocated"]
    assert "(0 h on for A; no hours on for B: enter them)" in result.findings[-1].message


def test_status_conflict_warns_but_uses_the_hours() -> None:
    """Shut in by status yet 6 h on: warned; the hours still count (6 h × 100 / 24 = 25)."""
    test = in_force(well_test("A", oil=100))
    wells = [WellInput("A", D(6), test, WellStatus.SHUT_IN)]
    result = allocate_pmo("P", "oil", D("25.00"), wells)
    assert result.well("A").allocated == D("25.00")
    assert codes(result.findings) == ["status_conflict"]


def test_gas_and_water_use_their_own_rates() -> None:
    """Gas 120 and 60 kscf/d, both 24 h: 90.00 kscf splits 60.00 / 30.00."""
    a = WellInput("A", D(24), in_force(well_test("A", oil=1, gas=120, water=5)))
    b = WellInput("B", D(24), in_force(well_test("B", oil=1, gas=60, water=15)))
    gas = allocate_pmo("G", "gas", D("90.00"), [a, b])
    water = allocate_pmo("W", "water", D("20.00"), [a, b])
    assert [w.allocated for w in gas.wells] == [D("60.00"), D("30.00")]
    assert [w.allocated for w in water.wells] == [D("5.00"), D("15.00")]


@pytest.mark.parametrize(
    ("measured", "wells", "message"),
    [
        (D("100.005"), [well("A", 24, oil=1)], "not a multiple of the volume increment 0.01"),
        (D("-1.00"), [well("A", 24, oil=1)], "is negative"),
        (D("1.00"), [well("A", 25, oil=1)], "hours on of well 'A' 25 h is outside [0, 24] h"),
        (D("1.00"), [well("A", 1, oil=1), well("A", 2, oil=1)], "well 'A' is given twice"),
    ],
)
def test_bad_inputs_name_the_field_and_limit(
    measured: Decimal, wells: list[WellInput], message: str
) -> None:
    with pytest.raises(AllocationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        allocate_pmo("P", "oil", measured, wells)


def test_float_volume_is_refused() -> None:
    with pytest.raises(AllocationError, match="must be a Decimal"):
        allocate_pmo("P", "oil", 1.5, [well("A", 24, oil=1)])  # type: ignore[arg-type]


def test_a_test_of_another_well_is_refused() -> None:
    wrong = WellInput("A", D(24), in_force(well_test("B", oil=1)))
    with pytest.raises(AllocationError, match="carries the test of well 'B'"):
        allocate_pmo("P", "oil", D(1), [wrong])


def test_pump_findings() -> None:
    """Pump never ran but 5.00 bbl allocated; pump ran 20 h but 0 everywhere; quiet otherwise."""
    (off,) = pump_findings("A", D(0), [D("5.00"), D(0), None])
    assert off.code is Code.PRODUCING_PUMP_OFF
    (idle,) = pump_findings("A", D(20), [D("0.00"), D("0.00"), D("0.00")])
    assert idle.code is Code.PUMPING_ZERO_ALLOCATION
    assert "20 h" in idle.message
    assert pump_findings("A", D(20), [D("5.00")]) == ()
    assert pump_findings("A", None, [D("5.00")]) == ()
    assert pump_findings("A", D(20), [None, None]) == ()


def test_scaled_integers_keep_proportions() -> None:
    assert scaled_integers([D("1.5"), D("2.25"), D(3)]) == [6, 9, 12]
    assert scaled_integers([D("1E+2"), D("0.5")]) == [200, 1]
    assert scaled_integers([D("0.001"), D("0.1"), D(0)]) == [1, 100, 0]
    assert scaled_integers([]) == []


def test_largest_remainder_with_another_increment() -> None:
    """1.000 m³ in 0.001 steps over 1 : 1 : 1 → 0.334, 0.333, 0.333 (tie to key 'a')."""
    parts = largest_remainder(D("1.000"), [1, 1, 1], ["b", "a", "c"], D("0.001"))
    assert parts == [D("0.333"), D("0.334"), D("0.333")]


def test_long_decimals_stay_exact() -> None:
    """Rates and hours with more digits than a Decimal context holds (28): the weights are
    integers, so the shares still add up to the PMO to the cent."""
    rates = ["1234.567890123456789012345678", "0.000000000000000000000000001", "987.6543210987"]
    hours = ["23.99999999999999999999", "24", "0.000000000000000001"]
    wells = [
        WellInput(code, D(h), in_force(well_test(code, oil=r)))
        for code, r, h in zip("ABC", rates, hours, strict=True)
    ]
    result = allocate_pmo("P", "oil", D("99999.99"), wells)
    assert result.allocated_total == D("99999.99")
    assert result.well("A").allocated == D("99999.99")
