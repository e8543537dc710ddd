"""Site file topology: facilities, PMO roles and chains, wells → facility; checked on load."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from anh_reporter.site import Site, SiteFileError
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.site_topology import check_site

from ..conftest import ROOT


def _pmo(code: str, kind: str, role: str = "production", **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": code, "kind": kind, "role": role, **extra}


def topology_site() -> dict[str, Any]:
    """A battery feeding a station: separator (transfer) → station production → LACT (sales)."""
    return {
        "operator": {"name": "Op", "nit": "900123456-7"},
        "fields": [
            {
                "code": "F1",
                "name": "Field one",
                "contract": "C1",
                "municipality_dane": "50568",
                "facilities": [
                    {"code": "BAT-1", "name": "Batería 1"},
                    {"code": "EST-1", "name": "Estación 1", "kind": "station"},
                ],
                "pmos": [
                    _pmo("SEP-OIL", "oil", "transfer", facility="BAT-1"),
                    _pmo("EST-OIL", "oil", facility="EST-1", downstream_of="SEP-OIL"),
                    _pmo("LACT", "oil", "sales", facility="EST-1", downstream_of="EST-OIL"),
                    _pmo("GAS", "gas", facility="BAT-1"),
                    _pmo("FLARE", "gas", "flare", facility="BAT-1", downstream_of="GAS"),
                ],
                "wells": [
                    {"code": "W-1", "name": "Pozo 1", "facility": "BAT-1"},
                    {"code": "W-2", "name": "Pozo 2", "facility": "BAT-1",
                     "municipality_dane": "50001"},
                ],
            }
        ],
    }  # fmt: skip


def test_topology_of_a_battery_and_a_station() -> None:
    topologies = check_site(Site.model_validate(topology_site()))
    t = topologies["F1"]
    # The wells enter at SEP-OIL (the battery's entry PMO of oil) and flow down to EST-OIL, the
    # only production PMO of oil on the path; gas enters at GAS, itself the production PMO.
    assert t.production_pmo("W-1", "oil") == "EST-OIL"
    assert t.production_pmo("W-2", "gas") == "GAS"
    # No production PMO of water in the field: the wells produce oil and gas only.
    assert t.production_pmo("W-1", "water") is None
    assert t.wells_at("EST-OIL") == ("W-1", "W-2")


def test_a_field_without_facilities_is_not_allocated() -> None:
    raw = topology_site()
    field = raw["fields"][0]
    del field["facilities"]
    for p in field["pmos"]:
        p.pop("facility")
    for w in field["wells"]:
        w.pop("facility")
    assert check_site(Site.model_validate(raw)) == {}


def test_two_production_pmos_in_series_is_one_readable_error() -> None:
    raw = topology_site()
    raw["fields"][0]["pmos"][0]["role"] = "production"  # SEP-OIL and EST-OIL both production
    with pytest.raises(SiteFileError) as err:
        check_site(Site.model_validate(raw), "site.yaml")
    assert str(err.value) == (
        "site.yaml: fields[0]: topology of field 'F1': production PMOs 'SEP-OIL' and 'EST-OIL' "
        "are in series for oil: the same oil would be counted twice; make one of them a "
        "transfer PMO"
    )


def test_a_well_with_no_path_to_a_production_pmo() -> None:
    raw = topology_site()
    raw["fields"][0]["wells"].append({"code": "W-3", "name": "Pozo 3", "facility": "EST-1"})
    with pytest.raises(SiteFileError) as err:
        check_site(Site.model_validate(raw), "site.yaml")
    # At the station, EST-OIL is fed by another facility's PMO, so it is the station's entry of
    # oil; the station has no gas PMO at all.
    assert str(err.value) == (
        "site.yaml: fields[0]: topology of field 'F1': well 'W-3' at 'EST-1' has no path to a "
        "production PMO of gas (no PMO of it to enter)"
    )


def test_an_unknown_facility_is_refused_by_the_site_file() -> None:
    raw = topology_site()
    raw["fields"][0]["wells"][0]["facility"] = "BAT-9"
    with pytest.raises(ValueError, match=r"well 'W-1' names facility 'BAT-9', which is not"):
        Site.model_validate(raw)


def test_pmo_without_facility_in_a_field_of_two() -> None:
    raw = topology_site()
    raw["fields"][0]["pmos"][3].pop("facility")
    with pytest.raises(SiteFileError, match=r"PMO 'GAS' names no facility and the field has 2"):
        check_site(Site.model_validate(raw))


def test_site_check_prints_the_topology_error(tmp_path: Path) -> None:
    raw = topology_site()
    raw["fields"][0]["pmos"][0]["role"] = "production"
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(raw))
    run = subprocess.run(
        [sys.executable, "-m", "anh_reporter", "site", "check", str(path)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert "are in series for oil" in " ".join(run.stderr.split())


def test_site_load_writes_facilities_and_links(conn: psycopg.Connection[Any]) -> None:
    site = Site.model_validate(topology_site())
    load_site_into(conn, site, changed_by="test")
    rows = conn.execute(
        "SELECT p.code, f.code, u.code, p.role FROM measurement_points p "
        "JOIN facilities f ON f.id = p.facility_id "
        "LEFT JOIN measurement_point_upstreams x ON x.pmo_id = p.id "
        "LEFT JOIN measurement_points u ON u.id = x.upstream_id ORDER BY p.code"
    ).fetchall()
    assert rows == [
        ("EST-OIL", "EST-1", "SEP-OIL", "production"),
        ("FLARE", "BAT-1", "GAS", "flare"),
        ("GAS", "BAT-1", None, "production"),
        ("LACT", "EST-1", "EST-OIL", "sales"),
        ("SEP-OIL", "BAT-1", None, "transfer"),
    ]
    wells = conn.execute(
        "SELECT w.code, f.code, w.fluids, w.municipality_dane FROM wells w "
        "JOIN facilities f ON f.id = w.facility_id ORDER BY w.code"
    ).fetchall()
    assert wells == [
        ("W-1", "BAT-1", ["oil", "gas"], None),
        ("W-2", "BAT-1", ["oil", "gas"], "50001"),
    ]
    # Loading the same file again changes nothing.
    again = load_site_into(conn, site, changed_by="test")
    assert again.updated == {}
    # A broken topology is refused before anything is written.
    broken = copy.deepcopy(topology_site())
    broken["fields"][0]["pmos"][0]["role"] = "production"
    with pytest.raises(SiteFileError):
        load_site_into(conn, Site.model_validate(broken), changed_by="test")
