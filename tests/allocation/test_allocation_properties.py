"""Property tests: for random tests, hours and measured volumes, per fluid, the allocated volumes
are non-negative whole increments that add up to the measured volume exactly."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from anh_reporter.allocation.allocation import (
    AllocationSettings,
    PmoAllocation,
    WellInput,
    allocate_pmo,
)
from anh_reporter.allocation.fluids import FLUIDS, Fluid
from anh_reporter.allocation.well_tests import WellTest, well_test_in_force, without_test

from .helpers import DAY

cents = st.integers(min_value=0, max_value=2_000_000).map(lambda c: Decimal(c) / 100)
hours = st.integers(min_value=0, max_value=2400).map(lambda c: Decimal(c) / 100)
measured_cents = st.integers(min_value=0, max_value=50_000_000).map(lambda c: Decimal(c) / 100)


@st.composite
def well_inputs(draw: st.DrawFn) -> list[WellInput]:
    """1–40 wells; each with no test, a valid or an expired test, hours 0–24 or unknown."""
    count = draw(st.integers(min_value=1, max_value=40))
    out: list[WellInput] = []
    for i in range(count):
        code = f"W{i:03d}"
        kind = draw(st.sampled_from(["valid", "valid", "valid", "expired", "none"]))
        if kind == "none":
            test = without_test(code, DAY)
        else:
            age = draw(st.integers(0, 90)) if kind == "valid" else draw(st.integers(91, 400))
            record = WellTest(
                well=code,
                tested_on=DAY - dt.timedelta(days=age),
                duration_h=Decimal(12),
                oil_bbl_d=draw(cents),
                gas_kscf_d=draw(cents),
                water_bbl_d=draw(cents),
                tested_by="prop",
            )
            test = well_test_in_force(code, [record], DAY)
        hours_on = draw(st.one_of(hours, hours, hours, st.none()))
        out.append(WellInput(code, hours_on, test))
    return out


def check_exact(result: PmoAllocation, measured: Decimal, increment: Decimal) -> None:
    allocated = [w.allocated for w in result.wells if w.allocated is not None]
    assert all(a >= 0 for a in allocated)
    assert all(a % increment == 0 for a in allocated)
    assert result.unallocated >= 0
    assert sum(allocated, Decimal(0)) + result.unallocated == measured
    if result.unallocated:
        assert all(a == 0 for a in allocated)


@settings(max_examples=150, deadline=None)
@given(wells=well_inputs(), measured=st.tuples(measured_cents, measured_cents, measured_cents))
def test_each_fluid_adds_up_exactly(
    wells: list[WellInput], measured: tuple[Decimal, Decimal, Decimal]
) -> None:
    for fluid, volume in zip(FLUIDS, measured, strict=True):
        result = allocate_pmo("P", fluid, volume, wells)
        check_exact(result, volume, Decimal("0.01"))


@settings(max_examples=100, deadline=None)
@given(
    wells=well_inputs(),
    measured=measured_cents,
    fluid=st.sampled_from(FLUIDS),
    seed=st.integers(0, 2**32 - 1),
)
def test_order_of_wells_does_not_matter(
    wells: list[WellInput], measured: Decimal, fluid: Fluid, seed: int
) -> None:
    shuffled = list(wells)
    random.Random(seed).shuffle(shuffled)
    assert allocate_pmo("P", fluid, measured, wells) == allocate_pmo("P", fluid, measured, shuffled)


@settings(max_examples=100, deadline=None)
@given(wells=well_inputs(), measured=measured_cents, fluid=st.sampled_from(FLUIDS))
def test_shares_follow_theoretical_within_one_increment(
    wells: list[WellInput], measured: Decimal, fluid: Fluid
) -> None:
    """Each share is within 0.01 of measured × theoretical / Σ theoretical, and a well with a
    larger theoretical volume never gets less than one with a smaller one."""
    result = allocate_pmo("P", fluid, measured, wells)
    if result.factor is None:
        return
    inputs = {w.well: w for w in wells}
    weights: dict[str, Decimal] = {}
    for row in result.wells:
        w = inputs[row.well]
        if row.allocated is None or not w.hours_on:
            continue
        rate = w.test.rate(fluid)
        assert rate is not None
        weights[row.well] = rate * w.hours_on
    whole = sum(weights.values(), Decimal(0))
    for code, weight in weights.items():
        exact = measured * weight / whole
        assert abs(result.well(code).allocated - exact) < Decimal("0.01")  # type: ignore[operator]
    ranked = sorted(weights, key=lambda c: weights[c])
    for small, large in itertools.pairwise(ranked):
        if weights[large] > weights[small]:
            assert result.well(large).allocated >= result.well(small).allocated  # type: ignore[operator]


@settings(max_examples=100, deadline=None)
@given(
    wells=well_inputs(),
    units=st.integers(min_value=0, max_value=10_000_000),
    fluid=st.sampled_from(FLUIDS),
)
def test_other_increments_add_up_too(wells: list[WellInput], units: int, fluid: Fluid) -> None:
    """With a 0.001 increment (e.g. m³), the same exactness holds."""
    increment = Decimal("0.001")
    measured = units * increment
    result = allocate_pmo("P", fluid, measured, wells, AllocationSettings(increment=increment))
    check_exact(result, measured, increment)


@st.composite
def wells_often_off(draw: st.DrawFn) -> list[WellInput]:
    """1–12 wells, many at 0 h on, many with a 0 rate, some without a test or hours."""
    count = draw(st.integers(min_value=1, max_value=12))
    out: list[WellInput] = []
    for i in range(count):
        code = f"W{i:03d}"
        rate = st.one_of(st.just(Decimal(0)), cents)
        if draw(st.integers(0, 5)) == 0:
            test = without_test(code, DAY)
        else:
            record = WellTest(
                well=code,
                tested_on=DAY - dt.timedelta(days=draw(st.integers(0, 90))),
                duration_h=Decimal(12),
                oil_bbl_d=draw(rate),
                gas_kscf_d=draw(rate),
                water_bbl_d=draw(rate),
                tested_by="prop",
            )
            test = well_test_in_force(code, [record], DAY)
        hours_on = draw(st.one_of(st.just(Decimal(0)), st.just(Decimal(0)), hours, st.none()))
        out.append(WellInput(code, hours_on, test))
    return out


@settings(max_examples=300, deadline=None)
@given(wells=wells_often_off(), measured=measured_cents, fluid=st.sampled_from(FLUIDS))
def test_a_well_at_zero_hours_is_never_allocated_volume(
    wells: list[WellInput], measured: Decimal, fluid: Fluid
) -> None:
    """Whatever the PMO measured: a well at 0 h on gets 0; volume goes only to wells on with a
    usable test; when no such well exists the whole volume stays unallocated with an error."""
    result = allocate_pmo("P", fluid, measured, wells)
    check_exact(result, measured, Decimal("0.01"))
    on = {w.well for w in wells if w.hours_on and w.test.test is not None}
    for row in result.wells:
        if row.hours_on == 0:
            assert row.allocated == 0
        if row.allocated:
            assert row.well in on
    if measured > 0 and not on:
        assert result.unallocated == measured
        assert "volume_unallocated" in [str(f.code) for f in result.findings]
