"""Read archived telemetry back: the readers merge these rows with PostgreSQL's, same types.

The catalog (``cold_partitions``) says which weeks are in which file; a file is read with a
filter on series and time (row groups outside it are skipped by their statistics). A
catalogued file that is missing or unreadable is an error naming it, never an empty answer.
Archived weeks never overlap PostgreSQL's partitions (a write to an archived week is refused),
so merging is a union sorted by series and time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from psycopg import AsyncConnection

from anh_reporter.domain.timeutil import to_us
from anh_reporter.storage.cold_format import SCHEMA, ColdStorageError, Rows, from_table

_FILES_SQL = (
    "SELECT name, range_start, range_end, path, series_ids FROM cold_partitions "
    "WHERE range_start < %s AND range_end > %s ORDER BY range_start"
)
_FAR = (dt.datetime(1, 1, 2, tzinfo=dt.UTC), dt.datetime(9999, 12, 30, tzinfo=dt.UTC))


@dataclass(frozen=True)
class ColdFile:
    """One archived week: its range (µs) and its file."""

    name: str
    start_us: int
    end_us: int
    path: str
    series_ids: frozenset[int]


def _files(rows: Sequence[tuple[Any, ...]]) -> list[ColdFile]:
    return [
        ColdFile(name, to_us(start), to_us(end), path, frozenset(ids))
        for name, start, end, path, ids in rows
    ]


def cold_files(
    conn: psycopg.Connection[Any], start: dt.datetime | None = None, end: dt.datetime | None = None
) -> list[ColdFile]:
    """Archived weeks overlapping ``[start, end)`` (all of them by default), oldest first."""
    rows = conn.execute(_FILES_SQL, (end or _FAR[1], start or _FAR[0])).fetchall()
    return _files(rows)


async def cold_files_async(
    conn: AsyncConnection[Any], start: dt.datetime, end: dt.datetime
) -> list[ColdFile]:
    """:func:`cold_files` on an async connection."""
    cur = await conn.execute(_FILES_SQL, (end, start))
    return _files(await cur.fetchall())


def read_cold(
    files: Sequence[ColdFile], series_ids: Sequence[int], start_us: int, end_us: int
) -> Rows:
    """Archived readings of the series in ``[start_us, end_us)``, sorted by series, then time."""
    wanted = sorted(set(series_ids))
    parts = []
    for f in files:
        if f.end_us <= start_us or f.start_us >= end_us or f.series_ids.isdisjoint(wanted):
            continue
        path = Path(f.path)
        if not path.is_file():
            raise ColdStorageError(f"archive of {f.name} is missing: {path} (see cold_partitions)")
        time_type = SCHEMA.field("time").type
        expr = (
            pc.field("series_id").isin(pa.array(wanted, pa.int32()))
            & (pc.field("time") >= pa.scalar(max(start_us, f.start_us), time_type))
            & (pc.field("time") < pa.scalar(min(end_us, f.end_us), time_type))
        )
        try:
            table = ds.dataset(path, schema=SCHEMA, format="parquet").to_table(filter=expr)
        except (OSError, pa.ArrowException) as exc:
            raise ColdStorageError(f"archive of {f.name} is unreadable: {path}: {exc}") from exc
        parts.append(from_table(table))
    return sort_rows(Rows.concat(parts)) if len(parts) > 1 else Rows.concat(parts)


def sort_rows(rows: Rows) -> Rows:
    """The rows sorted by series, then time."""
    return rows.take(np.lexsort((rows.time_us, rows.series_id)))


def of_series(rows: Rows, series_id: int) -> Rows:
    """The rows of one series (in their order)."""
    return rows.take(rows.series_id == series_id)


# --- A contract day's window with its neighbours (production.raw_rows.load_raw) -----------------


@dataclass(frozen=True)
class WindowRequest:
    """One series of a window: neighbours within ``tol_us``, or the nearest usable (``far``)."""

    series_id: int
    tol_us: int
    far: bool
    before: int


Columns = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int32]]


def select_window(
    t: npt.NDArray[np.int64],
    v: npt.NDArray[np.float64],
    q: npt.NDArray[np.int32],
    req: WindowRequest,
    start_us: int,
    end_us: int,
    good_upper: int,
) -> Columns:
    """The rows (sorted by time) that ``load_raw``'s query selects: every row in the window,
    the ``before`` last ones before it and the first one after it, within the tolerance (or,
    ``far``, the nearest usable ones however far)."""
    usable = ~np.isnan(v) & (q >= 0) & (q < good_upper)
    before = (t < start_us) & (usable if req.far else t >= start_us - req.tol_us)
    after = (t >= end_us) & (usable if req.far else t <= end_us + req.tol_us)
    keep = (t >= start_us) & (t < end_us)
    keep[np.flatnonzero(before)[-req.before :] if req.before > 0 else []] = True
    keep[np.flatnonzero(after)[:1]] = True
    return t[keep], v[keep], q[keep]


def add_cold_to_window(
    conn: psycopg.Connection[Any],
    hot: dict[int, Columns],
    requests: Sequence[WindowRequest],
    start_us: int,
    end_us: int,
    good_upper: int,
) -> None:
    """Merge archived rows into ``hot`` (``load_raw``'s answer from PostgreSQL), in place."""
    files = cold_files(conn)
    if not files:
        return
    for req in requests:
        t, v, q = hot.get(
            req.series_id, (np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int32))
        )
        lo, hi = start_us - req.tol_us, end_us + req.tol_us + 1
        if req.far:
            lo = _far_bound(files, req, t, v, q, start_us, good_upper, before_side=True)
            hi = _far_bound(files, req, t, v, q, end_us, good_upper, before_side=False)
        cold = of_series(read_cold(files, [req.series_id], lo, hi), req.series_id)
        if not len(cold):
            continue
        order = np.argsort(np.concatenate([t, cold.time_us]), kind="stable")
        merged_t = np.concatenate([t, cold.time_us])[order]
        merged_v = np.concatenate([v, cold.value])[order]
        merged_q = np.concatenate([q, cold.quality])[order]
        hot[req.series_id] = select_window(
            merged_t, merged_v, merged_q, req, start_us, end_us, good_upper
        )


