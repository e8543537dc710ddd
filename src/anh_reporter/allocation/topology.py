"""The topology of a field: facilities, the wells that flow to them, the PMOs and their roles.

* A **facility** is a battery or a station. Each **well** flows to one facility.
* Each **PMO** sits at a facility and measures one fluid in one role: ``production`` (the
  fiscal point for the field's production of that fluid), ``transfer``, ``sales`` (LACT,
  dispatch), ``fuel``, ``flare``, ``vent``, ``reinjection``, ``gas_lift``, ``water_disposal``
  or ``water_injection``. ``downstream_of`` names the PMO, or the PMOs, the fluid passed
  through just before (same fluid), so PMOs form chains that may converge, e.g. the transfer
  meters of two batteries → the station's production PMO → LACT.
* A well **enters** at its facility's entry PMOs of each fluid: those with no upstream PMO at
  the same facility (a PMO fed only by other facilities' PMOs is still an entry for its own
  facility's wells). A well may name its entry PMOs itself (``entries``) when a facility has
  parallel trains; naming a PMO at another facility is allowed (older site files did it to
  reach a station) but noted in :attr:`Topology.warnings`.
* From its entry PMOs a well's fluid follows the chains downstream. For each fluid it produces,
  exactly one ``production`` PMO must lie on that path: it is the PMO the well is allocated at.
  No production PMO may lie upstream of another (along any path), so each path from a well to
  the fiscal point crosses exactly one.
* An **injector** (``injector=True``) produces no fluid: it has no fluids, names no entry PMOs
  and is allocated at no production PMO (:attr:`Topology.injectors` lists them). It still flows
  to (sits at) a facility.

:class:`Topology` checks all of this when built and raises one :class:`TopologyError` listing
every problem (the first one leads): unknown codes, a link between different fluids, a role
that does not fit the fluid, a cycle, two production PMOs in series for the same fluid, a well
with no path (or two parallel paths) to a production PMO of a fluid it produces.

:func:`field_totals` adds PMO volumes by (fluid, role) without counting one fluid twice along
a path: a PMO is left out when a PMO of the same role lies upstream of it on every inflow (two
flare meters in series measure the same gas once; a station transfer meter fed by two metered
battery transfers repeats them), and a PMO is left out when a counted PMO of the same role lies
downstream of it (that one measures this fluid too, with an inflow no meter of the role saw).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.fluids import FLUIDS, Fluid


class TopologyError(AllocationError):
    """A field topology that does not close; ``problems`` lists every problem found."""

    def __init__(self, field_code: str, problems: list[str]) -> None:
        self.problems = tuple(problems)
        more = len(problems) - 1
        text = f"topology of field {field_code!r}: {problems[0]}"
        if more:
            text += f"; and {more} more problem(s): " + " | ".join(problems[1:])
        super().__init__(text)


class FacilityKind(StrEnum):
    """What a facility is."""

    BATTERY = "battery"
    STATION = "station"


class Role(StrEnum):
    """What a PMO measures the fluid for."""

    PRODUCTION = "production"
    TRANSFER = "transfer"
    SALES = "sales"
    FUEL = "fuel"
    FLARE = "flare"
    VENT = "vent"
    REINJECTION = "reinjection"
    GAS_LIFT = "gas_lift"
    WATER_DISPOSAL = "water_disposal"
    WATER_INJECTION = "water_injection"


ROLE_FLUIDS: dict[Role, frozenset[Fluid]] = {
    Role.PRODUCTION: frozenset(FLUIDS),
    Role.TRANSFER: frozenset(FLUIDS),
    Role.SALES: frozenset({"oil", "gas"}),
    Role.FUEL: frozenset({"gas"}),
    Role.FLARE: frozenset({"gas"}),
    Role.VENT: frozenset({"gas"}),
    Role.REINJECTION: frozenset({"gas"}),
    Role.GAS_LIFT: frozenset({"gas"}),
    Role.WATER_DISPOSAL: frozenset({"water"}),
    Role.WATER_INJECTION: frozenset({"water"}),
}
"""The fluids each role can measure."""


@dataclass(frozen=True)
class Facility:
    """A battery or station."""

    code: str
    kind: FacilityKind = FacilityKind.BATTERY
    name: str = ""


@dataclass(frozen=True)
class TopologyWell:
    """A well: the facility it flows to and the fluids it produces."""

    code: str
    facility: str
    fluids: frozenset[Fluid] = frozenset(FLUIDS)
    entries: tuple[str, ...] = ()
    """The PMOs the well's fluids enter, when not all of its facility's entry PMOs."""
    injector: bool = False
    """An injector: no fluids, no entries, no production PMO (it takes no part in allocation)."""


Upstream = str | tuple[str, ...] | None
"""A PMO's ``downstream_of``: one PMO code, several, or None."""


