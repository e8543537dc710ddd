"""Amendments that mean something: a reason code, the changed figures, four eyes when material.

A signed day whose reported figures change (a proving, late data, a lab result, a confirmed
reset...) is flagged. :func:`draft` shows what an amendment would change: each reported figure,
old → new, against the last signed document, and whether any volume moves by more than the
materiality limit. :func:`request` asks for the amendment with a reason code and a text: an
immaterial one is signed at once; a material one waits until a second person
:func:`approve`\\ s it (the same person cannot request and approve). The signed amendment carries
its reason code, the per-figure changes, who asked and who approved.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb

from anh_reporter.production import virtual_changes
from anh_reporter.production.config import load_field
from anh_reporter.production.store import clear_amendment
from anh_reporter.reports import records
from anh_reporter.reports.build import build_report
from anh_reporter.reports.canonical import canonical_bytes, parse
from anh_reporter.reports.diff import json_changes
from anh_reporter.reports.errors import ReportError
from anh_reporter.reports.inputs import load_inputs
from anh_reporter.reports.model import FigureChange, VersionInfo
from anh_reporter.reports.profiles import profile_for_document
from anh_reporter.reports.service import Context, GeneratedReport, amend, blocking_now
from anh_reporter.storage.database import returned

Conn = psycopg.Connection[Any]

REASON_CODES: dict[str, str] = {
    "meter_factor": "a meter proving changed the meter factor",
    "late_data": "telemetry arrived after the report was signed",
    "lab_result": "a laboratory result (BSW, API gravity) replaced a figure",
    "manual_correction": "a person corrected a figure (a manual entry)",
    "meter_reset": "a meter reset was confirmed, or its volume entered",
    "estimate": "an estimate was approved, replaced or corrected",
    "configuration": "the configuration in force on the day was corrected",
    "regulator_request": "the regulator asked for a correction",
    "other": "another reason, said in the text",
}
"""The reasons an amendment may give (with a free text that says more)."""

PRINCIPAL_VOLUME = {"oil": "oil_net_bbl", "water": "water_net_bbl", "gas": "gas_kpc"}
"""The volume a PMO of each fluid reports, whose change decides materiality."""
WELL_VOLUMES = frozenset({"wells/oil_net_bbl", "wells/gas_kpc", "wells/water_bbl"})
"""A well's allocated volumes, whose change decides materiality too."""
WELL_ROUNDING = Decimal("0.01")
BALANCE_TERM = re.compile(r"^balances/terms/[^/]+$")
"""A balance term's volume, by the term's name (None when the term is added or removed), whose
change counts against the fluid's production."""


def _term_volume(value: Any) -> Decimal:
    if isinstance(value, dict):
        value = value.get("volume")
    return Decimal(0) if value is None else Decimal(str(value))


_NOT_FIGURES = ("/quality", "/issues", "/manual_entry_ids", "/sources", "/uncertainty/budget")


@dataclass(frozen=True)
class AmendmentDraft:
    """What amending a signed day would change."""

    field_code: str
    day: dt.date
    signed_version: int
    changes: list[FigureChange]
    material: bool
    largest_change_pct: Decimal | None
    """The largest relative change of a reported volume (``None``: none changed)."""


@dataclass(frozen=True)
class AmendmentRequest:
    """An amendment asked for: pending a second person, or already signed."""

    id: int
    field_code: str
    day: dt.date
    reason_code: str
    reason: str
    material: bool
    status: str
    requested_by: str
    changes: list[FigureChange]
    signed: GeneratedReport | None = None


