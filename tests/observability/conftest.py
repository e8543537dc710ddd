"""Tracing for the observability tests: the SDK's in-memory exporter, installed once.

The process's tracer provider cannot be replaced once set, so one exporter serves every test
of the session; it keeps spans only while a test that asked for them runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anh_reporter.observability import tracing


class GatedExporter(InMemorySpanExporter):
    """Keeps spans while ``on``; drops them otherwise (other tests' queries)."""

    on = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Keep the spans while a test listens."""
        return super().export(spans) if self.on else SpanExportResult.SUCCESS


_EXPORTER = GatedExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into an empty in-memory exporter; off again afterwards."""
    tracing.setup_tracing("anh-reporter-test", exporter=_EXPORTER)
    _EXPORTER.clear()
    _EXPORTER.on = True
    try:
        yield _EXPORTER
    finally:
        _EXPORTER.on = False
        tracing.shutdown()
        _EXPORTER.clear()
