"""The report workflow: generate → validate → sign → submit → accepted / rejected; amend.

Status of a version: ``draft`` (built; rule errors or schema problems block it) → ``validated``
→ ``signed`` (canonical bytes hashed, signed, written, linked into the chain) → ``submitted``
(delivered) → ``accepted`` or ``rejected`` (with the receiver's message). A signed version
never changes again; a correction is version n+1 with a reason, linked to version n
(``amend``). Generating a day that already has a signed version returns that version: running
the daily job twice creates no second version.

Public functions take a psycopg connection and keyword arguments; they commit what they do.
"""

from __future__ import annotations

import base64
import datetime as dt
import getpass
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from anh_reporter import __version__
from anh_reporter.config import ReportSettings, Settings
from anh_reporter.errors import AnhError
from anh_reporter.observability.metrics import reports_generated
from anh_reporter.production.contract_day import last_complete_day
from anh_reporter.production.daily import (
    FieldConfig,
    clear_amendment,
    compute_day,
    load_daily,
    load_field,
)
from anh_reporter.production.manual import latest_well_tests, list_entries
from anh_reporter.reports import chain, rules
from anh_reporter.reports.canonical import canonical_bytes, parse
from anh_reporter.reports.delivery import (
    BearerAuth,
    DeliveryChannel,
    DeliveryFailed,
    FileDropChannel,
    HttpUploadChannel,
    ManualDownloadChannel,
    OAuth2ClientCredentials,
    Outgoing,
)
from anh_reporter.reports.model import (
    Anomaly,
    IdpReport,
    ManualEntryUsed,
    OperatorInfo,
    PmoDay,
    ReportInputs,
    VersionInfo,
    WellInfo,
    build_report,
    report_id,
)
from anh_reporter.reports.profiles import Profile, get_profile, profile_for_document
from anh_reporter.reports.signing import (
    Envelope,
    SigningError,
    key_id_of,
    load_or_create_key,
    read_report_bytes,
    sign,
    signature_path_for,
    verify_signature,
    write_signed,
)
from anh_reporter.storage.database import returned

Conn = psycopg.Connection[Any]
ISSUED = ("signed", "submitted", "accepted", "rejected")
_LOCK_CLASS = 0x49445030  # "IDP0": advisory lock class of the report writers


class ReportError(AnhError):
    """A report operation that cannot be done as asked."""


class ReportBlocked(ReportError):
    """Rule errors or schema problems keep the report from being signed."""

    def __init__(self, message: str, findings: list[rules.Finding]) -> None:
        super().__init__(message)
        self.findings = findings


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

    @property
    def rule_settings(self) -> rules.RuleSettings:
        """The rules' thresholds."""
        o = self.options
        return rules.RuleSettings(
            completeness_warning_pct=o.completeness_warning_pct,
            completeness_floor_pct=o.completeness_floor_pct,
            quality_warning=o.quality_warning,
        )