def draft(conn: Conn, *, field_code: str, day: dt.date, context: Context) -> AmendmentDraft:
    """The per-figure changes an amendment of ``day`` would make, and their materiality."""
    config = load_field(conn, field_code, day=day)
    signed = records.signed_versions(conn, config.id, day)
    if not signed:
        raise ReportError(f"{field_code} {day} has no signed report to amend")
    last = signed[-1]
    row = conn.execute(
        "SELECT canonical FROM report_versions WHERE id = %s", (last.version_id,)
    ).fetchone()
    signed_doc = parse(bytes(returned(row)[0]))
    profile = profile_for_document(signed_doc, context.profile_dirs)
    # Compared with the model's key names, so a profile with other names (anh-es-1.0) lists
    # its changes as any other (and the materiality sees them).
    old = profile.internal(signed_doc)
    version = VersionInfo(
        number=last.version + 1, generated_at=dt.datetime.now(dt.UTC), generated_by="draft"
    )
    inputs = load_inputs(
        conn, config, day, version=version, threshold_pct=context.options.completeness_warning_pct
    )
    new = profile.internal(
        parse(canonical_bytes(profile.document(build_report(inputs)), check=False))
    )
    changes = figure_changes(old, new) + [
        FigureChange(target=target, figure=figure, old=before, new=after)
        for target, figure, before, after in virtual_changes.changes_since_signed(
            conn, config.id, day, last.version_id
        )
    ]
    kinds = {p.get("code"): p.get("kind") for p in [*old.get("pmos", []), *new.get("pmos", [])]}
    produced = {
        str(b.get("fluid")): Decimal(str(b.get("produced") or 0)) for b in new.get("balances", [])
    }
    largest = _largest_change(changes, kinds, produced)
    limit = context.options.amendment_materiality_pct
    return AmendmentDraft(
        field_code, day, last.version, changes, largest is not None and largest > limit, largest
    )


def clear_if_unchanged(conn: Conn, field_id: int, found: AmendmentDraft) -> bool:
    """Clear the day's amendment flag when ``found`` lists no change: its figures went back to
    those signed (a corrected entry undid an earlier one). True when a flag was cleared."""
    if found.changes:
        return False
    row = conn.execute(
        "UPDATE reports SET needs_amendment = false, updated_at = now() "
        "WHERE field_id = %s AND contract_day = %s AND needs_amendment RETURNING id",
        (field_id, found.day),
    ).fetchone()
    clear_amendment(conn, field_id, found.day)
    return row is not None


def figure_changes(old: Any, new: Any) -> list[FigureChange]:
    """Reported figures that differ between two documents of one profile: per PMO, the totals,
    per well (by code: ``wells/oil_net_bbl``, ``wells/facility``...), per balance, the
    allocation of each production PMO and the allocation's findings (a virtual meter's Σ
    against its PMO, IDP035, is one)."""
    out: list[FigureChange] = []
    old_pmos = {p.get("code"): p for p in old.get("pmos", [])}
    new_pmos = {p.get("code"): p for p in new.get("pmos", [])}
    for code in sorted(old_pmos.keys() | new_pmos.keys(), key=str):
        for c in _figure_changes(old_pmos.get(code, {}), new_pmos.get(code, {})):
            if not c["path"].startswith(_NOT_FIGURES):
                out.append(
                    FigureChange(
                        target=str(code), figure=c["path"].lstrip("/"), old=c["old"], new=c["new"]
                    )
                )
    for c in json_changes(old.get("totals", {}), new.get("totals", {}), by_value=True):
        out.append(
            FigureChange(target="totals", figure=c["path"].lstrip("/"), old=c["old"], new=c["new"])
        )
    out += _row_changes(
        _named_causes(old), _named_causes(new), "wells", lambda r: r.get("code"),
        skip=("/findings",),
    )  # fmt: skip
    out += _row_changes(_named_terms(old), _named_terms(new), "balances", lambda r: r.get("fluid"))
    old_alloc, new_alloc = old.get("allocation") or {}, new.get("allocation") or {}
    out += _row_changes(old_alloc, new_alloc, "pmos", lambda r: r.get("pmo"), "allocation/pmos")
    out += _row_changes(
        old_alloc, new_alloc, "totals_by_role", lambda r: f"{r.get('fluid')}/{r.get('role')}",
        "allocation/totals_by_role",
    )  # fmt: skip
    out += _finding_changes(old_alloc.get("findings") or [], new_alloc.get("findings") or [])
    return out


def _figure_changes(old: Any, new: Any) -> list[dict[str, Any]]:
    """:func:`json_changes` without the empty ones a row added or removed brings (a new PMO's
    figures that are null, listed as null → null)."""
    return [
        c
        for c in json_changes(old, new, by_value=True)
        if not (c["old"] is None and c["new"] is None)
    ]