def upstream_value(codes: Iterable[str]) -> Upstream:
    """``codes`` as a ``downstream_of`` value: None, one code, or several (sorted)."""
    unique = sorted(set(codes))
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else tuple(unique)


@dataclass(frozen=True)
class TopologyPmo:
    """A PMO: where it is, which fluid, which role, and the PMOs just upstream of it."""

    code: str
    facility: str
    fluid: Fluid
    role: Role
    downstream_of: Upstream = None
    """The PMO (a code) or PMOs (a tuple of codes) the fluid passed through just before."""

    @property
    def upstreams(self) -> tuple[str, ...]:
        """The PMOs just upstream of this one, by code."""
        if self.downstream_of is None:
            return ()
        if isinstance(self.downstream_of, str):
            return (self.downstream_of,)
        return tuple(sorted(self.downstream_of))


@dataclass(frozen=True)
class Topology:
    """A validated field topology (see the module docstring)."""

    field_code: str
    facilities: tuple[Facility, ...]
    wells: tuple[TopologyWell, ...]
    pmos: tuple[TopologyPmo, ...]
    _production: dict[tuple[str, Fluid], str] = field(init=False, repr=False, compare=False)
    _wells_at: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    warnings: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """What is accepted but probably wrong: a well entering a PMO at another facility."""

    def __post_init__(self) -> None:
        problems: list[str] = []
        production = _validate(self, problems)
        if problems:
            raise TopologyError(self.field_code, problems)
        object.__setattr__(self, "_production", production)
        groups: dict[str, set[str]] = {}
        for (well, _), pmo in production.items():
            groups.setdefault(pmo, set()).add(well)
        object.__setattr__(self, "_wells_at", {p: tuple(sorted(w)) for p, w in groups.items()})
        object.__setattr__(self, "warnings", _foreign_entries(self))

    def pmo(self, code: str) -> TopologyPmo:
        """The PMO ``code``."""
        for p in self.pmos:
            if p.code == code:
                return p
        raise AllocationError(f"PMO {code!r} is not in the topology of field {self.field_code!r}")

    def production_pmo(self, well: str, fluid: Fluid) -> str | None:
        """The production PMO where ``well``'s ``fluid`` is allocated (None: not produced)."""
        return self._production.get((well, fluid))

    def wells_at(self, pmo: str) -> tuple[str, ...]:
        """The wells allocated at production PMO ``pmo``, by code."""
        return self._wells_at.get(pmo, ())

    @property
    def injectors(self) -> frozenset[str]:
        """The codes of the injectors (allocated at no production PMO)."""
        return frozenset(w.code for w in self.wells if w.injector)

    def production_pmos(self) -> tuple[TopologyPmo, ...]:
        """Every production PMO, by code."""
        return tuple(sorted((p for p in self.pmos if p.role == Role.PRODUCTION), key=_code))

    def upstream(self, pmo: str) -> tuple[str, ...]:
        """Every PMO upstream of ``pmo`` (along all its inflows), nearest first, each once."""
        by_code = {p.code: p for p in self.pmos}
        return tuple(_walk(pmo, lambda code: by_code[code].upstreams)[1:])