def current_user() -> str:
    """The OS user name, for ``created_by`` when none is given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# --- Loading the inputs -----------------------------------------------------------------------


def load_inputs(
    conn: Conn,
    config: FieldConfig,
    day: dt.date,
    *,
    version: VersionInfo,
    threshold_pct: Any,
) -> ReportInputs:
    """Everything the report of ``config``'s ``day`` is built from."""
    window = config.day(day)
    stored = load_daily(conn, config.id, day)
    if not stored:
        raise ReportError(
            f"no daily production stored for {config.code} on {day}: run "
            f"`production compute --field {config.code} --day {day}` first"
        )
    pmos = [
        PmoDay(
            code=s.pmo_code,
            name=s.pmo_name,
            kind=s.fluid,
            meter_type=s.meter_type,
            method=s.method,
            unit=s.unit,
            indicated_volume=s.indicated_volume,
            meter_factor=s.meter_factor,
            gross_observed_volume=s.gross_observed_volume,
            ctl=s.ctl,
            cpl=s.cpl,
            ctpl=s.ctpl,
            gross_standard_volume=s.gross_standard_volume,
            bsw_percent=s.bsw_percent,
            net_standard_volume=s.net_standard_volume,
            temperature_f=s.temperature_f,
            pressure_psig=s.pressure_psig,
            api_gravity=s.api_gravity,
            sources=s.sources,
            samples_expected=s.samples_expected,
            samples_received=s.samples_received,
            samples_good=s.samples_good,
            longest_gap_s=s.longest_gap_s,
            time_completeness_pct=s.time_completeness_pct,
            sample_completeness_pct=s.sample_completeness_pct,
            quality_score=s.quality_score,
            quality_components=s.quality_components,
            quality_explanation=s.quality_explanation,
            rollovers=s.rollovers,
            resets=s.resets,
            issues=s.issues,
            manual_entry_ids=s.manual_entry_ids,
            needs_amendment=s.needs_amendment,
        )
        for s in stored
    ]
    tests = latest_well_tests(conn, config.id, day)
    wells = []
    for code, name, pmo_code, method in conn.execute(
        "SELECT w.code, w.name, p.code, w.production_method FROM wells w "
        "LEFT JOIN measurement_points p ON p.id = w.pmo_id WHERE w.field_id = %s "
        "ORDER BY w.code",
        (config.id,),
    ).fetchall():
        entries = tests.get(code, {})
        wells.append(
            WellInfo(
                code=code,
                name=name,
                pmo=pmo_code,
                production_method=method,
                tests={k: e.value for k, e in entries.items()},
                test_entry_ids=sorted(e.id for e in entries.values()),
            )
        )
    ids = sorted(
        {i for p in pmos for i in p.manual_entry_ids} | {i for w in wells for i in w.test_entry_ids}
    )
    manual = [
        ManualEntryUsed(
            id=e.id,
            kind=e.kind,
            target=e.owner_code,
            contract_day=e.contract_day,
            value=e.value,
            unit=e.unit,
            entered_by=e.entered_by,
            entered_at=e.entered_at,
            reason=e.reason,
        )
        for e in (
            list_entries(conn, field_code=config.code, include_superseded=True, ids=ids)
            if ids
            else []
        )
    ]
    return ReportInputs(
        operator=OperatorInfo(nit=config.operator_nit, name=config.operator_name),
        field={
            "code": config.code,
            "name": config.name,
            "contract": config.contract,
            "municipality_dane": config.municipality_dane,
            "timezone": config.timezone,
            "start_hour": config.start_hour,
            "report_type": config.report_type,
        },
        contract_day=day,
        day_start=window.start,
        day_end=window.end,
        pmos=pmos,
        wells=wells,
        manual_entries=manual,
        anomalies=load_anomalies(conn, config.id, window.start, window.end),
        version=version,
        software_version=__version__,
        completeness_threshold_pct=threshold_pct,
    )


def load_anomalies(
    conn: Conn, field_id: int, start: dt.datetime, end: dt.datetime
) -> list[Anomaly]:
    """The field's anomalies whose episode overlaps the contract day (analytics' table).

    Read from ``anomalies`` (migration 0003, the analytics package): one row per episode, with
    its series or PMO, severity, detector and explanation. Without the table, no anomalies.
    """
    if conn.execute("SELECT to_regclass('anomalies')").fetchone() == (None,):
        return []
    rows = conn.execute(
        """
        SELECT a.window_start, coalesce(s.code, p.code, ''), lower(a.severity), a.detector,
               coalesce(a.explanation->>'summary', a.explanation->>'message',
                        a.explanation::text)
        FROM anomalies a
        LEFT JOIN series s ON s.id = a.series_id
        LEFT JOIN measurement_points p ON p.id = a.pmo_id
        WHERE a.field_id = %s AND a.window_start < %s AND a.window_end >= %s
        ORDER BY a.window_start, a.id
        """,
        (field_id, end, start),
    ).fetchall()
    return [
        Anomaly(at=t, target=tg, severity=sev, kind=k, message=m or "") for t, tg, sev, k, m in rows
    ]


# --- Generating, signing ------------------------------------------------------------------------


def _signed_versions(conn: Conn, field_id: int, day: dt.date) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT v.id, v.version, v.status, v.path, v.sha256, v.key_id, v.chain_seq, v.findings "
        "FROM report_versions v JOIN reports r ON r.id = v.report_id "
        "WHERE r.field_id = %s AND r.contract_day = %s AND v.chain_seq IS NOT NULL "
        "ORDER BY v.version",
        (field_id, day),
    ).fetchall()


