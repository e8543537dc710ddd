"""Errors a user can meet: each says what was wrong and what to do, in one line."""


class AnhError(Exception):
    """Base class for errors the CLI shows as one readable line instead of a traceback."""


class ConfigError(AnhError):
    """A settings value or a site file is invalid."""


class StorageError(AnhError):
    """The database cannot be reached, started or migrated."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
