"""Process logging: readable lines by default, one JSON object per line when asked.

``ANH_LOG__FORMAT=json`` switches every process to JSON lines on standard error, ready for
Loki (Promtail's ``json`` stage) or any log shipper::

    {"time": "2026-12-07T10:15:02.131Z", "level": "WARNING", "logger": "anh_reporter...",
     "message": "...", "request_id": "9f0c...", "batch_id": "1a2b...,3c4d...",
     "trace_id": "...", "span_id": "..."}

``request_id`` is on every line logged while the API handles a request (nginx's id from
``X-Request-ID``, or one made by the API; see :mod:`anh_reporter.api.middleware`);
``batch_id`` on every line logged while the ingest writer handles batches (the ids the
publisher gave them, comma-separated when a flush writes several); ``trace_id``/``span_id``
while a span is current (tracing on). Fields without a value are left out.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import orjson

from anh_reporter.observability import tracing

request_id: ContextVar[str | None] = ContextVar("anh_request_id", default=None)
"""The id of the API request being handled in this context."""
batch_id: ContextVar[str | None] = ContextVar("anh_batch_id", default=None)
"""The id(s) of the ingest batch(es) being handled in this context."""


@contextmanager
def batch_scope(ids: Iterable[str]) -> Iterator[None]:
    """Within the block, log lines carry these batch ids (comma-separated; empty ids skipped)."""
    joined = ",".join(i for i in ids if i)
    token = batch_id.set(joined or None)
    try:
        yield
    finally:
        batch_id.reset(token)


TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
_QUIET = ("asyncua", "pymodbus", "uvicorn.error")


def json_requested() -> bool:
    """True when ``ANH_LOG__FORMAT`` asks for JSON lines (read from the environment)."""
    return os.environ.get("ANH_LOG__FORMAT", "text").strip().lower() == "json"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the context's request, batch and trace ids."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (no newline inside: tracebacks are escaped)."""
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            )[:-6]
            + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            line.update(_access_fields(record.args))
        rid, bid = request_id.get(), batch_id.get()
        if rid:
            line["request_id"] = rid
        if bid:
            line["batch_id"] = bid
        if tracing.enabled():
            line.update(tracing.current_ids())
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return orjson.dumps(line, default=str).decode()


def _access_fields(args: tuple[Any, ...]) -> dict[str, Any]:
    # uvicorn.access: (client address, method, path with query, HTTP version, status)
    if len(args) != 5:
        return {}
    client, method, path, _, status = args
    return {"client": client, "method": method, "path": path, "status": status}


def setup_logging(*, json_lines: bool | None = None, stream: Any = None) -> None:
    """Configure the root logger once per process: WARNING and up, text or JSON lines.

    ``json_lines`` defaults to :func:`json_requested`. Replaces handlers a previous call set.
    """
    use_json = json_requested() if json_lines is None else json_lines
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_anh", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if use_json else logging.Formatter(TEXT_FORMAT))
    handler._anh = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for noisy in _QUIET:
        logging.getLogger(noisy).setLevel(logging.ERROR)
