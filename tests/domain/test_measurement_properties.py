"""Properties of the ticket and tank arithmetic that must hold for any input (Hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from anh_reporter.domain.mpms.tanks import StrappingTable
from anh_reporter.domain.mpms.ticket import CONTINUOUS_DISCRIMINATION, ticket_volumes

volumes = st.decimals(min_value=0, max_value=100_000, places=2)
factors = st.decimals(min_value=Decimal("0.9"), max_value=Decimal("1.1"), places=6)
bsw = st.decimals(min_value=0, max_value=Decimal("99.99"), places=2)


@settings(max_examples=200, deadline=None)
@given(volumes, factors, factors, factors, bsw)
@example(Decimal("10000.00"), Decimal("0.9831"), Decimal("1"), Decimal("1.0516"), Decimal("13.25"))
def test_ticket_balances_and_stays_close_to_the_continuous_method(
    iv: Decimal, mf: Decimal, ctl: Decimal, cpl: Decimal, sw: Decimal
) -> None:
    """S&W volume = GSV − NSV exactly (the printed ticket balances); NSV ≤ GSV; the discrete
    ticket differs from the unrounded product by less than the factors' rounding plus the
    volume steps. The explicit example: CCF 1.0338, GSV 10,338.00, CSW 0.8675,
    NSV = 8,968.215 → 8,968.22, so S&W = 10,338.00 − 8,968.22 = 1,369.78 (not 1,369.785 → .79)."""
    ticket = ticket_volumes(indicated_volume=iv, meter_factor=mf, ctl=ctl, cpl=cpl, bsw_percent=sw)
    assert ticket.sediment_and_water_volume == (
        ticket.gross_standard_volume - ticket.net_standard_volume
    )
    assert ticket.net_standard_volume <= ticket.gross_standard_volume
    exact = ticket_volumes(
        indicated_volume=iv,
        meter_factor=mf,
        ctl=ctl,
        cpl=cpl,
        bsw_percent=sw,
        discrimination=CONTINUOUS_DISCRIMINATION,
    )
    # Each of CTL, CPL and MF moves by at most 0.00005 when rounded, CCF once more: a relative
    # bound of about 4 × 0.00005 × 1.1² on GSV, plus the 0.01 steps of the volumes.
    bound = iv * Decimal("0.000245") + Decimal("0.02")
    assert abs(ticket.gross_standard_volume - exact.gross_standard_volume) <= bound


@st.composite
def tables(draw: st.DrawFn) -> StrappingTable:
    steps = draw(st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=20))
    gains = draw(
        st.lists(
            st.integers(min_value=0, max_value=100_000), min_size=len(steps), max_size=len(steps)
        )
    )
    levels, volumes_ = [Decimal(0)], [Decimal(0)]
    for step, gain in zip(steps, gains, strict=True):
        levels.append(levels[-1] + Decimal(step) / 100)
        volumes_.append(volumes_[-1] + Decimal(gain) / 100)
    return StrappingTable("TK-P", tuple(levels), tuple(volumes_))


@settings(max_examples=200, deadline=None)
@given(tables(), st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=1))
def test_strapping_interpolation_is_monotone_and_exact_on_rows(
    table: StrappingTable, a: float, b: float
) -> None:
    top = table.levels[-1]
    low, high = sorted((Decimal(repr(a)) * top, Decimal(repr(b)) * top))
    assert table.volume_at(low) <= table.volume_at(high)
    assert table.volumes[0] <= table.volume_at(low) <= table.volumes[-1]
    for level, volume in zip(table.levels, table.volumes, strict=True):
        assert table.volume_at(level) == volume
