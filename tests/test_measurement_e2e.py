"""The field faults of a real week, through the command line as a user runs it.

A site with three PMOs and a CSV of readings with one fault each, loaded with ``site load`` and
``ingest``, computed with ``production compute`` for two contract days (06:00 to 06:00,
America/Bogota = 11:00 to 11:00 UTC):

* PMO-LACT (oil totalizer, 8,000 bbl/d): one stale re-read 0.05 bbl below the previous reading.
  The day stays at its true 8,000.00 bbl (no reset, no lost volume).
* PMO-TK (oil totalizer, 24,000 bbl/d): no readings from 05:00 to 07:00 local on the second
  morning, across the contract hour. The counter difference across the outage (2,000 bbl) is
  split between the two days; day 1 + day 2 equals the counter difference exactly.
* PMO-AGUA (water rate, 24,000 bbl/d): no samples for 14 h on day 1. The day's figure is the
  full 24,000 bbl with 14,000 bbl (58.3 %) estimated; signing is blocked until a person approves
  the estimate.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from anh_reporter.production import store
from anh_reporter.production.config import load_field
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database

from .conftest import ROOT

D1 = dt.date(2026, 3, 2)
START = dt.datetime(2026, 3, 2, 11, tzinfo=dt.UTC)  # 06:00 Bogota
STEP = dt.timedelta(minutes=10)

SITE = """
operator: {name: Operadora E2E, nit: "900000009-1"}
fields:
  - code: CAMPO-E2E
    name: Campo de prueba de extremo a extremo
    contract: E2E-1
    municipality_dane: "50568"
    pmos:
      - code: PMO-LACT
        name: LACT
        kind: oil
        meter: {type: coriolis, meter_factor: 1.0}
        series:
          - {variable: oil_total, unit: bbl, range: [0, 9999999.99], sampling_period_s: 600,
             commissioned: 2025-01-01, rollover: 10000000, resolution: 0.01}
          - {variable: meter_temperature, unit: degF, range: [0, 300], sampling_period_s: 600,
             commissioned: 2025-01-01}
          - {variable: meter_pressure, unit: psig, range: [0, 1500], sampling_period_s: 600,
             commissioned: 2025-01-01}
          - {variable: bsw, unit: "%", range: [0, 100], sampling_period_s: 600,
             commissioned: 2025-01-01}
          - {variable: api_gravity, unit: degAPI, range: [5, 60], sampling_period_s: 600,
             commissioned: 2025-01-01, basis: base}
      - code: PMO-TK
        name: Transfer meter
        kind: oil
        meter: {type: coriolis, meter_factor: 1.0}
        series:
          - {variable: oil_total, unit: bbl, range: [0, 9999999.99], sampling_period_s: 600,
             commissioned: 2025-01-01, rollover: 10000000, resolution: 0.01}
          - {variable: meter_temperature, unit: degF, range: [0, 300], sampling_period_s: 600,
             commissioned: 2025-01-01}
          - {variable: meter_pressure, unit: psig, range: [0, 1500], sampling_period_s: 600,
             commissioned: 2025-01-01}
          - {variable: bsw, unit: "%", range: [0, 100], sampling_period_s: 600,
             commissioned: 2025-01-01}
          - {variable: api_gravity, unit: degAPI, range: [5, 60], sampling_period_s: 600,
             commissioned: 2025-01-01, basis: base}
      - code: PMO-AGUA
        name: Agua de producción
        kind: water
        meter: {type: turbine, has_totalizer: false, meter_factor: 1.0}
        series:
          - {variable: water_rate, unit: bbl/d, range: [0, 100000], sampling_period_s: 600,
             commissioned: 2025-01-01}
          - {variable: meter_temperature, unit: degF, range: [0, 300], sampling_period_s: 600,
             commissioned: 2025-01-01}
