"""What the report's own construction makes true, checked before a report is signed.

These are not rules: no field fault can break them, because the system builds the figures that
way (a CSW is never above 1, a counter increment never negative, totals are sums, wells are
allocated by the largest remainder). If one is broken the code is wrong, so the report is stopped
with :class:`InvariantError` instead of being signed with a finding a person could dismiss.
Tests break each one on purpose.
"""

from __future__ import annotations

from decimal import Decimal

from anh_reporter.errors import AnhError
from anh_reporter.reports.model import IdpReport

VOLUMES = ("oil_gross_bbl", "oil_net_bbl", "water_gross_bbl", "water_net_bbl", "gas_kpc")
_ZERO, _HUNDRED = Decimal(0), Decimal(100)


class InvariantError(AnhError):
    """A report whose figures contradict how they were built: a defect, never signed."""


def check_invariants(r: IdpReport) -> None:
    """Raise :class:`InvariantError` naming every broken invariant (see the module docstring)."""
    broken = [*_per_pmo(r), *_totals(r), *_wells(r)]
    if broken:
        raise InvariantError(f"{r.report.id}: report not built correctly: " + "; ".join(broken))


def _per_pmo(r: IdpReport) -> list[str]:
    out = []
    for p in r.pmos:
        for name in (*VOLUMES, "indicated_volume", "measured_volume", "estimated_volume"):
            value = getattr(p, name)
            if value is not None and value < 0:
                out.append(f"{p.code} {name} {value} is negative")
        net, gross = p.oil_net_bbl, p.oil_gross_bbl
        if net is not None and gross is not None and net > gross:
            out.append(f"{p.code} NSV {net} > GSV {gross}")
        if p.bsw_pct is not None and not _ZERO <= p.bsw_pct < _HUNDRED:
            out.append(f"{p.code} BSW {p.bsw_pct} % outside [0, 100)")
        estimated = sum((e.volume for e in p.estimates), _ZERO)
        claimed, slack = p.estimated_volume, Decimal("0.01") * len(p.estimates)
        if p.estimates and claimed is not None and abs(estimated - claimed) > slack:
            out.append(f"{p.code} estimates add up to {estimated}, not {claimed}")
    return out


def _totals(r: IdpReport) -> list[str]:
    out = []
    for name in VOLUMES:
        counted = (p for p in r.pmos if p.context is None or p.context.role == "production")
        total = sum((getattr(p, name) or _ZERO for p in counted), _ZERO)
        if total != getattr(r.totals, name):
            out.append(
                f"total {name} {getattr(r.totals, name)} is not the production PMOs' sum {total}"
            )
    return out


def _wells(r: IdpReport) -> list[str]:
    """Each fluid's wells add up to their PMO's figure (less what no well could take)."""
    pmos = {p.code: p for p in r.pmos}
    figures = (("oil", "oil_net_bbl", "oil_net_bbl"), ("water", "water_bbl", "water_net_bbl"),
               ("gas", "gas_kpc", "gas_kpc"))  # fmt: skip
    unallocated: dict[tuple[str, str], Decimal] = {}
    if r.allocation is not None:
        for row in r.allocation.pmos:
            unallocated[(str(row["pmo"]), str(row["fluid"]))] = Decimal(row["unallocated"])
    groups: dict[tuple[str, str], list[Decimal | None]] = {}
    for w in r.wells:
        for fluid, well_name, _ in figures:
            code = w.pmos.get(fluid, w.pmo)
            groups.setdefault((code, fluid), []).append(getattr(w, well_name))
    out = []
    for (code, fluid), values in sorted(groups.items()):
        if all(v is None for v in values):
            continue
        pmo_name = next(p for f, _, p in figures if f == fluid)
        total = sum((v or _ZERO for v in values), _ZERO) + unallocated.get((code, fluid), _ZERO)
        expected = getattr(pmos[code], pmo_name) if code in pmos else None
        if expected is None or total != expected:
            well_name = next(n for f, n, _ in figures if f == fluid)
            out.append(f"wells' {well_name} of {code} add up to {total}, the PMO has {expected}")
    return out
