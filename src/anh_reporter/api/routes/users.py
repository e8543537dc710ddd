"""Users of the caller's operator (``users.manage``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from anh_reporter.api import accounts
from anh_reporter.api.deps import ConnDep, StateDep, require
from anh_reporter.api.errors import ApiError
from anh_reporter.api.params import MAX_ID32
from anh_reporter.api.permissions import Permission, Role
from anh_reporter.api.scoping import Principal
from anh_reporter.api.security import MAX_PASSWORD_CHARS
from anh_reporter.api.stepup import TotpCode, TotpHeader, require_step_up

router = APIRouter(prefix="/users", tags=["users"])
Manager = Annotated[Principal, require(Permission.USERS_MANAGE)]
UserId = Annotated[int, Path(ge=1, le=MAX_ID32)]
FieldIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID32)]], Field(max_length=1000)]


class UserOut(BaseModel):
    """A user as the API shows it (never its hash or TOTP secret)."""

    id: int
    email: str
    operator_id: int
    role: Role
    all_fields: bool
    field_ids: list[int]
    totp_enabled: bool
    disabled: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


def _out(account: accounts.Account) -> UserOut:
    return UserOut(**dataclasses.asdict(account))


_AUDITED = ("role", "all_fields", "field_ids", "disabled")


def _changes(
    before: accounts.Account, after: accounts.Account, *, password: bool
) -> dict[str, object]:
    """What an update changed, before and after (never a password or a hash)."""
    out: dict[str, object] = {
        name: {"before": getattr(before, name), "after": getattr(after, name)}
        for name in _AUDITED
        if getattr(before, name) != getattr(after, name)
    }
    if password:
        out["password"] = "changed"  # noqa: S105 - that it changed; nothing of it
    return out


class UserCreate(BaseModel):
    """A new user: its role, and all of the operator's fields or the listed ones."""

    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_CHARS)]
    role: Role
    all_fields: bool = False
    field_ids: FieldIds = []
    totp: TotpCode | None = Field(None, description="Current TOTP code (admins with TOTP on)")


class UserUpdate(BaseModel):
    """What to change; absent members stay as they are."""

    role: Role | None = None
    all_fields: bool | None = None
    field_ids: FieldIds | None = None
    disabled: bool | None = None
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_CHARS)] | None = None
    totp: TotpCode | None = Field(None, description="Current TOTP code (admins with TOTP on)")


@router.get("")
async def list_users(conn: ConnDep, me: Manager) -> list[UserOut]:
    """Every user of the caller's operator."""
    return [_out(a) for a in await accounts.list_users(conn=conn, operator_id=me.operator_id)]


@router.post("", status_code=201)
async def create_user(
    body: UserCreate, request: Request, conn: ConnDep, state: StateDep, me: Manager
) -> UserOut:
    """Create a user of the caller's operator (with no more fields than the caller sees)."""
    await require_step_up(request, state, me, body.totp)
    await accounts.check_grant(
        conn,
        operator_id=me.operator_id,
        granter_fields=me.field_ids,
        all_fields=body.all_fields,
        field_ids=body.field_ids,
    )
    created = await accounts.create_user(
        conn=conn,
        operator_id=me.operator_id,
        email=body.email,
        password=body.password,
        role=body.role,
        all_fields=body.all_fields,
        field_ids=body.field_ids,
    )
    request.state.audit = {
        "user_id": created.id,
        "email": created.email,
        "created": {name: getattr(created, name) for name in _AUDITED},
    }
    return _out(created)


@router.get("/{user_id}")
async def get_user(user_id: UserId, conn: ConnDep, me: Manager) -> UserOut:
    """One user of the caller's operator."""
    return _out(await accounts.get_user(conn=conn, operator_id=me.operator_id, user_id=user_id))


@router.patch("/{user_id}")
async def update_user(
    user_id: UserId,
    body: UserUpdate,
    request: Request,
    conn: ConnDep,
    state: StateDep,
    me: Manager,
) -> UserOut:
    """Change a user's role, fields, password or disabled flag (their sessions end on the
    last two)."""
    await require_step_up(request, state, me, body.totp)
    if user_id == me.id and (
        (body.role is not None and body.role is not Role.ADMIN) or body.disabled
    ):
        raise ApiError(
            409, "self_lockout", "you cannot demote or disable yourself; ask another admin"
        )
    target = await accounts.get_user(conn=conn, operator_id=me.operator_id, user_id=user_id)
    await accounts.check_grant(
        conn,
        operator_id=me.operator_id,
        granter_fields=me.field_ids,
        all_fields=body.all_fields,
        field_ids=body.field_ids,
        target=target,
    )
    out = await accounts.update_user(
        conn=conn,
        operator_id=me.operator_id,
        user_id=user_id,
        role=body.role,
        all_fields=body.all_fields,
        field_ids=body.field_ids,
        disabled=body.disabled,
        password=body.password,
    )
    state.forget_user(user_id)
    request.state.audit = {
        "user_id": user_id,
        "email": out.email,
        "changes": _changes(target, out, password=body.password is not None),
    }
    return _out(out)


@router.delete("/{user_id}", status_code=204)
async def disable_user(
    user_id: UserId,
    request: Request,
    conn: ConnDep,
    state: StateDep,
    me: Manager,
    x_totp: TotpHeader = None,
) -> Response:
    """Disable a user and end its sessions (users are never erased: the audit log names them)."""
    await require_step_up(request, state, me, x_totp)
    if user_id == me.id:
        raise ApiError(409, "self_lockout", "you cannot disable yourself; ask another admin")
    target = await accounts.get_user(conn=conn, operator_id=me.operator_id, user_id=user_id)
    await accounts.check_grant(
        conn,
        operator_id=me.operator_id,
        granter_fields=me.field_ids,
        all_fields=None,
        field_ids=None,
        target=target,
    )
    await accounts.update_user(
        conn=conn, operator_id=me.operator_id, user_id=user_id, disabled=True
    )
    state.forget_user(user_id)
    request.state.audit = {
        "user_id": user_id,
        "email": target.email,
        "changes": {"disabled": {"before": target.disabled, "after": True}},
    }
    return Response(status_code=204)


@router.post("/{user_id}/unlock", status_code=204)
async def unlock_user(
    user_id: UserId,
    request: Request,
    conn: ConnDep,
    state: StateDep,
    me: Manager,
    x_totp: TotpHeader = None,
) -> Response:
    """Clear a user's failed logins: a lockout ends at once (see ``login_lockout_*``)."""
    await require_step_up(request, state, me, x_totp)
    account = await accounts.get_user(conn=conn, operator_id=me.operator_id, user_id=user_id)
    await state.lockout.clear(account.email)
    request.state.audit = {"user_id": user_id, "email": account.email}
    return Response(status_code=204)
