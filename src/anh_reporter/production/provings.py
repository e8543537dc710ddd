"""Meter provings: a new meter factor, from the day it takes effect, never silently.

A proving (API MPMS 4.8) is a record: when the meter was proved, the factor found, the factor it
replaces, the run data reference and who proved it. Recording one writes the factor to the
configuration log with the instant it takes effect, so every contract day starting from then
uses it and every earlier day keeps its own. Stored days from then on are recomputed: a day
whose report is already signed is not changed — it is flagged as needing an amendment, and the
amendment (with the per-figure changes and the proving as its reason) waits for a person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from anh_reporter.errors import AnhError
from anh_reporter.production.config import load_field
from anh_reporter.production.contract_day import contract_day_of
from anh_reporter.production.daily import ComputeResult, compute_day
from anh_reporter.storage.config_history import values_in_force
from anh_reporter.storage.database import returned

Conn = psycopg.Connection[Any]
FACTOR_RANGE = (Decimal("0.8"), Decimal("1.2"))


class ProvingError(AnhError):
    """A proving that cannot be recorded; the message names the value and the limit."""


@dataclass(frozen=True)
class Proving:
    """A recorded proving of a PMO's meter."""

    id: int
    pmo_code: str
    proved_at: dt.datetime
    effective_from: dt.datetime
    meter_factor: Decimal
    previous_factor: Decimal | None
    run_reference: str
    proved_by: str
    recorded_by: str
    recorded_at: dt.datetime
    notes: str | None

    @property
    def change_pct(self) -> Decimal | None:
        """The factor's change from the previous one, in percent."""
        if self.previous_factor is None or self.previous_factor == 0:
            return None
        return (self.meter_factor / self.previous_factor - 1) * 100


@dataclass(frozen=True)
class ProvingResult:
    """The recorded proving and the stored days it recomputed."""

    proving: Proving
    recomputed: tuple[ComputeResult, ...]
    first_day: dt.date
    """The first contract day the factor applies to: values are read as they were in force
    when a day starts, so a factor effective during a day applies from the next one."""

    @property
    def amendments(self) -> tuple[dt.date, ...]:
        """Signed days whose figures the new factor changes: they need an amendment."""
        return tuple(r.day.day for r in self.recomputed if r.needs_amendment)


def record_proving(
    conn: Conn,
    *,
    field_code: str,
    pmo_code: str,
    meter_factor: Decimal | float | str,
    proved_at: dt.datetime,
    run_reference: str,
    proved_by: str,
    recorded_by: str,
    effective_from: dt.datetime | None = None,
    notes: str | None = None,
    recompute: bool = True,
) -> ProvingResult:
    """Record a proving; its factor applies from ``effective_from`` (default: ``proved_at``)."""
    factor = Decimal(str(meter_factor))
    if not (factor.is_finite() and FACTOR_RANGE[0] < factor < FACTOR_RANGE[1]):
        raise ProvingError(
            f"meter_factor {factor} is outside ({FACTOR_RANGE[0]}, {FACTOR_RANGE[1]}): "
            "check the proving report"
        )
    if proved_at.tzinfo is None or (effective_from and effective_from.tzinfo is None):
        raise ProvingError("proved_at and effective_from need a time zone (an aware time)")
    if not run_reference.strip():
        raise ProvingError("run_reference: name the proving run data (report or file)")
    effective = effective_from or proved_at
    config = load_field(conn, field_code)
    pmo = next((p for p in config.pmos if p.code == pmo_code), None)
    if pmo is None:
        known = ", ".join(p.code for p in config.pmos)
        raise ProvingError(f"PMO {pmo_code!r} is not in field {field_code} (PMOs: {known})")
    entity = ("measurement_point", f"{field_code}.{pmo_code}")
    previous = values_in_force(conn, [entity], effective).get((*entity, "meter_factor"))
    row = returned(
        conn.execute(
            "INSERT INTO provings (pmo_id, proved_at, effective_from, meter_factor, "
            "previous_factor, run_reference, proved_by, recorded_by, notes) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id, recorded_at",
            (pmo.id, proved_at, effective, factor, previous, run_reference.strip(), proved_by,
             recorded_by, notes),
        ).fetchone()
    )  # fmt: skip
    conn.execute(
        "INSERT INTO config_log (changed_by, entity, entity_code, attribute, old_value, "
        "new_value, reason, effective_from) VALUES (%s, %s, %s, 'meter_factor', %s, %s, %s, %s)",
        (recorded_by, *entity, Jsonb(previous), Jsonb(float(factor)),
         f"proving {run_reference.strip()} #{row[0]}", effective),
    )  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    current = values_in_force(conn, [entity], now).get((*entity, "meter_factor"))
    conn.execute(
        "UPDATE measurement_points SET meter_factor = %s, updated_at = now() WHERE id = %s",
        (current, pmo.id),
    )
    conn.commit()
    proving = Proving(
        int(row[0]), pmo_code, proved_at, effective, factor,
        None if previous is None else Decimal(str(previous)), run_reference.strip(), proved_by,
        recorded_by, row[1], notes,
    )  # fmt: skip
    during = contract_day_of(effective, timezone=config.timezone, start_hour=config.start_hour)
    first_day = during.day if during.start == effective else during.day + dt.timedelta(days=1)
    if not recompute:
        return ProvingResult(proving, (), first_day)
    days = [
        d
        for (d,) in conn.execute(
            "SELECT contract_day FROM daily_production WHERE pmo_id = %s AND day_end > %s "
            "ORDER BY contract_day",
            (pmo.id, effective),
        ).fetchall()
    ]
    conn.commit()
    recomputed = tuple(compute_day(conn, field_code, d) for d in days)
    return ProvingResult(proving, recomputed, first_day)


def list_provings(conn: Conn, *, field_code: str, pmo_code: str | None = None) -> list[Proving]:
    """A field's provings (of one PMO when given), newest effective first."""
    rows = conn.execute(
        "SELECT v.id, p.code, v.proved_at, v.effective_from, v.meter_factor, v.previous_factor, "
        "v.run_reference, v.proved_by, v.recorded_by, v.recorded_at, v.notes "
        "FROM provings v JOIN measurement_points p ON p.id = v.pmo_id "
        "JOIN fields f ON f.id = p.field_id "
        "WHERE f.code = %s AND (%s::text IS NULL OR p.code = %s) "
        "ORDER BY v.effective_from DESC, v.id DESC",
        (field_code, pmo_code, pmo_code),
    ).fetchall()
    return [Proving(*r) for r in rows]


def proving_in_force(conn: Conn, pmo_id: int, at: dt.datetime) -> Proving | None:
    """The latest proving of a PMO effective at or before ``at``."""
    row = conn.execute(
        "SELECT v.id, p.code, v.proved_at, v.effective_from, v.meter_factor, v.previous_factor, "
        "v.run_reference, v.proved_by, v.recorded_by, v.recorded_at, v.notes "
        "FROM provings v JOIN measurement_points p ON p.id = v.pmo_id "
        "WHERE v.pmo_id = %s AND v.effective_from <= %s "
        "ORDER BY v.effective_from DESC, v.id DESC LIMIT 1",
        (pmo_id, at),
    ).fetchone()
    return None if row is None else Proving(*row)
