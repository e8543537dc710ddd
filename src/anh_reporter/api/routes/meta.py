"""What this server offers: ``GET /api/v1/capabilities`` (public, never cached).

The web UI shows an action only when the server has its endpoint; this answers with every
``operationId`` of the app's OpenAPI document (without the UI fetching the whole document) and
the behaviours that are not endpoints. A feature is listed only when the server has it: those
that come with an endpoint are derived from the operations; the others go in
:data:`DECLARED_FEATURES` in the change that lands them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

from anh_reporter import __version__
from anh_reporter.api.responses import JsonResponse, dumps

router = APIRouter(tags=["meta"])

DECLARED_FEATURES: frozenset[str] = frozenset({"reports.totp_step_up", "ws.auth_message"})
"""Behaviours without an endpoint of their own (e.g. ``ws.auth_message``: the WebSocket takes
its token in a first message; ``reports.totp_step_up``: signing actions take a TOTP code)."""

FEATURES_BY_OPERATIONS: dict[str, frozenset[str]] = {
    # Refresh through an HttpOnly cookie: login with "session": "cookie" and these two routes.
    "auth.cookie_session": frozenset({"auth-refresh_session", "auth-logout_session"}),
}
"""Features that exist exactly when all of their operations do."""


class Capabilities(BaseModel):
    """The server's version, its operation ids and its features, sorted."""

    version: str
    operations: list[str]
    features: list[str]


def operation_ids(document: dict[str, Any]) -> list[str]:
    """Every ``operationId`` of an OpenAPI document, sorted."""
    return sorted(
        {
            op["operationId"]
            for item in document.get("paths", {}).values()
            for op in item.values()
            if isinstance(op, dict) and isinstance(op.get("operationId"), str)
        }
    )


def features(operations: Iterable[str]) -> list[str]:
    """The features this server has, given its operations."""
    have = set(operations)
    derived = {name for name, needs in FEATURES_BY_OPERATIONS.items() if needs <= have}
    return sorted(derived | DECLARED_FEATURES)


@router.get("/capabilities", response_model=Capabilities)
async def get_capabilities(request: Request) -> JsonResponse:
    """What this server offers (no token needed): operation ids and features."""
    app: FastAPI = request.app
    body: bytes | None = getattr(app.state, "capabilities", None)
    if body is None:  # the routes do not change once the app serves: made once
        ops = operation_ids(app.openapi())  # the document is built once and kept by the app
        body = dumps(
            Capabilities(version=__version__, operations=ops, features=features(ops)).model_dump()
        )
        app.state.capabilities = body
    return JsonResponse(body, headers={"Cache-Control": "no-store"})
