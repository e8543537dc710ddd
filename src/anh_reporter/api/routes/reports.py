"""Daily production reports (IDP): generate, tasks, list, get, download, verify, submit, amend,
diff.

Generating builds, checks and signs a field's report of a contract day in one step (the
service has no unsigned "validated" state to come back to), so it needs ``reports.generate``
and ``reports.sign``; an amendment needs ``reports.amend`` and ``reports.sign``; delivering,
``reports.submit``. Generation and amendments run as background tasks: the call answers 202
with a task to poll. Every state-changing call is in the audit log, and so is each task's
outcome.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import psycopg
from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, Field

from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.errors import ApiError, ErrorResponse
from anh_reporter.api.params import FIRST_DAY, LAST_DAY, MAX_ID32, MAX_ID64
from anh_reporter.api.permissions import Permission
from anh_reporter.api.responses import JsonResponse
from anh_reporter.api.scoping import Principal, require_field_visible
from anh_reporter.api.state import ApiState
from anh_reporter.api.stepup import StepUp, TotpCode, TotpHeader, require_step_up
from anh_reporter.api.tasks import public
from anh_reporter.errors import AnhError
from anh_reporter.reports import chain, records
from anh_reporter.reports.canonical import canonical_bytes
from anh_reporter.reports.diff import version_diff
from anh_reporter.reports.errors import NotSigned, ReportNotFound
from anh_reporter.reports.records import ReportRef, SignedVersion
from anh_reporter.storage.audit_log import write_audit

log = logging.getLogger(__name__)
router = APIRouter(prefix="/reports", tags=["reports"])
ReportId = Annotated[int, Path(ge=1, le=MAX_ID64)]
Version = Annotated[int | None, Query(ge=1, le=100_000, description="Default: latest signed")]
Reader = Annotated[Principal, require(Permission.REPORTS_READ)]
_BYTES = {"content": {"application/json": {"schema": {"type": "object"}}}}
VersionStatus = Literal["draft", "validated", "signed", "submitted", "accepted", "rejected"]
TaskStatus = Literal["queued", "running", "succeeded", "blocked", "awaiting_approval", "failed"]


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


class FigureChangeOut(BaseModel):
    """One reported figure an amendment changes: where, which, old and new value."""

    target: str
    figure: str
    old: Any = None
    new: Any = None


class PendingAmendmentOut(BaseModel):
    """A material amendment asked for and waiting for a second person's approval."""

    reason_code: str
    reason: str
    material: bool
    requested_by: str
    requested_at: dt.datetime
    changes: list[FigureChangeOut]


class ReportOut(ReportSummary):
    """A report with every version and delivery, and the amendment awaiting approval if any."""

    profile: str
    created_at: dt.datetime
    versions: list[VersionOut]
    deliveries: list[DeliveryOut]
    pending_amendment: PendingAmendmentOut | None = None


class ReportTask(BaseModel):
    """A generation (or amendment) running in the background; poll it by ``task_id``."""

    task_id: str
    kind: Literal["generate", "amend", "approve_amendment"]
    status: TaskStatus
    operator_id: int
    field_id: int
    day: dt.date
    reason: str | None
    reason_code: str | None = None
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


class GenerateRequest(BaseModel):
    """Which field and contract day to report."""

    field_id: Annotated[int, Field(ge=1, le=MAX_ID32)]
    day: Annotated[
        dt.date, Field(ge=FIRST_DAY, le=LAST_DAY, description=f"{FIRST_DAY} to {LAST_DAY}")
    ]
    totp: TotpCode | None = Field(None, description="Current TOTP code (users with TOTP on)")


