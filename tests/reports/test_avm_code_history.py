"""A well's AVM code is date-effective: a signed day keeps the code it was signed with.

The wells site of tests/reports/test_forma9sh_signed.py (W-3 known to the ANH as CDL-0003 from
its creation; three days typed, 2026-02-02..04). Day 02 is signed in idp-1.2 (no AVM code in
its rows), day 03 in idp-1.3 (or anh-es-1.1: ``codigo_avm``). Then W-3's code becomes
CDL-0033 with ``--effective`` the start of day 04 (a change logged in config_log), and day
03's oil is corrected and the day amended: the amendment still carries CDL-0003, and the
month's Forma 9SH lists CDL-0003 (the code both signed days carry: day 02's is the one in force
when it started) although the master data now says CDL-0033. Once day 04 is signed
(CDL-0033), the form lists CDL-0033, the latest signed day's, and a note says the code changed
and on which days. Last, a code back-dated before signed days leaves them theirs, and is said.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from anh_reporter.allocation.findings import Code
from anh_reporter.production.config import load_field
from anh_reporter.production.manual import add_entry
from anh_reporter.reports import service
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.monthly import field_month
from anh_reporter.site import Site
from anh_reporter.storage.site_repo import load_site_into

from ..production.helpers import FIELD
from ..production.wells_site import wells_site_dict
from .helpers import context
from .test_forma9sh_signed import DAYS, NOW, type_the_days

SPANISH = {"wells": "pozos", "code": "codigo", "avm_code": "codigo_avm"}
"""The keys read here as anh-es-1.1 names them (docs/anh-profile.md's mapping)."""


def _w3_code(path: Path | None) -> Any:
    assert path is not None
    doc = parse(path.read_bytes())
    assert isinstance(doc, dict)
    key = (lambda k: SPANISH[k]) if str(doc["profile"]).startswith("anh-es") else (lambda k: k)
    return {w[key("code")]: w.get(key("avm_code")) for w in doc[key("wells")]}["W-3"]


def _w3_on_the_form(conn: Any) -> tuple[str, list[str]]:
    form = field_month(conn, FIELD, "2026-02", now=NOW)
    notes = [f.message for f in form.findings if f.code is Code.MONTH_AVM_CODE_CHANGED]
    return {r.well: r.avm_code for r in form.rows}["W-3"], notes


@pytest.mark.parametrize("profile", ["idp-1.3", "anh-es-1.1"])
def test_a_code_changed_after_a_signed_day_leaves_that_day_its_code(
    conn: Any, tmp_path: Path, profile: str
) -> None:
    ctx = context(tmp_path / "reports")
    day3_oil = type_the_days(conn)

    def sign(day: dt.date, profile: str) -> service.GeneratedReport:
        conn.execute("UPDATE fields SET report_profile = %s WHERE code = %s", (profile, FIELD))
        return service.generate(
            conn, field_code=FIELD, day=day, context=ctx, created_by="t", now=NOW
        )

    day2 = sign(DAYS[0], "idp-1.2")
    day3 = sign(DAYS[1], profile)
    assert _w3_code(day2.path) is None  # idp-1.2 has no AVM code
    assert _w3_code(day3.path) == "CDL-0003"

    # W-3's code becomes CDL-0033 from the start of day 04 (06:00 Bogotá = 11:00 UTC).
    day4_start = load_field(conn, FIELD, day=DAYS[2]).day(DAYS[2]).start
    assert day4_start == dt.datetime(2026, 2, 4, 11, tzinfo=dt.UTC)
    site = wells_site_dict()
    site["fields"][0]["wells"][2]["avm_code"] = "CDL-0033"
    site["fields"][0]["report_profile"] = profile  # as set above: unchanged
    summary = load_site_into(
        conn, Site.model_validate(site), changed_by="test", effective_from=day4_start
    )
    assert summary.config_changes == 1  # W-3's avm_code, CDL-0003 -> CDL-0033
    logged = conn.execute(
        "SELECT entity_code, old_value, new_value, effective_from FROM config_log "
        "WHERE attribute = 'avm_code' AND old_value IS NOT NULL"
    ).fetchall()
    assert logged == [(f"{FIELD}.W-3", "CDL-0003", "CDL-0033", day4_start)]

    # An unrelated correction of day 03: its amendment keeps the code day 03 started with.
    add_entry(
        conn, field_code=FIELD, day=DAYS[1], kind="oil_volume", value="1100.00",
        pmo_code="PMO-OIL", level="nsv", entered_by="test", reason="ticket corregido",
        replaces=day3_oil,
    )  # fmt: skip
    amended = service.amend(
        conn, field_code=FIELD, day=DAYS[1], reason="volumen de crudo corregido",
        context=ctx, created_by="t", now=NOW,
    )  # fmt: skip
    assert amended.version == 2 and _w3_code(amended.path) == "CDL-0003"
    # Days 02 and 03 signed: the form lists their code, not the master data's CDL-0033.
    assert _w3_on_the_form(conn) == ("CDL-0003", [])

    day4 = sign(DAYS[2], profile)
    assert _w3_code(day4.path) == "CDL-0033"
    code, notes = _w3_on_the_form(conn)
    assert code == "CDL-0033"
    assert notes == [
        "the well's AVM code changed within 2026-02 ('CDL-0003' on 2026-02-02..2026-02-03; "
        "'CDL-0033' on 2026-02-04): the form lists 'CDL-0033', the code of its latest signed day"
    ]

    # Back-dated before signed days: they keep their signed code, and the load says so.
    day3_start = load_field(conn, FIELD, day=DAYS[1]).day(DAYS[1]).start
    site["fields"][0]["wells"][2]["avm_code"] = "CDL-0333"
    summary = load_site_into(
        conn, Site.model_validate(site), changed_by="test", effective_from=day3_start
    )
    assert (
        f"{FIELD}: the AVM code of W-3 changes from 2026-02-03T11:00:00+00:00, before 2 signed "
        "day(s) from 2026-02-03 to 2026-02-04: their signed reports keep the code they were "
        "signed with; an amendment of such a day (report amend) in a profile with AVM codes "
        "(idp-1.3 on, anh-es-1.1 on) carries the new one"
    ) in summary.notes
    assert _w3_on_the_form(conn)[0] == "CDL-0033"
