"""Amendments: reason codes, per-figure changes, and a second person for material ones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from anh_reporter.production.manual import add_entry
from anh_reporter.reports import amendments
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.errors import ReportError
from anh_reporter.reports.profiles import get_profile

from .helpers import AFTER, DAY_D, FIELD, context, generate, ready_day

Conn = psycopg.Connection[Any]


def _lab_bsw(conn: Conn, value: str) -> None:
    add_entry(
        conn, field_code=FIELD, day=DAY_D, kind="bsw", value=value, pmo_code="PMO-OIL",
        entered_by="lab", reason="lab re-test",
    )  # fmt: skip


@pytest.mark.parametrize("profile", [None, "anh-es-1.0"])
def test_a_material_amendment_waits_for_a_second_person(
    conn: Conn, tmp_path: Path, profile: str | None
) -> None:
    """The same in the Spanish profile: its figures are compared under the model's names (its
    documents' keys are named back), so its changes and their materiality are the same."""
    ctx = context(tmp_path)
    ready_day(conn)
    conn.execute("UPDATE fields SET report_profile = %s", (profile,))
    v1 = generate(conn, ctx)
    _lab_bsw(conn, "5")
    draft = amendments.draft(conn, field_code=FIELD, day=DAY_D, context=ctx)
    # NSV 1,000.80 × 0.9800 = 980.78 → 1,000.80 × 0.9500 = 950.76: −3.06 % > 0.1 %: material.
    oil = {c.figure: (c.old, c.new) for c in draft.changes if c.target == "PMO-OIL"}
    assert oil["oil_net_bbl"] == (parse(b"980.78"), parse(b"950.76"))
    assert oil["bsw_pct"] == (parse(b"2.0"), parse(b"5.0"))
    assert draft.material and draft.largest_change_pct is not None
    # (980.78 − 950.76) / 980.78 = 3.0608… %
    assert round(draft.largest_change_pct, 4) == Decimal("3.0608")

    asked = amendments.request(
        conn, field_code=FIELD, day=DAY_D, reason_code="lab_result", reason="lab BSW 5 %",
        requested_by="ana", context=ctx, now=AFTER + dt.timedelta(hours=1),
    )  # fmt: skip
    assert (asked.status, asked.signed) == ("pending", None)
    for same in ("ana", " Ana", "ANA "):  # one person, however typed
        with pytest.raises(ReportError, match="cannot also approve it"):
            amendments.approve(conn, field_code=FIELD, day=DAY_D, approved_by=same, context=ctx)
    with pytest.raises(ReportError, match="approved_by is empty"):
        amendments.approve(conn, field_code=FIELD, day=DAY_D, approved_by="  ", context=ctx)
    done = amendments.approve(
        conn, field_code=FIELD, day=DAY_D, approved_by=" luis ", context=ctx,
        now=AFTER + dt.timedelta(hours=2),
    )  # fmt: skip
    assert done.signed is not None and done.signed.version == 2
    assert done.signed.chain_seq == v1.chain_seq + 1
    document = parse(done.signed.path.read_bytes()) if done.signed.path else {}
    if profile == "anh-es-1.0":
        assert document["profile"] == "anh-es-1.0"
        document = get_profile("anh-es-1.0").internal(document)
    amends = document["report"]["amends"]
    assert (amends["reason_code"], amends["requested_by"], amends["approved_by"]) == (
        "lab_result", "ana", "luis",
    )  # fmt: skip
    figures = {(c["target"], c["figure"]): (c["old"], c["new"]) for c in amends["changes"]}
    assert figures[("PMO-OIL", "oil_net_bbl")] == (parse(b"980.78"), parse(b"950.76"))
    assert conn.execute("SELECT status, decided_by FROM amendment_requests").fetchone() == (
        "signed", "luis",
    )  # fmt: skip


def test_an_immaterial_amendment_is_signed_at_once(conn: Conn, tmp_path: Path) -> None:
    ctx = context(tmp_path)
    ready_day(conn)
    generate(conn, ctx)
    # BSW 2.00 → 2.05 %: NSV 1,000.80 × 0.9795 = 980.28 (−0.05 %, under 0.1 %).
    _lab_bsw(conn, "2.05")
    done = amendments.request(
        conn, field_code=FIELD, day=DAY_D, reason_code="lab_result", reason="lab BSW",
        requested_by="ana", context=ctx, now=AFTER + dt.timedelta(hours=1),
    )  # fmt: skip
    assert not done.material and done.signed is not None and done.signed.version == 2


