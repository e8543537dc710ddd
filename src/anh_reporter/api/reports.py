"""Daily production reports (IDP) for the API: scoped reads, generation tasks, verify, diff.

The workflow itself is :mod:`anh_reporter.reports.service` (generate → validate → sign →
submit, amend); this module scopes it to the caller's operator and fields, runs generation as
a task whose status can be polled, and reads the signed record from the database: the
canonical bytes and the detached signature (as the ``.sig`` file holds it), their
verification with the service's own checks plus the report's place in the hash chain, and the
differences between two versions. Functions taking a ``Conn`` are synchronous (the services
take a blocking connection): the routes run them in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
import psycopg
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError

from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.api.scoping import Principal
from anh_reporter.config import Settings
from anh_reporter.reports import chain, service
from anh_reporter.reports.canonical import parse
from anh_reporter.reports.delivery import DeliveryFailed
from anh_reporter.reports.model import report_id as report_code
from anh_reporter.reports.signing import Envelope, signature_path_for

log = logging.getLogger(__name__)
Conn = psycopg.Connection[Any]
VersionStatus = Literal["draft", "validated", "signed", "submitted", "accepted", "rejected"]
TaskStatus = Literal["queued", "running", "succeeded", "blocked", "failed"]
TASK_TTL_S = 86_400
MAX_LOCAL_TASKS = 10_000
_TASK_KEY = "anh:report-task:"


# --- Answers ----------------------------------------------------------------------------------


class FindingOut(BaseModel):
    """A pre-submission rule's finding (errors block signing)."""

    code: str
    severity: str
    target: str
    message: str


class VersionOut(BaseModel):
    """One version of a report: its status and, once signed, its hash, key and chain place."""

    version: int
    status: VersionStatus
    status_message: str | None
    amends_version: int | None
    reason: str | None
    sha256: str | None
    key_id: str | None
    chain_seq: int | None
    created_by: str
    created_at: dt.datetime
    signed_at: dt.datetime | None
    findings: list[FindingOut]


class DeliveryOut(BaseModel):
    """One delivery attempt of a version through a channel, and what came back."""

    id: int
    version: int
    channel: str
    target: str
    status: str
    attempts: int
    http_status: int | None
    message: str | None
    receipt: dict[str, Any] | None
    created_by: str
    started_at: dt.datetime
    finished_at: dt.datetime | None


class ReportSummary(BaseModel):
    """A field's report of one contract day, with its latest version's status."""

    id: int
    field_id: int
    field_code: str
    contract_day: dt.date
    report_code: str
    report_type: str
    current_version: int | None
    needs_amendment: bool
    latest_version: int | None
    latest_status: VersionStatus | None
    updated_at: dt.datetime


class ReportOut(ReportSummary):
    """A report with every version and delivery."""

    profile: str
    created_at: dt.datetime
    versions: list[VersionOut]
    deliveries: list[DeliveryOut]


class ReportTask(BaseModel):
    """A generation (or amendment) running in the background; poll it by ``task_id``."""

    task_id: str
    kind: Literal["generate", "amend"]
    status: TaskStatus
    operator_id: int
    field_id: int
    day: dt.date
    reason: str | None
    report_id: int | None
    version: int | None
    created: bool | None
    sha256: str | None
    message: str | None
    findings: list[FindingOut]
    created_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


class SubmissionOut(BaseModel):
    """What the delivery channel answered."""

    report_id: int
    version: int
    channel: str
    target: str
    status: VersionStatus
    message: str | None
    receipt: dict[str, Any]


class CheckOut(BaseModel):
    """One verification step."""

    name: str
    ok: bool
    detail: str


class VerificationOut(BaseModel):
    """The stored signed version checked again: hash, signature, key, canonical form, schema,
    and its link in the hash chain."""

    report_id: int
    version: int
    sha256: str
    ok: bool
    checks: list[CheckOut]


class ChangeOut(BaseModel):
    """One difference: at ``path`` (a JSON Pointer), ``op`` is added, removed or changed."""

    path: str
    op: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


class DiffOut(BaseModel):
    """What changed from one version's document to another's."""

    report_id: int
    from_version: int
    to_version: int
    changes: list[ChangeOut]


# --- Scoped reads -------------------------------------------------------------------------------


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


def visible_report(conn: Conn, principal: Principal, report_id: int) -> ReportRef:
    """The report, or 404 when it does not exist or is of a field the caller cannot see."""
    row = conn.execute(
        "SELECT r.id, r.field_id, f.code, r.contract_day FROM reports r "
        "JOIN fields f ON f.id = r.field_id "
        "WHERE r.id = %s AND f.operator_id = %s AND r.field_id = ANY(%s)",
        (report_id, principal.operator_id, principal.fields),
    ).fetchone()
    if row is None:
        raise not_found("report", report_id)
    return ReportRef(int(row[0]), int(row[1]), str(row[2]), row[3])


