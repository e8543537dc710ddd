"""Login, refresh, logout, the caller's own profile, password and TOTP second factor."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from anh_reporter.api import security
from anh_reporter.api.deps import ConnDep, CurrentPrincipal, CurrentUser, StateDep
from anh_reporter.api.errors import ApiError
from anh_reporter.api.permissions import Permission
from anh_reporter.api.security import unauthenticated

router = APIRouter(prefix="/auth", tags=["auth"])

Email = Annotated[str, Field(min_length=3, max_length=254, examples=["ana@operadora.co"])]
Password = Annotated[str, Field(min_length=1, max_length=security.MAX_PASSWORD_CHARS)]
TotpCode = Annotated[str, Field(pattern=r"^\d{6}$", examples=["123456"])]


class LoginRequest(BaseModel):
    """Email and password, and the current TOTP code when the second factor is on."""

    email: Email
    password: Password
    totp: TotpCode | None = None


class TokenResponse(BaseModel):
    """An access token (``Authorization: Bearer``) and the refresh token to renew it."""

    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="Seconds the access token is valid")


class RefreshRequest(BaseModel):
    """The refresh token to spend."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class MeResponse(BaseModel):
    """Who the caller is and what it may do and see."""

    kind: str
    id: int
    name: str
    operator_id: int
    role: str
    permissions: list[Permission]
    field_ids: list[int]


class PasswordChange(BaseModel):
    """The current password, and the new one."""

    current_password: Password
    new_password: Password


class TotpSetup(BaseModel):
    """A new TOTP secret, to enter in an authenticator app; on only after ``/totp/enable``."""

    secret: str
    otpauth_uri: str


class TotpConfirm(BaseModel):
    """A current code from the authenticator app."""

    code: TotpCode


def _client(request: Request) -> str:
    agent = request.headers.get("user-agent", "")[:120]
    host = request.client.host if request.client else "?"
    return f"{host} {agent}".strip()


@router.post("/login", responses={401: {"description": "Wrong credentials or TOTP required"}})
async def login(
    body: LoginRequest, request: Request, conn: ConnDep, state: StateDep
) -> TokenResponse:
    """Exchange email and password (and TOTP code) for a token pair; starts a session."""
    email = body.email.strip().lower()
    request.state.audit_actor = f"login:{email}"
    cur = await conn.execute(
        "SELECT id, password_hash, operator_id, role, disabled, totp_enabled, totp_secret, "
        "totp_last_step FROM users WHERE email = %s",
        (email,),
    )
    row = await cur.fetchone()
    if row is not None:
        # Failed attempts on an account belong in its operator's audit log too.
        request.state.audit_operator_id = row[2]
    # argon2 takes tens of milliseconds of CPU: off the event loop.
    ok = await asyncio.to_thread(security.verify_password, row[1] if row else None, body.password)
    if row is None or not ok or row[4]:
        raise unauthenticated("invalid_credentials", "wrong email or password")
    user_id, password_hash, operator_id, role, _, totp_enabled, totp_secret, last_step = row
    if totp_enabled:
        if body.totp is None:
            raise unauthenticated("totp_required", "this account needs a TOTP code: send 'totp'")
        step = security.verify_totp(
            totp_secret, body.totp, unix_time=time.time(), last_step=last_step
        )
        if step is None:
            raise unauthenticated("invalid_totp", "the TOTP code is wrong, expired or used")
        await conn.execute("UPDATE users SET totp_last_step = %s WHERE id = %s", (step, user_id))
    if security.password_needs_rehash(password_hash):
        await conn.execute(
            "UPDATE users SET password_hash = %s WHERE id = %s",
            (await asyncio.to_thread(security.hash_password, body.password), user_id),
        )
    await conn.execute("UPDATE users SET last_login_at = now() WHERE id = %s", (user_id,))
    refresh = await security.issue_refresh(
        conn, user_id=user_id, ttl_s=state.api.refresh_token_ttl_s, client=_client(request)
    )
    request.state.audit = {"family": str(refresh.family_id)}
    access = state.tokens.issue(
        user_id=user_id, operator_id=operator_id, role=role, family_id=refresh.family_id
    )
    return TokenResponse(
        access_token=access, refresh_token=refresh.token, expires_in=state.tokens.ttl_s
    )


@router.post("/refresh")
async def refresh(
    body: RefreshRequest, request: Request, conn: ConnDep, state: StateDep
) -> TokenResponse:
    """Spend a refresh token for a new pair; reusing a spent one ends the whole session."""
    found = await security.family_of(conn, body.refresh_token)
    if found is not None:
        family_id, user_id = found
        request.state.audit_actor = f"user:{user_id}"
        request.state.audit = {"family": str(family_id)}
    try:
        new = await security.rotate_refresh(
            conn, body.refresh_token, ttl_s=state.api.refresh_token_ttl_s, client=_client(request)
        )
    except ApiError:
        if found is not None:
            state.forget_user(found[1])
        raise
    cur = await conn.execute("SELECT operator_id, role FROM users WHERE id = %s", (new.user_id,))
    row = await cur.fetchone()
    if row is None:
        raise unauthenticated("invalid_refresh_token", "the refresh token is not valid")
    request.state.audit_operator_id = row[0]
    access = state.tokens.issue(
        user_id=new.user_id, operator_id=row[0], role=row[1], family_id=new.family_id
    )
    return TokenResponse(
        access_token=access, refresh_token=new.token, expires_in=state.tokens.ttl_s
    )


