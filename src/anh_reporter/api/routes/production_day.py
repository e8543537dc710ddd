"""A field's day before it is signed: its evidence, and the people's word on it.

Reading the evidence needs ``production.read``. Entering a value by hand (a volume for a gap,
a lab result, the field's oil consumption or losses) needs ``production.write``; confirming a
meter reset, approving an estimate or recording a meter proving needs ``production.approve``.
Each of these recomputes the day at once and is written to the audit log by the production
package, naming the person.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from anh_reporter.api.deps import StateDep, require
from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.api.params import FIRST_DAY, LAST_DAY, MAX_ID32, FieldId, UtcDatetime
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal, require_field_visible
from anh_reporter.errors import AnhError
from anh_reporter.production import approvals, evidence, manual, provings
from anh_reporter.production.config import load_field
from anh_reporter.production.daily import compute_day
from anh_reporter.storage import site_reads

router = APIRouter(prefix="/production", tags=["production"])
Reader = Annotated[Principal, require(Permission.PRODUCTION_READ)]
Writer = Annotated[Principal, require(Permission.PRODUCTION_WRITE)]
Approver = Annotated[Principal, require(Permission.PRODUCTION_APPROVE)]
Day = Annotated[dt.date, Path(ge=FIRST_DAY, le=LAST_DAY, description="Contract day")]
PmoId = Annotated[int, Path(ge=1, le=MAX_ID32)]
Reason = Annotated[str, Field(min_length=3, max_length=2000, description="Why, in words")]
VOLUME_KIND = {"oil": "oil_volume", "water": "water_volume", "gas": "gas_volume"}


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DayEventOut(_Out):
    """A meter or data event of a PMO's day (``needs_confirmation`` blocks signing)."""

    id: int
    kind: Literal["gap", "rollover", "reset", "manual_entry", "contract_hour_split"]
    start: dt.datetime
    end: dt.datetime | None
    before_value: float | None
    after_value: float | None
    volume: float | None
    status: Literal["info", "needs_confirmation", "confirmed", "replaced"]
    confirmed_by: str | None
    reason: str | None
    message: str


class EstimateOut(_Out):
    """An estimated part of the day's volume."""

    method: str
    window_start: dt.datetime
    window_end: dt.datetime
    volume: float


class EstimateApprovalOut(_Out):
    """Whether the estimated share needs approval (above the limit) and who approved it."""

    status: Literal["not_needed", "pending", "approved"]
    approved_by: str | None
    approved_at: dt.datetime | None
    reason: str | None


class PmoEvidenceOut(_Out):
    """One PMO's measured and estimated volume, estimates and events."""

    pmo_id: int
    pmo_code: str
    measured_volume: float | None
    estimated_volume: float | None
    estimated_share_pct: float | None
    estimate_limit_pct: float
    estimate_approval: EstimateApprovalOut
    estimates: list[EstimateOut]
    events: list[DayEventOut]


class DayEvidenceOut(_Out):
    """A field's contract day (its window in UTC) and the evidence of each PMO."""

    field_id: int
    day: dt.date
    day_start: dt.datetime
    day_end: dt.datetime
    pmos: list[PmoEvidenceOut]


class ConfirmResetIn(BaseModel):
    """What the meter went through; ``at``: the reading after the reset (default: every
    unconfirmed reset of the day)."""

    reason: Reason
    at: UtcDatetime | None = None


class ApproveEstimateIn(BaseModel):
    """Why the estimate stands."""

    reason: Reason


class ManualEntryIn(BaseModel):
    """A volume entered by hand for a PMO's day, or for a window of it (a gap); or, with
    ``field_id`` and a field ``kind``, the field's oil consumption or losses of the day (bbl
    at 60 °F, no PMO, no level, no window)."""

    kind: Literal["volume", "oil_consumption", "oil_losses"] = Field(
        "volume",
        description="volume: a PMO's volume (give pmo_id); oil_consumption, oil_losses: the "
        "field's (give field_id)",
    )
    pmo_id: int | None = Field(None, ge=1, le=MAX_ID32)
    field_id: int | None = Field(None, ge=1, le=MAX_ID32)
    day: dt.date = Field(ge=FIRST_DAY, le=LAST_DAY)
    level: Literal["indicated", "gov", "gsv", "nsv"] = Field(
        "indicated", description="indicated: the meter factor and corrections are applied"
    )
    window_start: UtcDatetime | None = None
    window_end: UtcDatetime | None = None
    volume: Decimal = Field(ge=0, max_digits=20, decimal_places=6)
    unit: str | None = Field(None, max_length=20, description="Checked against the kind's")
    reason: Reason
    replaces: int | None = Field(None, ge=1, description="The entry this one corrects")


