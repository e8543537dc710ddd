"""Revocations reach open WebSockets at once, in this process and (through Redis) in others.

Logging out, changing or disabling a user and revoking an API key call
:meth:`ApiState.forget_user` / ``forget_all``, which :meth:`Revocations.announce`: every open
socket of this process wakes and re-checks its credentials, and the news is published on the
Redis channel ``anh:auth:revoked`` so that every other API process drops its cached grants and
wakes its sockets too. Without Redis (or while it is down) other processes notice on their next
periodic re-check (``ws_recheck_s``) and when their grant cache expires
(``principal_cache_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)
CHANNEL = "anh:auth:revoked"


class Revocations:
    """Wakes whoever listens (open WebSockets) when credentials may have been revoked."""

    def __init__(self, redis: Any | None = None) -> None:
        self._events: set[asyncio.Event] = set()
        self._redis = redis
        self._origin = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._listener: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def listen(self) -> asyncio.Event:
        """An event set at each revocation (clear it after waking)."""
        event = asyncio.Event()
        self._events.add(event)
        return event

    def unlisten(self, event: asyncio.Event) -> None:
        """Stop waking ``event``."""
        self._events.discard(event)

    def wake(self) -> None:
        """Every listener of this process re-checks its credentials."""
        for event in self._events:
            event.set()

    def announce(self, what: str) -> None:
        """``what`` (``user:<id>`` or ``all``) was revoked: wake here, tell the others."""
        self.wake()
        if self._redis is None:
            return
        with contextlib.suppress(RuntimeError):  # no running loop (a CLI): nobody to tell
            task = asyncio.get_running_loop().create_task(self._publish(what))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _publish(self, what: str) -> None:
        assert self._redis is not None  # noqa: S101 - narrows for mypy: called only with Redis
        try:
            await self._redis.publish(CHANNEL, f"{self._origin}|{what}")
        except (RedisError, OSError) as exc:
            log.warning("revocation not published (%s); other processes re-check in time", exc)

    def start(self, on_remote: Callable[[str], None]) -> None:
        """Follow other processes' revocations (with Redis): ``on_remote(what)``, then wake."""
        if self._redis is not None and self._listener is None:
            self._listener = asyncio.create_task(self._follow(on_remote), name="revocations")

    async def _follow(self, on_remote: Callable[[str], None]) -> None:
        assert self._redis is not None  # noqa: S101 - narrows for mypy: started only with Redis
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        raw = message["data"]
                        text = raw.decode() if isinstance(raw, bytes) else str(raw)
                        origin, _, what = text.partition("|")
                        if origin != self._origin:
                            on_remote(what)
                            self.wake()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, UnicodeDecodeError) as exc:
                log.warning("revocation channel lost (%s); retrying", exc)
                self.wake()  # something may have been missed: everyone re-checks
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        """Stop following."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
