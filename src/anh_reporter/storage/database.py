"""Which PostgreSQL to use, and connections to it.

With ``ANH_DATABASE_URL`` set the program uses that server; unset, it starts its own embedded
PostgreSQL (see :mod:`anh_reporter.storage.embedded`) for as long as :func:`open_database` is open.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg

from anh_reporter.config import Settings
from anh_reporter.errors import StorageError, first_line
from anh_reporter.storage.embedded import EmbeddedPostgres

Row = TypeVar("Row")


@dataclass(frozen=True)
class Database:
    """A PostgreSQL database the project owns, reached by a libpq URL."""

    url: str
    embedded: bool = False

    def connect(self, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection[Any]:
        """A new psycopg connection in UTC, with JIT off (it hurts on partitioned tables)."""
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
        return Database(urlunsplit(parts._replace(path="/" + name)), self.embedded)

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
        if url.startswith("postgresql+psycopg://"):
            url = "postgresql://" + url.removeprefix("postgresql+psycopg://")
        yield Database(url)
        return
    server = EmbeddedPostgres(settings.embedded_pgdata)
    url = server.start()
    try:
        yield Database(url, embedded=True)
    finally:
        server.stop()


def returned(row: Row | None) -> Row:
    """The row an ``INSERT/UPDATE ... RETURNING`` gives; a :class:`StorageError` if it gave none."""
    if row is None:
        raise StorageError("the database returned no row where the statement must return one")
    return row
