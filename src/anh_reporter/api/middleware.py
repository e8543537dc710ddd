"""ASGI middleware: request ids, security headers, request size limits, latency metrics, audit.

Plain ASGI (not ``BaseHTTPMiddleware``): each layer costs a few microseconds per request.

The audit log: :class:`AuditMiddleware` appends one ``audit_log`` row for every
state-changing call, whatever its outcome, after the response: POST, PUT, PATCH and DELETE
under ``/api/``; who (the principal, or what a login named), which route, which object, the
status, the client. Bodies are never logged (they carry passwords and tokens). A route may add
details through ``request.state.audit`` (a dict) and name the actor of an unauthenticated call
through ``request.state.audit_actor`` / ``audit_operator_id``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import psycopg
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anh_reporter.api.errors import error_body
from anh_reporter.api.pool import ConnectionPool
from anh_reporter.api.ratelimit import client_address
from anh_reporter.api.redact import redact
from anh_reporter.api.responses import dumps
from anh_reporter.api.scoping import Principal
from anh_reporter.errors import StorageError
from anh_reporter.observability import logs, tracing
from anh_reporter.observability.metrics import (
    active_connections,
    api_latency,
    api_requests,
    status_class,
)
from anh_reporter.storage.audit_log import write_audit

log = logging.getLogger(__name__)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

API_PREFIX = "/api/v1"
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_NO_STORE = (b"cache-control", b"no-store")
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


class RequestIdMiddleware:
    """Every request (and WebSocket) gets an id: the caller's ``X-Request-ID``, or a new one.

    nginx sends its ``$request_id``; a value that is not 1-128 of ``A-Za-z0-9._:-`` is
    replaced by a fresh one (32 hex digits, like nginx's). The id is on every log line of the
    request (:data:`anh_reporter.observability.logs.request_id`), in ``X-Request-ID`` of the
    response, and an attribute of the request's trace span.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the id for the request's context; echo it on the response."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", ()) if k == b"x-request-id"), b"")
        raw = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex.encode()
        rid = raw.decode()
        token = logs.request_id.set(rid)
        if tracing.enabled():
            from opentelemetry.trace import get_current_span

            get_current_span().set_attribute("anh.request_id", rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", raw))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)


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
        extra.append(_API_CSP)  # no page of the API loads anything (no CDN-hosted docs UI)
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
    """``api_latency_seconds{endpoint, method}``, ``api_requests_total{endpoint, method,
    status_class}`` and in-flight ``active_connections{http}``.

    A request that raised before its response started counts as ``5xx`` (the server error
    middleware outside answers 500).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._inflight = active_connections.labels("http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request; label it with its route template and its status."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        self._inflight.inc()
        try:
            await self.app(scope, receive, capture)
        finally:
            self._inflight.dec()
            endpoint, method = route_template(scope), scope["method"]
            api_latency.labels(endpoint, method).observe(time.perf_counter() - start)
            api_requests.labels(endpoint, method, status_class(status)).inc()


class AuditMiddleware:
    """Records state-changing HTTP calls once their response has been sent."""

    def __init__(self, app: ASGIApp, pool: ConnectionPool, trust_forwarded_for: bool) -> None:
        self.app = app
        self.pool = pool
        self.trust_forwarded_for = trust_forwarded_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the call on; append the audit entry afterwards."""
        if (
            scope["type"] != "http"
            or scope["method"] not in STATE_CHANGING
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            await self._record(scope, status)

    async def _record(self, scope: Scope, status: int) -> None:
        state: dict[str, Any] = scope.get("state") or {}
        principal = state.get("principal")
        operator_id: int | None
        if isinstance(principal, Principal):
            actor, operator_id = principal.actor, principal.operator_id
        else:
            actor = str(state.get("audit_actor") or "anonymous")
            raw_operator = state.get("audit_operator_id")
            operator_id = int(raw_operator) if raw_operator is not None else None
        # PostgreSQL text cannot hold NUL: a login name with one must not lose its entry.
        actor = actor.replace("\x00", "\ufffd")
        # A route's details first: the call's own facts (its status above all) win a clash.
        details: dict[str, Any] = dict(state.get("audit") or {})
        if state.get("audit_totp"):
            details["totp_checked"] = True
        details.update(
            status=status,
            client=client_address(scope, self.trust_forwarded_for),
            path_params=scope.get("path_params") or {},
        )
        query = scope.get("query_string", b"")
        if query:
            details["query"] = redact(query.decode("latin-1"))[:500]
        try:
            async with self.pool.connection() as conn:
                await write_audit(
                    conn,
                    actor=actor,
                    action=f"{scope['method']} {route_template(scope)}",
                    target=scope["path"],
                    operator_id=operator_id,
                    details=details,
                )
        except (psycopg.Error, StorageError) as exc:
            # The call itself is done; losing its audit entry must be loud, not fatal.
            log.error("audit log write failed for %s %s: %s", scope["method"], scope["path"], exc)
