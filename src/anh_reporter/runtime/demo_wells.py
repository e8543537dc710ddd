"""The demo's wells: well tests of various ages and one downtime, then the allocation table.

The demo field's wells are tested (once: a second run finds the tests and leaves them) at rates
that share yesterday's measured volumes (the pumps run about 22 h a day, so a well's test rate
is its share × 24 / 22), dated 2 to 97 days before the day, so the oldest test is expired (the
validity window is 90 days) and flagged, each after a previous test 30 days earlier (so that
every day of the history has a test in force); each test is a few % off its share, as real tests
are; each test notes the pump's speed (the virtual meter calibrates on it when the telemetry
does not reach back to the test). The third well was down 4 h yesterday for an artificial-lift
failure (its 18 h on typed by hand), which defers part of its production. Each PMO's meter is
proved (once) ten days before the day at its site-file factor, so the report carries a proving
in force (IDP022).

Downstream of the battery's production PMOs the demo field has a LACT (sales), fuel and flare
gas meters and a water-disposal meter, simulated with the production meters' decline and
conditions: the printed oil, gas and water balances close.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from anh_reporter.production.config import load_field
from anh_reporter.production.contract_day import last_complete_day
from anh_reporter.production.daily import compute_day
from anh_reporter.production.manual import add_entry
from anh_reporter.production.provings import list_provings, record_proving
from anh_reporter.production.store import load_day
from anh_reporter.production.well_days import reported_volume
from anh_reporter.production.well_entries import WellEntryError, add_downtime, add_well_test
from anh_reporter.production.wells_cli import allocation_table
from anh_reporter.site import FieldSite, Well
from anh_reporter.site_virtual_meter import LIFT_SPEED_SERIES
from anh_reporter.storage import well_records
from anh_reporter.storage.database import Database
from anh_reporter.terminal import console

SHARES = (Decimal("0.33"), Decimal("0.31"), Decimal("0.015"), Decimal("0.012"), Decimal("0.318"))
"""Each well's share of the day (the last well takes the rest, 1.5 %): the ESPs lift the bulk of
the field's ~200,000 bbl/d of liquid, the rod pumps and the PCP what such pumps can (a few
thousand bbl/d), so each virtual meter calibrates at a plausible volumetric efficiency."""
AGES_DAYS = (2, 9, 23, 41, 67, 97)
HOURS_ON = Decimal(22)
BIAS = {
    "oil": (Decimal("1.04"), Decimal("0.97"), Decimal("1.06"), Decimal("0.95"), Decimal("1.02"),
            Decimal("1.08")),
    "gas": (Decimal("0.93"), Decimal("1.05"), Decimal("1.10"), Decimal("0.98"), Decimal("1.01"),
            Decimal("0.90")),
    "water": (Decimal("1.10"), Decimal("0.92"), Decimal("1.00"), Decimal("1.07"), Decimal("0.95"),
              Decimal("1.03")),
}  # fmt: skip
"""Each test is off its share of the day by a few %: tests are never exact, so factors ≠ 1."""
DOWN_H = Decimal(4)
PREVIOUS_TEST_DAYS = 30
PREVIOUS_TEST_FACTOR = Decimal("1.02")


def _shares(n: int) -> list[Decimal]:
    head = list(SHARES[: max(n - 1, 0)])
    return [*head, Decimal(1) - sum(head, Decimal(0))] if n else []


def seed_wells(db: Database, field: FieldSite, now: dt.datetime | None = None) -> dt.date | None:
    """Test the demo wells and log a downtime for yesterday; the day (None: nothing to do)."""
    if not field.facilities or not field.wells:
        return None
    now = now or dt.datetime.now(dt.UTC)
    with db.connect() as conn:
        config = load_field(conn, field.code)
        day = last_complete_day(now, timezone=config.timezone, start_hour=config.start_hour)
        if well_records.well_tests_of_field(conn, config.id):
            return day.day
        if not list_provings(conn, field_code=field.code):
            for pmo in config.pmos:
                record_proving(
                    conn, field_code=field.code, pmo_code=pmo.code, meter_factor=pmo.meter_factor,
                    proved_at=day.start - dt.timedelta(days=10), run_reference=f"PR-{pmo.code}",
                    proved_by="Metrología (demo)", recorded_by="demo", recompute=False,
                )  # fmt: skip
        compute_day(conn, field.code, day.day)
        measured: dict[str, Decimal] = {"oil": Decimal(0), "gas": Decimal(0), "water": Decimal(0)}
        production = {p.code for p in field.pmos if p.role == "production"}
        for stored in load_day(conn, config.id, day.day):
            volume = reported_volume(stored.figures)
            if volume is not None and stored.pmo.code in production:  # not the dispositions
                measured[stored.figures.fluid] += volume
        nominal = _nominal(field)
        rates = {f: measured[f] if measured[f] > 0 else nominal[f] for f in measured}
        cent = Decimal("0.01")
        shares = _shares(len(field.wells))
        for i, (well, age) in enumerate(zip(field.wells, AGES_DAYS, strict=False)):
            rate = {
                f: (v * shares[i] * BIAS[f][i % 6] * 24 / HOURS_ON).quantize(cent, ROUND_HALF_UP)
                for f, v in rates.items()
            }
            # Its previous test, a month earlier at a little more (the decline): every day of
            # the demo's history has a test in force, the latest one for the day before.
            for days, factor in ((age + PREVIOUS_TEST_DAYS, PREVIOUS_TEST_FACTOR), (age, 1)):
                add_well_test(
                    conn, field_code=field.code, well_code=well.code,
                    tested_on=day.day - dt.timedelta(days=days), duration_h="12",
                    oil_bbl_d=(rate["oil"] * factor).quantize(cent, ROUND_HALF_UP),
                    gas_kscf_d=(rate["gas"] * factor).quantize(cent, ROUND_HALF_UP),
                    water_bbl_d=(rate["water"] * factor).quantize(cent, ROUND_HALF_UP),
                    tested_by="Ing. de pruebas (demo)", entered_by="demo",
                    pump_speed=_test_speed(well), now=now,
                )  # fmt: skip
        if len(field.wells) >= 3:
            down = field.wells[2].code
            start = day.start + dt.timedelta(hours=2)
            with contextlib.suppress(WellEntryError):  # already logged by an earlier run
                add_downtime(
                    conn, field_code=field.code, well_code=down, start=start,
                    end=start + dt.timedelta(hours=int(DOWN_H)), cause="artificial_lift_failure",
                    entered_by="demo", comment="variador de frecuencia en falla (demo)", now=now,
                )  # fmt: skip
            # The operator's sheet: the pump ran 18 h (its status signal says otherwise). The
            # entry recomputes the day, so the stored allocation (the table the demo prints,
            # the report it signs) counts the 18 h, whether or not the report gets signed.
            add_entry(
                conn, field_code=field.code, day=day.day, kind="well_hours_on",
                value=(HOURS_ON - DOWN_H).quantize(cent), well_code=down, entered_by="demo",
                reason="parte diario: 4 h sin variador",
            )  # fmt: skip
    return day.day


def _test_speed(well: Well) -> Decimal | None:
    """The speed the test sheet notes: the simulated pump's nominal speed (its ``base``)."""
    if well.production_method not in LIFT_SPEED_SERIES:
        return None
    variable = LIFT_SPEED_SERIES[well.production_method][0]
    for s in well.series:
        if s.variable == variable and "base" in s.simulation:
            return Decimal(repr(s.simulation["base"]))
    return None