def _by_name(rows: Any, key: str) -> dict[str, Any]:
    """A list of rows as a dict by each row's ``key`` (the rest of the row as the value), so a
    row added, removed or moved in the list is named as itself; a name given twice is numbered
    in list order (``flowline#2``)."""
    named: dict[str, Any] = {}
    for row in rows if isinstance(rows, list) else []:
        name = str(row.get(key)) if isinstance(row, dict) else str(row)
        label, n = name, 1
        while label in named:
            n += 1
            label = f"{name}#{n}"
        named[label] = {k: v for k, v in row.items() if k != key} if isinstance(row, dict) else row
    return named


def _named_terms(document: Any) -> dict[str, Any]:
    """The document's balances with each one's terms by name (``terms/consumption``, not
    ``terms/2/volume``)."""
    return {
        "balances": [
            b | {"terms": {n: t.get("volume") for n, t in _by_name(b.get("terms"), "name").items()}}
            for b in document.get("balances") or []
        ]
    }


def _named_causes(document: Any) -> dict[str, Any]:
    """The document's well rows with each one's deferred causes by name
    (``deferred/causes/flowline``, not ``deferred/causes/0``): a cause added before another is
    named as itself, and the other is not shown as changed."""
    wells = []
    for w in document.get("wells") or []:
        deferred = w.get("deferred")
        if isinstance(deferred, dict) and isinstance(deferred.get("causes"), list):
            w = w | {"deferred": deferred | {"causes": _by_name(deferred["causes"], "cause")}}
        wells.append(w)
    return {"wells": wells}


def _row_changes(
    old: Any,
    new: Any,
    section: str,
    key: Any,
    name: str | None = None,
    skip: tuple[str, ...] = (),
) -> list[FigureChange]:
    """Changes of a list of rows matched by ``key`` (a well by its code, a balance by fluid)."""
    old_rows = {key(r): r for r in old.get(section) or []}
    new_rows = {key(r): r for r in new.get(section) or []}
    out = []
    for k in sorted(old_rows.keys() | new_rows.keys(), key=str):
        for c in _figure_changes(old_rows.get(k, {}), new_rows.get(k, {})):
            if not skip or not c["path"].startswith(skip):
                out.append(
                    FigureChange(
                        target=str(k), figure=f"{name or section}{c['path']}", old=c["old"],
                        new=c["new"],
                    )
                )  # fmt: skip
    return out


def _finding_changes(old: list[Any], new: list[Any]) -> list[FigureChange]:
    """The allocation's findings (the balances', the virtual meters' Σ against each PMO, whose
    messages carry their figures) that appear, go or say something else."""

    def messages(findings: list[Any]) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], list[str]] = {}
        for f in findings:
            out.setdefault((str(f.get("code")), str(f.get("target"))), []).append(
                str(f.get("message"))
            )
        return {k: " | ".join(v) for k, v in out.items()}

    before, after = messages(old), messages(new)
    return [
        FigureChange(
            target=target, figure=f"allocation/findings/{code}", old=before.get((code, target)),
            new=after.get((code, target)),
        )
        for code, target in sorted(before.keys() | after.keys())
        if before.get((code, target)) != after.get((code, target))
    ]  # fmt: skip


def _json(value: Any) -> str:
    """JSON with exact decimals written as numbers (the figures keep their digits)."""
    return orjson.dumps(value, default=float).decode()


def _as_stored(changes: list[FigureChange]) -> dict[tuple[str, str], bytes]:
    """Each change as its request stores it (numbers as JSON numbers, keys sorted), by target
    and figure: a request read back compares equal to the draft it was made from."""
    return {
        (c.target, c.figure): orjson.dumps(
            [c.old, c.new], default=float, option=orjson.OPT_SORT_KEYS
        )
        for c in changes
    }


