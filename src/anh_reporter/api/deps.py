"""Dependencies routes declare: a database connection, the caller, a permission.

``conn: ConnDep``, ``me: CurrentUser`` (a person), ``caller: CurrentPrincipal`` (a person or
an API key), ``caller: Annotated[Principal, require(Permission.REPORTS_SIGN)]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection

from anh_reporter.api.errors import ApiError
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.api.security import API_KEY_PREFIX, unauthenticated
from anh_reporter.api.state import ApiState, api_state

# Declared for the OpenAPI document (the "Authorize" button); checked by current_principal.
_bearer = HTTPBearer(auto_error=False, description="Access token, or an API key (anh_...)")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key (machines)")

StateDep = Annotated[ApiState, Depends(api_state)]


async def _connection(request: Request) -> AsyncIterator[AsyncConnection[Any]]:
    async with api_state(request).pool.connection() as conn:
        yield conn


ConnDep = Annotated[AsyncConnection[Any], Depends(_connection)]
"""A pooled autocommit connection for the request (open a transaction to write)."""


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The authenticated caller (token or API key), or 401."""
    state = api_state(request)
    if api_key:
        principal = await state.api_key_principal(api_key)
    elif bearer is not None and bearer.credentials:
        token = bearer.credentials
        if token.startswith(API_KEY_PREFIX):
            principal = await state.api_key_principal(token)
        else:
            principal = await state.user_principal(token)
    else:
        raise unauthenticated(
            "unauthenticated",
            "this endpoint needs 'Authorization: Bearer <access token>' or an 'X-API-Key'",
        )
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def current_user(principal: CurrentPrincipal) -> Principal:
    """The caller, who must be a person (not an API key)."""
    if principal.kind != "user":
        raise ApiError(403, "forbidden", "this endpoint is for users; API keys cannot use it")
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def require(permission: Permission) -> Any:
    """``Depends`` that yields the caller after checking it holds ``permission`` (else 403)."""

    async def checked(principal: CurrentPrincipal) -> Principal:
        principal.check(permission)
        return principal

    checked.__name__ = f"require_{permission.name.lower()}"
    dependency: Callable[..., Coroutine[Any, Any, Principal]] = checked
    return Depends(dependency)
