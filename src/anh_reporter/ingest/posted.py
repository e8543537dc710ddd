"""Readings posted to the API (JSON, NDJSON, CSV): parsed, validated, quarantined, published.

The same validation as the ingest pipeline (:func:`anh_reporter.ingest.validate.validate`)
runs against the series the poster may write (:func:`catalog_for`): a series of another field
or operator is an unknown series. Rejects go to ``quarantine`` with their reason, right away,
and the result lists them; accepted readings are published to the bus, one batch per field
shard, and the ingest writer stores them (validating again, which passes: the rules are the
same). A body that cannot be read as a whole raises :class:`PostedBodyError`; a bus that is
down raises :class:`~anh_reporter.bus.base.BusUnavailable` after the rejects are quarantined.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import math
import tempfile
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from anh_reporter.bus.base import Bus
from anh_reporter.config import IngestSettings
from anh_reporter.domain.batch import Batch
from anh_reporter.domain.quality import BAD, GOOD, UNCERTAIN
from anh_reporter.domain.timeutil import US_PER_SECOND, to_us
from anh_reporter.errors import AnhError
from anh_reporter.ingest.csv_file import CsvFormatError, read_csv
from anh_reporter.ingest.quarantine import QuarantineRow, rows_from_rejects, write_quarantine
from anh_reporter.ingest.validate import Reason, SeriesCatalog, validate
from anh_reporter.observability.metrics import telemetry_rejected
from anh_reporter.storage.database import Database
from anh_reporter.storage.series_repo import SeriesRow

MAX_REPORTED_REJECTS = 100
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
CSV_FIELD_LIMIT = csv.field_size_limit()  # the csv module's, 131,072 characters by default
_QUALITY_WORDS = {"good": GOOD, "uncertain": UNCERTAIN, "bad": BAD}


class PostedBodyError(AnhError):
    """The body as a whole cannot be read: ``code`` names the problem, the message the field.

    ``unreadable`` is true when the bytes are not the format at all (not JSON, not UTF-8),
    false when they are the format but not what is expected.
    """

    def __init__(self, code: str, message: str, *, unreadable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.unreadable = unreadable


class _OutOfRange(Exception):
    """A number no reading can hold: the body is refused (422), naming the field and limit."""

    def __init__(self, name: str, value: int, limit: str) -> None:
        super().__init__(name)
        self.name, self.value, self.limit = name, value, limit


@dataclass(frozen=True)
class Reject:
    """A reading or record that was quarantined, and why (``index``: its place in the body)."""

    index: int | None
    reason: str
    message: str


@dataclass(frozen=True)
class PostedResult:
    """What happened to the readings posted (the first :data:`MAX_REPORTED_REJECTS` rejects)."""

    received: int
    accepted: int
    rejected: int
    rejects: list[Reject]
    rejects_truncated: bool


@dataclass
class Parsed:
    """Readings parsed from a body, and the records that did not parse."""

    batch: Batch
    index: list[int]  # position of each reading in the body
    malformed: list[tuple[int | None, QuarantineRow]]


def _quality(raw: Any) -> int:
    if raw is None:
        return GOOD
    if isinstance(raw, bool):
        raise ValueError(f"quality {raw!r} is not a status code")
    if isinstance(raw, int):
        if not 0 <= raw <= 0xFFFFFFFF:
            raise ValueError(f"quality {raw} is outside 0..0xFFFFFFFF")
        return raw
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _QUALITY_WORDS:
            return _QUALITY_WORDS[word]
        value = int(word, 16) if word.startswith("0x") else int(word)
        return _quality(value)
    raise ValueError(f"quality {raw!r} is not a status code or good/uncertain/bad")


def _time_us(record: dict[str, Any]) -> int:
    if "time_us" in record:
        raw = record["time_us"]
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"time_us {raw!r} is not an integer")
        if not INT64_MIN <= raw <= INT64_MAX:
            raise _OutOfRange("time_us", raw, f"-2^63..2^63-1 ({INT64_MAX:,})")
        return raw
    raw = record.get("time")
    if not isinstance(raw, str):
        raise ValueError("time is missing (ISO 8601 with a UTC offset, or time_us)")
    when = dt.datetime.fromisoformat(raw)
    if when.tzinfo is None:
        raise ValueError(f"time {raw!r} has no UTC offset (add Z or -05:00)")
    return to_us(when)


def parse_records(
    records: Iterable[tuple[int, Any]], catalog: SeriesCatalog, source: str
) -> Parsed:
    """Reading objects (``series`` code or ``series_id``; ``time`` or ``time_us``; ``value``;
    ``quality``) into a batch; anything else is a malformed record."""
    by_code = {row.code: sid for sid, row in catalog.rows.items()}
    sids: list[int] = []
    times: list[int] = []
    values: list[float] = []
    qualities: list[int] = []
    index: list[int] = []
    malformed: list[tuple[int | None, QuarantineRow]] = []
    for i, record in records:
        try:
            if not isinstance(record, dict):
                raise ValueError("a reading must be an object")
            if "series_id" in record:
                sid = record["series_id"]
                if isinstance(sid, bool) or not isinstance(sid, int):
                    raise ValueError(f"series_id {sid!r} is not an integer")
                sid = sid if -(2**31) <= sid < 2**31 else -1
            elif isinstance(record.get("series"), str):
                code = record["series"]
                if code not in by_code:
                    malformed.append(
                        (
                            i,
                            QuarantineRow(
                                source=source,
                                reason=Reason.UNKNOWN_SERIES.value,
                                message=f"reading {i}: series {code!r} is not one of yours",
                                series_ref=code[:200],
                                raw=orjson.dumps(record).decode()[:2000],
                            ),
                        )
                    )
                    continue
                sid = by_code[code]
            else:
                raise ValueError("series (a code) or series_id is missing")
            raw_value = record.get("value")
            if raw_value is None:
                value = math.nan
            elif isinstance(raw_value, bool) or not isinstance(raw_value, int | float):
                raise ValueError(f"value {raw_value!r} is not a number")
            else:
                value = float(raw_value)
            t = _time_us(record)
            q = _quality(record.get("quality"))
        except _OutOfRange as exc:
            raise PostedBodyError(
                "value_out_of_range",
                f"readings[{i}].{exc.name}: {exc.value} is outside the range a reading can "
                f"hold ({exc.limit})",
                unreadable=False,
            ) from None
        except (ValueError, TypeError, OverflowError) as exc:
            malformed.append(
                (
                    i,
                    QuarantineRow(
                        source=source,
                        reason=Reason.MALFORMED.value,
                        message=f"reading {i}: {exc}",
                        raw=_raw(record),
                    ),
                )
            )
            continue
        sids.append(sid)
        times.append(t)
        values.append(value)
        qualities.append(q)
        index.append(i)
    return Parsed(Batch.of(sids, times, values, qualities, source), index, malformed)


def _raw(record: Any) -> str:
    try:
        return orjson.dumps(record).decode()[:2000]
    except TypeError:
        return repr(record)[:2000]


def parse_json(body: bytes, catalog: SeriesCatalog, source: str) -> Parsed:
    """``{"readings": [...]}`` or a bare list of reading objects."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PostedBodyError(
            "invalid_json", f"body: not valid JSON ({exc})", unreadable=True
        ) from None
    readings = doc.get("readings") if isinstance(doc, dict) else doc
    if not isinstance(readings, list):
        raise PostedBodyError(
            "validation_error",
            "body.readings: expected a list of reading objects",
            unreadable=False,
        )
    return parse_records(enumerate(readings), catalog, source)


