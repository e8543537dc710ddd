"""The monthly Forma 9SH of a field, per well, from its signed daily reports (CSV or XLSX)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from anh_reporter.allocation.forma9sh_files import to_csv, to_xlsx
from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.api.params import MAX_ID32
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal, require_field_visible
from anh_reporter.reports.errors import ReportError
from anh_reporter.reports.monthly import NoSignedReport, field_month

router = APIRouter(prefix="/reports", tags=["reports"])
Reader = Annotated[Principal, require(Permission.REPORTS_READ)]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FILE = {"content": {m: {"schema": {"type": "string", "format": "binary"}} for m in MEDIA.values()}}


@router.get("/fields/{field_id}/forma9sh/{month}", response_class=Response, responses={200: _FILE})
async def get_forma9sh(
    field_id: Annotated[int, Path(ge=1, le=MAX_ID32)],
    month: Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    state: StateDep,
    me: Reader,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
) -> Response:
    """Forma 9SH of a field's month: one row per well, then the field total."""
    require_field_visible(me, field_id)

    def run(conn: Any) -> tuple[str, bytes]:
        row = conn.execute(
            "SELECT code FROM fields WHERE id = %s AND operator_id = %s",
            (field_id, me.operator_id),
        ).fetchone()
        if row is None:
            raise not_found("field", field_id)
        try:
            form = field_month(conn, str(row[0]), month)
        except NoSignedReport as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except ReportError as exc:
            raise ApiError(422, "validation_error", str(exc)) from None
        return str(row[0]), to_csv(form) if format == "csv" else to_xlsx(form)

    code, data = await state.sync.run(run)
    return Response(
        data,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="forma9sh-{code}-{month}.{format}"'},
    )
