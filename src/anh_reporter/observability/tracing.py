"""OpenTelemetry traces: off unless configured, then exported over OTLP/HTTP.

Turned on by ``ANH_OTEL__ENABLED=true``, ``ANH_OTEL__ENDPOINT`` (the collector's base URL,
e.g. ``http://otel-collector:4318``) or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``; ``OTEL_SDK_DISABLED=true`` keeps it off. Off, every
helper here is a no-op that imports nothing: the OpenTelemetry SDK is loaded only by
:func:`setup_tracing`.

What is traced:

- an ingest batch: ``ingest.publish`` where a collector hands it to the Redis bus (its W3C
  ``traceparent`` travels in the stream entry), then ``ingest.flush`` in the worker that
  takes it (a child of the publish span; when a flush writes several batches it belongs to
  the first one's trace and links to the others), with ``ingest.commit`` (the COPY and the
  transaction, and its queries) inside;
- each API request (FastAPI's own server span, which uses the tracer provider installed
  here) with its database queries as child spans (``opentelemetry-instrumentation-psycopg``).

Queries outside any trace (background jobs) are not recorded: the sampler drops client
spans that would start a trace of their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

SpanKindName = Literal["internal", "producer", "consumer"]
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_tracer: Tracer | None = None
_provider: TracerProvider | None = None
_exporters: list[SpanExporter] = []


def requested() -> bool:
    """True when the environment asks for traces (cheap: reads environment variables only)."""
    env = os.environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return (
        env.get("ANH_OTEL__ENABLED", "").strip().lower() in ("1", "true", "yes")
        or bool(env.get("ANH_OTEL__ENDPOINT"))
        or any(env.get(name) for name in _ENDPOINT_VARIABLES)
    )


def enabled() -> bool:
    """True once :func:`setup_tracing` has installed a tracer in this process."""
    return _tracer is not None


def setup_tracing(
    service: str,
    *,
    endpoint: str | None = None,
    service_name: str | None = None,
    sample_ratio: float = 1.0,
    exporter: SpanExporter | None = None,
) -> TracerProvider:
    """Install the tracer provider, the OTLP exporter (or ``exporter``) and the query spans.

    ``service`` names the process in the trace backend (``anh-reporter-worker``...) unless
    ``service_name`` (``ANH_OTEL__SERVICE_NAME``) or ``OTEL_SERVICE_NAME`` does. ``endpoint``:
    the collector's base URL (``ANH_OTEL__ENDPOINT``); unset, the exporter reads the standard
    ``OTEL_EXPORTER_OTLP_*`` variables. A given ``exporter`` (tests:
    the SDK's in-memory one) gets every span at once; the OTLP one gets them in batches.
    Once per process: the global provider cannot be replaced, so a second call only adds
    ``exporter`` to the installed provider.
    """
    global _tracer, _provider
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if _provider is not None:
        if exporter is not None and exporter not in _exporters:
            _provider.add_span_processor(SimpleSpanProcessor(exporter))
            _exporters.append(exporter)
        _tracer = _provider.get_tracer("anh_reporter")
        return _provider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    name = service_name or os.environ.get("OTEL_SERVICE_NAME") or service
    provider = TracerProvider(
        resource=Resource.create({"service.name": name}),
        sampler=_sampler(sample_ratio),
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        _exporters.append(exporter)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        url = endpoint.rstrip("/") + "/v1/traces" if endpoint else None
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    trace.set_tracer_provider(provider)
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    instrumentor = PsycopgInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=provider, skip_dep_check=True)
    _provider, _tracer = provider, provider.get_tracer("anh_reporter")
    return provider


def shutdown() -> None:
    """Export what is buffered and stop tracing in this process (spans become no-ops)."""
    global _tracer
    _tracer = None
    if _provider is not None:
        # Bounded: with the collector down, the exporter's retries would hold the exit ~10 s.
        _provider.force_flush(timeout_millis=3_000)


def _sampler(ratio: float) -> Any:
    from opentelemetry.sdk.trace.sampling import (
        Decision,
        ParentBased,
        Sampler,
        SamplingResult,
        TraceIdRatioBased,
    )
    from opentelemetry.trace import SpanKind

    ratio_sampler = TraceIdRatioBased(ratio)

    class NoLoneQueries(Sampler):
        """Roots: a client span (a query outside any trace) is dropped; others by ratio."""

        def should_sample(
            self,
            parent_context: Any,
            trace_id: int,
            name: str,
            kind: Any = None,
            attributes: Any = None,
            links: Any = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            if kind == SpanKind.CLIENT:
                return SamplingResult(Decision.DROP)
            return ratio_sampler.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"NoLoneQueries{{{ratio}}}"

    return ParentBased(root=NoLoneQueries())


@contextmanager
def span(
    name: str,
    *,
    parent: str | None = None,
    links: Sequence[str] = (),
    kind: SpanKindName = "internal",
    attributes: dict[str, Any] | None = None,
) -> Iterator[Span | None]:
    """A span around the block, current inside it; ``None`` (and nothing done) when off.

    ``parent``: a W3C ``traceparent`` to continue (from another process); else the current
    span is the parent. ``links``: traceparents of related spans (other batches of a flush).
    """
    if _tracer is None:
        yield None
        return
    from opentelemetry.trace import Link, SpanKind, get_current_span

    context = _extract(parent) if parent else None
    span_links = [Link(get_current_span(_extract(tp)).get_span_context()) for tp in links if tp]
    with _tracer.start_as_current_span(
        name,
        context=context,
        kind=SpanKind[kind.upper()],
        attributes=attributes,
        links=span_links,
    ) as current:
        yield current


def traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, to carry to another process."""
    if _tracer is None:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")


def current_ids() -> dict[str, str]:
    """``trace_id`` and ``span_id`` of the current span (hex), for log lines; ``{}`` if none."""
    from opentelemetry.trace import get_current_span

    context = get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


def _extract(traceparent_value: str) -> Any:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent_value})
