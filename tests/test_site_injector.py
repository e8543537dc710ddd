"""An injector in the site file produces no fluid: ``fluids`` or ``entries`` are refused in one
line, and a field with facilities builds it as an injector of its topology."""

from __future__ import annotations

from pathlib import Path

import pytest

from anh_reporter.site import SiteFileError, load_site
from anh_reporter.storage.site_topology import field_topology

from .test_site import MINIMAL, write

FACILITY = "    facilities: [{code: BAT-1, name: Bateria 1}]\n"


def site(tmp_path: Path, extra: str) -> Path:
    well = (
        "    wells:\n"
        "      - {code: P-1, name: Pozo 1, production_method: esp}\n"
        f"      - {{code: INJ-1, name: Inyector 1, production_method: injector{extra}}}\n"
    )
    return write(tmp_path, MINIMAL.replace("RANGE", "[0, 100]") + FACILITY + well)


def test_an_injector_is_built_without_fluids(tmp_path: Path) -> None:
    loaded = load_site(site(tmp_path, ""))
    field = loaded.fields[0]
    assert field.well_fluids(field.wells[1]) == ()
    topology = field_topology(field)
    assert topology.injectors == frozenset({"INJ-1"})
    assert topology.production_pmo("INJ-1", "oil") is None
    assert topology.production_pmo("P-1", "oil") == "P1"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (", fluids: [water]", "fluids: ['water']"),
        (", entries: [P1]", "entries: ['P1']"),
        (", fluids: [oil], entries: [P1]", "fluids: ['oil'] and entries: ['P1']"),
    ],
)
def test_an_injector_naming_fluids_or_entries_is_refused(
    tmp_path: Path, extra: str, named: str
) -> None:
    with pytest.raises(SiteFileError) as exc:
        load_site(site(tmp_path, extra))
    message = str(exc.value)
    assert "fields[0].wells[1]" in message
    assert (
        "an injector produces no fluid and takes no part in the production allocation: "
        f"remove {named}"
    ) in message
    assert "\n" not in message
