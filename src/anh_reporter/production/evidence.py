"""The evidence of a field's day, as the person who signs it needs to see it.

Per PMO: the measured and estimated parts of the volume, each estimate with its window and
method, the totalizer events (rollovers, resets and whether someone confirmed them), the manual
entries that cover the day, and whether the estimated share needs an approval and has it.
Everything here is read from what ``production compute`` stored and what people approved; it
computes nothing new, so the evidence shown is the evidence the report was built from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

import psycopg

from anh_reporter.production import store
from anh_reporter.production.approvals import (
    Approval,
    approvals_of_day,
    is_estimate_approved,
    reset_key,
)
from anh_reporter.production.contract_day import ContractDay

Conn = psycopg.Connection[Any]
EventStatus = Literal["info", "needs_confirmation", "confirmed", "replaced"]
ApprovalStatus = Literal["not_needed", "pending", "approved"]


@dataclass(frozen=True)
class DayEvent:
    """Something that happened to a PMO's meter or data during the day."""

    id: int
    """Position in the PMO's list (stable for one computation of the day)."""
    kind: Literal["gap", "rollover", "reset", "manual_entry", "contract_hour_split"]
    start: dt.datetime
    end: dt.datetime | None
    before_value: float | None
    after_value: float | None
    volume: Decimal | None
    status: EventStatus
    confirmed_by: str | None
    reason: str | None
    message: str


@dataclass(frozen=True)
class EstimateWindow:
    """An estimated part of the day's volume."""

    method: str
    window_start: dt.datetime
    window_end: dt.datetime
    volume: Decimal


@dataclass(frozen=True)
class EstimateApproval:
    """Whether the estimated share needs a person's approval, and who gave it."""

    status: ApprovalStatus
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class PmoEvidence:
    """One PMO's evidence for the day."""

    pmo_id: int
    pmo_code: str
    measured_volume: Decimal | None
    estimated_volume: Decimal | None
    estimated_share_pct: float | None
    estimate_limit_pct: Decimal
    estimate_approval: EstimateApproval
    estimates: list[EstimateWindow]
    events: list[DayEvent]


@dataclass(frozen=True)
class DayEvidence:
    """A field's contract day and the evidence of each of its PMOs."""

    field_id: int
    day: dt.date
    day_start: dt.datetime
    day_end: dt.datetime
    pmos: list[PmoEvidence]


def _time(time_us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(time_us / 1_000_000, tz=dt.UTC)


def day_evidence(
    conn: Conn, field_id: int, window: ContractDay, *, estimate_limit_pct: Decimal
) -> DayEvidence:
    """The stored day's evidence (empty ``pmos`` when nothing was computed for it)."""
    approvals = approvals_of_day(conn, field_id, window.day)
    pmos = [
        pmo_evidence(stored, approvals, estimate_limit_pct)
        for stored in store.load_day(conn, field_id, window.day)
    ]
    return DayEvidence(field_id, window.day, window.start, window.end, pmos)


def pmo_evidence(
    stored: store.StoredDay, approvals: list[Approval], estimate_limit_pct: Decimal
) -> PmoEvidence:
    """One PMO's evidence from its stored figures and the day's approvals."""
    figures, code = stored.figures, stored.pmo.code
    estimates = [
        EstimateWindow(e.method, _time(e.start_us), _time(e.end_us), e.volume)
        for e in figures.estimates
    ]
    events = [*_meter_events(figures.events, approvals, code), *_gap_events(figures.estimates)]
    events.sort(key=lambda e: e.start)
    numbered = [replace(e, id=i) for i, e in enumerate(events, start=1)]
    return PmoEvidence(
        pmo_id=stored.pmo.id,
        pmo_code=code,
        measured_volume=figures.measured_volume,
        estimated_volume=figures.estimated_volume,
        estimated_share_pct=figures.estimated_share_pct,
        estimate_limit_pct=estimate_limit_pct,
        estimate_approval=_estimate_approval(figures, approvals, code, estimate_limit_pct),
        estimates=estimates,
        events=numbered,
    )


def _estimate_approval(
    figures: Any, approvals: list[Approval], code: str, limit_pct: Decimal
) -> EstimateApproval:
    share = figures.estimated_share_pct
    if not figures.estimated_volume or share is None or Decimal(str(share)) <= limit_pct:
        return EstimateApproval("not_needed")
    approval = is_estimate_approved(figures.estimated_volume, approvals, code)
    if approval is None:
        return EstimateApproval("pending")
    return EstimateApproval("approved", approval.decided_by, approval.decided_at, approval.reason)


def _meter_events(
    events: list[dict[str, Any]], approvals: list[Approval], code: str
) -> list[DayEvent]:
    out = []
    for e in events:
        kind = e.get("kind")
        if kind not in ("rollover", "reset"):
            continue
        confirmed = next(
            (
                a
                for a in approvals
                if a.kind == "reset_confirmation"
                and a.pmo_code == code
                and kind == "reset"
                and a.subject == reset_key(e)
            ),
            None,
        )
        status: EventStatus
        if kind == "rollover":
            status = "info"
        elif e.get("replaced"):
            status = "replaced"
        elif e.get("confirmed") or confirmed is not None:
            status = "confirmed"
        else:
            status = "needs_confirmation"
        before, after = float(e["before_value"]), float(e["after_value"])
        what = "counter rollover" if kind == "rollover" else "counter reset"
        out.append(
            DayEvent(
                0,
                kind,
                _time(int(e["before_us"])),
                _time(int(e["after_us"])),
                before,
                after,
                Decimal(str(e["volume"])),
                status,
                confirmed.decided_by if confirmed else None,
                confirmed.reason if confirmed else None,
                f"{what} from {before:,.2f} to {after:,.2f} ({e.get('basis', '')})".rstrip(" ()"),
            )
        )
    return out


def _gap_events(estimates: list[Any]) -> list[DayEvent]:
    out = []
    for e in estimates:
        kind: Literal["gap", "manual_entry", "contract_hour_split"] = "gap"
        if e.method == "manual_entry":
            kind = "manual_entry"
        elif e.method == "counter_difference_across_gap":
            kind = "contract_hour_split"
        elif e.method == "reset_estimate":
            continue  # shown with its reset
        out.append(
            DayEvent(
                0,
                kind,
                _time(e.start_us),
                _time(e.end_us),
                None,
                None,
                e.volume,
                "info",
                None,
                None,
                e.detail or f"{e.method.replace('_', ' ')}: {e.volume}",
            )
        )
    return out