def _code(p: TopologyPmo) -> str:
    return p.code


def _validate(topology: Topology, problems: list[str]) -> dict[tuple[str, Fluid], str]:
    facilities = _unique(topology.facilities, "facility", problems)
    pmos = _unique(topology.pmos, "PMO", problems)
    wells = _unique(topology.wells, "well", problems)
    for p in pmos.values():
        if p.facility not in facilities:
            problems.append(f"PMO {p.code!r} is at unknown facility {p.facility!r}")
        if p.fluid not in FLUIDS:
            problems.append(f"PMO {p.code!r} has fluid {p.fluid!r}, not one of {list(FLUIDS)}")
            continue
        if p.role not in ROLE_FLUIDS:
            problems.append(
                f"PMO {p.code!r} has role {p.role!r}, not one of {[str(r) for r in Role]}"
            )
            continue
        if p.fluid not in ROLE_FLUIDS[p.role]:
            allowed = sorted(ROLE_FLUIDS[p.role])
            problems.append(
                f"PMO {p.code!r} measures {p.fluid} in role {p.role}, which only fits {allowed}"
            )
        _check_upstreams(p, pmos, problems)
    if problems:
        return {}
    cycles = _cycles(pmos)
    for cycle in cycles:
        problems.append("PMOs form a cycle: " + " → ".join([*cycle, cycle[0]]))
    if cycles:
        return {}
    children: dict[str, list[str]] = {}
    for p in pmos.values():
        for up in p.upstreams:
            children.setdefault(up, []).append(p.code)
    _series(pmos, problems)
    if problems:  # the wells' paths would only repeat the series problem
        return {}
    return _well_paths(topology, facilities, pmos, wells, children, problems)


def _check_upstreams(p: TopologyPmo, pmos: Mapping[str, TopologyPmo], problems: list[str]) -> None:
    named = p.downstream_of
    if named is not None and not isinstance(named, str):
        if not named:
            problems.append(
                f"PMO {p.code!r} is downstream of an empty list of PMOs: name at least one, or "
                "leave downstream_of out"
            )
        repeated = sorted({c for c in named if named.count(c) > 1})
        if repeated:
            problems.append(f"PMO {p.code!r} names upstream PMO(s) {repeated} more than once")
    for up in p.upstreams:
        if up not in pmos:
            problems.append(f"PMO {p.code!r} is downstream of unknown PMO {up!r}")
        elif pmos[up].fluid != p.fluid:
            problems.append(
                f"PMO {p.code!r} ({p.fluid}) is downstream of PMO {up!r} ({pmos[up].fluid}): a "
                "chain carries one fluid"
            )


_Node = TypeVar("_Node", Facility, TopologyWell, TopologyPmo)


def _unique(items: tuple[_Node, ...], what: str, problems: list[str]) -> dict[str, _Node]:
    out: dict[str, _Node] = {}
    for item in items:
        if not item.code or item.code != item.code.strip():
            problems.append(f"{what} code {item.code!r} is empty or has blanks")
        elif item.code in out:
            problems.append(f"duplicate {what} code {item.code!r}")
        out[item.code] = item
    return out


def _cycles(pmos: Mapping[str, TopologyPmo]) -> list[list[str]]:
    """Each cycle of ``downstream_of`` links found once, starting at its smallest code."""
    found: dict[tuple[str, ...], list[str]] = {}
    done: set[str] = set()
    for start in sorted(pmos):
        if start in done:
            continue
        # Depth first upstream; ``path`` runs upstream, each PMO fed by the next.
        path = [start]
        pending = [iter(pmos[start].upstreams)]
        while pending:
            up = next(pending[-1], None)
            if up is None:
                done.add(path.pop())
                pending.pop()
            elif up in path:  # written in flow order, each PMO feeds the next
                flow = list(reversed(path[path.index(up) :]))
                first = flow.index(min(flow))
                found.setdefault(tuple(sorted(flow)), flow[first:] + flow[:first])
            elif up not in done:
                path.append(up)
                pending.append(iter(pmos[up].upstreams))
    return list(found.values())