def list_reports(
    conn: Conn,
    principal: Principal,
    *,
    field_ids: list[int],
    start_day: dt.date | None,
    end_day: dt.date | None,
    status: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The caller's reports (of ``field_ids``), newest contract day first."""
    rows = conn.execute(
        _SUMMARY + "AND r.field_id = ANY(%(only)s) "
        "AND (%(start)s::date IS NULL OR r.contract_day >= %(start)s) "
        "AND (%(end)s::date IS NULL OR r.contract_day <= %(end)s) "
        "AND (%(status)s::text IS NULL OR lv.status = %(status)s) "
        "ORDER BY r.contract_day DESC, f.code LIMIT %(limit)s",
        {
            "op": principal.operator_id,
            "fields": principal.fields,
            "only": field_ids,
            "start": start_day,
            "end": end_day,
            "status": status,
            "limit": limit,
        },
    ).fetchall()
    return [_summary(r) for r in rows]


def get_report(conn: Conn, principal: Principal, report_id: int) -> dict[str, Any]:
    """One report with its versions and deliveries (404 when not the caller's)."""
    row = conn.execute(
        _SUMMARY + "AND r.id = %(id)s",
        {"op": principal.operator_id, "fields": principal.fields, "id": report_id},
    ).fetchone()
    if row is None:
        raise not_found("report", report_id)
    out = _summary(row)
    out["profile"], out["created_at"] = row[10], row[11]
    versions = conn.execute(
        "SELECT v.version, v.status, v.status_message, a.version, v.reason, v.sha256, v.key_id, "
        "v.chain_seq, v.created_by, v.created_at, v.signed_at, v.findings "
        "FROM report_versions v LEFT JOIN report_versions a ON a.id = v.amends_version_id "
        "WHERE v.report_id = %s ORDER BY v.version",
        (report_id,),
    ).fetchall()
    names = (
        "version", "status", "status_message", "amends_version", "reason", "sha256", "key_id",
        "chain_seq", "created_by", "created_at", "signed_at", "findings",
    )  # fmt: skip
    out["versions"] = [dict(zip(names, v, strict=True)) for v in versions]
    deliveries = conn.execute(
        "SELECT d.id, v.version, d.channel, d.target, d.status, d.attempts, d.http_status, "
        "d.message, d.receipt, d.created_by, d.started_at, d.finished_at "
        "FROM deliveries d JOIN report_versions v ON v.id = d.version_id "
        "WHERE v.report_id = %s ORDER BY d.id",
        (report_id,),
    ).fetchall()
    names = (
        "id", "version", "channel", "target", "status", "attempts", "http_status", "message",
        "receipt", "created_by", "started_at", "finished_at",
    )  # fmt: skip
    out["deliveries"] = [dict(zip(names, d, strict=True)) for d in deliveries]
    return out


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


def signed_version(conn: Conn, report: ReportRef, version: int | None) -> SignedVersion:
    """The given (default: latest) signed version; 404 / 409 naming what is missing."""
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
        raise ApiError(404, "not_found", f"{what} not found")
    (number, data, sha, signature, key_id, signed_at, public_key, seq, prev, chain_hash,
     amends, reason, created_by, status) = row  # fmt: skip
    if seq is None or data is None or public_key is None:
        raise ApiError(
            409,
            "not_signed",
            f"{report.code} v{number} is {status}: it has no signed document (generate it "
            "again once its findings are resolved)",
        )
    envelope = Envelope(
        key_id=key_id,
        public_key=public_key,
        sha256=sha,
        signature=signature,
        signed_at=signed_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    )
    return SignedVersion(
        report, number, bytes(data), envelope, int(seq), prev, chain_hash, amends, reason,
        created_by, signed_at,
    )  # fmt: skip


# --- Verification -------------------------------------------------------------------------------


def verify(
    conn: Conn, report: ReportRef, version: int | None, settings: Settings
) -> dict[str, Any]:
    """The service's checks of a report file, run on the stored record, plus its chain link."""
    signed = signed_version(conn, report, version)
    with tempfile.TemporaryDirectory(prefix="anh-verify-") as tmp:
        path = Path(tmp) / f"{signed.stem}.json"
        path.write_bytes(signed.data)
        signature_path_for(path).write_bytes(signed.envelope.to_bytes())
        result = service.verify_file(path, extra_profile_dirs=settings.profile_dirs)
    checks = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in result.checks]
    checks += _chain_checks(conn, signed)
    return {
        "report_id": report.id,
        "version": signed.version,
        "sha256": signed.envelope.sha256,
        "ok": all(c["ok"] for c in checks),
        "checks": checks,
    }


