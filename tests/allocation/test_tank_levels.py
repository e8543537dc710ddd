"""A tank's level at a contract-day boundary from its transmitter's readings (hand-worked).

The boundary is 2026-02-02 11:00 UTC (06:00 in Bogotá); readings are in feet.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from anh_reporter.allocation.balances import TankStock, oil_balance
from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.allocation.tank_levels import BoundaryPolicy, Reading, value_at
from anh_reporter.domain.timeutil import to_us

AT = to_us(dt.datetime(2026, 2, 2, 11, tzinfo=dt.UTC))
S = 1_000_000
POLICY = BoundaryPolicy(max_age_s=1800, stuck_after_s=None)


def level(readings: list[Reading], policy: BoundaryPolicy = POLICY) -> tuple[Decimal | None, str]:
    found = value_at(readings, AT, policy, what="level of tank TK-1", unit="ft", target="TK-1")
    return found.value, found.how


def test_a_reading_at_the_boundary_is_the_level() -> None:
    assert level([Reading(AT - 60 * S, 11.9), Reading(AT, 12.0), Reading(AT + 60 * S, 12.1)]) == (
        Decimal("12.0000"),
        "reading at 2026-02-02T11:00:00Z",
    )


def test_the_level_between_two_good_readings_is_interpolated() -> None:
    # 12.00 ft 90 s before, 12.30 ft 30 s after: 12.00 + 0.30 × 90 / 120 = 12.225 ft. The Bad
    # reading 10 s before (99 ft) and a NaN are skipped.
    readings = [
        Reading(AT - 90 * S, 12.0),
        Reading(AT - 10 * S, 99.0, good=False),
        Reading(AT + 10 * S, float("nan")),
        Reading(AT + 30 * S, 12.3),
    ]
    value, how = level(readings)
    assert value == Decimal("12.2250")
    assert how == (
        "interpolated between 12.0 ft at 2026-02-02T10:58:30Z and 12.3 ft at 2026-02-02T11:00:30Z"
    )


def test_the_interpolated_level_is_rounded_half_up_to_a_ten_thousandth() -> None:
    # 12.0 ft 60 s before, 12.1 ft 120 s after: 12.0 + 0.1 × 60 / 180 = 12.03333… → 12.0333 ft.
    value, _ = level([Reading(AT - 60 * S, 12.0), Reading(AT + 120 * S, 12.1)])
    assert value == Decimal("12.0333")


def test_without_a_reading_after_the_last_good_one_within_the_maximum_age_is_taken() -> None:
    # None after; 11.5 ft 600 s before (within 1800 s). A reading after the boundary but older
    # than the maximum age away (3600 s) is not interpolated to either.
    assert level([Reading(AT - 600 * S, 11.5)]) == (
        Decimal("11.5000"),
        "last good reading, 600 s before 2026-02-02T11:00:00Z",
    )
    assert level([Reading(AT - 60 * S, 12.0), Reading(AT + 3600 * S, 13.0)])[0] == Decimal("12")


def test_a_stale_or_missing_level_is_a_finding_never_a_zero() -> None:
    stale = value_at(
        [Reading(AT - 1801 * S, 12.0), Reading(AT - 60 * S, 12.0, good=False)],
        AT,
        POLICY,
        what="level of tank TK-1",
        unit="ft",
        target="TK-1",
    )
    assert stale.value is None
    (finding,) = stale.findings
    assert (finding.code, finding.severity, finding.target) == (
        Code.TANK_LEVEL_STALE, Severity.WARNING, "TK-1",
    )  # fmt: skip
    assert finding.message.startswith(
        "level of tank TK-1: no good reading within 1800 s before 2026-02-02T11:00:00Z (the last "
        "is 12.0 ft at 2026-02-02T10:29:59Z)"
    )
    none = value_at([], AT, POLICY, what="level of tank TK-1", unit="ft", target="TK-1")
    assert none.value is None and "(none before it)" in none.findings[0].message


def test_a_level_frozen_for_the_stuck_window_is_flagged_but_used() -> None:
    policy = BoundaryPolicy(max_age_s=1800, stuck_after_s=6 * 3600)
    # Every 30 min for the 6 h before the boundary: 13 readings of exactly 12.0 ft.
    frozen = [Reading(AT - k * 1800 * S, 12.0) for k in range(13)]
    found = value_at(frozen, AT, policy, what="level of tank TK-1", unit="ft", target="TK-1")
    assert found.value == Decimal("12.0000")
    assert [f.code for f in found.findings] == [Code.TANK_LEVEL_STUCK]
    assert "reads 12.0 ft at every reading of the 6 h before" in found.findings[0].message
    moving = [*frozen[1:], Reading(AT, 12.001)]
    again = value_at(moving, AT, policy, what="level", unit="ft", target="TK-1")
    assert again.findings == ()
    # Two equal readings 1 h apart do not cover the 6 h window (less 30 min of maximum age).
    short = [Reading(AT - 3600 * S, 12.0), Reading(AT, 12.0)]
    assert value_at(short, AT, policy, what="level", unit="ft", target="TK-1").findings == ()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"max_age_s": 0}, "max_age_s must be above 0 s, got 0"),
        ({"stuck_after_s": -1}, "stuck_after_s must be above 0 s, got -1"),
    ],
)
def test_a_policy_out_of_range_names_the_value(kw: dict[str, float], message: str) -> None:
    with pytest.raises(AllocationError, match=message):
        BoundaryPolicy(**kw)


def test_a_tank_whose_stock_is_unknown_keeps_the_oil_balance_open() -> None:
    # Produced 1000, dispatched 990, TK-1 received 10 (closes on its own); TK-2 stale.
    stale = Finding(Code.TANK_LEVEL_STALE, Severity.WARNING, "level of tank TK-2: stale", "TK-2")
    known = TankStock("TK-1", Decimal("100"), Decimal("110"), None, "level_telemetry", "gauging")
    balance = oil_balance(
        produced=Decimal("1000"),
        dispatched=Decimal("990"),
        tanks=[known],
        unknown_tanks=["TK-2"],
        stock_findings=[stale],
        target="F",
    )
    assert balance.residual == Decimal("0") and balance.term("stock_change") == Decimal("10")
    assert not balance.closes
    assert balance.incomplete_terms == ("stock_change",)  # 10 counts TK-1 only
    assert [f.code for f in balance.findings] == [Code.TANK_LEVEL_STALE, Code.BALANCE_OPEN]
    assert balance.findings[1].message == (
        "oil balance cannot close: the stock of tank(s) TK-2 is unknown (see tank_level_stale / "
        "tank_stock_unknown); residual without them 0 bbl"
    )
    with pytest.raises(AllocationError, match="a tank is given twice"):
        oil_balance(
            produced=Decimal(1), dispatched=Decimal(1), tanks=[known], unknown_tanks=["TK-1"]
        )