def _existing(
    config: FieldConfig, day: dt.date, row: tuple[Any, ...], needs_amendment: bool
) -> GeneratedReport:
    vid, version, status, path, sha, key_id, seq, findings = row
    p = Path(path) if path else None
    findings = list(findings)
    if needs_amendment:
        findings.insert(0, rules.amendment_pending(config.code).as_dict())
    return GeneratedReport(
        field_code=config.code,
        contract_day=day,
        report_id=report_id(config.code, day),
        version=version,
        version_id=vid,
        status=status,
        path=p,
        signature_path=signature_path_for(p) if p else None,
        sha256=sha,
        key_id=key_id,
        chain_seq=seq,
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
        signed = _signed_versions(conn, config.id, day)
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
    """One report writer per field at a time (session lock: it outlives the commits inside).

    A second caller waits, then finds the day signed: no second version, no lost draft.
    """
    conn.execute("SELECT pg_advisory_lock(%s, %s)", (_LOCK_CLASS, field_id))
    conn.commit()
    try:
        yield
    finally:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", (_LOCK_CLASS, field_id))
        conn.commit()


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
) -> GeneratedReport:
    """Version n+1 of a signed report, with a reason, linked to version n."""
    if not reason.strip():
        raise ReportError("an amendment needs a reason (--reason)")
    now = now or dt.datetime.now(dt.UTC)
    config = load_field(conn, field_code)
    with _field_lock(conn, config.id):
        signed = _signed_versions(conn, config.id, day)
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
            number=int(last[1]) + 1,
            amends=(int(last[0]), int(last[1]), str(last[4])),
            reason=reason.strip(),
            context=context,
            created_by=created_by,
            now=now,
        )


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
) -> GeneratedReport:
    version = VersionInfo(
        number=number,
        amends_version=amends[1] if amends else None,
        amends_sha256=amends[2] if amends else None,
        reason=reason,
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
    findings = rules.check(report, now=now, settings=context.rule_settings)
    profile = context.profile
    document = profile.document(report)
    schema_ok = profile.is_valid(document)
    if not schema_ok:
        findings += [
            rules.Finding("SCHEMA", rules.Severity.ERROR, f"{profile.name}: {p}")
            for p in profile.problems(document)
        ]
    report_row_id, version_id = _store_draft(conn, config, day, number, amends, reason, findings,
                                             created_by, profile.name)  # fmt: skip
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
    data = canonical_bytes(document, check=False)
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
) -> tuple[int, int]:
    """The report row and a fresh draft row for this version (replacing an older draft)."""
    with conn.transaction():
        row = returned(
            conn.execute(
                "INSERT INTO reports (field_id, contract_day, report_type, profile) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (field_id, contract_day) DO UPDATE "
                "SET updated_at = now() RETURNING id",
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
                "status, findings, created_by) "
                "VALUES (%s, %s, %s, %s, 'draft', %s, %s) RETURNING id",
                (
                    report_row_id,
                    number,
                    amends[0] if amends else None,
                    reason,
                    Jsonb([f.as_dict() for f in findings]),
                    created_by,
                ),
            ).fetchone()
        )
    return report_row_id, int(new[0])


# --- Verifying a file -----------------------------------------------------------------------------


@dataclass
class Check:
    """One verification step and its outcome."""

    name: str
    ok: bool
    detail: str


@dataclass
class Verification:
    """The outcome of verifying a report file."""

    path: Path
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.ok]


def verify_file(
    path: Path,
    *,
    signature_path: Path | None = None,
    trusted_key_ids: set[str] | None = None,
    extra_profile_dirs: tuple[Path, ...] = (),
    content: bool = True,
) -> Verification:
    """Check a report file: hash, signature, key, canonical form and schema; say what failed.

    ``content=False`` checks only the hash, key and signature (no JSON, canonical or schema).
    """
    result = Verification(path)
    try:
        data = read_report_bytes(path)
    except OSError as exc:
        result.checks.append(Check("file", False, f"cannot read {path}: {exc.strerror}"))
        return result
    except (EOFError, ValueError) as exc:  # a damaged gzip stream
        result.checks.append(Check("file", False, f"{path} is not a readable gzip file: {exc}"))
        return result
    sig_path = signature_path or signature_path_for(path)
    envelope: Envelope | None = None
    try:
        envelope = Envelope.from_bytes(sig_path.read_bytes(), str(sig_path))
    except OSError as exc:
        result.checks.append(
            Check("signature file", False, f"cannot read {sig_path}: {exc.strerror}")
        )
    except SigningError as exc:
        result.checks.append(Check("signature file", False, str(exc)))
    if envelope is not None:
        _verify_envelope(result, data, envelope, trusted_key_ids)
    if content:
        _verify_content(result, data, extra_profile_dirs)
    return result