def _chain_checks(conn: Conn, s: SignedVersion) -> list[dict[str, Any]]:
    header = chain.header_bytes(
        seq=s.chain_seq,
        field_code=s.report.field_code,
        contract_day=s.report.contract_day,
        version=s.version,
        amends_version=s.amends_version,
        reason=s.reason,
        sha256=s.envelope.sha256,
        signature=s.envelope.signature,
        key_id=s.envelope.key_id,
        created_by=s.created_by,
        signed_at=s.signed_at,
    )
    record_ok = chain.link(s.prev_hash, header) == s.chain_hash
    before = conn.execute(
        "SELECT chain_hash FROM report_versions WHERE chain_seq = %s", (s.chain_seq - 1,)
    ).fetchone()
    expected_prev = chain.GENESIS if s.chain_seq == 1 else (before[0] if before else None)
    anchored = conn.execute(
        "SELECT 1 FROM audit_log WHERE action = 'report.sign' AND details->>'chain_hash' = %s "
        "LIMIT 1",
        (s.chain_hash,),
    ).fetchone()
    where = f"chain #{s.chain_seq}"
    return [
        {
            "name": "chain record",
            "ok": record_ok,
            "detail": f"{where}: record matches its chain hash {s.chain_hash[:16]}…"
            if record_ok
            else f"{where}: record was altered (chain hash mismatch)",
        },
        {
            "name": "chain link",
            "ok": s.prev_hash == expected_prev,
            "detail": f"{where}: linked to the version signed before it"
            if s.prev_hash == expected_prev
            else f"{where}: prev_hash {s.prev_hash[:12]}… does not match the version before it "
            f"({'missing' if expected_prev is None else expected_prev[:12] + '…'})",
        },
        {
            "name": "audit anchor",
            "ok": anchored is not None,
            "detail": f"{where}: signing recorded in the audit log"
            if anchored
            else f"{where}: no audit log entry anchors this chain hash",
        },
    ]


# --- Differences between versions -----------------------------------------------------------------


def _pointer(path: str, key: str | int) -> str:
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _same(a: Any, b: Any) -> bool:
    # True == 1 and Decimal("1.0") == 1 in Python; a document change of type is a change.
    return type(a) is type(b) and a == b


