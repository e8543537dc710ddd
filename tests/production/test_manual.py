"""Manual entries: validation, use instead of telemetry, replacement, append-only storage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest

from anh_reporter.production import store
from anh_reporter.production.config import load_field
from anh_reporter.production.daily import compute_day
from anh_reporter.production.manual import ManualEntryError, add_entry, list_entries

from .helpers import DAY_D, FIELD, load_test_site, standard_day

Conn = psycopg.Connection[object]


def add(conn: Conn, **kw):  # type: ignore[no-untyped-def]
    base = {"field_code": FIELD, "day": DAY_D, "entered_by": "ana", "reason": "lab sample"}
    return add_entry(conn, **(base | kw))


def oil_row(conn: Conn):  # type: ignore[no-untyped-def]
    rows = store.load_day(conn, load_field(conn, FIELD).id, DAY_D)
    return next(r.figures for r in rows if r.pmo.code == "PMO-OIL")


def test_lab_bsw_replaces_telemetry_and_recomputes(conn: Conn) -> None:
    ids = load_test_site(conn)
    standard_day(conn, ids)
    compute_day(conn, FIELD, DAY_D)
    assert oil_row(conn).net_standard_volume == Decimal("980.78")

    result = add(conn, kind="bsw", value="5.0", pmo_code="PMO-OIL", unit="%")

    # NSV = 1,000.80 × (1 − 5.00/100) = 1,000.80 × 0.95 = 950.76 bbl.
    row = oil_row(conn)
    assert row.bsw_percent == Decimal("5.00")
    assert row.net_standard_volume == Decimal("950.76")
    assert row.sources["bsw"] == f"manual #{result.entry.id}"
    assert row.manual_entry_ids == [result.entry.id]
    assert result.recomputed is not None and result.recomputed.changed == ("PMO-OIL",)


def test_replacement_supersedes_the_old_entry(conn: Conn) -> None:
    ids = load_test_site(conn)
    standard_day(conn, ids)
    first = add(conn, kind="api_gravity", value="25.0", pmo_code="PMO-OIL")
    second = add(
        conn, kind="api_gravity", value="25.4", pmo_code="PMO-OIL", replaces=first.entry.id,
        reason="typo in the lab sheet",
    )  # fmt: skip

    active = list_entries(conn, field_code=FIELD, day=DAY_D)
    assert [e.id for e in active] == [second.entry.id]
    everything = list_entries(conn, field_code=FIELD, include_superseded=True)
    assert [e.superseded_by for e in everything] == [second.entry.id, None]
    assert oil_row(conn).api_gravity == Decimal("25.4")
    with pytest.raises(ManualEntryError, match="already replaced"):
        add(conn, kind="api_gravity", value="25.5", pmo_code="PMO-OIL", replaces=first.entry.id)


def test_tipo_b_manual_volume(conn: Conn) -> None:
    load_test_site(conn, report_type="B")
    add(conn, kind="oil_volume", value="812.5", pmo_code="PMO-OIL", reason="Tipo B daily ticket")
    add(conn, kind="api_gravity", value="30.0", pmo_code="PMO-OIL")
    add(conn, kind="temperature", value="60", pmo_code="PMO-OIL")
    add(conn, kind="bsw", value="1.0", pmo_code="PMO-OIL")

    row = oil_row(conn)
    # IV 812.50 × MF 1.0008 = 813.15 (813.15000); CTPL 1 at 60 °F, 0 psig (no pressure:
    # CPL taken as 1); NSV = 813.15 × 0.99 = 805.0185 → 805.02 bbl.
    assert row.method == "manual"
    assert row.gross_observed_volume == Decimal("813.15")
    assert row.net_standard_volume == Decimal("805.02")
    assert row.quality_score is None and row.samples_expected == 0
    assert [i.code for i in row.issues] == ["pressure_missing"]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"kind": "bsw", "value": "120", "pmo_code": "PMO-OIL"},
            r"bsw 120 % is outside \[0, 100\]",
        ),
        ({"kind": "bsw", "value": "100", "pmo_code": "PMO-OIL"}, "must be below 100"),
        ({"kind": "bsw", "value": "2", "pmo_code": "PMO-OIL", "unit": "fraction"}, "unit"),
        ({"kind": "api_gravity", "value": "101", "pmo_code": "PMO-OIL"}, r"\[-10, 100\]"),
        ({"kind": "bsw", "value": "2", "pmo_code": "PMO-WATER"}, "applies to oil PMOs"),
        ({"kind": "oil_volume", "value": "-1", "pmo_code": "PMO-OIL"}, "outside"),
        ({"kind": "bsw", "value": "abc", "pmo_code": "PMO-OIL"}, "not a number"),
        ({"kind": "bsw", "value": "2", "pmo_code": "PMO-X"}, "PMO 'PMO-X' is not in field"),
        ({"kind": "well_test_oil", "value": "2", "pmo_code": "PMO-OIL"}, "for a well"),
        ({"kind": "colour", "value": "2", "pmo_code": "PMO-OIL"}, "kind 'colour' is not one of"),
        ({"kind": "bsw", "value": "2", "pmo_code": "PMO-OIL", "reason": " "}, "reason"),
        (
            {"kind": "bsw", "value": "2", "pmo_code": "PMO-OIL", "reason": " x "},
            r"a reason is required \(why the value is entered by hand, at least 3 characters; "
            r"got 'x'\)",
        ),
        (
            {"kind": "well_hours_on", "value": "23.999", "well_code": "W-1"},
            r"well_hours_on 23\.999 h has more decimals than it is reported with \(0\.01 h\)",
        ),
    ],
)
def test_invalid_entries_say_what_and_why(conn: Conn, kw: dict, message: str) -> None:
    load_test_site(conn)
    with pytest.raises(ManualEntryError, match=message):
        add(conn, **kw)


def test_entries_are_append_only(conn: Conn) -> None:
    load_test_site(conn)
    entry = add(conn, kind="bsw", value="2", pmo_code="PMO-OIL", recompute=False).entry
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE manual_entries SET value = 3 WHERE id = %s", (entry.id,))
    conn.rollback()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM manual_entries WHERE id = %s", (entry.id,))
    conn.rollback()
    logged = conn.execute(
        "SELECT actor, action, details->>'kind' FROM audit_log WHERE action = 'manual_entry.add'"
    ).fetchall()
    assert logged == [("ana", "manual_entry.add", "bsw")]


def test_well_test_for_an_issued_day_flags_the_report(conn: Conn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from anh_reporter.config import Settings
    from anh_reporter.reports import service

    ids = load_test_site(conn)
    standard_day(conn, ids)
    context = service.Context.from_settings(Settings(data_dir=tmp_path))
    service.generate(
        conn, field_code=FIELD, day=DAY_D, context=context, created_by="t",
        now=dt.datetime(2026, 2, 4, tzinfo=dt.UTC),
    )  # fmt: skip
    add(conn, kind="well_test_oil", value="300", well_code="W-1", reason="monthly test")
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (True,)


def test_service_audit_entries_name_the_operator(conn: Conn) -> None:
    """A manual entry, and an entry naming only a PMO, are audited under the field's operator,
    so that operator's auditors see them (and no other operator's)."""
    from anh_reporter.storage import audit_log

    ids = load_test_site(conn)
    standard_day(conn, ids)
    add(conn, kind="bsw", value="5.0", pmo_code="PMO-OIL", unit="%")
    (operator, pmo) = conn.execute(
        "SELECT f.operator_id, p.id FROM fields f JOIN measurement_points p ON p.field_id = f.id "
        "WHERE f.code = %s AND p.code = 'PMO-OIL'",
        (FIELD,),
    ).fetchone() or (None, None)
    audit_log.record(conn, actor="ana", action="production.reset_confirmation",
                     target=f"PMO-OIL/{DAY_D}", details={}, pmo_id=pmo)  # fmt: skip
    rows = conn.execute(
        "SELECT action, operator_id FROM audit_log "
        "WHERE action IN ('manual_entry.add', 'production.reset_confirmation') ORDER BY id"
    ).fetchall()
    assert rows == [("manual_entry.add", operator), ("production.reset_confirmation", operator)]


def test_an_entry_for_a_day_that_has_not_come_is_refused(conn: Conn) -> None:
    """At 2026-02-03 10:59 UTC (05:59 at Bogotá) the field's contract day is still 2026-02-02:
    an entry for 2026-02-03 is refused, naming both days; a minute later it is accepted."""
    load_test_site(conn)
    nxt = DAY_D + dt.timedelta(days=1)
    before = dt.datetime(2026, 2, 3, 10, 59, tzinfo=dt.UTC)
    kw = {"kind": "bsw", "value": "2", "pmo_code": "PMO-OIL", "recompute": False}
    with pytest.raises(
        ManualEntryError,
        match=r"day: 2026-02-03 has not come; the field's current contract day is 2026-02-02",
    ):
        add(conn, **(kw | {"day": nxt, "now": before}))
    add(conn, **(kw | {"day": nxt, "now": before + dt.timedelta(minutes=1)}))
