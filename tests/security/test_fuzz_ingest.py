"""Issue 13, continuous checks: posted JSON, NDJSON and CSV bodies, fuzzed, then validated.

Whatever the bytes, parsing either refuses the body as a whole with
:class:`~anh_reporter.ingest.posted.PostedBodyError` (the API's 4xx) or accounts for every
record: a reading in the batch or a malformed row for the quarantine, nothing dropped. The
batch then validates without error, every reading accepted or rejected with a reason.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from anh_reporter.ingest.posted import (
    Parsed,
    PostedBodyError,
    parse_csv,
    parse_json,
    parse_ndjson,
)
from anh_reporter.ingest.validate import SeriesCatalog, validate
from anh_reporter.storage.series_repo import SeriesRow

from .fuzzing import BIG_INTS, FUZZ, NASTY_TEXT

COMMISSIONED = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
CATALOG = SeriesCatalog.from_rows(
    [
        SeriesRow(
            id=sid,
            code=code,
            field_id=1,
            field_code="F",
            owner_code=owner,
            variable=variable,
            unit="bbl/d",
            range_lo=0.0,
            range_hi=1000.0,
            sampling_period_s=10.0,
            commissioned_at=COMMISSIONED,
            rollover=None,
        )
        for sid, code, owner, variable in [
            (1, "F.PMO-1.oil_rate", "PMO-1", "oil_rate"),
            (3, "F.PMO-1.gas_rate", "PMO-1", "gas_rate"),
        ]
    ]
)
NOW_US = 1_800_000_000_000_000

VALUES = st.one_of(
    st.none(), st.booleans(), BIG_INTS, st.floats(allow_nan=True), NASTY_TEXT, st.just([1])
)
TIMES = st.one_of(
    NASTY_TEXT,
    st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
    st.datetimes().map(dt.datetime.isoformat),
)
READING = st.dictionaries(
    st.sampled_from(["series", "series_id", "time", "time_us", "value", "quality", "x"]),
    st.one_of(
        VALUES,
        TIMES,
        st.sampled_from(["F.PMO-1.oil_rate", "F.PMO-1.gas_rate", "good", "BAD", "0x80000000"]),
    ),
    max_size=7,
)
DOCUMENT = st.one_of(
    st.fixed_dictionaries({"readings": st.lists(st.one_of(READING, VALUES), max_size=6)}),
    st.lists(st.one_of(READING, VALUES), max_size=6),
    st.recursive(VALUES, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)),
)


def accounted(parsed: Parsed, records: int | None) -> None:
    """Every record is a reading or a malformed row; the batch validates, nothing lost."""
    if records is not None:
        assert len(parsed.batch) + len(parsed.malformed) == records
    checked = validate(parsed.batch, CATALOG, now_us=NOW_US, future_tolerance_us=300_000_000)
    assert len(checked.good) + len(checked.rejects.batch) == len(parsed.batch)


@FUZZ
@given(DOCUMENT)
def test_json_bodies(doc: Any) -> None:
    body = json.dumps(doc).encode()  # the stdlib writes NaN and integers of any size
    try:
        parsed = parse_json(body, CATALOG, "fuzz")
    except PostedBodyError as exc:
        assert exc.code in {"invalid_json", "validation_error", "value_out_of_range"}
        return
    readings = doc["readings"] if isinstance(doc, dict) else doc
    accounted(parsed, len(readings))


@FUZZ
@given(st.binary(max_size=200))
def test_json_bytes(body: bytes) -> None:
    try:
        parsed = parse_json(body, CATALOG, "fuzz")
    except PostedBodyError as exc:
        assert exc.code in {"invalid_json", "validation_error", "value_out_of_range"}
        return
    accounted(parsed, None)


@FUZZ
@given(st.lists(st.one_of(READING.map(json.dumps), st.binary(max_size=30).map(repr)), max_size=8))
def test_ndjson_bodies(lines: list[str]) -> None:
    body = "\n".join(lines).encode()
    try:
        parsed = parse_ndjson(body, CATALOG, "fuzz")
    except PostedBodyError as exc:
        assert exc.code == "value_out_of_range"
        return
    accounted(parsed, len([line for line in body.splitlines() if line.strip()]))


CSV_HEADERS = st.sampled_from(
    [
        "time,series,value,quality",
        "time,series,value",
        "series,value,time",
        "time,pmo,variable,value,quality",
        "time,value",
        "",
        '"time,series,value',
    ]
)
CSV_FIELD = st.one_of(
    NASTY_TEXT,
    TIMES,
    st.sampled_from(["F.PMO-1.oil_rate", "PMO-1", "oil_rate", "good", "0x40000000", "12.5"]),
    st.text(alphabet="\"',\r\n\x00a1", max_size=6),
)


@FUZZ
@given(
    CSV_HEADERS,
    st.lists(st.lists(CSV_FIELD, max_size=6).map(",".join), max_size=8),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_csv_bodies(header: str, rows: list[str], newline: str) -> None:
    body = newline.join([header, *rows]).encode()
    try:
        parsed = asyncio.run(parse_csv(body, CATALOG, "fuzz"))
    except PostedBodyError as exc:
        assert exc.code == "invalid_csv"
        assert "/tmp" not in exc.message and "upload.csv" not in exc.message
        return
    accounted(parsed, None)


@FUZZ
@given(st.binary(max_size=300))
def test_csv_bytes(body: bytes) -> None:
    try:
        accounted(asyncio.run(parse_csv(b"time,series,value\n" + body, CATALOG, "fuzz")), None)
    except PostedBodyError as exc:
        assert exc.code == "invalid_csv"


def test_a_stray_quote_spoils_its_own_line_only() -> None:
    """Found by the fuzzing above: a quoted field across lines made the line and record
    counts differ, and the body's parse failed with an unhandled error (HTTP 500)."""
    body = (
        b"time,series,value\n"
        b'2026-01-05T00:00:00Z,"F.PMO-1.oil_rate\n'
        b"2026-01-05T00:00:10Z,F.PMO-1.oil_rate,5\n"
    )
    parsed = asyncio.run(parse_csv(body, CATALOG, "fuzz"))
    (bad,) = [row for _, row in parsed.malformed]
    assert bad.message == "upload.csv line 2: expected at least 3 fields, got 2"
    assert parsed.batch.series_id.tolist() == [1]
    assert parsed.batch.time_us.tolist() == [1_767_571_210_000_000]  # 2026-01-05T00:00:10Z
    assert parsed.batch.value.tolist() == [5.0]