def _far_bound(
    files: Sequence[ColdFile],
    req: WindowRequest,
    t: npt.NDArray[np.int64],
    v: npt.NDArray[np.float64],
    q: npt.NDArray[np.int32],
    edge_us: int,
    good_upper: int,
    *,
    before_side: bool,
) -> int:
    """How far from the window's edge archived rows can still be among the nearest usable
    neighbours: up to PostgreSQL's own farthest one, or through archived weeks until enough
    usable rows are found."""
    usable = ~np.isnan(v) & (q >= 0) & (q < good_upper)
    side = usable & ((t < edge_us) if before_side else (t >= edge_us))
    found = t[side]
    need = req.before if before_side else 1
    if len(found) >= need:
        return int(found[-need]) if before_side else int(found[0]) + 1
    ordered = [f for f in files if req.series_id in f.series_ids]
    ordered = (
        sorted((f for f in ordered if f.start_us < edge_us), key=lambda f: -f.start_us)
        if before_side
        else [f for f in ordered if f.end_us > edge_us]
    )
    count = len(found)
    bound = edge_us
    for f in ordered:
        lo, hi = (
            (f.start_us, min(f.end_us, edge_us))
            if before_side
            else (max(f.start_us, edge_us), f.end_us)
        )
        rows = read_cold([f], [req.series_id], lo, hi)
        good = ~rows.null & (rows.quality >= 0) & (rows.quality < good_upper)
        count += int(good.sum())
        bound = lo if before_side else hi
        if count >= need:
            break
    if before_side:
        return min(bound, int(found[0])) if len(found) else bound
    return max(bound, int(found[-1]) + 1) if len(found) else bound
