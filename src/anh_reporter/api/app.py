"""The FastAPI application: ``create_app(settings, database, bus)``.

REST under ``/api/v1`` (OpenAPI document at ``/api/openapi.json``), the live WebSocket
under ``/ws``, and ``/health``, ``/health/ready``, ``/metrics`` at the root. Middleware,
outermost first: security headers, CORS (when origins are configured), latency metrics,
rate limits, body size limits, audit log.

With ``writer=True`` (``serve`` without ``ANH_REDIS_URL``: the bus is in this process, and no
``worker`` can read it) the app's lifespan also runs the ingest writer
(:class:`~anh_reporter.ingest.pipeline.IngestPipeline`) on that bus: readings posted to
``/api/v1/ingest/readings`` are written to PostgreSQL as a worker would, and on shutdown it
writes everything still on the bus before the process ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from redis.asyncio import Redis
from starlette.middleware.cors import CORSMiddleware

from anh_reporter import __version__
from anh_reporter.api.cache import ResponseCache
from anh_reporter.api.deps import document_api_key
from anh_reporter.api.errors import ERROR_RESPONSES, install_error_handlers
from anh_reporter.api.lockout import LoginLockout
from anh_reporter.api.middleware import (
    API_PREFIX,
    AuditMiddleware,
    BodySizeLimitMiddleware,
    MetricsMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from anh_reporter.api.pool import ConnectionPool, SyncPool
from anh_reporter.api.ratelimit import Limit, RateLimiter, RateLimitMiddleware
from anh_reporter.api.redact import install_log_redaction
from anh_reporter.api.revocation import Revocations
from anh_reporter.api.routes import (
    analytics,
    anomalies,
    api_keys,
    audit,
    auth,
    config_log,
    fields,
    health,
    ingest,
    meta,
    monthly,
    operators,
    pmos,
    production,
    production_day,
    reports,
    security,
    series,
    telemetry,
    users,
    well_days,
    wells,
)
from anh_reporter.api.security import AccessTokens, jwt_secret
from anh_reporter.api.sockets import SocketCounts
from anh_reporter.api.state import ApiState, ReadinessCheck
from anh_reporter.api.tasks import ReportTasks
from anh_reporter.api.web import mount_web_ui
from anh_reporter.api.websocket import router as websocket_router
from anh_reporter.bus.base import Bus
from anh_reporter.config import ApiSettings, Settings
from anh_reporter.errors import first_line
from anh_reporter.ingest.changes import ChangeNotifier
from anh_reporter.ingest.pipeline import IngestPipeline
from anh_reporter.storage.database import Database, read_database
from anh_reporter.storage.series_repo import CatalogCache

log = logging.getLogger(__name__)

# FastAPI matches a request against the routes one by one, in this order: the busiest come
# first (routing the last router's paths cost about a third of a cached request).
ROUTERS = (
    analytics.router,
    telemetry.router,
    ingest.router,
    auth.router,
    users.router,
    api_keys.router,
    operators.router,
    fields.router,
    wells.router,
    pmos.router,
    series.router,
    production.router,
    production_day.router,
    well_days.router,
    anomalies.router,
    reports.router,
    monthly.router,
    audit.router,
    config_log.router,
    security.router,
    meta.router,
)


def operation_id(route: APIRoute) -> str:
    """``<tag>-<function name>``: generated clients get ``telemetry.getRaw``-like methods."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(
    settings: Settings,
    database: Database,
    bus: Bus,
    *,
    api: ApiSettings | None = None,
    checks: Mapping[str, ReadinessCheck] | None = None,
    writer: bool = False,
    owns_bus: bool = False,
) -> FastAPI:
    """The API for one process. ``checks`` adds readiness checks (``connectors``,
    ``scheduler``) for what this process also runs. ``writer``: the lifespan runs the ingest
    writer on ``bus`` (an in-process bus nothing else reads), draining it on shutdown.
    ``owns_bus``: the lifespan closes ``bus`` at the end."""
    if api is not None:
        settings = settings.model_copy(update={"api": api})
    api = settings.api
    secret = jwt_secret(settings)  # refuses a production start without a real secret
    install_log_redaction()  # no bearer secret from a query string in uvicorn's logs
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    pool = ConnectionPool(
        database, size=api.pool_size, statement_timeout_ms=api.statement_timeout_ms
    )
    auth_pool = ConnectionPool(database, size=2, statement_timeout_ms=api.statement_timeout_ms)
    replica = read_database(settings, database)
    read_pool = (
        ConnectionPool(replica, size=api.pool_size, statement_timeout_ms=api.statement_timeout_ms)
        if replica is not database
        else None
    )
    sync_pool = SyncPool(
        database, size=api.service_pool_size, statement_timeout_ms=api.statement_timeout_ms
    )
    state = ApiState(
        settings=settings,
        api=api,
        pool=pool,
        auth_pool=auth_pool,
        sync=sync_pool,
        bus=bus,
        tokens=AccessTokens(secret, api.access_token_ttl_s),
        cache=ResponseCache(
            ttl_s=api.cache_ttl_s,
            max_entries=api.cache_max_entries,
            max_bytes=api.cache_max_bytes,
            redis=redis,
        ),
        limiter=RateLimiter(
            Limit("auth", api.auth_rate_per_minute), Limit("api", api.rate_per_minute), redis
        ),
        catalog=CatalogCache(database),
        reports=ReportTasks(settings, redis, pool),
        checks=dict(checks or {}),
        redis=redis,
        lockout=LoginLockout(
            after=api.login_lockout_after,
            base_s=api.login_lockout_base_s,
            max_s=api.login_lockout_max_s,
            redis=redis,
        ),
        revocations=Revocations(redis),
        sockets=SocketCounts(redis, lease_s=max(30.0, 3 * api.ws_recheck_s)),
        read_pool=read_pool,
    )
    ingest = _IngestWriter(settings, database, bus) if writer else None
    if ingest is not None:
        state.checks = {**state.checks, "ingest_writer": ingest.check}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.cache.start_listener()
        state.revocations.start(state.on_remote_revocation)
        if ingest is not None:
            ingest.start()
        try:
            yield
        finally:
            if ingest is not None:
                await ingest.stop()  # first: its commits still tell the cache what changed
            if owns_bus:
                await bus.close()
            await state.revocations.close()
            await state.cache.close()
            await pool.close()
            await auth_pool.close()
            if read_pool is not None:
                await read_pool.close()
            sync_pool.close()
            if redis is not None:
                await redis.aclose()

    app = FastAPI(
        title="ANH Smart Reporter API",
        version=__version__,
        summary="Field telemetry to the signed ANH daily production report.",
        # No Swagger UI: FastAPI's loads its script and styles from a CDN (and no package on
        # this system ships them to serve locally). The document is at /api/openapi.json.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
    )
    app.state.api = state
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_api_key(generate_openapi())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
    install_error_handlers(app)
    app.include_router(health.router)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    app.include_router(websocket_router)
    mount_web_ui(app)  # last: API routes match first; an unknown /api/* path stays a JSON 404

    # add_middleware wraps: the last added runs first.
    app.add_middleware(AuditMiddleware, pool=pool, trust_forwarded_for=api.trust_forwarded_for)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=api.max_request_bytes,
        max_ingest_bytes=api.max_ingest_bytes,
    )
    app.add_middleware(
        RateLimitMiddleware, limiter=state.limiter, trust_forwarded_for=api.trust_forwarded_for
    )
    app.add_middleware(MetricsMiddleware)
    if api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=api.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestIdMiddleware)  # outermost: its id is on every line logged below
    return app


