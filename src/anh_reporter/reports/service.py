"""The report workflow: generate → validate → sign; amend (delivery: :mod:`.submission`).

Status of a version: ``draft`` (built; rule errors or schema problems block it) → ``validated``
→ ``signed`` (canonical bytes hashed, signed, written, linked into the chain) → ``submitted``
(delivered) → ``accepted`` or ``rejected`` (with the receiver's message). A signed version
never changes again; a correction is version n+1 with a reason, linked to version n
(``amend``). Generating a day that already has a signed version returns that version: running
the daily job twice creates no second version.

Public functions take a psycopg connection and keyword arguments; they commit what they do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from anh_reporter.config import ReportSettings, Settings
from anh_reporter.observability.metrics import (
    raise_to,
    report_last_day_end_timestamp,
    reports_generated,
)
from anh_reporter.production.config import FieldConfig, load_field
from anh_reporter.production.contract_day import last_complete_day
from anh_reporter.production.daily import compute_day
from anh_reporter.production.store import clear_amendment
from anh_reporter.reports import chain, rules
from anh_reporter.reports.build import build_report
from anh_reporter.reports.canonical import canonical_bytes
from anh_reporter.reports.errors import ReportBlocked, ReportError
from anh_reporter.reports.inputs import load_inputs
from anh_reporter.reports.invariants import check_invariants
from anh_reporter.reports.model import FigureChange, IdpReport, VersionInfo, report_id
from anh_reporter.reports.profiles import Profile, get_profile
from anh_reporter.reports.records import SignedRow, signed_versions
from anh_reporter.reports.signing import load_or_create_key, sign, signature_path_for, write_signed
from anh_reporter.storage.database import returned
from anh_reporter.terminal import os_user

Conn = psycopg.Connection[Any]
_LOCK_CLASS = 0x49445030  # "IDP0": advisory lock class of the report writers


@dataclass(frozen=True)
class GeneratedReport:
    """A signed version (or the one already there)."""

    field_code: str
    contract_day: dt.date
    report_id: str
    version: int
    version_id: int
    status: str
    path: Path | None
    signature_path: Path | None
    sha256: str
    key_id: str
    chain_seq: int
    findings: list[dict[str, str]]
    created: bool
    """False when the day already had a signed version and it was returned as is."""

    def summary(self) -> str:
        """One line for people."""
        warnings = sum(1 for f in self.findings if f["severity"] == "warning")
        verb = "signed" if self.created else "already signed"
        return (
            f"{self.report_id} v{self.version} {verb} ({self.status}); "
            f"{warnings} warning(s); sha256 {self.sha256[:16]}…; key {self.key_id[:16]}…; "
            f"file {self.path}"
        )


@dataclass(frozen=True)
class Context:
    """What the workflow needs from the settings."""

    keys_dir: Path
    reports_dir: Path
    profile: Profile
    options: ReportSettings
    drop_dir: Path
    profile_dirs: tuple[Path, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        """Resolve the directories and the profile of ``settings``."""
        options = settings.reports
        dirs = settings.profile_dirs
        return cls(
            keys_dir=settings.keys_dir,
            reports_dir=settings.reports_dir,
            profile=get_profile(options.profile, dirs),
            options=options,
            drop_dir=settings.drop_dir,
            profile_dirs=dirs,
        )

    def profile_of(self, config: FieldConfig) -> Profile:
        """The profile the field's site entry chose, else the configured one."""
        if config.report_profile and config.report_profile != self.profile.name:
            return get_profile(config.report_profile, self.profile_dirs)
        return self.profile

    @property
    def rule_settings(self) -> rules.RuleSettings:
        """The rules' thresholds."""
        o = self.options
        return rules.RuleSettings(
            completeness_warning_pct=o.completeness_warning_pct,
            property_coverage_pct=o.property_coverage_pct,
            quality_warning=o.quality_warning,
            estimate_approval_pct=o.estimate_approval_pct,
            plausibility_band_pct=o.plausibility_band_pct,
            meter_factor_change_pct=o.meter_factor_change_pct,
            allocation_error_severity=rules.Severity(o.allocation_error_severity),
            balance_severity=rules.Severity(o.balance_severity),
            virtual_meter_severity=rules.Severity(o.virtual_meter_severity),
        )


