"""Loading a site upserts it; meter factor, range and base-condition changes are logged."""

from __future__ import annotations

from pathlib import Path

import psycopg

from anh_reporter.site import load_site
from anh_reporter.storage.site_repo import TRACKED, load_site_into

from ..conftest import EXAMPLE_SITE


def config_entries(conn: psycopg.Connection[object], since_id: int = 0) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT changed_by, entity, entity_code, attribute, old_value, new_value, reason "
        "FROM config_log WHERE id > %s ORDER BY id",
        (since_id,),
    ).fetchall()


def last_id(conn: psycopg.Connection[object]) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM config_log").fetchone()
    assert row is not None
    return int(row[0])


def test_first_load_creates_everything_and_logs_initial_configuration(
    conn: psycopg.Connection[object],
) -> None:
    site = load_site(EXAMPLE_SITE)
    summary = load_site_into(conn, site, changed_by="ana", reason="commissioning")
    assert summary.created == {
        "operators": 1,
        "fields": 1,
        "facilities": 1,
        "measurement_points": 7,
        "series": 64,
        "wells": 6,
        "tanks": 1,
    }
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM series), (SELECT count(*) FROM wells), "
        "(SELECT count(*) FROM measurement_points)"
    ).fetchone()
    assert counts == (64, 6, 7)
    mf = conn.execute(
        "SELECT old_value, new_value, changed_by, reason FROM config_log "
        "WHERE entity_code = 'CAMPO-DEMO-LLANOS.PMO-LACT-01' AND attribute = 'meter_factor'"
    ).fetchall()
    assert mf == [(None, 1.0008, "ana", "commissioning")]


def test_reload_unchanged_writes_nothing(conn: psycopg.Connection[object]) -> None:
    site = load_site(EXAMPLE_SITE)
    load_site_into(conn, site, changed_by="ana")
    before = last_id(conn)
    summary = load_site_into(conn, site, changed_by="ana")
    assert summary.created == {} and summary.updated == {} and summary.config_changes == 0
    assert last_id(conn) == before


def test_changes_are_logged_with_old_and_new(
    conn: psycopg.Connection[object], tmp_path: Path
) -> None:
    load_site_into(conn, load_site(EXAMPLE_SITE), changed_by="ana")
    before = last_id(conn)
    text = EXAMPLE_SITE.read_text()
    text = text.replace("meter_factor: 1.0008", "meter_factor: 1.0021", 1)
    text = text.replace(
        "base_conditions: {temperature_f: 60.0, pressure_psia: 14.65}",
        "base_conditions: {temperature_f: 60.0, pressure_psia: 14.696}",
        1,
    )
    text = text.replace("range: [0, 25000]", "range: [0, 30000]", 1)
    changed = tmp_path / "site.yaml"
    changed.write_text(text)
    summary = load_site_into(conn, load_site(changed), changed_by="luis", reason="recalibration")
    assert summary.updated == {"measurement_points": 2, "series": 1}
    assert config_entries(conn, before) == [
        (
            "luis",
            "measurement_point",
            "CAMPO-DEMO-LLANOS.PMO-LACT-01",
            "meter_factor",
            1.0008,
            1.0021,
            "recalibration",
        ),
        (
            "luis",
            "series",
            "CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_rate",
            "range_hi",
            25000.0,
            30000.0,
            "recalibration",
        ),
        (
            "luis",
            "measurement_point",
            "CAMPO-DEMO-LLANOS.PMO-GAS-01",
            "base_pressure_psia",
            14.65,
            14.696,
            "recalibration",
        ),
    ]
    row = conn.execute(
        "SELECT meter_factor FROM measurement_points WHERE code = 'PMO-LACT-01'"
    ).fetchone()
    assert row == (1.0021,)


def test_series_added_beside_existing_ones_are_created_with_their_owner_and_logged(
    conn: psycopg.Connection[object],
) -> None:
    """The series are upserted in bulk: new ones beside existing ones get their columns and
    owner, and their creation is logged in the site file's order."""
    site = load_site(EXAMPLE_SITE)
    field = site.fields[0]
    last = field.wells[-1]
    without = site.model_copy(
        update={"fields": (field.model_copy(update={"wells": field.wells[:-1]}),)}
    )
    load_site_into(conn, without, changed_by="ana")
    before = last_id(conn)
    summary = load_site_into(conn, site, changed_by="ana")
    assert summary.created == {"wells": 1, "series": len(last.series)}
    assert summary.updated == {}
    rows = conn.execute(
        "SELECT s.code, s.unit, s.range_lo, s.range_hi, s.sampling_period_s FROM series s "
        "JOIN wells w ON w.id = s.well_id WHERE w.code = %s ORDER BY s.code",
        (last.code,),
    ).fetchall()
    expected = sorted(
        (f"{field.code}.{last.code}.{s.variable}", s.unit, s.range[0], s.range[1],
         s.sampling_period_s)
        for s in last.series
    )  # fmt: skip
    assert rows == expected
    logged = [(e[1], e[2]) for e in config_entries(conn, before)]
    assert logged[0] == ("well", f"{field.code}.{last.code}")
    assert [code for entity, code in logged if entity == "series"][:: len(TRACKED["series"])] == [
        f"{field.code}.{last.code}.{s.variable}" for s in last.series
    ]


def test_a_fields_report_profile_switch_is_logged(conn: psycopg.Connection[object]) -> None:
    """Which format a field's reports are signed in is on record: the switch names who and
    from what to what (a day keeps the profile it was first signed in)."""
    site = load_site(EXAMPLE_SITE)
    load_site_into(conn, site, changed_by="ana")
    before = last_id(conn)
    field = site.fields[0].model_copy(update={"report_profile": "anh-es-1.1"})
    summary = load_site_into(conn, site.model_copy(update={"fields": (field,)}), changed_by="luis")
    assert summary.config_changes == 1
    assert config_entries(conn, before) == [
        ("luis", "field", "CAMPO-DEMO-LLANOS", "report_profile", None, "anh-es-1.1", None)
    ]
