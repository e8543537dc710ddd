"""What signing in reads and writes of ``users``: a user's credentials (password hash, TOTP
state), the last login, a new password hash, the TOTP second factor switched on and off."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from psycopg import AsyncConnection

from anh_reporter.secretbox import reveal, seal_text

Conn = AsyncConnection[Any]
TOTP_PURPOSE = "totp"


@dataclass(frozen=True)
class Credentials:
    """A user's row as signing in needs it."""

    id: int
    password_hash: str
    operator_id: int
    role: str
    disabled: bool
    totp_enabled: bool
    totp_secret: str | None
    totp_last_step: int | None


_CREDENTIALS = (
    "SELECT id, password_hash, operator_id, role, disabled, totp_enabled, totp_secret, "
    "totp_last_step FROM users "
)


async def credentials_by_email(conn: Conn, email: str) -> Credentials | None:
    """The user of that (lower-case) email, or None."""
    cur = await conn.execute(_CREDENTIALS + "WHERE email = %s", (email,))
    row = await cur.fetchone()
    return None if row is None else _opened(Credentials(*row))


async def credentials(conn: Conn, user_id: int) -> Credentials | None:
    """The user, or None."""
    cur = await conn.execute(_CREDENTIALS + "WHERE id = %s", (user_id,))
    row = await cur.fetchone()
    return None if row is None else _opened(Credentials(*row))


def _opened(c: Credentials) -> Credentials:
    """The TOTP secret opened: it is sealed at rest when a key-encryption key is configured."""
    if c.totp_secret is None:
        return c
    return replace(c, totp_secret=reveal(c.totp_secret, TOTP_PURPOSE))


async def record_login(conn: Conn, user_id: int) -> None:
    """The user signed in now."""
    await conn.execute("UPDATE users SET last_login_at = now() WHERE id = %s", (user_id,))


async def rehash_password(conn: Conn, user_id: int, password_hash: str) -> None:
    """The same password under the current hash parameters (not a change of the user)."""
    await conn.execute(
        "UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id)
    )


async def change_password(conn: Conn, user_id: int, password_hash: str) -> None:
    """A new password."""
    await conn.execute(
        "UPDATE users SET password_hash = %s, updated_at = now() WHERE id = %s",
        (password_hash, user_id),
    )


async def use_totp_step(conn: Conn, user_id: int, step: int) -> bool:
    """Claim the TOTP time step of the code just accepted: compare-and-set, so of concurrent
    requests bearing one code exactly one wins. False when that step (or a later one) was
    already used: the code is a replay."""
    cur = await conn.execute(
        "UPDATE users SET totp_last_step = %s WHERE id = %s "
        "AND (totp_last_step IS NULL OR totp_last_step < %s) RETURNING id",
        (step, user_id, step),
    )
    return await cur.fetchone() is not None


async def start_totp(conn: Conn, user_id: int, secret: str) -> None:
    """A new TOTP secret, not on yet."""
    await conn.execute(
        "UPDATE users SET totp_secret = %s, totp_last_step = NULL WHERE id = %s",
        (seal_text(secret, TOTP_PURPOSE), user_id),
    )


async def enable_totp(conn: Conn, user_id: int, step: int) -> bool:
    """The second factor on, ``step`` the time step of the code that proved it (claimed like
    :func:`use_totp_step`; False when it was already used)."""
    cur = await conn.execute(
        "UPDATE users SET totp_enabled = true, totp_last_step = %s WHERE id = %s "
        "AND (totp_last_step IS NULL OR totp_last_step < %s) RETURNING id",
        (step, user_id, step),
    )
    return await cur.fetchone() is not None


async def disable_totp(conn: Conn, user_id: int) -> None:
    """The second factor off, its secret forgotten."""
    await conn.execute(
        "UPDATE users SET totp_enabled = false, totp_secret = NULL, totp_last_step = NULL "
        "WHERE id = %s",
        (user_id,),
    )