def _printable(text: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        raise ValueError("must not contain control characters")
    return text.strip()


ReasonCode = Literal[
    "meter_factor", "late_data", "lab_result", "manual_correction", "meter_reset", "estimate",
    "configuration", "regulator_request", "other",
]  # fmt: skip


class AmendRequest(BaseModel):
    """Why the report is amended (it becomes part of the signed record)."""

    reason_code: ReasonCode = Field(description="Why, as a code of the amendment reasons")
    reason: Annotated[
        str, Field(min_length=3, max_length=2000, pattern=r"\S"), AfterValidator(_printable)
    ]
    totp: TotpCode | None = Field(None, description="Current TOTP code (users with TOTP on)")


class SubmitRequest(BaseModel):
    """Which signed version to deliver (default: the latest)."""

    version: Annotated[int | None, Field(ge=1, le=100_000)] = None


T = TypeVar("T")


def _visible(conn: Any, me: Principal, report_id: int) -> ReportRef:
    return records.visible_report(
        conn, operator_id=me.operator_id, field_ids=me.fields, report_id=report_id
    )


def _scoped(fn: Callable[[Any], T]) -> Callable[[Any], T]:
    """``fn`` with the report records' refusals as HTTP answers (404 unknown, 409 unsigned)."""

    def run(conn: Any) -> T:
        try:
            return fn(conn)
        except ReportNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except NotSigned as exc:
            raise ApiError(409, "not_signed", str(exc)) from None

    return run


async def _run(state: ApiState, principal: Principal, task: dict[str, Any]) -> None:
    """The background task: run the generation, record its outcome and audit it."""
    task["status"] = "running"
    await state.reports.save(task)
    outcome: dict[str, Any]
    try:
        async with state.reports.alive(task):
            outcome = await state.sync.run(lambda conn: state.reports.run(conn, task))
    except ApiError as exc:
        outcome = {"status": "failed", "message": exc.message}
    except AnhError as exc:
        outcome = {"status": "failed", "message": str(exc)}
    except psycopg.Error as exc:
        log.error("report task %s: database error: %s", task["task_id"], exc)
        outcome = {"status": "failed", "message": "the database could not answer; try again"}
    except Exception:
        log.exception("report task %s failed", task["task_id"])
        outcome = {"status": "failed", "message": "an unexpected error occurred; it was logged"}
    task.update(outcome)
    task["finished_at"] = dt.datetime.now(dt.UTC)
    await state.reports.save(task)
    try:
        async with state.pool.connection() as conn:
            await write_audit(
                conn,
                actor=principal.actor,
                action=f"report.{task['kind']}.task",
                target=f"field:{task['field_id']}/{task['day']}",
                operator_id=principal.operator_id,
                details={
                    k: task[k]
                    for k in ("task_id", "status", "report_id", "version", "sha256", "message")
                },
            )
    except (psycopg.Error, AnhError) as exc:
        log.error("audit log write failed for report task %s: %s", task["task_id"], exc)


async def _queue(
    request: Request,
    state: ApiState,
    background: BackgroundTasks,
    principal: Principal,
    task: dict[str, Any],
) -> JsonResponse:
    await state.reports.save(task)
    background.add_task(_run, state, principal, task)
    request.state.audit = {"task_id": task["task_id"], "field_id": task["field_id"]}
    location = f"{request.scope.get('root_path', '')}/api/v1/reports/tasks/{task['task_id']}"
    return JsonResponse(public(task), status_code=202, headers={"Location": location})


@router.post("/generate", status_code=202, response_model=ReportTask)
async def generate_report(
    body: GenerateRequest,
    request: Request,
    state: StateDep,
    background: BackgroundTasks,
    me: Annotated[Principal, require(Permission.REPORTS_GENERATE)],
) -> JsonResponse:
    """Build, check and sign a field's report of a contract day; answers a task to poll.

    A day already signed answers that version (no second one); rule errors leave a draft and
    end the task as ``blocked`` with the findings.
    """
    me.check(Permission.REPORTS_SIGN)
    require_field_visible(me, body.field_id)
    await require_step_up(request, state, me, body.totp)
    task = state.reports.new_task(
        kind="generate", principal=me, field_id=body.field_id, day=body.day
    )
    return await _queue(request, state, background, me, task)


@router.get("/tasks/{task_id}", response_model=ReportTask)
async def get_report_task(
    task_id: Annotated[str, Path(max_length=64)], state: StateDep, me: Reader
) -> JsonResponse:
    """A generation task: queued, running, succeeded, blocked (rule errors) or failed."""
    return JsonResponse(await state.reports.task(me, task_id))


@router.get("", response_model=list[ReportSummary])
async def list_reports(
    state: StateDep,
    me: Reader,
    field_id: Annotated[int | None, Query(ge=1, le=MAX_ID32)] = None,
    start_day: dt.date | None = None,
    end_day: dt.date | None = None,
    status: VersionStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JsonResponse:
    """Reports of the caller's fields (or one), newest contract day first; ``status`` filters
    on the latest version's."""
    if field_id is not None:
        require_field_visible(me, field_id)
    fields = [field_id] if field_id is not None else me.fields

    def run(conn: Any) -> list[dict[str, Any]]:
        return records.list_reports(
            conn,
            operator_id=me.operator_id,
            field_ids=me.fields,
            only_fields=fields,
            start_day=start_day,
            end_day=end_day,
            status=status,
            limit=limit,
        )

    return JsonResponse(await state.sync.run(run))


@router.get("/{report_id}", response_model=ReportOut)
async def get_report(report_id: ReportId, state: StateDep, me: Reader) -> JsonResponse:
    """One report with its versions (status, findings, hash, chain) and deliveries."""

    def run(conn: Any) -> dict[str, Any]:
        return records.get_report(
            conn, operator_id=me.operator_id, field_ids=me.fields, report_id=report_id
        )

    return JsonResponse(await state.sync.run(_scoped(run)))


async def _signed(
    state: ApiState, me: Principal, report_id: int, version: int | None
) -> SignedVersion:
    return await state.sync.run(
        _scoped(lambda c: records.signed_version(c, _visible(c, me, report_id), version))
    )


@router.get("/{report_id}/download", response_class=Response, responses={200: _BYTES})
async def download_report(
    report_id: ReportId, state: StateDep, me: Reader, version: Version = None
) -> Response:
    """The signed report as signed: its canonical JSON bytes (``<report>-v<n>.json``)."""
    signed = await _signed(state, me, report_id, version)
    return Response(
        signed.data,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{signed.stem}.json"',
            "X-Report-SHA256": signed.envelope.sha256,
        },
    )


@router.get("/{report_id}/signature", response_class=Response, responses={200: _BYTES})
async def download_signature(
    report_id: ReportId, state: StateDep, me: Reader, version: Version = None
) -> Response:
    """The detached signature of the report (``<report>-v<n>.sig``: Ed25519, key, SHA-256)."""
    signed = await _signed(state, me, report_id, version)
    return Response(
        signed.envelope.to_bytes(),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{signed.stem}.sig"'},
    )


@router.get("/{report_id}/verify", response_model=VerificationOut)
async def verify_report(
    report_id: ReportId, state: StateDep, me: Reader, version: Version = None
) -> JsonResponse:
    """Check a signed version again: hash, signature, key, canonical form, schema, chain."""

    def run(conn: Any) -> dict[str, Any]:
        signed = records.signed_version(conn, _visible(conn, me, report_id), version)
        checks = chain.verify_stored(conn, signed, state.settings.profile_dirs)
        return {
            "report_id": report_id,
            "version": signed.version,
            "sha256": signed.envelope.sha256,
            "ok": all(c.ok for c in checks),
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
        }

    return JsonResponse(await state.sync.run(_scoped(run)))


@router.get("/{report_id}/diff", response_model=DiffOut)
async def diff_report(
    report_id: ReportId,
    state: StateDep,
    me: Reader,
    from_version: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    to_version: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> Response:
    """What changed between two versions' documents (default: the latest signed version
    against the one before it); figures keep their exact decimals."""

    def run(conn: Any) -> dict[str, Any]:
        report = _visible(conn, me, report_id)
        return version_diff(conn, report, from_version, to_version)

    result = await state.sync.run(_scoped(run))
    # Canonical JSON writes the report's Decimal figures with their own digits.
    return Response(canonical_bytes(result, check=False), media_type="application/json")


@router.post(
    "/{report_id}/submit",
    response_model=SubmissionOut,
    responses={502: {"model": ErrorResponse, "description": "delivery failed"}},
)
async def submit_report(
    report_id: ReportId,
    request: Request,
    state: StateDep,
    me: Annotated[Principal, require(Permission.REPORTS_SUBMIT)],
    body: SubmitRequest | None = None,
) -> JsonResponse:
    """Deliver a signed version through the configured channel; record the receipt."""
    version = body.version if body else None

    def run(conn: Any) -> dict[str, Any]:
        report = _visible(conn, me, report_id)
        return state.reports.submit(conn, report, version, me.name)

    sent = await state.sync.run(_scoped(run))
    request.state.audit = {"version": sent["version"], "report_status": sent["status"]}
    return JsonResponse(sent)


@router.post("/{report_id}/amend", status_code=202, response_model=ReportTask)
async def amend_report(
    report_id: ReportId,
    body: AmendRequest,
    request: Request,
    state: StateDep,
    background: BackgroundTasks,
    me: Annotated[Principal, require(Permission.REPORTS_AMEND)],
) -> JsonResponse:
    """Make version n+1 of a signed report, with a reason, linked to version n (a task)."""
    me.check(Permission.REPORTS_SIGN)
    await require_step_up(request, state, me, body.totp)

    def check(conn: Any) -> ReportRef:
        report = _visible(conn, me, report_id)
        if not records.has_signed_version(conn, report):
            raise ApiError(
                409, "not_signed", f"{report.code} has no signed version to amend: generate it"
            )
        return report

    report = await state.sync.run(_scoped(check))
    task = state.reports.new_task(
        kind="amend",
        principal=me,
        field_id=report.field_id,
        day=report.contract_day,
        reason=body.reason,
        reason_code=body.reason_code,
    )
    return await _queue(request, state, background, me, task)


@router.post("/{report_id}/amendment/approve", status_code=202, response_model=ReportTask)
async def approve_amendment(
    report_id: ReportId,
    request: Request,
    state: StateDep,
    background: BackgroundTasks,
    me: Annotated[Principal, require(Permission.REPORTS_AMEND)],
    body: StepUp | None = None,
    x_totp: TotpHeader = None,
) -> JsonResponse:
    """A second person approves a material amendment; it is signed (a task). Whoever asked for
    it cannot approve it."""
    me.check(Permission.REPORTS_SIGN)
    await require_step_up(request, state, me, body.totp if body else None, x_totp)
    report = await state.sync.run(_scoped(lambda c: _visible(c, me, report_id)))
    task = state.reports.new_task(
        kind="approve_amendment", principal=me, field_id=report.field_id, day=report.contract_day
    )
    return await _queue(request, state, background, me, task)
