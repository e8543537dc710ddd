"""Daily production, trends and forecast per field (``production.read``).

NOT IMPLEMENTED YET: every endpoint authorises the caller, then answers 501
``not_implemented`` until the production service is wired in (``production/daily.py``
``load_daily(conn, field_id, day)`` and ``analytics/forecast.py`` ``forecast(...)``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query

from anh_reporter.api.deps import require
from anh_reporter.api.errors import ErrorResponse, not_implemented
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal, require_field_visible

router = APIRouter(
    prefix="/production",
    tags=["production"],
    responses={501: {"model": ErrorResponse, "description": "Not implemented yet"}},
)
Reader = Annotated[Principal, require(Permission.PRODUCTION_READ)]
FieldId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ISSUE = "the production and IDP report issue"


@router.get("/fields/{field_id}/daily")
async def get_daily_production(field_id: FieldId, day: dt.date, me: Reader) -> None:
    """Daily figures of every PMO of a field for one contract day."""
    require_field_visible(me, field_id)
    raise not_implemented("daily production", ISSUE)


@router.get("/fields/{field_id}/trend")
async def get_production_trend(
    field_id: FieldId, start_day: dt.date, end_day: dt.date, me: Reader
) -> None:
    """Daily net volumes of a field over a range of contract days."""
    require_field_visible(me, field_id)
    raise not_implemented("production trends", ISSUE)


@router.get("/fields/{field_id}/forecast")
async def get_production_forecast(
    field_id: FieldId, me: Reader, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> None:
    """Decline-curve forecast of a field's production."""
    require_field_visible(me, field_id)
    raise not_implemented("production forecast", ISSUE)