def _series(pmos: Mapping[str, TopologyPmo], problems: list[str]) -> None:
    """A production PMO with another one upstream of it (the nearest, on any inflow)."""

    def up_to_production(code: str) -> tuple[str, ...]:
        return () if pmos[code].role == Role.PRODUCTION else pmos[code].upstreams

    for p in sorted(pmos.values(), key=_code):
        if p.role != Role.PRODUCTION:
            continue
        nearest = [u for up in p.upstreams for u in _walk(up, up_to_production)]
        for up in sorted({u for u in nearest if pmos[u].role == Role.PRODUCTION}):
            problems.append(
                f"production PMOs {up!r} and {p.code!r} are in series for {p.fluid}: the same "
                f"{p.fluid} would be counted twice; make one of them a transfer PMO"
            )


def _well_paths(
    topology: Topology,
    facilities: Mapping[str, Facility],
    pmos: Mapping[str, TopologyPmo],
    wells: Mapping[str, TopologyWell],
    children: Mapping[str, list[str]],
    problems: list[str],
) -> dict[tuple[str, Fluid], str]:
    production: dict[tuple[str, Fluid], str] = {}
    for w in sorted(wells.values(), key=lambda w: w.code):
        if w.injector:
            _check_injector(w, facilities, problems)
            continue
        odd = sorted(set(w.fluids) - set(FLUIDS))
        if odd or not w.fluids:
            problems.append(
                f"well {w.code!r} produces {sorted(w.fluids)}; its fluids must be some of "
                f"{list(FLUIDS)}"
            )
            continue
        if w.facility not in facilities:
            problems.append(f"well {w.code!r} flows to unknown facility {w.facility!r}")
            continue
        for entry in w.entries:
            if entry not in pmos:
                problems.append(f"well {w.code!r} enters unknown PMO {entry!r}")
        for fluid in sorted(w.fluids):
            entries = _entries(w, fluid, pmos)
            reached = sorted(
                {
                    code
                    for entry in entries
                    for code in _downstream(entry, children)
                    if pmos[code].role == Role.PRODUCTION
                }
            )
            if not reached:
                via = f" (entering at {entries})" if entries else " (no PMO of it to enter)"
                problems.append(
                    f"well {w.code!r} at {w.facility!r} has no path to a production PMO of "
                    f"{fluid}{via}"
                )
            elif len(reached) > 1:
                problems.append(
                    f"well {w.code!r} reaches production PMOs {reached} of {fluid} in parallel: "
                    "name the PMO its fluid enters (entries)"
                )
            else:
                production[(w.code, fluid)] = reached[0]
    return production


def _check_injector(
    w: TopologyWell, facilities: Mapping[str, Facility], problems: list[str]
) -> None:
    if w.fluids or w.entries:
        problems.append(
            f"well {w.code!r} is an injector and produces no fluid: it has fluids "
            f"{sorted(w.fluids)} and entries {list(w.entries)}, both must be empty"
        )
    if w.facility not in facilities:
        problems.append(f"well {w.code!r} flows to unknown facility {w.facility!r}")


def _entries(w: TopologyWell, fluid: Fluid, pmos: Mapping[str, TopologyPmo]) -> list[str]:
    if w.entries:
        return sorted(e for e in w.entries if e in pmos and pmos[e].fluid == fluid)
    return sorted(
        p.code
        for p in pmos.values()
        if p.facility == w.facility
        and p.fluid == fluid
        and all(pmos[u].facility != w.facility for u in p.upstreams)
    )