def _verify_envelope(
    result: Verification, data: bytes, envelope: Envelope, trusted: set[str] | None
) -> None:
    actual = hashlib.sha256(data).hexdigest()
    result.checks.append(
        Check("hash", True, f"sha256 {actual}")
        if actual == envelope.sha256
        else Check(
            "hash",
            False,
            f"sha256 of the report is {actual}, the signature file says {envelope.sha256}: "
            "the report was changed after signing",
        )
    )
    try:
        public = base64.b64decode(envelope.public_key, validate=True)
        signature = base64.b64decode(envelope.signature, validate=True)
    except ValueError:
        result.checks.append(Check("signature", False, "public key or signature is not base64"))
        return
    if key_id_of(public) != envelope.key_id:
        result.checks.append(
            Check("key", False, f"the public key does not hash to key id {envelope.key_id}")
        )
        return
    if trusted is not None and envelope.key_id not in trusted:
        result.checks.append(
            Check("key", False, f"key {envelope.key_id} is not among the trusted keys")
        )
    ok = verify_signature(data, signature, public)
    result.checks.append(
        Check("signature", True, f"Ed25519, key {envelope.key_id}")
        if ok
        else Check(
            "signature",
            False,
            f"the Ed25519 signature does not verify with key {envelope.key_id} over these bytes",
        )
    )


def _verify_content(result: Verification, data: bytes, dirs: tuple[Path, ...]) -> None:
    try:
        document = parse(data)
    except (ValueError, UnicodeDecodeError) as exc:
        result.checks.append(Check("json", False, f"not valid UTF-8 JSON: {exc}"))
        return
    try:
        canonical = canonical_bytes(document) == data
    except ValueError:
        canonical = False
    result.checks.append(
        Check("canonical", True, "canonical form")
        if canonical
        else Check("canonical", False, "not in canonical form (keys, spacing or number format)")
    )
    try:
        profile = profile_for_document(document, dirs)
    except AnhError as exc:
        result.checks.append(Check("schema", False, str(exc)))
        return
    problems = [] if profile.is_valid(document) else profile.problems(document)
    result.checks.append(
        Check("schema", True, f"valid against {profile.name}")
        if not problems
        else Check("schema", False, f"{profile.name}: " + "; ".join(map(str, problems[:5])))
    )


# --- Submitting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """The outcome of a submit."""

    report_id: str
    version: int
    channel: str
    target: str
    status: str
    message: str | None
    receipt: dict[str, Any]


def channel_from_settings(context: Context) -> DeliveryChannel:
    """The configured delivery channel."""
    d = context.options.delivery
    if d.channel == "file":
        return FileDropChannel(context.drop_dir, compress=context.options.compress)
    if d.channel == "manual":
        return ManualDownloadChannel(context.drop_dir)
    if not d.http_url:
        raise ReportError("delivery channel 'http' needs ANH_REPORTS__DELIVERY__HTTP_URL")
    auth: BearerAuth | OAuth2ClientCredentials | None = None
    if d.auth == "bearer":
        if d.bearer_token is None:
            raise ReportError("auth 'bearer' needs ANH_REPORTS__DELIVERY__BEARER_TOKEN")
        auth = BearerAuth(d.bearer_token.get_secret_value())
    elif d.auth == "oauth2":
        if not (d.oauth_token_url and d.oauth_client_id and d.oauth_client_secret):
            raise ReportError(
                "auth 'oauth2' needs OAUTH_TOKEN_URL, OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET "
                "(ANH_REPORTS__DELIVERY__...)"
            )
        auth = OAuth2ClientCredentials(
            d.oauth_token_url,
            d.oauth_client_id,
            d.oauth_client_secret.get_secret_value(),
            d.oauth_scope,
        )
    return HttpUploadChannel(
        d.http_url,
        auth=auth,
        max_attempts=d.max_attempts,
        backoff_s=d.backoff_s,
        max_backoff_s=d.max_backoff_s,
        timeout_s=d.timeout_s,
    )


