"""``anh-reporter report``: generate, verify, submit, amend (and approve), ack, list, audit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from anh_reporter.config import get_settings
from anh_reporter.errors import AnhError
from anh_reporter.reports import amendments, chain, records, service, submission
from anh_reporter.reports.canonical import canonical_bytes
from anh_reporter.reports.errors import ReportBlocked
from anh_reporter.reports.model import FigureChange
from anh_reporter.reports.rules import Finding
from anh_reporter.reports.signing import keyset as signing_keyset
from anh_reporter.reports.signing import trusted_key_ids
from anh_reporter.reports.verify import verify_file
from anh_reporter.storage.database import open_database
from anh_reporter.terminal import os_user
from anh_reporter.terminal import table as terminal_table

app = typer.Typer(
    help="Daily production report (IDP): generate, sign, verify, submit, amend, audit.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()

FieldOpt = Annotated[str, typer.Option("--field", "-f", help="Field code")]
DayOpt = Annotated[
    dt.datetime, typer.Option("--day", "-d", formats=["%Y-%m-%d"], help="Contract day")
]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who does it (default: OS user)")]


def _who(by: str | None) -> str:
    """The person a command acts as: ``--by`` (trimmed) or the OS user. The API's signed-in
    identities (``user:<id>:<email>``) are not for the command line to claim."""
    if by is None:
        return os_user()
    if by.strip().lower().startswith("user:"):
        raise AnhError(
            f"--by {by!r}: names of the form user:<id>:<email> are the API's signed-in users; "
            "the command line cannot act as one (give your own name)"
        )
    if not by.strip():
        raise AnhError("--by is empty: say who does it")
    return by.strip()


class VerificationFailed(AnhError):
    """``report verify`` found a problem (the message says which check failed)."""


class AuditFailed(AnhError):
    """``report audit`` found an altered or missing version."""


def _findings(findings: list[dict[str, str]] | list[Finding]) -> None:
    rows = [f.as_dict() if isinstance(f, Finding) else f for f in findings]
    if not rows:
        console.print("rules: no findings")
        return
    table = terminal_table(("severity", "code", "target", "message"), title="pre-submission rules")
    colour = {"error": "red", "warning": "yellow", "info": "cyan"}
    for f in rows:
        sev = f["severity"]
        table.add_row(f"[{colour.get(sev, 'white')}]{sev}[/]", f["code"], f["target"], f["message"])
    console.print(table)


def _run(field: str, day: dt.date, by: str | None) -> None:
    settings = get_settings()
    context = service.Context.from_settings(settings)
    with open_database(settings) as db, db.connect() as conn:
        try:
            result = service.generate(
                conn, field_code=field, day=day, context=context, created_by=_who(by)
            )
        except ReportBlocked as exc:
            _findings(exc.findings)
            raise
    _findings(result.findings)
    console.print(result.summary())
    if result.signature_path:
        console.print(f"signature: {result.signature_path}")


@app.command("generate")
def generate(field: FieldOpt, day: DayOpt, by: ByOpt = None) -> None:
    """Build, check, sign and store a field's report for a contract day (version 1)."""
    _run(field, day.date(), by)


@app.command("amend")
def amend(
    field: FieldOpt,
    day: DayOpt,
    reason_code: Annotated[
        str, typer.Option(help=f"Why, as a code: {', '.join(amendments.REASON_CODES)}")
    ],
    reason: Annotated[str, typer.Option(help="Why, in words (kept in the signed record)")],
    by: ByOpt = None,
) -> None:
    """Ask for version n+1 of a signed report: signed now, or (material) after a 2nd person."""
    settings = get_settings()
    context = service.Context.from_settings(settings)
    with open_database(settings) as db, db.connect() as conn:
        try:
            done = amendments.request(
                conn, field_code=field, day=day.date(), reason_code=reason_code, reason=reason,
                requested_by=_who(by), context=context,
            )  # fmt: skip
        except ReportBlocked as exc:
            _findings(exc.findings)
            raise
    _changes(done.changes)
    if done.signed is None:
        console.print(
            f"[yellow]material amendment #{done.id} waits for a second person:[/] "
            f"`report approve-amendment --field {field} --day {day.date()}` "
            f"(not by {done.requested_by})"
        )
        return
    _findings(done.signed.findings)
    console.print(done.signed.summary())