# --- Generating, signing ------------------------------------------------------------------------


def _existing(
    config: FieldConfig, day: dt.date, row: SignedRow, needs_amendment: bool
) -> GeneratedReport:
    p = Path(row.path) if row.path else None
    findings = list(row.findings)
    if needs_amendment:
        findings.insert(0, rules.amendment_pending(config.code).as_dict())
    return GeneratedReport(
        field_code=config.code,
        contract_day=day,
        report_id=report_id(config.code, day),
        version=row.version,
        version_id=row.version_id,
        status=row.status,
        path=p,
        signature_path=signature_path_for(p) if p else None,
        sha256=row.sha256,
        key_id=row.key_id,
        chain_seq=row.chain_seq,
        findings=findings,
        created=False,
    )


def generate(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date,
    context: Context,
    created_by: str,
    now: dt.datetime | None = None,
    recompute: bool = True,
) -> GeneratedReport:
    """Version 1 of a field's day, signed; the existing version if the day was already signed."""
    now = now or dt.datetime.now(dt.UTC)
    config = load_field(conn, field_code)
    with _field_lock(conn, config.id):
        signed = signed_versions(conn, config.id, day)
        pending = conn.execute(
            "SELECT needs_amendment FROM reports WHERE field_id = %s AND contract_day = %s",
            (config.id, day),
        ).fetchone()
        conn.commit()
        if signed:
            return _existing(config, day, signed[-1], bool(pending and pending[0]))
        if recompute:
            compute_day(conn, field_code, day)
        return _make_version(
            conn,
            config=config,
            day=day,
            number=1,
            amends=None,
            reason=None,
            context=context,
            created_by=created_by,
            now=now,
        )


@contextmanager
def _field_lock(conn: Conn, field_id: int) -> Iterator[None]:
    """One report writer per field at a time, across the commits the writer makes inside.

    The lock is a transaction lock held by a second connection to the same server, whose
    transaction stays open for the block: unlike a session lock on ``conn`` it also holds
    through PgBouncer in transaction mode (an open transaction keeps its server connection),
    and it goes away with that transaction if the process dies. A second caller waits, then
    finds the day signed: no second version, no lost draft.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.commit()
    with psycopg.connect(
        conn.info.dsn, password=conn.info.password, prepare_threshold=None
    ) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, field_id))
        try:
            yield
        finally:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.rollback()
            holder.rollback()  # ends the transaction: the lock is released


def amend(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date,
    reason: str,
    context: Context,
    created_by: str,
    now: dt.datetime | None = None,
    recompute: bool = True,
    reason_code: str | None = None,
    changes: list[FigureChange] | None = None,
    approved_by: str | None = None,
) -> GeneratedReport:
    """Version n+1 of a signed report, with a reason, linked to version n.

    An amendment asked for through :mod:`~anh_reporter.reports.amendments` also carries its
    reason code, the per-figure changes and, when it was material, who approved it.
    """
    if not reason.strip():
        raise ReportError("an amendment needs a reason (--reason)")
    now = now or dt.datetime.now(dt.UTC)
    config = load_field(conn, field_code)
    with _field_lock(conn, config.id):
        signed = signed_versions(conn, config.id, day)
        conn.commit()
        if not signed:
            raise ReportError(
                f"{field_code} {day} has no signed report to amend: run `report generate` first"
            )
        if recompute:
            compute_day(conn, field_code, day)
        last = signed[-1]
        return _make_version(
            conn,
            config=config,
            day=day,
            number=last.version + 1,
            amends=(last.version_id, last.version, last.sha256),
            reason=reason.strip(),
            context=context,
            created_by=created_by,
            now=now,
            reason_code=reason_code,
            changes=changes or [],
            approved_by=approved_by,
        )


def _checked(
    report: IdpReport, profile: Profile, context: Context, now: dt.datetime
) -> tuple[bytes | None, list[rules.Finding]]:
    """The report's canonical bytes in ``profile`` (None when its schema refuses it) and every
    finding: the invariants (raised), the rules and the schema's problems."""
    check_invariants(report)
    findings = rules.check(report, now=now, settings=context.rule_settings)
    # The document's canonical bytes when it satisfies the schema (big lists rendered and
    # checked row by row); otherwise the plain document, for jsonschema's messages.
    data = profile.render(report)
    if data is None:
        findings += [
            rules.Finding("SCHEMA", rules.Severity.ERROR, f"{profile.name}: {p}")
            for p in profile.problems(profile.document(report))
        ]
    return data, findings


