"""What the report's construction makes true is checked, and a broken report is stopped."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from anh_reporter.reports.invariants import InvariantError, check_invariants

from .test_rules import report, with_pmo

D = Decimal


def test_the_golden_reports_hold_every_invariant() -> None:
    for case in ("tipo-a-three-pmos", "tipo-b-manual-allocated", "amendment-v2-with-anomalies"):
        check_invariants(report(case))


@pytest.mark.parametrize(
    ("index", "changes", "message"),
    [
        (0, {"oil_net_bbl": D("983.17")}, "NSV 983.17 > GSV 983.16"),
        (1, {"water_gross_bbl": D("-1.00")}, "water_gross_bbl -1.00 is negative"),
        (0, {"bsw_pct": D("100.00")}, "BSW 100.00 % outside"),
    ],
)
def test_a_broken_figure_stops_the_report(index: int, changes: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvariantError, match=message):
        check_invariants(with_pmo(report(), index, **changes))


def test_totals_and_wells_must_add_up() -> None:
    r = report()
    with pytest.raises(InvariantError, match="total oil_net_bbl"):
        check_invariants(replace(r, totals=replace(r.totals, oil_net_bbl=D("1.00"))))
    r = report("tipo-b-manual-allocated")
    wells = list(r.wells)
    wells[0] = replace(wells[0], oil_net_bbl=D("165.84"))
    with pytest.raises(InvariantError, match="wells' oil_net_bbl of PMO-TANQUE-01"):
        check_invariants(replace(r, wells=wells))
