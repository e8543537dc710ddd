"""Configuration is date-effective: a day is always computed with the values in force on it.

Over the demo field's seven days of history: recomputing with unchanged data reproduces every
stored figure exactly; a proving (a new meter factor) applies from its effective date only, and
a signed day it changes is flagged for an amendment, never changed silently; a new contract hour
moves the window of the day it starts on, and of the day before, without losing an instant.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import psycopg

from anh_reporter.config import Settings
from anh_reporter.production import store
from anh_reporter.production.config import load_field
from anh_reporter.production.daily import compute_day
from anh_reporter.production.provings import record_proving
from anh_reporter.reports import service
from anh_reporter.simulator.backfill import backfill
from anh_reporter.site import load_site
from anh_reporter.storage.site_repo import load_site_into

from ..conftest import EXAMPLE_SITE

Conn = psycopg.Connection[Any]
FIELD = "CAMPO-DEMO-LLANOS"
END = dt.datetime(2026, 3, 8, 11, tzinfo=dt.UTC)  # 06:00 Bogota on 8 Mar
DAYS = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(7)]  # 1..7 Mar


def _demo(conn: Conn) -> None:
    site = load_site(EXAMPLE_SITE)
    load_site_into(conn, site, changed_by="t", reason="demo")
    conn.commit()
    backfill(conn, site, end=END, days=7, seed=42)


def _digests(conn: Conn) -> dict[tuple[dt.date, str], str]:
    field_id = load_field(conn, FIELD).id
    return {
        (day, d.pmo.code): d.figures.digest()
        for day in DAYS
        for d in store.load_day(conn, field_id, day)
    }


def test_recomputing_after_a_new_factor_changes_only_the_days_it_applies_to(
    conn: Conn, tmp_path: Any
) -> None:
    _demo(conn)
    for day in DAYS:
        compute_day(conn, FIELD, day)
    before = _digests(conn)
    lact_before = {
        day: next(d.figures for d in store.load_day(conn, load_field(conn, FIELD).id, day)
                  if d.pmo.code == "PMO-LACT-01")
        for day in DAYS
    }  # fmt: skip

    # The demo field's report of 5 Mar is signed before the proving.
    ctx = service.Context.from_settings(Settings(data_dir=tmp_path))
    signed = service.generate(
        conn, field_code=FIELD, day=DAYS[4], context=ctx, created_by="t",
        now=END + dt.timedelta(days=1),
    )  # fmt: skip
    assert signed.created

    # A new factor effective from today (after the seven days): nothing recomputed changes.
    record_proving(
        conn, field_code=FIELD, pmo_code="PMO-LACT-01", meter_factor="1.0050",
        proved_at=END, run_reference="PR-today", proved_by="metrology", recorded_by="t",
    )  # fmt: skip
    assert all(not compute_day(conn, FIELD, day).changed for day in DAYS)
    assert _digests(conn) == before

    # A proving effective from the start of 4 Mar (06:00 Bogota): 4-7 Mar change, 1-3 Mar not.
    start_4 = dt.datetime(2026, 3, 4, 11, tzinfo=dt.UTC)
    result = record_proving(
        conn, field_code=FIELD, pmo_code="PMO-LACT-01", meter_factor="1.0030",
        proved_at=start_4, run_reference="PR-4mar", proved_by="metrology", recorded_by="t",
    )  # fmt: skip
    changed = {r.day.day for r in result.recomputed if r.changed}
    assert changed == set(DAYS[3:])
    after = _digests(conn)
    for (day, pmo), digest in before.items():
        moved = pmo == "PMO-LACT-01" and day >= DAYS[3]
        assert (after[(day, pmo)] != digest) == moved, (day, pmo)
    # The signed day is flagged, not changed: its version 1 stays the only signed one.
    assert result.amendments == (DAYS[4],)
    versions = conn.execute("SELECT count(*) FROM report_versions WHERE chain_seq IS NOT NULL")
    assert versions.fetchone() == (1,)
    field_id = load_field(conn, FIELD).id
    day5 = next(d for d in store.load_day(conn, field_id, DAYS[4]) if d.pmo.code == "PMO-LACT-01")
    assert day5.needs_amendment
    # The factor applied is the one in force on each day: 1.0008 before 4 Mar, 1.0030 from it.
    assert day5.figures.meter_factor == Decimal("1.0030")
    assert lact_before[DAYS[4]].meter_factor == Decimal("1.0008")
    day3 = next(d for d in store.load_day(conn, field_id, DAYS[2]) if d.pmo.code == "PMO-LACT-01")
    assert day3.figures.meter_factor == Decimal("1.0008")


def test_a_new_contract_hour_moves_the_windows_without_a_gap(conn: Conn) -> None:
    _demo(conn)
    site = load_site(EXAMPLE_SITE)
    data = site.model_dump()
    data["fields"][0]["contract_day_start_hour"] = 0
    changed = type(site).model_validate(data)
    # From 5 Mar (local midnight) the contract day starts at 00:00 Bogota.
    load_site_into(
        conn, changed, changed_by="t", reason="new contract hour",
        effective_from=dt.datetime(2026, 3, 5, 5, tzinfo=dt.UTC),
    )  # fmt: skip
    conn.commit()
    day4 = load_field(conn, FIELD, day=DAYS[3]).window
    day5 = load_field(conn, FIELD, day=DAYS[4]).window
    day3 = load_field(conn, FIELD, day=DAYS[2]).window
    assert day3 is not None and day4 is not None and day5 is not None
    # 3 Mar: 06:00 → 06:00 (24 h). 4 Mar: 06:00 on 4 Mar → 00:00 on 5 Mar (18 h), where 5 Mar
    # now starts: consecutive windows meet.
    assert day3.hours == 24.0 and day4.hours == 18.0 and day5.hours == 24.0
    assert day4.end == day5.start == dt.datetime(2026, 3, 5, 5, tzinfo=dt.UTC)
    assert day3.end == day4.start