def parse_ndjson(body: bytes, catalog: SeriesCatalog, source: str) -> Parsed:
    """One reading object per line; a line that is not JSON is a malformed record."""
    records: list[tuple[int, Any]] = []
    bad: list[tuple[int | None, QuarantineRow]] = []
    for i, line in enumerate(body.splitlines()):
        if not line.strip():
            continue
        try:
            records.append((i, orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            text = line.decode("utf-8", "replace")[:2000]
            bad.append(
                (
                    i,
                    QuarantineRow(
                        source=source,
                        reason=Reason.MALFORMED.value,
                        message=f"line {i + 1}: not JSON ({exc})",
                        raw=text,
                    ),
                )
            )
    parsed = parse_records(records, catalog, source)
    parsed.malformed[:0] = bad
    return parsed


async def parse_csv(body: bytes, catalog: SeriesCatalog, source: str) -> Parsed:
    """The CSV formats of ``anh-reporter ingest`` (see :mod:`anh_reporter.ingest.csv_file`)."""

    def run() -> Parsed:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "upload.csv"
            path.write_bytes(body)
            try:
                chunks = list(read_csv(path, catalog))
            except CsvFormatError as exc:
                # Never the temporary file's path: the client sent a body, not a file.
                message = str(exc).replace(f"{path}: ", "").replace(str(path), "body")
                raise PostedBodyError("invalid_csv", f"body: {message}", unreadable=False) from None
            except csv.Error as exc:
                too_long = "field larger than field limit" in str(exc)
                raise PostedBodyError(
                    "invalid_csv",
                    f"body: a CSV field is longer than {CSV_FIELD_LIMIT:,} characters (the limit)"
                    if too_long
                    else "body: not readable as CSV (unbalanced quotes or a NUL byte)",
                    unreadable=not too_long,
                ) from None
            except UnicodeDecodeError:
                raise PostedBodyError(
                    "invalid_csv", "body: the CSV is not UTF-8", unreadable=True
                ) from None
        batch = Batch.concat([c.batch for c in chunks], source)
        batch = Batch(batch.series_id, batch.time_us, batch.value, batch.quality, source)
        malformed: list[tuple[int | None, QuarantineRow]] = [
            (None, row) for c in chunks for row in c.malformed
        ]
        return Parsed(batch, list(range(len(batch))), malformed)

    return await asyncio.to_thread(run)


def _write_quarantine(database: Database, rows: list[QuarantineRow]) -> None:
    with database.connect() as conn:
        write_quarantine(conn, rows)
        conn.commit()


async def ingest_posted(
    *,
    parsed: Parsed,
    catalog: SeriesCatalog,
    rows: list[SeriesRow],
    database: Database,
    bus: Bus,
    settings: IngestSettings,
) -> PostedResult:
    """Validate, quarantine the rejects, publish the rest per field shard.

    Raises :class:`~anh_reporter.bus.base.BusUnavailable` when the bus refuses a batch (the
    rejects are quarantined by then; the accepted readings are not stored).
    """
    now_us = int(time.time() * US_PER_SECOND)
    tolerance_us = int(settings.future_tolerance_s * US_PER_SECOND)

    def check() -> tuple[Batch, list[tuple[int | None, QuarantineRow]], list[tuple[str, Batch]]]:
        # Per reading work, in a worker thread: the event loop keeps answering meanwhile.
        checked = validate(parsed.batch, catalog, now_us=now_us, future_tolerance_us=tolerance_us)
        reject_rows = rows_from_rejects(
            checked.rejects, catalog, now_us=now_us, future_tolerance_us=tolerance_us
        )
        rejected_index = np.asarray(parsed.index, dtype=np.int64)[~checked.accepted].tolist()
        listed: list[tuple[int | None, QuarantineRow]] = [
            *parsed.malformed,
            *zip(rejected_index, reject_rows, strict=True),
        ]
        good = checked.good
        shard_of = {r.id: r.field_code for r in rows}
        shards = np.array([shard_of[int(s)] for s in good.series_id.tolist()], dtype=object)
        parts = [(k, good.take(np.asarray(shards == k))) for k in sorted(set(shards.tolist()))]
        return good, listed, parts

    good, listed, parts = await asyncio.to_thread(check)
    quarantine = [row for _, row in listed]
    if quarantine:
        await asyncio.to_thread(_write_quarantine, database, quarantine)
        counts: dict[str, int] = {}
        for row in quarantine:
            counts[row.reason] = counts.get(row.reason, 0) + 1
        for reason, n in counts.items():
            telemetry_rejected.labels(reason=reason).inc(n)
    for shard, part in parts:
        await bus.publish(part, shard)
    listed.sort(key=lambda item: (item[0] is None, item[0] or 0))
    return PostedResult(
        received=len(parsed.batch) + len(parsed.malformed),
        accepted=len(good),
        rejected=len(quarantine),
        rejects=[
            Reject(index=i, reason=row.reason, message=row.message)
            for i, row in listed[:MAX_REPORTED_REJECTS]
        ],
        rejects_truncated=len(listed) > MAX_REPORTED_REJECTS,
    )


def catalog_for(field_ids: Collection[int], rows: list[SeriesRow]) -> SeriesCatalog:
    """The catalogue restricted to the poster's fields: other series are unknown."""
    return SeriesCatalog.from_rows([r for r in rows if r.field_id in field_ids])