@app.command("approve-amendment")
def approve_amendment(field: FieldOpt, day: DayOpt, by: ByOpt = None) -> None:
    """Approve a material amendment someone else asked for; it is signed now."""
    settings = get_settings()
    context = service.Context.from_settings(settings)
    with open_database(settings) as db, db.connect() as conn:
        done = amendments.approve(
            conn, field_code=field, day=day.date(), approved_by=_who(by), context=context
        )
    assert done.signed is not None  # noqa: S101 - narrows for mypy: approve() signs
    _findings(done.signed.findings)
    console.print(done.signed.summary())


@app.command("amendments")
def amendments_list(
    field: Annotated[str | None, typer.Option("--field", "-f", help="Only this field")] = None,
) -> None:
    """Signed days whose figures changed (amendment drafts), and amendments awaiting approval."""
    settings = get_settings()
    context = service.Context.from_settings(settings)
    with open_database(settings) as db, db.connect() as conn:
        pending = amendments.pending_requests(conn, field_code=field)
        flagged = conn.execute(
            "SELECT f.id, f.code, r.contract_day FROM reports r JOIN fields f ON f.id = r.field_id "
            "WHERE r.needs_amendment AND (%(f)s::text IS NULL OR f.code = %(f)s) "
            "ORDER BY r.contract_day",
            {"f": field},
        ).fetchall()
        drafts: list[amendments.AmendmentDraft] = []
        settled: list[amendments.AmendmentDraft] = []
        for field_id, code, d in flagged:
            found = amendments.draft(conn, field_code=code, day=d, context=context)
            # Figures back to those signed (an entry undone): the flag goes, nothing to amend.
            (settled if amendments.clear_if_unchanged(conn, field_id, found) else drafts).append(
                found
            )
    for d in settled:
        console.print(
            f"{d.field_code} {d.day}: the figures are back to those of signed v"
            f"{d.signed_version}; no amendment needed (flag cleared)"
        )
    for d in drafts:
        size = "material" if d.material else "not material"
        console.print(f"[bold]{d.field_code} {d.day}[/] (signed v{d.signed_version}, {size}):")
        _changes(d.changes)
    for r in pending:
        console.print(
            f"[yellow]awaiting approval[/] #{r.id} {r.field_code} {r.day}: {r.reason_code} — "
            f"{r.reason} (asked by {r.requested_by})"
        )
    if not drafts and not pending:
        console.print("no signed day needs an amendment")


def _changes(changes: list[FigureChange]) -> None:
    for c in changes:
        console.print(
            f"  {c.target} {c.figure}: {_shown(c.old)} → {_shown(c.new)}",
            highlight=False,
            soft_wrap=True,  # a long row stays one line: never broken inside a value
        )


def _shown(value: object) -> str:
    """A changed value as the document writes it (a row or list as JSON: 108.79, not
    Decimal('108.79'))."""
    if isinstance(value, dict | list):
        return canonical_bytes(value, check=False).decode()
    return "null" if value is None else str(value)


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="Report file (.json or .json.gz)")],
    signature: Annotated[
        Path | None, typer.Option(help="Detached signature (default: <report>.sig)")
    ] = None,
    keyset: Annotated[
        list[Path] | None,
        typer.Option(
            help="The operator's published keyset.json, whose keys are trusted (repeatable; "
            "default: the signing key directory's keys)"
        ),
    ] = None,
    public_key: Annotated[
        list[Path] | None,
        typer.Option(help="A trusted Ed25519 public key, PEM (repeatable)"),
    ] = None,
) -> None:
    """Check a report file's hash, signature (by a trusted key), canonical form and schema."""
    settings = get_settings()
    if keyset or public_key:
        trusted = trusted_key_ids(keyset or [], public_key or [])
    else:  # the keys this installation signs with, current and retired
        trusted = {k["key_id"] for k in signing_keyset(settings.keys_dir)}
        if not trusted:
            raise AnhError(
                f"no signing keys in {settings.keys_dir} to trust: pass the operator's published "
                "--keyset keyset.json or --public-key ed25519.pub.pem"
            )
    result = verify_file(
        file,
        signature_path=signature,
        trusted_key_ids=trusted,
        extra_profile_dirs=settings.profile_dirs,
    )
    for c in result.checks:
        mark = "[green]ok[/]  " if c.ok else "[red]FAIL[/]"
        console.print(f"{mark} {c.name}: {c.detail}", highlight=False, soft_wrap=True)
    if not result.ok:
        failed = ", ".join(c.name for c in result.failures())
        raise VerificationFailed(f"{file}: verification failed ({failed})")
    console.print(f"[bold green]{file}: valid[/]")


