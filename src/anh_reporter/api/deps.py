"""Dependencies routes declare: a database connection, the caller, a permission.

``conn: ConnDep``, ``me: CurrentUser`` (a person), ``caller: CurrentPrincipal`` (a person or
an API key), ``caller: Annotated[Principal, require(Permission.REPORTS_AMEND)]``.

The caller is resolved by one dependency (:class:`Authenticated`) that reads the headers
itself: FastAPI spends about as much on each dependency of a request as a cached answer costs,
so authentication is one dependency, not a chain of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from psycopg import AsyncConnection

from anh_reporter.api.errors import ApiError
from anh_reporter.api.permissions import Permission
from anh_reporter.api.scoping import Principal
from anh_reporter.api.security import API_KEY_PREFIX, unauthenticated
from anh_reporter.api.state import ApiState, api_state
from anh_reporter.api.stepup import check_enrolment

BEARER_SCHEME = "HTTPBearer"
API_KEY_SCHEME = "APIKeyHeader"
API_KEY_HEADER = "X-API-Key"


async def _state(request: Request) -> ApiState:
    # async on purpose: FastAPI runs a plain ``def`` dependency in a worker thread, a hop that
    # cost more than the rest of a cached request.
    return api_state(request)


StateDep = Annotated[ApiState, Depends(_state)]


async def _connection(request: Request) -> AsyncIterator[AsyncConnection[Any]]:
    async with api_state(request).pool.connection() as conn:
        yield conn


ConnDep = Annotated[AsyncConnection[Any], Depends(_connection)]
"""A pooled autocommit connection for the request (open a transaction to write)."""


async def authenticate(request: Request) -> Principal:
    """The caller of a request (``X-API-Key``, or ``Authorization: Bearer`` with an access
    token or an API key), or 401; kept on ``request.state.principal`` for the audit log."""
    state = api_state(request)
    headers = request.headers
    api_key = headers.get(API_KEY_HEADER)
    if api_key:
        principal = await state.api_key_principal(api_key)
    else:
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthenticated(
                "unauthenticated",
                "this endpoint needs 'Authorization: Bearer <access token>' or an 'X-API-Key'",
            )
        if token.startswith(API_KEY_PREFIX):
            principal = await state.api_key_principal(token)
        else:
            principal = await state.user_principal(token)
    request.state.principal = principal
    check_enrolment(request, state, principal)
    return principal


class Authenticated(SecurityBase):
    """Dependency: the authenticated caller, who must hold ``permission`` (403 otherwise) and,
    with ``users_only``, be a person. Declared in OpenAPI as bearer authentication (the
    ``X-API-Key`` scheme is added beside it by :func:`document_api_key`)."""

    def __init__(self, permission: Permission | None = None, *, users_only: bool = False) -> None:
        self.model = HTTPBearerModel(description="Access token, or an API key (anh_...)")
        self.scheme_name = BEARER_SCHEME
        self.permission = permission
        self.users_only = users_only

    async def __call__(self, request: Request) -> Principal:
        """Authenticate the request, then check what this dependency requires."""
        principal = await authenticate(request)
        if self.users_only and principal.kind != "user":
            raise ApiError(403, "forbidden", "this endpoint is for users; API keys cannot use it")
        if self.permission is not None:
            principal.check(self.permission)
        return principal


CurrentPrincipal = Annotated[Principal, Depends(Authenticated())]
CurrentUser = Annotated[Principal, Depends(Authenticated(users_only=True))]


def require(permission: Permission) -> Any:
    """``Depends`` that yields the caller after checking it holds ``permission`` (else 403)."""
    return Depends(Authenticated(permission))


def document_api_key(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the ``X-API-Key`` scheme to an OpenAPI document wherever bearer auth is accepted."""
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[API_KEY_SCHEME] = {
        "type": "apiKey",
        "in": "header",
        "name": API_KEY_HEADER,
        "description": "API key (machines)",
    }
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            security = operation.get("security")
            if isinstance(security, list) and {BEARER_SCHEME: []} in security:
                security.append({API_KEY_SCHEME: []})
    return schema
