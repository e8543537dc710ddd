"""A person's word on a day: confirming a meter reset, approving an estimate.

A totalizer reset is never assumed: the day cannot be signed until someone with the right
role confirms it (with a reason) or replaces the lost window with a manual entry. An estimate
above the configured share of the day's volume cannot be signed until someone approves it.
An approval names exactly what it approves (the reset's readings; the estimated volume), so a
later recompute that changes it needs a new approval. Approvals are append-only records; who
gave them and why is also in the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb

from anh_reporter.errors import AnhError
from anh_reporter.production import store
from anh_reporter.production.config import load_field
from anh_reporter.storage import audit_log
from anh_reporter.storage.database import returned

Conn = psycopg.Connection[Any]
Kind = Literal["reset_confirmation", "estimate_approval"]
ESTIMATE_DRIFT = Decimal("0.005")
"""An estimate approval still holds while the estimated volume stays within 0.5 % of it."""


class ApprovalError(AnhError):
    """An approval that cannot be given as asked."""


@dataclass(frozen=True)
class Approval:
    """A stored approval of one PMO's day."""

    id: int
    pmo_code: str
    contract_day: dt.date
    kind: Kind
    subject: dict[str, Any]
    reason: str
    decided_by: str
    decided_at: dt.datetime


def approvals_of_day(conn: Conn, field_id: int, day: dt.date) -> list[Approval]:
    """Every approval given for a field's contract day, oldest first."""
    rows = conn.execute(
        "SELECT a.id, p.code, a.contract_day, a.kind, a.subject, a.reason, a.decided_by, "
        "a.decided_at FROM day_approvals a JOIN measurement_points p ON p.id = a.pmo_id "
        "WHERE p.field_id = %s AND a.contract_day = %s ORDER BY a.id",
        (field_id, day),
    ).fetchall()
    return [Approval(*r) for r in rows]


def reset_key(event: dict[str, Any]) -> dict[str, Any]:
    """What identifies a reset: the readings either side of it and their times."""
    return {k: event[k] for k in ("before_us", "after_us", "before_value", "after_value")}


def is_confirmed(event: dict[str, Any], approvals: list[Approval], pmo_code: str) -> bool:
    """True when this reset of ``pmo_code`` was confirmed."""
    key = reset_key(event)
    return any(
        a.kind == "reset_confirmation" and a.pmo_code == pmo_code and a.subject == key
        for a in approvals
    )


def is_estimate_approved(
    estimated: Decimal, approvals: list[Approval], pmo_code: str
) -> Approval | None:
    """The approval that covers an estimated volume (within :data:`ESTIMATE_DRIFT` of it)."""
    for a in reversed(approvals):
        if a.kind != "estimate_approval" or a.pmo_code != pmo_code:
            continue
        approved = Decimal(str(a.subject.get("estimated_volume", "0")))
        if abs(estimated - approved) <= ESTIMATE_DRIFT * max(abs(approved), Decimal(1)):
            return a
    return None


def _figures(conn: Conn, field_code: str, pmo_code: str, day: dt.date) -> tuple[int, int, Any]:
    """(field id, PMO id, stored figures) of a PMO's day."""
    config = load_field(conn, field_code)
    pmo = next((p for p in config.pmos if p.code == pmo_code), None)
    if pmo is None:
        raise ApprovalError(f"PMO {pmo_code!r} is not in field {field_code}")
    stored = {d.pmo.code: d for d in store.load_day(conn, config.id, day)}
    if pmo_code not in stored:
        raise ApprovalError(
            f"{field_code} {pmo_code} {day}: nothing stored; run `production compute` first"
        )
    return config.id, pmo.id, stored[pmo_code].figures


def confirm_reset(
    conn: Conn,
    *,
    field_code: str,
    pmo_code: str,
    day: dt.date,
    reason: str,
    decided_by: str,
    after_us: int | None = None,
) -> list[Approval]:
    """Confirm the day's unconfirmed resets (the one ending at ``after_us`` when given)."""
    if not reason.strip():
        raise ApprovalError("a reset confirmation needs a reason (what happened to the meter)")
    field_id, pmo_id, figures = _figures(conn, field_code, pmo_code, day)
    resets = [e for e in figures.events if e.get("kind") == "reset"]
    if after_us is not None:
        resets = [e for e in resets if int(e["after_us"]) == after_us]
    if not resets:
        raise ApprovalError(f"{field_code} {pmo_code} {day}: no meter reset to confirm")
    given = approvals_of_day(conn, field_id, day)
    resets = [e for e in resets if not is_confirmed(e, given, pmo_code)]
    if not resets:
        raise ApprovalError(f"{field_code} {pmo_code} {day}: the meter reset is already confirmed")
    out = []
    for event in resets:
        out.append(
            _insert(
                conn,
                pmo_id,
                pmo_code,
                day,
                "reset_confirmation",
                reset_key(event),
                reason,
                decided_by,
            )
        )
    conn.commit()
    return out


def approve_estimate(
    conn: Conn, *, field_code: str, pmo_code: str, day: dt.date, reason: str, decided_by: str
) -> Approval:
    """Approve the day's estimated volume as it stands (its methods and windows are recorded)."""
    if not reason.strip():
        raise ApprovalError("an estimate approval needs a reason (why the estimate is right)")
    _, pmo_id, figures = _figures(conn, field_code, pmo_code, day)
    if not figures.estimated_volume:
        raise ApprovalError(f"{field_code} {pmo_code} {day}: no estimated volume to approve")
    subject = {
        "estimated_volume": str(figures.estimated_volume),
        "estimated_share_pct": figures.estimated_share_pct,
        "estimates": [
            {"method": e.method, "start_us": e.start_us, "end_us": e.end_us,
             "volume": str(e.volume)}
            for e in figures.estimates
        ],
    }  # fmt: skip
    approval = _insert(
        conn, pmo_id, pmo_code, day, "estimate_approval", subject, reason, decided_by
    )
    conn.commit()
    return approval


def _insert(
    conn: Conn,
    pmo_id: int,
    pmo_code: str,
    day: dt.date,
    kind: Kind,
    subject: dict[str, Any],
    reason: str,
    decided_by: str,
) -> Approval:
    row = returned(
        conn.execute(
            "INSERT INTO day_approvals (pmo_id, contract_day, kind, subject, reason, decided_by) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id, decided_at",
            (pmo_id, day, kind, Jsonb(subject), reason.strip(), decided_by),
        ).fetchone()
    )
    audit_log.record(
        conn,
        actor=decided_by,
        action=f"production.{kind}",
        target=f"{pmo_code}/{day}",
        details={"subject": subject, "reason": reason.strip()},
        pmo_id=pmo_id,
    )
    return Approval(int(row[0]), pmo_code, day, kind, subject, reason.strip(), decided_by, row[1])
