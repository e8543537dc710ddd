"""The topology is date-effective: a day is allocated with the topology in force when it started.

Two batteries, oil only (every figure worked by hand):

* BAT-1: PMO-OIL, the test site's oil meter (totalizer 1000 bbl/d × meter factor 1.0008 ×
  (1 − 2 % BSW) at 60 °F and 0 psig = 980.784 → **980.78 bbl NSV** a day);
* BAT-2: PMO-OIL-2, a rate meter at 500 bbl/d × meter factor 1.0 × 0.98 = **490.00 bbl**.

Wells, each an ESP whose pump ran all day (24 h on), tested 2026-01-20 at oil 400 (W-1),
600 (W-2) and 400 (W-3) bbl/d. W-1 and W-2 flow to BAT-1, W-3 to BAT-2, until W-2 is re-routed
to BAT-2 from 2026-02-03 11:00 UTC, the start of contract day 2026-02-03.

* 2026-02-02 (before the move): PMO-OIL over W-1 and W-2: factor 980.78 / 1000; W-1
  400 × 0.98078 = 392.312, W-2 588.468: cents 39231 + 58846 = 98077, the last cent to the
  larger remainder (W-2: 0.8 > 0.2): **W-1 392.31, W-2 588.47**; W-3 alone **490.00**.
* 2026-02-03 (after): **W-1 980.78** alone at PMO-OIL; PMO-OIL-2 over W-2 and W-3 (600 + 400):
  W-2 490 × 600 / 1000 = **294.00**, W-3 **196.00**.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from anh_reporter.production.daily import compute_day
from anh_reporter.production.well_entries import add_well_test
from anh_reporter.reports import amendments
from anh_reporter.site import Site
from anh_reporter.storage import well_records
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from ..reports.helpers import context, generate
from .helpers import DAY, DAY_D, FIELD, US, E, S, _series, prove_meters, site_dict, write

Conn = psycopg.Connection[Any]
DAY_2 = DAY_D + dt.timedelta(days=1)
MOVE = dt.datetime(2026, 2, 3, 11, tzinfo=dt.UTC)  # contract day 2026-02-03 starts


def _site(w2_at: str = "BAT-1") -> Site:
    raw = site_dict()
    field = raw["fields"][0]
    oil = next(p for p in field["pmos"] if p["code"] == "PMO-OIL")
    oil2 = copy.deepcopy(oil)
    oil2.update(code="PMO-OIL-2", name="Medidor batería 2", facility="BAT-2")
    oil2["meter"] = {"type": "coriolis", "has_totalizer": False, "meter_factor": 1.0}
    oil2["series"] = [s for s in oil2["series"] if s["variable"] != "oil_total"]
    oil["facility"] = "BAT-1"
    field["pmos"] = [oil, oil2]
    field["facilities"] = [{"code": "BAT-1", "name": "Batería 1"},
                           {"code": "BAT-2", "name": "Batería 2"}]  # fmt: skip
    field["wells"] = [
        {"code": code, "name": f"Pozo {code}", "production_method": "esp", "facility": at,
         "series": [_series("pump_status", "bool", 0, 1, 600)]}
        for code, at in (("W-1", "BAT-1"), ("W-2", w2_at), ("W-3", "BAT-2"))
    ]  # fmt: skip
    return Site.model_validate(raw)


def _two_days(conn: Conn) -> int:
    """Load the site, write both days' readings, enter the tests; the field id."""
    load_site_into(conn, _site(), changed_by="test")
    ids = {r.code.split(".", 1)[1]: r.id for r in list_series(conn, FIELD)}
    t = np.arange(S - 600 * US, E + DAY + 1, 600 * US, dtype=np.int64)
    days = (t - S) / DAY
    write(conn, ids["PMO-OIL.oil_total"], t, 5000.0 + 1000.0 * days)
    write(conn, ids["PMO-OIL.oil_rate"], t, 1000.0)
    write(conn, ids["PMO-OIL-2.oil_rate"], t, 500.0)
    for pmo in ("PMO-OIL", "PMO-OIL-2"):
        for variable, value in (("meter_temperature", 60.0), ("meter_pressure", 0.0),
                                ("bsw", 2.0), ("api_gravity", 30.0)):  # fmt: skip
            write(conn, ids[f"{pmo}.{variable}"], t, value)
    for well, oil in (("W-1", 400), ("W-2", 600), ("W-3", 400)):
        write(conn, ids[f"{well}.pump_status"], t, 1.0)
        add_well_test(
            conn, field_code=FIELD, well_code=well, tested_on=dt.date(2026, 1, 20),
            duration_h="12", oil_bbl_d=oil, gas_kscf_d=0, water_bbl_d=0,
            tested_by="Ing. Pruebas", entered_by="test",
        )  # fmt: skip
    row = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert row is not None
    return int(row[0])


