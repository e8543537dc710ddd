"""Reading the report tables: versions, summaries, signed records, scoped to who may see them.

Functions that take ``operator_id`` and ``field_ids`` answer only for reports of those fields of
that operator, exactly as if the others did not exist (:class:`ReportNotFound`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg

from anh_reporter.reports.canonical import parse
from anh_reporter.reports.errors import NotSigned, ReportNotFound
from anh_reporter.reports.model import report_id as report_code
from anh_reporter.reports.signing import Envelope

Conn = psycopg.Connection[Any]


@dataclass(frozen=True)
class SignedRow:
    """A signed version of a field's day, as the workflow needs it."""

    version_id: int
    version: int
    status: str
    path: str | None
    sha256: str
    key_id: str
    chain_seq: int
    findings: list[dict[str, str]]


def signed_versions(conn: Conn, field_id: int, day: dt.date) -> list[SignedRow]:
    """The signed versions of a field's day, oldest first."""
    rows = conn.execute(
        "SELECT v.id, v.version, v.status, v.path, v.sha256, v.key_id, v.chain_seq, v.findings "
        "FROM report_versions v JOIN reports r ON r.id = v.report_id "
        "WHERE r.field_id = %s AND r.contract_day = %s AND v.chain_seq IS NOT NULL "
        "ORDER BY v.version",
        (field_id, day),
    ).fetchall()
    return [SignedRow(*r) for r in rows]


@dataclass(frozen=True)
class VersionRow:
    """A version as ``report list`` shows it."""

    field_code: str
    contract_day: dt.date
    version: int
    status: str
    status_message: str | None
    needs_amendment: bool
    sha256: str | None
    chain_seq: int | None
    created_by: str
    signed_at: dt.datetime | None
    reason: str | None
    path: str | None
    errors: int
    warnings: int


def list_versions(
    conn: Conn, *, field_code: str | None = None, limit: int = 100
) -> list[VersionRow]:
    """Every version, newest contract day first."""
    rows = conn.execute(
        """
        SELECT f.code, r.contract_day, v.version, v.status, v.status_message, r.needs_amendment,
               v.sha256, v.chain_seq, v.created_by, v.signed_at, v.reason, v.path,
               (SELECT count(*) FROM jsonb_array_elements(v.findings) e
                 WHERE e->>'severity' = 'error'),
               (SELECT count(*) FROM jsonb_array_elements(v.findings) e
                 WHERE e->>'severity' = 'warning')
        FROM report_versions v JOIN reports r ON r.id = v.report_id
        JOIN fields f ON f.id = r.field_id
        WHERE %(field)s::text IS NULL OR f.code = %(field)s
        ORDER BY r.contract_day DESC, f.code, v.version DESC LIMIT %(limit)s
        """,
        {"field": field_code, "limit": limit},
    ).fetchall()
    return [VersionRow(*r) for r in rows]


# --- Scoped reads (the API's) -------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRef:
    """A report the caller may see."""

    id: int
    field_id: int
    field_code: str
    contract_day: dt.date

    @property
    def code(self) -> str:
        """``IDP-<field>-<yyyymmdd>``, the report's id in its document."""
        return report_code(self.field_code, self.contract_day)


_SUMMARY = """
SELECT r.id, r.field_id, f.code, r.contract_day, r.report_type, r.current_version,
       r.needs_amendment, lv.version, lv.status, r.updated_at, r.profile, r.created_at
FROM reports r JOIN fields f ON f.id = r.field_id
LEFT JOIN LATERAL (SELECT version, status FROM report_versions
                   WHERE report_id = r.id ORDER BY version DESC LIMIT 1) lv ON true
WHERE f.operator_id = %(op)s AND r.field_id = ANY(%(fields)s)
"""


def _summary(row: tuple[Any, ...]) -> dict[str, Any]:
    rid, fid, code, day, rtype, current, amend, latest, status, updated = row[:10]
    return {
        "id": rid,
        "field_id": fid,
        "field_code": code,
        "contract_day": day,
        "report_code": report_code(code, day),
        "report_type": rtype,
        "current_version": current,
        "needs_amendment": amend,
        "latest_version": latest,
        "latest_status": status,
        "updated_at": updated,
    }