class LabResultIn(BaseModel):
    """A laboratory analysis of a PMO's day: API gravity at 60 °F and/or BSW."""

    pmo_id: int = Field(ge=1, le=MAX_ID32)
    day: dt.date = Field(ge=FIRST_DAY, le=LAST_DAY)
    sampled_at: UtcDatetime
    api_gravity: Decimal | None = Field(None, max_digits=8, decimal_places=4)
    bsw_percent: Decimal | None = Field(None, max_digits=8, decimal_places=4)
    lab_reference: str = Field(min_length=1, max_length=200)
    reason: Reason


class ManualEntryOut(_Out):
    """A stored manual entry."""

    id: int
    field_code: str
    owner_code: str
    owner: Literal["pmo", "well", "field"]
    contract_day: dt.date
    kind: str
    value: float
    unit: str
    level: str | None
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    entered_by: str
    entered_at: dt.datetime
    reason: str
    superseded_by: int | None


class ProvingIn(BaseModel):
    """A meter proving: the new meter factor and from when it applies."""

    pmo_id: int = Field(ge=1, le=MAX_ID32)
    meter_factor: Decimal = Field(max_digits=12, decimal_places=8)
    proved_at: UtcDatetime
    effective_from: UtcDatetime | None = Field(None, description="Default: proved_at")
    run_reference: str = Field(min_length=1, max_length=200)
    proved_by: str = Field(min_length=1, max_length=200, description="Who ran the proving")
    notes: str | None = Field(None, max_length=2000)


class ProvingOut(_Out):
    """A recorded proving and the change of factor it made."""

    id: int
    pmo_code: str
    proved_at: dt.datetime
    effective_from: dt.datetime
    meter_factor: float
    previous_factor: float | None
    change_pct: float | None
    run_reference: str
    proved_by: str
    recorded_by: str
    recorded_at: dt.datetime
    notes: str | None


class ProvingResultOut(BaseModel):
    """The proving, and the signed days its factor changed (they need an amendment)."""

    proving: ProvingOut
    first_day: dt.date = Field(
        description="The first contract day the factor applies to (a day keeps the values in "
        "force when it started)"
    )
    recomputed_days: list[dt.date]
    amendments: list[dt.date]


def _field(conn: Any, field_id: int) -> site_reads.FieldClock:
    clock = site_reads.field_clock(conn, field_id)
    if clock is None:
        raise not_found("field", field_id)
    return clock


def _pmo(conn: Any, me: Principal, pmo_id: int) -> tuple[int, str, str, str]:
    """(field id, field code, PMO code, fluid) of a PMO the principal may see; else 404."""
    place = site_reads.pmo_place(conn, pmo_id)
    if place is None or place.field_id not in me.field_ids:
        raise not_found("PMO", pmo_id)
    return place.field_id, place.field_code, place.pmo_code, place.kind


def _refused(exc: AnhError) -> ApiError:
    return ApiError(409, "refused", str(exc))


def _evidence(conn: Any, state: Any, field_id: int, day: dt.date) -> evidence.DayEvidence:
    clock = _field(conn, field_id)
    # The window as in force on that day (a contract-hour change moves it), as computed.
    window = load_field(conn, clock.code, day=day).day(day)
    limit = state.settings.reports.estimate_approval_pct
    return evidence.day_evidence(conn, field_id, window, estimate_limit_pct=limit)


def _one_pmo(found: evidence.DayEvidence, pmo_id: int) -> PmoEvidenceOut:
    pmo = next((p for p in found.pmos if p.pmo_id == pmo_id), None)
    if pmo is None:
        raise not_found("PMO", pmo_id)
    return PmoEvidenceOut.model_validate(pmo)


@router.get("/fields/{field_id}/days/{day}/evidence", response_model=DayEvidenceOut)
async def get_day_evidence(
    field_id: FieldId, day: Day, state: StateDep, me: Reader
) -> DayEvidenceOut:
    """Measured and estimated volume, estimates and meter events of each PMO of the day."""
    require_field_visible(me, field_id)
    found = await state.sync.run(lambda c: _evidence(c, state, field_id, day))
    return DayEvidenceOut.model_validate(found)


