"""A change in the virtual meters alone flags a signed day, and the amendment lists it.

The day of ``test_virtual_days`` (its docstring works every figure): W-2, the rod pump, stroke
100 in, plunger 2 in, tested at 400 bbl/d liquid at 10 spm: PD(10) = 0.116571 × 100 × 10 × 2² =
466.28 bbl/d, E_v = 400 / 466.28 = **0.8578**; the day at 12 spm gives 40 × 12 = 480.00 bbl.

The stroke was in fact 110 in (corrected with effect from before the day): PD(10) = 0.116571 ×
110 × 10 × 4 = 512.91 bbl/d, E_v = 400 / 512.91 = 0.77986 → **0.7799**. The liquid does not
move (calibrated on the same test: 400 / 10 × 12 = 480.00 bbl), nor does any allocated volume,
so nothing the signed document prints changes; the virtual meter's efficiency does.

Then the field's virtual band is widened from 10 % to 25 % (effective before the day too): the
PMO's comparison says ``band_pct`` 25.0 where the signed day said 10.0.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import psycopg

from anh_reporter.production.daily import compute_day
from anh_reporter.reports import amendments
from anh_reporter.site import Site
from anh_reporter.storage.site_repo import load_site_into

from ..reports.helpers import context, generate
from .helpers import DAY_D, FIELD, prove_meters
from .test_virtual_days import virtual_day, virtual_site

Conn = psycopg.Connection[Any]
BEFORE_THE_DAY = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)


def _site(stroke_in: float, band_pct: float | None = None) -> Site:
    raw = virtual_site(band_pct).model_dump(mode="json", exclude_none=True)
    raw["fields"][0]["wells"][1]["virtual_meter"]["stroke_in"] = stroke_in
    return Site.model_validate(raw)


def test_a_virtual_figure_alone_flags_the_signed_day(conn: Conn, tmp_path: Path) -> None:
    virtual_day(conn)
    prove_meters(conn)
    compute_day(conn, FIELD, DAY_D)
    ctx = context(tmp_path)
    generate(conn, ctx)
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (False,)

    load_site_into(
        conn, _site(110), changed_by="test", reason="stroke was 110 in",
        effective_from=BEFORE_THE_DAY,
    )  # fmt: skip
    result = compute_day(conn, FIELD, DAY_D)
    assert result.changed == ()  # no PMO figure moved
    assert result.wells is not None and result.wells.changed
    assert result.needs_amendment
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (True,)
    draft = amendments.draft(conn, field_code=FIELD, day=DAY_D, context=ctx)
    assert [(c.target, c.figure, c.old, c.new) for c in draft.changes] == [
        ("W-2", "virtual_meter/efficiency", "0.8578", "0.7799")
    ]
    assert not draft.material

    # Recomputing again changes nothing more.
    again = compute_day(conn, FIELD, DAY_D)
    assert again.wells is not None and not again.wells.changed

    # A second change before the amendment: listed from the signed value to the latest.
    load_site_into(
        conn, _site(110, band_pct=25), changed_by="test", reason="wider band",
        effective_from=BEFORE_THE_DAY,
    )  # fmt: skip
    compute_day(conn, FIELD, DAY_D)
    draft = amendments.draft(conn, field_code=FIELD, day=DAY_D, context=ctx)
    assert [(c.target, c.figure, c.old, c.new) for c in draft.changes] == [
        ("PMO-OIL", "virtual_meter/oil/band_pct", "10.0", "25.0"),
        ("W-2", "virtual_meter/efficiency", "0.8578", "0.7799"),
    ]

    # Amended (immaterial: signed at once), the signed amendment carries the changes.
    done = amendments.request(
        conn, field_code=FIELD, day=DAY_D, reason_code="configuration",
        reason="pump geometry and band corrected", requested_by="ana", context=ctx,
    )  # fmt: skip
    assert done.status == "signed" and len(done.changes) == 2
    assert conn.execute("SELECT needs_amendment FROM reports").fetchone() == (False,)
    after = amendments.draft(conn, field_code=FIELD, day=DAY_D, context=ctx)
    assert after.changes == []