@router.post("/logout", status_code=204)
async def logout(
    body: RefreshRequest, request: Request, conn: ConnDep, state: StateDep
) -> Response:
    """End the session of this refresh token (its access tokens stop working too)."""
    found = await security.family_of(conn, body.refresh_token)
    if found is None:
        raise unauthenticated("invalid_refresh_token", "the refresh token is not valid")
    family_id, user_id = found
    request.state.audit_actor = f"user:{user_id}"
    request.state.audit = {"family": str(family_id)}
    await security.revoke_family(conn, family_id, reason="logout")
    state.forget_user(user_id)
    return Response(status_code=204)


@router.post("/logout-all", status_code=204)
async def logout_all(conn: ConnDep, state: StateDep, me: CurrentUser) -> Response:
    """End every session of the caller, on every device."""
    await security.revoke_user_sessions(conn, me.id, reason="logout everywhere")
    state.forget_user(me.id)
    return Response(status_code=204)


@router.get("/me")
async def me(principal: CurrentPrincipal) -> MeResponse:
    """The caller, its permissions and its fields."""
    return MeResponse(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        operator_id=principal.operator_id,
        role=principal.role,
        permissions=sorted(principal.permissions),
        field_ids=principal.fields,
    )


@router.post("/password", status_code=204)
async def change_password(
    body: PasswordChange, conn: ConnDep, state: StateDep, me: CurrentUser
) -> Response:
    """Change the caller's password; every other session of the caller ends."""
    cur = await conn.execute("SELECT password_hash FROM users WHERE id = %s", (me.id,))
    row = await cur.fetchone()
    if row is None or not await asyncio.to_thread(
        security.verify_password, row[0], body.current_password
    ):
        raise ApiError(403, "invalid_credentials", "current_password: wrong password")
    security.check_password_policy(body.new_password)
    await conn.execute(
        "UPDATE users SET password_hash = %s, updated_at = now() WHERE id = %s",
        (await asyncio.to_thread(security.hash_password, body.new_password), me.id),
    )
    await security.revoke_user_sessions(conn, me.id, reason="password changed", keep=me.family_id)
    state.forget_user(me.id)
    return Response(status_code=204)


@router.post("/totp/setup")
async def totp_setup(conn: ConnDep, state: StateDep, me: CurrentUser) -> TotpSetup:
    """Start enrolling a TOTP second factor (refused while one is on)."""
    cur = await conn.execute("SELECT totp_enabled FROM users WHERE id = %s", (me.id,))
    row = await cur.fetchone()
    if row is not None and row[0]:
        raise ApiError(409, "totp_already_enabled", "TOTP is already on; disable it first")
    secret = security.new_totp_secret()
    await conn.execute(
        "UPDATE users SET totp_secret = %s, totp_last_step = NULL WHERE id = %s", (secret, me.id)
    )
    return TotpSetup(
        secret=secret,
        otpauth_uri=security.otpauth_uri(secret, account=me.name, issuer=state.api.totp_issuer),
    )


async def _check_code(conn: ConnDep, user_id: int, code: str) -> tuple[bool, int]:
    cur = await conn.execute(
        "SELECT totp_secret, totp_last_step, totp_enabled FROM users WHERE id = %s", (user_id,)
    )
    row = await cur.fetchone()
    if row is None or row[0] is None:
        raise ApiError(409, "totp_not_set_up", "call /auth/totp/setup first")
    step = security.verify_totp(row[0], code, unix_time=time.time(), last_step=row[1])
    if step is None:
        raise ApiError(422, "invalid_totp", "code: the TOTP code is wrong, expired or used")
    return bool(row[2]), step


@router.post("/totp/enable", status_code=204)
async def totp_enable(body: TotpConfirm, conn: ConnDep, me: CurrentUser) -> Response:
    """Turn the second factor on by proving the app shows the right codes."""
    enabled, step = await _check_code(conn, me.id, body.code)
    if enabled:
        raise ApiError(409, "totp_already_enabled", "TOTP is already on")
    await conn.execute(
        "UPDATE users SET totp_enabled = true, totp_last_step = %s WHERE id = %s", (step, me.id)
    )
    return Response(status_code=204)


@router.post("/totp/disable", status_code=204)
async def totp_disable(body: TotpConfirm, conn: ConnDep, me: CurrentUser) -> Response:
    """Turn the second factor off (needs a current code)."""
    enabled, _ = await _check_code(conn, me.id, body.code)
    if not enabled:
        raise ApiError(409, "totp_not_enabled", "TOTP is not on")
    await conn.execute(
        "UPDATE users SET totp_enabled = false, totp_secret = NULL, totp_last_step = NULL "
        "WHERE id = %s",
        (me.id,),
    )
    return Response(status_code=204)