@router.post(
    "/fields/{field_id}/days/{day}/pmos/{pmo_id}/confirm-reset", response_model=PmoEvidenceOut
)
async def confirm_reset(
    field_id: FieldId, day: Day, pmo_id: PmoId, body: ConfirmResetIn, state: StateDep, me: Approver
) -> PmoEvidenceOut:
    """Confirm a totalizer reset (what happened to the meter); the day is recomputed."""
    require_field_visible(me, field_id)

    def run(conn: Any) -> evidence.DayEvidence:
        owner, field_code, pmo_code, _ = _pmo(conn, me, pmo_id)
        if owner != field_id:
            raise not_found("PMO", pmo_id)
        after_us = None if body.at is None else int(body.at.timestamp() * 1_000_000)
        try:
            approvals.confirm_reset(
                conn, field_code=field_code, pmo_code=pmo_code, day=day, reason=body.reason,
                decided_by=me.actor, after_us=after_us,
            )  # fmt: skip
        except AnhError as exc:
            raise _refused(exc) from None
        compute_day(conn, field_code, day)
        return _evidence(conn, state, field_id, day)

    return _one_pmo(await state.sync.run(run), pmo_id)


@router.post(
    "/fields/{field_id}/days/{day}/pmos/{pmo_id}/approve-estimate", response_model=PmoEvidenceOut
)
async def approve_estimate(
    field_id: FieldId,
    day: Day,
    pmo_id: PmoId,
    body: ApproveEstimateIn,
    state: StateDep,
    me: Approver,
) -> PmoEvidenceOut:
    """Approve the day's estimated volume as it stands (409 when there is none)."""
    require_field_visible(me, field_id)

    def run(conn: Any) -> evidence.DayEvidence:
        owner, field_code, pmo_code, _ = _pmo(conn, me, pmo_id)
        if owner != field_id:
            raise not_found("PMO", pmo_id)
        try:
            approvals.approve_estimate(
                conn, field_code=field_code, pmo_code=pmo_code, day=day, reason=body.reason,
                decided_by=me.actor,
            )  # fmt: skip
        except AnhError as exc:
            raise _refused(exc) from None
        return _evidence(conn, state, field_id, day)

    return _one_pmo(await state.sync.run(run), pmo_id)


@router.get("/fields/{field_id}/manual-entries", response_model=list[ManualEntryOut])
async def list_manual_entries(
    field_id: FieldId,
    state: StateDep,
    me: Reader,
    day: Annotated[dt.date | None, Query(ge=FIRST_DAY, le=LAST_DAY)] = None,
    include_superseded: bool = False,
) -> list[ManualEntryOut]:
    """Manual entries of a field (one contract day, when given), oldest first."""
    require_field_visible(me, field_id)

    def run(conn: Any) -> list[manual.ManualEntry]:
        code = _field(conn, field_id).code
        return manual.list_entries(
            conn, field_code=code, day=day, include_superseded=include_superseded
        )

    return [ManualEntryOut.model_validate(e) for e in await state.sync.run(run)]


@router.post("/manual-entries", status_code=201, response_model=ManualEntryOut)
async def create_manual_entry(body: ManualEntryIn, state: StateDep, me: Writer) -> ManualEntryOut:
    """A volume by hand for a PMO's day or a window of it, or a field's oil consumption or
    losses of the day; the day is recomputed at once (a signed day is flagged for amendment)."""
    if (body.window_start is None) != (body.window_end is None):
        raise ApiError(422, "validation_error", "window_start and window_end: give both or neither")
    field_kind = body.kind != "volume"
    if field_kind and body.field_id is None:
        raise ApiError(422, "validation_error", f"field_id: required for kind {body.kind}")
    if not field_kind and (body.pmo_id is None or body.field_id is not None):
        raise ApiError(
            422, "validation_error", "pmo_id: a volume is entered for a PMO (give pmo_id only)"
        )
    if body.field_id is not None:
        require_field_visible(me, body.field_id)

    def run(conn: Any) -> manual.ManualEntry:
        pmo_code: str | None = None
        if body.pmo_id is not None:
            owner, field_code, pmo_code, fluid = _pmo(conn, me, body.pmo_id)
            if body.field_id is not None and owner != body.field_id:
                raise not_found("PMO", body.pmo_id)
            kind = body.kind if field_kind else VOLUME_KIND[fluid]
        elif body.field_id is not None:
            field_code, kind = _field(conn, body.field_id).code, body.kind
        else:  # refused above
            raise ApiError(422, "validation_error", "pmo_id or field_id: give one")
        window = None
        if body.window_start is not None and body.window_end is not None:
            window = (body.window_start, body.window_end)
        # A field kind has no level: one given explicitly is passed on, so that it is refused.
        level = body.level if not field_kind or "level" in body.model_fields_set else None
        try:
            added = manual.add_entry(
                conn, field_code=field_code, day=body.day, kind=kind, value=body.volume,
                entered_by=me.actor, reason=body.reason, pmo_code=pmo_code, level=level,
                window=window, replaces=body.replaces, unit=body.unit,
            )  # fmt: skip
        except manual.ManualEntryError as exc:
            raise ApiError(422, "validation_error", str(exc)) from None
        return added.entry

    return ManualEntryOut.model_validate(await state.sync.run(run))


