"""API keys of an operator (``api_keys``): list, create, revoke. The key itself is never
stored: a row holds its prefix and its digest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection

from anh_reporter.storage.database import returned

Conn = AsyncConnection[Any]


@dataclass(frozen=True)
class ApiKeyRow:
    """A key as listed (its digest left out)."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    field_ids: list[int] | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


_COLUMNS = "id, name, prefix, scopes, field_ids, created_at, expires_at, last_used_at, revoked_at"


def _row(row: tuple[Any, ...]) -> ApiKeyRow:
    return ApiKeyRow(
        id=row[0],
        name=row[1],
        prefix=row[2],
        scopes=list(row[3]),
        field_ids=None if row[4] is None else list(row[4]),
        created_at=row[5],
        expires_at=row[6],
        last_used_at=row[7],
        revoked_at=row[8],
    )


async def list_keys(conn: Conn, operator_id: int) -> list[ApiKeyRow]:
    """The operator's keys, by id (revoked and expired ones too)."""
    cur = await conn.execute(
        "SELECT id, name, prefix, scopes, field_ids, created_at, expires_at, last_used_at, "
        "revoked_at FROM api_keys WHERE operator_id = %s ORDER BY id",
        (operator_id,),
    )
    return [_row(r) for r in await cur.fetchall()]


async def create_key(
    conn: Conn,
    *,
    operator_id: int,
    name: str,
    prefix: str,
    digest: bytes,
    scopes: list[str],
    field_ids: list[int] | None,
    created_by: int | None,
    expires_at: dt.datetime | None,
) -> ApiKeyRow | None:
    """Store a new key; None when the operator already has a key of that name."""
    try:
        cur = await conn.execute(
            "INSERT INTO api_keys (operator_id, name, prefix, key_hash, scopes, field_ids, "
            "created_by, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id, name, prefix, scopes, field_ids, created_at, expires_at, "
            "last_used_at, revoked_at",
            (operator_id, name, prefix, digest, scopes, field_ids, created_by, expires_at),
        )
    except psycopg.errors.UniqueViolation:
        return None
    return _row(returned(await cur.fetchone()))


async def revoke_key(conn: Conn, *, operator_id: int, key_id: int) -> bool:
    """Revoke the operator's key (at its first revocation); False when it has no such key."""
    cur = await conn.execute(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
        "WHERE id = %s AND operator_id = %s",
        (key_id, operator_id),
    )
    return cur.rowcount != 0
