"""TOTP step-up: signing, amending and user administration need a current code from a user
who has TOTP on, even within a valid session; roles may be made to have TOTP at all.

A code comes as ``"totp"`` in the body, or (for calls without a body: deleting a user,
revoking a key, unlocking, approving an amendment) in the ``X-TOTP`` header. Missing: 401
``totp_required``; wrong, expired or already used (the user's last step is claimed with a
compare-and-set, as at login): 422 ``invalid_totp``, counted as a failed login of the
account (so a stolen session cannot guess codes for long: see ``login_lockout_*``). The
audit entry records that a code was
checked. API keys never reach these actions (they cannot hold the permissions).

``ANH_API__TOTP_REQUIRED_ROLES`` lists roles that must have TOTP: a user of such a role
without it may only use ``/api/v1/auth/*`` (to enrol, see itself, log out) until it turns
TOTP on; anything else answers 403 ``totp_enrolment_required``.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Header, Request
from pydantic import BaseModel, Field

from anh_reporter.api.errors import ApiError
from anh_reporter.api.scoping import Principal
from anh_reporter.api.security import verify_totp
from anh_reporter.api.state import ApiState
from anh_reporter.storage import users

# [0-9], not \d: the pattern engine's \d takes any script's digits (e.g. Arabic-Indic).
TotpCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", examples=["123456"])]
TotpHeader = Annotated[
    str | None,
    Header(
        alias="X-TOTP",
        pattern=r"^[0-9]{6}$",
        description="Current TOTP code (step-up) for users with TOTP on",
    ),
]
ENROLMENT_PATHS = ("/api/v1/auth/",)


class StepUp(BaseModel):
    """The current TOTP code, when the caller has TOTP on."""

    totp: TotpCode | None = None


async def require_step_up(
    request: Request, state: ApiState, me: Principal, *codes: str | None
) -> None:
    """Check the first code given when ``me`` has TOTP on (401 missing, 422 wrong)."""
    if me.kind != "user" or not me.totp_enabled:
        return
    code = next((c for c in codes if c), None)
    if code is None:
        raise ApiError(
            401,
            "totp_required",
            "this action needs a current TOTP code: send 'totp' in the body or the X-TOTP header",
        )
    await state.lockout.check(me.name)  # code guesses count as failed logins of the account
    async with state.auth_pool.connection() as conn:
        user = await users.credentials(conn, me.id)
        step = (
            None
            if user is None or user.totp_secret is None
            else verify_totp(
                user.totp_secret, code, unix_time=time.time(), last_step=user.totp_last_step
            )
        )
        if step is None or not await users.use_totp_step(conn, me.id, step):
            await state.lockout.failed(me.name)
            raise ApiError(422, "invalid_totp", "totp: the TOTP code is wrong, expired or used")
    request.state.audit_totp = True


def check_enrolment(request: Request, state: ApiState, me: Principal) -> None:
    """403 ``totp_enrolment_required`` for a user whose role must have TOTP and has not."""
    if (
        me.kind == "user"
        and not me.totp_enabled
        and me.role in state.api.totp_required_roles
        and not request.url.path.startswith(ENROLMENT_PATHS)
    ):
        raise ApiError(
            403,
            "totp_enrolment_required",
            f"role {me.role!r} must use TOTP: turn it on (POST /api/v1/auth/totp/setup, then "
            "/auth/totp/enable) before anything else",
        )