def test_a_reason_code_from_the_list_is_needed(conn: Conn, tmp_path: Path) -> None:
    ctx = context(tmp_path)
    ready_day(conn)
    generate(conn, ctx)
    with pytest.raises(ReportError, match="reason code 'because' is not one of"):
        amendments.request(
            conn, field_code=FIELD, day=DAY_D, reason_code="because", reason="x",
            requested_by="ana", context=ctx,
        )  # fmt: skip


def test_late_telemetry_that_changes_no_reported_figure_flags_nothing(
    conn: Conn, tmp_path: Path
) -> None:
    ids = ready_day(conn)
    ctx = context(tmp_path)
    generate(conn, ctx)
    from anh_reporter.production.daily import compute_day

    from ..production.helpers import S, write

    # A late duplicate-free sample of the oil rate in the middle of the day: the oil volume
    # comes from the totalizer, so no reported figure changes (only sample counts).
    write(conn, ids["PMO-OIL.oil_rate"], np.array([S + 301_000_000]), 1000.0)
    result = compute_day(conn, FIELD, DAY_D)
    assert not result.needs_amendment
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (False,)


def test_figure_changes_cover_wells_balances_and_the_allocation() -> None:
    """Rows are matched by their key (a well by code, a balance by fluid, an allocation by PMO),
    not by position; a well's findings are not figures; an allocation finding (the virtual
    meters' IDP035 divergence, a balance) that appears, goes or says another figure is one."""
    message = "Σ virtual 998.40 bbl of oil, the PMO measured 833.67 bbl (+19.76 %)"
    diverges = {"code": "virtual_meter_diverges", "severity": "warning", "target": "PMO-OIL",
                "message": message}  # fmt: skip
    old = {
        "pmos": [], "totals": {},
        "wells": [{"code": "W-1", "oil_net_bbl": 392.31, "facility": "BAT-1", "findings": []},
                  {"code": "W-2", "oil_net_bbl": 588.47, "facility": "BAT-1", "findings": []}],
        "balances": [{"fluid": "oil", "residual": 1.5}],
        "allocation": {"pmos": [{"pmo": "PMO-OIL", "factor": "0.98078"}], "totals_by_role": [],
                       "findings": []},
    }  # fmt: skip
    new = {
        "pmos": [], "totals": {},
        "wells": [{"code": "W-2", "oil_net_bbl": 294.0, "facility": "BAT-2",
                   "findings": [{"code": "x"}]},
                  {"code": "W-1", "oil_net_bbl": 392.31, "facility": "BAT-1", "findings": []}],
        "balances": [{"fluid": "oil", "residual": 1.5}],
        "allocation": {"pmos": [{"pmo": "PMO-OIL", "factor": "0.98078"}], "totals_by_role": [],
                       "findings": [diverges]},
    }  # fmt: skip
    assert [(c.target, c.figure, c.old, c.new) for c in amendments.figure_changes(old, new)] == [
        ("W-2", "wells/facility", "BAT-1", "BAT-2"),
        ("W-2", "wells/oil_net_bbl", 588.47, 294.0),
        ("PMO-OIL", "allocation/findings/virtual_meter_diverges", None, diverges["message"]),
    ]


def test_figure_changes_name_balance_terms_and_skip_empty_figures_of_a_new_row() -> None:
    """A balance's terms are named by name (a term that moved in the list is the same term);
    a PMO added with empty figures lists only the figures it has (no null → null)."""
    old = {
        "pmos": [{"code": "PMO-OIL", "kind": "oil", "oil_net_bbl": 980.78}],
        "balances": [{"fluid": "oil", "terms": [{"name": "dispatched", "volume": 980.0},
                                                {"name": "consumption", "volume": 0}]}],
    }  # fmt: skip
    new = {
        "pmos": [{"code": "PMO-OIL", "kind": "oil", "oil_net_bbl": 980.78},
                 {"code": "PMO-TRF", "kind": "oil", "oil_net_bbl": None, "api_gravity": None,
                  "meter_type": "coriolis"}],
        "balances": [{"fluid": "oil", "terms": [{"name": "consumption", "volume": 12.5},
                                                {"name": "dispatched", "volume": 980.0}]}],
    }  # fmt: skip
    assert [(c.target, c.figure, c.old, c.new) for c in amendments.figure_changes(old, new)] == [
        ("PMO-TRF", "code", None, "PMO-TRF"),
        ("PMO-TRF", "kind", None, "oil"),
        ("PMO-TRF", "meter_type", None, "coriolis"),
        ("oil", "balances/terms/consumption", 0, 12.5),
    ]