@router.post("/lab-results", status_code=201, response_model=list[ManualEntryOut])
async def attach_lab_result(body: LabResultIn, state: StateDep, me: Writer) -> list[ManualEntryOut]:
    """API gravity and/or BSW from the laboratory for a PMO's day; the day is recomputed."""
    values = {"api_gravity": body.api_gravity, "bsw": body.bsw_percent}
    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        raise ApiError(422, "validation_error", "api_gravity, bsw_percent: give at least one")
    reason = f"{body.reason} (lab {body.lab_reference}, sampled {body.sampled_at.isoformat()})"

    def run(conn: Any) -> list[manual.ManualEntry]:
        _, field_code, pmo_code, _ = _pmo(conn, me, body.pmo_id)
        out = []
        for kind, value in given.items():
            try:
                added = manual.add_entry(
                    conn, field_code=field_code, day=body.day, kind=kind, value=value,
                    entered_by=me.actor, reason=reason, pmo_code=pmo_code,
                    details={"lab_reference": body.lab_reference,
                             "sampled_at": body.sampled_at.isoformat()},
                    recompute=kind == list(given)[-1],
                )  # fmt: skip
            except manual.ManualEntryError as exc:
                raise ApiError(422, "validation_error", str(exc)) from None
            out.append(added.entry)
        return out

    return [ManualEntryOut.model_validate(e) for e in await state.sync.run(run)]


@router.get("/fields/{field_id}/provings", response_model=list[ProvingOut])
async def list_provings(
    field_id: FieldId,
    state: StateDep,
    me: Reader,
    pmo_id: Annotated[int | None, Query(ge=1, le=MAX_ID32)] = None,
) -> list[ProvingOut]:
    """Meter provings of a field (one PMO, when given), oldest first."""
    require_field_visible(me, field_id)

    def run(conn: Any) -> list[provings.Proving]:
        code = _field(conn, field_id).code
        pmo_code = None
        if pmo_id is not None:
            owner, _, pmo_code, _ = _pmo(conn, me, pmo_id)
            if owner != field_id:
                raise not_found("PMO", pmo_id)
        return provings.list_provings(conn, field_code=code, pmo_code=pmo_code)

    return [ProvingOut.model_validate(p) for p in await state.sync.run(run)]


@router.post("/provings", status_code=201, response_model=ProvingResultOut)
async def record_proving(body: ProvingIn, state: StateDep, me: Approver) -> ProvingResultOut:
    """Record a proving; the stored days from its effective instant are recomputed, and the
    signed ones it changes are listed (they need an amendment)."""

    def run(conn: Any) -> provings.ProvingResult:
        _, field_code, pmo_code, _ = _pmo(conn, me, body.pmo_id)
        try:
            return provings.record_proving(
                conn, field_code=field_code, pmo_code=pmo_code, meter_factor=body.meter_factor,
                proved_at=body.proved_at, run_reference=body.run_reference,
                proved_by=body.proved_by, recorded_by=me.actor,
                effective_from=body.effective_from, notes=body.notes,
            )  # fmt: skip
        except provings.ProvingError as exc:
            raise ApiError(422, "validation_error", str(exc)) from None

    result = await state.sync.run(run)
    return ProvingResultOut(
        proving=ProvingOut.model_validate(result.proving),
        first_day=result.first_day,
        recomputed_days=[r.day.day for r in result.recomputed],
        amendments=list(result.amendments),
    )
