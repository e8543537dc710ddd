"""Who is calling and which data they may see: one operator, and some or all of its fields.

Every query that reads operator data takes the principal's ``operator_id`` and ``field_ids``
as parameters. An object of another operator is answered exactly like an object that does
not exist (404 ``not_found``), so ids cannot be probed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from psycopg import AsyncConnection

from anh_reporter.api.errors import ApiError, not_found
from anh_reporter.api.permissions import Permission
from anh_reporter.storage.series_repo import SeriesRef, SeriesRow, series_refs
from anh_reporter.storage.site_reads import FieldRef, field_ref


@dataclass(frozen=True)
class Principal:
    """An authenticated user or API key, with what it may do and see."""

    kind: Literal["user", "api_key"]
    id: int
    name: str
    operator_id: int
    role: str
    permissions: frozenset[Permission]
    field_ids: frozenset[int]
    family_id: uuid.UUID | None = None
    totp_enabled: bool = False

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"{self.kind}:{self.id}:{self.name}"

    @property
    def fields(self) -> list[int]:
        """Visible field ids as a list, for SQL ``= ANY(%s)``."""
        return sorted(self.field_ids)

    def can(self, permission: Permission) -> bool:
        """True when the principal holds ``permission``."""
        return permission in self.permissions

    def check(self, permission: Permission) -> None:
        """403 ``forbidden`` unless the principal holds ``permission``."""
        if permission not in self.permissions:
            raise ApiError(
                403,
                "forbidden",
                f"this action needs the permission {permission.value!r}, which "
                f"{'role ' + repr(self.role) if self.kind == 'user' else 'this API key'} "
                "does not have",
            )

    def sees_field(self, field_id: int) -> bool:
        """True when the field is among the principal's fields."""
        return field_id in self.field_ids


def require_field_visible(principal: Principal, field_id: int) -> None:
    """404 unless ``field_id`` is one of the principal's fields."""
    if field_id not in principal.field_ids:
        raise not_found("field", field_id)


async def visible_field(
    conn: AsyncConnection[Any], principal: Principal, field_id: int
) -> FieldRef:
    """The field, or 404 when it does not exist or is not the principal's."""
    require_field_visible(principal, field_id)
    found = await field_ref(conn, operator_id=principal.operator_id, field_id=field_id)
    if found is None:
        raise not_found("field", field_id)
    return found


async def visible_series(
    conn: AsyncConnection[Any], principal: Principal, series_id: int
) -> SeriesRef:
    """The series, or 404 when it does not exist or is not on one of the principal's fields."""
    found = await series_refs(
        conn, operator_id=principal.operator_id, field_ids=principal.fields, series_ids=[series_id]
    )
    if series_id not in found:
        raise not_found("series", series_id)
    return found[series_id]


def catalog_series(principal: Principal, row: SeriesRow | None, series_id: int) -> SeriesRef | None:
    """The series from a cached catalogue row: 404 when it is on a field the caller cannot see,
    None when the catalogue does not have it (ask the database: it may be new)."""
    if row is None:
        return None
    if row.field_id not in principal.field_ids:  # the principal's fields are its operator's
        raise not_found("series", series_id)
    return SeriesRef(
        row.id, row.code, row.field_id, row.variable, row.unit, float(row.sampling_period_s)
    )


async def visible_series_many(
    conn: AsyncConnection[Any], principal: Principal, series_ids: list[int]
) -> list[SeriesRef]:
    """Several series, in the order asked; 404 naming the first one not visible."""
    found = await series_refs(
        conn, operator_id=principal.operator_id, field_ids=principal.fields, series_ids=series_ids
    )
    for sid in series_ids:
        if sid not in found:
            raise not_found("series", sid)
    return [found[sid] for sid in series_ids]
