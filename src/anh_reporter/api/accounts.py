"""Accounts of one operator: create, read, change, disable; and the first admin (CLI, demo).

The HTTP-auth side of users (the routes are :mod:`anh_reporter.api.routes.users`). Functions
take the operator they act within; a user id of another operator is "not found". Users are
disabled, never deleted, so the audit log's actors stay resolvable.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection

from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.api.permissions import Role
from anh_reporter.api.security import check_password_policy, hash_password, random_password
from anh_reporter.errors import AnhError
from anh_reporter.storage.database import Database, returned


@dataclass(frozen=True)
class Account:
    """A user as the API shows it (never its hash or TOTP secret)."""

    id: int
    email: str
    operator_id: int
    role: Role
    all_fields: bool
    field_ids: list[int]
    totp_enabled: bool
    disabled: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


_SELECT = """
SELECT u.id, u.email, u.operator_id, u.role, u.all_fields,
       ARRAY(SELECT uf.field_id FROM user_fields uf WHERE uf.user_id = u.id ORDER BY 1),
       u.totp_enabled, u.disabled, u.created_at, u.last_login_at
FROM users u
"""


def _user(row: tuple[Any, ...]) -> Account:
    return Account(
        id=row[0],
        email=row[1],
        operator_id=row[2],
        role=Role(row[3]),
        all_fields=row[4],
        field_ids=list(row[5]),
        totp_enabled=row[6],
        disabled=row[7],
        created_at=row[8],
        last_login_at=row[9],
    )


async def list_users(*, conn: AsyncConnection[Any], operator_id: int) -> list[Account]:
    """Every user of the operator, by id."""
    cur = await conn.execute(_SELECT + "WHERE u.operator_id = %s ORDER BY u.id", (operator_id,))
    return [_user(r) for r in await cur.fetchall()]


async def get_user(*, conn: AsyncConnection[Any], operator_id: int, user_id: int) -> Account:
    """One user of the operator, or 404."""
    cur = await conn.execute(
        _SELECT + "WHERE u.id = %s AND u.operator_id = %s", (user_id, operator_id)
    )
    row = await cur.fetchone()
    if row is None:
        raise not_found("user", user_id)
    return _user(row)


async def sees_all_fields(
    conn: AsyncConnection[Any], operator_id: int, field_ids: frozenset[int]
) -> bool:
    """True when ``field_ids`` hold every field of the operator."""
    cur = await conn.execute("SELECT id FROM fields WHERE operator_id = %s", (operator_id,))
    return {int(r[0]) for r in await cur.fetchall()} <= field_ids


def _beyond(what: str) -> ApiError:
    return ApiError(
        403,
        "beyond_your_fields",
        f"{what}: an admin can only give (or manage) access to fields it sees itself",
    )


async def check_grant(
    conn: AsyncConnection[Any],
    *,
    operator_id: int,
    granter_fields: frozenset[int],
    all_fields: bool | None,
    field_ids: list[int] | None,
    target: Account | None = None,
) -> None:
    """403 ``beyond_your_fields`` when an admin would give (itself or another) more fields
    than it sees, or manage a user who sees more than it does."""
    granter_all = await sees_all_fields(conn, operator_id, granter_fields)
    if granter_all:
        return
    if all_fields:
        raise _beyond("all_fields")
    outside = sorted(set(field_ids or []) - granter_fields)
    if outside:
        raise _beyond(f"field_ids: field {outside[0]}")
    if target is not None and (target.all_fields or not set(target.field_ids) <= granter_fields):
        raise _beyond(f"user {target.id} sees fields you do not")


async def _check_fields(conn: AsyncConnection[Any], operator_id: int, field_ids: list[int]) -> None:
    cur = await conn.execute(
        "SELECT id FROM fields WHERE operator_id = %s AND id = ANY(%s)", (operator_id, field_ids)
    )
    known = {int(r[0]) for r in await cur.fetchall()}
    for fid in field_ids:
        if fid not in known:
            raise ApiError(
                422, "unknown_field", f"field_ids: field {fid} is not a field of this operator"
            )


async def create_user(
    *,
    conn: AsyncConnection[Any],
    operator_id: int,
    email: str,
    password: str,
    role: Role,
    all_fields: bool,
    field_ids: list[int],
) -> Account:
    """A new user of the operator; 409 when the email is taken (by anyone)."""
    check_password_policy(password, email=email)
    await _check_fields(conn, operator_id, field_ids)
    password_hash = await asyncio.to_thread(hash_password, password)  # CPU: off the loop
    try:
        async with conn.transaction():
            cur = await conn.execute(
                "INSERT INTO users (email, password_hash, operator_id, role, all_fields) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (email.lower(), password_hash, operator_id, role.value, all_fields),
            )
            row = returned(await cur.fetchone())
            user_id = int(row[0])
            for fid in sorted(set(field_ids)):
                await conn.execute(
                    "INSERT INTO user_fields (user_id, field_id) VALUES (%s, %s)", (user_id, fid)
                )
    except psycopg.errors.UniqueViolation:
        raise ApiError(409, "email_taken", f"email: {email!r} already has an account") from None
    return await get_user(conn=conn, operator_id=operator_id, user_id=user_id)


async def update_user(
    *,
    conn: AsyncConnection[Any],
    operator_id: int,
    user_id: int,
    role: Role | None = None,
    all_fields: bool | None = None,
    field_ids: list[int] | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> Account:
    """Change what is given; 404 for a user of another operator."""
    before = await get_user(conn=conn, operator_id=operator_id, user_id=user_id)
    new_hash = None
    if password is not None:
        check_password_policy(password, email=before.email)
        new_hash = await asyncio.to_thread(hash_password, password)
    if field_ids is not None:
        await _check_fields(conn, operator_id, field_ids)
    async with conn.transaction():
        await conn.execute(
            "UPDATE users SET role = coalesce(%s, role), all_fields = coalesce(%s, all_fields), "
            "disabled = coalesce(%s, disabled), "
            "password_hash = coalesce(%s, password_hash), updated_at = now() "
            "WHERE id = %s AND operator_id = %s",
            (
                role.value if role else None,
                all_fields,
                disabled,
                new_hash,
                user_id,
                operator_id,
            ),
        )
        if field_ids is not None:
            await conn.execute("DELETE FROM user_fields WHERE user_id = %s", (user_id,))
            for fid in sorted(set(field_ids)):
                await conn.execute(
                    "INSERT INTO user_fields (user_id, field_id) VALUES (%s, %s)", (user_id, fid)
                )
        if disabled or password is not None:
            await conn.execute(
                "UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = %s "
                "WHERE user_id = %s AND revoked_at IS NULL",
                ("user disabled" if disabled else "password changed by an admin", user_id),
            )
    return await get_user(conn=conn, operator_id=operator_id, user_id=user_id)


def create_admin(
    db: Database,
    email: str,
    password: str | None = None,
    *,
    operator_nit: str | None = None,
) -> str:
    """Create (or reset) an admin of an operator and return its password.

    The operator is ``operator_nit``, or the only operator in the database. Without
    ``password`` a random one is generated. There is no default admin password: this is how
    the first admin comes to exist (``anh-reporter users create-admin``; the demo prints it).
    """
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise AnhError(f"email {email!r} is not an email address")
    password = password if password is not None else random_password()
    try:
        check_password_policy(password, email=email)
    except ApiError as exc:
        raise AnhError(exc.message) from None
    with db.connect() as conn, conn.transaction():
        if operator_nit is None:
            rows = conn.execute("SELECT id, nit FROM operators ORDER BY id").fetchall()
            if len(rows) != 1:
                raise AnhError(
                    f"the database has {len(rows)} operators; name one with --operator <NIT>"
                    + (" (load a site first: anh-reporter site load <file>)" if not rows else "")
                )
            operator_id = int(rows[0][0])
        else:
            row = conn.execute(
                "SELECT id FROM operators WHERE nit = %s", (operator_nit,)
            ).fetchone()
            if row is None:
                raise AnhError(f"no operator with NIT {operator_nit!r}; load its site first")
            operator_id = int(row[0])
        existing = conn.execute(
            "SELECT id, operator_id FROM users WHERE email = %s", (email,)
        ).fetchone()
        if existing is not None and int(existing[1]) != operator_id:
            raise AnhError(f"{email} is already a user of another operator")
        conn.execute(
            "INSERT INTO users (email, password_hash, operator_id, role, all_fields) "
            "VALUES (%s, %s, %s, 'admin', true) ON CONFLICT (email) DO UPDATE SET "
            "password_hash = excluded.password_hash, role = 'admin', all_fields = true, "
            "disabled = false, updated_at = now()",
            (email, hash_password(password), operator_id),
        )
        conn.execute(
            "INSERT INTO audit_log (actor, action, target, operator_id, details) "
            "VALUES ('cli', 'users.create_admin', %s, %s, '{}'::jsonb)",
            (email, operator_id),
        )
    return password