def test_figure_changes_name_deferred_causes() -> None:
    """W-4 (test oil 500 bbl/d) signed with 4 h down for power_failure (500 × 4 / 24 = 83.33);
    an hour down for flowline is entered before it (500 × 1 / 24 = 20.83): the change is the
    flowline cause added and the total 83.33 → 104.17, not power_failure turned into flowline."""
    power = {"cause": "power_failure", "hours": 4.0, "oil_bbl": 83.33}
    flow = {"cause": "flowline", "hours": 1.0, "oil_bbl": 20.83}
    old = {"wells": [{"code": "W-4", "deferred": {"oil_bbl": 83.33, "causes": [power]}}]}
    new = {"wells": [{"code": "W-4", "deferred": {"oil_bbl": 104.17, "causes": [flow, power]}}]}
    assert [(c.target, c.figure, c.old, c.new) for c in amendments.figure_changes(old, new)] == [
        ("W-4", "wells/deferred/causes/flowline", None, {"hours": 1.0, "oil_bbl": 20.83}),
        ("W-4", "wells/deferred/oil_bbl", 83.33, 104.17),
    ]


def test_a_well_test_that_moves_the_wells_but_no_pmo_is_material(
    conn: Conn, tmp_path: Path
) -> None:
    """tests/production/wells_site.wells_day: oil 980.78 bbl allocated on theoretical W-1
    400 × 18/24 = 300, W-2 500, W-3 360 × 12/24 = 180 (Σ 980): 300.24 / 500.40 / 180.14.
    A new W-1 test at 200 bbl/d: W-1 150, Σ 830, factor 980.78 / 830 = 1.1816626…; exact
    shares 177.2494 / 590.8313 / 212.6993 (cents 17724.94, 59083.13, 21269.93: the floors add
    up to 980.76, the two cents go to the largest remainders, W-1's .94 and W-3's .93):
    177.25 / 590.83 / 212.70. No PMO moves; W-1 moves by 122.99 / 300.24 = 40.9639 %."""
    from anh_reporter.production.well_entries import add_well_test

    from ..production.helpers import prove_meters
    from ..production.wells_site import wells_day

    ctx = context(tmp_path)
    wells_day(conn)
    prove_meters(conn)
    generate(conn, ctx)
    add_well_test(
        conn, field_code=FIELD, well_code="W-1", tested_on=DAY_D, duration_h="12",
        oil_bbl_d="200", gas_kscf_d="600", water_bbl_d="50", tested_by="Ing. Pruebas",
        entered_by="test",
    )  # fmt: skip
    draft = amendments.draft(conn, field_code=FIELD, day=DAY_D, context=ctx)
    oil = {c.target: (c.old, c.new) for c in draft.changes if c.figure == "wells/oil_net_bbl"}
    assert oil == {
        "W-1": (parse(b"300.24"), parse(b"177.25")),
        "W-2": (parse(b"500.40"), parse(b"590.83")),
        "W-3": (parse(b"180.14"), parse(b"212.70")),
    }
    assert not [c for c in draft.changes if c.target.startswith("PMO-") and "volume" in c.figure]
    assert draft.material and draft.largest_change_pct is not None
    assert round(draft.largest_change_pct, 4) == Decimal("40.9639")
    asked = amendments.request(
        conn, field_code=FIELD, day=DAY_D, reason_code="lab_result", reason="new W-1 test",
        requested_by="ana", context=ctx, now=AFTER + dt.timedelta(hours=1),
    )  # fmt: skip
    assert (asked.status, asked.signed) == ("pending", None)  # a second person must approve


