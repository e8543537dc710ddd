"""``GET /api/v1/capabilities``: what this server offers, for the web UI (no authentication).

``operations`` are the operation ids of the OpenAPI document; ``features`` the behaviours that
are not endpoints (see web/BACKEND_NEEDS.md): ``ws.auth_message`` (the WebSocket takes its
token as a first message, so the UI stops putting it in the URL) and ``reports.totp_step_up``
(signing and amending take ``totp`` from users with TOTP on).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from anh_reporter import __version__
from anh_reporter.api.responses import JsonResponse

router = APIRouter(tags=["meta"])
FEATURES = ("reports.totp_step_up", "ws.auth_message")
_METHODS = frozenset({"get", "put", "post", "patch", "delete"})


class Capabilities(BaseModel):
    """The server's version, operations and features."""

    version: str
    operations: list[str]
    features: list[str]


@router.get("/capabilities", response_model=Capabilities)
async def get_capabilities(request: Request) -> JsonResponse:
    """What this server offers: every operation id, and the features beyond endpoints."""
    schema = request.app.openapi()
    operations = sorted(
        str(op["operationId"])
        for methods in schema.get("paths", {}).values()
        for method, op in methods.items()
        if method in _METHODS and "operationId" in op
    )
    return JsonResponse(
        {"version": __version__, "operations": operations, "features": list(FEATURES)},
        headers={"Cache-Control": "no-store"},
    )
