"""HSTS for an API served over TLS: a pure ASGI wrapper that adds Strict-Transport-Security.

``serve`` wraps the app with it when it serves TLS itself (``--certfile --keyfile``) or when
``ANH_TLS__BEHIND_TLS_PROXY`` says a trusted proxy terminates TLS in front of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


class Hsts:
    """Adds ``Strict-Transport-Security: max-age=N; includeSubDomains`` to HTTP responses."""

    def __init__(self, app: Asgi, max_age_s: int) -> None:
        self.app = app
        self.header = (
            b"strict-transport-security",
            f"max-age={max_age_s}; includeSubDomains".encode(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, with_header)
