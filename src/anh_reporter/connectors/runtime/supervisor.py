"""One supervisor loop for every connector: run a session, report the loss, back off, again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from anh_reporter.connectors.runtime.backoff import Backoff

Session = Callable[[Callable[[], None]], Awaitable[str]]
"""Connect and run until the link ends: call ``up()`` once connected, return why it ended
(or raise). Cancelled when the connector stops."""


class Supervisor:
    """One loop for every connector: run a session, report the loss, back off, run it again."""

    def __init__(
        self,
        name: str,
        session: Session,
        backoff: Backoff,
        *,
        on_down: Callable[[str, bool], Awaitable[None]],
        describe: Callable[[BaseException], str] = repr,
        fatal: tuple[type[BaseException], ...] = (),
    ) -> None:
        """``on_down(reason, was_up)`` runs after each session; ``fatal`` exceptions of the
        first attempt are raised by :meth:`start` instead of being retried."""
        self.name = name
        self.backoff = backoff
        self.connected = False
        self.reconnects = 0
        self._session = session
        self._on_down = on_down
        self._describe = describe
        self._fatal = fatal
        self._ever_up = False
        self._task: asyncio.Task[None] | None = None
        self._first: asyncio.Future[BaseException | None] | None = None

    @property
    def running(self) -> bool:
        """Whether the loop runs."""
        return self._task is not None and not self._task.done()

    async def start(self, *, wait: bool = True) -> None:
        """Start the loop; with ``wait``, return once the first attempt is up or has failed."""
        if self.running:
            return
        self._first = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._loop(), name=f"{self.name} supervisor")
        if not wait:
            return
        error = await self._first
        if error is not None:
            await self.stop()
            raise error

    async def first_attempt(self) -> None:
        """Return once the first attempt since :meth:`start` is up or has failed."""
        if self._first is not None:
            await asyncio.shield(self._first)

    async def stop(self) -> None:
        """Cancel the session (it cleans up after itself) and the loop."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.connected = False

    def _up(self) -> None:
        self.connected = True
        self.backoff.reset()
        if self._ever_up:
            self.reconnects += 1
        self._ever_up = True
        self._settle(None)

    def _settle(self, error: BaseException | None) -> None:
        if self._first is not None and not self._first.done():
            self._first.set_result(error)

    async def _loop(self) -> None:
        while True:
            was_up = False
            try:
                reason = await self._session(self._up)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                first = self._first is not None and not self._first.done()
                if first and isinstance(exc, self._fatal):
                    self._settle(exc)
                    return
                reason = self._describe(exc)
            was_up, self.connected = self.connected, False
            await self._on_down(reason, was_up)
            self._settle(None)
            await asyncio.sleep(self.backoff.next_delay())
