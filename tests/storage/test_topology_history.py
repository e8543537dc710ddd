"""The topology in force at an instant, read back from the configuration log (real PostgreSQL).

The site of ``tests/production/wells_site.py`` (battery BAT-1 with the oil, water and gas
production PMOs, wells W-1..W-4) plus a flare meter PMO-FLARE. A second load, effective ``T``,
makes BAT-1 a station, PMO-WATER a disposal meter (so no well produces water any more: their
fluids drop it), puts PMO-FLARE downstream of PMO-GAS, says W-4 produces oil only and
narrows the allocation factor band. Before ``T`` everything reads as first loaded, from ``T``
as changed.
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import psycopg

from anh_reporter.site import Site
from anh_reporter.storage.config_history import topology_in_force
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.well_records import load_topology_rows

from ..production.helpers import FIELD
from ..production.wells_site import wells_site_dict

Conn = psycopg.Connection[Any]
T = dt.datetime(2026, 3, 1, 11, tzinfo=dt.UTC)
JUST_BEFORE = T - dt.timedelta(microseconds=1)
FLARE = {"code": "PMO-FLARE", "name": "Tea", "kind": "gas", "role": "flare",
         "meter": {"type": "ultrasonic", "has_totalizer": False, "meter_factor": 1.0}}  # fmt: skip


def _site(changed: bool) -> Site:
    raw = wells_site_dict()
    field = raw["fields"][0]
    field["pmos"].append(dict(FLARE))
    if changed:
        field["facilities"] = [{"code": "BAT-1", "name": "Batería 1", "kind": "station"}]
        for p in field["pmos"]:
            p["facility"] = "BAT-1"
            if p["code"] == "PMO-WATER":
                p["role"] = "water_disposal"
            if p["code"] == "PMO-FLARE":
                p["downstream_of"] = "PMO-GAS"
        for w in field["wells"]:
            w["facility"] = "BAT-1"
        field["wells"][3]["fluids"] = ["oil"]
        field["allocation"] = {"factor_band": [0.9, 1.1]}
    return Site.model_validate(raw)


def _field_id(conn: Conn) -> int:
    row = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert row is not None
    return int(row[0])


def _summary(conn: Conn, at: dt.datetime) -> dict[str, Any]:
    rows = topology_in_force(conn, _field_id(conn), at)
    return {
        "facilities": {f.code: f.kind for f in rows.facilities},
        "pmos": {p.code: (p.role, p.facility, p.downstream_of) for p in rows.pmos},
        "wells": {w.code: (w.facility, w.fluids) for w in rows.wells},
        "band": rows.allocation.get("factor_band"),
    }


def test_each_topology_attribute_holds_from_its_effective_instant(conn: Conn) -> None:
    load_site_into(conn, _site(changed=False), changed_by="t")
    first = _summary(conn, JUST_BEFORE)
    all_three = ("oil", "gas", "water")
    assert first == {
        "facilities": {"BAT-1": "battery"},
        "pmos": {
            "PMO-FLARE": ("flare", "BAT-1", None),
            "PMO-GAS": ("production", "BAT-1", None),
            "PMO-OIL": ("production", "BAT-1", None),
            "PMO-WATER": ("production", "BAT-1", None),
        },
        "wells": {w: ("BAT-1", all_three) for w in ("W-1", "W-2", "W-3", "W-4")},
        "band": [0.85, 1.15],  # the default, stored with the field
    }
    load_site_into(conn, _site(changed=True), changed_by="t", reason="re-plumbed",
                   effective_from=T)  # fmt: skip
    changed = {
        "facilities": {"BAT-1": "station"},
        "pmos": {
            "PMO-FLARE": ("flare", "BAT-1", "PMO-GAS"),
            "PMO-GAS": ("production", "BAT-1", None),
            "PMO-OIL": ("production", "BAT-1", None),
            "PMO-WATER": ("water_disposal", "BAT-1", None),
        },
        "wells": {
            "W-1": ("BAT-1", ("oil", "gas")),
            "W-2": ("BAT-1", ("oil", "gas")),
            "W-3": ("BAT-1", ("oil", "gas")),
            "W-4": ("BAT-1", ("oil",)),
        },
        "band": [0.9, 1.1],
    }
    assert _summary(conn, T) == changed
    assert _summary(conn, JUST_BEFORE) == first
    # What is stored now is the changed topology.
    now = load_topology_rows(conn, _field_id(conn))
    assert {w.code: w.fluids for w in now.wells}["W-4"] == ("oil",)


def test_migration_0015_logs_the_untracked_values_once(conn: Conn) -> None:
    """A well stored before its topology was logged gets one entry per attribute, the value it
    has, from the beginning; logged attributes get none (and a second run adds nothing)."""
    migration = importlib.import_module(
        "anh_reporter.storage.migrations.versions.2026-12-07_0015_topology_history"
    )
    load_site_into(conn, _site(changed=False), changed_by="t")
    conn.execute(
        "INSERT INTO wells (field_id, code, name, production_method, facility_id, fluids) "
        "SELECT f.id, 'W-9', 'Pozo 9', 'pcp', fa.id, '{oil}' FROM fields f "
        "JOIN facilities fa ON fa.field_id = f.id WHERE f.code = %s",
        (FIELD,),
    )
    count = "SELECT count(*) FROM config_log WHERE changed_by = 'migration 0015'"
    conn.execute(migration.BACKFILL)
    logged = conn.execute(
        "SELECT entity_code, attribute, old_value, new_value, effective_from FROM config_log "
        "WHERE changed_by = 'migration 0015' ORDER BY attribute"
    ).fetchall()
    facility_id = conn.execute("SELECT id FROM facilities WHERE code = 'BAT-1'").fetchone()
    assert facility_id is not None
    code = f"{FIELD}.W-9"
    assert logged == [
        (code, "entries", None, [], None),
        (code, "facility_id", None, facility_id[0], None),
        (code, "fluids", None, ["oil"], None),
        (code, "pmo_id", None, None, None),
        (code, "virtual_meter", None, None, None),
    ]
    conn.execute(migration.BACKFILL)
    assert conn.execute(count).fetchone() == (5,)
    # The well then moves with effect from T: before T it is where it was.
    conn.execute(
        "INSERT INTO config_log (changed_by, entity, entity_code, attribute, old_value, "
        "new_value, effective_from) VALUES ('t', 'well', %s, 'fluids', '[\"oil\"]', "
        '\'["oil", "gas"]\', %s)',
        (code, T),
    )
    wells = {w.code: w for w in topology_in_force(conn, _field_id(conn), JUST_BEFORE).wells}
    assert wells["W-9"].fluids == ("oil",)
    wells = {w.code: w for w in topology_in_force(conn, _field_id(conn), T).wells}
    assert wells["W-9"].fluids == ("oil", "gas")
