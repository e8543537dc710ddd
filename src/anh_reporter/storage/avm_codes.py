"""A well's AVM code at site load: a stored well keeps its code, a signed day keeps its code.

A well the site file no longer lists stays stored, with its AVM code: a listed well may not
take it (:func:`check_stored_avm_codes`; the file's own duplicates are
:func:`anh_reporter.site_avm.duplicate_avm_code_problem`'s).

A day's report carries each well's AVM code in force when the day started
(:func:`anh_reporter.storage.config_history.topology_in_force`). A code changed with an
effective instant before signed days does not change their signed documents: they keep the
code they were signed with until they are amended, and an amendment (for whatever reason)
carries the new code (in a profile that has AVM codes). The site load says so, naming those
days, rather than leave it unsaid: the days are not flagged for amendment (no figure moves).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import psycopg

from anh_reporter.site import FieldSite, SiteFileError
from anh_reporter.site_avm import avm_key


def check_stored_avm_codes(conn: psycopg.Connection[Any], field_id: int, f: FieldSite) -> None:
    """A stored well the file no longer lists keeps its AVM code (its own code when it has none):
    a listed well may not take it (compared without case: :func:`~anh_reporter.site_avm.avm_key`).
    """
    listed = {avm_key(w.avm_code or w.code): w.code for w in f.wells}
    for code, avm in conn.execute(
        "SELECT code, coalesce(avm_code, code) FROM wells WHERE field_id = %s "
        "AND NOT code = ANY(%s) ORDER BY code",
        (field_id, [w.code for w in f.wells]),
    ).fetchall():
        if (taker := listed.get(avm_key(avm))) is not None:
            raise SiteFileError(
                f"fields {f.code!r}: well {taker!r} takes AVM code {avm!r} of stored well "
                f"{code!r}, which the file no longer lists (AVM codes are compared without case)"
            )


def signed_days_with_earlier_codes(
    conn: psycopg.Connection[Any], field_code: str, wells: Sequence[str], effective: dt.datetime
) -> list[str]:
    """One note per field when signed days start at or after ``effective``: the wells whose
    code changed (``FIELD.WELL`` codes), the signed days, and what to do."""
    row = conn.execute(
        "SELECT min(r.contract_day), max(r.contract_day), count(*) FROM reports r "
        "JOIN fields f ON f.id = r.field_id WHERE f.code = %s "
        "AND EXISTS (SELECT 1 FROM report_versions v WHERE v.report_id = r.id "
        "AND v.chain_seq IS NOT NULL) "
        "AND EXISTS (SELECT 1 FROM daily_production d JOIN measurement_points p ON p.id = d.pmo_id "
        "WHERE p.field_id = f.id AND d.contract_day = r.contract_day AND d.day_start >= %s)",
        (field_code, effective),
    ).fetchone()
    if row is None or not row[2]:
        return []
    first, last, days = row
    names = ", ".join(w.split(".", 1)[-1] for w in wells)
    return [
        f"{field_code}: the AVM code of {names} changes from {effective.isoformat()}, before "
        f"{days} signed day(s) from {first} to {last}: their signed reports keep the code they "
        "were signed with; an amendment of such a day (report amend) in a profile with AVM "
        "codes (idp-1.3 on, anh-es-1.1 on) carries the new one"
    ]