def _largest_change(
    changes: list[FigureChange], kinds: dict[Any, Any], produced: dict[str, Decimal]
) -> Decimal | None:
    """The largest relative change, %, of a PMO's principal volume (NSV, water, gas), of a
    well's allocated oil, gas or water (what the Forma 9SH and the royalties per municipality
    rest on), or of a balance's term (consumption, losses, Δ stock, ...) against the fluid's
    production that day. A well's change of one rounding increment (0.01) or less is left out:
    the largest-remainder rounding can move any well by that much when its PMO's volume moves."""
    largest: Decimal | None = None
    for c in changes:
        if BALANCE_TERM.match(c.figure):
            moved = abs(_term_volume(c.new) - _term_volume(c.old))
            base = produced.get(c.target, Decimal(0))
            if moved:
                pct = Decimal(100) if base <= 0 else moved / base * 100
                largest = pct if largest is None else max(largest, pct)
            continue
        is_well = c.figure in WELL_VOLUMES
        if not is_well and c.figure != PRINCIPAL_VOLUME.get(str(kinds.get(c.target))):
            continue
        old = Decimal(str(c.old)) if c.old is not None else Decimal(0)
        new = Decimal(str(c.new)) if c.new is not None else Decimal(0)
        if is_well and abs(new - old) <= WELL_ROUNDING:
            continue
        pct = Decimal(100) if old == 0 else abs(new - old) / abs(old) * 100
        largest = pct if largest is None else max(largest, pct)
    return largest


def request(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date,
    reason_code: str,
    reason: str,
    requested_by: str,
    context: Context,
    now: dt.datetime | None = None,
) -> AmendmentRequest:
    """Ask for an amendment; an immaterial one is signed now, a material one waits (4 eyes)."""
    requested_by = _person(requested_by, "requested_by")
    if reason_code not in REASON_CODES:
        raise ReportError(f"reason code {reason_code!r} is not one of {', '.join(REASON_CODES)}")
    if not reason.strip():
        raise ReportError("an amendment needs a reason text (--reason)")
    found = draft(conn, field_code=field_code, day=day, context=context)
    config = load_field(conn, field_code)
    if not found.changes:
        cleared = clear_if_unchanged(conn, config.id, found)
        conn.commit()  # the flag's correction stands, though nothing is signed
        note = ": the amendment flag is cleared" if cleared else ""
        raise ReportError(
            f"{field_code} {day}: nothing to amend, the figures are those of signed "
            f"v{found.signed_version}{note}"
        )
    if found.material:
        # A second person is asked only for an amendment that could be signed as it stands.
        blocking = blocking_now(conn, config, day, context, now or dt.datetime.now(dt.UTC))
        if blocking:
            shown = "; ".join(f"{f.code} {f.target + ': ' if f.target else ''}{f.message}"
                              for f in blocking[:3])  # fmt: skip
            raise ReportError(
                f"{field_code} {day}: the amendment cannot be signed as the data stand "
                f"({len(blocking)} error(s): {shown}); correct them before asking for approval"
            )
    open_row = conn.execute(
        "SELECT id FROM amendment_requests WHERE field_id = %s AND contract_day = %s "
        "AND status IN ('pending', 'approved')",
        (config.id, day),
    ).fetchone()
    if open_row is not None:
        raise ReportError(
            f"{field_code} {day} already has an amendment awaiting approval (#{open_row[0]})"
        )
    row = returned(
        conn.execute(
            "INSERT INTO amendment_requests (field_id, contract_day, amends_version, reason_code, "
            "reason, changes, material, requested_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id",
            (
                config.id,
                day,
                found.signed_version,
                reason_code,
                reason.strip(),
                Jsonb([c.model_dump() for c in found.changes], dumps=_json),
                found.material,
                requested_by,
            ),
        ).fetchone()
    )
    conn.commit()
    pending = AmendmentRequest(
        int(row[0]),
        field_code,
        day,
        reason_code,
        reason.strip(),
        found.material,
        "pending",
        requested_by,
        found.changes,
    )
    if found.material:
        return pending
    return _sign(conn, pending, approved_by=None, context=context, now=now)


