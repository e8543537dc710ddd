"""Site load of AVM codes on PostgreSQL: logged, swapped in one load, duplicates refused.

The wells site (tests/production/wells_site.py: W-1 to W-4 of CAMPO-TEST).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from anh_reporter.site import Site, SiteFileError
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import SiteLoadSummary, load_site_into

from ..production.helpers import FIELD
from ..production.wells_site import load_wells_site, wells_site_dict

Conn = psycopg.Connection[Any]
ROOT = Path(__file__).resolve().parents[2]


def with_codes(**codes: str | None) -> dict[str, Any]:
    """The wells site with the given wells' ``avm_code`` (``W_1="X"`` is W-1's)."""
    raw = wells_site_dict()
    for well in raw["fields"][0]["wells"]:
        code = codes.get(well["code"].replace("-", "_"))
        if code is not None:
            well["avm_code"] = code
    return raw


def load(conn: Conn, raw: dict[str, Any]) -> SiteLoadSummary:
    return load_site_into(conn, Site.model_validate(raw), changed_by="test")


def stored(conn: Conn) -> dict[str, str | None]:
    rows = conn.execute("SELECT code, avm_code FROM wells ORDER BY code").fetchall()
    return {str(c): a for c, a in rows}


def test_codes_swapped_and_rotated_in_one_load(conn: Conn) -> None:
    """W-1 takes W-2's code and W-2 a new one (one row at a time W-1 would collide with W-2),
    then the three codes rotate: each load passes and logs one entry per well changed."""
    load(conn, with_codes(W_1="CDL-001", W_2="CDL-002", W_3="CDL-003"))
    assert load(conn, with_codes(W_1="CDL-002", W_2="CDL-005", W_3="CDL-003")).config_changes == 2
    assert load(conn, with_codes(W_1="CDL-005", W_2="CDL-003", W_3="CDL-002")).config_changes == 3
    assert stored(conn) == {"W-1": "CDL-005", "W-2": "CDL-003", "W-3": "CDL-002", "W-4": None}
    logged = conn.execute(
        "SELECT entity_code, old_value, new_value FROM config_log "
        "WHERE attribute = 'avm_code' AND old_value IS NOT NULL ORDER BY id"
    ).fetchall()
    assert logged == [
        (f"{FIELD}.W-1", "CDL-001", "CDL-002"),
        (f"{FIELD}.W-2", "CDL-002", "CDL-005"),
        (f"{FIELD}.W-1", "CDL-002", "CDL-005"),
        (f"{FIELD}.W-2", "CDL-005", "CDL-003"),
        (f"{FIELD}.W-3", "CDL-003", "CDL-002"),
    ]


def test_a_stored_well_the_file_no_longer_lists_keeps_its_code(conn: Conn) -> None:
    """W-4 dropped from the file stays stored (its code W-4): W-1 may not take ``w-4``."""
    load_wells_site(conn)
    raw = with_codes(W_1="w-4")
    raw["fields"][0]["wells"].pop()  # W-4
    with pytest.raises(SiteFileError) as caught:
        load(conn, raw)
    assert str(caught.value) == (
        f"fields {FIELD!r}: well 'W-1' takes AVM code 'W-4' of stored well 'W-4', which the "
        "file no longer lists (AVM codes are compared without case)"
    )
    assert stored(conn)["W-1"] is None  # nothing written


def test_the_database_refuses_a_duplicate_whatever_its_case(conn: Conn) -> None:
    """The constraint behind the site check: deferred to the commit, case-insensitive."""
    load(conn, with_codes(W_1="AVM-0001"))
    refused = pytest.raises(psycopg.errors.ExclusionViolation, match="wells_field_avm_code")
    with refused, conn.transaction():
        conn.execute("UPDATE wells SET avm_code = 'avm-0001' WHERE code = 'W-2'")
        conn.execute("SET CONSTRAINTS wells_field_avm_code IMMEDIATE")


def test_site_load_refuses_a_duplicate_in_one_line(db: Database, tmp_path: Path) -> None:
    """`site load` of a file whose W-2 has ``avm-0001`` and W-1 ``AVM-0001``: one line."""
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(with_codes(W_1="AVM-0001", W_2="avm-0001")), "utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "anh_reporter", "site", "load", str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "ANH_DATABASE_URL": db.url},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "duplicate well AVM code 'avm-0001': wells 'W-1' ('AVM-0001') and 'W-2'" in lines[0]


def test_migration_0021_logs_an_existing_wells_code_once(conn: Conn) -> None:
    """A well stored before the code was logged (W-9, written straight to the table, CDL-0009)
    gets one entry, its code now, from the beginning (no effective instant); wells the site load
    logged get none, and a second run adds nothing."""
    migration = importlib.import_module(
        "anh_reporter.storage.migrations.versions.2026-12-07_0021_avm_code_history"
    )
    load_wells_site(conn)
    conn.execute(
        "INSERT INTO wells (field_id, code, name, production_method, avm_code) "
        "SELECT id, 'W-9', 'Pozo 9', 'pcp', 'CDL-0009' FROM fields WHERE code = %s",
        (FIELD,),
    )
    conn.execute(migration.BACKFILL)
    conn.execute(migration.BACKFILL)
    logged = conn.execute(
        "SELECT entity_code, old_value, new_value, effective_from FROM config_log "
        "WHERE changed_by = 'migration 0021'"
    ).fetchall()
    assert logged == [(f"{FIELD}.W-9", None, "CDL-0009", None)]
    at_load = conn.execute(
        "SELECT count(*) FROM config_log WHERE attribute = 'avm_code' AND changed_by = 'test'"
    ).fetchone()
    assert at_load == (4,)  # W-1..W-4, each created without a code
