"""A field's topology from the site file, validated by :mod:`anh_reporter.allocation.topology`.

A field that declares ``facilities`` is allocated per well: each PMO sits at a facility (the
field's only one by default) with a role and, optionally, the PMO it is ``downstream_of``; each
well flows to a facility. :func:`check_site` builds every such field's
:class:`~anh_reporter.allocation.topology.Topology` and raises one
:class:`~anh_reporter.site.SiteFileError` naming the file and every problem (a well with no path
to a production PMO, two production PMOs in series, ...). A field without facilities keeps the
legacy one-PMO-per-well link and is not allocated per well.
"""

from __future__ import annotations

from pathlib import Path

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.topology import (
    Facility,
    FacilityKind,
    Role,
    Topology,
    TopologyError,
    TopologyPmo,
    TopologyWell,
)
from anh_reporter.site import FieldSite, Site, SiteFileError


def has_topology(field: FieldSite) -> bool:
    """True when the field describes facilities, so its wells are allocated."""
    return bool(field.facilities)


def field_topology(field: FieldSite) -> Topology:
    """The validated topology of ``field`` (which must have facilities).

    Raises :class:`~anh_reporter.allocation.topology.TopologyError` listing every problem.
    """
    problems: list[str] = []
    pmos = []
    for p in field.pmos:
        facility = field.facility_of(p.facility)
        if facility is None:
            problems.append(
                f"PMO {p.code!r} names no facility and the field has "
                f"{len(field.facilities)}: say which (facility: ...)"
            )
            continue
        pmos.append(TopologyPmo(p.code, facility, p.kind, Role(p.role), p.downstream_of))
    wells = []
    for w in field.wells:
        facility = field.facility_of(w.facility)
        if facility is None:
            problems.append(
                f"well {w.code!r} names no facility and the field has "
                f"{len(field.facilities)}: say which it flows to (facility: ...)"
            )
            continue
        if w.production_method == "injector":
            wells.append(TopologyWell(w.code, facility, frozenset(), injector=True))
            continue
        fluids = field.well_fluids(w)
        if not fluids:
            problems.append(
                f"well {w.code!r} produces no fluid: the field has no production PMO "
                "(role: production) and the well lists no fluids"
            )
            continue
        wells.append(TopologyWell(w.code, facility, frozenset(fluids), tuple(w.entries)))
    if problems:
        raise TopologyError(field.code, problems)
    facilities = tuple(Facility(f.code, FacilityKind(f.kind), f.name) for f in field.facilities)
    return Topology(field.code, facilities, tuple(wells), tuple(pmos))


def check_site(site: Site, path: Path | str = "site") -> dict[str, Topology]:
    """Every allocated field's topology; one :class:`SiteFileError` for all problems."""
    out: dict[str, Topology] = {}
    messages: list[str] = []
    for index, field in enumerate(site.fields):
        if not has_topology(field):
            continue
        try:
            out[field.code] = field_topology(field)
        except AllocationError as exc:
            messages.append(f"{path}: fields[{index}]: {exc}")
    if messages:
        first, rest = messages[0], messages[1:]
        more = f"; and {len(rest)} more field(s): " + " | ".join(rest) if rest else ""
        raise SiteFileError(first + more)
    return out
