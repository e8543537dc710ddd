"""A field with a computed standard day, and a report context writing under a temp dir."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import psycopg

from anh_reporter.config import Settings
from anh_reporter.reports import service

from ..production.helpers import AFTER, DAY_D, FIELD, load_test_site, prove_meters, standard_day

__all__ = ["AFTER", "DAY_D", "FIELD", "context", "generate", "ready_day"]


def context(tmp_path: Path) -> service.Context:
    """Keys, reports and the file drop under ``tmp_path``."""
    return service.Context.from_settings(Settings(data_dir=tmp_path))


def ready_day(conn: psycopg.Connection[Any], **site: Any) -> dict[str, int]:
    """The test site with its standard day written; the series ids."""
    ids = load_test_site(conn, **site)
    standard_day(conn, ids)
    prove_meters(conn)
    return ids


def generate(
    conn: psycopg.Connection[Any],
    ctx: service.Context,
    *,
    day: dt.date = DAY_D,
    now: dt.datetime = AFTER,
    reason: str | None = None,
) -> service.GeneratedReport:
    """Generate (or amend, with a reason) the test field's report."""
    if reason is None:
        return service.generate(
            conn, field_code=FIELD, day=day, context=ctx, created_by="t", now=now
        )
    return service.amend(
        conn, field_code=FIELD, day=day, reason=reason, context=ctx, created_by="t", now=now
    )