def approve(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date,
    approved_by: str,
    context: Context,
    now: dt.datetime | None = None,
) -> AmendmentRequest:
    """A second person approves a pending material amendment; it is signed now."""
    config = load_field(conn, field_code)
    row = conn.execute(
        "SELECT id, reason_code, reason, material, requested_by, changes FROM amendment_requests "
        "WHERE field_id = %s AND contract_day = %s AND status = 'pending'",
        (config.id, day),
    ).fetchone()
    if row is None:
        raise ReportError(f"{field_code} {day} has no amendment awaiting approval")
    rid, code, reason, material, requested_by, changes = row
    approved_by = _person(approved_by, "approved_by")
    if _same_person(approved_by, str(requested_by)):
        raise ReportError(
            f"{requested_by} asked for this amendment; {approved_by} cannot also approve it: "
            "a second person must (four eyes)"
        )
    pending = AmendmentRequest(
        int(rid),
        field_code,
        day,
        code,
        reason,
        material,
        "pending",
        requested_by,
        [FigureChange.model_validate(c) for c in changes],
    )
    # What is approved is what gets signed: if the figures moved since the request (a new test,
    # an entry, late data), the request no longer describes the amendment.
    current = draft(conn, field_code=field_code, day=day, context=context).changes
    asked, now_ = _as_stored(pending.changes), _as_stored(current)
    if asked != now_:
        moved = sorted(k for k in asked.keys() | now_.keys() if asked.get(k) != now_.get(k))
        shown = ", ".join(f"{t} {f}" for t, f in moved[:3])
        conn.execute(
            "UPDATE amendment_requests SET status = 'withdrawn', decided_by = %s, "
            "decided_at = now() WHERE id = %s",
            (approved_by, rid),
        )
        conn.commit()
        raise ReportError(
            f"{field_code} {day}: the figures moved since amendment #{rid} was asked "
            f"({len(moved)} change(s) differ from what it lists, e.g. {shown}); it is withdrawn "
            "and nothing is signed: ask again (`report amend`) so that what is approved is what "
            "is signed"
        )
    return _sign(conn, pending, approved_by=approved_by, context=context, now=now)


def _person(name: str, what: str) -> str:
    """Who asks or approves, as recorded and signed: spaces collapsed, never empty."""
    person = " ".join(name.split())
    if not person:
        raise ReportError(f"{what} is empty: an amendment names who asks and who approves it")
    return person


def _same_person(a: str, b: str) -> bool:
    """The four-eyes check: names compared with their spaces collapsed and without case
    (``Ana María``, `` ana  maría`` and ``ANA MARÍA`` are one person)."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def pending_requests(conn: Conn, *, field_code: str | None = None) -> list[AmendmentRequest]:
    """Amendments awaiting a second person, oldest first."""
    rows = conn.execute(
        "SELECT a.id, f.code, a.contract_day, a.reason_code, a.reason, a.material, a.status, "
        "a.requested_by, a.changes FROM amendment_requests a JOIN fields f ON f.id = a.field_id "
        "WHERE a.status = 'pending' AND (%(field)s::text IS NULL OR f.code = %(field)s) "
        "ORDER BY a.requested_at",
        {"field": field_code},
    ).fetchall()
    return [
        AmendmentRequest(
            int(i),
            f,
            d,
            code,
            reason,
            material,
            status,
            by,
            [FigureChange.model_validate(c) for c in changes],
        )
        for i, f, d, code, reason, material, status, by, changes in rows
    ]


def _sign(
    conn: Conn,
    pending: AmendmentRequest,
    *,
    approved_by: str | None,
    context: Context,
    now: dt.datetime | None,
) -> AmendmentRequest:
    signed = amend(
        conn,
        field_code=pending.field_code,
        day=pending.day,
        reason=pending.reason,
        reason_code=pending.reason_code,
        changes=pending.changes,
        approved_by=approved_by,
        context=context,
        created_by=pending.requested_by,
        now=now,
        recompute=False,
    )
    conn.execute(
        "UPDATE amendment_requests SET status = 'signed', decided_by = %s, decided_at = now(), "
        "version = %s WHERE id = %s",
        (approved_by, signed.version, pending.id),
    )
    conn.commit()
    return AmendmentRequest(
        pending.id,
        pending.field_code,
        pending.day,
        pending.reason_code,
        pending.reason,
        pending.material,
        "signed",
        pending.requested_by,
        pending.changes,
        signed,
    )
