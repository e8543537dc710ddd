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

import numpy as np
import psycopg

from anh_reporter.allocation.findings import Severity
from anh_reporter.production.config import SeriesInfo, load_field
from anh_reporter.production.contract_day import contract_day
from anh_reporter.production.daily import compute_day, recompute_stale
from anh_reporter.production.injection_days import MeterLimits, injection_day, meter_day
from anh_reporter.production.inputs import DEFAULT_SETTINGS
from anh_reporter.reports import amendments
from anh_reporter.site import Site
from anh_reporter.storage import well_records
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into

from ..reports.helpers import context, generate
from .helpers import (
    DAY,
    DAY_D,
    FIELD,
    US,
    E,
    S,
    _series,
    grid,
    oil_and_gas_day,
    prove_meters,
    write,
)
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


def _drop(conn: Conn, series_id: int, start_us: int, end_us: int) -> None:
    """Delete the readings of ``series_id`` in ``[start_us, end_us)``."""
    conn.execute(
        "DELETE FROM telemetry WHERE series_id = %s AND time >= %s AND time < %s",
        (series_id, _at(start_us), _at(end_us)),
    )
    conn.commit()


def test_a_short_gap_in_an_injection_meter_is_said(conn: Conn) -> None:
    """INJ-1 has no reading from 06:00 to 07:00 into the day (readings 36 to 41 missing): the
    gap runs from reading 35 (05:50) to reading 42 (07:00), 7 × 600 = 4,200 s (beyond the
    tolerance 6 × 600 = 3,600 s), estimated on the straight line between them: 1,200 × 4,200 /
    86,400 = 58.333… → 58.33 bbl of the 1,200.00 counted, 58.33 / 1,200.00 = 4.86 % estimated,
    within the 5 % limit. The day is whole: the balance closes; an info finding says so."""
    ids = load(conn, injection_site())
    water_day(conn, ids)
    _drop(conn, ids["INJ-1.water_rate"], S + 36 * 600 * US, S + 42 * 600 * US)
    balance, findings, totals = water_balance(conn)
    assert balance["closes"] is True and D(balance["residual"]) == D("0.00")
    (gap,) = about(findings, "injection_meter_gap")
    assert (gap["severity"], gap["target"]) == ("info", "INJ-1")
    assert gap["message"] == (
        f"well 'INJ-1': injection meter '{INJ1}': no usable reading for 4200 s of the day "
        "(longest gap 4200 s); 58.33 bbl of the 1200.00 bbl counted estimated "
        "(rate_interpolation)"
    )
    inj1 = totals["injection_wells"][0]
    assert (inj1["estimated"], inj1["complete"]) == ("58.33", True)


def test_a_mostly_estimated_meter_day_leaves_the_balance_open(conn: Conn) -> None:
    """INJ-1 has no reading from 06:00 to 12:10 into the day (readings 36 to 71 missing): the
    gap runs from reading 35 (05:50) to reading 72 (12:00), 37 × 600 = 22,200 s, estimated on
    the straight line: 1,200 × 22,200 / 86,400 = 308.333… → 308.33 bbl of the 1,200.00
    counted, 308.33 / 1,200.00 = 25.69 % estimated, above the 5 % a PMO's day may hold without
    a person's approval (IDP028). The volume stays counted (residual 0.00) but the day is not
    whole: the balance cannot close."""
    ids = load(conn, injection_site())
    water_day(conn, ids)
    _drop(conn, ids["INJ-1.water_rate"], S + 36 * 600 * US, S + 72 * 600 * US)
    balance, findings, totals = water_balance(conn)
    assert (D(balance["residual"]), balance["closes"]) == (D("0.00"), False)
    (gap,) = about(findings, "injection_meter_gap")
    assert (gap["severity"], gap["target"]) == ("warning", "INJ-1")
    assert gap["message"] == (
        f"well 'INJ-1': injection meter '{INJ1}': no usable reading for 22200 s of the day "
        "(longest gap 22200 s); 308.33 bbl of the 1200.00 bbl counted estimated "
        "(rate_interpolation); 25.69 % of the volume is estimated, above the 5 % limit "
        "(reports.estimate_approval_pct): the day is not taken as metered"
    )
    (open_,) = about(findings, "balance_not_closed")
    assert "injection meter of well(s) INJ-1 left part of the day" in open_["message"]
    assert totals["injection_wells"][0] == {
        "well": "INJ-1", "series": INJ1, "method": "rate_integration", "volume": "1200.00",
        "estimated": "308.33", "missing_s": 0, "complete": False,
    }  # fmt: skip