def _nominal(field: FieldSite) -> dict[str, Decimal]:
    """The simulator's initial rate of each fluid's production PMOs (when nothing was measured)."""
    out = {"oil": Decimal(0), "gas": Decimal(0), "water": Decimal(0)}
    for p in field.pmos:
        if p.role != "production":
            continue
        for s in p.series:
            if s.variable.endswith("_rate") and "qi" in s.simulation:
                out[p.kind] += Decimal(repr(s.simulation["qi"]))
    return out


def print_allocation(db: Database, field_code: str, day: dt.date) -> None:
    """Print the stored allocation of the day (``make demo``)."""
    with db.connect() as conn:
        config = load_field(conn, field_code)
        console.print(allocation_table(conn, config.id, day))
        stored: Any = well_records.load_allocation_day(conn, config.id, day)
    if stored:
        for b in stored["totals"].get("balances", []):
            state = "closes" if b["closes"] else "does not close"
            terms = ", ".join(
                f"{t['name']} {t['volume']}" for t in b["terms"] if Decimal(str(t["volume"]))
            )
            tolerance = Decimal(str(b["tolerance"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
            console.print(
                f"  {b['fluid']} balance: produced {b['produced']} = {terms or 'nothing'} "
                f"+ residual {b['residual']} (tolerance {tolerance}): {state}"
            )
