"""Anomalies of the caller's fields: list, acknowledge.

NOT IMPLEMENTED YET: the endpoints authorise the caller, then answer 501 ``not_implemented``
until the analytics anomaly store lands (list and acknowledge over the ``anomalies`` table).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from anh_reporter.api.deps import require
from anh_reporter.api.errors import ErrorResponse, not_implemented
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal, require_field_visible

router = APIRouter(
    prefix="/anomalies",
    tags=["anomalies"],
    responses={501: {"model": ErrorResponse, "description": "Not implemented yet"}},
)
ISSUE = "the analytics issue"


@router.get("")
async def list_anomalies(
    me: Annotated[Principal, require(Permission.ANOMALIES_READ)],
    field_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    status: Literal["open", "acknowledged", "closed"] | None = None,
    severity: Literal["CRITICAL", "WARNING", "INFO"] | None = None,
) -> None:
    """Anomalies of the caller's fields, newest first."""
    if field_id is not None:
        require_field_visible(me, field_id)
    raise not_implemented("anomaly listing", ISSUE)


@router.post("/{anomaly_id}/acknowledge")
async def acknowledge_anomaly(
    anomaly_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    me: Annotated[Principal, require(Permission.ANOMALIES_ACK)],
) -> None:
    """Acknowledge an open anomaly."""
    raise not_implemented("anomaly acknowledgement", ISSUE)