def test_a_day_before_the_meter_s_first_reading_is_not_counted(conn: Conn) -> None:
    """INJ-1's first reading comes almost a day after the day ends (E + 23 h 50 min): none
    inside the day. Its last good rate held back over the day would be 1,200 × 86,400 / 86,400
    = 1,200.00 bbl, all estimated from a reading outside the day: not counted (0.00 bbl), the
    whole 86,400 s missing, the well incomplete (warning). Residual 5,000.00 − (3,000.00 + 0.00
    + 800.00) = 1,200.00; the balance cannot close."""
    ids = load(conn, injection_site())
    water_day(conn, ids)
    _drop(conn, ids["INJ-1.water_rate"], S - DAY, E + 1)
    write(conn, ids["INJ-1.water_rate"], grid(E + DAY, E + 2 * DAY), 1200.0)
    balance, findings, totals = water_balance(conn)
    assert (D(balance["residual"]), balance["closes"]) == (D("1200.00"), False)
    (gap,) = about(findings, "injection_meter_gap")
    assert (gap["severity"], gap["target"]) == ("warning", "INJ-1")
    assert gap["message"] == (
        f"well 'INJ-1': injection meter '{INJ1}': no good reading inside the day; the 1200.00 "
        "bbl estimated from readings outside it (last_good_rate) are not counted: the well's "
        "injection is unknown (0.00 bbl)"
    )
    (open_,) = about(findings, "balance_not_closed")
    assert open_["message"].endswith("(INJ-1 0.00, INJ-2 800.00) 1200.00 bbl")
    assert totals["injection_wells"][0] == {
        "well": "INJ-1", "series": INJ1, "method": "rate_integration", "volume": "0.00",
        "estimated": "0.00", "missing_s": 86400, "complete": False,
    }  # fmt: skip


def test_a_meter_that_stops_after_six_hours_leaves_the_balance_open(conn: Conn) -> None:
    """INJ-1 reads until 06:00 into the day (reading 36), then nothing: measured 1,200 × 21,600
    / 86,400 = 300.00 bbl; the last good rate held over the 64,800 s left, 1,200 × 64,800 /
    86,400 = 900.00 bbl estimated; counted 1,200.00, of which 900.00 / 1,200.00 = 75.00 %
    estimated, above the 5 % limit: the well is incomplete (warning) and the balance, though
    its residual is 5,000.00 − (3,000.00 + 1,200.00 + 800.00) = 0.00, cannot close."""
    ids = load(conn, injection_site())
    water_day(conn, ids)
    _drop(conn, ids["INJ-1.water_rate"], S + 37 * 600 * US, E + DAY)
    balance, findings, totals = water_balance(conn)
    assert (D(balance["residual"]), balance["closes"]) == (D("0.00"), False)
    (gap,) = about(findings, "injection_meter_gap")
    assert (gap["severity"], gap["target"]) == ("warning", "INJ-1")
    assert gap["message"] == (
        f"well 'INJ-1': injection meter '{INJ1}': no usable reading for 64800 s of the day "
        "(longest gap 64800 s); 900.00 bbl of the 1200.00 bbl counted estimated "
        "(last_good_rate); 75.00 % of the volume is estimated, above the 5 % limit "
        "(reports.estimate_approval_pct): the day is not taken as metered"
    )
    assert about(findings, "balance_not_closed")
    assert totals["injection_wells"][0]["complete"] is False