def test_no_second_person_is_asked_for_an_amendment_that_cannot_be_signed(
    conn: Conn, tmp_path: Path
) -> None:
    """A material change (the lab's BSW 5 %) while the gas PMO has lost its day's readings
    (IDP029: 86,400 s with no data and no basis for an estimate, an error that blocks
    signing): the request is refused at once, naming the error, and nothing waits for an
    approver."""
    from anh_reporter.production.daily import compute_day

    ctx = context(tmp_path)
    ready_day(conn)
    generate(conn, ctx)
    _lab_bsw(conn, "5")
    conn.execute(
        "DELETE FROM telemetry WHERE series_id IN (SELECT s.id FROM series s "
        "JOIN measurement_points p ON p.id = s.pmo_id WHERE p.code = 'PMO-GAS')"
    )
    compute_day(conn, FIELD, DAY_D)
    with pytest.raises(ReportError, match=r"cannot be signed as the data stand.*IDP029 PMO-GAS"):
        amendments.request(
            conn, field_code=FIELD, day=DAY_D, reason_code="lab_result", reason="lab BSW 5 %",
            requested_by="ana", context=ctx, now=AFTER + dt.timedelta(hours=1),
        )  # fmt: skip
    assert conn.execute("SELECT count(*) FROM amendment_requests").fetchone() == (0,)


def test_report_amendments_shows_changed_rows_as_the_document_writes_them() -> None:
    """`report amendments` prints a changed row as JSON (108.79), never Decimal('108.79')."""
    from anh_reporter.reports.cli import _shown

    assert (
        _shown({"volume": Decimal("108.79"), "name": "fuel"}) == '{"name":"fuel","volume":108.79}'
    )
    assert _shown([Decimal("1.50")]) == "[1.50]"
    assert (_shown(Decimal("1.50")), _shown(None), _shown("PMO-OIL")) == ("1.50", "null", "PMO-OIL")


def test_an_amendment_keeps_the_profile_the_day_was_signed_in(conn: Conn, tmp_path: Path) -> None:
    """The field moves from idp-1.2 to anh-es-1.1 after a day is signed: the day's amendment
    is signed in idp-1.2 (it replaces a document of that format) and the report row says so.
    (The profile the field chose applies to the days it signs next: test_anh_es_profile.py.)"""
    ctx = context(tmp_path)
    ready_day(conn)
    conn.execute("UPDATE fields SET report_profile = 'idp-1.2'")
    v1 = generate(conn, ctx)
    conn.execute("UPDATE fields SET report_profile = 'anh-es-1.1'")
    _lab_bsw(conn, "5")
    v2 = generate(conn, ctx, reason="lab BSW 5 %", now=AFTER + dt.timedelta(hours=1))
    assert v2.version == 2 and v1.path is not None and v2.path is not None
    docs = [parse(p.read_bytes()) for p in (v1.path, v2.path)]
    assert [(d["profile"], d["schema_version"]) for d in docs] == [("idp-1.2", "1.2")] * 2
    assert conn.execute("SELECT profile FROM reports").fetchone() == ("idp-1.2",)


def test_a_test_entered_again_with_the_same_figures_flags_nothing(
    conn: Conn, tmp_path: Path
) -> None:
    """W-1's test of 2026-02-01 typed a second time (a new id, the same date and rates): no
    reported figure moves, so the signed day is not flagged (only a different test would)."""
    from anh_reporter.production.well_entries import add_well_test

    from ..production.helpers import prove_meters
    from ..production.wells_site import wells_day

    wells_day(conn)
    prove_meters(conn)
    generate(conn, context(tmp_path))
    test = {
        "field_code": FIELD, "well_code": "W-1", "duration_h": "12", "gas_kscf_d": "600",
        "water_bbl_d": "50", "tested_by": "Ing. Pruebas", "entered_by": "test",
    }  # fmt: skip
    add_well_test(conn, tested_on=dt.date(2026, 2, 1), oil_bbl_d="400", **test)
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (False,)
    add_well_test(conn, tested_on=dt.date(2026, 2, 1), oil_bbl_d="410", **test)
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (True,)


