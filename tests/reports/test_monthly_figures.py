"""A signed day's well rows as the Forma 9SH's daily figures (pure: documents in, figures out)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from anh_reporter.reports.monthly import daily_figures


def _day(pmos: list[dict[str, Any]]) -> dict[str, Any]:
    injector = {"code": "W-3", "status": "injecting", "hours_on": "0.00", "oil_net_bbl": None,
                "gas_kpc": None, "water_bbl": None, "production_method": "injector"}  # fmt: skip
    return {"contract_day": {"date": "2026-11-01"}, "pmos": pmos, "wells": [injector]}


def test_an_injecting_well_produces_zero_only_of_what_the_day_measures() -> None:
    """A field with oil and water meters and no gas meter: the injector's oil and water are 0
    (it produced none of what was measured), its gas unknown (nothing measured gas)."""
    pmos = [{"code": "OIL-1", "kind": "oil", "oil_net_bbl": Decimal("980.00")},
            {"code": "WAT-1", "kind": "water", "water_net_bbl": Decimal("5000.00")}]  # fmt: skip
    [w3] = daily_figures([_day(pmos)])
    assert (w3.oil_bbl, w3.gas_kscf, w3.water_bbl) == (Decimal(0), None, Decimal(0))
    assert w3.production_method == "injector"
    gas = [*pmos, {"code": "GAS-1", "kind": "gas", "gas_kpc": Decimal("300.00")}]
    [w3] = daily_figures([_day(gas)])
    assert w3.gas_kscf == Decimal(0)
