"""Which PostgreSQL to use, and connections to it.

With ``ANH_DATABASE_URL`` set the program uses that server; unset, it starts its own embedded
PostgreSQL (see :mod:`anh_reporter.storage.embedded`) for as long as :func:`open_database` is open.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.abc import Params, Query
from psycopg.rows import Row as CursorRow

from anh_reporter.config import Settings
from anh_reporter.errors import StorageError, first_line
from anh_reporter.observability.metrics import db_query_duration
from anh_reporter.storage.embedded import EmbeddedPostgres

Row = TypeVar("Row")

# db_query_duration_seconds{query_type}: the statement's first word, from a bounded set.
_KINDS = ("select", "insert", "update", "delete", "with", "other")
_TIMERS = {kind: db_query_duration.labels(kind) for kind in _KINDS}


def _timer(query: Query) -> Any:
    """The summary child of ``query``'s kind (a composed statement: of its first part)."""
    head: object = query
    while isinstance(head, sql.Composed):
        head = next(iter(head), None)
    if isinstance(head, sql.SQL):
        head = head.as_string(None)
    if isinstance(head, bytes):
        head = head[:12].decode("ascii", "replace")
    word = head[:12].split(None, 1) if isinstance(head, str) else []
    return _TIMERS.get(word[0].lower() if word else "", _TIMERS["other"])


class TimedCursor(psycopg.Cursor[CursorRow]):
    """A cursor that times ``execute``/``executemany`` into ``db_query_duration_seconds``.

    Every connection of :meth:`Database.connect` (and of the API's pool) uses it: about a
    microsecond per statement. COPY (``cursor.copy``) and server-side cursors are not timed.
    """

    def execute(
        self,
        query: Query,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self:
        """Execute and time it."""
        start = time.perf_counter()
        try:
            # One call for both of psycopg's overloads (with or without a template string).
            return super().execute(cast(Any, query), params, prepare=prepare, binary=binary)
        finally:
            _timer(query).observe(time.perf_counter() - start)

    def executemany(
        self, query: Query, params_seq: Iterable[Params], *, returning: bool = False
    ) -> None:
        """Execute for each parameter set, timed as one."""
        start = time.perf_counter()
        try:
            super().executemany(query, params_seq, returning=returning)
        finally:
            _timer(query).observe(time.perf_counter() - start)


class TimedAsyncCursor(psycopg.AsyncCursor[CursorRow]):
    """:class:`TimedCursor` for asyncio connections."""

    async def execute(
        self,
        query: Query,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self:
        """Execute and time it."""
        start = time.perf_counter()
        try:
            return await super().execute(cast(Any, query), params, prepare=prepare, binary=binary)
        finally:
            _timer(query).observe(time.perf_counter() - start)

    async def executemany(
        self, query: Query, params_seq: Iterable[Params], *, returning: bool = False
    ) -> None:
        """Execute for each parameter set, timed as one."""
        start = time.perf_counter()
        try:
            await super().executemany(query, params_seq, returning=returning)
        finally:
            _timer(query).observe(time.perf_counter() - start)


@dataclass(frozen=True)
class Database:
    """A PostgreSQL database the project owns, reached by a libpq URL."""

    url: str
    embedded: bool = False
    # Reached through PgBouncer in transaction mode: each transaction may run on another
    # server connection, so psycopg must never prepare statements on the server.
    pooled: bool = False

    @property
    def prepare_threshold(self) -> int | None:
        """psycopg's ``prepare_threshold``: its default (5), or None (never) when pooled."""
        return None if self.pooled else 5

    def connect(self, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection[Any]:
        """A new psycopg connection in UTC, with JIT off (it hurts on partitioned tables).

        Through a pooler the ``options`` are ignored (PgBouncer cannot pass them on): the
        role's settings give UTC and JIT off there (deploy/pgbouncer/README.md).
        """
        kwargs.setdefault("prepare_threshold", self.prepare_threshold)
        kwargs.setdefault("cursor_factory", TimedCursor)
        try:
            return psycopg.connect(
                self.url,
                autocommit=autocommit,
                options="-c timezone=UTC -c jit=off",
                **kwargs,
            )
        except psycopg.OperationalError as exc:
            first = first_line(exc)
            raise StorageError(
                f"cannot connect to PostgreSQL at {self.display_url}: {first}"
            ) from None

    @property
    def sqlalchemy_url(self) -> str:
        """The same URL for SQLAlchemy's psycopg 3 dialect (used by Alembic)."""
        _, sep, rest = self.url.partition("://")
        if not sep:
            raise StorageError(f"not a PostgreSQL URL: {self.display_url}")
        return "postgresql+psycopg://" + rest

    def with_name(self, name: str) -> Database:
        """The same server, another database."""
        parts = urlsplit(self.url)
        return Database(urlunsplit(parts._replace(path="/" + name)), self.embedded, self.pooled)

    @property
    def name(self) -> str:
        """The database name in the URL."""
        return urlsplit(self.url).path.lstrip("/")

    @property
    def display_url(self) -> str:
        """The URL without its password, fit for messages."""
        scheme, sep, rest = self.url.partition("://")
        creds, at, host = rest.rpartition("@")
        if at and ":" in creds:
            creds = creds.split(":", 1)[0] + ":***"
        return f"{scheme}{sep}{creds}{at}{host}"


@contextmanager
def open_database(settings: Settings, *, owner: bool = False) -> Iterator[Database]:
    """The configured database; an embedded server lives as long as this context.

    ``owner``: reach it as the owner role (``ANH_DATABASE_OWNER_URL``) when one is configured,
    for migrations and grants; otherwise as the application (``ANH_DATABASE_URL``).
    """
    chosen = (settings.database_owner_url if owner else None) or settings.database_url
    if chosen:
        url = chosen
        # The owner's URL (migrations) is direct; the application's is pooled when so set.
        pooled = settings.database_pooled and chosen == settings.database_url
        yield Database(_libpq_url(url), pooled=pooled)
        return
    server = EmbeddedPostgres(settings.embedded_pgdata)
    url = server.start()
    try:
        yield Database(url, embedded=True)
    finally:
        server.stop()


def read_database(settings: Settings, primary: Database) -> Database:
    """Where read-only queries go: the replica at ``ANH_DATABASE_READ_URL``, else ``primary``."""
    if not settings.database_read_url:
        return primary
    return Database(_libpq_url(settings.database_read_url), pooled=settings.database_pooled)


def direct_database(settings: Settings, primary: Database) -> Database:
    """PostgreSQL without a transaction pooler in between (``ANH_DATABASE_DIRECT_URL``), for
    what holds a session: the scheduler's leader lock. Without it, ``primary`` unless that is
    pooled, which is refused: a session lock through transaction pooling is not a lock."""
    if settings.database_direct_url:
        return Database(_libpq_url(settings.database_direct_url))
    if primary.pooled:
        raise StorageError(
            "ANH_DATABASE_POOLED is set but ANH_DATABASE_DIRECT_URL is not: the scheduler's "
            "leader lock needs a direct connection to PostgreSQL, not PgBouncer"
        )
    return primary


def _libpq_url(url: str) -> str:
    if url.startswith("postgresql+psycopg://"):
        return "postgresql://" + url.removeprefix("postgresql+psycopg://")
    return url


def returned(row: Row | None) -> Row:
    """The row an ``INSERT/UPDATE ... RETURNING`` gives; a :class:`StorageError` if it gave none."""
    if row is None:
        raise StorageError("the database returned no row where the statement must return one")
    return row