def test_an_approval_signs_only_the_figures_it_was_asked_for(conn: Conn, tmp_path: Path) -> None:
    """The lab's BSW 5 % is asked for (material: oil 980.78 → 950.76); before the second
    person approves, the lab corrects it to 6 %: the request no longer describes the amendment.
    Approving it withdraws it and signs nothing; asked again, the new figures are approved and
    signed (1,000.80 × 0.9400 = 940.75)."""
    ctx = context(tmp_path)
    ready_day(conn)
    generate(conn, ctx)
    _lab_bsw(conn, "5")
    ask = {
        "field_code": FIELD, "day": DAY_D, "reason_code": "lab_result", "reason": "lab BSW",
        "requested_by": "ana", "context": ctx,
    }  # fmt: skip
    first = amendments.request(conn, **ask, now=AFTER + dt.timedelta(hours=1))
    assert first.status == "pending"
    _lab_bsw(conn, "6")
    with pytest.raises(ReportError, match=r"the figures moved since amendment #\d+ was asked"):
        amendments.approve(conn, field_code=FIELD, day=DAY_D, approved_by="luis", context=ctx)
    row = conn.execute("SELECT status FROM amendment_requests WHERE id = %s", (first.id,))
    assert row.fetchone() == ("withdrawn",)
    assert conn.execute("SELECT count(*) FROM report_versions").fetchone() == (1,)
    second = amendments.request(conn, **ask, now=AFTER + dt.timedelta(hours=2))
    done = amendments.approve(
        conn, field_code=FIELD, day=DAY_D, approved_by="luis", context=ctx,
        now=AFTER + dt.timedelta(hours=3),
    )  # fmt: skip
    assert done.signed is not None and done.signed.path is not None
    oil = {c.figure: c.new for c in second.changes if c.target == "PMO-OIL"}
    assert oil["oil_net_bbl"] == parse(b"940.75")
    document = parse(done.signed.path.read_bytes())
    pmos = {p["code"]: p for p in document["pmos"]}
    assert pmos["PMO-OIL"]["oil_net_bbl"] == parse(b"940.75")


def test_figures_back_to_the_signed_ones_clear_the_flag_and_sign_nothing(
    conn: Conn, tmp_path: Path
) -> None:
    """A W-1 test at 200 bbl/d on the signed day moves the wells (the day is flagged); it is
    replaced by the same test dated the next day (it was typed on the wrong date): the day is
    back to its signed figures. Asking for an amendment then signs no empty version: it says
    there is nothing to amend and clears the flag."""
    from anh_reporter.production.well_entries import add_well_test

    from ..production.helpers import prove_meters
    from ..production.wells_site import wells_day

    ctx = context(tmp_path)
    wells_day(conn)
    prove_meters(conn)
    generate(conn, ctx)
    test = {"duration_h": "12", "gas_kscf_d": "600", "water_bbl_d": "50",
            "tested_by": "Ing. Pruebas", "entered_by": "test"}  # fmt: skip
    moved = add_well_test(
        conn, field_code=FIELD, well_code="W-1", tested_on=DAY_D, oil_bbl_d="200", **test
    )
    assert moved.needs_amendment == (DAY_D,)
    assert amendments.draft(conn, field_code=FIELD, day=DAY_D, context=ctx).changes
    add_well_test(
        conn, field_code=FIELD, well_code="W-1", tested_on=DAY_D + dt.timedelta(days=1),
        oil_bbl_d="200", replaces=moved.id, **test,
    )  # fmt: skip
    with pytest.raises(ReportError, match=r"nothing to amend.*signed v1.*flag is cleared"):
        amendments.request(
            conn, field_code=FIELD, day=DAY_D, reason_code="manual_correction",
            reason="test typed twice", requested_by="ana", context=ctx,
        )  # fmt: skip
    flags = conn.execute(
        "SELECT r.needs_amendment, bool_or(d.needs_amendment), max(v.version) FROM reports r "
        "JOIN report_versions v ON v.report_id = r.id JOIN daily_production d "
        "ON d.contract_day = r.contract_day GROUP BY r.needs_amendment"
    ).fetchall()
    assert flags == [(False, False, 1)]


def test_four_eyes_names_are_compared_as_people_not_as_strings() -> None:
    """Spacing and case do not make a second person (a two-space "ana  maría" approved an
    amendment "Ana María" asked for); a different name does."""
    from anh_reporter.reports.amendments import _same_person

    for typed in ("Ana María", "ana  maría", " ANA MARÍA ", "ana\tmaría"):
        assert _same_person(typed, "Ana María"), typed
    assert not _same_person("Ana Marína", "Ana María")
    assert not _same_person("anamaría", "Ana María")
