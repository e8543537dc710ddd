"""Well allocation for a 50-PMO, 500-well field: field days per second, exact vs naive float.

The field: 10 batteries, each with 5 PMOs (oil, gas and water production, a LACT and a flare)
and 50 wells: 50 PMOs, 500 wells, 30 production PMOs to allocate per day (oil, gas, water).
Tests (rates, ages), hours on and measured volumes are random but fixed by ``--seed``.

Measured, in one process, medians of ``--runs`` runs:

1. ``allocate_field_day``: every production PMO allocated exactly (integer largest remainder,
   findings, per-well rows with ratios): field days per second.
2. ``allocate_pmo`` alone over the 30 production PMOs (no per-well rows).
3. Baseline: the naive float allocation (measured × theoretical / Σ theoretical, ``round(x, 2)``)
   over the same wells; it is faster but its wells do not add up to the PMO: the table counts
   the PMOs where they do not.

The headline ratio is exact field days/s over naive field days/s. The last line is JSON.

    python bench/allocation.py [--runs 5] [--seconds 1.0] [--seed 12]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import median, report
from anh_reporter.allocation.allocation import WellInput, allocate_pmo
from anh_reporter.allocation.field_day import WellDayInput, allocate_field_day
from anh_reporter.allocation.topology import (
    Facility,
    Role,
    Topology,
    TopologyPmo,
    TopologyWell,
)
from anh_reporter.allocation.well_tests import WellTest, well_test_in_force

DAY = dt.date(2026, 11, 14)
BATTERIES = 10
WELLS_PER_BATTERY = 50
CENT = Decimal("0.01")


def build_field(seed: int) -> tuple[Topology, dict[str, Decimal], list[WellDayInput]]:
    """The topology, the production PMOs' measured volumes and the wells' days."""
    rng = random.Random(seed)
    facilities = tuple(Facility(f"BAT-{b:02d}") for b in range(BATTERIES))
    pmos: list[TopologyPmo] = []
    wells: list[TopologyWell] = []
    inputs: list[WellDayInput] = []
    measured: dict[str, Decimal] = {}
    for b in range(BATTERIES):
        bat = f"BAT-{b:02d}"
        pmos += [
            TopologyPmo(f"{bat}-OIL", bat, "oil", Role.PRODUCTION),
            TopologyPmo(f"{bat}-LACT", bat, "oil", Role.SALES, downstream_of=f"{bat}-OIL"),
            TopologyPmo(f"{bat}-GAS", bat, "gas", Role.PRODUCTION),
            TopologyPmo(f"{bat}-FLARE", bat, "gas", Role.FLARE, downstream_of=f"{bat}-GAS"),
            TopologyPmo(f"{bat}-WAT", bat, "water", Role.PRODUCTION),
        ]
        totals = {"oil": Decimal(0), "gas": Decimal(0), "water": Decimal(0)}
        for w in range(WELLS_PER_BATTERY):
            code = f"{bat}-W{w:03d}"
            wells.append(TopologyWell(code, bat))
            oil = Decimal(rng.randint(2_000, 300_000)) / 100
            gas = Decimal(rng.randint(100, 60_000)) / 100
            water = Decimal(rng.randint(5_000, 2_000_000)) / 100
            test = WellTest(
                well=code,
                tested_on=DAY - dt.timedelta(days=rng.randint(0, 150)),
                duration_h=Decimal(12),
                oil_bbl_d=oil,
                gas_kscf_d=gas,
                water_bbl_d=water,
                tested_by="bench",
            )
            hours = Decimal(24) if rng.random() < 0.8 else Decimal(rng.randint(0, 2400)) / 100
            inputs.append(
                WellDayInput(
                    code, hours, well_test_in_force(code, [test], DAY), pump_running_h=hours
                )
            )
            for fluid, rate in (("oil", oil), ("gas", gas), ("water", water)):
                totals[fluid] += rate * hours / 24
        for fluid, suffix in (("oil", "OIL"), ("gas", "GAS"), ("water", "WAT")):
            drift = Decimal(rng.uniform(0.9, 1.1))
            measured[f"{bat}-{suffix}"] = (totals[fluid] * drift).quantize(CENT)
    return Topology("BENCH", facilities, tuple(wells), tuple(pmos)), measured, inputs


def naive_float(
    groups: list[tuple[float, list[tuple[float, float]]]],
) -> tuple[list[list[float]], int]:
    """measured × theoretical / Σ theoretical in floats, rounded to 0.01 each; PMOs off."""
    out: list[list[float]] = []
    off = 0
    for measured, wells in groups:
        theoretical = [rate * hours / 24.0 for rate, hours in wells]
        whole = sum(theoretical)
        shares = [round(measured * t / whole, 2) if whole else 0.0 for t in theoretical]
        if round(sum(shares) * 100) != round(measured * 100):
            off += 1
        out.append(shares)
    return out, off


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""
    fn()  # warm up
    count = 0
    start = time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    topology, measured, inputs = build_field(args.seed)
    by_well = {w.well: w for w in inputs}
    groups = []
    float_groups = []
    for pmo in topology.production_pmos():
        wells = [
            WellInput(c, by_well[c].hours_on, by_well[c].test, by_well[c].status)
            for c in topology.wells_at(pmo.code)
        ]
        groups.append((pmo, wells))
        float_groups.append(
            (
                float(measured[pmo.code]),
                [(float(w.test.rate(pmo.fluid) or 0), float(w.hours_on or 0)) for w in wells],
            )
        )

    def exact_day() -> object:
        return allocate_field_day(topology, measured, inputs)

    def exact_pmos() -> object:
        return [allocate_pmo(p.code, p.fluid, measured[p.code], w) for p, w in groups]

    def naive() -> object:
        return naive_float(float_groups)

    day = allocate_field_day(topology, measured, inputs)
    exact_off = sum(1 for a in day.pmos if a.allocated_total + a.unallocated != a.measured)
    _, naive_off = naive_float(float_groups)

    runs: dict[str, list[float]] = {"field_day": [], "pmos": [], "naive": []}
    for _ in range(args.runs):
        runs["field_day"].append(rate(exact_day, args.seconds))
        runs["pmos"].append(rate(exact_pmos, args.seconds))
        runs["naive"].append(rate(naive, args.seconds))
    field_day, pmos, naive_rate = (median(runs[k]) for k in ("field_day", "pmos", "naive"))
    wells = len(inputs)
    rows = [
        [
            "allocate_field_day (exact, rows)",
            f"{field_day:,.0f}",
            f"{1e6 / field_day / wells:.1f}",
            str(exact_off),
        ],
        ["allocate_pmo x 30 (exact)", f"{pmos:,.0f}", f"{1e6 / pmos / wells:.1f}", str(exact_off)],
        [
            "naive float (baseline)",
            f"{naive_rate:,.0f}",
            f"{1e6 / naive_rate / wells:.1f}",
            str(naive_off),
        ],
    ]
    report(
        f"Allocation, {len(topology.pmos)} PMOs / {wells} wells / "
        f"{len(groups)} production PMOs per day (median of {args.runs})",
        ["method", "field days/s", "µs per well", "PMOs not adding up"],
        rows,
        {
            "bench": "allocation",
            "pmos": len(topology.pmos),
            "wells": wells,
            "production_pmos": len(groups),
            "field_days_per_s": round(field_day, 1),
            "allocate_pmo_days_per_s": round(pmos, 1),
            "naive_float_days_per_s": round(naive_rate, 1),
            "ratio_exact_vs_naive": round(field_day / naive_rate, 4),
            "exact_pmos_not_adding_up": exact_off,
            "naive_pmos_not_adding_up": naive_off,
        },
    )


if __name__ == "__main__":
    main()