"""


def _readings() -> str:
    lines = ["time,series,value"]
    n = (2 * 24 * 6) + 2
    for k in range(-1, n):
        t = START + k * STEP
        stamp = t.isoformat().replace("+00:00", "Z")
        days = (t - START).total_seconds() / 86_400
        lact = round(1_000_000 + 8_000 * days, 2)
        if k == 50:  # a stale re-read: 0.05 below the previous reading
            lact = round(1_000_000 + 8_000 * (49 / 144) - 0.05, 2)
        lines.append(f"{stamp},CAMPO-E2E.PMO-LACT.oil_total,{lact:.2f}")
        # 05:00-07:00 local on the second morning (10:00-12:00 UTC on 3 Mar): no readings.
        outage = (
            dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC)
            < t
            < dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC)
        )
        if not outage:
            lines.append(f"{stamp},CAMPO-E2E.PMO-TK.oil_total,{2_000_000 + 24_000 * days:.2f}")
        # Day 1, 14 h without water samples: from 08:00 to 22:00 local (13:00 to 03:00 UTC).
        water_gap = (
            dt.datetime(2026, 3, 2, 13, tzinfo=dt.UTC)
            < t
            < dt.datetime(2026, 3, 3, 3, tzinfo=dt.UTC)
        )
        if not water_gap:
            lines.append(f"{stamp},CAMPO-E2E.PMO-AGUA.water_rate,24000")
        # Custody conditions at base: 60 °F, 0 psig, API 30.0 at 60 °F, no BSW.
        for pmo in ("PMO-LACT", "PMO-TK"):
            for variable, value in (("meter_temperature", 60), ("meter_pressure", 0),
                                    ("bsw", 0), ("api_gravity", 30)):  # fmt: skip
                lines.append(f"{stamp},CAMPO-E2E.{pmo}.{variable},{value}")
        lines.append(f"{stamp},CAMPO-E2E.PMO-AGUA.meter_temperature,60")
    return "\n".join(lines) + "\n"


def run(*args: str, url: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANH_")}
    env.update(ANH_DATABASE_URL=url, ANH_DATA_DIR=str(data), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "anh_reporter", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_field_faults_through_the_command_line(empty_db: Database, tmp_path: Path) -> None:
    migrate.upgrade(empty_db)
    site, csv = tmp_path / "site.yaml", tmp_path / "readings.csv"
    site.write_text(SITE)
    csv.write_text(_readings())
    url, data = empty_db.url, tmp_path / "data"

    for args in (
        ("site", "load", str(site)),
        ("ingest", str(csv)),
        ("production", "compute", "--field", "CAMPO-E2E", "--day", "2026-03-02",
         "--to", "2026-03-03"),
    ):  # fmt: skip
        done = run(*args, url=url, data=data)
        assert done.returncode == 0, done.stderr

    with empty_db.connect() as conn:
        field_id = load_field(conn, "CAMPO-E2E").id
        days = [
            {d.pmo.code: d.figures for d in store.load_day(conn, field_id, day)}
            for day in (D1, D1 + dt.timedelta(days=1))
        ]
    lact = days[0]["PMO-LACT"]
    # The stale re-read neither adds nor removes volume: 8,000.00 bbl, no reset.
    assert lact.indicated_volume == Decimal("8000.00")
    assert (lact.resets, lact.backsteps, lact.estimated_volume) == (0, 1, Decimal("0"))

    # Counter across both days: 2,000,000 → 2,048,000. The outage from 10:00 to 12:00 UTC
    # straddles the day boundary at 11:00: 1,000 bbl to each side (by time), estimated.
    tk1, tk2 = days[0]["PMO-TK"], days[1]["PMO-TK"]
    assert tk1.indicated_volume is not None and tk2.indicated_volume is not None
    assert tk1.indicated_volume + tk2.indicated_volume == Decimal("48000.00")
    assert [e.method for e in tk1.estimates] == ["counter_difference_across_gap"]
    assert [e.method for e in tk2.estimates] == ["counter_difference_across_gap"]
    assert tk1.indicated_volume == Decimal("24000.00")

    # Water: 14 h of 24 h without samples; the full day, 14,000 bbl of it estimated.
    water = days[0]["PMO-AGUA"]
    assert water.indicated_volume == Decimal("24000.00")
    assert water.estimated_volume is not None
    assert round(water.estimated_volume, 2) == Decimal("14000.00")
    assert water.estimated_share_pct == pytest.approx(100 * 14 / 24, abs=1e-3)

    show = run("production", "show", "--field", "CAMPO-E2E", "--day", "2026-03-02", url=url,
               data=data)  # fmt: skip
    assert show.returncode == 0 and "rate_interpolation" in show.stdout
    assert "uncertainty ±" in show.stdout

    blocked = run("report", "generate", "--field", "CAMPO-E2E", "--day", "2026-03-02", url=url,
                  data=data)  # fmt: skip
    assert blocked.returncode == 1
    assert "IDP028" in blocked.stdout + blocked.stderr

    approved = run("production", "approve-estimate", "--field", "CAMPO-E2E", "--day",
                   "2026-03-02", "--pmo", "PMO-AGUA", "--reason", "transmitter off, steady flow",
                   "--by", "ana", url=url, data=data)  # fmt: skip
    assert approved.returncode == 0, approved.stderr
    signed = run("report", "generate", "--field", "CAMPO-E2E", "--day", "2026-03-02", url=url,
                 data=data)  # fmt: skip
    assert signed.returncode == 0, signed.stderr + signed.stdout
    assert "v1 signed" in signed.stdout