def test_a_day_in_progress_counts_only_its_part_until_now(conn: Conn) -> None:
    """Now is 12:00 into the day (S + 43,200 s) and the meters read until then: INJ-1 1,200 ×
    43,200 / 86,400 = 600.00 bbl, INJ-2 20,400.00 − 20,000.00 = 400.00 bbl, both measured; the
    43,200 s still ahead are not counted and leave both wells incomplete (warning)."""
    ids = load(conn, injection_site())
    t = grid(S, S + DAY // 2)
    write(conn, ids["INJ-1.water_rate"], t, 1200.0)
    write(conn, ids["INJ-2.water_total"], t, 20_000.0 + 800.0 * (t - S) / (E - S))
    config = load_field(conn, FIELD, day=DAY_D)
    wells = well_records.load_topology_rows(conn, config.id).wells
    day = injection_day(
        conn, config.id, wells, config.day(DAY_D), DEFAULT_SETTINGS, now=_at(S + DAY // 2)
    )
    assert dict(day.metered.wells) == {"INJ-1": D("600.00"), "INJ-2": D("400.00")}
    assert day.metered.incomplete == ("INJ-1", "INJ-2")
    assert [(d["volume"], d["missing_s"], d["complete"]) for d in day.details] == [
        ("600.00", 43200, False), ("400.00", 43200, False),
    ]  # fmt: skip
    first = day.metered.findings[0]
    assert (first.severity, first.message) == (
        Severity.WARNING,
        f"well 'INJ-1': injection meter '{INJ1}': the day is in progress: its 43200 s after "
        "now (2026-02-02T23:00:00Z) are not counted in the 600.00 bbl",
    )


def test_a_daily_reading_just_outside_the_day_still_meters_it() -> None:
    """A meter read once a day (sampling period 86,400 s, tolerance 6 × 86,400 s), its readings
    1 s before the day and 1 s after it: none inside, but the 86,402 s between them are within
    the tolerance, so the day is covered and its volume measured: 1,200 bbl/d held, 1,200 ×
    86,400 / 86,400 = 1,200.00 bbl, nothing estimated, whole (no finding)."""
    info = SeriesInfo(1, INJ1, "water_rate", "bbl/d", 86_400.0)
    rows = (
        np.array([S - US, E + US], np.int64),
        np.array([1200.0, 1200.0]),
        np.zeros(2, np.int32),
    )
    window = contract_day(DAY_D, timezone="America/Bogota", start_hour=6)
    limits = MeterLimits(E + DAY, D(5))
    day = meter_day("INJ-1", INJ1, info, rows, window, DEFAULT_SETTINGS, limits)
    assert (day.volume, day.complete, day.finding) == (D("1200.00"), True, None)


def test_a_day_not_started_has_no_volume() -> None:
    """Now is 1 s before the day starts: nothing of it can be metered yet; 0.00 bbl, the whole
    86,400 s missing, incomplete (warning)."""
    info = SeriesInfo(1, INJ1, "water_rate", "bbl/d", 600.0)
    window = contract_day(DAY_D, timezone="America/Bogota", start_hour=6)
    day = meter_day("INJ-1", INJ1, info, None, window, DEFAULT_SETTINGS, MeterLimits(S - US, D(5)))
    assert (day.volume, day.complete, day.details["missing_s"]) == (D("0.00"), False, 86400)
    assert day.finding is not None and day.finding.message == (
        f"well 'INJ-1': injection meter '{INJ1}' has nothing to measure yet: the day starts after "
        "now (2026-02-02T10:59:59Z): the well's injection is unknown (0.00 bbl)"
    )


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
        "without a volume or with too much of it estimated (see injection_meter_gap); residual "
        "with what the wells counted (INJ-1 1200.00, INJ-2 0.00) 800.00 bbl"
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
    oil_and_gas_day(conn, ids)  # a signable day
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
        # The terms by name: the PMOs' injection total (0) gives way to the two wells'.
        ("balances/terms/injection", 0, None),
        ("balances/terms/injection:INJ-1", None, D("1200.00")),
        ("balances/terms/injection:INJ-2", None, D("800.00")),
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
