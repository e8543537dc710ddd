"""BSW, GOR and WOR of a well from its volumes (allocated daily, or summed over a month)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from anh_reporter.domain.mpms import round_half_up

BSW_INCREMENT = Decimal("0.01")
GOR_INCREMENT = Decimal("0.1")
WOR_INCREMENT = Decimal("0.001")


@dataclass(frozen=True)
class WellRatios:
    """Water cut, gas-oil ratio and water-oil ratio; None where the denominator is 0."""

    bsw_pct: Decimal | None
    """water / (oil + water) × 100, % (0.01)."""
    gor_scf_bbl: Decimal | None
    """gas × 1000 / oil, scf/bbl (0.1): gas in kscf, oil in bbl."""
    wor: Decimal | None
    """water / oil, bbl/bbl (0.001)."""


def well_ratios(
    oil_bbl: Decimal | None, gas_kscf: Decimal | None, water_bbl: Decimal | None
) -> WellRatios:
    """The ratios of the volumes given; a missing volume leaves the ratios that need it None."""
    bsw = gor = wor = None
    if oil_bbl is not None and water_bbl is not None and oil_bbl + water_bbl > 0:
        bsw = round_half_up(water_bbl * 100 / (oil_bbl + water_bbl), BSW_INCREMENT)
    if oil_bbl is not None and oil_bbl > 0:
        if gas_kscf is not None:
            gor = round_half_up(gas_kscf * 1000 / oil_bbl, GOR_INCREMENT)
        if water_bbl is not None:
            wor = round_half_up(water_bbl / oil_bbl, WOR_INCREMENT)
    return WellRatios(bsw, gor, wor)
