"""The field's oil consumption and losses, typed by hand, in the day's oil balance.

The day of oil_site.oil_day: produced 1,000.00 bbl (PMO-OIL), dispatched 980.00 bbl
(PMO-LACT), Δ stock 0 (no storage tank); tolerance max(0.5 % × 1,000.00, 1) = 5.00 bbl.

* Without entries: residual 1,000.00 − 980.00 − 0 − 0 − 0 = 20.00 > 5.00: the balance opens.
* Consumption 12.50 and losses 6.00: residual 1,000.00 − (980.00 + 0 + 12.50 + 6.00)
  = 1,000.00 − 998.50 = 1.50 ≤ 5.00: it closes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from anh_reporter.production.daily import compute_day
from anh_reporter.production.manual import ManualEntryError, add_entry, list_entries
from anh_reporter.production.oil_terms import day_oil_terms
from anh_reporter.storage import well_records

from .helpers import DAY_D, FIELD, load_test_site
from .oil_site import oil_day

Conn = psycopg.Connection[Any]
D = Decimal


def add(conn: Conn, kind: str, value: str, reason: str, **kw: Any) -> Any:
    return add_entry(
        conn, field_code=FIELD, day=DAY_D, kind=kind, value=value, entered_by="ana",
        reason=reason, **kw,
    )  # fmt: skip


def stored(conn: Conn) -> dict[str, Any]:
    field_id = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()[0]
    found = well_records.load_allocation_day(conn, field_id, DAY_D)
    assert found is not None
    return dict(found)


def oil(conn: Conn) -> dict[str, Any]:
    return next(b for b in stored(conn)["totals"]["balances"] if b["fluid"] == "oil")


def terms(balance: dict[str, Any]) -> dict[str, Decimal]:
    return {t["name"]: D(str(t["volume"])) for t in balance["terms"]}


def open_findings(conn: Conn) -> list[str]:
    return [f["message"] for f in stored(conn)["findings"] if f["code"] == "balance_not_closed"]


def test_consumption_and_losses_close_the_oil_balance(conn: Conn) -> None:
    oil_day(conn)
    compute_day(conn, FIELD, DAY_D)
    # Without the entries: residual 20.00 bbl, above the tolerance 5.00 bbl.
    before = oil(conn)
    assert (D(before["produced"]), D(before["residual"]), before["closes"]) == (
        D("1000.00"), D("20.00"), False,
    )  # fmt: skip
    assert terms(before) == {
        "dispatched": D("980.00"), "stock_change": D(0), "consumption": D(0), "losses": D(0),
    }  # fmt: skip
    (message,) = open_findings(conn)
    assert "residual 20.00 bbl (2.00 % of production) exceeds the tolerance 5.00 bbl" in message
    assert "consumption 0, losses 0" in message

    used = add(conn, "oil_consumption", "12.50", "heater and generator fuel", unit="bbl")
    lost = add(conn, "oil_losses", "6.00", "evaporation at the skimmer pit")
    assert (used.entry.owner, used.entry.owner_code, used.entry.unit) == ("field", FIELD, "bbl")
    assert lost.recomputed is not None and lost.recomputed.wells is not None

    # 1,000.00 − (980.00 + 0 + 12.50 + 6.00) = 1.50 ≤ 5.00: closes.
    after = oil(conn)
    assert terms(after) == {
        "dispatched": D("980.00"), "stock_change": D(0), "consumption": D("12.50"),
        "losses": D("6.00"),
    }  # fmt: skip
    assert (D(after["residual"]), after["closes"]) == (D("1.50"), True)
    assert D(after["tolerance"]) == D("5.00")
    assert open_findings(conn) == []
    assert stored(conn)["totals"]["oil_terms"] == {
        "consumption": "12.50", "losses": "6.00",
        "manual_entry_ids": [used.entry.id, lost.entry.id],
    }  # fmt: skip


def test_a_replaced_entry_no_longer_counts_and_losses_add_up(conn: Conn) -> None:
    oil_day(conn)
    add(conn, "oil_consumption", "12.50", "heater fuel", recompute=False)
    first = add(conn, "oil_losses", "6.00", "spill at the loading bay")
    # Corrected to 14.00: 1,000.00 − (980.00 + 12.50 + 14.00) = −6.50, |−6.50| > 5.00: opens.
    second = add(conn, "oil_losses", "14.00", "spill re-measured: 14 bbl", replaces=first.entry.id)
    assert (D(oil(conn)["residual"]), oil(conn)["closes"]) == (D("-6.50"), False)
    (message,) = open_findings(conn)
    assert "residual -6.50 bbl" in message and "losses 14.00" in message
    # A second loss of the day adds to the first: 14.00 + 1.25 = 15.25;
    # 1,000.00 − (980.00 + 12.50 + 15.25) = −7.75.
    add(conn, "oil_losses", "1.25", "tank breathing, estimate")
    balance = oil(conn)
    assert terms(balance)["losses"] == D("15.25")
    assert D(balance["residual"]) == D("-7.75")
    active = [e.id for e in list_entries(conn, field_code=FIELD, day=DAY_D) if e.owner == "field"]
    assert first.entry.id not in active and second.entry.id in active
    with pytest.raises(ManualEntryError, match="already replaced"):
        add(conn, "oil_losses", "5", "again", replaces=first.entry.id)
    with pytest.raises(ManualEntryError, match="another PMO, well, kind or day"):
        add(conn, "oil_consumption", "5", "wrong kind", replaces=second.entry.id)
    field_id = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()[0]
    now = day_oil_terms(conn, field_id, DAY_D)
    assert (now.consumption, now.losses) == (D("12.50"), D("15.25"))
    logged = conn.execute(
        "SELECT actor, details->>'kind', details->>'value', details->>'replaces' FROM audit_log "
        "WHERE action = 'manual_entry.add' "
        "AND details->>'kind' IN ('oil_consumption', 'oil_losses') ORDER BY id"
    ).fetchall()
    assert logged == [
        ("ana", "oil_consumption", "12.50", None),
        ("ana", "oil_losses", "6.00", None),
        ("ana", "oil_losses", "14.00", str(first.entry.id)),
        ("ana", "oil_losses", "1.25", None),
    ]


@pytest.mark.parametrize(
    ("kind", "value", "extra", "message"),
    [
        ("oil_losses", "-1", {}, r"oil_losses -1 bbl is outside \[0, 100000\] bbl"),
        ("oil_consumption", "100000.01", {}, r"oil_consumption 100000.01 bbl is outside \[0, "),
        (
            "oil_consumption",
            "2",
            {"unit": "m3"},
            "oil_consumption: unit 'm3' is not accepted; enter the value in 'bbl'",
        ),
        (
            "oil_losses",
            "2",
            {"pmo_code": "PMO-OIL"},
            r"oil_losses is entered for field CAMPO-TEST as a whole, not for a PMO or a well "
            r"\(PMO 'PMO-OIL' given\)",
        ),
        ("oil_losses", "2", {"well_code": "W-1"}, r"\(well 'W-1' given\)"),
        ("oil_losses", "2", {"reason": "  "}, "a reason is required"),
        ("oil_losses", "2", {"level": "nsv"}, "oil_losses has no level and no window"),
        (
            "oil_consumption",
            "5.123",
            {},
            r"oil_consumption 5.123 bbl has more decimals than it is reported with \(0.01 bbl\)",
        ),
        ("oil_losses", "0.000001", {}, r"oil_losses 0.000001 bbl has more decimals"),
    ],
)
def test_a_refused_entry_names_the_field_value_and_limit(
    conn: Conn, kind: str, value: str, extra: dict[str, Any], message: str
) -> None:
    oil_day(conn)
    kw = {"reason": "evaporation"} | extra
    with pytest.raises(ManualEntryError, match=message):
        add(conn, kind, value, **kw)
    assert not [e for e in list_entries(conn, field_code=FIELD) if e.owner == "field"]


def test_a_field_without_an_oil_balance_refuses_them(conn: Conn) -> None:
    load_test_site(conn)  # no facilities: not allocated per well, no balances
    with pytest.raises(ManualEntryError, match="field CAMPO-TEST has no oil balance on 2026-02-02"):
        add(conn, "oil_consumption", "3", "heater fuel")


def test_an_entry_on_a_signed_day_flags_it_for_amendment(conn: Conn, tmp_path: Path) -> None:
    from anh_reporter.config import Settings
    from anh_reporter.reports import amendments, service

    oil_day(conn)
    compute_day(conn, FIELD, DAY_D)
    context = service.Context.from_settings(Settings(data_dir=tmp_path))
    service.generate(
        conn, field_code=FIELD, day=DAY_D, context=context, created_by="t",
        now=dt.datetime(2026, 2, 4, tzinfo=dt.UTC),
    )  # fmt: skip
    signed = conn.execute("SELECT canonical FROM report_versions").fetchall()
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (False,)

    result = add(conn, "oil_consumption", "12.50", "heater fuel")

    assert result.recomputed is not None and result.recomputed.needs_amendment
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (True,)
    assert conn.execute("SELECT canonical FROM report_versions").fetchall() == signed
    draft = amendments.draft(conn, field_code=FIELD, day=DAY_D, context=context)
    changed = {(c.target, c.figure): (c.old, c.new) for c in draft.changes}
    # The oil balance's terms, by name: dispatched, stock_change, consumption, losses.
    assert changed[("oil", "balances/terms/consumption")] == (0, D("12.50"))
    assert changed[("oil", "balances/residual")] == (D("20.00"), D("7.50"))
    # 12.50 bbl consumed on 1,000.00 produced: 1.25 % of the day's oil, over the 0.1 % limit:
    # a second person must approve it (a balance term counts toward materiality).
    assert draft.material and draft.largest_change_pct == D("1.25")


def test_the_signed_report_carries_the_terms_and_their_entries(conn: Conn, tmp_path: Path) -> None:
    from anh_reporter.config import Settings
    from anh_reporter.reports import service
    from anh_reporter.reports.canonical import parse

    oil_day(conn)
    used = add(conn, "oil_consumption", "12.50", "heater fuel", recompute=False).entry
    lost = add(conn, "oil_losses", "6.00", "evaporation").entry
    context = service.Context.from_settings(Settings(data_dir=tmp_path))
    report = service.generate(
        conn, field_code=FIELD, day=DAY_D, context=context, created_by="t",
        now=dt.datetime(2026, 2, 4, tzinfo=dt.UTC),
    )  # fmt: skip
    assert report.path is not None
    doc = parse(report.path.read_bytes())
    assert isinstance(doc, dict)
    (balance,) = [b for b in doc["balances"] if b["fluid"] == "oil"]
    assert [(t["name"], D(str(t["volume"]))) for t in balance["terms"]] == [
        ("dispatched", D("980.00")), ("stock_change", D(0)), ("consumption", D("12.50")),
        ("losses", D("6.00")),
    ]  # fmt: skip
    assert (D(str(balance["residual"])), balance["closes"]) == (D("1.50"), True)
    carried = {m["id"]: (m["kind"], m["target"], m["reason"]) for m in doc["manual_entries"]}
    assert carried[used.id] == ("oil_consumption", FIELD, "heater fuel")
    assert carried[lost.id] == ("oil_losses", FIELD, "evaporation")
    assert "IDP034" not in {f["code"] for f in report.findings}