class _IngestWriter:
    """The ingest writer of a process whose bus is its own: started and stopped with the app."""

    def __init__(self, settings: Settings, database: Database, bus: Bus) -> None:
        # Redis URL None: the bus is in process, and so are the caches its commits must reach.
        self.notifier = ChangeNotifier(database, redis_url=None)
        # drain_on_stop: on shutdown it writes what the bus still holds (it would be lost).
        self.pipeline = IngestPipeline(
            database, bus, settings.ingest, on_commit=[self.notifier], drain_on_stop=True
        )
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.pipeline.run(), name="ingest-writer")
        self.task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("the ingest writer stopped: %s", first_line(exc), exc_info=exc)

    async def stop(self) -> None:
        """Write what was accepted, then stop; a writer that failed is logged, not raised (the
        rest of the shutdown must still run)."""
        self.pipeline.stop()
        try:
            if self.task is not None:
                await self.task
        except Exception:  # logged by _ended when it happened
            log.error("the ingest writer had failed: readings left on the bus are not written")
        finally:
            await self.notifier.close()
        stats = self.pipeline.stats
        log.info(
            "ingest writer stopped: %d written, %d quarantined", stats.written, stats.quarantined
        )

    async def check(self) -> tuple[bool, str]:
        """Readiness: the writer is running (else posted readings would only pile up)."""
        if self.task is None:
            return False, "not started"
        if not self.task.done():
            return True, f"running in this process ({self.pipeline.stats.written:,} written)"
        # The error is in the log: the probe answers anyone (hosts, roles stay out of it).
        return False, "stopped; posted readings are not being written (see the log)"
