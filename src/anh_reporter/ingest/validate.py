"""Vectorised validation of a batch against the series catalogue.

Rejected readings go to quarantine with a reason code and a readable message; the rest is
written. Bad-quality readings are not rejected: they are records too, stored and flagged
(production and rollups use Good readings only). Checks, in order (a reading gets the first
reason that applies):

1. ``unknown_series`` — the series id is not in the catalogue;
2. ``non_finite`` — ±inf, or NaN on a reading that is not Bad (a NaN with Bad quality is a
   marker, e.g. communication lost, and is stored with a NULL value);
3. ``out_of_range`` — outside the series' engineering range (not checked on Bad readings,
   whose value the device itself disowns);
4. ``future`` — later than now + the tolerance (default 5 minutes);
5. ``before_commissioning`` — earlier than the series' commissioning instant;
6. ``duplicate_in_batch`` — the same (series, time) earlier in the same batch (the first wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from anh_reporter.domain.batch import Batch
from anh_reporter.domain.timeutil import from_us, to_us
from anh_reporter.storage.series_repo import SeriesRow, list_series

BAD_BIT = np.uint32(0x80000000)


class Reason(StrEnum):
    """Why a reading was quarantined."""

    UNKNOWN_SERIES = "unknown_series"
    NON_FINITE = "non_finite"
    OUT_OF_RANGE = "out_of_range"
    FUTURE = "future"
    BEFORE_COMMISSIONING = "before_commissioning"
    DUPLICATE = "duplicate_in_batch"
    MALFORMED = "malformed"  # file and API ingest: a line or record that does not parse
    WRITE_FAILED = "write_failed"  # the database refused the batch for a non-transient reason
    ARCHIVED_WEEK = "archived_week"  # its week is archived to cold storage (storage.cold)


REASONS: tuple[Reason, ...] = tuple(Reason)
_CODE = {r: np.uint8(i) for i, r in enumerate(REASONS)}


@dataclass(frozen=True)
class SeriesCatalog:
    """Per-series limits as dense arrays indexed by series id, for vectorised lookups."""

    known: npt.NDArray[np.bool_]
    range_lo: npt.NDArray[np.float64]
    range_hi: npt.NDArray[np.float64]
    commissioned_us: npt.NDArray[np.int64]
    field_id: npt.NDArray[np.int32]
    rows: dict[int, SeriesRow]

    @classmethod
    def from_rows(cls, rows: list[SeriesRow]) -> SeriesCatalog:
        """Build the lookup arrays from series rows."""
        size = max((r.id for r in rows), default=0) + 1
        known = np.zeros(size, dtype=bool)
        lo = np.full(size, np.nan)
        hi = np.full(size, np.nan)
        commissioned = np.zeros(size, dtype=np.int64)
        field = np.zeros(size, dtype=np.int32)
        for r in rows:
            known[r.id] = True
            lo[r.id], hi[r.id] = r.range_lo, r.range_hi
            commissioned[r.id] = to_us(r.commissioned_at)
            field[r.id] = r.field_id
        return cls(known, lo, hi, commissioned, field, {r.id: r for r in rows})

    @classmethod
    def load(cls, conn: psycopg.Connection[Any]) -> SeriesCatalog:
        """The catalogue as stored in the database."""
        return cls.from_rows(list_series(conn))

    def known_mask(self, series_id: npt.NDArray[np.int32]) -> npt.NDArray[np.bool_]:
        """Which ids are in the catalogue (out-of-bounds ids are unknown)."""
        inside = (series_id >= 0) & (series_id < len(self.known))
        out = np.zeros(len(series_id), dtype=bool)
        out[inside] = self.known[series_id[inside]]
        return out

    def code(self, series_id: int) -> str:
        """The series code, or ``#id`` when unknown."""
        row = self.rows.get(series_id)
        return row.code if row else f"#{series_id}"