def _downstream(start: str, children: Mapping[str, list[str]]) -> list[str]:
    return _walk(start, lambda code: children.get(code, ()))


def _walk(start: str, links: Callable[[str], Iterable[str]]) -> list[str]:
    """``start`` and every code reached from it through ``links``, nearest first, each once."""
    out = [start]
    seen = {start}
    index = 0
    while index < len(out):
        for code in links(out[index]):
            if code not in seen:
                seen.add(code)
                out.append(code)
        index += 1
    return out


def _foreign_entries(topology: Topology) -> tuple[str, ...]:
    facility = {p.code: p.facility for p in topology.pmos}
    return tuple(
        f"well {w.code!r} flows to {w.facility!r} but enters PMO {entry!r} at "
        f"{facility[entry]!r}: if the well flows there, set its facility to "
        f"{facility[entry]!r}; if {w.facility!r} feeds that facility, name the PMO of "
        f"{w.facility!r} in the downstream_of of the PMO it feeds and leave the well's entries out"
        for w in sorted(topology.wells, key=lambda w: w.code)
        for entry in w.entries
        if entry in facility and facility[entry] != w.facility
    )


@dataclass(frozen=True)
class FieldTotals:
    """Field volumes by (fluid, role), each fluid counted once along a path."""

    totals: dict[tuple[Fluid, Role], Decimal]
    counted: dict[tuple[Fluid, Role], tuple[str, ...]]
    """The PMOs each total adds."""
    left_out: tuple[str, ...]
    """PMOs not added: a PMO of the same role measured their fluid (see the module docstring)."""
    missing: tuple[str, ...]
    """PMOs with no volume given."""

    def total(self, fluid: Fluid, role: Role) -> Decimal:
        """The total of ``fluid`` in ``role`` (0 when no PMO has that role)."""
        return self.totals.get((fluid, role), Decimal(0))


def field_totals(topology: Topology, volumes: Mapping[str, Decimal]) -> FieldTotals:
    """Add PMO ``volumes`` (by PMO code) by fluid and role; see the module docstring."""
    unknown = sorted(set(volumes) - {p.code for p in topology.pmos})
    if unknown:
        raise AllocationError(
            f"volumes given for PMOs {unknown} that are not in field {topology.field_code!r}"
        )
    by_code = {p.code: p for p in topology.pmos}
    covered = {p.code for p in topology.pmos if _covered(p.code, p.role, by_code)}
    # A PMO left uncovered although a same-role PMO feeds one of its inflows measures that
    # PMO's fluid again: it is counted, and the same-role PMOs upstream of it are not.
    repeated = {
        u
        for p in topology.pmos
        if p.code not in covered
        for u in topology.upstream(p.code)
        if by_code[u].role == p.role
    }
    totals: dict[tuple[Fluid, Role], Decimal] = {}
    counted: dict[tuple[Fluid, Role], list[str]] = {}
    left_out: list[str] = []
    missing: list[str] = []
    for p in sorted(topology.pmos, key=_code):
        if p.code in covered or p.code in repeated:
            left_out.append(p.code)
            continue
        volume = volumes.get(p.code)
        if volume is None:
            missing.append(p.code)
            continue
        key = (p.fluid, p.role)
        totals[key] = totals.get(key, Decimal(0)) + volume
        counted.setdefault(key, []).append(p.code)
    return FieldTotals(
        totals, {k: tuple(v) for k, v in counted.items()}, tuple(left_out), tuple(missing)
    )


def _covered(
    code: str, role: Role, by_code: Mapping[str, TopologyPmo], memo: dict[str, bool] | None = None
) -> bool:
    """True when a PMO of ``role`` lies upstream of ``code`` on every one of its inflows."""
    memo = {} if memo is None else memo
    if code not in memo:
        ups = by_code[code].upstreams
        memo[code] = bool(ups) and all(
            by_code[u].role == role or _covered(u, role, by_code, memo) for u in ups
        )
    return memo[code]