def _profile_for(conn: Conn, config: FieldConfig, day: dt.date, context: Context) -> Profile:
    """The profile of ``day``'s next version: the one its signed versions are in (a day keeps
    the format it was first signed in, so its amendments replace it in kind), else the field's.
    """
    row = conn.execute(
        "SELECT r.profile FROM reports r WHERE r.field_id = %s AND r.contract_day = %s "
        "AND EXISTS (SELECT 1 FROM report_versions v WHERE v.report_id = r.id "
        "AND v.chain_seq IS NOT NULL)",
        (config.id, day),
    ).fetchone()
    if row is None or not row[0]:
        return context.profile_of(config)
    return get_profile(str(row[0]), context.profile_dirs)


def blocking_now(
    conn: Conn, config: FieldConfig, day: dt.date, context: Context, now: dt.datetime
) -> list[rules.Finding]:
    """The errors that would block signing ``day``'s next version as the data stand (checked
    before a second person is asked to approve an amendment that could not be signed)."""
    version = VersionInfo(number=1, generated_at=now, generated_by="check")
    inputs = load_inputs(
        conn, config, day, version=version, threshold_pct=context.options.completeness_warning_pct
    )
    profile = _profile_for(conn, config, day, context)
    _, findings = _checked(build_report(inputs), profile, context, now)
    return rules.errors(findings)


def _make_version(
    conn: Conn,
    *,
    config: FieldConfig,
    day: dt.date,
    number: int,
    amends: tuple[int, int, str] | None,
    reason: str | None,
    context: Context,
    created_by: str,
    now: dt.datetime,
    reason_code: str | None = None,
    changes: list[FigureChange] | None = None,
    approved_by: str | None = None,
) -> GeneratedReport:
    version = VersionInfo(
        number=number,
        amends_version=amends[1] if amends else None,
        amends_sha256=amends[2] if amends else None,
        reason=reason,
        reason_code=reason_code,
        changes=changes or [],
        requested_by=created_by if amends else None,
        approved_by=approved_by,
        generated_at=now,
        generated_by=created_by,
    )
    inputs = load_inputs(
        conn,
        config,
        day,
        version=version,
        threshold_pct=context.options.completeness_warning_pct,
    )
    report = build_report(inputs)
    profile = _profile_for(conn, config, day, context)
    data, findings = _checked(report, profile, context, now)
    report_row_id, version_id = _store_draft(conn, config, day, number, amends, reason, findings,
                                             created_by, profile.name, reason_code,
                                             approved_by)  # fmt: skip
    blocking = rules.errors(findings)
    if blocking:
        conn.commit()
        reports_generated.labels(field_id=str(config.id), status="blocked").inc()
        shown = "; ".join(f"{f.code} {f.target + ': ' if f.target else ''}{f.message}"
                          for f in blocking[:5])  # fmt: skip
        more = f" (and {len(blocking) - 5} more)" if len(blocking) > 5 else ""
        raise ReportBlocked(
            f"{report.report.id} v{number}: {len(blocking)} error(s) block signing: {shown}{more}",
            findings,
        )
    conn.execute(
        "UPDATE report_versions SET status = 'validated', updated_at = now() WHERE id = %s",
        (version_id,),
    )
    if data is None:  # jsonschema found nothing the compiled check refused: as before, signed
        data = canonical_bytes(profile.document(report), check=False)
    key = load_or_create_key(context.keys_dir)
    envelope = sign(data, key, now)
    stem = f"{report.report.id}-v{number}"
    files = write_signed(
        context.reports_dir / config.code, stem, data, envelope, compress=context.options.compress
    )
    with conn.transaction():
        conn.execute(
            "INSERT INTO signing_keys (key_id, public_key) VALUES (%s, %s) "
            "ON CONFLICT (key_id) DO NOTHING",
            (key.key_id, key.public_b64),
        )
        updated = conn.execute(
            "UPDATE report_versions SET canonical = %s, path = %s, sha256 = %s, signature = %s, "
            "key_id = %s, signed_at = %s, status = 'signed', updated_at = now() "
            "WHERE id = %s AND chain_seq IS NULL",
            (data, str(files.report), envelope.sha256, envelope.signature, key.key_id, now,
             version_id),
        )  # fmt: skip
        if updated.rowcount != 1:
            raise ReportError(f"draft {version_id} of {stem} vanished while it was being signed")
        entry = chain.append(
            conn,
            version_id=version_id,
            field_code=config.code,
            contract_day=day,
            version=number,
            amends_version=amends[1] if amends else None,
            reason=reason,
            sha256=envelope.sha256,
            signature=envelope.signature,
            key_id=key.key_id,
            created_by=created_by,
            signed_at=now,
        )
        conn.execute(
            "UPDATE reports SET current_version = %s, needs_amendment = false, updated_at = now() "
            "WHERE id = %s",
            (number, report_row_id),
        )
        clear_amendment(conn, config.id, day)
    conn.commit()
    reports_generated.labels(field_id=str(config.id), status="signed").inc()
    raise_to(report_last_day_end_timestamp, inputs.day_end.timestamp(), str(config.id), "generated")
    return GeneratedReport(
        field_code=config.code,
        contract_day=day,
        report_id=report.report.id,
        version=number,
        version_id=version_id,
        status="signed",
        path=files.report,
        signature_path=files.signature,
        sha256=envelope.sha256,
        key_id=key.key_id,
        chain_seq=entry.seq,
        findings=[f.as_dict() for f in findings],
        created=True,
    )


