"""Login, refresh, logout, the caller's own profile, password and TOTP second factor."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Cookie, Header, Request, Response
from pydantic import BaseModel, Field

from anh_reporter.api import security
from anh_reporter.api.deps import ConnDep, CurrentPrincipal, CurrentUser, StateDep
from anh_reporter.api.errors import ApiError
from anh_reporter.api.permissions import Permission
from anh_reporter.api.ratelimit import Limit
from anh_reporter.api.security import unauthenticated
from anh_reporter.api.stepup import TotpCode
from anh_reporter.storage import users

router = APIRouter(prefix="/auth", tags=["auth"])

Email = Annotated[str, Field(min_length=3, max_length=254, examples=["ana@operadora.co"])]
Password = Annotated[str, Field(min_length=1, max_length=security.MAX_PASSWORD_CHARS)]


class LoginRequest(BaseModel):
    """Email and password, and the current TOTP code when the second factor is on."""

    email: Email
    password: Password
    totp: TotpCode | None = None
    session: Literal["token", "cookie"] = Field(
        "token",
        description="'cookie': the refresh token comes as an HttpOnly cookie for "
        f"{security.SESSION_PATH} (not in the body); needs the {security.CSRF_HEADER} header",
    )


class TokenResponse(BaseModel):
    """An access token (``Authorization: Bearer``) and the refresh token to renew it (null in a
    cookie session: the token is in the HttpOnly cookie)."""

    access_token: str
    refresh_token: str | None
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
    totp_enabled: bool = Field(description="The caller (a user) has TOTP on")
    totp_required: bool = Field(description="The caller's role must use TOTP")


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


async def _audit_as(
    request: Request, conn: ConnDep, user_id: int, details: dict[str, object]
) -> None:
    """Name the user (and its operator, so the operator's auditors see it) in the audit entry
    of a call authenticated by a refresh token rather than an access token."""
    user = await users.credentials(conn, user_id)
    request.state.audit_actor = f"user:{user_id}"
    if user is not None:
        request.state.audit_operator_id = user.operator_id
    request.state.audit = details


async def _account_budget(state: StateDep, email: str) -> None:
    """429 once an account has had its login attempts for the minute, from wherever they came
    (the per-client limit alone lets a botnet, or everyone behind one proxy, share one)."""
    limit = Limit("login_account", state.api.auth_account_rate_per_minute)
    wait_ms = await state.limiter.hit(email, limit)
    if wait_ms > 0:
        retry = max(1, math.ceil(wait_ms / 1000))
        raise ApiError(
            429,
            "rate_limited",
            f"too many login attempts for this account: the limit is {limit.per_minute} per "
            f"minute per account; retry in {retry} s",
            headers={"Retry-After": str(retry)},
        )


SessionCookie = Annotated[
    str | None,
    Cookie(alias=security.SESSION_COOKIE, description="The refresh token (set by the server)"),
]
CsrfHeader = Annotated[
    str | None,
    Header(alias=security.CSRF_HEADER, description="Must be '1' (CSRF protection)"),
]
CSRF_RESPONSES: dict[int | str, dict[str, object]] = {
    403: {"description": f"No {security.CSRF_HEADER} header, or a foreign Origin"}
}


def _check_csrf(request: Request, csrf: str | None) -> None:
    security.check_csrf(csrf, request.headers.get("origin"), request.headers.get("host"))


@router.post(
    "/login",
    responses={401: {"description": "Wrong credentials or TOTP required"}, **CSRF_RESPONSES},
)
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    conn: ConnDep,
    state: StateDep,
    csrf: CsrfHeader = None,
) -> TokenResponse:
    """Exchange email and password (and TOTP code) for a token pair; starts a session.

    With ``"session": "cookie"`` the refresh token is set as an HttpOnly, Secure,
    SameSite=Strict cookie for ``/api/v1/auth/session`` instead of in the body.
    """
    if body.session == "cookie":
        _check_csrf(request, csrf)
    email = body.email.strip().lower()
    request.state.audit_actor = f"login:{email}"
    await _account_budget(state, email)
    await state.lockout.check(email)
    user = await users.credentials_by_email(conn, email)
    if user is not None:
        # Failed attempts on an account belong in its operator's audit log too.
        request.state.audit_operator_id = user.operator_id
    # argon2 takes tens of milliseconds of CPU: off the event loop.
    ok = await asyncio.to_thread(
        security.verify_password, user.password_hash if user else None, body.password
    )
    if user is None or not ok or user.disabled:
        await state.lockout.failed(email)
        raise unauthenticated("invalid_credentials", "wrong email or password")
    user_id, operator_id, role = user.id, user.operator_id, user.role
    if user.totp_enabled:
        if body.totp is None:
            raise unauthenticated("totp_required", "this account needs a TOTP code: send 'totp'")
        # The table's CHECK: a user with TOTP on has a secret.
        assert user.totp_secret is not None  # noqa: S101 - narrows for mypy
        step = security.verify_totp(
            user.totp_secret, body.totp, unix_time=time.time(), last_step=user.totp_last_step
        )
        if step is None or not await users.use_totp_step(conn, user_id, step):
            await state.lockout.failed(email)
            raise unauthenticated("invalid_totp", "the TOTP code is wrong, expired or used")
    await state.lockout.clear(email)
    if security.password_needs_rehash(user.password_hash):
        await users.rehash_password(
            conn, user_id, await asyncio.to_thread(security.hash_password, body.password)
        )
    await users.record_login(conn, user_id)
    refresh = await security.issue_refresh(
        conn, user_id=user_id, ttl_s=state.api.refresh_token_ttl_s, client=_client(request)
    )
    request.state.audit = {"family": str(refresh.family_id)}
    access = state.tokens.issue(
        user_id=user_id, operator_id=operator_id, role=role, family_id=refresh.family_id
    )
    if body.session == "cookie":
        cookie = security.session_cookie(refresh.token, state.api.refresh_token_ttl_s)
        response.headers.append("set-cookie", cookie)
        return TokenResponse(access_token=access, refresh_token=None, expires_in=state.tokens.ttl_s)
    return TokenResponse(
        access_token=access, refresh_token=refresh.token, expires_in=state.tokens.ttl_s
    )


async def _rotate(
    token: str, request: Request, conn: ConnDep, state: StateDep
) -> tuple[str, security.RefreshIssued]:
    """Spend a refresh token: a new access token and the next refresh token of its family."""
    found = await security.family_of(conn, token)
    if found is not None:
        family_id, user_id = found
        await _audit_as(request, conn, user_id, {"family": str(family_id)})
    try:
        new = await security.rotate_refresh(
            conn, token, ttl_s=state.api.refresh_token_ttl_s, client=_client(request)
        )
    except ApiError as exc:
        if found is not None:
            state.forget_user(found[1])
            if exc.code == "refresh_token_reused":
                request.state.audit["reuse_detected"] = "session revoked"
        raise
    user = await users.credentials(conn, new.user_id)
    if user is None:
        raise unauthenticated("invalid_refresh_token", "the refresh token is not valid")
    request.state.audit_operator_id = user.operator_id
    access = state.tokens.issue(
        user_id=new.user_id, operator_id=user.operator_id, role=user.role, family_id=new.family_id
    )
    return access, new


@router.post("/refresh")
async def refresh(
    body: RefreshRequest, request: Request, conn: ConnDep, state: StateDep
) -> TokenResponse:
    """Spend a refresh token for a new pair; reusing a spent one ends the whole session."""
    access, new = await _rotate(body.refresh_token, request, conn, state)
    return TokenResponse(
        access_token=access, refresh_token=new.token, expires_in=state.tokens.ttl_s
    )


@router.post(
    "/session/refresh",
    responses={
        401: {"description": "No session, or it ended (the cookie is cleared)"},
        **CSRF_RESPONSES,
    },
)
async def refresh_session(
    request: Request,
    response: Response,
    conn: ConnDep,
    state: StateDep,
    cookie: SessionCookie = None,
    csrf: CsrfHeader = None,
) -> TokenResponse:
    """Renew a cookie session: spends the cookie's refresh token exactly like ``/refresh``
    (reusing a spent one ends the whole session) and sets the next one."""
    _check_csrf(request, csrf)
    try:
        if not cookie:
            raise unauthenticated("no_session", f"no {security.SESSION_COOKIE} cookie: log in")
        access, new = await _rotate(cookie, request, conn, state)
    except ApiError as exc:
        exc.headers = {**(exc.headers or {}), "Set-Cookie": security.CLEAR_SESSION_COOKIE}
        raise
    cookie_value = security.session_cookie(new.token, state.api.refresh_token_ttl_s)
    response.headers.append("set-cookie", cookie_value)
    return TokenResponse(access_token=access, refresh_token=None, expires_in=state.tokens.ttl_s)


@router.post("/session/logout", status_code=204, responses=CSRF_RESPONSES)
async def logout_session(
    request: Request,
    conn: ConnDep,
    state: StateDep,
    cookie: SessionCookie = None,
    csrf: CsrfHeader = None,
) -> Response:
    """End the cookie session (its access tokens stop working too) and clear the cookie."""
    _check_csrf(request, csrf)
    found = await security.family_of(conn, cookie) if cookie else None
    if found is not None:
        family_id, user_id = found
        await _audit_as(request, conn, user_id, {"family": str(family_id)})
        await security.revoke_family(conn, family_id, reason="logout")
        state.forget_user(user_id)
    out = Response(status_code=204)
    out.headers.append("set-cookie", security.CLEAR_SESSION_COOKIE)
    return out


@router.post("/logout", status_code=204)
async def logout(
    body: RefreshRequest, request: Request, conn: ConnDep, state: StateDep
) -> Response:
    """End the session of this refresh token (its access tokens stop working too)."""
    found = await security.family_of(conn, body.refresh_token)
    if found is None:
        raise unauthenticated("invalid_refresh_token", "the refresh token is not valid")
    family_id, user_id = found
    await _audit_as(request, conn, user_id, {"family": str(family_id)})
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
async def me(principal: CurrentPrincipal, state: StateDep) -> MeResponse:
    """The caller, its permissions and its fields."""
    return MeResponse(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        operator_id=principal.operator_id,
        role=principal.role,
        permissions=sorted(principal.permissions),
        field_ids=principal.fields,
        totp_enabled=principal.totp_enabled,
        totp_required=principal.kind == "user" and principal.role in state.api.totp_required_roles,
    )


@router.post("/password", status_code=204)
async def change_password(
    body: PasswordChange, conn: ConnDep, state: StateDep, me: CurrentUser
) -> Response:
    """Change the caller's password; every other session of the caller ends."""
    await state.lockout.check(me.name)  # guesses with a stolen session count as failed logins
    user = await users.credentials(conn, me.id)
    if user is None or not await asyncio.to_thread(
        security.verify_password, user.password_hash, body.current_password
    ):
        await state.lockout.failed(me.name)
        raise ApiError(403, "invalid_credentials", "current_password: wrong password")
    security.check_password_policy(body.new_password, email=me.name)
    await users.change_password(
        conn, me.id, await asyncio.to_thread(security.hash_password, body.new_password)
    )
    await security.revoke_user_sessions(conn, me.id, reason="password changed", keep=me.family_id)
    state.forget_user(me.id)
    return Response(status_code=204)


@router.post("/totp/setup")
async def totp_setup(conn: ConnDep, state: StateDep, me: CurrentUser) -> TotpSetup:
    """Start enrolling a TOTP second factor (refused while one is on)."""
    user = await users.credentials(conn, me.id)
    if user is not None and user.totp_enabled:
        raise ApiError(409, "totp_already_enabled", "TOTP is already on; disable it first")
    secret = security.new_totp_secret()
    await users.start_totp(conn, me.id, secret)
    return TotpSetup(
        secret=secret,
        otpauth_uri=security.otpauth_uri(secret, account=me.name, issuer=state.api.totp_issuer),
    )


async def _check_code(
    conn: ConnDep, state: StateDep, me: CurrentUser, code: str
) -> tuple[bool, int]:
    user_id = me.id
    await state.lockout.check(me.name)  # code guesses count as failed logins
    user = await users.credentials(conn, user_id)
    if user is None or user.totp_secret is None:
        raise ApiError(409, "totp_not_set_up", "call /auth/totp/setup first")
    step = security.verify_totp(
        user.totp_secret, code, unix_time=time.time(), last_step=user.totp_last_step
    )
    if step is None or (user.totp_enabled and not await users.use_totp_step(conn, user_id, step)):
        await state.lockout.failed(me.name)
        raise ApiError(422, "invalid_totp", "code: the TOTP code is wrong, expired or used")
    return user.totp_enabled, step


@router.post("/totp/enable", status_code=204)
async def totp_enable(
    body: TotpConfirm, conn: ConnDep, state: StateDep, me: CurrentUser
) -> Response:
    """Turn the second factor on by proving the app shows the right codes."""
    enabled, step = await _check_code(conn, state, me, body.code)
    if enabled:
        raise ApiError(409, "totp_already_enabled", "TOTP is already on")
    if not await users.enable_totp(conn, me.id, step):
        raise ApiError(422, "invalid_totp", "code: the TOTP code is wrong, expired or used")
    state.forget_user(me.id)  # step-up applies from the next request on
    return Response(status_code=204)


@router.post("/totp/disable", status_code=204)
async def totp_disable(
    body: TotpConfirm, conn: ConnDep, state: StateDep, me: CurrentUser
) -> Response:
    """Turn the second factor off (needs a current code)."""
    enabled, _ = await _check_code(conn, state, me, body.code)
    if not enabled:
        raise ApiError(409, "totp_not_enabled", "TOTP is not on")
    await users.disable_totp(conn, me.id)
    state.forget_user(me.id)
    return Response(status_code=204)
