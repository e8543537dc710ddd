"""The report's wells, balances and allocation, from the stored well days (pure).

The allocation itself is done when the day's figures are computed
(:mod:`anh_reporter.production.well_days`) and stored per well; the report copies those rows
(so a report rebuilt later shows what was allocated then), adds each well's master data
(facility, municipality, method) and names, for profiles before idp-1.2, the one PMO a well
used to have (its oil PMO, else gas, else water).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Any

from anh_reporter.reports.model import (
    QUANTA,
    AllocationInfo,
    AllocationReport,
    BalanceReport,
    ReportInputs,
    WellDayInfo,
    WellInfo,
    WellReport,
)

ALLOCATION_BASIS = "well test"
"""What profiles before idp-1.2 call the allocation (test rate × hours on, API MPMS 20.1)."""


def well_reports(inputs: ReportInputs) -> list[WellReport]:
    """One row per stored well day, by well code (no stored day: no wells)."""
    info = {w.code: w for w in inputs.wells}
    dane = inputs.field.municipality_dane
    return [_well(d, info.get(d.code), dane) for d in sorted(inputs.well_days, key=_code)]


_code = attrgetter("code")
_VOLUME, _FACTOR, _BSW = QUANTA["volume"], QUANTA["factor"], QUANTA["bsw"]


def _well(d: WellDayInfo, w: WellInfo | None, field_dane: str) -> WellReport:
    pmos, factors = d.pmos, d.factors
    pmo = pmos["oil"] if "oil" in pmos else pmos["gas"] if "gas" in pmos else pmos.get("water", "")
    oil, gas, water = factors.get("oil"), factors.get("gas"), factors.get("water")
    v, f, b, up = _VOLUME, _FACTOR, _BSW, ROUND_HALF_UP
    # Positional, in WellReport's field order: 500 rows by keyword cost 0.8 ms more a report.
    # Figures rounded half up to their increment inline: a call per figure cost 0.3 ms a report.
    return WellReport(
        d.code,  # code
        w.name if w else d.code,  # name
        pmo,  # pmo
        w.production_method if w else "",  # production_method
        None if (x := d.oil_bbl) is None else x.quantize(v, up),  # oil_net_bbl
        None if (x := d.water_bbl) is None else x.quantize(v, up),  # water_bbl
        None if (x := d.gas_kscf) is None else x.quantize(v, up),  # gas_kpc
        ALLOCATION_BASIS,  # allocation
        dict(sorted(pmos.items())) if len(pmos) > 1 else dict(pmos),  # pmos
        w.facility if w else None,  # facility
        (w.municipality_dane if w else None) or field_dane,  # municipality_dane
        d.status,  # status
        d.hours_on,  # hours_on
        d.hours_source,  # hours_source
        d.test_date,  # test_date
        d.test_age_days,  # test_age_days
        d.test_state,  # test_state
        None if (x := d.bsw_pct) is None else x.quantize(b, up),  # bsw_pct
        d.gor_scf_bbl,  # gor_scf_bbl
        d.wor,  # wor
        None if oil is None else oil.quantize(f, up),  # factor_oil
        None if gas is None else gas.quantize(f, up),  # factor_gas
        None if water is None else water.quantize(f, up),  # factor_water
        None if (x := d.theoretical_oil_bbl) is None else x.quantize(v, up),  # theoretical_oil_bbl
        d.hours_down,  # hours_down
        None if (x := d.deferred_oil_bbl) is None else x.quantize(v, up),  # deferred_oil_bbl
        None if (x := d.deferred_gas_kscf) is None else x.quantize(v, up),  # deferred_gas_kpc
        None if (x := d.deferred_water_bbl) is None else x.quantize(v, up),  # deferred_water_bbl
        # deferred_causes, findings: the stored lists themselves when there is nothing to convert
        # (the model is only read): 1,000 fewer objects a report for the garbage collector to
        # track, which made its full collections four times rarer.
        [_plain(c) for c in d.deferred_causes] if d.deferred_causes else d.deferred_causes,
        d.findings,
        (w.avm_code if w else None) or d.code,  # avm_code
    )


_TEXT_KEYS = frozenset({"cause", "pmo", "fluid", "role", "name"})
"""Keys of stored rows that hold codes and names, never numbers (a PMO coded ``1001`` or a
downtime cause ``1.5`` stays text)."""


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A stored JSON row with its numbers as Decimals (stored as text to stay exact)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, str) and key not in _TEXT_KEYS:
            try:
                out[key] = Decimal(value)
                continue
            except ArithmeticError:
                pass
        out[key] = value
    return out


def balance_reports(allocation: AllocationInfo | None) -> list[BalanceReport]:
    """The oil, gas and water balances of the day (none without a stored allocation)."""
    if allocation is None:
        return []
    return [
        BalanceReport(
            fluid=str(b["fluid"]),
            produced=Decimal(b["produced"]),
            terms=[_plain(t) for t in b["terms"]],
            residual=Decimal(b["residual"]),
            tolerance=Decimal(b["tolerance"]),
            closes=bool(b["closes"]),
        )
        for b in allocation.totals.get("balances", [])
    ]


def allocation_report(allocation: AllocationInfo | None) -> AllocationReport | None:
    """Each production PMO's allocation, the totals by role and the findings."""
    if allocation is None:
        return None
    return AllocationReport(
        pmos=[_plain(p) for p in allocation.pmos],
        totals_by_role=[_plain(t) for t in allocation.totals.get("by_role", [])],
        findings=list(allocation.findings),
    )