def _store_draft(
    conn: Conn,
    config: FieldConfig,
    day: dt.date,
    number: int,
    amends: tuple[int, int, str] | None,
    reason: str | None,
    findings: list[rules.Finding],
    created_by: str,
    profile: str,
    reason_code: str | None = None,
    approved_by: str | None = None,
) -> tuple[int, int]:
    """The report row and a fresh draft row for this version (replacing an older draft)."""
    with conn.transaction():
        row = returned(
            conn.execute(
                "INSERT INTO reports (field_id, contract_day, report_type, profile) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (field_id, contract_day) DO UPDATE "
                "SET updated_at = now(), profile = EXCLUDED.profile RETURNING id",
                (config.id, day, config.report_type, profile),
            ).fetchone()
        )
        report_row_id = int(row[0])
        conn.execute(
            "DELETE FROM report_versions WHERE report_id = %s AND version = %s "
            "AND chain_seq IS NULL",
            (report_row_id, number),
        )
        new = returned(
            conn.execute(
                "INSERT INTO report_versions (report_id, version, amends_version_id, reason, "
                "status, findings, created_by, reason_code, approved_by) "
                "VALUES (%s, %s, %s, %s, 'draft', %s, %s, %s, %s) RETURNING id",
                (
                    report_row_id,
                    number,
                    amends[0] if amends else None,
                    reason,
                    Jsonb([f.as_dict() for f in findings]),
                    created_by,
                    reason_code,
                    approved_by,
                ),
            ).fetchone()
        )
    return report_row_id, int(new[0])


# --- The demo -----------------------------------------------------------------------------------


def demo_report(
    db: Any,
    field_code: str,
    *,
    settings: Settings | None = None,
    now: dt.datetime | None = None,
) -> GeneratedReport:
    """Generate and sign yesterday's report (the last complete contract day) of a field.

    ``db`` is a :class:`~anh_reporter.storage.database.Database`. Returns the signed version
    (its ``path`` and ``summary()``); rule errors raise :class:`ReportBlocked`.
    """
    from anh_reporter.config import get_settings

    settings = settings or get_settings()
    now = now or dt.datetime.now(dt.UTC)
    context = Context.from_settings(settings)
    with db.connect() as conn:
        config = load_field(conn, field_code)
        day = last_complete_day(now, timezone=config.timezone, start_hour=config.start_hour)
        return generate(
            conn,
            field_code=field_code,
            day=day.day,
            context=context,
            created_by=os_user(),
            now=now,
        )
