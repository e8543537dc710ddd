"""Small pools of psycopg connections (UTC, JIT off, statement timeout) for the API.

:class:`ConnectionPool` hands out async autocommit connections to the routes' own queries.
:class:`SyncPool` runs the project's synchronous services (production, anomaly store,
reports), which take a blocking ``psycopg.Connection``, in worker threads on reused
connections. Both open connections lazily on first use so the app works under any ASGI
driver, lifespan or not; a connection that comes back broken is closed instead of reused.
(``psycopg_pool`` would do the same job; it is not a dependency of the project.)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus

from anh_reporter.errors import StorageError, first_line
from anh_reporter.observability.metrics import active_connections
from anh_reporter.storage.database import Database, TimedAsyncCursor

ACQUIRE_TIMEOUT_S = 10.0
T = TypeVar("T")


class ConnectionPool:
    """At most ``size`` connections to ``database``, handed out one request at a time."""

    def __init__(self, database: Database, *, size: int, statement_timeout_ms: int) -> None:
        self.database = database
        self.size = size
        self._options = (
            f"-c timezone=UTC -c jit=off -c statement_timeout={statement_timeout_ms} "
            "-c application_name=anh-api"
        )
        self._idle: list[AsyncConnection[Any]] = []
        self._slots = asyncio.Semaphore(size)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def _open(self) -> AsyncConnection[Any]:
        try:
            return await AsyncConnection.connect(
                self.database.url,
                autocommit=True,
                options=self._options,
                connect_timeout=5,
                prepare_threshold=self.database.prepare_threshold,
                cursor_factory=TimedAsyncCursor,
            )
        except psycopg.OperationalError as exc:
            first = first_line(exc)
            raise StorageError(
                f"cannot connect to PostgreSQL at {self.database.display_url}: {first}"
            ) from None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A connection for the duration of the block (waits when all are busy)."""
        if self._closed:
            raise StorageError("the API's database pool is closed")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Connections belong to the loop that opened them (a test client may run the app
            # on a new loop per call): start afresh rather than share them across loops.
            self._idle, self._slots, self._loop = [], asyncio.Semaphore(self.size), loop
        slots = self._slots
        try:
            async with asyncio.timeout(ACQUIRE_TIMEOUT_S):
                await slots.acquire()
        except TimeoutError:
            raise StorageError(
                f"no database connection free within {ACQUIRE_TIMEOUT_S:g} s "
                f"(pool of {self.size}); the database is overloaded or slow"
            ) from None
        try:
            conn = self._idle.pop() if self._idle else await self._open()
            active_connections.labels("database").inc()
            healthy = False
            try:
                yield conn
                healthy = True
            finally:
                active_connections.labels("database").dec()
                await self._give_back(conn, healthy)
        finally:
            slots.release()

    async def _give_back(self, conn: AsyncConnection[Any], healthy: bool) -> None:
        reusable = (
            healthy
            and not self._closed
            and not conn.closed
            and conn.info.transaction_status == TransactionStatus.IDLE
        )
        if not reusable and not conn.closed and not healthy:
            # An error inside the block: the connection may still be fine once rolled back.
            try:
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    await conn.rollback()
                reusable = not self._closed and conn.info.transaction_status == (
                    TransactionStatus.IDLE
                )
            except psycopg.Error:
                reusable = False
        if reusable:
            self._idle.append(conn)
        else:
            await conn.close()

    async def close(self) -> None:
        """Close idle connections; connections in use close when given back."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()


class SyncPool:
    """At most ``size`` blocking connections, each used by one worker thread at a time.

    ``await pool.run(fn)`` calls ``fn(conn)`` in a thread. The services commit what they do;
    whatever ``fn`` leaves open is committed after it returns and rolled back if it raises,
    so a connection always goes back idle.
    """

    def __init__(self, database: Database, *, size: int, statement_timeout_ms: int) -> None:
        self.database = database
        self.size = size
        self.statement_timeout_ms = statement_timeout_ms
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        # A thread semaphore, not an asyncio one: it is taken in the worker thread, so it does
        # not belong to any event loop (test clients may run each request on a new loop).
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False

    async def run(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``fn(conn)`` in a worker thread on a pooled connection; its result."""
        if self._closed:
            raise StorageError("the API's database pool is closed")
        return await asyncio.to_thread(self._run, fn)

    def _run(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        if not self._slots.acquire(timeout=ACQUIRE_TIMEOUT_S):
            raise StorageError(
                f"no database connection free within {ACQUIRE_TIMEOUT_S:g} s "
                f"(pool of {self.size} for background work); the database is overloaded"
            )
        try:
            conn = self._take()
            active_connections.labels("database").inc()
            try:
                result = fn(conn)
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    conn.commit()
            except BaseException:
                self._give_back(conn, failed=True)
                raise
            finally:
                active_connections.labels("database").dec()
            self._give_back(conn, failed=False)
            return result
        finally:
            self._slots.release()

    def _take(self) -> psycopg.Connection[Any]:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        conn = self.database.connect()
        if not self.database.pooled:
            # Through PgBouncer a SET would stay on a server connection others then get; the
            # role's settings give the statement timeout there (deploy/pgbouncer/README.md).
            conn.execute(f"SET statement_timeout = {int(self.statement_timeout_ms)}")
            conn.execute("SET application_name = 'anh-api'")
            conn.commit()
        return conn

    def _give_back(self, conn: psycopg.Connection[Any], *, failed: bool) -> None:
        if failed and not conn.closed:
            try:
                conn.rollback()
            except psycopg.Error:
                conn.close()
        if conn.closed or self._closed or conn.info.transaction_status != TransactionStatus.IDLE:
            conn.close()
            return
        with self._lock:
            self._idle.append(conn)

    def close(self) -> None:
        """Close idle connections; connections in use close when given back."""
        self._closed = True
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
