"""What changed between two versions of a report's document, as JSON Pointer paths (RFC 6901)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg

from anh_reporter.reports import records
from anh_reporter.reports.records import ReportRef

Conn = psycopg.Connection[Any]


def _pointer(path: str, key: str | int) -> str:
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _same(a: Any, b: Any) -> bool:
    # True == 1 and Decimal("1.0") == 1 in Python; a document change of type is a change.
    return type(a) is type(b) and a == b


def _number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _same_figure(a: Any, b: Any) -> bool:
    # A figure signed as 24 (before every figure carried its increment) and rebuilt as 24.00
    # is the same figure: numbers compare by value; anything else as in _same.
    if _number(a) and _number(b):
        return bool(a == b)
    return _same(a, b)


def json_changes(
    old: Any, new: Any, path: str = "", *, by_value: bool = False
) -> list[dict[str, Any]]:
    """Differences from ``old`` to ``new`` as JSON Pointer paths (RFC 6901): objects by key
    (in sorted order), arrays by position (the report keeps its lists sorted by code).

    ``by_value``: numbers compare by value (``0`` and ``0.00`` are the same figure), as an
    amendment's figure changes do; without it a number written differently is a change of the
    document."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(old.keys() | new.keys()):
            where = _pointer(path, key)
            if key not in new:
                out.append({"path": where, "op": "removed", "old": old[key], "new": None})
            elif key not in old:
                out.append({"path": where, "op": "added", "old": None, "new": new[key]})
            else:
                out += json_changes(old[key], new[key], where, by_value=by_value)
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            where = _pointer(path, i)
            if i >= len(new):
                out.append({"path": where, "op": "removed", "old": old[i], "new": None})
            elif i >= len(old):
                out.append({"path": where, "op": "added", "old": None, "new": new[i]})
            else:
                out += json_changes(old[i], new[i], where, by_value=by_value)
        return out
    if (_same_figure if by_value else _same)(old, new):
        return []
    return [{"path": path, "op": "changed", "old": old, "new": new}]


def version_diff(
    conn: Conn, report: ReportRef, from_version: int | None, to_version: int | None
) -> dict[str, Any]:
    """Changes between two versions' documents (default: the latest signed and the one before)."""
    if to_version is None:
        to_version = records.signed_version(conn, report, None).version
    if from_version is None:
        from_version = max(1, to_version - 1)
    changes = json_changes(
        records.document(conn, report, from_version), records.document(conn, report, to_version)
    )
    return {
        "report_id": report.id,
        "from_version": from_version,
        "to_version": to_version,
        "changes": changes,
    }