def submit(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date,
    channel: DeliveryChannel,
    created_by: str,
    version: int | None = None,
) -> Submission:
    """Deliver the latest (or given) signed version and record the receipt and the status."""
    config = load_field(conn, field_code)
    signed = _signed_versions(conn, config.id, day)
    if version is not None:
        signed = [r for r in signed if r[1] == version]
    if not signed:
        raise ReportError(f"{field_code} {day} has no signed report{_v(version)} to submit")
    vid, number, status, _path, sha, _key, _seq, _f = signed[-1]
    if status in ("accepted",):
        raise ReportError(f"{report_id(field_code, day)} v{number} was already accepted")
    row = returned(
        conn.execute(
            "SELECT v.canonical, v.signature, v.key_id, v.signed_at, k.public_key "
            "FROM report_versions v JOIN signing_keys k ON k.key_id = v.key_id WHERE v.id = %s",
            (vid,),
        ).fetchone()
    )
    data, signature, key_id, signed_at, public_key = row
    rid = report_id(field_code, day)
    item = Outgoing(
        report_id=rid,
        version=number,
        stem=f"{rid}-v{number}",
        data=bytes(data),
        envelope=Envelope(
            key_id=key_id,
            public_key=public_key,
            sha256=sha,
            signature=signature,
            signed_at=signed_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        ),
        idempotency_key=f"{rid}-v{number}-{sha[:16]}",
    )
    delivery = returned(
        conn.execute(
            "INSERT INTO deliveries (version_id, channel, target, idempotency_key, status, "
            "created_by) VALUES (%s, %s, %s, %s, 'pending', %s) RETURNING id",
            (vid, channel.name, channel.target, item.idempotency_key, created_by),
        ).fetchone()
    )
    conn.commit()
    try:
        receipt = channel.deliver(item)
    except DeliveryFailed as exc:
        conn.execute(
            "UPDATE deliveries SET status = 'failed', attempts = %s, http_status = %s, "
            "message = %s, finished_at = now() WHERE id = %s",
            (exc.attempts, exc.http_status, str(exc), delivery[0]),
        )
        conn.commit()
        raise
    new_status = {"delivered": "submitted", "accepted": "accepted", "rejected": "rejected"}[
        receipt.status
    ]
    with conn.transaction():
        conn.execute(
            "UPDATE deliveries SET status = %s, attempts = %s, http_status = %s, receipt = %s, "
            "message = %s, finished_at = now() WHERE id = %s",
            (
                receipt.status,
                receipt.attempts,
                receipt.http_status,
                Jsonb(receipt.body),
                receipt.message,
                delivery[0],
            ),
        )
        conn.execute(
            "UPDATE report_versions SET status = %s, status_message = %s, updated_at = now() "
            "WHERE id = %s",
            (new_status, receipt.message, vid),
        )
    conn.commit()
    return Submission(
        rid, number, channel.name, channel.target, new_status, receipt.message, receipt.body
    )


def _v(version: int | None) -> str:
    return "" if version is None else f" version {version}"


def acknowledge(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date,
    accepted: bool,
    message: str | None,
    actor: str,
    version: int | None = None,
) -> str:
    """Record the receiver's verdict on a submitted version (manual channel, late answers)."""
    config = load_field(conn, field_code)
    signed = _signed_versions(conn, config.id, day)
    if version is not None:
        signed = [r for r in signed if r[1] == version]
    if not signed:
        raise ReportError(f"{field_code} {day} has no signed report{_v(version)}")
    vid, number, status = signed[-1][:3]
    if status not in ("submitted", "signed"):
        raise ReportError(f"{report_id(field_code, day)} v{number} is {status}, not submitted")
    new = "accepted" if accepted else "rejected"
    conn.execute(
        "UPDATE report_versions SET status = %s, status_message = %s, updated_at = now() "
        "WHERE id = %s",
        (new, message, vid),
    )
    conn.execute(
        "INSERT INTO audit_log (actor, action, target, details) VALUES (%s, %s, %s, %s)",
        (actor, f"report.{new}", f"{field_code}/{day}/v{number}", Jsonb({"message": message})),
    )
    conn.commit()
    return new


# --- Listing ------------------------------------------------------------------------------------


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
    """Newest first."""
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


def document_of(report: IdpReport, profile: Profile) -> bytes:
    """The canonical bytes of a report model under a profile (no signing)."""
    return canonical_bytes(profile.document(report), check=False)


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
            created_by=current_user(),
            now=now,
        )