@dataclass(frozen=True)
class Rejects:
    """Rejected readings, columnar, with one reason code each."""

    batch: Batch
    reason: npt.NDArray[np.uint8]

    def __len__(self) -> int:
        return len(self.batch)

    def reasons(self) -> list[Reason]:
        """The reason of each rejected reading."""
        return [REASONS[i] for i in self.reason.tolist()]

    def counts(self) -> dict[Reason, int]:
        """How many readings were rejected for each reason."""
        values, counts = np.unique(self.reason, return_counts=True)
        return {REASONS[int(v)]: int(c) for v, c in zip(values, counts, strict=True)}

    def messages(self, catalog: SeriesCatalog, now_us: int, future_tolerance_us: int) -> list[str]:
        """A readable message per rejected reading (built only for rejects, which are few)."""
        out = []
        b = self.batch
        for i, reason in enumerate(self.reasons()):
            sid = int(b.series_id[i])
            t = int(b.time_us[i])
            v = float(b.value[i])
            code = catalog.code(sid)
            if reason is Reason.UNKNOWN_SERIES:
                msg = f"series id {sid} is not in the series catalogue"
            elif reason is Reason.NON_FINITE:
                msg = f"{code}: value {v} is not a finite number"
            elif reason is Reason.OUT_OF_RANGE:
                lo, hi = catalog.range_lo[sid], catalog.range_hi[sid]
                msg = f"{code}: value {v:g} is outside the engineering range [{lo:g}, {hi:g}]"
            elif reason is Reason.FUTURE:
                limit = now_us + future_tolerance_us
                msg = (
                    f"{code}: time {_iso(t)} is later than now + {future_tolerance_us / 1e6:g} s "
                    f"({_iso(limit)})"
                )
            elif reason is Reason.BEFORE_COMMISSIONING:
                msg = (
                    f"{code}: time {_iso(t)} is before the series' commissioning "
                    f"({_iso(int(catalog.commissioned_us[sid]))})"
                )
            elif reason is Reason.DUPLICATE:
                msg = f"{code}: time {_iso(t)} appears more than once in the batch (first kept)"
            else:
                msg = f"{code}: malformed reading"
            out.append(msg)
        return out


@dataclass(frozen=True)
class Validated:
    """A validated batch: what to write and what to quarantine."""

    good: Batch
    rejects: Rejects
    accepted: npt.NDArray[np.bool_]  # over the input batch: which readings are in ``good``


def validate(
    batch: Batch, catalog: SeriesCatalog, *, now_us: int, future_tolerance_us: int
) -> Validated:
    """Split a batch into readings to write and readings to quarantine, without Python loops."""
    n = len(batch)
    reason = np.full(n, 255, dtype=np.uint8)  # 255: accepted
    sid, t, v, q = batch.series_id, batch.time_us, batch.value, batch.quality

    def mark(mask: npt.NDArray[np.bool_], why: Reason) -> None:
        reason[mask & (reason == 255)] = _CODE[why]

    known = catalog.known_mask(sid)
    mark(~known, Reason.UNKNOWN_SERIES)
    safe_sid = np.where(known, sid, 0)
    bad = (q & BAD_BIT) != 0
    nan = np.isnan(v)
    mark(np.isinf(v) | (nan & ~bad), Reason.NON_FINITE)
    with np.errstate(invalid="ignore"):
        outside = (v < catalog.range_lo[safe_sid]) | (v > catalog.range_hi[safe_sid])
    mark(outside & ~bad & ~nan, Reason.OUT_OF_RANGE)
    mark(t > now_us + future_tolerance_us, Reason.FUTURE)
    mark(t < catalog.commissioned_us[safe_sid], Reason.BEFORE_COMMISSIONING)
    mark(_duplicates(sid, t), Reason.DUPLICATE)
    accepted = reason == 255
    if accepted.all():
        return Validated(batch, Rejects(Batch.empty(batch.source), reason[:0]), accepted)
    rejected = ~accepted
    return Validated(
        batch.take(accepted), Rejects(batch.take(rejected), reason[rejected]), accepted
    )


def _duplicates(sid: npt.NDArray[np.int32], t: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Readings whose (series, time) already appeared earlier in the batch."""
    order = np.lexsort((t, sid))  # stable: equal keys keep their original order
    s_sorted, t_sorted = sid[order], t[order]
    repeat = np.zeros(len(sid), dtype=bool)
    repeat[1:] = (s_sorted[1:] == s_sorted[:-1]) & (t_sorted[1:] == t_sorted[:-1])
    out = np.zeros(len(sid), dtype=bool)
    out[order[repeat]] = True
    return out


def _iso(us: int) -> str:
    try:
        return from_us(us).isoformat()
    except (OverflowError, ValueError):
        return f"{us} µs since 1970"