def visible_report(
    conn: Conn, *, operator_id: int, field_ids: list[int], report_id: int
) -> ReportRef:
    """The report, or :class:`ReportNotFound` when it is missing or of a field not given."""
    row = conn.execute(
        "SELECT r.id, r.field_id, f.code, r.contract_day FROM reports r "
        "JOIN fields f ON f.id = r.field_id "
        "WHERE r.id = %s AND f.operator_id = %s AND r.field_id = ANY(%s)",
        (report_id, operator_id, field_ids),
    ).fetchone()
    if row is None:
        raise ReportNotFound(f"report {report_id} not found")
    return ReportRef(int(row[0]), int(row[1]), str(row[2]), row[3])


def list_reports(
    conn: Conn,
    *,
    operator_id: int,
    field_ids: list[int],
    only_fields: list[int],
    start_day: dt.date | None,
    end_day: dt.date | None,
    status: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Reports of ``only_fields`` (within ``field_ids``), newest contract day first."""
    rows = conn.execute(
        _SUMMARY + "AND r.field_id = ANY(%(only)s) "
        "AND (%(start)s::date IS NULL OR r.contract_day >= %(start)s) "
        "AND (%(end)s::date IS NULL OR r.contract_day <= %(end)s) "
        "AND (%(status)s::text IS NULL OR lv.status = %(status)s) "
        "ORDER BY r.contract_day DESC, f.code LIMIT %(limit)s",
        {
            "op": operator_id,
            "fields": field_ids,
            "only": only_fields,
            "start": start_day,
            "end": end_day,
            "status": status,
            "limit": limit,
        },
    ).fetchall()
    return [_summary(r) for r in rows]


_VERSION_COLUMNS = (
    "version", "status", "status_message", "amends_version", "reason", "sha256", "key_id",
    "chain_seq", "created_by", "created_at", "signed_at", "findings",
)  # fmt: skip
_DELIVERY_COLUMNS = (
    "id", "version", "channel", "target", "status", "attempts", "http_status", "message",
    "receipt", "created_by", "started_at", "finished_at",
)  # fmt: skip


def get_report(
    conn: Conn, *, operator_id: int, field_ids: list[int], report_id: int
) -> dict[str, Any]:
    """One report with its versions and deliveries (:class:`ReportNotFound` if not visible)."""
    row = conn.execute(
        _SUMMARY + "AND r.id = %(id)s", {"op": operator_id, "fields": field_ids, "id": report_id}
    ).fetchone()
    if row is None:
        raise ReportNotFound(f"report {report_id} not found")
    out = _summary(row)
    out["profile"], out["created_at"] = row[10], row[11]
    versions = conn.execute(
        "SELECT v.version, v.status, v.status_message, a.version, v.reason, v.sha256, v.key_id, "
        "v.chain_seq, v.created_by, v.created_at, v.signed_at, v.findings "
        "FROM report_versions v LEFT JOIN report_versions a ON a.id = v.amends_version_id "
        "WHERE v.report_id = %s ORDER BY v.version",
        (report_id,),
    ).fetchall()
    out["versions"] = [dict(zip(_VERSION_COLUMNS, v, strict=True)) for v in versions]
    deliveries = conn.execute(
        "SELECT d.id, v.version, d.channel, d.target, d.status, d.attempts, d.http_status, "
        "d.message, d.receipt, d.created_by, d.started_at, d.finished_at "
        "FROM deliveries d JOIN report_versions v ON v.id = d.version_id "
        "WHERE v.report_id = %s ORDER BY d.id",
        (report_id,),
    ).fetchall()
    out["deliveries"] = [dict(zip(_DELIVERY_COLUMNS, d, strict=True)) for d in deliveries]
    pending = conn.execute(
        "SELECT a.reason_code, a.reason, a.material, a.requested_by, a.requested_at, a.changes "
        "FROM amendment_requests a JOIN reports r "
        "ON r.field_id = a.field_id AND r.contract_day = a.contract_day "
        "WHERE r.id = %s AND a.status = 'pending'",
        (report_id,),
    ).fetchone()
    out["pending_amendment"] = (
        dict(zip(_PENDING_COLUMNS, pending, strict=True)) if pending is not None else None
    )
    return out


_PENDING_COLUMNS = ("reason_code", "reason", "material", "requested_by", "requested_at", "changes")


@dataclass(frozen=True)
class SignedVersion:
    """A signed version's record: canonical bytes, signature envelope, chain entry."""

    report: ReportRef
    version: int
    data: bytes
    envelope: Envelope
    chain_seq: int
    prev_hash: str
    chain_hash: str
    amends_version: int | None
    reason: str | None
    created_by: str
    signed_at: dt.datetime

    @property
    def stem(self) -> str:
        """The file name the report was written under, without extension."""
        return f"{self.report.code}-v{self.version}"


def envelope_of(
    *, key_id: str, public_key: str, sha256: str, signature: str, signed_at: dt.datetime
) -> Envelope:
    """The detached-signature envelope of a stored version (what its ``.sig`` file holds)."""
    return Envelope(
        key_id=key_id,
        public_key=public_key,
        sha256=sha256,
        signature=signature,
        signed_at=signed_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    )


def signed_version(conn: Conn, report: ReportRef, version: int | None) -> SignedVersion:
    """The given (default: the latest) signed version of a report.

    :class:`ReportNotFound` when there is no such version, :class:`NotSigned` when it has no
    signed document.
    """
    row = conn.execute(
        "SELECT v.version, v.canonical, v.sha256, v.signature, v.key_id, v.signed_at, "
        "k.public_key, v.chain_seq, v.prev_hash, v.chain_hash, a.version, v.reason, v.created_by, "
        "v.status FROM report_versions v LEFT JOIN signing_keys k ON k.key_id = v.key_id "
        "LEFT JOIN report_versions a ON a.id = v.amends_version_id "
        "WHERE v.report_id = %s AND (%s::int IS NULL OR v.version = %s) "
        "ORDER BY v.chain_seq IS NOT NULL DESC, v.version DESC LIMIT 1",
        (report.id, version, version),
    ).fetchone()
    if row is None:
        what = f"version {version} of report {report.id}" if version else f"report {report.id}"
        raise ReportNotFound(f"{what} not found")
    (number, data, sha, signature, key_id, signed_at, public_key, seq, prev, chain_hash,
     amends, reason, created_by, status) = row  # fmt: skip
    if seq is None or data is None or public_key is None:
        raise NotSigned(
            f"{report.code} v{number} is {status}: it has no signed document (generate it "
            "again once its findings are resolved)"
        )
    envelope = envelope_of(
        key_id=key_id, public_key=public_key, sha256=sha, signature=signature, signed_at=signed_at
    )
    return SignedVersion(
        report, number, bytes(data), envelope, int(seq), prev, chain_hash, amends, reason,
        created_by, signed_at,
    )  # fmt: skip


def document(conn: Conn, report: ReportRef, version: int) -> Any:
    """The parsed JSON document of a version (:class:`NotSigned` while it has none)."""
    row = conn.execute(
        "SELECT canonical, status FROM report_versions WHERE report_id = %s AND version = %s",
        (report.id, version),
    ).fetchone()
    if row is None:
        raise ReportNotFound(f"version {version} of report {report.id} not found")
    if row[0] is None:
        raise NotSigned(f"{report.code} v{version} is {row[1]}: it has no document yet")
    return parse(bytes(row[0]))


def has_signed_version(conn: Conn, report: ReportRef) -> bool:
    """True when the report has a signed version (something to amend)."""
    row = conn.execute(
        "SELECT 1 FROM report_versions WHERE report_id = %s AND chain_seq IS NOT NULL LIMIT 1",
        (report.id,),
    ).fetchone()
    return row is not None