def json_changes(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Differences from ``old`` to ``new`` as JSON Pointer paths (RFC 6901): objects by key
    (in sorted order), arrays by position (the report keeps its lists sorted by code)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(old.keys() | new.keys()):
            where = _pointer(path, key)
            if key not in new:
                out.append({"path": where, "op": "removed", "old": old[key], "new": None})
            elif key not in old:
                out.append({"path": where, "op": "added", "old": None, "new": new[key]})
            else:
                out += json_changes(old[key], new[key], where)
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            where = _pointer(path, i)
            if i >= len(new):
                out.append({"path": where, "op": "removed", "old": old[i], "new": None})
            elif i >= len(old):
                out.append({"path": where, "op": "added", "old": None, "new": new[i]})
            else:
                out += json_changes(old[i], new[i], where)
        return out
    if _same(old, new):
        return []
    return [{"path": path, "op": "changed", "old": old, "new": new}]


def _document(conn: Conn, report: ReportRef, version: int) -> Any:
    row = conn.execute(
        "SELECT canonical, status FROM report_versions WHERE report_id = %s AND version = %s",
        (report.id, version),
    ).fetchone()
    if row is None:
        raise ApiError(404, "not_found", f"version {version} of report {report.id} not found")
    if row[0] is None:
        raise ApiError(
            409, "not_signed", f"{report.code} v{version} is {row[1]}: it has no document yet"
        )
    return parse(bytes(row[0]))


def diff(
    conn: Conn, report: ReportRef, from_version: int | None, to_version: int | None
) -> dict[str, Any]:
    """Changes between two versions' documents (default: the latest signed and the one before)."""
    if to_version is None:
        to_version = signed_version(conn, report, None).version
    if from_version is None:
        from_version = max(1, to_version - 1)
    changes = json_changes(
        _document(conn, report, from_version), _document(conn, report, to_version)
    )
    return {
        "report_id": report.id,
        "from_version": from_version,
        "to_version": to_version,
        "changes": changes,
    }


# --- The workflow ---------------------------------------------------------------------------------


class ReportWork:
    """What report routes share: the service context (built once) and the task records.

    Tasks live in this process and, with Redis, in Redis for a day (every API replica sees
    them); a task's record is written when it is queued and again when it ends.
    """

    def __init__(self, settings: Settings, redis: Redis | None = None) -> None:
        self.settings = settings
        self.redis = redis
        self._context: service.Context | None = None
        self._context_lock = threading.Lock()
        self._tasks: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def context(self) -> service.Context:
        """Keys, directories and profile of the report service (built on first use)."""
        with self._context_lock:
            if self._context is None:
                self._context = service.Context.from_settings(self.settings)
            return self._context

    def new_task(
        self,
        *,
        kind: Literal["generate", "amend"],
        principal: Principal,
        field_id: int,
        day: dt.date,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """A queued task record (not stored yet)."""
        return {
            "task_id": secrets.token_urlsafe(12),
            "kind": kind,
            "status": "queued",
            "operator_id": principal.operator_id,
            "field_id": field_id,
            "day": day,
            "reason": reason,
            "report_id": None,
            "version": None,
            "created": None,
            "sha256": None,
            "message": None,
            "findings": [],
            "created_by": principal.name,
            "created_at": dt.datetime.now(dt.UTC),
            "finished_at": None,
        }

    async def save(self, task: dict[str, Any]) -> None:
        """Keep the task's record (here, and in Redis when configured)."""
        self._tasks[task["task_id"]] = task
        self._tasks.move_to_end(task["task_id"])
        while len(self._tasks) > MAX_LOCAL_TASKS:
            self._tasks.popitem(last=False)
        if self.redis is not None:
            try:
                await self.redis.set(_TASK_KEY + task["task_id"], orjson.dumps(task), ex=TASK_TTL_S)
            except (RedisError, OSError) as exc:
                log.warning("report tasks: Redis write failed (%s); kept in this process", exc)

    async def task(self, principal: Principal, task_id: str) -> dict[str, Any]:
        """A task of the caller's operator and fields, or 404."""
        found = self._tasks.get(task_id)
        if found is None and self.redis is not None:
            try:
                raw = await self.redis.get(_TASK_KEY + task_id)
            except (RedisError, OSError) as exc:
                log.warning("report tasks: Redis read failed (%s)", exc)
                raw = None
            found = orjson.loads(raw) if raw else None
        if (
            found is None
            or found["operator_id"] != principal.operator_id
            or not principal.sees_field(int(found["field_id"]))
        ):
            raise not_found("report task", task_id)
        return found

    def run(self, conn: Conn, task: dict[str, Any]) -> dict[str, Any]:
        """Generate (or amend) the task's report; what to record of the outcome.

        Rule errors are an outcome (``blocked``, with the findings); other failures raise.
        """
        row = conn.execute("SELECT code FROM fields WHERE id = %s", (task["field_id"],)).fetchone()
        if row is None:
            raise not_found("field", task["field_id"])
        code, day, by = str(row[0]), task["day"], task["created_by"]
        context = self.context()
        outcome: dict[str, Any]
        try:
            if task["kind"] == "amend":
                result = service.amend(
                    conn, field_code=code, day=day, reason=task["reason"], context=context,
                    created_by=by,
                )  # fmt: skip
            else:
                result = service.generate(
                    conn, field_code=code, day=day, context=context, created_by=by
                )
        except service.ReportBlocked as exc:
            outcome = {
                "status": "blocked",
                "message": str(exc),
                "findings": [f.as_dict() for f in exc.findings],
            }
        else:
            outcome = {
                "status": "succeeded",
                "version": result.version,
                "created": result.created,
                "sha256": result.sha256,
                "findings": result.findings,
                "message": f"{result.report_id} v{result.version} "
                + ("signed" if result.created else f"already signed ({result.status})"),
            }
        found = conn.execute(
            "SELECT id FROM reports WHERE field_id = %s AND contract_day = %s",
            (task["field_id"], day),
        ).fetchone()
        outcome["report_id"] = int(found[0]) if found else None
        return outcome

    def submit(
        self, conn: Conn, report: ReportRef, version: int | None, created_by: str
    ) -> dict[str, Any]:
        """Deliver a signed version through the configured channel (409 / 502 / 503 if not)."""
        try:
            channel = service.channel_from_settings(self.context())
        except service.ReportError as exc:
            raise ApiError(503, "delivery_unconfigured", str(exc)) from None
        try:
            sent = service.submit(
                conn,
                field_code=report.field_code,
                day=report.contract_day,
                channel=channel,
                created_by=created_by,
                version=version,
            )
        except service.ReportError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        except DeliveryFailed as exc:
            raise ApiError(502, "delivery_failed", str(exc)) from None
        return {
            "report_id": report.id,
            "version": sent.version,
            "channel": sent.channel,
            "target": sent.target,
            "status": sent.status,
            "message": sent.message,
            "receipt": sent.receipt,
        }

    def has_signed_version(self, conn: Conn, report: ReportRef) -> bool:
        """True when the report has a signed version (something to amend)."""
        row = conn.execute(
            "SELECT 1 FROM report_versions WHERE report_id = %s AND chain_seq IS NOT NULL LIMIT 1",
            (report.id,),
        ).fetchone()
        return row is not None
