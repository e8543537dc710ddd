"""Metered injection wells in the water balance, from stored readings to the stored balance.

The wells' test site (wells_site.wells_site_dict) with its water reworked so every figure is
worked by hand (contract day 2026-02-02, readings every 10 min from 10 min before the day to its
end, both boundaries included):

* PMO-WATER (production, a rate meter, meter factor 1.0000, no temperature: reported as GOV):
  5,000 bbl/d all day → 5,000 × 24 / 24 = 5,000.00 bbl produced;
* PMO-DISP (water_disposal, same meter): 3,000 bbl/d → 3,000.00 bbl;
* INJ-1, an injector metered by its water_rate series: 1,200 bbl/d → 1,200.00 bbl;
* INJ-2, an injector metered by its water_total series: 20,000.00 bbl at the day's start,
  800 bbl/d linear → 20,800.00 at its end: 800.00 bbl.

Balance: 5,000.00 − (3,000.00 + 1,200.00 + 800.00) = 0.00, within max(0.5 % × 5,000.00, 1) =
25.00 bbl. (The injectors take no part in the production allocation: no fluids, no tests, no
hours on; tests/production/test_injector_allocation.py checks their rows.)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from anh_reporter.production.daily import compute_day, recompute_stale
from anh_reporter.reports import amendments
from anh_reporter.site import Site
from anh_reporter.storage import well_records
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from ..reports.helpers import context, generate
from .helpers import DAY, DAY_D, FIELD, US, E, S, _series, grid, prove_meters, write
from .wells_site import wells_site_dict

Conn = psycopg.Connection[Any]
D = Decimal
INJ1, INJ2 = f"{FIELD}.INJ-1.water_rate", f"{FIELD}.INJ-2.water_total"


def _water_pmo(code: str, role: str) -> dict[str, Any]:
    return {
        "code": code, "name": code, "kind": "water", "role": role,
        "meter": {"type": "turbine", "has_totalizer": False, "meter_factor": 1.0},
        "series": [_series("water_rate", "bbl/d", 0, 1e6, 600)],
    }  # fmt: skip


def injection_site(*, metered: bool = True, injection_pmo: bool = False) -> Site:
    raw = wells_site_dict()
    field = raw["fields"][0]
    field["pmos"] = [p for p in field["pmos"] if p["code"] != "PMO-WATER"]
    field["pmos"] += [
        _water_pmo("PMO-WATER", "production"),
        _water_pmo("PMO-DISP", "water_disposal"),
    ]
    if injection_pmo:
        field["pmos"].append(_water_pmo("PMO-INJ", "water_injection"))
    field["wells"] += [
        {"code": "INJ-1", "name": "Iny 1", "production_method": "injector",
         "series": [_series("water_rate", "bbl/d", 0, 20_000, 600)]},
        {"code": "INJ-2", "name": "Iny 2", "production_method": "injector",
         "series": [_series("water_total", "bbl", 0, 9_999_999.99, 600, rollover=1e7,
                            resolution=0.01)]},
    ]  # fmt: skip
    if metered:
        field["wells"][-2]["injection_meter"] = INJ1
        field["wells"][-1]["injection_meter"] = INJ2
    return Site.model_validate(raw)


def load(conn: Conn, site: Site, **kwargs: Any) -> dict[str, int]:
    load_site_into(conn, site, changed_by="test", **kwargs)
    conn.commit()
    return {r.code.split(".", 1)[1]: r.id for r in list_series(conn, FIELD)}


def water_day(conn: Conn, ids: dict[str, int], *, inj1: float = 1200.0, inj2: bool = True) -> None:
    """The readings of the module docstring (INJ-1 at ``inj1`` bbl/d; no INJ-2: none)."""
    t = grid()
    write(conn, ids["PMO-WATER.water_rate"], t, 5000.0)
    write(conn, ids["PMO-DISP.water_rate"], t, 3000.0)
    if "PMO-INJ.water_rate" in ids:
        write(conn, ids["PMO-INJ.water_rate"], t, 2000.0)
    write(conn, ids["INJ-1.water_rate"], t, inj1)
    if inj2:
        write(conn, ids["INJ-2.water_total"], t, 20_000.0 + 800.0 * (t - S) / (E - S))


def water_balance(conn: Conn) -> tuple[dict[str, Any], list[dict[str, str]], dict[str, Any]]:
    """Compute the day; its stored water balance, findings and totals."""
    compute_day(conn, FIELD, DAY_D)
    field_id = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert field_id is not None
    stored = well_records.load_allocation_day(conn, field_id[0], DAY_D)
    assert stored is not None
    balance = next(b for b in stored["totals"]["balances"] if b["fluid"] == "water")
    return balance, stored["findings"], stored["totals"]


def terms(balance: dict[str, Any]) -> list[tuple[str, Decimal]]:
    return [(t["name"], D(str(t["volume"]))) for t in balance["terms"]]


def about(findings: list[dict[str, str]], *codes: str) -> list[dict[str, str]]:
    return [f for f in findings if f["code"] in codes]


def test_metered_injection_wells_close_the_water_balance(conn: Conn) -> None:
    water_day(conn, load(conn, injection_site()))
    balance, findings, totals = water_balance(conn)
    assert D(balance["produced"]) == D("5000.00")
    assert terms(balance) == [
        ("disposal", D("3000.00")),
        ("injection:INJ-1", D("1200.00")),
        ("injection:INJ-2", D("800.00")),
    ]
    assert (D(balance["residual"]), D(balance["tolerance"]), balance["closes"]) == (
        D("0.00"), D("25.0000"), True,
    )  # fmt: skip
    assert about(findings, "balance_not_closed", "injection_meter_gap") == []
    assert totals["injection_wells"] == [
        {"well": "INJ-1", "series": INJ1, "method": "rate_integration", "volume": "1200.00",
         "estimated": "0.00", "missing_s": 0, "complete": True},
        {"well": "INJ-2", "series": INJ2, "method": "totalizer", "volume": "800.00",
         "estimated": "0.00", "missing_s": 0, "complete": True},
    ]  # fmt: skip


def test_a_meter_reading_ten_percent_low_opens_the_balance(conn: Conn) -> None:
    """INJ-1 reads 1,200 × 0.9 = 1,080 bbl/d: residual 5,000.00 − (3,000.00 + 1,080.00 + 800.00)
    = 120.00 bbl, 120 / 5,000 = 2.40 % of production, beyond the 25.00 bbl tolerance."""
    water_day(conn, load(conn, injection_site()), inj1=1080.0)
    balance, findings, _ = water_balance(conn)
    assert (D(balance["residual"]), balance["closes"]) == (D("120.00"), False)
    (finding,) = about(findings, "balance_not_closed")
    assert (finding["severity"], finding["target"]) == ("warning", FIELD)
    assert finding["message"] == (
        "water balance does not close: produced 5000.00 bbl, disposed 4880.00 bbl (disposal "
        "3000.00, injection:INJ-1 1080.00, injection:INJ-2 800.00); residual 120.00 bbl (2.40 % "
        "of production) exceeds the tolerance 25.00 bbl"
    )


def test_the_injection_pmo_is_checked_against_the_wells(conn: Conn) -> None:
    """PMO-INJ measured 2,000.00 bbl (the term; 5,000.00 − 3,000.00 − 2,000.00 = 0.00 closes);
    the wells 1,080.00 + 800.00 = 1,880.00 are −120.00 off, beyond max(0.5 % × 2,000.00, 1) =
    10.00 bbl."""
    water_day(conn, load(conn, injection_site(injection_pmo=True)), inj1=1080.0)
    balance, findings, _ = water_balance(conn)
    assert terms(balance) == [("disposal", D("3000.00")), ("injection", D("2000.00"))]
    assert balance["closes"] is True
    (finding,) = about(findings, "balance_not_closed")
    assert finding["message"] == (
        "injection wells add up to 1880.00 bbl (INJ-1 1080.00, INJ-2 800.00), the injection PMO "
        "measured 2000.00 bbl: the difference -120.00 bbl exceeds the tolerance 10.00 bbl"
    )


def test_a_gap_in_an_injection_meter_is_said(conn: Conn) -> None:
    """INJ-1 has no reading from 06:00 to 12:10 into the day (readings 36 to 71 missing): the
    gap runs from reading 35 (05:50) to reading 72 (12:00), 37 × 600 = 22,200 s, and is
    estimated on the straight line between them: 1,200 × 22,200 / 86,400 = 308.333… → 308.33
    bbl of the 1,200.00 counted. The balance still closes; an info finding says so."""
    ids = load(conn, injection_site())
    water_day(conn, ids)
    conn.execute(
        "DELETE FROM telemetry WHERE series_id = %s AND time >= %s AND time < %s",
        (ids["INJ-1.water_rate"], _at(S + 36 * 600 * US), _at(S + 72 * 600 * US)),
    )
    conn.commit()
    balance, findings, totals = water_balance(conn)
    assert balance["closes"] is True and D(balance["residual"]) == D("0.00")
    (gap,) = about(findings, "injection_meter_gap")
    assert (gap["severity"], gap["target"]) == ("info", "INJ-1")
    assert gap["message"] == (
        f"well 'INJ-1': injection meter '{INJ1}': no usable reading for 22200 s of the day "
        "(longest gap 22200 s); 308.33 bbl of the 1200.00 bbl counted estimated "
        "(rate_interpolation)"
    )
    assert totals["injection_wells"][0]["estimated"] == "308.33"


def test_a_meter_without_readings_leaves_the_balance_open(conn: Conn) -> None:
    """INJ-2 has no reading at all: its injection is unknown, never counted as a complete 0.
    Residual 5,000.00 − (3,000.00 + 1,200.00 + 0.00) = 800.00; the balance cannot close and
    its finding names the well."""
    water_day(conn, load(conn, injection_site()), inj2=False)
    balance, findings, totals = water_balance(conn)
    assert (D(balance["residual"]), balance["closes"]) == (D("800.00"), False)
    (gap,) = about(findings, "injection_meter_gap")
    assert (gap["severity"], gap["target"]) == ("warning", "INJ-2")
    (open_,) = about(findings, "balance_not_closed")
    assert open_["message"] == (
        "water balance cannot close: the injection meter of well(s) INJ-2 left part of the day "
        "without a volume (see injection_meter_gap); residual with what the wells measured "
        "(INJ-1 1200.00, INJ-2 0.00) 800.00 bbl"
    )
    assert totals["injection_wells"][1]["complete"] is False


def test_a_meter_named_later_counts_from_its_effective_instant(conn: Conn) -> None:
    """The wells were loaded without meters; the meters are named effective at the day's end:
    the day keeps its topology (injection 0, residual 5,000.00 − 3,000.00 = 2,000.00)."""
    load(conn, injection_site(metered=False))
    ids = load(conn, injection_site(), effective_from=_at(E))
    water_day(conn, ids)
    balance, _, totals = water_balance(conn)
    assert terms(balance) == [("disposal", D("3000.00")), ("injection", D(0))]
    assert D(balance["residual"]) == D("2000.00") and "injection_wells" not in totals
    logged = conn.execute(
        "SELECT entity_code, new_value FROM config_log WHERE attribute = 'injection_meter' "
        "AND new_value IS NOT NULL ORDER BY entity_code"
    ).fetchall()
    assert logged == [(f"{FIELD}.INJ-1", INJ1), (f"{FIELD}.INJ-2", INJ2)]


def _at(us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(us / US, dt.UTC)


def test_a_meter_named_back_to_a_signed_day_flags_it(conn: Conn, tmp_path: Path) -> None:
    """The day signed without meters (injection 0, residual 2,000.00); the meters then named
    back to before the day: the recompute moves the water balance, so the signed day is flagged
    and its amendment lists the change."""
    ids = load(conn, injection_site(metered=False))
    water_day(conn, ids)
    t = grid()  # PMO-OIL and PMO-GAS as helpers.standard_day writes them (a signable day)
    write(conn, ids["PMO-OIL.oil_total"], t, 5000.0 + 1000.0 * (t - S) / DAY)
    for variable, value in (
        ("oil_rate", 1000.0),
        ("meter_temperature", 60.0),
        ("meter_pressure", 0.0),
        ("bsw", 2.0),
        ("api_gravity", 30.0),
    ):
        write(conn, ids[f"PMO-OIL.{variable}"], t, value)
    write(conn, ids["PMO-GAS.gas_total"], t, 10_000.0 + 1200.0 * (t - S) / DAY)
    prove_meters(conn)
    compute_day(conn, FIELD, DAY_D)
    ctx = context(tmp_path)
    generate(conn, ctx)
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (False,)
    load(conn, injection_site(), effective_from=_at(S - DAY))
    result = compute_day(conn, FIELD, DAY_D)
    assert result.wells is not None and result.wells.changed and result.needs_amendment
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (True,)
    draft = amendments.draft(conn, field_code=FIELD, day=DAY_D, context=ctx)
    water = [(c.figure, c.old, c.new) for c in draft.changes if c.target == "water"]
    assert water == [
        ("balances/closes", False, True),
        ("balances/residual", D("2000.00"), D("0.00")),
        ("balances/terms/1/name", "injection", "injection:INJ-1"),
        ("balances/terms/1/volume", 0, D("1200.00")),
        ("balances/terms/2", None, {"name": "injection:INJ-2", "volume": D("800.00")}),
    ]


def test_late_readings_of_an_injection_meter_recompute_the_day(conn: Conn) -> None:
    """INJ-2's readings arrive after the day was computed without them (residual 800.00, open):
    the stale-day sweep recomputes it, and the balance closes (residual 0.00)."""
    ids = load(conn, injection_site())
    water_day(conn, ids, inj2=False)
    balance, _, _ = water_balance(conn)
    assert (D(balance["residual"]), balance["closes"]) == (D("800.00"), False)
    assert recompute_stale(conn) == []
    t = grid()
    write(conn, ids["INJ-2.water_total"], t, 20_000.0 + 800.0 * (t - S) / (E - S))
    (result,) = recompute_stale(conn)
    assert (result.day.day, result.changed) == (DAY_D, ())  # no PMO figure moved
    assert result.wells is not None and result.wells.changed
    field_id = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()
    assert field_id is not None
    stored = well_records.load_allocation_day(conn, field_id[0], DAY_D)
    assert stored is not None
    water = next(b for b in stored["totals"]["balances"] if b["fluid"] == "water")
    assert (D(water["residual"]), water["closes"]) == (D("0.00"), True)