def _rows_text(conn: Conn, field_id: int, day: dt.date) -> list[tuple[str, str]]:
    """Each stored well row of the day as its JSON text (computed_at aside)."""
    return [
        (str(code), str(text))
        for code, text in conn.execute(
            "SELECT w.code, (to_jsonb(d) - 'computed_at')::text FROM well_days d "
            "JOIN wells w ON w.id = d.well_id WHERE w.field_id = %s AND d.contract_day = %s "
            "ORDER BY w.code",
            (field_id, day),
        ).fetchall()
    ]


def _oil(conn: Conn, field_id: int, day: dt.date) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        code: (str(row["oil_bbl"]), row["pmos"])
        for code, row in well_records.load_well_days(conn, field_id, day).items()
    }


def test_a_rerouted_well_moves_from_its_effective_day_only(conn: Conn) -> None:
    field_id = _two_days(conn)
    compute_day(conn, FIELD, DAY_D)
    compute_day(conn, FIELD, DAY_2)
    day_1 = _rows_text(conn, field_id, DAY_D)
    before = {"W-1": ("392.31", {"oil": "PMO-OIL"}), "W-2": ("588.47", {"oil": "PMO-OIL"}),
              "W-3": ("490.00", {"oil": "PMO-OIL-2"})}  # fmt: skip
    assert _oil(conn, field_id, DAY_D) == before
    assert _oil(conn, field_id, DAY_2) == before  # the same rates, the same topology

    summary = load_site_into(
        conn, _site(w2_at="BAT-2"), changed_by="test", reason="W-2 re-routed to BAT-2",
        effective_from=MOVE,
    )  # fmt: skip
    assert summary.updated == {"wells": 1}
    # Day 2 was computed before the move was loaded: the load names it (only it).
    assert [n.split(" end after")[0] for n in summary.notes] == [
        f"{FIELD}: 1 stored day(s) from 2026-02-03 to 2026-02-03 (0 signed)"
    ]
    first = compute_day(conn, FIELD, DAY_D)
    second = compute_day(conn, FIELD, DAY_2)
    # The day before the move is allocated exactly as before: byte-identical rows.
    assert first.wells is not None and not first.wells.changed
    assert _rows_text(conn, field_id, DAY_D) == day_1
    assert _oil(conn, field_id, DAY_D) == before
    # From the move on, W-2's oil goes to BAT-2's meter.
    assert second.wells is not None and second.wells.changed
    assert _oil(conn, field_id, DAY_2) == {
        "W-1": ("980.78", {"oil": "PMO-OIL"}),
        "W-2": ("294.00", {"oil": "PMO-OIL-2"}),
        "W-3": ("196.00", {"oil": "PMO-OIL-2"}),
    }


def test_a_move_back_dated_before_a_signed_day_flags_it(conn: Conn, tmp_path: Path) -> None:
    _two_days(conn)
    prove_meters(conn)
    compute_day(conn, FIELD, DAY_D)
    ctx = context(tmp_path)
    signed = generate(conn, ctx)
    canonical = records_bytes(conn)
    # The same re-routing, back-dated to before the signed day: the load says which stored
    # days it applies to (it does not recompute them).
    summary = load_site_into(
        conn, _site(w2_at="BAT-2"), changed_by="test", reason="W-2 flowed to BAT-2 all along",
        effective_from=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    assert summary.notes == [
        f"{FIELD}: 1 stored day(s) from 2026-02-02 to 2026-02-02 (1 signed) end after the "
        "changes take effect (2026-02-01T00:00:00+00:00) and were computed without them: "
        f"recompute them (production compute --field {FIELD} --day 2026-02-02 --to "
        "2026-02-02); a signed day whose figures change is flagged for an amendment"
    ]
    result = compute_day(conn, FIELD, DAY_D)
    assert result.needs_amendment and result.changed == ()  # the PMO figures did not move
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (True,)
    assert records_bytes(conn) == canonical  # the signed document is untouched
    # The amendment lists the well figures that would change (old → new).
    draft = amendments.draft(conn, field_code=FIELD, day=DAY_D, context=ctx)
    changes = {(c.target, c.figure): (c.old, c.new) for c in draft.changes}
    assert changes[("W-1", "wells/oil_net_bbl")] == (D("392.31"), D("980.78"))
    assert changes[("W-2", "wells/oil_net_bbl")] == (D("588.47"), D("294.00"))
    assert changes[("W-2", "wells/pmos/oil")] == ("PMO-OIL", "PMO-OIL-2")
    assert changes[("W-2", "wells/facility")] == ("BAT-1", "BAT-2")
    # No PMO volume moved, but W-1's oil did: (980.78 − 392.31) / 392.31 = 150.0013 %: a
    # second person must approve the amendment.
    assert draft.material and draft.largest_change_pct is not None
    assert round(draft.largest_change_pct, 4) == D("150.0013")
    assert signed.version == 1


def records_bytes(conn: Conn) -> bytes:
    """The signed document of the day (version 1)."""
    row = conn.execute(
        "SELECT v.canonical FROM report_versions v JOIN reports r ON r.id = v.report_id "
        "WHERE r.contract_day = %s AND v.version = 1",
        (DAY_D,),
    ).fetchone()
    assert row is not None
    return bytes(row[0])
