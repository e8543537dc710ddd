"""The oil balance's consumption and losses (pure): hand-worked residuals, nothing dropped.

Produced 1,000.00, dispatched 980.00, Δ stock 0; default oil tolerance
max(0.5 % × 1,000.00, 1) = 5.00 bbl.
"""

from __future__ import annotations

import pytest

from anh_reporter.allocation.balances import balances_from_totals, oil_balance
from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.findings import Code, Severity
from anh_reporter.allocation.topology import field_totals

from .helpers import D
from .test_topology import demo_topology


def test_consumption_and_losses_close_what_dispatch_leaves() -> None:
    # 1,000.00 − (980.00 + 0 + 12.50 + 6.00) = 1.50 ≤ 5.00.
    got = oil_balance(
        produced=D("1000.00"), dispatched=D("980.00"), consumption=D("12.50"), losses=D("6.00")
    )
    assert (got.residual, got.tolerance, got.closes, got.findings) == (
        D("1.50"), D("5.00"), True, (),
    )  # fmt: skip
    assert (got.term("consumption"), got.term("losses")) == (D("12.50"), D("6.00"))
    # Without them: 1,000.00 − 980.00 = 20.00 > 5.00; 20.00 / 1,000.00 = 2.00 %.
    bare = oil_balance(produced=D("1000.00"), dispatched=D("980.00"), target="F")
    assert (bare.residual, bare.closes) == (D("20.00"), False)
    (finding,) = bare.findings
    assert (finding.code, finding.severity, finding.target) == (
        Code.BALANCE_OPEN, Severity.WARNING, "F",
    )  # fmt: skip
    assert finding.message == (
        "oil balance does not close: produced 1000.00 bbl, disposed 980.00 bbl (dispatched "
        "980.00, stock_change 0, consumption 0, losses 0); residual 20.00 bbl (2.00 % of "
        "production) exceeds the tolerance 5.00 bbl"
    )


def test_negative_losses_are_refused() -> None:
    with pytest.raises(AllocationError, match="oil balance term 'losses' -1 bbl is negative"):
        oil_balance(produced=D(1), dispatched=D(0), losses=D(-1))


def test_terms_for_a_day_without_oil_production_are_not_dropped() -> None:
    # The oil production PMO has no volume: no oil balance, and a warning says the entries
    # count nowhere.
    totals = field_totals(demo_topology(), {"LACT": D("995.00")})
    got = balances_from_totals(totals, oil_consumption=D("3.00"), oil_losses=D("1.00"), target="F")
    assert got.oil is None
    (finding,) = got.findings
    assert (finding.code, finding.target) == (Code.BALANCE_OPEN, "F")
    assert "oil consumption 3.00 bbl and losses 1.00 bbl were entered" in finding.message
    # Zero entries: nothing to say.
    assert balances_from_totals(totals).findings == ()
