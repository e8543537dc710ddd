"""Liveness, readiness and Prometheus metrics (outside ``/api/v1``, no authentication)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from anh_reporter import __version__
from anh_reporter.api.responses import JsonResponse, dumps
from anh_reporter.api.state import ApiState, api_state
from anh_reporter.errors import first_line
from anh_reporter.observability import multiprocess
from anh_reporter.observability.metrics import REGISTRY, memory_usage_bytes

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 2.0


class Health(BaseModel):
    """The process is up."""

    status: str
    version: str


class ComponentStatus(BaseModel):
    """One dependency's state."""

    ok: bool
    detail: str


class Readiness(BaseModel):
    """Whether the process can serve, and each dependency's state."""

    status: str
    components: dict[str, ComponentStatus]


_ALIVE = dumps({"status": "ok", "version": __version__})  # probes call it often: made once


@router.get("/health", response_model=Health)
async def health() -> JsonResponse:
    """Liveness: answers as long as the process runs (touches nothing else)."""
    return JsonResponse(_ALIVE)


async def _database(state: ApiState) -> tuple[bool, str]:
    async with state.pool.connection() as conn:
        cur = await conn.execute("SELECT 1")
        await cur.fetchone()
    return True, "reachable"


async def _bus(state: ApiState) -> tuple[bool, str]:
    ping: Any = getattr(state.bus, "ping", None)
    if ping is None:
        return True, f"{type(state.bus).__name__} (in process)"
    result = ping()
    if asyncio.iscoroutine(result):
        result = await result
    return (result is not False), f"{type(state.bus).__name__} reachable"


async def _run(check: Any) -> ComponentStatus:
    try:
        ok, detail = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except TimeoutError:
        return ComponentStatus(ok=False, detail=f"no answer within {CHECK_TIMEOUT_S:g} s")
    except Exception as exc:  # a failing dependency is reported, not raised
        # The probe answers anyone: the error text (hosts, roles, database names) goes to the
        # log only; the body names the kind of failure.
        log.warning("readiness check failed: %s", first_line(exc))
        return ComponentStatus(ok=False, detail=f"unavailable ({type(exc).__name__}; see the log)")
    return ComponentStatus(ok=ok, detail=detail)


@router.get("/health/ready", responses={503: {"model": Readiness, "description": "Not ready"}})
async def ready(request: Request) -> JsonResponse:
    """Readiness: database, bus, and the connectors and scheduler when this process runs them."""
    state = api_state(request)
    checks: dict[str, Any] = {
        "database": lambda: _database(state),
        "bus": lambda: _bus(state),
    }
    for name in ("connectors", "scheduler"):
        checks[name] = state.checks.get(name) or _not_here(name)
    checks.update({k: v for k, v in state.checks.items() if k not in checks})
    names = list(checks)
    results = await asyncio.gather(*(_run(checks[n]) for n in names))
    components = dict(zip(names, results, strict=True))
    ok = all(c.ok for c in components.values())
    body = Readiness(status="ready" if ok else "not_ready", components=components)
    return JsonResponse(body.model_dump(), status_code=200 if ok else 503)


def _not_here(name: str) -> Any:
    async def check() -> tuple[bool, str]:
        return True, f"no {name} in this process"

    return check


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics() -> Response:
    """Prometheus metrics (``observability.metrics.REGISTRY``; with ``serve --workers N``, every
    worker's, summed: ``observability.multiprocess``)."""
    registry = multiprocess.aggregate_registry()
    if registry is None:  # one process: its own registry, its own memory
        memory_usage_bytes.labels("api").set(multiprocess.rss_bytes())
        registry = REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
