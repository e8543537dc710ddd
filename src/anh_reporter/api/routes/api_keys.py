"""API keys for machines (``users.manage``): shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from anh_reporter.api.accounts import sees_all_fields
from anh_reporter.api.deps import ConnDep, StateDep, require
from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.api.params import MAX_ID32
from anh_reporter.api.permissions import API_KEY_SCOPES, Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.api.security import new_api_key
from anh_reporter.api.stepup import TotpCode, TotpHeader, require_step_up
from anh_reporter.storage import api_keys

router = APIRouter(prefix="/api-keys", tags=["api-keys"])
Manager = Annotated[Principal, require(Permission.USERS_MANAGE)]
KeyId = Annotated[int, Path(ge=1, le=MAX_ID32)]


class ApiKeyCreate(BaseModel):
    """A key's name, its scopes, and (optionally) the only fields it may touch."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: Annotated[list[Permission], Field(min_length=1, max_length=20)]
    field_ids: (
        Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID32)]], Field(max_length=1000)] | None
    ) = None
    expires_at: dt.datetime | None = None
    totp: TotpCode | None = Field(None, description="Current TOTP code (admins with TOTP on)")


class ApiKeyOut(BaseModel):
    """A key as listed (never the key itself)."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    field_ids: list[int] | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    """A new key: ``key`` is shown this once and cannot be recovered."""

    key: str


def _key(row: api_keys.ApiKeyRow) -> ApiKeyOut:
    return ApiKeyOut.model_validate(row, from_attributes=True)


@router.get("")
async def list_api_keys(conn: ConnDep, me: Manager) -> list[ApiKeyOut]:
    """The operator's API keys."""
    return [_key(r) for r in await api_keys.list_keys(conn, me.operator_id)]


@router.post("", status_code=201)
async def create_api_key(
    body: ApiKeyCreate, request: Request, conn: ConnDep, state: StateDep, me: Manager
) -> ApiKeyCreated:
    """Create a key with some of the machine scopes; the answer is the only copy of the key."""
    await require_step_up(request, state, me, body.totp)
    for scope in body.scopes:
        if scope not in API_KEY_SCOPES:
            raise ApiError(
                422,
                "invalid_scope",
                f"scopes: {scope.value!r} cannot be given to an API key; allowed: "
                f"{sorted(s.value for s in API_KEY_SCOPES)}",
            )
    if body.field_ids is None and not await sees_all_fields(conn, me.operator_id, me.field_ids):
        raise ApiError(
            403,
            "beyond_your_fields",
            "field_ids: you do not see every field of the operator, so a key for all fields "
            "would give more than you have; list the fields (of yours) it may touch",
        )
    if body.field_ids is not None:
        for fid in body.field_ids:
            if fid not in me.field_ids:
                raise ApiError(422, "unknown_field", f"field_ids: field {fid} is not yours")
    if body.expires_at is not None and body.expires_at.tzinfo is None:
        raise ApiError(422, "validation_error", "expires_at: give a time zone (e.g. Z)")
    new = new_api_key()
    stored = await api_keys.create_key(
        conn,
        operator_id=me.operator_id,
        name=body.name,
        prefix=new.prefix,
        digest=new.digest,
        scopes=sorted({s.value for s in body.scopes}),
        field_ids=None if body.field_ids is None else sorted(set(body.field_ids)),
        created_by=me.id if me.kind == "user" else None,
        expires_at=body.expires_at,
    )
    if stored is None:
        raise ApiError(409, "name_taken", f"name: an API key named {body.name!r} exists")
    request.state.audit = {
        "key_id": stored.id,
        "name": stored.name,
        "prefix": stored.prefix,
        "scopes": stored.scopes,
        "field_ids": stored.field_ids,
        "expires_at": stored.expires_at,
    }
    return ApiKeyCreated(**_key(stored).model_dump(), key=new.key)


@router.delete("/{key_id}", status_code=204)
async def revoke_api_key(
    key_id: KeyId,
    request: Request,
    conn: ConnDep,
    state: StateDep,
    me: Manager,
    x_totp: TotpHeader = None,
) -> Response:
    """Revoke a key; it stops working at once in this process, within seconds elsewhere."""
    await require_step_up(request, state, me, x_totp)
    if not await api_keys.revoke_key(conn, operator_id=me.operator_id, key_id=key_id):
        raise not_found("API key", key_id)
    request.state.audit = {"key_id": key_id}
    state.forget_all()
    return Response(status_code=204)
