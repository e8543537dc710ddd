"""Daily production reports (IDP): generate, list, get, download, verify, sign, submit, amend.

NOT IMPLEMENTED YET: every endpoint authorises the caller (and the field, where one is named),
then answers 501 ``not_implemented`` until the report service lands.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from anh_reporter.api.deps import require
from anh_reporter.api.errors import ErrorResponse, not_implemented
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal, require_field_visible

router = APIRouter(
    prefix="/reports",
    tags=["reports"],
    responses={501: {"model": ErrorResponse, "description": "Not implemented yet"}},
)
ISSUE = "the production and IDP report issue"
ReportId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Reader = Annotated[Principal, require(Permission.REPORTS_READ)]


class GenerateRequest(BaseModel):
    """Which field and contract day to report."""

    field_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    day: dt.date


class AmendRequest(BaseModel):
    """Why the report is amended."""

    reason: Annotated[str, Field(min_length=3, max_length=2000)]


@router.post("/generate", status_code=202)
async def generate_report(
    body: GenerateRequest, me: Annotated[Principal, require(Permission.REPORTS_GENERATE)]
) -> None:
    """Start generating a report; answers a task id to poll."""
    require_field_visible(me, body.field_id)
    raise not_implemented("report generation", ISSUE)


@router.get("/tasks/{task_id}")
async def get_report_task(task_id: Annotated[str, Path(max_length=64)], me: Reader) -> None:
    """The status of a generation task."""
    raise not_implemented("report tasks", ISSUE)


@router.get("")
async def list_reports(
    me: Reader,
    field_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    start_day: dt.date | None = None,
    end_day: dt.date | None = None,
) -> None:
    """Reports of the caller's fields."""
    if field_id is not None:
        require_field_visible(me, field_id)
    raise not_implemented("report listing", ISSUE)


@router.get("/{report_id}")
async def get_report(report_id: ReportId, me: Reader) -> None:
    """One report with its versions and delivery status."""
    raise not_implemented("reports", ISSUE)


@router.get("/{report_id}/download")
async def download_report(report_id: ReportId, me: Reader) -> None:
    """The signed report document (JSON)."""
    raise not_implemented("report download", ISSUE)


@router.get("/{report_id}/verify")
async def verify_report(report_id: ReportId, me: Reader) -> None:
    """Check the report's signature and hash chain."""
    raise not_implemented("report verification", ISSUE)


@router.get("/{report_id}/diff")
async def diff_report(
    report_id: ReportId,
    me: Reader,
    from_version: Annotated[int, Query(ge=1)] = 1,
    to_version: Annotated[int | None, Query(ge=1)] = None,
) -> None:
    """What changed between two versions of a report."""
    raise not_implemented("report diffs", ISSUE)


@router.post("/{report_id}/sign")
async def sign_report(
    report_id: ReportId, me: Annotated[Principal, require(Permission.REPORTS_SIGN)]
) -> None:
    """Sign the report's current version."""
    raise not_implemented("report signing", ISSUE)


@router.post("/{report_id}/submit")
async def submit_report(
    report_id: ReportId, me: Annotated[Principal, require(Permission.REPORTS_SUBMIT)]
) -> None:
    """Deliver the signed report through the field's delivery channel."""
    raise not_implemented("report submission", ISSUE)


@router.post("/{report_id}/amend")
async def amend_report(
    report_id: ReportId,
    body: AmendRequest,
    me: Annotated[Principal, require(Permission.REPORTS_AMEND)],
) -> None:
    """Start a new version of a report (an amendment)."""
    raise not_implemented("report amendments", ISSUE)
