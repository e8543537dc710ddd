"""Oil, gas and water balances: closing within tolerance, and a broken tank gauge."""

from __future__ import annotations

from decimal import Decimal

import pytest

from anh_reporter.allocation.balances import (
    Balance,
    BalanceSettings,
    MeteredInjection,
    TankStock,
    Tolerance,
    balances_from_totals,
    gas_balance,
    oil_balance,
    water_balance,
)
from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.allocation.topology import field_totals

from .helpers import D
from .test_topology import demo_topology


def test_oil_balance_closes() -> None:
    """Produced 1000.00 = dispatched 950.00 + Δ stock (548.00 − 500.00 = 48.00) + fuel use 2.00:
    residual 0.00, within max(0.5 % × 1000, 1) = 5.00."""
    got = oil_balance(
        produced=D("1000.00"),
        dispatched=D("950.00"),
        tanks=[TankStock("TK-1", D("500.00"), D("548.00"), capacity_bbl=D("1000"))],
        consumption=D("2.00"),
    )
    assert got.closes and got.residual == D("0.00")
    assert got.tolerance == D("5.000")
    assert got.term("stock_change") == D("48.00")
    assert got.findings == ()


def test_broken_tank_gauge_opens_the_oil_balance() -> None:
    """The closing gauge of TK-1 misread by 200 bbl (748.00 instead of 548.00): Δ stock 248.00,
    residual 1000 − (950 + 248 + 2) = −200.00, beyond 5.00: a finding."""
    got = oil_balance(
        produced=D("1000.00"),
        dispatched=D("950.00"),
        tanks=[
            TankStock("TK-1", D("500.00"), D("748.00")),
            TankStock("TK-2", D("300.00"), D("300.00")),
        ],
        consumption=D("2.00"),
        target="CAMPO",
    )
    assert not got.closes
    assert got.residual == D("-200.00")
    (finding,) = got.findings
    assert finding.code is Code.BALANCE_OPEN and finding.target == "CAMPO"
    assert "residual -200.00 bbl (-20.00 % of production) exceeds the tolerance 5.00 bbl" in (
        finding.message
    )


def test_gauge_above_capacity_is_flagged() -> None:
    got = oil_balance(
        produced=D("100"),
        dispatched=D("0"),
        tanks=[TankStock("TK-1", D("900"), D("1100"), capacity_bbl=D("1000"))],
        settings=BalanceSettings(oil=Tolerance(D(0), D(1000))),
    )
    assert got.closes
    assert [(f.code, f.target) for f in got.findings] == [(Code.TANK_GAUGE, "TK-1")]


def test_negative_gauge_and_twice_listed_tank_are_errors() -> None:
    with pytest.raises(AllocationError, match=r"closing stock of tank 'TK-1' -5 bbl is negative"):
        TankStock("TK-1", D(0), D(-5))
    tank = TankStock("TK-1", D(0), D(5))
    with pytest.raises(AllocationError, match="a tank is given twice"):
        oil_balance(produced=D(5), dispatched=D(0), tanks=[tank, tank])


def test_gas_balance() -> None:
    """1900 produced = 300 fuel + 1600 flare: closes. With flare 1500: residual 100 > 2 % × 1900
    = 38: a finding."""
    assert gas_balance(produced=D(1900), fuel=D(300), flare=D(1600)).closes
    open_ = gas_balance(produced=D(1900), fuel=D(300), flare=D(1500))
    assert (open_.closes, open_.residual, open_.tolerance) == (False, D(100), D(38))


def test_water_balance_with_injection_wells() -> None:
    """185 000 produced = 100 000 disposal + 85 000 injected (wells 50 000 + 35 000)."""
    wells = {"INY-1": D(50000), "INY-2": D(35000)}
    by_wells = water_balance(produced=D(185000), disposal=D(100000), injection_wells=wells)
    assert by_wells.closes and by_wells.disposed == D(185000)
    assert by_wells.term("injection:INY-1") == D(50000)
    assert by_wells.term("injection:INY-2") == D(35000)
    # The injection PMO says 86 000; the wells' 85 000 is off by 1 000 > 0.5 % × 86 000 = 430.
    both = water_balance(
        produced=D(186000), disposal=D(100000), injection=D(86000), injection_wells=wells
    )
    assert both.closes
    assert [f.code for f in both.findings] == [Code.BALANCE_OPEN]
    assert "injection wells add up to 85000 bbl" in both.findings[0].message


def test_balances_from_the_topology_totals() -> None:
    totals = field_totals(
        demo_topology(),
        {
            "OIL-PROD": D("1000.00"),
            "LACT": D("995.00"),
            "GAS-PROD": D("300.00"),
            "GAS-FUEL": D("120.00"),
            "GAS-FLARE": D("180.00"),
            "WAT-PROD": D("5000.00"),
            "WAT-DISP": D("5000.00"),
        },
    )
    got = balances_from_totals(totals, tanks=[TankStock("TK", D(10), D(15))])
    assert got.oil is not None and got.oil.closes and got.oil.residual == 0
    assert got.gas is not None and got.gas.term("flare") == D("180.00") and got.gas.closes
    assert got.water is not None and got.water.closes
    assert got.findings == ()


def test_negative_disposition_is_refused() -> None:
    with pytest.raises(AllocationError, match="gas balance term 'fuel' -1 kscf is negative"):
        gas_balance(produced=D(1), fuel=D(-1))


