"""Migration 0018: an existing well's injection meter gets where its history starts (none)."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import psycopg

from anh_reporter.storage.config_history import topology_in_force

from ..production.helpers import FIELD
from ..production.test_injection_wells import INJ1, injection_site, load

Conn = psycopg.Connection[Any]
T = dt.datetime(2026, 3, 1, 11, tzinfo=dt.UTC)


def test_migration_0018_logs_an_existing_wells_meter_once(conn: Conn) -> None:
    """A well stored before the meter was logged (W-9, written straight to the table) gets one
    entry, no meter, from the beginning; wells the site load logged get none, and a second run
    adds nothing. A meter named later, effective T, then holds from T only."""
    migration = importlib.import_module(
        "anh_reporter.storage.migrations.versions.2026-12-07_0018_injection_meters"
    )
    load(conn, injection_site(metered=False))
    conn.execute(
        "INSERT INTO wells (field_id, code, name, production_method, fluids) "
        "SELECT id, 'W-9', 'Pozo 9', 'injector', '{water}' FROM fields WHERE code = %s",
        (FIELD,),
    )
    conn.execute(migration.BACKFILL)
    conn.execute(migration.BACKFILL)
    logged = conn.execute(
        "SELECT entity_code, new_value, effective_from FROM config_log "
        "WHERE changed_by = 'migration 0018'"
    ).fetchall()
    assert logged == [(f"{FIELD}.W-9", None, None)]
    at_load = conn.execute(
        "SELECT count(*) FROM config_log WHERE attribute = 'injection_meter' "
        "AND changed_by = 'test' AND new_value IS NULL"
    ).fetchone()
    assert at_load == (6,)  # INJ-1, INJ-2, W-1..W-4, created without a meter
    load(conn, injection_site(), effective_from=T)
    field_id = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert field_id is not None

    def meters(at: dt.datetime) -> dict[str, str | None]:
        rows = topology_in_force(conn, field_id[0], at).wells
        return {w.code: w.injection_meter for w in rows if w.code.startswith("INJ")}

    assert meters(T - dt.timedelta(microseconds=1)) == {"INJ-1": None, "INJ-2": None}
    assert meters(T)["INJ-1"] == INJ1