@app.command("submit")
def submit(
    field: FieldOpt,
    day: DayOpt,
    version: Annotated[int | None, typer.Option(help="Version (default: the latest)")] = None,
    by: ByOpt = None,
) -> None:
    """Deliver the signed report through the configured channel; store the receipt."""
    settings = get_settings()
    channel = submission.channel_from_settings(settings.reports, settings.drop_dir)
    with open_database(settings) as db, db.connect() as conn:
        result = submission.submit(
            conn,
            field_code=field,
            day=day.date(),
            channel=channel,
            created_by=_who(by),
            version=version,
        )
    console.print(
        f"{result.report_id} v{result.version} via {result.channel} to {result.target}: "
        f"[bold]{result.status}[/]" + (f" — {result.message}" if result.message else "")
    )


@app.command("ack")
def ack(
    field: FieldOpt,
    day: DayOpt,
    accepted: Annotated[bool, typer.Option("--accepted/--rejected", help="The verdict")],
    message: Annotated[str | None, typer.Option(help="The receiver's message")] = None,
    version: Annotated[int | None, typer.Option(help="Version (default: the latest)")] = None,
    by: ByOpt = None,
) -> None:
    """Record the receiver's verdict on a submitted report (manual upload, late answer)."""
    with open_database(get_settings()) as db, db.connect() as conn:
        status = submission.acknowledge(
            conn,
            field_code=field,
            day=day.date(),
            accepted=accepted,
            message=message,
            actor=_who(by),
            version=version,
        )
    console.print(f"{field} {day.date()}: {status}")


@app.command("list")
def list_(
    field: Annotated[str | None, typer.Option("--field", "-f", help="Only this field")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """List report versions, newest first, with status and findings."""
    with open_database(get_settings()) as db, db.connect() as conn:
        rows = records.list_versions(conn, field_code=field, limit=limit)
    table = terminal_table(("field", "day", "v", "status", "chain", "errors", "warnings",
                            "amend?", "signed at", "by", "reason / message"))  # fmt: skip
    for r in rows:
        table.add_row(
            r.field_code,
            str(r.contract_day),
            str(r.version),
            r.status,
            f"#{r.chain_seq}" if r.chain_seq else "",
            str(r.errors),
            str(r.warnings),
            "yes" if r.needs_amendment else "",
            f"{r.signed_at:%Y-%m-%d %H:%M}" if r.signed_at else "",
            r.created_by,
            r.reason or r.status_message or "",
        )
    console.print(table)


@app.command("monthly")
def report_monthly(
    field: FieldOpt,
    month: Annotated[str, typer.Option(help="The month, YYYY-MM")],
    format_: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    out: Annotated[
        Path | None, typer.Option(help="File to write (default: forma9sh-FIELD-MONTH.EXT)")
    ] = None,
) -> None:
    """Forma 9SH of a field's month (per well), from its signed daily reports."""
    from anh_reporter.allocation.forma9sh_files import to_csv, to_xlsx
    from anh_reporter.reports.monthly import field_month

    if format_ not in ("csv", "xlsx"):
        raise AnhError(f"--format {format_!r} is not csv or xlsx")
    with open_database(get_settings()) as db, db.connect() as conn:
        form = field_month(conn, field, month)
    data = to_csv(form) if format_ == "csv" else to_xlsx(form)
    path = out or Path(f"forma9sh-{field}-{month}.{format_}")
    path.write_bytes(data)
    console.print(
        f"{path}: Forma 9SH {field} {month}, {len(form.rows)} well(s); oil "
        f"{form.total.oil_bbl} bbl, gas {form.total.gas_kscf} kscf, water "
        f"{form.total.water_bbl} bbl"
    )
    for f in form.findings:
        console.print(f"[yellow]{f.severity}[/] {f.code} {f.target}: {f.message}")


@app.command("audit")
def audit() -> None:
    """Check the hash chain of every signed version: altered or removed versions are found."""
    with open_database(get_settings()) as db, db.connect() as conn:
        result = chain.audit(conn)
    if not result.ok:
        for problem in result.problems:
            console.print(f"[red]FAIL[/] {problem}", highlight=False)
        raise AuditFailed(f"audit found {len(result.problems)} problem(s) in the report chain")
    console.print(f"[bold green]chain intact[/]: {result.versions} signed version(s) checked")


@app.command("chain-head")
def chain_head(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the head as JSON to this file")
    ] = None,
) -> None:
    """Export the hash chain's head (JSON) to anchor it outside the system."""
    import orjson

    with open_database(get_settings()) as db, db.connect() as conn:
        data = orjson.dumps(chain.head(conn).as_dict(), option=orjson.OPT_INDENT_2)
    if output is None:
        console.print_json(data.decode())
        return
    output.write_bytes(data + b"\n")
    console.print(f"chain head written to {output}")