def _terms(balance: Balance) -> list[tuple[str, Decimal]]:
    return [(t.name, t.volume) for t in balance.terms]


def test_metered_injection_wells_close_the_water_balance() -> None:
    """5000.00 produced = 3000.00 disposal + 1200.00 (INJ-1) + 800.00 (INJ-2): residual 0.00,
    within max(0.5 % × 5000.00, 1) = 25.00; each well is its own term."""
    got = water_balance(
        produced=D("5000.00"),
        disposal=D("3000.00"),
        injection_wells={"INJ-2": D("800.00"), "INJ-1": D("1200.00")},
    )
    assert got.closes and got.residual == D("0.00") and got.tolerance == D("25.0000")
    assert _terms(got) == [
        ("disposal", D("3000.00")),
        ("injection:INJ-1", D("1200.00")),
        ("injection:INJ-2", D("800.00")),
    ]
    assert got.findings == ()


def test_a_meter_reading_ten_percent_low_opens_the_water_balance() -> None:
    """INJ-1 reads 10 % low: 1200.00 × 0.9 = 1080.00. Residual 5000.00 − (3000.00 + 1080.00 +
    800.00) = 120.00 bbl, 120 / 5000 = 2.40 % of production, beyond the 25.00 bbl tolerance."""
    got = water_balance(
        produced=D("5000.00"),
        disposal=D("3000.00"),
        injection_wells={"INJ-1": D("1080.00"), "INJ-2": D("800.00")},
        target="CAMPO",
    )
    assert not got.closes and got.residual == D("120.00")
    (finding,) = got.findings
    assert (finding.code, finding.severity, finding.target) == (
        Code.BALANCE_OPEN,
        Severity.WARNING,
        "CAMPO",
    )
    assert "injection:INJ-1 1080.00, injection:INJ-2 800.00" in finding.message
    assert "residual 120.00 bbl (2.40 % of production) exceeds the tolerance 25.00 bbl" in (
        finding.message
    )


def test_an_incomplete_injection_meter_never_closes_the_balance() -> None:
    """INJ-2's meter lost 6 h it had no basis to estimate: its 600.00 bbl is short. Residual
    5000.00 − (3000.00 + 1200.00 + 600.00) = 200.00 would not close anyway; with INJ-2 at
    780.00 the residual 20.00 is within 25.00, and the balance is still reported open."""
    gap = Finding(Code.INJECTION_METER_GAP, Severity.WARNING, "6 h missing", "INJ-2")
    got = water_balance(
        produced=D("5000.00"),
        disposal=D("3000.00"),
        injection_wells={"INJ-1": D("1200.00"), "INJ-2": D("780.00")},
        incomplete_wells=["INJ-2"],
        meter_findings=[gap],
    )
    assert got.residual == D("20.00") and not got.closes
    assert got.incomplete_terms == ("injection:INJ-2",)
    assert [f.code for f in got.findings] == [Code.INJECTION_METER_GAP, Code.BALANCE_OPEN]
    message = got.findings[1].message
    assert "injection meter of well(s) INJ-2 left part of the day without a volume" in message
    assert "(INJ-1 1200.00, INJ-2 780.00) 20.00 bbl" in message
    with pytest.raises(AllocationError, match=r"incomplete injection wells \['INJ-9'\]"):
        water_balance(produced=D(1), injection_wells={}, incomplete_wells=["INJ-9"])


def test_injection_wells_checked_against_the_injection_pmo() -> None:
    """The PMO measured 2000.00 (the term); the wells add up to 1080.00 + 800.00 = 1880.00,
    −120.00 off, beyond max(0.5 % × 2000.00, 1) = 10.00: a finding naming each well. The
    balance itself closes: 5000.00 − (3000.00 + 2000.00) = 0.00. An incomplete well is not
    compared (its gap finding says why)."""
    wells = {"INJ-1": D("1080.00"), "INJ-2": D("800.00")}
    got = water_balance(
        produced=D("5000.00"), disposal=D("3000.00"), injection=D("2000.00"), injection_wells=wells
    )
    assert got.closes and _terms(got) == [("disposal", D("3000.00")), ("injection", D("2000.00"))]
    (finding,) = got.findings
    assert finding.message == (
        "injection wells add up to 1880.00 bbl (INJ-1 1080.00, INJ-2 800.00), the injection PMO "
        "measured 2000.00 bbl: the difference -120.00 bbl exceeds the tolerance 10.00 bbl"
    )
    incomplete = water_balance(
        produced=D("5000.00"), disposal=D("3000.00"), injection=D("2000.00"),
        injection_wells=wells, incomplete_wells=["INJ-1"],
    )  # fmt: skip
    assert incomplete.closes and incomplete.findings == () and incomplete.incomplete_terms == ()


def test_balances_from_totals_take_the_metered_wells() -> None:
    """No injection PMO in the demo topology: WAT-PROD 5000.00 = WAT-DISP 3000.00 + the wells'
    1200.00 + 800.00."""
    totals = field_totals(demo_topology(), {"WAT-PROD": D("5000.00"), "WAT-DISP": D("3000.00")})
    metered = MeteredInjection({"INJ-1": D("1200.00"), "INJ-2": D("800.00")})
    got = balances_from_totals(totals, injection=metered)
    assert got.water is not None and got.water.closes
    assert got.water.term("injection:INJ-2") == D("800.00")
    without = balances_from_totals(totals)
    assert without.water is not None and without.water.term("injection") == D(0)
    assert without.water.residual == D("2000.00")
