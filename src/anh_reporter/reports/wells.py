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
_HOURS, _GOR, _WOR = QUANTA["hours"], QUANTA["gor"], QUANTA["wor"]

CAUSE_FIGURES = {"hours_down": _HOURS, "oil": _VOLUME, "gas": _VOLUME, "water": _VOLUME}
"""The figures of a well's deferred cause row, with their increments."""
BALANCE_TERM_FIGURES = {"volume": _VOLUME}
ALLOCATION_FIGURES = {
    "measured": _VOLUME,
    "theoretical_total": _VOLUME,
    "factor": _FACTOR,
    "allocated_total": _VOLUME,
    "unallocated": _VOLUME,
}
"""The figures of a production PMO's allocation row, with their increments."""
BY_ROLE_FIGURES = {"total": _VOLUME}


def _well(d: WellDayInfo, w: WellInfo | None, field_dane: str) -> WellReport:
    pmos, factors = d.pmos, d.factors
    pmo = pmos["oil"] if "oil" in pmos else pmos["gas"] if "gas" in pmos else pmos.get("water", "")
    oil, gas, water = factors.get("oil"), factors.get("gas"), factors.get("water")
    v, f, b, h, up = _VOLUME, _FACTOR, _BSW, _HOURS, ROUND_HALF_UP
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
        None if (x := d.hours_on) is None else x.quantize(h, up),  # hours_on
        d.hours_source,  # hours_source
        d.test_date,  # test_date
        d.test_age_days,  # test_age_days
        d.test_state,  # test_state
        None if (x := d.bsw_pct) is None else x.quantize(b, up),  # bsw_pct
        None if (x := d.gor_scf_bbl) is None else x.quantize(_GOR, up),  # gor_scf_bbl
        None if (x := d.wor) is None else x.quantize(_WOR, up),  # wor
        None if oil is None else oil.quantize(f, up),  # factor_oil
        None if gas is None else gas.quantize(f, up),  # factor_gas
        None if water is None else water.quantize(f, up),  # factor_water
        None if (x := d.theoretical_oil_bbl) is None else x.quantize(v, up),  # theoretical_oil_bbl
        d.hours_down.quantize(h, up),  # hours_down
        None if (x := d.deferred_oil_bbl) is None else x.quantize(v, up),  # deferred_oil_bbl
        None if (x := d.deferred_gas_kscf) is None else x.quantize(v, up),  # deferred_gas_kpc
        None if (x := d.deferred_water_bbl) is None else x.quantize(v, up),  # deferred_water_bbl
        # deferred_causes, findings: the stored lists themselves when there is nothing to convert
        # (the model is only read): 1,000 fewer objects a report for the garbage collector to
        # track, which made its full collections four times rarer.
        [_plain(c, CAUSE_FIGURES) for c in d.deferred_causes]
        if d.deferred_causes
        else d.deferred_causes,
        d.findings,
        (w.avm_code if w else None) or d.code,  # avm_code
    )


_TEXT_KEYS = frozenset({"cause", "pmo", "fluid", "role", "name"})
"""Keys of stored rows that hold codes and names, never numbers (a PMO coded ``1001`` or a
downtime cause ``1.5`` stays text)."""


def _plain(row: dict[str, Any], figures: dict[str, Decimal]) -> dict[str, Any]:
    """A stored JSON row with its numbers as Decimals (stored as text to stay exact), each of
    ``figures`` rounded half up to its increment (a stored ``"0"`` is reported ``0.00``)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in _TEXT_KEYS:
            out[key] = value
            continue
        if isinstance(value, str | int | Decimal) and not isinstance(value, bool):
            increment = figures.get(key)
            if increment is not None:
                out[key] = Decimal(value).quantize(increment, ROUND_HALF_UP)
                continue
            if isinstance(value, str):
                try:
                    out[key] = Decimal(value)
                    continue
                except ArithmeticError:
                    pass
        out[key] = value
    return out


def _volume(value: Any) -> Decimal:
    return Decimal(value).quantize(_VOLUME, ROUND_HALF_UP)


def balance_reports(allocation: AllocationInfo | None) -> list[BalanceReport]:
    """The oil, gas and water balances of the day (none without a stored allocation)."""
    if allocation is None:
        return []
    return [
        BalanceReport(
            fluid=str(b["fluid"]),
            produced=_volume(b["produced"]),
            terms=[_plain(t, BALANCE_TERM_FIGURES) for t in b["terms"]],
            residual=_volume(b["residual"]),
            tolerance=_volume(b["tolerance"]),
            closes=bool(b["closes"]),
            incomplete_terms=[str(t) for t in b.get("incomplete_terms") or []],
        )
        for b in allocation.totals.get("balances", [])
    ]


def allocation_report(allocation: AllocationInfo | None) -> AllocationReport | None:
    """Each production PMO's allocation, the totals by role and the findings."""
    if allocation is None:
        return None
    return AllocationReport(
        pmos=[_plain(p, ALLOCATION_FIGURES) for p in allocation.pmos],
        totals_by_role=[_plain(t, BY_ROLE_FIGURES) for t in allocation.totals.get("by_role", [])],
        findings=list(allocation.findings),
    )
