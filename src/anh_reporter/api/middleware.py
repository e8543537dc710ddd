"""ASGI middleware: security headers, request size limits, latency metrics.

Plain ASGI (not ``BaseHTTPMiddleware``): each layer costs a few microseconds per request.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anh_reporter.api.errors import error_body
from anh_reporter.api.responses import dumps
from anh_reporter.observability.metrics import active_connections, api_latency

API_PREFIX = "/api/v1"
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
# Swagger UI loads its script and styles from a CDN and starts with an inline script.
_DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    b"https://fastapi.tiangolo.com; connect-src 'self'; frame-ancestors 'none'",
)
_NO_STORE = (b"cache-control", b"no-store")
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeadersMiddleware:
    """Adds the usual hardening headers to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = list(_COMMON)
        extra.append(_DOCS_CSP if path.startswith(("/api/docs", "/api/redoc")) else _API_CSP)
        if path.startswith("/api/"):
            extra.append(_NO_STORE)
        if scope.get("scheme") == "https":
            extra.append(_HSTS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _TooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """413 ``request_too_large`` for bodies over the limit (declared or streamed)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_ingest_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_ingest_bytes = max_ingest_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse early on Content-Length; count streamed bytes otherwise."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (
            self.max_ingest_bytes if scope["path"].startswith("/api/v1/ingest/") else self.max_bytes
        )
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await _send_413(send, declared, limit)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_413(send, received, limit)


async def _send_413(send: Send, size: int, limit: int) -> None:
    body = dumps(
        error_body(
            "request_too_large",
            f"request body is {size:,} bytes or more; the limit for this endpoint is "
            f"{limit:,} bytes",
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def route_template(scope: Scope) -> str:
    """The matched route's path template (bounded label values), or ``unmatched``."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    if not path:
        return "unmatched"
    # FastAPI keeps the route as its router declared it, without the include prefix.
    if scope["path"].startswith(API_PREFIX + "/") and not str(path).startswith(API_PREFIX):
        return API_PREFIX + str(path)
    return str(path)


class MetricsMiddleware:
    """``api_latency_seconds{endpoint, method}`` and in-flight ``active_connections{http}``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._inflight = active_connections.labels("http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request; label it with its route template."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        self._inflight.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self._inflight.dec()
            api_latency.labels(route_template(scope), scope["method"]).observe(
                time.perf_counter() - start
            )
