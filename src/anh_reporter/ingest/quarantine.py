"""Write rejected readings to the ``quarantine`` table: nothing is lost, everything has a reason."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg

from anh_reporter.domain.timeutil import from_us
from anh_reporter.ingest.validate import Rejects, SeriesCatalog

# timestamptz's range; a reading outside it keeps its time only in the raw text.
PG_MIN_US = -210_866_803_200_000_000
PG_MAX_US = 9_224_318_015_999_999_999


@dataclass(frozen=True)
class QuarantineRow:
    """One rejected reading or record, as received."""

    source: str
    reason: str
    message: str
    series_id: int | None = None
    series_ref: str | None = None
    time_us: int | None = None
    value: float | None = None
    quality: int | None = None
    raw: str | None = None


def rows_from_rejects(
    rejects: Rejects, catalog: SeriesCatalog, *, now_us: int, future_tolerance_us: int
) -> list[QuarantineRow]:
    """Quarantine rows for the rejects of a validated batch."""
    b = rejects.batch
    messages = rejects.messages(catalog, now_us, future_tolerance_us)
    rows = []
    for i, (reason, message) in enumerate(zip(rejects.reasons(), messages, strict=True)):
        sid, t, v, q = int(b.series_id[i]), int(b.time_us[i]), float(b.value[i]), int(b.quality[i])
        rows.append(
            QuarantineRow(
                source=b.source,
                reason=reason.value,
                message=message,
                series_id=sid,
                series_ref=catalog.code(sid),
                time_us=t,
                value=v,
                quality=q - (1 << 32) if q >= 1 << 31 else q,
                raw=f"series_id={sid} time_us={t} value={v!r} quality=0x{q:08X}",
            )
        )
    return rows


def write_quarantine(conn: psycopg.Connection[Any], rows: list[QuarantineRow]) -> int:
    """COPY the rows into ``quarantine`` in the caller's transaction; return how many."""
    if not rows:
        return 0
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY quarantine (source, series_id, series_ref, time, value, quality, raw, reason, "
            "message) FROM STDIN"
        ) as copy,
    ):
        for r in rows:
            copy.write_row(
                (
                    r.source,
                    r.series_id if r.series_id is None or -(2**31) <= r.series_id < 2**31 else None,
                    r.series_ref,
                    _time(r.time_us),
                    r.value,
                    r.quality,
                    r.raw,
                    r.reason,
                    r.message,
                )
            )
    return len(rows)


def _time(us: int | None) -> dt.datetime | None:
    if us is None or not PG_MIN_US <= us <= PG_MAX_US:
        return None
    try:
        return from_us(us)
    except OverflowError:  # beyond Python's datetime (year 9999): kept in the raw text
        return None
