"""Read telemetry from CSV files, streaming, into columnar batches.

Accepted headers (case-insensitive, any column order)::

    time,series,value[,quality]              series = a series code
    time,pmo,variable,value[,quality]        a PMO or well code plus a canonical variable

``time`` is ISO 8601 with a UTC offset (``2026-11-27T06:00:00-05:00`` or ``...Z``); naive
times are taken in ``--timezone`` when one is given, and rejected otherwise. ``quality`` is an
OPC UA status code (decimal or ``0x...``) or ``good`` / ``uncertain`` / ``bad``; empty or
absent means Good. A line that does not parse is quarantined as ``malformed`` with its line
number and text, and the run goes on.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from anh_reporter.bus.base import BusUnavailable
from anh_reporter.bus.memory import MemoryBus
from anh_reporter.config import IngestSettings
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import BAD, GOOD, UNCERTAIN
from anh_reporter.domain.timeutil import to_us
from anh_reporter.errors import AnhError
from anh_reporter.ingest.pipeline import IngestPipeline, IngestStats
from anh_reporter.ingest.quarantine import QuarantineRow
from anh_reporter.ingest.validate import Reason, SeriesCatalog
from anh_reporter.storage.database import Database

_QUALITY_WORDS = {"": GOOD, "good": GOOD, "uncertain": UNCERTAIN, "bad": BAD}


class CsvFormatError(AnhError):
    """A CSV file whose header cannot be used."""


@dataclass(frozen=True)
class CsvChunk:
    """Parsed lines of one chunk: a batch to ingest, malformed lines to quarantine."""

    batch: Batch
    malformed: list[QuarantineRow]
    bytes_read: int


class SeriesResolver:
    """Series ids by code, or by (owner code, variable) when the owner code is unambiguous."""

    def __init__(self, catalog: SeriesCatalog) -> None:
        self.by_code = {row.code: sid for sid, row in catalog.rows.items()}
        by_owner: dict[tuple[str, str], list[int]] = {}
        for sid, row in catalog.rows.items():
            by_owner.setdefault((row.owner_code, row.variable), []).append(sid)
        self.by_owner = by_owner

    def by_pmo(self, owner: str, variable: str) -> int:
        """The series of ``variable`` at PMO or well ``owner`` (KeyError saying why if not one)."""
        found = self.by_owner.get((owner, variable), [])
        if len(found) != 1:
            what = "no series" if not found else f"{len(found)} series (in several fields)"
            raise KeyError(f"{what} for PMO/well {owner!r} and variable {variable!r}")
        return found[0]


def read_csv(
    path: Path,
    catalog: SeriesCatalog,
    *,
    chunk_lines: int = 50_000,
    timezone: str | None = None,
) -> Iterator[CsvChunk]:
    """Parse ``path`` in chunks; unknown series codes become an unknown id (quarantined later)."""
    resolver = SeriesResolver(catalog)
    tz = ZoneInfo(timezone) if timezone else None
    source = f"csv:{path.name}"
    with path.open("r", encoding="utf-8", newline="") as f:
        header_line = f.readline()
        header = [h.strip().lower() for h in next(csv.reader([header_line]), [])]
        columns = _columns(path, header)
        line_no = 1
        position = len(header_line.encode())
        while True:
            lines = f.readlines(chunk_lines * 40)
            if not lines:
                break
            sids: list[int] = []
            times: list[int] = []
            values: list[float] = []
            qualities: list[int] = []
            bad: list[QuarantineRow] = []
            for text, fields in zip(lines, _records(lines), strict=True):
                line_no += 1
                position += len(text.encode())
                if not text.strip():
                    continue
                try:
                    sid, t, v, q = _parse(fields, columns, resolver, tz)
                except (ValueError, KeyError, IndexError, OverflowError) as exc:
                    reason = exc.args[0] if exc.args else type(exc).__name__
                    bad.append(
                        QuarantineRow(
                            source=source,
                            reason=Reason.MALFORMED.value,
                            message=f"{path.name} line {line_no}: {reason}",
                            raw=text.rstrip("\r\n")[:2000],
                        )
                    )
                    continue
                sids.append(sid)
                times.append(t)
                values.append(v)
                qualities.append(q)
            yield CsvChunk(Batch.of(sids, times, values, qualities, source), bad, position)


def _records(lines: list[str]) -> list[list[str]]:
    """The fields of each physical line. A quoted field never joins lines: a stray quote
    spoils its own line (quarantined as malformed), not every line after it."""
    records = list(csv.reader(lines))
    if len(records) == len(lines):
        return records
    return [next(csv.reader((text,)), []) for text in lines]


@dataclass(frozen=True)
class _Columns:
    time: int
    value: int
    series: int | None
    pmo: int | None
    variable: int | None
    quality: int | None


def _columns(path: Path, header: list[str]) -> _Columns:
    def find(name: str) -> int | None:
        return header.index(name) if name in header else None

    time, value, series = find("time"), find("value"), find("series")
    pmo, variable = find("pmo"), find("variable")
    if time is None or value is None or (series is None and (pmo is None or variable is None)):
        raise CsvFormatError(
            f"{path}: header {','.join(header) or '(empty)'} must name time, value and either "
            "series or pmo + variable (optional: quality)"
        )
    return _Columns(time, value, series, pmo, variable, find("quality"))


def _parse(
    fields: list[str], c: _Columns, resolver: SeriesResolver, tz: ZoneInfo | None
) -> tuple[int, int, float, int]:
    needed = max(i for i in (c.time, c.value, c.series, c.pmo, c.variable) if i is not None) + 1
    if len(fields) < needed:
        raise ValueError(f"expected at least {needed} fields, got {len(fields)}")
    if c.series is not None:
        code = fields[c.series].strip()
        sid = resolver.by_code.get(code)
        if sid is None:
            sid = -1  # validation quarantines it as unknown_series
    else:
        assert c.pmo is not None and c.variable is not None  # noqa: S101 - narrows for mypy: the header check requires both
        sid = resolver.by_pmo(fields[c.pmo].strip(), fields[c.variable].strip())
    raw_time = fields[c.time].strip()
    try:
        when = dt.datetime.fromisoformat(raw_time)
    except ValueError:
        raise ValueError(f"time {raw_time!r} is not ISO 8601") from None
    if when.tzinfo is None:
        if tz is None:
            raise ValueError(f"time {raw_time!r} has no UTC offset (or pass --timezone)")
        when = when.replace(tzinfo=tz)
    raw_value = fields[c.value].strip()
    try:
        value = float(raw_value)
    except ValueError:
        raise ValueError(f"value {raw_value!r} is not a number") from None
    quality = GOOD
    if c.quality is not None and c.quality < len(fields):
        raw_q = fields[c.quality].strip().lower()
        if raw_q in _QUALITY_WORDS:
            quality = _QUALITY_WORDS[raw_q]
        else:
            try:
                quality = int(raw_q, 0)
            except ValueError:
                raise ValueError(f"quality {raw_q!r} is not a status code") from None
            if not 0 <= quality <= 0xFFFFFFFF:
                raise ValueError(f"quality {raw_q!r} is outside [0, 0xFFFFFFFF]")
    return sid, to_us(when), value, quality


async def ingest_csv(
    db: Database,
    path: Path,
    settings: IngestSettings,
    *,
    timezone: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_malformed: Callable[[QuarantineRow], None] | None = None,
) -> IngestStats:
    """Stream a CSV file through validation and the writer (a local in-process bus).

    Returns the pipeline's totals: written, duplicates (already stored) and quarantined by
    reason, malformed lines included.
    """
    bus = MemoryBus(max_pending_readings=4 * settings.flush_rows)
    pipeline = IngestPipeline(db, bus, settings)

    def load() -> SeriesCatalog:
        with db.connect() as conn:
            return SeriesCatalog.load(conn)

    pipeline.catalog = catalog = await asyncio.to_thread(load)
    task = asyncio.create_task(pipeline.run())
    try:
        for chunk in read_csv(path, catalog, timezone=timezone):
            pipeline.add_quarantine(chunk.malformed)
            if on_malformed:
                for row in chunk.malformed:
                    on_malformed(row)
            while True:  # backpressure: wait for the writer rather than hold the whole file
                try:
                    await bus.publish(chunk.batch, f"file:{path.name}")
                    break
                except BusUnavailable:
                    if task.done():
                        task.result()
                    await asyncio.sleep(0.02)
            if on_progress:
                on_progress(chunk.bytes_read)
    finally:
        pipeline.stop()
        await task
    return pipeline.stats
