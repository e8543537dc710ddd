"""A field-day allocated to its wells when its figures are computed (hand-worked numbers).

The standard day (helpers.standard_day) gives PMO-OIL 980.78 bbl NSV and PMO-GAS 1,200.00 kscf;
the wells' day is in wells_site.wells_day.

Oil, theoretical = test rate × hours on / 24:
  W-1 400 × 18 / 24 = 300; W-2 500 × 24 / 24 = 500; W-3 360 × 12 / 24 = 180; W-4 no test.
  Σ = 980; factor = 980.78 / 980 = 1.000795918… → 1.00080.
  Exact shares 300.238775…, 500.397959…, 180.143265…; floors 300.23 + 500.39 + 180.14 = 980.76;
  the 2 cents left go to the largest remainders W-1 (0.0088) and W-2 (0.0080):
  W-1 300.24, W-2 500.40, W-3 180.14 (sum 980.78).
Gas: 600 × 18/24 = 450, 500, 500 × 12/24 = 250: Σ 1,200 = measured, factor 1: 450, 500, 250.
Deferred W-3: 12 h down (power failure) × its test / 24: oil 180.00, gas 250.00, water 20.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest

from anh_reporter.production.daily import compute_day
from anh_reporter.production.well_entries import (
    WellEntryError,
    add_downtime,
    add_status_change,
    add_well_test,
    well_test_history,
)
from anh_reporter.storage import well_records

from .helpers import DAY_D, FIELD, US, S
from .wells_site import load_wells_site, wells_day

Conn = psycopg.Connection[object]
D = Decimal


def codes(findings: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(f["code"], f["target"]) for f in findings}


def test_field_day_allocated_by_hand(conn: Conn) -> None:
    wells_day(conn)
    result = compute_day(conn, FIELD, DAY_D)
    assert result.wells is not None
    field_id = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()[0]
    days = well_records.load_well_days(conn, field_id, DAY_D)

    assert {w: (d["oil_bbl"], d["gas_kscf"]) for w, d in days.items()} == {
        "W-1": (D("300.24"), D("450.00")),
        "W-2": (D("500.40"), D("500.00")),
        "W-3": (D("180.14"), D("250.00")),
        "W-4": (None, None),
    }
    w1, w3, w4 = days["W-1"], days["W-3"], days["W-4"]
    # W-1's 18 h come from its pump status; W-2 to W-4 were typed by hand.
    assert (w1["hours_on"], w1["hours_source"]) == (D("18.00"), "telemetry")
    assert (days["W-2"]["hours_on"], days["W-2"]["hours_source"]) == (D("24"), "manual")
    assert w1["factors"] == {"gas": "1.00000", "oil": "1.00080", "water": w1["factors"]["water"]}
    assert (w1["test_date"], w1["test_age_days"], w1["test_state"]) == (
        dt.date(2026, 2, 1), 1, "valid",
    )  # fmt: skip
    assert w1["theoretical_oil_bbl"] == D("300.00")
    assert (w3["test_age_days"], w3["test_state"]) == (124, "expired")
    # W-3 deferred 12 h of its test: 360/2, 500/2, 40/2.
    assert w3["hours_down"] == D("12.00")
    assert (w3["deferred_oil_bbl"], w3["deferred_gas_kscf"], w3["deferred_water_bbl"]) == (
        D("180.00"), D("250.00"), D("20.00"),
    )  # fmt: skip
    assert w3["deferred_causes"][0]["cause"] == "power_failure"
    # GOR of W-1: 450.00 × 1000 / 300.24 = 1,498.8009… → 1498.8 scf/bbl.
    assert w1["gor_scf_bbl"] == D("1498.8")
    # W-4 has no test: not allocated, an error names it; the others took the whole volume.
    assert ("well_without_test", "W-4") in codes(w4["findings"])
    assert ("well_test_expired", "W-3") in codes(w3["findings"])
    # Each fluid's wells add up to the PMO exactly (water too, whatever its GSV is).
    oil = sum((d["oil_bbl"] or D(0) for d in days.values()), D(0))
    water = sum((d["water_bbl"] or D(0) for d in days.values()), D(0))
    alloc = well_records.load_allocation_day(conn, field_id, DAY_D)
    assert alloc is not None
    measured = {(p["pmo"], p["fluid"]): p["measured"] for p in alloc["pmos"]}
    assert oil == D("980.78") == D(measured[("PMO-OIL", "oil")])
    assert water == D(measured[("PMO-WATER", "water")])
    # Computing the day again changes nothing.
    again = compute_day(conn, FIELD, DAY_D)
    assert again.wells is not None and not again.wells.changed


def test_a_status_change_reallocates_the_stored_day(conn: Conn) -> None:
    wells_day(conn)
    compute_day(conn, FIELD, DAY_D)
    before_day = dt.datetime.fromtimestamp(S / US, dt.UTC) - dt.timedelta(hours=1)
    done = add_status_change(
        conn, field_code=FIELD, well_code="W-2", at=before_day, status="shut_in",
        changed_by="test", reason="flowline leak",
    )  # fmt: skip
    assert done.reallocated == (DAY_D,)
    field_id = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()[0]
    days = well_records.load_well_days(conn, field_id, DAY_D)
    assert days["W-2"]["status"] == "shut_in"
    # Its 24 h typed by hand still count (a warning says the status disagrees): same shares.
    assert ("status_conflict", "W-2") in codes(days["W-2"]["findings"])


def test_a_field_without_facilities_has_no_well_days(conn: Conn) -> None:
    from .helpers import load_test_site, standard_day

    ids = load_test_site(conn)
    standard_day(conn, ids)
    assert compute_day(conn, FIELD, DAY_D).wells is None


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"oil_bbl_d": "-1"}, "oil rate -1 bbl/d is negative; it must be >= 0 bbl/d"),
        ({"duration_h": "200"}, "duration 200 h is outside [0, 168] h"),
        ({"well_code": "W-9"}, "well: 'W-9' is not a well of field CAMPO-TEST"),
        ({"oil_bbl_d": "abc"}, "oil_bbl_d: 'abc' is not a number"),
    ],
)
def test_invalid_well_tests_name_field_value_and_limit(conn: Conn, kw: dict, message: str) -> None:
    load_wells_site(conn)
    args = {
        "field_code": FIELD, "well_code": "W-1", "tested_on": DAY_D, "duration_h": "12",
        "oil_bbl_d": "1", "gas_kscf_d": "1", "water_bbl_d": "1", "tested_by": "x",
        "entered_by": "test",
    } | kw  # fmt: skip
    with pytest.raises(WellEntryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        add_well_test(conn, **args)


def test_test_history_and_replacement(conn: Conn) -> None:
    load_wells_site(conn)
    first = add_well_test(
        conn, field_code=FIELD, well_code="W-1", tested_on=DAY_D, duration_h="12",
        oil_bbl_d="100", gas_kscf_d="10", water_bbl_d="5", tested_by="x", entered_by="test",
    )  # fmt: skip
    second = add_well_test(
        conn, field_code=FIELD, well_code="W-1", tested_on=DAY_D, duration_h="12",
        oil_bbl_d="110", gas_kscf_d="10", water_bbl_d="5", tested_by="x", entered_by="test",
        replaces=first.id,
    )  # fmt: skip
    history = well_test_history(conn, field_code=FIELD, well_code="W-1")
    assert [t.id for t in history] == [second.id]
    full = well_test_history(conn, field_code=FIELD, well_code="W-1", include_superseded=True)
    assert [(t.id, t.superseded_by) for t in full] == [(first.id, second.id), (second.id, None)]
    with pytest.raises(WellEntryError, match="already replaced"):
        add_well_test(
            conn, field_code=FIELD, well_code="W-1", tested_on=DAY_D, duration_h="12",
            oil_bbl_d="1", gas_kscf_d="1", water_bbl_d="1", tested_by="x", entered_by="t",
            replaces=first.id,
        )  # fmt: skip


def test_downtime_refuses_unknown_causes_and_overlaps(conn: Conn) -> None:
    load_wells_site(conn)
    start = dt.datetime.fromtimestamp(S / US, dt.UTC)
    kw = {"field_code": FIELD, "well_code": "W-1", "entered_by": "test"}
    with pytest.raises(WellEntryError, match=r"cause: 'aliens' is not on the field's list"):
        add_downtime(conn, start=start, end=start + dt.timedelta(hours=1), cause="aliens", **kw)
    add_downtime(conn, start=start, end=start + dt.timedelta(hours=2), cause="flowline", **kw)
    with pytest.raises(WellEntryError, match=r"overlaps downtime event #\d+ \(flowline"):
        add_downtime(
            conn, start=start + dt.timedelta(hours=1), end=start + dt.timedelta(hours=3),
            cause="other", **kw,
        )  # fmt: skip
    with pytest.raises(WellEntryError, match="has no time zone"):
        add_downtime(conn, start=start.replace(tzinfo=None), end=start, cause="other", **kw)


def test_data_the_allocation_refuses_does_not_stop_the_figures(conn: Conn) -> None:
    wells_day(conn)
    # A chain changed by hand in the database, its configuration log too (a day is allocated
    # with the topology the log says was in force): PMO-GAS downstream of PMO-OIL.
    conn.execute(
        "INSERT INTO measurement_point_upstreams (pmo_id, upstream_id) SELECT g.id, o.id "
        "FROM measurement_points g, measurement_points o "
        "WHERE g.code = 'PMO-GAS' AND o.code = 'PMO-OIL'"
    )
    conn.execute(
        "INSERT INTO config_log (changed_by, entity, entity_code, attribute, new_value, "
        "effective_from) SELECT 'dba', 'measurement_point', %s, 'downstream_of_id', "
        "to_jsonb(id), '2026-01-01' FROM measurement_points WHERE code = 'PMO-OIL'",
        (f"{FIELD}.PMO-GAS",),
    )
    result = compute_day(conn, FIELD, DAY_D)
    assert {f.code for f in result.figures} == {"PMO-OIL", "PMO-GAS", "PMO-WATER"}
    field_id = conn.execute("SELECT id FROM fields WHERE code = %s", (FIELD,)).fetchone()[0]
    alloc = well_records.load_allocation_day(conn, field_id, DAY_D)
    assert alloc is not None
    [finding] = alloc["findings"]
    assert finding["code"] == "allocation_failed"
    assert "is downstream of PMO 'PMO-OIL' (oil)" in finding["message"]
    assert well_records.load_well_days(conn, field_id, DAY_D) == {}
